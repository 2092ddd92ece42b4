import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { compileWorkflow, leaseSeconds, type CompileOptions } from '../../../lambdas/core/workflow/compile';
import type { WorkflowDefinition } from '../../../lambdas/core/workflow/schema';
import { allStateNames, findState, validateAsl, type AslMachine } from '../workflow/support/asl';
import { handleRelease, type ReleaseDeps, type ReleaseEvent } from '../../../lambdas/engine-item-gate/release';
import type { ReleaseRequest } from '../../../lambdas/core/runs/control';
import type { FallbackDeps, ItemResult, RouteItem } from '../../../lambdas/core/runs/fallback';

const OPTIONS: CompileOptions = {
  functions: {
    gate: 'arn:aws:lambda:eu-west-1:123456789012:function:agentplane-gate',
    reporter: 'arn:aws:lambda:eu-west-1:123456789012:function:agentplane-reporter',
    itemGate: 'arn:aws:lambda:eu-west-1:123456789012:function:agentplane-item-gate',
  },
};

const definition = (step: Partial<WorkflowDefinition['steps'][number]> = {}): WorkflowDefinition => ({
  id: 'adm',
  steps: [
    { id: 'fan', capability: { skill: 's' }, forEach: 'inputs', ...step },
    { id: 'single', dependsOn: ['fan'], capability: { skill: 's' } },
  ],
});

/** What the interpreter hands a local task handler: the Parameters of its Task state, resolved. */
interface TaskInput {
  FunctionName: string;
  Payload: unknown;
}
type TaskHandler = (input: TaskInput) => Promise<unknown>;
/** The payloads the compiled machine sends: the admit and agent calls (release is the product's ReleaseEvent). */
interface AdmitPayload {
  action: string;
  stepId: string;
  items?: { key: string }[];
}
interface AgentPayload {
  stepId: string;
  items: { key: string }[];
  agentId: string;
  epoch: number;
  circuitBreaker?: boolean;
}
interface ReportPayload {
  outcome?: unknown;
  error?: unknown;
}
/** One batch of a Map step's outcome, as the `done` reporter receives it. */
interface BatchOutcome {
  results?: ItemResult[];
  failed?: boolean;
  items?: RouteItem[];
}

const AGENT_A = 'arn:aws:lambda:eu-west-1:123456789012:function:agent-a';
const AGENT_B = 'arn:aws:lambda:eu-west-1:123456789012:function:agent-b';

interface RunOptions {
  /** Items whose agent call throws Agentplane.Fatal (any agent). */
  failing?: Set<string>;
  /** Items an agent (by function ARN) fails with a retryable per-item result on its last attempt. */
  flaky?: Record<string, string[]>;
  /** Agent A throws this error for every call (after the machine's retries). */
  aThrows?: string;
  /** Agent A refuses calls that respect its circuit breaker (Agentplane.CircuitOpen). */
  aCircuitOpen?: boolean;
  /** The gate's circuitBreaker for the step's agent (default: whether there are fallbacks). */
  gateBreaker?: boolean;
  /** Candidates the registry offers as fallbacks, best first. */
  fallbacks?: Array<{ agentId: string; functionArn: string }>;
}

/**
 * Runs a compiled machine on the local interpreter with recording gate, agents and reporter, and the real
 * release logic (lambdas/engine-item-gate/release.ts) over a fake semaphore and registry.
 */
async function run(asl: AslMachine, items: string[], options: RunOptions = {}) {
  const failing = options.failing ?? new Set<string>();
  const log: string[] = [];
  const leases = new Set<string>();
  const selected: Parameters<FallbackDeps['emitSelected']>[1] = [];
  const moves: string[] = [];
  const released: ReleaseRequest[] = [];
  let next = 0;
  const handlers: Record<string, TaskHandler> = {};
  const releaseDeps: ReleaseDeps = {
    log: { warn() {} },
    async release(request) {
      expect(leases.delete(request.leaseId!)).toBe(true);
      released.push(request);
    },
    fallback: {
      async choose(_capability, _items, exclude) {
        const left = (options.fallbacks ?? []).filter((c) => !exclude.includes(c.agentId));
        const best = left.at(0);
        return best && { ...best, score: 0.5, alternatives: left.length - 1, candidates: left.map((c) => ({ agentId: c.agentId, score: 0.5, reasons: ['test'] })) };
      },
      async emitSelected(_runId, events) {
        selected.push(...events);
      },
      async countMoves(_runId, stepId, agentId, items) {
        moves.push(`${stepId}>${agentId}:${items}`);
      },
    },
  };
  for (const id of ['fan', 'single']) {
    handlers[`${id}.gate`] = async () => ({
      agent: { agentId: 'a', functionArn: AGENT_A, epoch: 0, tried: [], circuitBreaker: options.gateBreaker ?? (options.fallbacks ?? []).length > 0 },
      config: {},
      upstream: [],
      ...(id === 'fan' ? { maxConcurrency: 0, itemCount: items.length, batches: items.map((key) => [{ key }]) } : {}),
    });
    const admit = async (input: TaskInput) => {
      const p = input.Payload as AdmitPayload;
      expect(p.action).toBe('admit');
      const leaseId = `l${next++}`;
      leases.add(leaseId);
      log.push(`admit:${p.stepId}:${(p.items ?? []).map((i: { key: string }) => i.key).join(',')}`);
      return { leaseId };
    };
    const release = async (input: TaskInput) => {
      const p = input.Payload as ReleaseEvent;
      expect(p.action).toBe('release');
      log.push(`release:${p.stepId}:${((p.items ?? []) as { key: string }[]).map((i) => i.key).join(',')}`);
      return { Payload: await handleRelease(p, releaseDeps) };
    };
    handlers[`${id}.admit`] = admit;
    handlers[`${id}.release`] = release;
    handlers[`${id}.release.failed`] = release;
    const agent = async (input: TaskInput) => {
      const p = input.Payload as AgentPayload;
      const keys: string[] = p.items.map((i) => i.key);
      const onA = input.FunctionName === AGENT_A;
      log.push(`agent:${p.stepId}:${keys.join(',')}${onA ? '' : `@${p.agentId}#${p.epoch}`}`);
      if (keys.some((k) => failing.has(k))) throw Object.assign(new Error('boom'), { name: 'Agentplane.Fatal' });
      if (onA && options.aCircuitOpen && p.circuitBreaker) throw Object.assign(new Error(`Agent 'a': circuit open after 5 consecutive failures`), { name: 'Agentplane.CircuitOpen' });
      if (onA && options.aThrows) throw Object.assign(new Error(`A is down`), { name: options.aThrows });
      const results = (keys.length > 0 ? keys : ['@step']).map((key) =>
        options.flaky?.[input.FunctionName]?.includes(key)
          ? { item: { key }, status: 'failed', error: { type: 'Agentplane.Retryable', message: 'model overloaded' }, metrics: { retryCount: 2 } }
          : { item: { key }, status: 'succeeded', outputKey: `o/${key}`, metrics: { tokensUsed: 1 } },
      );
      return { Payload: { results } };
    };
    handlers[id] = agent;
    handlers[`${id}.item`] = agent;
    for (const kind of ['done', 'failed']) handlers[`${id}.${kind}`] = async (input) => {
      const p = input.Payload as ReportPayload;
      log.push(`${kind}:${id}:${JSON.stringify(p.outcome ?? p.error ?? null)}`);
      return { ok: true };
    };
  }
  const machine = new StateMachine(asl as never, { validationOptions: { noValidate: true } });
  const execution = machine.run(
    { runId: 'r-1', parameters: {}, workspace: { bucket: 'b', prefix: 'runs/r-1/' } },
    { overrides: { taskResourceLocalHandlers: handlers as never }, context: { Task: { Token: 't' }, State: { RetryCount: 0 } } },
  );
  let failure: unknown;
  const output = await execution.result.catch((error: unknown) => {
    failure = error;
    return { error };
  });
  return { log, leases, output, failure, selected, released, moves };
}

const outcomeOf = (log: string[], stepId: string): unknown => JSON.parse(log.find((l) => l.startsWith(`done:${stepId}:`))!.slice(`done:${stepId}:`.length));
/** The outcome of a Map step: one entry per batch. */
const batchesOf = (log: string[], stepId: string) => outcomeOf(log, stepId) as BatchOutcome[];

describe('Function: compileWorkflow with item admission', () => {
  it('should bracket every agent invocation with admit and release, with unique state names that asl-validator accepts', () => {
    for (const step of [{}, { distributed: true }, { batchSize: 3 }] as const) {
      const { asl } = compileWorkflow(definition(step), OPTIONS);
      expect(validateAsl(asl).errors).toBe('');
      const names = allStateNames(asl as AslMachine);
      expect(new Set(names).size).toBe(names.length);
      expect(names).toEqual(expect.arrayContaining(['single.admit', 'single.release', 'single.release.failed']));
    }
    const adaptive = compileWorkflow(definition(), OPTIONS).asl as AslMachine;
    expect(allStateNames(adaptive)).toEqual(expect.arrayContaining(['fan.admit', 'fan.release', 'fan.batch.admit', 'fan.batch.release', 'fan.batch.release.failed', 'fan.batch.fail']));
    const admit = findState(adaptive, 'fan.admit')!;
    expect(admit.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect((admit.Parameters as { Payload: unknown }).Payload).toMatchObject({ action: 'admit', 'taskToken.$': '$$.Task.Token', stepId: 'fan', leaseSeconds: leaseSeconds(definition().steps[0]) });
    const fail = findState(adaptive, 'fan.batch.fail');
    expect(fail).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
  });

  it('should compile without admission states when no item gate is given', () => {
    const { asl } = compileWorkflow(definition(), { functions: { gate: 'g', reporter: 'r' } });
    expect(allStateNames(asl as AslMachine).some((n) => n.endsWith('.admit') || n.endsWith('.release'))).toBe(false);
  });

  it('should admit before, and release after, every item, on success and on failure, leaving the outcome shape unchanged', async () => {
    const { asl } = compileWorkflow(definition(), OPTIONS);
    const items = ['a', 'b', 'c', 'bad'];
    const { log, leases, output, released } = await run(asl as AslMachine, items, { failing: new Set(['bad']) });
    expect(released.reduce((n, r) => n + r.items, 0)).toBe(5);
    expect(output).not.toHaveProperty('error');
    expect(leases.size).toBe(0);
    for (const key of items) {
      const admitAt = log.indexOf(`admit:fan:${key}`);
      const agentAt = log.indexOf(`agent:fan:${key}`);
      const releaseAt = log.indexOf(`release:fan:${key}`);
      expect(admitAt).toBeGreaterThanOrEqual(0);
      expect(admitAt).toBeLessThan(agentAt);
      expect(agentAt).toBeLessThan(releaseAt);
    }
    const outcome = batchesOf(log, 'fan');
    expect(outcome).toHaveLength(4);
    expect(outcome.filter((o) => o.failed)).toEqual([expect.objectContaining({ failed: true, items: [{ key: 'bad' }] })]);
    expect(outcome.filter((o) => o.results)).toHaveLength(3);
    expect(log.indexOf('admit:single:')).toBeLessThan(log.indexOf('agent:single:'));
    expect(log.indexOf('agent:single:')).toBeLessThan(log.indexOf('release:single:'));
  });

  it('should release the slot of a single step whose agent fails before reporting it failed', async () => {
    const def: WorkflowDefinition = { id: 'one', steps: [{ id: 'single', capability: { skill: 's' }, retry: { maxAttempts: 0 } }] };
    const { asl } = compileWorkflow(def, OPTIONS);
    const { leases, log } = await run(asl as AslMachine, [], { aThrows: 'Agentplane.Fatal' });
    expect(leases.size).toBe(0);
    expect(log.at(-1)).toMatch(/^failed:single:.*Agentplane\.Fatal/);
  });

  describe('fallback', () => {
    const fallbacks = [
      { agentId: 'b', functionArn: AGENT_B },
      { agentId: 'c', functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:agent-c' },
    ];

    it('should send an item that ran out of retries to the next candidate, say why, and count it once', async () => {
      const { asl } = compileWorkflow(definition(), OPTIONS);
      const { log, leases, output, selected, released, moves } = await run(asl as AslMachine, ['x', 'y', 'z'], { flaky: { [AGENT_A]: ['y'] }, fallbacks });
      expect(moves).toEqual(['fan>b:1']);
      expect(output).not.toHaveProperty('error');
      expect(leases.size).toBe(0);
      expect(log).toContain('agent:fan:y@b#1');
      expect(log.filter((l) => l.startsWith('admit:fan:y'))).toHaveLength(2);
      expect(selected).toEqual([
        { stepId: 'fan', agentId: 'b', score: 0.5, candidates: expect.any(Array) as unknown, fallbackFrom: 'a', item: 'y', reason: 'Agentplane.Retryable after 3 attempts: model overloaded' },
      ]);
      const outcome = batchesOf(log, 'fan');
      expect(outcome.flatMap((o) => o.results!.map((r) => `${r.item.key}:${r.status}`)).sort()).toEqual(['x:succeeded', 'y:succeeded', 'z:succeeded']);
      // The first pass of y settled nothing: every item is counted once.
      const fan = released.filter((r) => r.stepId === 'fan');
      expect(fan.map((r) => r.items)).toEqual(expect.arrayContaining([0]));
      expect(fan.reduce((n, r) => n + r.items, 0)).toBe(3);
      expect(fan.flatMap((r) => r.results as ItemResult[]).filter((r) => r.status === 'failed')).toEqual([]);
    });

    it('should stop after the passes an inline Map allows and keep the last failure', async () => {
      const { asl } = compileWorkflow(definition(), OPTIONS);
      const { log, selected } = await run(asl as AslMachine, ['y'], { flaky: { [AGENT_A]: ['y'], [AGENT_B]: ['y'] }, fallbacks });
      expect(selected.map((e) => e.agentId)).toEqual(['b']);
      expect(log.some((l) => l.includes('@c'))).toBe(false);
      expect(outcomeOf(log, 'fan')).toEqual([{ results: [expect.objectContaining({ item: { key: 'y' }, status: 'failed', error: { type: 'Agentplane.Retryable', message: 'model overloaded' } })] }]);
    });

    it('should settle the item as failed when no other candidate is left', async () => {
      const { asl } = compileWorkflow(definition(), OPTIONS);
      const { log, selected } = await run(asl as AslMachine, ['y'], { flaky: { [AGENT_A]: ['y'] } });
      expect(selected).toEqual([]);
      expect(batchesOf(log, 'fan')[0].results![0]).toMatchObject({ status: 'failed' });
    });

    it('should move a single step whose agent threw a retryable error, and a batch whose agent threw, to the next candidate', async () => {
      const def: WorkflowDefinition = {
        id: 'one',
        steps: [
          { id: 'fan', capability: { skill: 's' }, forEach: 'inputs', retry: { maxAttempts: 0 } },
          { id: 'single', dependsOn: ['fan'], capability: { skill: 's' }, retry: { maxAttempts: 0 } },
        ],
      };
      const { asl } = compileWorkflow(def, OPTIONS);
      const { log, failure, selected, leases } = await run(asl as AslMachine, ['x'], { aThrows: 'Agentplane.Retryable', fallbacks });
      expect(failure).toBeUndefined();
      expect(leases.size).toBe(0);
      expect(log).toEqual(expect.arrayContaining(['agent:fan:x@b#1', 'agent:single:@b#1']));
      expect(selected).toEqual([
        expect.objectContaining({ stepId: 'fan', item: 'x', fallbackFrom: 'a', agentId: 'b', reason: 'Agentplane.Retryable after its retries: A is down' }),
        { stepId: 'single', agentId: 'b', score: 0.5, candidates: expect.any(Array) as unknown, fallbackFrom: 'a', reason: 'Agentplane.Retryable after its retries: A is down' },
      ]);
      expect(outcomeOf(log, 'single')).toEqual({ results: [expect.objectContaining({ item: { key: '@step' }, status: 'succeeded' })] });
    });

    it('should never move an item that failed fatally', async () => {
      const { asl } = compileWorkflow(definition(), OPTIONS);
      const { log, selected } = await run(asl as AslMachine, ['bad'], { failing: new Set(['bad']), fallbacks });
      expect(selected).toEqual([]);
      expect(outcomeOf(log, 'fan')).toEqual([{ failed: true, items: [{ key: 'bad' }], error: { Error: 'Agentplane.Fatal', Cause: 'boom' } }]);
    });

    it('should call an agent whose circuit is open anyway when nothing else can take the item', async () => {
      const { asl } = compileWorkflow(definition(), OPTIONS);
      const { log, selected, failure } = await run(asl as AslMachine, ['x'], { aCircuitOpen: true, gateBreaker: true });
      expect(failure).toBeUndefined();
      expect(selected).toEqual([]);
      // The first call was refused by the circuit; the second went through with the breaker off.
      expect(log.filter((l) => l.startsWith('agent:fan:x'))).toHaveLength(2);
      expect(batchesOf(log, 'fan')[0].results![0]).toMatchObject({ status: 'succeeded' });
    });
  });

  it('should hold a slot at least as long as every attempt of the item can take', () => {
    const step = { id: 's', capability: { skill: 's' }, timeoutSeconds: 10, retry: { maxAttempts: 2, intervalSeconds: 1, backoffRate: 2 } };
    expect(leaseSeconds(step)).toBeGreaterThanOrEqual(10 * (1 + 2 + 6));
  });
});
