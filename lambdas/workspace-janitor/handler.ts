import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { requiredEnv } from '../aws/env';
import { WorkspaceStore } from '../aws/workspace-store';
import { runPrefix } from '../core/runs/keys';
import { logger } from '../edge/observability/logger';
import { present } from '../core/invariants';

const workspace = new WorkspaceStore(requiredEnv('WORKSPACE_BUCKET'));

/**
 * Retention: a run record's TTL delete (a REMOVE by the DynamoDB service on the runs table's stream, filtered
 * in the mapping) deletes the run's whole workspace prefix. Each record is reported on its own, so one prefix
 * that cannot be deleted is retried (bounded, bisected, then sent to the on-failure queue) without replaying
 * the others; deleting a prefix twice is harmless.
 */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const batchItemFailures: DynamoDBBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const keys: Partial<Record<string, { S?: string }>> = record.dynamodb?.Keys ?? {};
    const pk = keys.pk?.S;
    const sk = keys.sk?.S;
    if (record.eventName !== 'REMOVE' || sk !== 'META' || !pk?.startsWith('RUN#')) continue;
    // Only expiry, never a deliberate delete by a user of the table, removes a workspace.
    const identity = record.userIdentity as { type?: string; principalId?: string } | undefined;
    if (identity?.type !== 'Service' || identity.principalId !== 'dynamodb.amazonaws.com') continue;
    const runId = pk.slice('RUN#'.length);
    try {
      const deleted = await workspace.deletePrefix(runPrefix(runId));
      logger.info('expired run workspace deleted', { runId, deleted });
    } catch (error) {
      logger.error('could not delete an expired run workspace', { runId, error: String(error) });
      batchItemFailures.push({ itemIdentifier: present(record.dynamodb?.SequenceNumber, 'dynamodb.SequenceNumber') });
    }
  }
  return { batchItemFailures };
}
