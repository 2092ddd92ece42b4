import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './clients';
import { hashToken, newToken, tokenId } from '../core/auth/tokens';

export interface TokenRecord {
  tokenHash: string;
  tokenId: string;
  tenant: string;
  admin: boolean;
  name?: string;
  createdAt: string;
  createdBy?: string;
}

/** Tokens live in DynamoDB under the SHA-256 of their value; the plain value leaves this module only once. */
export class TokenStore {
  constructor(private readonly tableName: string) {}

  async find(token: string): Promise<TokenRecord | undefined> {
    const { Item } = await dynamo().send(new GetCommand({ TableName: this.tableName, Key: { tokenHash: hashToken(token) } }));
    if (!Item || Item.revokedAt) return undefined;
    return Item as TokenRecord;
  }

  async create(input: { tenant: string; admin: boolean; name?: string; createdBy?: string }): Promise<{ token: string; record: TokenRecord }> {
    const token = newToken();
    const tokenHash = hashToken(token);
    const record: TokenRecord = {
      tokenHash,
      tokenId: tokenId(tokenHash),
      tenant: input.tenant,
      admin: input.admin,
      name: input.name,
      createdAt: new Date().toISOString(),
      createdBy: input.createdBy,
    };
    await dynamo().send(
      new PutCommand({ TableName: this.tableName, Item: record, ConditionExpression: 'attribute_not_exists(tokenHash)' }),
    );
    return { token, record };
  }
}
