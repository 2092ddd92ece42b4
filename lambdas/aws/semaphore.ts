import type { AcquireResult } from '../core/agent-runtime/ports';
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './conditions';

/**
 * A counting semaphore on one DynamoDB item: `leases` maps a lease id to its expiry (epoch ms).
 *
 * - acquire: one conditional UpdateItem, `SET leases.#id = :exp IF size(leases) < :max`. DynamoDB applies
 *   the condition and the write atomically, so however many invocations race, at most `max` leases exist.
 * - a holder that dies never releases: its lease expires. Only when the semaphore is full does acquire read
 *   the item and remove expired leases (each removal conditional on the expiry it read, so a lease renewed
 *   meanwhile survives), then try once more. The common path costs one write to acquire and one to release.
 * - release: an unconditional `REMOVE leases.#id`, idempotent.
 */

export interface SemaphoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: () => number;
}

function isMissingMap(error: unknown): boolean {
  // SET on a path under a map that does not exist yet.
  return (error as { name?: string } | undefined)?.name === 'ValidationException' && /document path/i.test((error as Error).message);
}

export class LeaseSemaphore {
  private readonly clock: () => number;

  constructor(private readonly options: SemaphoreOptions) {
    this.clock = options.clock ?? Date.now;
  }

  async acquire(key: { pk: string; sk: string }, max: number, ttlMs: number, leaseId: string = randomUUID()): Promise<AcquireResult> {
    for (let round = 0; round < 3; round++) {
      const expiresAt = this.clock() + ttlMs;
      try {
        await this.options.client.send(
          new UpdateCommand({
            TableName: this.options.tableName,
            Key: key,
            UpdateExpression: 'SET leases.#id = :exp',
            ConditionExpression: 'size(leases) < :max',
            ExpressionAttributeNames: { '#id': leaseId },
            ExpressionAttributeValues: { ':exp': expiresAt, ':max': max },
          }),
        );
        return { ok: true, lease: { id: leaseId, expiresAt } };
      } catch (error) {
        if (isMissingMap(error) || (isConditionFailure(error) && round === 0 && !(await this.exists(key)))) {
          await this.create(key);
          continue;
        }
        if (!isConditionFailure(error)) throw error;
        const { expired, held, nextExpiryAt } = await this.expired(key);
        if (expired.length === 0 || round === 2) return { ok: false, held, ...(nextExpiryAt !== undefined ? { nextExpiryAt } : {}) };
        await this.reap(key, expired);
      }
    }
    return { ok: false, held: max };
  }

  async release(key: { pk: string; sk: string }, leaseId: string): Promise<void> {
    await this.options.client.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: key,
        UpdateExpression: 'REMOVE leases.#id',
        ConditionExpression: 'attribute_exists(leases)',
        ExpressionAttributeNames: { '#id': leaseId },
      }),
    ).catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
  }

  /** Leases currently held (expired ones excluded), for tests and diagnostics. */
  async held(key: { pk: string; sk: string }): Promise<number> {
    return (await this.expired(key)).held;
  }

  private async exists(key: { pk: string; sk: string }): Promise<boolean> {
    const { Item } = await this.options.client.send(new GetCommand({ TableName: this.options.tableName, Key: key, ConsistentRead: true, ProjectionExpression: 'pk' }));
    return Item !== undefined;
  }

  private async create(key: { pk: string; sk: string }): Promise<void> {
    await this.options.client
      .send(new PutCommand({ TableName: this.options.tableName, Item: { ...key, leases: {} }, ConditionExpression: 'attribute_not_exists(pk)' }))
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
  }

  private async expired(key: { pk: string; sk: string }): Promise<{ expired: Array<[string, number]>; held: number; nextExpiryAt?: number }> {
    const { Item } = await this.options.client.send(new GetCommand({ TableName: this.options.tableName, Key: key, ConsistentRead: true }));
    const now = this.clock();
    const leases = Object.entries((Item?.leases ?? {}) as Record<string, number>).map(([id, exp]) => [id, exp] as [string, number]);
    const live = leases.filter(([, exp]) => exp > now);
    const nextExpiryAt = live.length > 0 ? Math.min(...live.map(([, exp]) => exp)) : undefined;
    return { expired: leases.filter(([, exp]) => exp <= now), held: live.length, ...(nextExpiryAt !== undefined ? { nextExpiryAt } : {}) };
  }

  private async reap(key: { pk: string; sk: string }, expired: Array<[string, number]>): Promise<void> {
    await reapExpiredLeases(this.options.client, this.options.tableName, key, expired);
  }
}

/**
 * Removes expired leases from a `leases` map attribute in one conditional write, each only if its expiry is still
 * the one read: a holder that renewed keeps its lease. Losing the race is fine (another caller reaped, or a holder
 * renewed, first); the next look sees the result.
 */
export async function reapExpiredLeases(
  client: DynamoDBDocumentClient,
  tableName: string,
  key: Record<string, string>,
  expired: ReadonlyArray<readonly [string, number]>,
): Promise<void> {
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  const conditions: string[] = [];
  expired.slice(0, 50).forEach(([id, exp], i) => {
    names[`#l${i}`] = id;
    values[`:e${i}`] = exp;
    conditions.push(`leases.#l${i} = :e${i}`);
  });
  if (conditions.length === 0) return;
  await client
    .send(
      new UpdateCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: `REMOVE ${Object.keys(names).map((n) => `leases.${n}`).join(', ')}`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    )
    .catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
}
