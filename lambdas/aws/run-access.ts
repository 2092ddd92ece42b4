import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './clients';
import { NotFoundError } from '../core/errors';
import type { RunSnapshot } from '../core/events/frames';

/**
 * Tenant-checked reads of a run's record (`{pk: RUN#<runId>, sk: META, runId, tenant, status, ...}`, written by
 * the runs API). Another tenant's run and a missing run look the same to the caller: not found, so run ids
 * of other tenants cannot be probed.
 */
export type RunRecord = Record<string, unknown> & { runId: string; tenant: string; status?: string };

export const runKey = (runId: string) => ({ pk: `RUN#${runId}`, sk: 'META' });

/** The record fields never shown to clients. */
const INTERNAL = new Set(['pk', 'sk', 'expiresAt']);

export class RunAccess {
  private readonly client: DynamoDBDocumentClient;
  constructor(
    readonly tableName: string,
    client?: DynamoDBDocumentClient,
  ) {
    this.client = client ?? dynamo();
  }

  /** The run if it exists and belongs to the tenant; NotFoundError otherwise. */
  async forTenant(runId: string, tenant: string): Promise<RunRecord> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: runKey(runId), ConsistentRead: true }));
    if (!Item || Item.tenant !== tenant) throw new NotFoundError(`Run ${runId} not found`);
    return Item as RunRecord;
  }
}

/** The run record as clients see it (runs.get). */
export function publicRun(run: RunRecord): Record<string, unknown> {
  return Object.fromEntries(Object.entries(run).filter(([k]) => !INTERNAL.has(k)));
}


/**
 * What a client needs to rebuild its view when the events it asked for have expired (a `reset`): status,
 * per-step state and counts as the run record holds them (the runs issue defines their exact shape).
 */
export function runSnapshot(run: RunRecord, lastSeq: number): RunSnapshot {
  return {
    runId: run.runId,
    status: run.status ?? 'UNKNOWN',
    steps: run.steps ?? {},
    counts: run.counts ?? run.summary ?? {},
    lastSeq,
  };
}
