import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileWorkflow, workflowDag } from '../../../lambdas/core/workflow/compile';
import { criticalPath } from '../../../lambdas/core/workflow/graph';
import { validateWorkflow } from '../../../lambdas/core/workflow/validate';
import { aslCriticalPath, maxParallelWidth, validateAsl, type AslMachine } from './support/asl';
import { runCompiled, type Trace } from './support/harness';
import {
  buildWorkflow,
  dagArb,
  expectedRunning,
  runParametersArb,
  spDagArb,
  stepExtrasArb,
  type GeneratedWorkflow,
  type RunParameters,
} from './support/workflows';

const FUNCTIONS = {
  gate: 'arn:aws:lambda:us-east-1:123456789012:function:agentplane-gate',
  reporter: 'arn:aws:lambda:us-east-1:123456789012:function:agentplane-reporter',
};
const MAX_STEPS = 60;
/** aws-local-stepfunctions runs at most 40 branches of a Parallel at once; AWS runs them all. */
const LOCAL_PARALLEL_LIMIT = 40;

const extrasArb = fc.array(stepExtrasArb, { minLength: MAX_STEPS, maxLength: MAX_STEPS });
const inputsArb = fc.integer({ min: 1, max: 3 }).map((n) => Array.from({ length: n }, (_, i) => `runs/run-1/inputs/file-${i}.cbl`));

async function checkExecution(generated: GeneratedWorkflow, parameters: RunParameters, inputs: string[], seriesParallel: boolean) {
  // Arrange
  const validation = validateWorkflow(generated.definition);
  expect(validation.errors).toEqual([]);
  const definition = validation.definition!;
  const { asl, report } = compileWorkflow(definition, { functions: FUNCTIONS, expectedItems: generated.expectedItems });
  const machine = asl as unknown as AslMachine;

  // Act
  const trace = await runCompiled(definition, machine, { parameters, inputs });

  // Assert: the machine is valid ASL and says what the DAG says.
  const validity = validateAsl(asl);
  expect(validity.errors).toBe('');
  if (seriesParallel) expect(report.seriesParallel).toBe(true);
  expect(report.criticalPathCompiled).toBe(report.criticalPathDag);

  // Assert: skipped steps are exactly those the conditions imply; the others run exactly once.
  const running = expectedRunning(definition, parameters);
  const count = (kind: Trace['events'][number]['kind'], id: string) => trace.events.filter((e) => e.kind === kind && e.stepId === id).length;
  for (const step of definition.steps) {
    const runs = running.has(step.id);
    expect({ step: step.id, gate: count('gate', step.id), done: count('done', step.id), skipped: count('skipped', step.id), failed: count('failed', step.id) })
      .toEqual({ step: step.id, gate: runs ? 1 : 0, done: runs ? 1 : 0, skipped: runs ? 0 : 1, failed: 0 });
    const agentEvents = trace.events.filter((e) => e.kind === 'agent' && e.stepId === step.id);
    if (!runs) expect(agentEvents).toEqual([]);
    else if (step.forEach === undefined) expect(agentEvents.length).toBe(1);
    else expect(agentEvents.flatMap((e) => e.items!).sort()).toEqual([...(trace.itemsOf.get(step.id) ?? [])].sort());
  }

  // Assert: every step starts only after all of its dependencies ended.
  const startOf = (id: string) => trace.events.find((e) => e.stepId === id && (e.kind === 'gate' || e.kind === 'skipped'))!.seq;
  const firstAgentOf = (id: string) => trace.events.find((e) => e.stepId === id && e.kind === 'agent')?.seq ?? Infinity;
  const endOf = (id: string) => trace.events.find((e) => e.stepId === id && (e.kind === 'done' || e.kind === 'skipped'))!.seq;
  for (const step of definition.steps) {
    for (const dep of step.dependsOn ?? []) {
      expect(startOf(step.id), `${step.id} starts after ${dep} ends`).toBeGreaterThan(endOf(dep));
      expect(firstAgentOf(step.id)).toBeGreaterThan(endOf(dep));
    }
  }

  // Assert: the makespan in step units is the compiled structure's, and for series-parallel DAGs the DAG's.
  if (maxParallelWidth(machine) <= LOCAL_PARALLEL_LIMIT) {
    const busy = (id: string) => (trace.events.some((e) => e.kind === 'agent' && e.stepId === id) ? 1 : 0);
    expect(trace.rounds).toBe(aslCriticalPath(machine, busy));
    if (seriesParallel) expect(trace.rounds).toBe(criticalPath(workflowDag(definition), busy).length);
  }
}

describe('Function: compileWorkflow (properties)', () => {
  it('should compile random DAGs with random conditions into machines that run every step once, in dependency order', async () => {
    await fc.assert(
      fc.asyncProperty(dagArb(MAX_STEPS), extrasArb, runParametersArb, inputsArb, async (deps, extras, parameters, inputs) => {
        await checkExecution(buildWorkflow(deps, extras, inputs.length), parameters, inputs, false);
      }),
      // asl-validator builds a new Ajv per call (~200 ms for a 60-step machine): 60 runs keep the suite short.
      { numRuns: 60 },
    );
  });

  it('should add no waiting to series-parallel DAGs', async () => {
    await fc.assert(
      fc.asyncProperty(spDagArb(MAX_STEPS), extrasArb, runParametersArb, inputsArb, async (deps, extras, parameters, inputs) => {
        await checkExecution(buildWorkflow(deps, extras, inputs.length), parameters, inputs, true);
      }),
      { numRuns: 100 },
    );
  });
});
