import { DeleteCommand, PutCommand, QueryCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './clients';

/** API Gateway closes a WebSocket after 2 hours, so a connection record never needs to outlive that. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 300;

export interface ConnectionRecord {
  connectionId: string;
  tenant: string;
  tokenId: string;
  connectedAt: string;
}

const connKey = (connectionId: string) => `CONN#${connectionId}`;

export class ConnectionStore {
  constructor(private readonly tableName: string) {}

  async put(record: ConnectionRecord, nowMs = Date.now()): Promise<void> {
    await dynamo().send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: connKey(record.connectionId), sk: 'META', ...record, expiresAt: Math.floor(nowMs / 1000) + CONNECTION_TTL_SECONDS },
      }),
    );
  }

  /** Removes the connection and its subscriptions (the items under its partition). */
  async remove(connectionId: string): Promise<number> {
    const { Items = [] } = await dynamo().send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': connKey(connectionId) },
        ProjectionExpression: 'pk, sk',
      }),
    );
    for (let i = 0; i < Items.length; i += 25) {
      await dynamo().send(
        new BatchWriteCommand({
          RequestItems: { [this.tableName]: Items.slice(i, i + 25).map((key) => ({ DeleteRequest: { Key: { pk: key.pk as string, sk: key.sk as string } } })) },
        }),
      );
    }
    return Items.length;
  }

  async delete(connectionId: string): Promise<void> {
    await dynamo().send(new DeleteCommand({ TableName: this.tableName, Key: { pk: connKey(connectionId), sk: 'META' } }));
  }
}
