import fc from 'fast-check';
import type { ParameterSpec, ScalarValue, WhenCondition, WorkflowDefinition, WorkflowStep } from '../../../../lambdas/core/workflow/schema';

/** The parameters every generated workflow declares: one per type, with and without defaults. */
const GENERATED_PARAMETERS: Record<string, ParameterSpec> = {
  mode: { type: 'string', enum: ['a', 'b', 'c'], default: 'a' },
  level: { type: 'integer' },
  flag: { type: 'boolean', default: false },
};

export type RunParameters = Record<string, ScalarValue>;

/** Parameters as the run API passes them: defaults applied, optional ones sometimes absent. */
export const runParametersArb: fc.Arbitrary<RunParameters> = fc
  .record({
    mode: fc.constantFrom('a', 'b', 'c'),
    level: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    flag: fc.boolean(),
  })
  .map(({ mode, level, flag }): RunParameters => (level === undefined ? { mode, flag } : { mode, level, flag }));

const atomArb: fc.Arbitrary<WhenCondition> = fc.oneof(
  fc.constantFrom('a', 'b', 'c').map((v) => ({ param: 'mode', equals: v })),
  fc.constantFrom('a', 'b', 'c').map((v) => ({ param: 'mode', notEquals: v })),
  fc.subarray(['a', 'b', 'c'], { minLength: 1 }).map((values) => ({ param: 'mode', in: values })),
  fc.integer({ min: 0, max: 3 }).map((v) => ({ param: 'level', equals: v })),
  fc.integer({ min: 0, max: 3 }).map((v) => ({ param: 'level', notEquals: v })),
  fc.boolean().map((exists) => ({ param: 'level', exists })),
  fc.boolean().map((v) => ({ param: 'flag', equals: v })),
);

const whenArb: fc.Arbitrary<WhenCondition> = fc.oneof(
  { weight: 3, arbitrary: atomArb },
  { weight: 1, arbitrary: fc.array(atomArb, { minLength: 1, maxLength: 3 }).map((all) => ({ all })) },
  { weight: 1, arbitrary: fc.array(atomArb, { minLength: 1, maxLength: 3 }).map((any) => ({ any })) },
  { weight: 1, arbitrary: atomArb.map((not) => ({ not })) },
);

/** Per-step extras drawn independently of the graph shape. */
export interface StepExtras {
  when: WhenCondition | undefined;
  fanOut: boolean;
  fromUpstream: boolean;
  batchSize: number;
  knownCount: boolean;
}

export const stepExtrasArb: fc.Arbitrary<StepExtras> = fc.record({
  when: fc.option(whenArb, { freq: 5, nil: undefined }),
  fanOut: fc.boolean(),
  fromUpstream: fc.boolean(),
  batchSize: fc.integer({ min: 1, max: 2 }),
  knownCount: fc.boolean(),
});

export interface GeneratedWorkflow {
  definition: WorkflowDefinition;
  /** expectedItems for the steps whose count the test tells the compiler. */
  expectedItems: Record<string, number>;
}

const stepId = (i: number) => `s${i}`;

/** Builds a workflow on a DAG given as dependency lists over indices (deps[i] ⊆ [0, i)). */
export function buildWorkflow(deps: number[][], extras: StepExtras[], inputCount: number): GeneratedWorkflow {
  const steps: WorkflowStep[] = [];
  const fanOut = new Set<number>();
  const ancestors: Array<Set<number>> = [];
  const expectedItems: Record<string, number> = {};
  deps.forEach((ds, i) => {
    const extra = extras[i % extras.length];
    ancestors[i] = new Set(ds.flatMap((d) => [d, ...ancestors[d]]));
    const step: WorkflowStep = { id: stepId(i), capability: { skill: `skill-${i % 5}` } };
    if (ds.length > 0) step.dependsOn = ds.map(stepId);
    if (extra.when) step.when = extra.when;
    if (extra.fanOut) {
      const upstreamFanOut = [...ancestors[i]].filter((a) => fanOut.has(a)).sort((a, b) => a - b);
      step.forEach = extra.fromUpstream && upstreamFanOut.length > 0 ? stepId(upstreamFanOut[upstreamFanOut.length - 1]) : 'inputs';
      step.batchSize = extra.batchSize;
      fanOut.add(i);
      if (extra.knownCount) expectedItems[step.id] = inputCount;
    }
    steps.push(step);
  });
  return { definition: { id: 'generated', parameters: GENERATED_PARAMETERS, steps }, expectedItems };
}

/** Random DAGs of 1..maxSteps steps, each depending on up to three earlier ones. */
export function dagArb(maxSteps: number): fc.Arbitrary<number[][]> {
  return fc
    // size 'max': lengths spread over the whole range instead of fast-check's small default.
    .array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: 1, maxLength: maxSteps, size: 'max' })
    .map((picks) => picks.map((p, i) => (i === 0 ? [] : [...new Set(p.map((x) => x % i))].sort((a, b) => a - b))));
}

type SpShape = { kind: 'leaf' } | { kind: 'series' | 'parallel'; children: SpShape[] };

const spShapeArb: fc.Arbitrary<SpShape> = fc.letrec<{ node: SpShape }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'medium', withCrossShrink: true },
    fc.constant<SpShape>({ kind: 'leaf' }),
    fc.record({
      kind: fc.constantFrom<'series' | 'parallel'>('series', 'parallel'),
      children: fc.array(tie('node'), { minLength: 2, maxLength: 4 }),
    }),
  ),
})).node;

const leaves = (shape: SpShape): number => (shape.kind === 'leaf' ? 1 : shape.children.reduce((n, c) => n + leaves(c), 0));

/** Series-parallel DAGs (up to maxSteps steps) as dependency lists; series joins link every sink to every source. */
export function spDagArb(maxSteps: number): fc.Arbitrary<number[][]> {
  return spShapeArb
    .filter((shape) => leaves(shape) <= maxSteps)
    .map((shape) => {
      const deps: number[][] = [];
      const build = (node: SpShape): { sources: number[]; sinks: number[] } => {
        if (node.kind === 'leaf') {
          deps.push([]);
          return { sources: [deps.length - 1], sinks: [deps.length - 1] };
        }
        const parts = node.children.map((child) => {
          const before = deps.length;
          const part = build(child);
          return { ...part, first: before };
        });
        if (node.kind === 'parallel') {
          return { sources: parts.flatMap((p) => p.sources), sinks: parts.flatMap((p) => p.sinks) };
        }
        for (let i = 1; i < parts.length; i++) {
          for (const source of parts[i].sources) deps[source] = [...deps[source], ...parts[i - 1].sinks];
        }
        return { sources: parts[0].sources, sinks: parts[parts.length - 1].sinks };
      };
      build(shape);
      return deps.map((d) => [...new Set(d)].sort((a, b) => a - b));
    });
}

/** The reference semantics of `when`, written independently of the compiler. */
function evaluateWhen(when: WhenCondition, params: RunParameters): boolean {
  if (when.all) return when.all.every((c) => evaluateWhen(c, params));
  if (when.any) return when.any.some((c) => evaluateWhen(c, params));
  if (when.not) return !evaluateWhen(when.not, params);
  const present = Object.hasOwn(params, when.param!);
  const value = params[when.param!];
  if (when.exists !== undefined) return present === when.exists;
  if (when.equals !== undefined) return present && value === when.equals;
  if (when.notEquals !== undefined) return !(present && value === when.notEquals);
  return present && when.in!.includes(value);
}

/** Steps that run: the condition holds and, unless a root, at least one dependency ran. */
export function expectedRunning(definition: WorkflowDefinition, params: RunParameters): Set<string> {
  const running = new Set<string>();
  for (const step of definition.steps) {
    const deps = step.dependsOn ?? [];
    const own = step.when === undefined || evaluateWhen(step.when, params);
    if (own && (deps.length === 0 || deps.some((d) => running.has(d)))) running.add(step.id);
  }
  return running;
}
