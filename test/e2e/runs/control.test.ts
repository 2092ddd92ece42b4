import { describe, expect, it } from 'vitest';
import type { RunBody } from '../../support/api';
import type { StepState } from '../../../lambdas/core/runs/model';
import { command, events, getRun, fanOutWorkflow, inFlightTimeline, inputs, registerWorkflow, snapshot, startRun, unique, waitFor, waitForEvent, waitForStatus, workspace, type RunEvent } from './support';

const count = (list: RunEvent[], name: string) => list.filter((e) => e.event === name).length;

async function startFanOut(name: string, items: number, config: Record<string, unknown>, step: Record<string, unknown>) {
  const wf = await registerWorkflow(fanOutWorkflow(unique(name), config, step));
  const res = await startRun({ workflowId: wf.id, inputs: inputs(items) });
  expect(res.status).toBe(202);
  return res.body.runId;
}

async function waitForCompleted(runId: string, n: number, timeoutMs: number) {
  return waitFor(`${n} items of ${runId} completed`, async () => ((await events(runId)).filter((e) => e.event === 'ItemCompleted').length >= n ? true : undefined), timeoutMs, 300);
}

describe('Runs API: control', () => {
  describe('Method: pause and resume', () => {
    it('should start no item after the pause completes, and finish every item exactly once after resume', async () => {
      const runId = await startFanOut('runs-pause', 300, { delayMs: 50 }, { maxConcurrency: 10 });
      await waitForCompleted(runId, 20, 90_000);
      const paused = await command(runId, { type: 'pause' }, { key: unique('pause') });
      expect(paused.status).toBe(202);
      expect(['PAUSING', 'PAUSED']).toContain(paused.body.status);
      await waitForStatus(runId, ['PAUSED'], 30_000);
      const pausedEvent = await waitForEvent(runId, 'RunPaused', 5_000);
      // Quiet for a while: nothing starts while paused.
      await new Promise((r) => setTimeout(r, 1_500));
      const during = await events(runId);
      expect(during.filter((e) => e.event === 'ItemStarted' && e.seq > pausedEvent.seq)).toEqual([]);
      expect(inFlightTimeline(during).find((t) => t.seq === pausedEvent.seq)!.inFlight).toBe(0);
      const done = count(during, 'ItemCompleted');
      expect(done).toBeLessThan(300);
      // The run's view is current mid-step: counts so far, nothing in flight.
      const view = (await getRun(runId)).body;
      expect(view.steps.work).toMatchObject({ totalItems: 300, succeeded: done, failed: 0 });
      expect(view.summary).toMatchObject({ totalItems: 300, successCount: done });
      expect(view.inFlight).toBe(0);

      const again = await command(runId, { type: 'pause' });
      expect(again.status).toBe(202);
      const resumed = await command(runId, { type: 'resume' });
      expect(resumed.status).toBe(202);
      const run = await waitForStatus(runId, ['SUCCEEDED'], 180_000);
      expect(run.steps.work).toMatchObject({ totalItems: 300, succeeded: 300, failed: 0 });
      const all = await events(runId);
      const completed = all.filter((e) => e.event === 'ItemCompleted').map((e) => e.payload.item);
      const started = all.filter((e) => e.event === 'ItemStarted').map((e) => e.payload.item);
      expect(new Set(completed).size).toBe(300);
      expect(completed).toHaveLength(300);
      expect(started).toHaveLength(300);
      expect(count(all, 'RunResumed')).toBe(1);
      expect(count(all, 'RunPaused')).toBe(1);
    });
  });

  describe('Method: setConcurrency', () => {
    it('should never run more than 2 items at once once the items in flight at the command have settled', async () => {
      const runId = await startFanOut('runs-conc', 80, { delayMs: 300 }, { maxConcurrency: 20 });
      await waitFor('20 items in flight', async () => (Math.max(0, ...inFlightTimeline(await events(runId)).map((t) => t.inFlight)) >= 10 ? true : undefined), 90_000, 300);
      const res = await command(runId, { type: 'setConcurrency', maxConcurrency: 2 });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ maxConcurrency: 2 });
      expect(res.body.inFlight).toBeGreaterThan(2);
      const run = await waitForStatus(runId, ['SUCCEEDED'], 180_000);
      expect(run.limits.maxConcurrency).toBe(2);
      const all = await events(runId);
      const changed = all.find((e) => e.event === 'ConcurrencyChanged')!;
      // The items admitted before the command (`inFlight` leases) finish, and some report ItemStarted only later, so
      // the limit holds from some point on, not at once: from the last moment more than 2 items were in flight, every
      // item that starts must run with at most one other. Without the limit, about 20 would stay in flight to the end.
      const timeline = inFlightTimeline(all).filter((t) => t.seq > changed.seq);
      const lastOver = timeline.map((t) => t.inFlight > 2).lastIndexOf(true);
      expect(lastOver).toBeGreaterThanOrEqual(0);
      const startedUnderLimit = timeline.slice(lastOver + 1).filter((t) => t.event === 'ItemStarted').length;
      expect(startedUnderLimit).toBeGreaterThan(20);
      expect(run.steps.work).toMatchObject({ totalItems: 80, succeeded: 80 });
    });
  });

  describe('Method: cancel', () => {
    it('should emit RunCancelled with a receipt once every item settled, then write nothing, with temp/ empty', async () => {
      const runId = await startFanOut('runs-cancel', 200, { delayMs: 200 }, { maxConcurrency: 10 });
      await waitForCompleted(runId, 15, 90_000);
      const res = await command(runId, { type: 'cancel', reason: 'test' }, { key: unique('cancel') });
      expect(res.status).toBe(202);
      const cancelled = await waitForEvent(runId, 'RunCancelled', 60_000);
      const run = await waitForStatus(runId, ['CANCELLED'], 5_000);
      const { itemsDone, itemsAbandoned } = cancelled.payload.receipt;
      expect(itemsDone).toBeGreaterThanOrEqual(15);
      expect(itemsDone + itemsAbandoned).toBe(200);
      expect(run.cancel).toMatchObject({ reason: 'test', receipt: { itemsDone, itemsAbandoned } });
      const before = await snapshot(runId);
      expect(before.filter((k) => k.startsWith('temp/'))).toEqual([]);
      expect(before.some((k) => k.startsWith('reports/summary.json'))).toBe(true);
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await snapshot(runId)).toEqual(before);
      const all = await events(runId);
      expect(all.filter((e) => e.seq > cancelled.seq && e.event.startsWith('Item'))).toEqual([]);
      expect(all.at(-1)!.event).toBe('RunCancelled');
      const outputs = (await workspace(runId, 'outputs')).length;
      expect(outputs).toBe(count(all, 'ItemCompleted'));
      // Commands on a finished run are refused.
      for (const type of ['pause', 'resume', 'cancel']) expect((await command(runId, { type })).status).toBe(409);
      expect((await command(runId, { type: 'setConcurrency', maxConcurrency: 3 })).status).toBe(409);
    });

    it('should cancel a run that never started', async () => {
      const wf = await registerWorkflow(fanOutWorkflow(unique('runs-cancel-q')));
      const queued = await startRun({ workflowId: wf.id, inputs: inputs(2), start: false });
      const res = await command(queued.body.runId, { type: 'cancel' });
      expect(res.status).toBe(202);
      const ev = await waitForEvent(queued.body.runId, 'RunCancelled', 10_000);
      expect(ev.payload.receipt).toEqual({ itemsDone: 0, itemsAbandoned: 0 });
      expect((await command(queued.body.runId, { type: 'start' })).status).toBe(409);
    });
  });

  describe('Method: failed runs', () => {
    it('should end a failed run with RunFailed, a report, an empty temp/ and nothing written after', async () => {
      const runId = await startFanOut('runs-fail', 12, { delayMs: 20, failPattern: 'item-000[0-2]' }, { retry: { maxAttempts: 0 }, maxConcurrency: 4 });
      const failed = await waitForEvent(runId, 'RunFailed', 90_000);
      const run = await waitForStatus(runId, ['FAILED'], 5_000);
      expect(run.steps.work).toMatchObject({ status: 'failed', failed: 3, succeeded: 9 });
      expect(run.error).toMatchObject({ type: expect.any(String) as unknown });
      expect(failed.payload.summary).toMatchObject({ totalItems: 12, failureCount: 3 });
      const before = await snapshot(runId);
      expect(before.filter((k) => k.startsWith('temp/'))).toEqual([]);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await snapshot(runId)).toEqual(before);
    });
  });
});

describe('Runs API: control between steps', () => {
  it('should cancel a run whose next step is held at its gate', async () => {
    const wf = await registerWorkflow({
      id: unique('runs-cancel-held'),
      steps: [
        { id: 'first', capability: { skill: 'diagnostics.delay' }, forEach: 'inputs', config: { delayMs: 1_000 } },
        { id: 'second', dependsOn: ['first'], capability: { skill: 'diagnostics.delay' } },
      ],
    });
    const runId = (await startRun({ workflowId: wf.id, inputs: inputs(2) })).body.runId;
    await waitForEvent(runId, 'ItemStarted', 60_000);
    expect((await command(runId, { type: 'pause' })).status).toBe(202);
    await waitForStatus(runId, ['PAUSED'], 30_000);
    await waitFor('the second step held', async () => ((await getRunSteps(runId)).second?.status === 'paused' ? true : undefined), 15_000);
    expect((await command(runId, { type: 'cancel' })).status).toBe(202);
    const cancelled = await waitForEvent(runId, 'RunCancelled', 30_000);
    expect(cancelled.payload.receipt).toEqual({ itemsDone: 2, itemsAbandoned: 0 });
    const run = await waitForStatus(runId, ['CANCELLED'], 5_000);
    expect(run.steps.second.status).not.toBe('succeeded');
    expect((await events(runId)).some((e) => e.event === 'StepStarted' && e.payload.stepId === 'second')).toBe(false);
  });

  it('should hold the next step at its gate while paused and run it once on resume', async () => {
    const wf = await registerWorkflow({
      id: unique('runs-pause-step'),
      steps: [
        { id: 'first', capability: { skill: 'diagnostics.delay' }, forEach: 'inputs', config: { delayMs: 1_500 } },
        { id: 'second', dependsOn: ['first'], capability: { skill: 'diagnostics.delay' }, config: { delayMs: 10 } },
      ],
    });
    const runId = (await startRun({ workflowId: wf.id, inputs: inputs(2) })).body.runId;
    await waitForEvent(runId, 'ItemStarted', 60_000);
    expect((await command(runId, { type: 'pause' })).status).toBe(202);
    await waitForStatus(runId, ['PAUSED'], 30_000);
    // PAUSED once no item is in flight; the first step's reporter records its end just after.
    await waitFor('the first step recorded', async () => ((await getRunSteps(runId)).first?.status === 'succeeded' ? true : undefined), 15_000);
    await waitFor('the second step held', async () => ((await getRunSteps(runId)).second?.status === 'paused' ? true : undefined), 15_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await events(runId)).some((e) => e.event === 'StepStarted' && e.payload.stepId === 'second')).toBe(false);
    expect((await command(runId, { type: 'resume' })).status).toBe(202);
    const run = await waitForStatus(runId, ['SUCCEEDED'], 60_000);
    expect(run.steps.second).toMatchObject({ status: 'succeeded', totalItems: 1, succeeded: 1 });
    expect((await events(runId)).filter((e) => e.event === 'StepStarted' && e.payload.stepId === 'second')).toHaveLength(1);
  });
});

async function getRunSteps(runId: string): Promise<Partial<Record<string, StepState>>> {
  const { getRun } = await import('./support');
  // A step is there once the engine reached it; the body is read as the cloud may send it.
  return ((await getRun(runId)).body as Partial<RunBody>).steps ?? {};
}
