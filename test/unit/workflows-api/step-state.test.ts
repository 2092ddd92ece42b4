import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { RunNotFoundError, StepStateStore } from '../../../lambdas/aws/step-state';

const ddb = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const conditionFailed = () => Object.assign(new Error('failed'), { name: 'ConditionalCheckFailedException' });

afterEach(() => ddb.reset());

describe('Class: StepStateStore', () => {
  describe('Method: merge', () => {
    it('should SET the fields on the nested step path when the step exists', async () => {
      ddb.on(UpdateCommand).resolves({});
      await new StepStateStore('runs', client).merge('r1', 'gen', { status: 'running', totalItems: 3 });
      const calls = ddb.commandCalls(UpdateCommand);
      expect(calls).toHaveLength(1);
      const input = calls[0].args[0].input;
      expect(input.Key).toEqual({ pk: 'RUN#r1', sk: 'META' });
      expect(input.UpdateExpression).toBe('SET #steps.#step.#f0 = :f0, #steps.#step.#f1 = :f1');
      expect(input.ExpressionAttributeNames).toMatchObject({ '#steps': 'steps', '#step': 'gen', '#f0': 'status', '#f1': 'totalItems' });
      expect(input.ConditionExpression).toBe('attribute_exists(#steps.#step)');
    });

    it('should create the steps map and then the step when the run has none yet', async () => {
      ddb
        .on(UpdateCommand)
        .rejectsOnce(conditionFailed()) // nested SET: no step
        .rejectsOnce(conditionFailed()) // whole step: no steps map
        .resolvesOnce({}) // steps map created
        .rejectsOnce(conditionFailed()) // nested SET: still no step
        .resolves({}); // whole step
      await new StepStateStore('runs', client).merge('r1', 'gen', { status: 'skipped' });
      const expressions = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input.UpdateExpression);
      expect(expressions).toEqual([
        'SET #steps.#step.#f0 = :f0',
        'SET #steps.#step = :step',
        'SET #steps = if_not_exists(#steps, :empty)',
        'SET #steps.#step.#f0 = :f0',
        'SET #steps.#step = :step',
      ]);
      expect(ddb.commandCalls(UpdateCommand)[2].args[0].input.ConditionExpression).toBe('attribute_exists(pk)');
    });

    it('should refuse to create a run record that does not exist', async () => {
      ddb.on(UpdateCommand).rejects(conditionFailed());
      await expect(new StepStateStore('runs', client).merge('ghost', 'gen', { status: 'running' })).rejects.toBeInstanceOf(RunNotFoundError);
    });
  });
});
