import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { hashToken } from '../../../lambdas/core/auth/tokens';

const ddb = mockClient(DynamoDBDocumentClient);
let handler: typeof import('../../../lambdas/authorizer/handler').handler;

beforeAll(async () => {
  process.env.TOKENS_TABLE = 'Tokens';
  process.env.AWS_REGION = 'us-east-1';
  ({ handler } = await import('../../../lambdas/authorizer/handler'));
});
afterEach(() => ddb.reset());

const TOKEN = 'ap_abcdefghijklmnopqrstuvwxyz0123456789ABCD';
const methodArn = 'arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/runs';

describe('Function: authorizer handler', () => {
  it('should allow every route of the stage for a known token, with the tenant in the context', async () => {
    ddb.on(GetCommand, { Key: { tokenHash: hashToken(TOKEN) } }).resolves({ Item: { tokenHash: hashToken(TOKEN), tokenId: 't1', tenant: 'acme', admin: false } });
    const result = await handler({ type: 'TOKEN', authorizationToken: `Bearer ${TOKEN}`, methodArn });
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow', Resource: 'arn:aws:execute-api:us-east-1:123456789012:abc123/v1/*' });
    expect(result.context).toEqual({ tenant: 'acme', admin: 'false', tokenId: 't1' });
  });

  it('should answer Unauthorized (401) for an unknown, malformed or missing token', async () => {
    ddb.on(GetCommand).resolves({});
    await expect(handler({ type: 'TOKEN', authorizationToken: `Bearer ${TOKEN}`, methodArn })).rejects.toThrow('Unauthorized');
    await expect(handler({ type: 'TOKEN', authorizationToken: 'Basic Zm9v', methodArn })).rejects.toThrow('Unauthorized');
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
  });

  it('should read the WebSocket token from the query string and allow only that connect', async () => {
    ddb.on(GetCommand).resolves({ Item: { tokenHash: hashToken(TOKEN), tokenId: 't2', tenant: 'globex', admin: true } });
    const wsArn = 'arn:aws:execute-api:us-east-1:123456789012:ws1/v1/$connect';
    const result = await handler({ type: 'REQUEST', methodArn: wsArn, queryStringParameters: { token: TOKEN } } as never);
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow', Resource: wsArn });
    expect(result.context).toMatchObject({ tenant: 'globex', admin: 'true' });
  });
});
