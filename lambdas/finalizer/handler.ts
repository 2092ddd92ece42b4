import type { EventBridgeEvent } from 'aws-lambda';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { dynamo } from '../shared/aws/clients';
import { requiredEnv } from '../shared/aws/env';
import { logger } from '../shared/observability/logger';

const runsTable = requiredEnv('RUNS_TABLE');

interface ExecutionStatusChange {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  error?: string | null;
  cause?: string | null;
  stopDate?: number | null;
}

/**
 * Records the final execution status on the run (the execution is named after the run). The runs issue adds
 * the summary, cleanup and events on top of this.
 */
export const handler = async (event: EventBridgeEvent<'Step Functions Execution Status Change', ExecutionStatusChange>): Promise<void> => {
  const { name, status, executionArn, error, cause } = event.detail;
  logger.info('execution status change', { executionArn, status });
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: runsTable,
        Key: { pk: `RUN#${name}`, sk: 'META' },
        UpdateExpression: 'SET executionStatus = :s, executionError = :e, executionCause = :c, executionEndedAt = :t',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':s': status, ':e': error ?? null, ':c': cause ?? null, ':t': event.time },
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) {
      logger.warn('execution of an unknown run', { name });
      return;
    }
    throw err;
  }
};
