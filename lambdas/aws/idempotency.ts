import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { ConflictError } from '../core/errors';
import type { ApiResponse } from '../edge/http/api';

/**
 * `Idempotency-Key` on the POSTs that create or command (CONTRACT.md): Powertools Idempotency on the idempotency
 * table (pk `id`), keyed by what the caller passes (tenant, key, route) and validated against the body. Same key and
 * body: the stored answer; another body: 409. A request that finds the same key in progress (a concurrent
 * duplicate) waits for the first one's answer, briefly, instead of failing. A failed request deletes its record
 * (Powertools does, on throw), so a corrected retry may reuse the key.
 */
const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
const IN_PROGRESS_WAIT_MS = 10_000;

export type IdempotentRunner<K extends Record<string, string>> = (key: K, body: unknown, run: () => Promise<ApiResponse>) => Promise<ApiResponse>;

export function powertoolsIdempotency<K extends Record<string, string>>(options: {
  tableName: string;
  /** Namespaces the records of one API (e.g. `runs-api`), so two routes never share a key by accident. */
  keyPrefix: string;
  client?: DynamoDBClient;
  sleep?: (ms: number) => Promise<void>;
}): IdempotentRunner<K> {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    // The table's TTL attribute (lib/tables.ts), so expired records are removed by DynamoDB.
    expiryAttr: 'expiresAt',
    ...(options.client ? { awsSdkV3Client: options.client } : {}),
  });
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'key',
    payloadValidationJmesPath: 'payload',
    expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
    throwOnNoIdempotencyKey: true,
  });
  const idempotent = makeIdempotent(async (_request: { key: K; payload: unknown }, run: () => Promise<ApiResponse>): Promise<ApiResponse> => run(), {
    persistenceStore,
    config,
    keyPrefix: options.keyPrefix,
  });
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return async (key, payload, run) => {
    const deadline = Date.now() + IN_PROGRESS_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        // The stored answer is plain JSON (no undefined fields, which the persistence layer cannot marshal).
        return await idempotent({ key, payload }, async () => JSON.parse(JSON.stringify(await run())) as ApiResponse);
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'IdempotencyValidationError') throw new ConflictError('This Idempotency-Key was used with a different request body');
        if (name !== 'IdempotencyAlreadyInProgressError') throw error;
        // Bounded: the first request finishes within the API's own timeout, or this one gives up with 409.
        if (Date.now() >= deadline) throw new ConflictError('A request with this Idempotency-Key is still in progress; retry shortly');
        await sleep(Math.min(500, 50 * 2 ** Math.min(attempt, 4)));
      }
    }
  };
}
