import { describe, expect, it } from 'vitest';
import { ledgerAdds, parseLedger } from '../../../lambdas/core/runs/spend';
import { admitItem, admitStep, type ControlDeps, cancelRun, pauseRun, releaseItem, resumeRun, setConcurrency, tallyOf, CANCELLED_ERROR } from '../../../lambdas/core/runs/control';
import { liveTally } from '../../../lambdas/core/runs/control-record';
import { executionEnded } from '../../../lambdas/core/runs/finalize';
import { fakeDeps, MemoryStore } from './fakes';

const admit = (deps: ControlDeps, token: string, runId = 'r1') => admitItem(deps, { taskToken: token, runId, stepId: 's', leaseSeconds: 60 });

describe('Module: run control', () => {
  describe('Method: admitItem / releaseItem', () => {
    it('should admit up to the run limit, park the rest, and hand each freed slot to the oldest waiter', async () => {
      const store = new MemoryStore();
      store.seed({ runId: 'r1' }, { maxSlots: 2 });
      const { deps, rec } = fakeDeps(store);
      expect(await admit(deps, 't1')).toBe('admitted');
      expect(await admit(deps, 't2')).toBe('admitted');
      expect(await admit(deps, 't3')).toBe('parked');
      expect(await admit(deps, 't4')).toBe('parked');
      expect(rec.successes.map((s) => s.token)).toEqual(['t1', 't2']);
      await releaseItem(deps, { runId: 'r1', leaseId: rec.successes[0].output.leaseId, items: 1 });
      expect(rec.successes.map((s) => s.token)).toEqual(['t1', 't2', 't3']);
      expect(store.liveLeases((await store.control('r1'))!)).toHaveLength(2);
      // A retried release changes nothing.
      await releaseItem(deps, { runId: 'r1', leaseId: rec.successes[0].output.leaseId, items: 1 });
      expect(rec.successes).toHaveLength(3);
      expect((await store.control('r1'))!.settled).toBe(1);
    });

    it('should fail an item of a cancelled run at once and admit items of runs without a control item', async () => {
      const store = new MemoryStore();
      store.seed({ runId: 'r1' }, { closed: true });
      const { deps, rec } = fakeDeps(store);
      expect(await admit(deps, 't1')).toBe('cancelled');
      expect(rec.failures).toEqual([{ token: 't1', error: CANCELLED_ERROR }]);
      expect(await admit(deps, 't2', 'engine-test-run')).toBe('admitted');
      expect(rec.successes[0].output).toEqual({ leaseId: 'none' });
      await releaseItem(deps, { runId: 'engine-test-run', leaseId: 'none', items: 1 });
    });

    it('should keep a timed-out item slot for one more timeout, then let the next item have it', async () => {
      const store = new MemoryStore();
      store.seed({ runId: 'r1' }, { maxSlots: 1 });
      const { deps, rec } = fakeDeps(store);
      await admit(deps, 't1');
      await admit(deps, 't2');
      await releaseItem(deps, { runId: 'r1', leaseId: rec.successes[0].output.leaseId, items: 1, error: 'States.Timeout', timeoutSeconds: 10 });
      expect(rec.successes.map((s) => s.token)).toEqual(['t1']);
      store.now += 11_000;
      const { sweepRun } = await import('../../../lambdas/core/runs/sweep');
      await sweepRun(deps, 'r1', { graceMs: 60_000, describe: async () => ({ status: 'RUNNING', error: null, cause: null }) });
      expect(rec.successes.map((s) => s.token)).toEqual(['t1', 't2']);
    });
  });

  describe('Method: tallyOf', () => {
    it('should count a step settled items from the results, or all of them failed on the failure path', async () => {
      const results = [
        { status: 'succeeded', metrics: { tokensUsed: 5, costUsd: 0.01 } },
        { status: 'failed', metrics: { tokensUsed: 2, costUsd: 0 } },
      ];
      expect(tallyOf({ items: 2, results })).toEqual({ succeeded: 1, failed: 1, tokens: 7, costUsd: 0.01 });
      expect(tallyOf({ items: 3, error: 'Agentplane.Fatal' })).toEqual({ succeeded: 0, failed: 3, tokens: 0, costUsd: 0 });
      // Results whose spend the runtime put in the run's ledger count as items, not as spend (no double count).
      const recorded = results.map((r) => ({ ...r, spendRecorded: true }));
      expect(tallyOf({ items: 2, results: recorded })).toEqual({ succeeded: 1, failed: 1, tokens: 0, costUsd: 0 });
      const store = new MemoryStore();
      store.seed({ runId: 'r1' });
      const { deps, rec } = fakeDeps(store);
      await admit(deps, 't1');
      await releaseItem(deps, { runId: 'r1', stepId: 's', leaseId: rec.successes[0].output.leaseId, items: 2, results });
      expect(liveTally(await store.control('r1'), 's')).toEqual({ succeeded: 1, failed: 1, tokens: 7, costUsd: 0.01 });
      expect(liveTally(await store.control('r1'), 'other')).toBeUndefined();
    });
  });

  describe('Method: pauseRun / resumeRun', () => {
    it('should be PAUSING while items are in flight, PAUSED when the last settles, and wake everything on resume', async () => {
      const store = new MemoryStore();
      const run = store.seed({ runId: 'r1' }, { maxSlots: 5 });
      const { deps, rec } = fakeDeps(store);
      await admit(deps, 't1');
      const paused = await pauseRun(deps, run);
      expect(paused.status).toBe('PAUSING');
      expect(await admit(deps, 't2')).toBe('parked');
      expect(await admitStep(deps, { taskToken: 'step', runId: 'r1', stepId: 'next', fanOut: false, event: { taskToken: 'step', stepId: 'next' } })).toEqual({ admit: false, reason: 'paused' });
      await releaseItem(deps, { runId: 'r1', leaseId: rec.successes[0].output.leaseId, items: 1 });
      expect((await store.get('r1'))!.status).toBe('PAUSED');
      expect(rec.events.map((e) => e.event)).toEqual(['RunPaused']);
      const resumed = await resumeRun(deps, (await store.get('r1'))!);
      expect(resumed.status).toBe('RUNNING');
      expect(rec.resumed).toEqual([{ taskToken: 'step', stepId: 'next' }]);
      expect(rec.successes.map((s) => s.token)).toEqual(['t1', 't2']);
      expect(rec.events.map((e) => e.event)).toEqual(['RunPaused', 'RunResumed']);
      expect(await store.parked('r1')).toEqual([]);
    });

    it('should be PAUSED at once with nothing in flight, and a second pause or resume changes nothing', async () => {
      const store = new MemoryStore();
      const run = store.seed({ runId: 'r1' });
      const { deps, rec } = fakeDeps(store);
      expect((await pauseRun(deps, run)).status).toBe('PAUSED');
      expect((await pauseRun(deps, (await store.get('r1'))!)).status).toBe('PAUSED');
      await resumeRun(deps, (await store.get('r1'))!);
      expect((await resumeRun(deps, (await store.get('r1'))!)).status).toBe('RUNNING');
      expect(rec.events.map((e) => e.event)).toEqual(['RunPaused', 'RunResumed']);
    });
  });

  describe('Method: setConcurrency', () => {
    it('should refuse slots above a lowered limit at once and give waiters the room of a raised one', async () => {
      const store = new MemoryStore();
      const run = store.seed({ runId: 'r1' }, { maxSlots: 4 });
      const { deps, rec } = fakeDeps(store);
      for (const t of ['a', 'b', 'c']) await admit(deps, t);
      await setConcurrency(deps, run, 1);
      expect(await admit(deps, 'd')).toBe('parked');
      await releaseItem(deps, { runId: 'r1', leaseId: rec.successes[0].output.leaseId, items: 1 });
      expect(rec.successes).toHaveLength(3);
      const raised = await setConcurrency(deps, (await store.get('r1'))!, 10);
      expect(raised).toMatchObject({ maxConcurrency: 10 });
      expect(rec.successes.map((s) => s.token)).toEqual(['a', 'b', 'c', 'd']);
      expect(rec.events.filter((e) => e.event === 'ConcurrencyChanged').map((e) => e.payload)).toEqual([{ maxConcurrency: 1 }, { maxConcurrency: 10, previous: 1 }]);
    });

    it('should cap a fan-out step Map concurrency by the run limit at the gate', async () => {
      const store = new MemoryStore();
      store.seed({ runId: 'r1' }, { maxSlots: 3 });
      const { deps } = fakeDeps(store);
      expect(await admitStep(deps, { taskToken: 'x', runId: 'r1', stepId: 's', fanOut: true, maxConcurrency: 20, event: {} })).toEqual({ admit: true, maxConcurrency: 3 });
      expect(await admitStep(deps, { taskToken: 'x', runId: 'r1', stepId: 's', fanOut: true, event: {} })).toEqual({ admit: true, maxConcurrency: 3 });
    });
  });

  describe('Method: cancelRun', () => {
    it('should close admission, fail parked tokens, stop the execution once in-flight items settled, then emit the receipt', async () => {
      const store = new MemoryStore();
      const run = store.seed({ runId: 'r1', steps: { s: { status: 'running', totalItems: 10 } } }, { maxSlots: 2 });
      const { deps, rec } = fakeDeps(store);
      await admit(deps, 'a');
      await admit(deps, 'b');
      await admit(deps, 'c');
      const res = await cancelRun(deps, run, 'enough');
      expect(res.status).toBe('CANCELLING');
      expect(rec.failures.map((f) => f.token)).toEqual(['c']);
      expect(rec.stopped).toEqual([]);
      expect((await store.get('r1'))!.epoch).toBe(1);
      expect((await store.control('r1'))!.epoch).toBe(1);
      expect(await admit(deps, 'd')).toBe('cancelled');
      await releaseItem(deps, { runId: 'r1', leaseId: rec.successes[0].output.leaseId, items: 1 });
      expect(rec.stopped).toEqual([]);
      await releaseItem(deps, { runId: 'r1', leaseId: rec.successes[1].output.leaseId, items: 1 });
      expect(rec.stopped).toEqual(['arn:exec:r1']);
      // The execution's ABORTED status reaches the finalizer.
      expect(await executionEnded(deps, 'r1', { status: 'ABORTED', endedAt: new Date(store.now).toISOString() })).toBe('completed');
      const ended = (await store.get('r1'))!;
      expect(ended.status).toBe('CANCELLED');
      expect(ended.cancel).toMatchObject({ reason: 'enough', receipt: { itemsDone: 2, itemsAbandoned: 8 } });
      expect(rec.events.at(-1)).toMatchObject({ event: 'RunCancelled', payload: { reason: 'enough', receipt: { itemsDone: 2, itemsAbandoned: 8 } } });
      expect(rec.deleted).toEqual(['runs/r1/temp/']);
      expect(rec.written['runs/r1/reports/summary.json']).toMatchObject({ status: 'CANCELLED' });
      // A second delivery changes nothing.
      expect(await executionEnded(deps, 'r1', { status: 'ABORTED', endedAt: 'x' })).toBe('ignored');
      expect(rec.events.filter((e) => e.event === 'RunCancelled')).toHaveLength(1);
    });

    it('should refuse the gate of a cancelled run and complete a queued run at once', async () => {
      const store = new MemoryStore();
      const run = store.seed({ runId: 'q', status: 'QUEUED', executionArn: undefined });
      const { deps, rec } = fakeDeps(store);
      await cancelRun(deps, run);
      expect((await store.get('q'))!.status).toBe('CANCELLED');
      expect(rec.events.map((e) => e.event)).toEqual(['RunCancelled']);
      expect(await admitStep(deps, { taskToken: 'g', runId: 'q', stepId: 's', fanOut: false, event: {} })).toEqual({ admit: false, reason: 'cancelled' });
      expect(rec.failures).toEqual([{ token: 'g', error: CANCELLED_ERROR }]);
    });
  });

  describe('Method: executionEnded', () => {
    it('should wait for in-flight items of a failed execution and complete when the last one settles', async () => {
      const store = new MemoryStore();
      store.seed({ runId: 'r1', steps: { s: { status: 'failed', totalItems: 3, succeeded: 1, failed: 2 } } });
      const { deps, rec } = fakeDeps(store);
      await admit(deps, 'a');
      expect(await executionEnded(deps, 'r1', { status: 'FAILED', error: 'Agentplane.StepFailed', cause: 'x', endedAt: new Date(store.now).toISOString() })).toBe('waiting');
      expect((await store.get('r1'))!.status).toBe('FINALIZING');
      expect(rec.events).toEqual([]);
      await releaseItem(deps, { runId: 'r1', leaseId: rec.successes[0].output.leaseId, items: 1 });
      const ended = (await store.get('r1'))!;
      expect(ended.status).toBe('FAILED');
      expect(ended.error).toEqual({ type: 'Agentplane.StepFailed', message: 'x' });
      expect(rec.events.map((e) => e.event)).toEqual(['RunFailed']);
      expect(rec.events[0].payload).toMatchObject({ stepId: 's', summary: { totalItems: 3, successCount: 1, failureCount: 2 } });
    });

    it('should end a timed-out execution as FAILED with its error, whatever arrives twice', async () => {
      const store = new MemoryStore();
      store.seed({ runId: 'r1' });
      const { deps, rec } = fakeDeps(store);
      const end = { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'execution timed out', endedAt: new Date(store.now).toISOString() };
      expect(await executionEnded(deps, 'r1', end)).toBe('completed');
      expect(await executionEnded(deps, 'r1', end)).toBe('ignored');
      expect((await store.get('r1'))!).toMatchObject({ status: 'FAILED', error: { type: 'States.Timeout', message: 'execution timed out' } });
      expect(rec.events.map((e) => e.event)).toEqual(['RunFailed']);
      expect(rec.deleted).toEqual(['runs/r1/temp/']);
    });

    it('should end a succeeded run with RunSucceeded and its summary from the step state', async () => {
      const store = new MemoryStore();
      store.seed({ runId: 'r1', startedAt: new Date(store.now - 5_000).toISOString(), steps: { a: { status: 'succeeded', totalItems: 2, succeeded: 2, tokens: 10, costUsd: 0.5 } } });
      const { deps, rec } = fakeDeps(store);
      await executionEnded(deps, 'r1', { status: 'SUCCEEDED', endedAt: new Date(store.now).toISOString() });
      expect(rec.events).toEqual([
        { runId: 'r1', event: 'RunSucceeded', payload: { summary: { totalItems: 2, successCount: 2, failureCount: 0, totalTokens: 10, totalCostUsd: 0.5, durationMs: 5_000 } } },
      ]);
    });

    it("should end a run with the ledger's spend: every attempt, also a cancelled step's whose reporter never ran", async () => {
      const store = new MemoryStore();
      store.seed({
        runId: 'r1',
        startedAt: new Date(store.now - 5_000).toISOString(),
        cancel: { requestedAt: new Date(store.now).toISOString() },
        status: 'CANCELLING',
        steps: {
          a: { status: 'succeeded', totalItems: 2, succeeded: 1, failed: 1, tokens: 120, costUsd: 0.0006 },
          b: { status: 'running', totalItems: 4, succeeded: 0, failed: 0, tokens: 0, costUsd: 0 },
        },
      });
      const { deps, rec } = fakeDeps(store);
      // Step a: its reporter saw one attempt's results; two more attempts failed and were retried. Step b never reported.
      const ledger = parseLedger(Object.fromEntries(ledgerAdds([
        { stepId: 'a', provider: 'openai', model: 'gpt-x', tokens: 360, costUsd: 0.0018 },
        { stepId: 'b', provider: 'offline', model: 'offline-deterministic-1', tokens: 50, costUsd: 0 },
      ])));
      deps.spend = async () => ledger;
      await executionEnded(deps, 'r1', { status: 'ABORTED', endedAt: new Date(store.now).toISOString() });
      const final = (await store.get('r1'))!;
      expect(final.status).toBe('CANCELLED');
      expect(final.summary).toMatchObject({ totalTokens: 410, totalCostUsd: 0.0018, providers: ['offline', 'openai'] });
      const report = rec.written['runs/r1/reports/summary.json'] as { summary: unknown; steps: Record<string, unknown> };
      expect(report.summary).toEqual(final.summary);
      expect(report.steps.b).toMatchObject({ status: 'running', tokens: 50, costUsd: 0, providers: ['offline'] });
    });
  });
});
