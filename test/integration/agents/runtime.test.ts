import { describe, expect, it } from 'vitest';
import { http } from '../../support/target';
import type { MetricsBody } from '../../support/api';
import { agentCloud, uniqueSuffix } from './support';

/** The agent runtime inside the real (bundled) diagnostics Lambda, on the local cloud. */
describe('Agent runtime: diagnostics.delay on the local cloud', () => {
  const cloud = agentCloud();

  it('should emit ItemStarted and ItemCompleted with metrics and record the agent metrics', async () => {
    const suffix = uniqueSuffix();
    const agentId = `events-${suffix}`;
    await cloud.register(agentId, `events-${suffix}`);
    const runId = `run-events-${suffix}`;
    const { functionError, body } = await cloud.invoke(cloud.input(runId, agentId, ['inputs/a.cbl', 'inputs/b.cbl'], { delayMs: 20, tokensPerItem: 11 }));
    expect(functionError).toBeUndefined();
    expect(body.results!.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    const events = await cloud.events(runId);
    expect(events.map((e) => e.event).filter((e) => e !== 'ItemProgress')).toEqual(['ItemStarted', 'ItemCompleted', 'ItemStarted', 'ItemCompleted']);
    const completed = events.find((e) => e.event === 'ItemCompleted')!;
    expect(completed.payload).toMatchObject({ stepId: 'work', item: 'inputs/a.cbl', outputKey: `runs/${runId}/outputs/work/inputs/a.cbl.json`, metrics: { tokensUsed: 11, retryCount: 0 } });
    expect(completed.payload.metrics.durationMs).toBeGreaterThanOrEqual(20);
    const metrics = await http<MetricsBody>('GET', `/agents/${agentId}/metrics`);
    expect(metrics.body).toMatchObject({ invocations: 2, successes: 2, failures: 0, recent: { invocations: 2 } });
    expect(metrics.body.lastInvocationAt).toEqual(expect.any(String));
  });

  it('should fail an item that writes outside its run prefix with a clear error, writing nothing', async () => {
    const suffix = uniqueSuffix();
    const runId = `run-escape-${suffix}`;
    const escapes = [`runs/victim-${suffix}/outputs/stolen.json`, `../victim-${suffix}/outputs/stolen.json`, `outputs/../../victim-${suffix}/x.json`];
    for (const [i, writeKey] of escapes.entries()) {
      // One item key per attempt: the same (run, step, item, epoch) would replay the first failure.
      const { functionError, body } = await cloud.invoke(cloud.input(runId, 'diagnostics.delay', [`inputs/${i}.cbl`], { writeKey }));
      expect(functionError).toBeUndefined();
      expect(body.results![0]).toMatchObject({ status: 'failed', error: { type: 'Agentplane.Fatal' } });
      expect(body.results![0].error!.message).toMatch(/Workspace violation: key .* may only use keys under runs\/run-escape-/);
    }
    expect(await cloud.keys(`runs/victim-${suffix}/`)).toEqual([]);
    expect(await cloud.keys(`runs/${runId}/`)).toEqual([]);
    const failed = (await cloud.events(runId)).filter((e) => e.event === 'ItemFailed');
    expect(failed).toHaveLength(3);
    expect(failed[0].payload).toMatchObject({ error: { type: 'Agentplane.Fatal' }, retry: null });
  });

  it('should not run an item twice within an epoch, and run it again in a new epoch', async () => {
    const suffix = uniqueSuffix();
    const runId = `run-idem-${suffix}`;
    const input = cloud.input(runId, 'diagnostics.delay', ['inputs/once.cbl'], { delayMs: 5 });
    const first = await cloud.invoke({ ...input, attempt: 1 });
    const retried = await cloud.invoke({ ...input, attempt: 2 });
    expect(retried.body.results).toEqual(first.body.results);
    const started = () => cloud.events(runId).then((events) => events.filter((e) => e.event === 'ItemStarted').length);
    expect(await started()).toBe(1);
    const nextEpoch = await cloud.invoke({ ...input, attempt: 1, epoch: 1 });
    expect(nextEpoch.body.results![0].status).toBe('succeeded');
    expect(await started()).toBe(2);
  });

  it('should throw Agentplane.Retryable while the step has retries left, and fail the item without throwing after', async () => {
    const suffix = uniqueSuffix();
    const runId = `run-retry-${suffix}`;
    const input = cloud.input(runId, 'diagnostics.delay', ['inputs/ok.cbl', 'inputs/flaky.cbl'], { retryablePattern: 'flaky' }, { retry: { maxAttempts: 1, intervalSeconds: 2, backoffRate: 2 } });
    const first = await cloud.invoke({ ...input, attempt: 1 });
    expect(first.functionError).toBe('Unhandled');
    expect(first.body.errorType).toBe('Agentplane.Retryable');
    const last = await cloud.invoke({ ...input, attempt: 2 });
    expect(last.functionError).toBeUndefined();
    expect(last.body.results!.map((r) => r.status)).toEqual(['succeeded', 'failed']);
    expect(last.body.results![1].error!.type).toBe('Agentplane.Retryable');
    const events = await cloud.events(runId);
    // The completed item ran once; the flaky one twice, first with a retry announced, then without.
    expect(events.filter((e) => e.event === 'ItemCompleted')).toHaveLength(1);
    const failed = events.filter((e) => e.event === 'ItemFailed').map((e) => e.payload.retry);
    expect(failed).toEqual([{ attempt: 2, nextDelayMs: 2000 }, null]);
  });

  it('should answer a health-check ping without running any item', async () => {
    const { functionError, body } = await cloud.invoke({ agentplaneHealthCheck: true, agentId: 'diagnostics.delay' });
    expect(functionError).toBeUndefined();
    expect(body).toMatchObject({ healthy: true, agentId: 'diagnostics.delay' });
  });
});
