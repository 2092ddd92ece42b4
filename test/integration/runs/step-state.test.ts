import { describe, expect, it } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { StepStateStore, runKey } from '../../../lambdas/aws/step-state';
import { docClient, runRecord, tableName } from '../workflows/support';
import { unique } from '../../e2e/runs/support';

describe('Class: StepStateStore (DynamoDB Local)', () => {
  describe('Method: countFallbacks', () => {
    it('should count concurrent moves per agent exactly, creating the map once, and never create a step', async () => {
      const table = tableName('TablesRuns');
      const store = new StepStateStore(table, docClient());
      const runId = unique('steps');
      await docClient().send(new PutCommand({ TableName: table, Item: { ...runKey(runId), runId, steps: {} } }));
      await store.merge(runId, 'translate', { status: 'running', agentId: 'a' });

      await Promise.all(Array.from({ length: 30 }, (_, i) => store.countFallbacks(runId, 'translate', i % 3 === 0 ? 'c' : 'b', 1 + (i % 2))));
      await store.merge(runId, 'translate', { status: 'succeeded' });

      const steps = (await runRecord(runId))!.steps;
      // i % 3 === 0 → c: i = 0, 3, …, 27 (10 moves; odd i add 2); the other 20 → b.
      const expected = { b: 0, c: 0 };
      for (let i = 0; i < 30; i++) expected[i % 3 === 0 ? 'c' : 'b'] += 1 + (i % 2);
      expect(steps.translate).toEqual({ status: 'succeeded', agentId: 'a', fallbacks: expected });
      await expect(store.countFallbacks(runId, 'other', 'b', 1)).rejects.toMatchObject({ name: 'Agentplane.RunNotFound', message: `run ${runId} has no step other` });
      expect((await runRecord(runId))!.steps).not.toHaveProperty('other');
    });
  });
});
