import { z } from 'zod';

/**
 * Limits of a workflow definition. Each one keeps a compiled machine inside a Step Functions quota or a
 * payload budget; docs/engine.md lists them with their reasons.
 */
export const WORKFLOW_LIMITS = {
  /** 80-character state names: the longest suffix the compiler adds is `.item.failed` (12). Map Run labels take 40. */
  stepIdMaxLength: 40,
  workflowIdMaxLength: 64,
  descriptionMaxLength: 2_000,
  maxSteps: 1_000,
  maxParameters: 100,
  maxDependsOn: 1_000,
  /** Distributed Map runs up to 10,000 children; 1,000 keeps one step from starving an agent fleet. */
  maxConcurrency: { min: 1, max: 1_000 },
  batchSize: { min: 1, max: 1_000 },
  retryMaxAttempts: { min: 0, max: 10 },
  retryIntervalSeconds: { min: 1, max: 3_600 },
  retryBackoffRate: { min: 1, max: 10 },
  retryMaxDelaySeconds: { min: 1, max: 86_400 },
  /** Agents are Lambda functions: an invocation cannot outlive Lambda's 900 s. */
  timeoutSeconds: { min: 1, max: 900 },
  toleratedFailurePercentage: { min: 0, max: 100 },
  /** The config travels in every gate result and agent payload (256 KiB each). */
  configMaxBytes: 8_192,
  whenMaxDepth: 8,
  whenMaxInValues: 100,
} as const;

/** Step ids become state names and S3 key segments: no dots, slashes, quotes or braces. */
const STEP_ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;
export const WORKFLOW_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
/** Parameter names become JSONPath segments (`$.parameters.NAME`) and `${params.NAME}` references. */
const PARAMETER_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `inputs` is the run's input area in `forEach`, so no step may carry that id. */
export const RESERVED_STEP_IDS: ReadonlySet<string> = new Set(['inputs']);

const L = WORKFLOW_LIMITS;

const intIn = (range: { min: number; max: number }) => z.number().int().min(range.min).max(range.max);

const ParameterTypeSchema = z.enum(['string', 'number', 'integer', 'boolean']);

const ScalarSchema = z.union([z.string(), z.number(), z.boolean()]);

const ParameterSpecSchema = z.strictObject({
  type: ParameterTypeSchema,
  description: z.string().max(L.descriptionMaxLength).optional(),
  enum: z.array(ScalarSchema).min(1).max(L.whenMaxInValues).optional(),
  default: ScalarSchema.optional(),
  required: z.boolean().optional(),
});

const CapabilitySchema = z.strictObject({
  skill: z.string().min(1).max(128),
  input: z.string().min(1).max(128).optional(),
  output: z.string().min(1).max(128).optional(),
  constraints: z.record(z.string(), z.unknown()).optional(),
});

const RetryPolicySchema = z.strictObject({
  maxAttempts: intIn(L.retryMaxAttempts).optional(),
  intervalSeconds: intIn(L.retryIntervalSeconds).optional(),
  backoffRate: z.number().min(L.retryBackoffRate.min).max(L.retryBackoffRate.max).optional(),
  maxDelaySeconds: intIn(L.retryMaxDelaySeconds).optional(),
  jitter: z.boolean().optional(),
});

/**
 * A condition on run parameters. One object carries exactly one form: a test on `param`
 * (`equals` / `notEquals` / `in` / `exists`) or a combinator (`all` / `any` / `not`). The forms are checked by
 * a refinement rather than a union so that every problem keeps its precise path.
 */
export type WhenCondition = {
  param?: string | undefined;
  equals?: string | number | boolean | undefined;
  notEquals?: string | number | boolean | undefined;
  in?: Array<string | number | boolean> | undefined;
  exists?: boolean | undefined;
  all?: WhenCondition[] | undefined;
  any?: WhenCondition[] | undefined;
  not?: WhenCondition | undefined;
};

const TEST_KEYS = ['equals', 'notEquals', 'in', 'exists'] as const;
const COMBINATOR_KEYS = ['all', 'any', 'not'] as const;

const WhenSchema: z.ZodType<WhenCondition> = z.lazy(() =>
  z
    .strictObject({
      param: z.string().regex(PARAMETER_NAME_PATTERN).optional(),
      equals: ScalarSchema.optional(),
      notEquals: ScalarSchema.optional(),
      in: z.array(ScalarSchema).min(1).max(L.whenMaxInValues).optional(),
      exists: z.boolean().optional(),
      all: z.array(WhenSchema).min(1).optional(),
      any: z.array(WhenSchema).min(1).optional(),
      not: WhenSchema.optional(),
    })
    .superRefine((when, ctx) => {
      const tests = TEST_KEYS.filter((k) => when[k] !== undefined);
      const combinators = COMBINATOR_KEYS.filter((k) => when[k] !== undefined);
      if (when.param !== undefined) {
        if (tests.length !== 1 || combinators.length > 0) {
          ctx.addIssue({
            code: 'custom',
            message: `a condition on "param" needs exactly one of ${TEST_KEYS.join(', ')} and no ${COMBINATOR_KEYS.join('/')}`,
            params: { kind: 'when.shape' },
          });
        }
      } else if (combinators.length !== 1 || tests.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `a condition is either {param, ${TEST_KEYS.join('|')}} or exactly one of ${COMBINATOR_KEYS.join(', ')}`,
          params: { kind: 'when.shape' },
        });
      }
    }),
);

const StepSchema = z.strictObject({
  id: z.string().min(1).max(L.stepIdMaxLength).regex(STEP_ID_PATTERN),
  description: z.string().max(L.descriptionMaxLength).optional(),
  capability: CapabilitySchema,
  dependsOn: z.array(z.string()).max(L.maxDependsOn).optional(),
  forEach: z.string().min(1).optional(),
  when: WhenSchema.optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  maxConcurrency: intIn(L.maxConcurrency).optional(),
  batchSize: intIn(L.batchSize).optional(),
  retry: RetryPolicySchema.optional(),
  timeoutSeconds: intIn(L.timeoutSeconds).optional(),
  toleratedFailurePercentage: intIn(L.toleratedFailurePercentage).optional(),
  distributed: z.boolean().optional(),
});

export const WorkflowDefinitionSchema = z.strictObject({
  id: z.string().min(1).max(L.workflowIdMaxLength).regex(WORKFLOW_ID_PATTERN),
  description: z.string().max(L.descriptionMaxLength).optional(),
  parameters: z
    .record(z.string().regex(PARAMETER_NAME_PATTERN).max(64), ParameterSpecSchema)
    .optional(),
  steps: z.array(StepSchema).min(1).max(L.maxSteps),
});

export type ParameterType = z.infer<typeof ParameterTypeSchema>;
export type ParameterSpec = z.infer<typeof ParameterSpecSchema>;
export type WorkflowStep = z.infer<typeof StepSchema>;
export type WorkflowDefinition = z.infer<typeof WorkflowDefinitionSchema>;
export type ScalarValue = string | number | boolean;

/** Defaults the compiler applies to absent step fields (documented in docs/engine.md). */
export const STEP_DEFAULTS = {
  batchSize: 1,
  retry: { maxAttempts: 2, intervalSeconds: 2, backoffRate: 2, jitter: true },
  timeoutSeconds: 300,
  toleratedFailurePercentage: 0,
} as const;
