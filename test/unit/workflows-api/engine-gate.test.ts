import { describe, expect, it, vi } from 'vitest';
import { runGate, type GateDeps, type GateEvent } from '../../../lambdas/engine-gate/gate';
import { admitNow } from '../../../lambdas/engine-gate/admission';
import type { StepState } from '../../../lambdas/aws/step-state';

/** What the gate answers a step's task with. */
type GateOutput = Parameters<GateDeps['sendSuccess']>[1];

function fakeDeps(overrides: Partial<GateDeps> = {}) {
  const written = new Map<string, unknown>();
  const merged: Array<{ stepId: string; fields: StepState }> = [];
  const emitted: Array<{ event: string; payload: Record<string, unknown> }> = [];
  const success = vi.fn(async () => undefined);
  const failure = vi.fn(async () => undefined);
  const deps: GateDeps = {
    admission: admitNow,
    listObjects: async (_b, prefix) => Array.from({ length: 5 }, (_, i) => ({ key: `${prefix}f${i}.txt`, size: 10 + i })),
    readJson: async (_b, key) => written.get(key),
    writeJson: async (_b, key, value) => void written.set(key, value),
    select: async (stepId) => ({
      chosen: { agentId: 'agent-1', functionArn: 'arn:fn:agent-1', revision: 3, score: 0.9 },
      alternatives: 19,
      event: { stepId, agentId: 'agent-1', score: 0.9, candidates: Array.from({ length: 20 }, (_, i) => ({ agentId: `a${i}`, score: 0.5, reasons: [] })) },
    }),
    steps: {
      merge: async (_r, stepId, fields) => void merged.push({ stepId, fields }),
      steps: async () => ({ up: { status: 'succeeded' } }),
    },
    emit: async (_r, list) => void emitted.push(...(list as never[])),
    sendSuccess: success,
    sendFailure: failure,
    clock: () => Date.parse('2026-01-01T00:00:00Z'),
    log: { warn: () => undefined, error: () => undefined },
    ...overrides,
  };
  return { deps, written, merged, emitted, success, failure };
}

const event = (step: Partial<GateEvent['step']> = {}, parameters: GateEvent['parameters'] = { lang: 'java' }): GateEvent => ({
  taskToken: 'token-1',
  runId: 'r1',
  stepId: 'gen',
  step: { capability: { skill: 'java-generation' }, dependsOn: ['up'], maxPasses: 3, ...step },
  workspace: { bucket: 'b', prefix: 'runs/r1/' },
  parameters,
});

describe('Function: runGate', () => {
  it('should answer a single step with the agent, resolved config and upstream references', async () => {
    const { deps, success, merged, emitted } = fakeDeps();
    const result = await runGate(event({ config: { lang: '${params.lang}', note: 'in ${params.lang}!', list: ['${params.lang}'] } }), deps);
    expect(result.outcome).toBe('admitted');
    expect(success).toHaveBeenCalledWith('token-1', {
      agent: { agentId: 'agent-1', functionArn: 'arn:fn:agent-1', epoch: 0, tried: [], circuitBreaker: true },
      config: { lang: 'java', note: 'in java!', list: ['java'] },
      upstream: [{ stepId: 'up', status: 'succeeded', prefix: 'runs/r1/state/up/' }],
    });
    expect(merged[0].fields).toMatchObject({ status: 'running', agentId: 'agent-1', totalItems: 1, succeeded: 0, failed: 0, tokens: 0, costUsd: 0, startedAt: '2026-01-01T00:00:00.000Z' });
    expect(emitted.map((e) => e.event)).toEqual(['AgentSelected', 'StepStarted']);
    expect(emitted[0].payload.candidates).toHaveLength(10);
    expect(emitted[1].payload).toEqual({ stepId: 'gen', skill: 'java-generation', agentId: 'agent-1', totalItems: 1 });
  });

  it('should not ask the agent runtime to respect its circuit when the items of the step cannot fall back', async () => {
    const { deps, success } = fakeDeps();
    await runGate(event({ maxPasses: 1 }), deps);
    expect(((success.mock.calls[0] as unknown[])[1] as GateOutput).agent).toMatchObject({ circuitBreaker: false, epoch: 0, tried: [] });
  });

  it('should batch the inputs of an inline fan-out by batchSize', async () => {
    const { deps, success } = fakeDeps();
    await runGate(event({ forEach: 'inputs', mode: 'inline', inlineMaxItems: 10, batchSize: 2, maxConcurrency: 4 }), deps);
    const output = (success.mock.calls[0] as unknown[])[1] as GateOutput;
    expect(output.itemCount).toBe(5);
    expect(output.maxConcurrency).toBe(4);
    expect(output.batches!.map((b) => b.length)).toEqual([2, 2, 1]);
    expect(output.batches![0][0]).toEqual({ key: 'runs/r1/inputs/f0.txt', size: 10, index: 0 });
  });

  it('should write the manifest of a distributed fan-out and return no batches (0 = no concurrency limit)', async () => {
    const { deps, success, written } = fakeDeps();
    await runGate(event({ forEach: 'inputs', mode: 'distributed', manifestKey: 'runs/r1/state/gen/manifest.json' }), deps);
    const output = (success.mock.calls[0] as unknown[])[1] as GateOutput;
    expect(output.batches).toBeUndefined();
    expect(output).toMatchObject({ itemCount: 5, maxConcurrency: 0 });
    expect(written.get('runs/r1/state/gen/manifest.json')).toHaveLength(5);
  });

  it('should choose by item count in adaptive mode', async () => {
    const small = fakeDeps();
    await runGate(event({ forEach: 'inputs', mode: 'adaptive', inlineMaxItems: 5, manifestKey: 'm' }), small.deps);
    expect(((small.success.mock.calls[0] as unknown[])[1] as GateOutput).batches).toHaveLength(5);
    const large = fakeDeps();
    await runGate(event({ forEach: 'inputs', mode: 'adaptive', inlineMaxItems: 4, manifestKey: 'm' }), large.deps);
    expect(((large.success.mock.calls[0] as unknown[])[1] as GateOutput).batches).toBeUndefined();
    expect(large.written.get('m')).toHaveLength(5);
  });

  it("should iterate an upstream fan-out's recorded outputs", async () => {
    const { deps, success, written } = fakeDeps();
    written.set('runs/r1/state/up/outputs.json', [{ key: 'runs/r1/outputs/up/a.json', source: 'runs/r1/inputs/a' }]);
    await runGate(event({ forEach: 'up', mode: 'inline', inlineMaxItems: 10 }), deps);
    const output = (success.mock.calls[0] as unknown[])[1] as GateOutput;
    expect(output.batches).toEqual([[{ key: 'runs/r1/outputs/up/a.json', index: 0, source: 'runs/r1/inputs/a' }]]);
  });

  it('should fail with Agentplane.TooManyItems when an inline fan-out gets more items than compiled for', async () => {
    const { deps, success, failure } = fakeDeps();
    const result = await runGate(event({ forEach: 'inputs', mode: 'inline', inlineMaxItems: 3 }), deps);
    expect(result).toMatchObject({ outcome: 'failed', error: 'Agentplane.TooManyItems' });
    expect(failure).toHaveBeenCalledWith('token-1', 'Agentplane.TooManyItems', expect.stringContaining('5 items'));
    expect(success).not.toHaveBeenCalled();
  });

  it('should fail with Agentplane.NoAgent, passing the explanation on', async () => {
    const noAgent = Object.assign(new Error("No agent can serve capability skill 'x': no agent is registered for it"), { name: 'Agentplane.NoAgent' });
    const { deps, failure, merged } = fakeDeps({ select: async () => Promise.reject(noAgent) });
    await runGate(event(), deps);
    expect(failure).toHaveBeenCalledWith('token-1', 'Agentplane.NoAgent', expect.stringContaining("skill 'x'"));
    expect(merged).toEqual([]);
  });

  it('should fail a run without a run record, and name unexpected errors Agentplane.GateFailed', async () => {
    const missing = fakeDeps({ steps: { merge: async () => undefined, steps: async () => undefined } });
    expect(await runGate(event(), missing.deps)).toMatchObject({ outcome: 'failed', error: 'Agentplane.RunNotFound' });
    const broken = fakeDeps({ listObjects: async () => Promise.reject(new Error('S3 down')) });
    expect(await runGate(event({ forEach: 'inputs', mode: 'inline', inlineMaxItems: 9 }), broken.deps)).toMatchObject({ outcome: 'failed', error: 'Agentplane.GateFailed', cause: 'S3 down' });
  });

  it('should refuse a workspace prefix that is not the run prefix', async () => {
    const { deps } = fakeDeps();
    const bad = { ...event(), workspace: { bucket: 'b', prefix: 'runs/other/' } };
    expect(await runGate(bad, deps)).toMatchObject({ outcome: 'failed', error: 'Agentplane.Fatal' });
  });

  it('should hold the token without answering when admission says so, and use its concurrency when it admits', async () => {
    const held = fakeDeps({ admission: { decide: async () => ({ admit: false, reason: 'paused' }) } });
    expect(await runGate(event(), held.deps)).toEqual({ outcome: 'held', reason: 'paused' });
    expect(held.success).not.toHaveBeenCalled();
    expect(held.failure).not.toHaveBeenCalled();
    const limited = fakeDeps({ admission: { decide: async () => ({ admit: true, maxConcurrency: 2 }) } });
    await runGate(event({ forEach: 'inputs', mode: 'inline', inlineMaxItems: 9, maxConcurrency: 20 }), limited.deps);
    expect(((limited.success.mock.calls[0] as unknown[])[1] as GateOutput).maxConcurrency).toBe(2);
  });
});
