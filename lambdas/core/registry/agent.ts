import { z } from 'zod';
import { CircuitStateSchema, initialCircuit } from './circuit';
import { HealthSchema } from './health';

/**
 * Agent registration (`POST /agents`) and the stored agent record. Registration is strict: an unknown
 * field, most of all an unknown constraint, is a mistake the registry could not honour, so it is a 400
 * rather than silently ignored.
 */

export const AgentIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, ".", "_" or "-", 1 to 64, starting with a letter or digit');

export const SkillSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, ".", "_" or "-", 1 to 64');

/** A data type name; "*" (or an absent type) accepts anything. */
const TypeNameSchema = z.string().min(1).max(64);
export const ANY_TYPE = '*';

export const CapabilityConstraintsSchema = z.strictObject({
  /** Largest single item the agent accepts. */
  maxFileSizeBytes: z.number().int().positive().optional(),
  /** Largest sum of item sizes the agent accepts in one step. */
  maxTotalBytes: z.number().int().positive().optional(),
  /** Item key suffixes the agent accepts, e.g. [".cbl", ".cob"]; absent accepts any. */
  fileExtensions: z.array(z.string().min(1).max(16)).min(1).max(50).optional(),
});
export type CapabilityConstraints = z.infer<typeof CapabilityConstraintsSchema>;

export const DEFAULT_PRIORITY = 50;

const CapabilitySchema = z.strictObject({
  skill: SkillSchema,
  input: TypeNameSchema.optional(),
  output: TypeNameSchema.optional(),
  constraints: CapabilityConstraintsSchema.optional(),
  /** 0 to 100, higher is preferred; absent counts as DEFAULT_PRIORITY. */
  priority: z.number().int().min(0).max(100).optional(),
});
export type Capability = z.infer<typeof CapabilitySchema>;

const FunctionArnSchema = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$/,
    'a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>])',
  );

export const AgentRegistrationSchema = z
  .strictObject({
    id: AgentIdSchema,
    name: z.string().min(1).max(128),
    version: z.string().min(1).max(64),
    description: z.string().max(2000),
    author: z.string().min(1).max(128).optional(),
    functionArn: FunctionArnSchema,
    capabilities: z.array(CapabilitySchema).min(1).max(50),
    tags: z.array(z.string().min(1).max(64)).max(50).default([]),
    /** JSON Schema of the step `config` the agent accepts. */
    configSchema: z.record(z.string(), z.unknown()).optional(),
    maxConcurrency: z.number().int().min(1).max(10_000).optional(),
  })
  .superRefine((agent, ctx) => {
    const seen = new Set<string>();
    agent.capabilities.forEach((capability, index) => {
      const key = `${capability.skill}|${capability.input ?? ANY_TYPE}|${capability.output ?? ANY_TYPE}`;
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['capabilities', index],
          message: `duplicate capability ${capability.skill} (${capability.input ?? ANY_TYPE} → ${capability.output ?? ANY_TYPE})`,
        });
      }
      seen.add(key);
    });
  });
export type AgentRegistration = z.infer<typeof AgentRegistrationSchema>;
export type AgentRegistrationInput = z.input<typeof AgentRegistrationSchema>;

const AgentStatusSchema = z.enum(['active', 'disabled']);
export type AgentStatus = z.infer<typeof AgentStatusSchema>;

const timestamp = z.iso.datetime();

export const AgentRecordSchema = z.object({
  id: AgentIdSchema,
  name: z.string(),
  version: z.string(),
  description: z.string(),
  author: z.string().optional(),
  functionArn: FunctionArnSchema,
  capabilities: z.array(CapabilitySchema),
  tags: z.array(z.string()),
  configSchema: z.record(z.string(), z.unknown()).optional(),
  maxConcurrency: z.number().int().positive().optional(),
  status: AgentStatusSchema,
  builtIn: z.boolean(),
  /** Tenant (or "system" for built-ins) that registered the agent. */
  registeredBy: z.string().optional(),
  health: HealthSchema,
  /** When health was last assessed. */
  healthAt: timestamp.optional(),
  circuit: CircuitStateSchema,
  createdAt: timestamp,
  updatedAt: timestamp,
  lastInvocationAt: timestamp.optional(),
});
export type AgentRecord = z.infer<typeof AgentRecordSchema>;

interface RegistrationIssue {
  path: string;
  message: string;
}

export type ParseRegistrationResult =
  | { ok: true; registration: AgentRegistration }
  | { ok: false; issues: RegistrationIssue[] };

/** Validates a `POST /agents` body, reporting every problem with its JSON path (for a 400). */
export function parseAgentRegistration(body: unknown): ParseRegistrationResult {
  const result = AgentRegistrationSchema.safeParse(body);
  if (result.success) return { ok: true, registration: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({
      path: issue.path.length === 0 ? '$' : `$${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`,
      message: issue.message,
    })),
  };
}

export interface NewRecordOptions {
  builtIn?: boolean;
  registeredBy?: string;
  /** The record being replaced (re-registration): its creation time, health and circuit carry over. */
  previous?: AgentRecord;
}

/** The record stored for a registration; re-registering keeps history but takes every declared field anew. */
export function newAgentRecord(registration: AgentRegistration, now: Date, options: NewRecordOptions = {}): AgentRecord {
  const at = now.toISOString();
  const { previous } = options;
  const record: AgentRecord = {
    ...registration,
    status: previous?.status ?? 'active',
    builtIn: options.builtIn ?? previous?.builtIn ?? false,
    health: previous?.health ?? { status: 'Healthy' },
    circuit: previous?.circuit ?? initialCircuit(),
    createdAt: previous?.createdAt ?? at,
    updatedAt: at,
  };
  const registeredBy = options.registeredBy ?? previous?.registeredBy;
  if (registeredBy !== undefined) record.registeredBy = registeredBy;
  if (previous?.healthAt !== undefined) record.healthAt = previous.healthAt;
  if (previous?.lastInvocationAt !== undefined) record.lastInvocationAt = previous.lastInvocationAt;
  return record;
}

/** The distinct skills of an agent: one skill-index entry each, so `GET /agents?skill=` is a Query. */
export function skillsOf(agent: Pick<AgentRegistration, 'capabilities'>): string[] {
  return [...new Set(agent.capabilities.map((capability) => capability.skill))].sort();
}
