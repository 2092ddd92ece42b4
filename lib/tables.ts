import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, StreamViewType, TableEncryptionV2, TableV2, type TablePropsV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** Every table expires items through this attribute (epoch seconds). */
const TTL_ATTRIBUTE = 'expiresAt';

/**
 * The control plane's DynamoDB tables. Keys are generic (`pk`/`sk`) where one table holds several item kinds;
 * `runId` is the partition key of the events table so its stream stays ordered per run.
 */
export class AgentplaneTables extends Construct {
  readonly workflows: TableV2;
  readonly runs: TableV2;
  readonly events: TableV2;
  readonly agents: TableV2;
  readonly connections: TableV2;
  readonly idempotency: TableV2;
  readonly tokens: TableV2;

  constructor(scope: Construct, id: string, props: { removalPolicy?: RemovalPolicy } = {}) {
    super(scope, id);
    const common: Partial<TablePropsV2> = {
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      timeToLiveAttribute: TTL_ATTRIBUTE,
    };
    const pkSk = { partitionKey: { name: 'pk', type: AttributeType.STRING }, sortKey: { name: 'sk', type: AttributeType.STRING } };

    this.workflows = new TableV2(this, 'Workflows', { ...common, ...pkSk });

    // Runs: pk RUN#<id>; GSI byTenant lists a tenant's runs newest first without a Scan.
    this.runs = new TableV2(this, 'Runs', {
      ...common,
      ...pkSk,
      // The stream carries the run record's TTL delete, which triggers the workspace cleanup.
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      globalSecondaryIndexes: [
        {
          indexName: 'byTenant',
          partitionKey: { name: 'tenant', type: AttributeType.STRING },
          sortKey: { name: 'createdAt', type: AttributeType.STRING },
        },
      ],
    });

    this.events = new TableV2(this, 'Events', {
      ...common,
      partitionKey: { name: 'runId', type: AttributeType.STRING },
      sortKey: { name: 'seq', type: AttributeType.NUMBER },
      dynamoStream: StreamViewType.NEW_IMAGE,
    });

    // Agents: pk AGENT#<id>; GSI bySkill (one item per capability) so discovery never scans.
    this.agents = new TableV2(this, 'Agents', {
      ...common,
      ...pkSk,
      globalSecondaryIndexes: [
        {
          indexName: 'bySkill',
          partitionKey: { name: 'skill', type: AttributeType.STRING },
          sortKey: { name: 'agentId', type: AttributeType.STRING },
        },
      ],
    });

    // WebSocket connections: pk CONN#<id>; subscriptions are items too, indexed by runId.
    this.connections = new TableV2(this, 'Connections', {
      ...common,
      ...pkSk,
      globalSecondaryIndexes: [
        {
          indexName: 'byRun',
          partitionKey: { name: 'runId', type: AttributeType.STRING },
          sortKey: { name: 'connectionId', type: AttributeType.STRING },
        },
      ],
    });

    // Powertools Idempotency's default key schema.
    this.idempotency = new TableV2(this, 'Idempotency', {
      ...common,
      partitionKey: { name: 'id', type: AttributeType.STRING },
    });

    // Tokens are stored by the SHA-256 of their value; the value itself is shown once and never stored.
    this.tokens = new TableV2(this, 'Tokens', {
      ...common,
      partitionKey: { name: 'tokenHash', type: AttributeType.STRING },
      globalSecondaryIndexes: [
        { indexName: 'byTenant', partitionKey: { name: 'tenant', type: AttributeType.STRING }, sortKey: { name: 'createdAt', type: AttributeType.STRING } },
      ],
    });
  }
}
