import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { compileWorkflow, leaseSeconds, type CompileOptions } from '../../../lambdas/shared/workflow/compile';
import type { WorkflowDefinition } from '../../../lambdas/shared/workflow/schema';
import { allStateNames, findState, validateAsl, type AslMachine } from '../workflow/support/asl';

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

type Json = any;

/** Runs a compiled machine on the local interpreter with recording item gate, agent, gate and reporter. */
async function run(asl: AslMachine, items: string[], failing: Set<string> = new Set()) {
  const log: string[] = [];
  const leases = new Set<string>();
  let next = 0;
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  for (const id of ['fan', 'single']) {
    handlers[`${id}.gate`] = async () => ({
      agent: { agentId: 'a', functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:agent' },
      config: {},
      upstream: [],
      ...(id === 'fan' ? { maxConcurrency: 0, itemCount: items.length, batches: items.map((key) => [{ key }]) } : {}),
    });
    const admit = async (input: Json) => {
      const p = input.Payload;
      expect(p.action).toBe('admit');
      const leaseId = `l${next++}`;
      leases.add(leaseId);
      log.push(`admit:${p.stepId}:${(p.items ?? []).map((i: { key: string }) => i.key).join(',')}`);
      return { leaseId };
    };
    const release = async (input: Json) => {
      const p = input.Payload;
      expect(p.action).toBe('release');
      expect(leases.delete(p.leaseId)).toBe(true);
      log.push(`release:${p.stepId}:${(p.items ?? []).map((i: { key: string }) => i.key).join(',')}`);
      return { Payload: { outcome: 'released' } };
    };
    handlers[`${id}.admit`] = admit;
    handlers[`${id}.release`] = release;
    handlers[`${id}.release.failed`] = release;
    const agent = async (input: Json) => {
      const keys: string[] = input.Payload.items.map((i: { key: string }) => i.key);
      log.push(`agent:${input.Payload.stepId}:${keys.join(',')}`);
      if (keys.some((k) => failing.has(k))) throw Object.assign(new Error('boom'), { name: 'Agentplane.Fatal' });
      return { Payload: { results: keys.map((key) => ({ item: { key }, status: 'succeeded', outputKey: `o/${key}`, metrics: {} })) } };
    };
    handlers[id] = agent;
    handlers[`${id}.item`] = agent;
    for (const kind of ['done', 'failed']) handlers[`${id}.${kind}`] = async (input) => (log.push(`${kind}:${id}:${JSON.stringify(input.Payload.outcome ?? null)}`), { ok: true });
  }
  const machine = new StateMachine(asl as never, { validationOptions: { noValidate: true } });
  const execution = machine.run(
    { runId: 'r-1', parameters: {}, workspace: { bucket: 'b', prefix: 'runs/r-1/' } },
    { overrides: { taskResourceLocalHandlers: handlers as never }, context: { Task: { Token: 't' }, State: { RetryCount: 0 } } as never },
  );
  const output = await execution.result.catch((error: unknown) => ({ error }));
  return { log, leases, output };
}

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
    const admit = findState(adaptive, 'fan.admit') as Record<string, any>;
    expect(admit.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(admit.Parameters.Payload).toMatchObject({ action: 'admit', 'taskToken.$': '$$.Task.Token', stepId: 'fan', leaseSeconds: leaseSeconds(definition().steps[0]!) });
    const fail = findState(adaptive, 'fan.batch.fail') as Record<string, any>;
    expect(fail).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
  });

  it('should compile without admission states when no item gate is given', () => {
    const { asl } = compileWorkflow(definition(), { functions: { gate: 'g', reporter: 'r' } });
    expect(allStateNames(asl as AslMachine).some((n) => n.endsWith('.admit') || n.endsWith('.release'))).toBe(false);
  });

  it('should admit before, and release after, every item, on success and on failure, leaving the outcome shape unchanged', async () => {
    const { asl } = compileWorkflow(definition(), OPTIONS);
    const items = ['a', 'b', 'c', 'bad'];
    const { log, leases, output } = await run(asl as AslMachine, items, new Set(['bad']));
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
    const done = log.find((l) => l.startsWith('done:fan:'))!;
    const outcome = JSON.parse(done.slice('done:fan:'.length));
    expect(outcome).toHaveLength(4);
    expect(outcome.filter((o: { failed?: boolean }) => o.failed)).toEqual([expect.objectContaining({ failed: true, items: [{ key: 'bad' }] })]);
    expect(outcome.filter((o: { results?: unknown }) => o.results)).toHaveLength(3);
    expect(log.indexOf('admit:single:')).toBeLessThan(log.indexOf('agent:single:'));
    expect(log.indexOf('agent:single:')).toBeLessThan(log.indexOf('release:single:'));
  });

  it('should release the slot of a single step whose agent fails before reporting it failed', async () => {
    const def: WorkflowDefinition = { id: 'one', steps: [{ id: 'single', capability: { skill: 's' }, retry: { maxAttempts: 0 } }] };
    const { asl } = compileWorkflow(def, OPTIONS);
    const handlersFail = await run(asl as AslMachine, [], new Set(['__never']));
    expect(handlersFail.leases.size).toBe(0);
  });

  it('should hold a slot at least as long as every attempt of the item can take', () => {
    const step = { id: 's', capability: { skill: 's' }, timeoutSeconds: 10, retry: { maxAttempts: 2, intervalSeconds: 1, backoffRate: 2 } };
    expect(leaseSeconds(step)).toBeGreaterThanOrEqual(10 * (1 + 2 + 6));
  });
});
