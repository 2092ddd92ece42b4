import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { QueryCommand, DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent, Context, DynamoDBBatchResponse } from 'aws-lambda';
import { dynamo } from '../shared/aws/clients';
import { requiredEnv } from '../shared/aws/env';
import { logger } from '../shared/observability/logger';

const connectionsTable = requiredEnv('CONNECTIONS_TABLE');
const management = new ApiGatewayManagementApiClient({ endpoint: requiredEnv('WEBSOCKET_CALLBACK_URL') });
// Sequential: records of one run must reach each connection in seq order.
const processor = new BatchProcessor(EventType.DynamoDBStreams);

async function subscribersOf(runId: string): Promise<Array<{ pk: string; sk: string; connectionId: string }>> {
  const out: Array<{ pk: string; sk: string; connectionId: string }> = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo().send(
      new QueryCommand({
        TableName: connectionsTable,
        IndexName: 'byRun',
        KeyConditionExpression: 'runId = :r',
        ExpressionAttributeValues: { ':r': runId },
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) out.push(item as { pk: string; sk: string; connectionId: string });
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}

async function recordHandler(record: DynamoDBRecord): Promise<void> {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return;
  const event = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  const frame = JSON.stringify({ type: 'event', runId: event.runId, seq: event.seq, event: event.event, at: event.at, payload: event.payload });
  const subscribers = await subscribersOf(String(event.runId));
  await Promise.all(
    subscribers.map(async (sub) => {
      try {
        await management.send(new PostToConnectionCommand({ ConnectionId: sub.connectionId, Data: Buffer.from(frame) }));
      } catch (error) {
        if (error instanceof GoneException || (error as { name?: string }).name === 'GoneException') {
          await dynamo().send(new DeleteCommand({ TableName: connectionsTable, Key: { pk: sub.pk, sk: sub.sk } }));
          return;
        }
        throw error;
      }
    }),
  );
}

export const handler = async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
  logger.debug('batch', { records: event.Records.length });
  return processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });
};
