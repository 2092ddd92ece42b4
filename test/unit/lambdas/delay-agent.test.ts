import { describe, expect, it } from 'vitest';
import { AgentInput, outputKeyFor, runDelayAgent, WorkspaceViolationError } from '../../../lambdas/diagnostics-delay/delay-agent';

const input = (over: Partial<Record<string, unknown>> = {}) =>
  AgentInput.parse({ runId: 'r1', stepId: 's1', items: [{ key: 'a' }, { key: 'x-fail' }], workspace: { bucket: 'b', prefix: 'runs/r1/' }, config: { delayMs: 10, failPattern: 'fail', tokensPerItem: 7 }, ...over });

describe('Function: runDelayAgent', () => {
  it('should sleep per item, write succeeded items and report metrics', async () => {
    const writes: string[] = [];
    const sleeps: number[] = [];
    let clock = 1000;
    const out = await runDelayAgent(input(), { put: async (key) => void writes.push(key) }, async (ms) => {
      sleeps.push(ms);
      clock += ms;
    }, () => clock);
    expect(sleeps).toEqual([10, 10]);
    expect(writes).toEqual(['runs/r1/outputs/s1/a.json']);
    expect(out.results[0]).toMatchObject({ status: 'succeeded', metrics: { durationMs: 10, tokensUsed: 7, retryCount: 0 } });
    expect(out.results[1]).toMatchObject({ status: 'failed', error: { type: 'DiagnosticFailure' } });
  });

  it('should count retries from the attempt number', async () => {
    const out = await runDelayAgent(input({ attempt: 3, config: {} }), { put: async () => {} }, async () => {});
    expect(out.results[0]!.metrics.retryCount).toBe(2);
  });
});

describe('Function: outputKeyFor', () => {
  it('should keep keys inside the run prefix, dropping dot segments', () => {
    expect(outputKeyFor(input(), '../../etc/passwd')).toBe('runs/r1/outputs/s1/etc/passwd.json');
  });

  it('should refuse a workspace prefix other than the run prefix', () => {
    expect(() => outputKeyFor(input({ workspace: { bucket: 'b', prefix: 'runs/r2/' } }), 'a')).toThrow(WorkspaceViolationError);
  });
});
