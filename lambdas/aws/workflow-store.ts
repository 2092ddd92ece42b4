import { encodeCursor, parseCursor } from './cursor';
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './clients';
import { s3 } from './s3';
import type { CompileReport } from '../core/workflow/compile';
import type { WorkflowDefinition } from '../core/workflow/schema';
import { isCommitRefused } from './conditions';
import { present } from '../core/invariants';

/**
 * Registered workflows in the workflows table (pk/sk), tenant-scoped by key so that another tenant's
 * workflow is simply not found.
 *
 * | pk                       | sk               | what                                                         |
 * | ------------------------ | ---------------- | ------------------------------------------------------------ |
 * | TENANT#<tenant>          | WF#<id>          | head: latest version, state machine ARN (one Query lists a tenant's workflows) |
 * | WF#<tenant>#<id>         | V#<version, 10>  | one version: definition, ASL, compile report, version ARN    |
 *
 * Definition and ASL are kept as JSON strings (no DynamoDB nesting limit, byte-exact ASL). When they would
 * bring the item near DynamoDB's 400 KB limit they go to the workspace bucket under `workflows/`, keyed by
 * their content hash (written before the item, so a reader never sees a dangling key).
 */

export interface WorkflowVersion {
  tenant: string;
  workflowId: string;
  version: number;
  definition: WorkflowDefinition;
  asl: Record<string, unknown>;
  stateMachineArn: string;
  stateMachineVersionArn: string;
  report: CompileReport;
  warnings: Array<{ path: string; code: string; message: string }>;
  createdAt: string;
  createdBy?: string;
}

export interface WorkflowSummary {
  id: string;
  latestVersion: number;
  description?: string;
  stateMachineArn: string;
  latestVersionArn: string;
  steps: number;
  createdAt: string;
  updatedAt: string;
}

export interface VersionSummary {
  version: number;
  stateMachineVersionArn: string;
  createdAt: string;
  steps: number;
}

export interface NewVersion {
  tenant: string;
  workflowId: string;
  definition: WorkflowDefinition;
  aslJson: string;
  stateMachineArn: string;
  stateMachineVersionArn: string;
  report: CompileReport;
  warnings: WorkflowVersion['warnings'];
  createdBy?: string;
}

export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
}

export interface WorkflowStoreOptions {
  tableName: string;
  /** Bucket for bodies too large for an item; without it, such a version cannot be stored. */
  bucket?: string;
  client?: DynamoDBDocumentClient;
  s3Client?: S3Client;
  clock?: () => number;
  /** Item bodies above this many bytes go to S3 (DynamoDB's limit is 400 KB, attributes and names included). */
  inlineBodyLimit?: number;
}

/**
 * Workflow state machines are named with the deployment's prefix so one EventBridge rule and one IAM scope cover
 * them all. This is the default deployment's; a named one (`-c agentplane:name=…`, lib/deployment.ts) gives its
 * functions another in STATE_MACHINE_NAME_PREFIX.
 */
export const DEFAULT_STATE_MACHINE_PREFIX = 'agentplane-';

export const tenantPk = (tenant: string) => `TENANT#${tenant}`;
const headSk = (workflowId: string) => `WF#${workflowId}`;
export const workflowPk = (tenant: string, workflowId: string) => `WF#${tenant}#${workflowId}`;
export const versionSk = (version: number) => `V#${String(version).padStart(10, '0')}`;
export const BODY_PREFIX = 'workflows/';
const DEFAULT_INLINE_LIMIT = 300_000;
const COMMIT_ATTEMPTS = 20;

export { encodeCursor };

export function decodeCursor(cursor: string | undefined, tenant: string): Record<string, unknown> | undefined {
  const key = cursor ? parseCursor(cursor) : undefined;
  // A cursor is a position in the caller's own listing: one naming another tenant's partition is refused.
  if (!key || key.pk !== tenantPk(tenant) || typeof key.sk !== 'string') return undefined;
  return { pk: key.pk, sk: key.sk };
}

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

export class WorkflowStore {
  readonly tableName: string;
  readonly bucket: string | undefined;
  private readonly client: DynamoDBDocumentClient;
  private readonly s3Client: () => S3Client;
  private readonly clock: () => number;
  private readonly inlineBodyLimit: number;

  constructor(options: WorkflowStoreOptions) {
    this.tableName = options.tableName;
    this.bucket = options.bucket;
    this.client = options.client ?? dynamo();
    this.s3Client = () => options.s3Client ?? s3();
    this.clock = options.clock ?? Date.now;
    this.inlineBodyLimit = options.inlineBodyLimit ?? DEFAULT_INLINE_LIMIT;
  }

  /** The latest version number of a tenant's workflow (0 when it does not exist). */
  async latestVersion(tenant: string, workflowId: string): Promise<number> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: tenantPk(tenant), sk: headSk(workflowId) }, ConsistentRead: true, ProjectionExpression: 'latestVersion' }),
    );
    return typeof Item?.latestVersion === 'number' ? Item.latestVersion : 0;
  }

  /**
   * Stores a new version under the next free number. Numbers are distinct and gap-free under concurrency:
   * the version item and the head move together in one transaction conditional on the head still naming
   * the previous number; a loser re-reads the head and takes the next one.
   */
  async addVersion(input: NewVersion): Promise<WorkflowVersion> {
    const createdAt = new Date(this.clock()).toISOString();
    const definitionJson = JSON.stringify(input.definition);
    const body = await this.storeBody(input.tenant, input.workflowId, definitionJson, input.aslJson);
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      const previous = await this.latestVersion(input.tenant, input.workflowId);
      const version = previous + 1;
      const headFields = {
        workflowId: input.workflowId,
        tenant: input.tenant,
        latestVersion: version,
        stateMachineArn: input.stateMachineArn,
        latestVersionArn: input.stateMachineVersionArn,
        steps: input.definition.steps.length,
        updatedAt: createdAt,
        ...(input.definition.description !== undefined ? { description: input.definition.description } : {}),
      };
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    pk: workflowPk(input.tenant, input.workflowId),
                    sk: versionSk(version),
                    tenant: input.tenant,
                    workflowId: input.workflowId,
                    version,
                    stateMachineArn: input.stateMachineArn,
                    stateMachineVersionArn: input.stateMachineVersionArn,
                    report: JSON.stringify(input.report),
                    warnings: JSON.stringify(input.warnings),
                    steps: input.definition.steps.length,
                    createdAt,
                    ...(input.createdBy ? { createdBy: input.createdBy } : {}),
                    ...body,
                  },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              previous === 0
                ? {
                    Put: {
                      TableName: this.tableName,
                      Item: { pk: tenantPk(input.tenant), sk: headSk(input.workflowId), ...headFields, createdAt },
                      ConditionExpression: 'attribute_not_exists(pk)',
                    },
                  }
                : {
                    Update: {
                      TableName: this.tableName,
                      Key: { pk: tenantPk(input.tenant), sk: headSk(input.workflowId) },
                      UpdateExpression: `SET ${Object.keys(headFields).map((k) => `#${k} = :${k}`).join(', ')}`,
                      ConditionExpression: '#latestVersion = :previous',
                      ExpressionAttributeNames: Object.fromEntries(Object.keys(headFields).map((k) => [`#${k}`, k])),
                      ExpressionAttributeValues: { ...Object.fromEntries(Object.entries(headFields).map(([k, v]) => [`:${k}`, v])), ':previous': previous },
                    },
                  },
            ],
          }),
        );
        return {
          tenant: input.tenant,
          workflowId: input.workflowId,
          version,
          definition: input.definition,
          asl: JSON.parse(input.aslJson) as Record<string, unknown>,
          stateMachineArn: input.stateMachineArn,
          stateMachineVersionArn: input.stateMachineVersionArn,
          report: input.report,
          warnings: input.warnings,
          createdAt,
          ...(input.createdBy ? { createdBy: input.createdBy } : {}),
        };
      } catch (error) {
        if (!isCommitRefused(error)) throw error;
        // Another registration took this number: back off a little (jittered) and take the next one.
        await new Promise((r) => setTimeout(r, Math.random() * 20 * (attempt + 1)));
      }
    }
    throw new VersionConflictError(`workflow ${input.workflowId} is being registered concurrently; try again`);
  }

  /**
   * One version of a tenant's workflow (the latest when `version` is absent); undefined when the tenant has
   * no such workflow or version. The runs API starts executions on `stateMachineVersionArn`.
   */
  async getVersion(
    tenant: string,
    workflowId: string,
    version?: number,
  ): Promise<WorkflowVersion | undefined> {
    const wanted = version ?? (await this.latestVersion(tenant, workflowId));
    if (!Number.isInteger(wanted) || wanted < 1) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: workflowPk(tenant, workflowId), sk: versionSk(wanted) }, ConsistentRead: true }),
    );
    if (!Item || Item.tenant !== tenant) return undefined;
    const { definitionJson, aslJson } = await this.loadBody(Item);
    return {
      tenant,
      workflowId,
      version: Number(Item.version),
      definition: JSON.parse(definitionJson) as WorkflowDefinition,
      asl: JSON.parse(aslJson) as Record<string, unknown>,
      stateMachineArn: String(Item.stateMachineArn),
      stateMachineVersionArn: String(Item.stateMachineVersionArn),
      report: JSON.parse(String(Item.report)) as CompileReport,
      warnings: Item.warnings ? (JSON.parse(String(Item.warnings)) as WorkflowVersion['warnings']) : [],
      createdAt: String(Item.createdAt),
      ...(Item.createdBy ? { createdBy: String(Item.createdBy) } : {}),
    };
  }

  /** Every version of a workflow, oldest first (small attributes only). */
  async listVersions(tenant: string, workflowId: string): Promise<VersionSummary[]> {
    const out: VersionSummary[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
          ExpressionAttributeValues: { ':pk': workflowPk(tenant, workflowId), ':v': 'V#' },
          ProjectionExpression: '#version, stateMachineVersionArn, createdAt, steps',
          ExpressionAttributeNames: { '#version': 'version' },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) {
        out.push({ version: Number(item.version), stateMachineVersionArn: String(item.stateMachineVersionArn), createdAt: String(item.createdAt), steps: Number(item.steps ?? 0) });
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }

  /** One page of a tenant's workflows, by id, each with its latest version. */
  async list(tenant: string, options: { limit?: number; cursor?: string } = {}): Promise<{ workflows: WorkflowSummary[]; cursor?: string }> {
    const start = decodeCursor(options.cursor, tenant);
    if (options.cursor && !start) throw new InvalidCursorError('cursor is not one this listing returned');
    const { Items, LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :wf)',
        ExpressionAttributeValues: { ':pk': tenantPk(tenant), ':wf': 'WF#' },
        Limit: Math.min(Math.max(options.limit ?? 50, 1), 100),
        ExclusiveStartKey: start,
      }),
    );
    const workflows = (Items ?? []).map((item) => ({
      id: String(item.workflowId),
      latestVersion: Number(item.latestVersion),
      ...(item.description !== undefined ? { description: String(item.description) } : {}),
      stateMachineArn: String(item.stateMachineArn),
      latestVersionArn: String(item.latestVersionArn),
      steps: Number(item.steps ?? 0),
      createdAt: String(item.createdAt),
      updatedAt: String(item.updatedAt),
    }));
    const cursor = encodeCursor(LastEvaluatedKey);
    return cursor ? { workflows, cursor } : { workflows };
  }

  private async storeBody(tenant: string, workflowId: string, definitionJson: string, aslJson: string): Promise<Record<string, string>> {
    const bytes = Buffer.byteLength(definitionJson) + Buffer.byteLength(aslJson);
    if (bytes <= this.inlineBodyLimit) return { definition: definitionJson, asl: aslJson };
    if (!this.bucket) throw new Error(`workflow body of ${bytes} bytes needs the workspace bucket, which is not configured`);
    const body = JSON.stringify({ definition: definitionJson, asl: aslJson });
    const hash = createHash('sha256').update(body).digest('hex');
    const key = `${BODY_PREFIX}${tenant}/${workflowId}/${hash}.json`;
    await this.s3Client().send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json' }));
    return { bodyKey: key };
  }

  private async loadBody(item: Record<string, unknown>): Promise<{ definitionJson: string; aslJson: string }> {
    if (typeof item.bodyKey !== 'string') return { definitionJson: String(item.definition), aslJson: String(item.asl) };
    if (!this.bucket) throw new Error('workflow body is in the workspace bucket, which is not configured');
    const out = await this.s3Client().send(new GetObjectCommand({ Bucket: this.bucket, Key: item.bodyKey }));
    const body = JSON.parse(await present(out.Body, 'out.Body').transformToString()) as { definition: string; asl: string };
    return { definitionJson: body.definition, aslJson: body.asl };
  }
}
