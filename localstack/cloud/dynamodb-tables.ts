/** Creates the template's DynamoDB tables in DynamoDB Local (idempotently, so persisted data survives restarts). */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type KeySchemaElement,
  type Projection,
  type StreamViewType,
} from '@aws-sdk/client-dynamodb';

export function localDynamoClient(endpoint: string, region: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

export interface CreatedTable {
  logicalId: string;
  tableName: string;
  arn: string;
  streamArn?: string;
}

interface TableIndexProperties {
  IndexName?: string;
  KeySchema?: KeySchemaElement[];
  Projection?: Projection;
}

/** The table properties read here; CloudFormation spells them as the DynamoDB API does. */
interface TableProperties {
  KeySchema?: KeySchemaElement[];
  AttributeDefinitions?: AttributeDefinition[];
  GlobalSecondaryIndexes?: TableIndexProperties[];
  LocalSecondaryIndexes?: TableIndexProperties[];
  StreamSpecification?: { StreamViewType?: StreamViewType };
  TimeToLiveSpecification?: { Enabled?: boolean; AttributeName?: string };
}

/**
 * `AWS::DynamoDB::Table` and `AWS::DynamoDB::GlobalTable` (what TableV2 synthesizes) share the key, index and
 * stream properties; only those, TTL and billing matter locally.
 */
export async function ensureTable(
  client: DynamoDBClient,
  logicalId: string,
  tableName: string,
  properties: Record<string, unknown>,
): Promise<CreatedTable> {
  // The synthesized template, resolved: the CloudFormation schema of the table is what types these properties.
  const props = properties as TableProperties;
  const input: CreateTableCommandInput = {
    TableName: tableName,
    KeySchema: props.KeySchema,
    AttributeDefinitions: props.AttributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: props.GlobalSecondaryIndexes?.map((g) => ({
      IndexName: g.IndexName,
      KeySchema: g.KeySchema,
      Projection: g.Projection ?? { ProjectionType: 'ALL' },
    })),
    LocalSecondaryIndexes: props.LocalSecondaryIndexes?.map((l) => ({ IndexName: l.IndexName, KeySchema: l.KeySchema, Projection: l.Projection })),
    StreamSpecification: props.StreamSpecification?.StreamViewType
      ? { StreamEnabled: true, StreamViewType: props.StreamSpecification.StreamViewType }
      : undefined,
  };
  let description;
  try {
    description = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    const existingKeys = JSON.stringify(description?.KeySchema);
    if (existingKeys !== JSON.stringify(props.KeySchema)) {
      throw new Error(`Table ${tableName} (${logicalId}) exists with another key schema; start with --fresh to recreate local data`);
    }
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    description = (await client.send(new CreateTableCommand(input))).TableDescription;
    const ttl = props.TimeToLiveSpecification;
    if (ttl?.Enabled && ttl.AttributeName) {
      await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: ttl.AttributeName } }));
    }
  }
  if (!description?.TableArn) throw new Error(`DynamoDB Local returned no description for table ${tableName}`);
  return { logicalId, tableName, arn: description.TableArn, streamArn: description.LatestStreamArn };
}

export function tableTypes(): string[] {
  return ['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable'];
}

;
