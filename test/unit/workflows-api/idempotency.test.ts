import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand, DeleteItemCommand, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { powertoolsIdempotency } from '../../../lambdas/aws/idempotency';
import { ValidationError } from '../../../lambdas/core/errors';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1' });

afterEach(() => ddb.reset());

describe('Function: powertoolsIdempotency', () => {
  it('should store the response (undefined fields dropped) under a key with the table TTL attribute', async () => {
    ddb.on(PutItemCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    const runner = powertoolsIdempotency({ tableName: 'idem', keyPrefix: 'workflows-api.register', client });

    const res = await runner({ tenant: 'acme', idempotencyKey: 'k' }, { body: { id: 'wf' } }, async () => ({ status: 201, body: { id: 'wf' }, headers: undefined }));

    expect(res).toEqual({ status: 201, body: { id: 'wf' } });
    const put = ddb.commandCalls(PutItemCommand)[0].args[0].input;
    expect(put.TableName).toBe('idem');
    expect(put.Item!.id.S).toMatch(/^workflows-api\.register#/);
    expect(put.Item!.expiresAt).toBeDefined();
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(1);
  });

  it('should answer 409 for the same key with another body, and forget the key of a failed request', async () => {
    const runner = powertoolsIdempotency({ tableName: 'idem', keyPrefix: 'workflows-api.register', client });
    ddb.on(PutItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'exists',
        $metadata: {},
        Item: marshall({ id: 'x', status: 'COMPLETED', expiresAt: Math.floor(Date.now() / 1000) + 60, validation: 'other-hash', data: '{}' }),
      }),
    );
    ddb.on(GetItemCommand).resolves({ Item: marshall({ id: 'x', status: 'COMPLETED', expiresAt: Math.floor(Date.now() / 1000) + 60, validation: 'other-hash', data: '{}' }) });
    await expect(runner({ tenant: 'acme', idempotencyKey: 'k' }, { body: { id: 'changed' } }, async () => ({ status: 201 }))).rejects.toMatchObject({ status: 409 });

    ddb.reset();
    ddb.on(PutItemCommand).resolves({});
    ddb.on(DeleteItemCommand).resolves({});
    await expect(
      runner({ tenant: 'acme', idempotencyKey: 'k2' }, { body: {} }, async () => {
        throw new ValidationError('bad');
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(ddb.commandCalls(DeleteItemCommand)).toHaveLength(1);
  });
});
