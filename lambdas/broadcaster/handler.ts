import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { requiredEnv } from '../aws/env';
import { ConnectionStore } from '../aws/connections';
import { COUNTER_SEQ, EventStore, fromItem, type StoredEvent } from '../aws/event-store';
import { BroadcastBatch, SubscriptionStore, type DeliveryDeps } from '../aws/events-subscriptions';
import { managementPoster } from '../aws/events-poster';
import { encodeEventFrame } from '../core/events/frames';
import { logger } from '../edge/observability/logger';
import { faultOf, InjectedFailureError } from './fault-injection';

const connectionsTable = requiredEnv('CONNECTIONS_TABLE');
const connections = new ConnectionStore(connectionsTable);
const deps: DeliveryDeps = {
  store: new EventStore({ tableName: requiredEnv('EVENTS_TABLE') }),
  subscriptions: new SubscriptionStore(connectionsTable),
  poster: managementPoster(requiredEnv('WEBSOCKET_CALLBACK_URL')),
  encode: (event) => encodeEventFrame(event),
  onGone: async (connectionId) => {
    // A 410 connection is closed for good: drop it and every subscription it had.
    await connections.remove(connectionId);
    logger.info('connection gone', { connectionId });
  },
};
// Sequential: a run's records must reach each connection in seq order.
const processor = new BatchProcessor(EventType.DynamoDBStreams);

/** The event a stream record carries, or undefined for what is not an event (the counter item, REMOVEs). */
export function eventOf(record: DynamoDBRecord): StoredEvent | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  if (typeof item.seq !== 'number' || item.seq === COUNTER_SEQ || typeof item.event !== 'string') return undefined;
  return fromItem(item);
}

export const handler = async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
  const events = event.Records.map(eventOf).filter((e): e is StoredEvent => e !== undefined);
  const batch = new BroadcastBatch(deps, events);
  const recordHandler = async (record: DynamoDBRecord) => {
    const stored = eventOf(record);
    if (!stored) return;
    const fault = faultOf(stored);
    if (fault) logger.warn('injected failure', { runId: stored.runId, seq: stored.seq, stage: fault.stage });
    if (fault?.stage === 'before') throw new InjectedFailureError(`injected failure before ${stored.runId}#${stored.seq}`);
    await batch.deliver(stored, { onlyFirst: fault?.stage === 'midway' });
    if (fault) throw new InjectedFailureError(`injected failure midway through ${stored.runId}#${stored.seq}`);
  };
  try {
    return await processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });
  } finally {
    const failures = await batch.commit();
    if (failures.length > 0) logger.warn('could not record delivery progress', { failures: failures.map(String) });
  }
};
