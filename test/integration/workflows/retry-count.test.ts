import { describe, expect, it } from 'vitest';
import { createRun, putInputs, register, runEvents, runRecord, start, waitForEnd } from './support';

const unique = (name: string) => `${name}-${Date.now().toString(36)}`;

describe('Engine: attempts of an agent on the local cloud', () => {
  describe('Method: an agent failing twice with a retryable error, then succeeding', () => {
    it('should give the agent attempts 1, 2, 3 (from $$.State.RetryCount) and succeed every item', async () => {
      // The attempt is `States.MathAdd($$.State.RetryCount, 1)` in the compiled ASL; the agent fails retryably while
      // attempt <= 2. With a RetryCount stuck at 0 it would see attempt 1 every time and the items would fail.
      const id = unique('engine-attempts');
      const wf = await register({
        id,
        steps: [
          {
            id: 'flaky',
            capability: { skill: 'diagnostics.delay' },
            forEach: 'inputs',
            retry: { maxAttempts: 2, intervalSeconds: 1, backoffRate: 1, jitter: false },
            config: { retryableAttempts: 2 },
          },
        ],
      });
      const runId = await createRun();
      await putInputs(runId, 2);
      const end = await waitForEnd(await start(wf.stateMachineVersionArn, runId, id, wf.version), 90_000);
      expect(end).toEqual({ status: 'SUCCEEDED' });

      const record = await runRecord(runId);
      expect(record?.steps.flaky).toMatchObject({ status: 'succeeded', totalItems: 2, succeeded: 2, failed: 0 });

      const events = (await runEvents(runId)).filter((e) => (e.payload as { stepId?: string }).stepId === 'flaky');
      const items = [...new Set(events.filter((e) => e.event === 'ItemStarted').map((e) => (e.payload as { item: string }).item))];
      expect(items).toHaveLength(2);
      for (const item of items) {
        const mine = events.filter((e) => (e.payload as { item?: string }).item === item);
        expect(mine.filter((e) => e.event === 'ItemStarted').map((e) => (e.payload as { attempt: number }).attempt)).toEqual([1, 2, 3]);
        // The first two attempts fail and announce a retry; the third, the step's last, completes.
        const failed = mine.filter((e) => e.event === 'ItemFailed').map((e) => e.payload as { retry: { attempt: number } | null });
        expect(failed.map((p) => p.retry?.attempt)).toEqual([2, 3]);
        expect(mine.filter((e) => e.event === 'ItemCompleted')).toHaveLength(1);
      }
    }, 120_000);
  });
});
