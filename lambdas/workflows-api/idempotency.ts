import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { ConflictError } from '../shared/http/errors';
import type { ApiResponse } from '../shared/http/api';
import type { IdempotentRunner } from './routes';

/**
 * `Idempotency-Key` on POST /workflows with Powertools Idempotency on the idempotency table (pk `id`): the
 * record is keyed by tenant and key, and validated against the body, so the same key with the same body
 * answers the stored response and with another body is 409. A failed registration (4xx/5xx) deletes its
 * record (Powertools does so when the function throws), so a corrected retry may reuse the key.
 */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

interface IdempotentRequest {
  key: { tenant: string; idempotencyKey: string };
  payload: unknown;
}

export function powertoolsIdempotency(options: { tableName: string; client?: DynamoDBClient }): IdempotentRunner {
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
  const idempotent = makeIdempotent(
    // Stored as a DynamoDB item: a JSON round trip drops undefined fields, which the marshaller refuses.
    async (_request: IdempotentRequest, run: () => Promise<ApiResponse>): Promise<ApiResponse> => JSON.parse(JSON.stringify(await run())) as ApiResponse,
    { persistenceStore, config, keyPrefix: 'workflows-api.register' },
  );
  return async (key, payload, run) => {
    try {
      return await idempotent({ key, payload }, run);
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'IdempotencyValidationError') {
        throw new ConflictError('This Idempotency-Key was used with a different request body');
      }
      if (name === 'IdempotencyAlreadyInProgressError') {
        throw new ConflictError('A request with this Idempotency-Key is still in progress; retry shortly');
      }
      throw error;
    }
  };
}
