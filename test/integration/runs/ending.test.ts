import { describe, expect, it } from 'vitest';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { docClient, listKeys, runRecord, tableName } from '../workflows/support';
import { events, fanOutWorkflow, inputs, registerWorkflow, snapshot, startRun, unique, waitFor, waitForEvent, waitForStatus } from '../../e2e/runs/support';
import { invoke } from './support';

/** What the sweeper answers: the outcome per run it looked at. */
interface SweepResult {
  outcomes: Record<string, string | undefined>;
}
const sweep = (payload: Record<string, unknown>) => invoke<SweepResult>('RunsSweeper', payload);
import { liveShardOf } from '../../../lambdas/aws/run-store';

describe('Runs: ending, repair and retention on the local cloud', () => {
  describe('Method: a timed-out item', () => {
    it('should hold the run end until the timed-out invocation can no longer write, then end it with nothing written after', async () => {
      const wf = await registerWorkflow(fanOutWorkflow(unique('runs-timeout'), { delayMs: 3_000 }, { timeoutSeconds: 2, retry: { maxAttempts: 0 } }));
      const res = await startRun({ workflowId: wf.id, inputs: inputs(1) });
      const runId = res.body.runId;
      // The execution fails at the timeout; the run waits for the invocation Step Functions gave up on.
      await waitFor('execution end recorded', async () => ((await runRecord(runId))?.execution ? true : undefined), 60_000, 200);
      const waiting = await runRecord(runId);
      expect(waiting!.execution!.status).toBe('FAILED');
      expect(waiting!.status).toBe('FINALIZING');
      expect((await events(runId)).some((e) => e.event === 'RunFailed')).toBe(false);
      // The late write of the timed-out agent lands while the run is still finishing.
      await waitFor('late output', async () => ((await listKeys(`runs/${runId}/outputs/`)).length > 0 ? true : undefined), 10_000, 200);
      // After its slot's hold (one more timeout) the sweep ends the run: nothing else would notice an expiry.
      await waitFor(
        'the sweep to complete the run',
        async () => {
          const out = await sweep({ runIds: [runId], graceSeconds: 0 });
          return out.outcomes[runId] === 'completed' ? true : undefined;
        },
        30_000,
        1_000,
      );
      const failed = await waitForEvent(runId, 'RunFailed', 5_000);
      expect(failed.payload.error.type).toBe('Agentplane.StepFailed');
      const run = await waitForStatus(runId, ['FAILED'], 5_000);
      expect(run.steps.work.status).toBe('failed');
      const before = await snapshot(runId);
      expect(before.filter((k) => k.startsWith('temp/'))).toEqual([]);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await snapshot(runId)).toEqual(before);
    });
  });

  describe('Method: the reconciliation sweep', () => {
    it('should finalize a run whose execution status event was lost', async () => {
      const wf = await registerWorkflow(fanOutWorkflow(unique('runs-sweep')));
      const runId = (await startRun({ workflowId: wf.id, inputs: inputs(2) })).body.runId;
      await waitForStatus(runId, ['SUCCEEDED'], 60_000);
      // Make it look as if the finalizer never heard of the end.
      await docClient().send(
        new UpdateCommand({
          TableName: tableName('TablesRuns'),
          Key: { pk: `RUN#${runId}`, sk: 'META' },
          UpdateExpression: 'SET #s = :r REMOVE execution, endedAt, finalEvent',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':r': 'RUNNING' },
        }),
      );
      await docClient().send(new UpdateCommand({ TableName: tableName('TablesRuns'), Key: { pk: `RUN#${runId}`, sk: 'CONTROL' }, UpdateExpression: 'SET closed = :f', ExpressionAttributeValues: { ':f': false } }));
      await docClient().send(
        new UpdateCommand({ TableName: tableName('TablesRuns'), Key: { pk: liveShardOf(runId), sk: runId }, UpdateExpression: 'SET runId = :r, since = :s', ExpressionAttributeValues: { ':r': runId, ':s': new Date().toISOString() } }),
      );
      const young = await sweep({ runIds: [runId] });
      expect(young.outcomes[runId]).toBe('young');
      const out = await sweep({ graceSeconds: 0 });
      expect(out.outcomes[runId]).toBe('finalized');
      const run = await waitForStatus(runId, ['SUCCEEDED'], 5_000);
      expect(run.summary.successCount).toBe(2);
      expect((await sweep({ graceSeconds: 0 })).outcomes[runId]).toBeUndefined();
    });
  });

  describe('Method: retention', () => {
    it('should delete the whole workspace prefix when the run record expires, and only then', { timeout: 300_000 }, async () => {
      const wf = await registerWorkflow(fanOutWorkflow(unique('runs-ttl')));
      const kept = (await startRun({ workflowId: wf.id, inputs: inputs(3), start: false })).body.runId;
      const expiring = (await startRun({ workflowId: wf.id, inputs: inputs(3), start: false })).body.runId;
      expect((await listKeys(`runs/${expiring}/`)).length).toBeGreaterThan(3);
      // A deliberate delete is not an expiry: the workspace stays.
      await docClient().send(new DeleteCommand({ TableName: tableName('TablesRuns'), Key: { pk: `RUN#${kept}`, sk: 'META' } }));
      await docClient().send(
        new UpdateCommand({
          TableName: tableName('TablesRuns'),
          Key: { pk: `RUN#${expiring}`, sk: 'META' },
          UpdateExpression: 'SET expiresAt = :past',
          ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 60 },
        }),
      );
      // DynamoDB Local's TTL sweep takes from about 2 s on an empty table to minutes on a busy one.
      await waitFor('the expired run workspace to be deleted', async () => ((await listKeys(`runs/${expiring}/`)).length === 0 ? true : undefined), 240_000, 1_000);
      expect((await listKeys(`runs/${kept}/`)).length).toBeGreaterThan(3);
    });
  });
});
