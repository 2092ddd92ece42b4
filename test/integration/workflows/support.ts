/**
 * The workflows engine driven on the local cloud without the runs API (issue 4): a run record written by
 * hand, inputs put in the workspace, and an execution started on a registered version ARN with the
 * execution input of docs/engine.md.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { randomUUID } from 'node:crypto';
import { http, target, type Target } from '../../support/target';
import type { WorkflowCreatedBody } from '../../support/api';
import type { EventEnvelope } from '../../../lambdas/core/events/schemas';
import type { RunRecord } from '../../../lambdas/core/runs/model';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

function cloud(): Target & Required<Pick<Target, 'endpoints' | 'resources'>> {
  return target() as never;
}

function resource(kind: 'tables' | 'buckets', prefix: string): string {
  const all = cloud().resources[kind];
  const key = Object.keys(all).find((k) => k.startsWith(prefix));
  if (!key) throw new Error(`no ${kind} ${prefix} in local.json`);
  return all[key];
}

export const tableName = (prefix: string) => resource('tables', prefix);
const workspaceBucket = () => resource('buckets', 'WorkspaceBucket');

export function docClient(): DynamoDBDocumentClient {
  const t = cloud();
  return DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: t.endpoints.dynamodb, region: t.region, credentials }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

function s3Client(): S3Client {
  const t = cloud();
  return new S3Client({
    endpoint: t.endpoints.s3,
    region: t.region,
    credentials,
    forcePathStyle: true,
  });
}

export function sfnClient(): SFNClient {
  const t = cloud();
  return new SFNClient({ endpoint: t.endpoints.stepfunctions, region: t.region, credentials });
}

export async function register(definition: unknown, token?: string): Promise<{ id: string; version: number; stateMachineArn: string; stateMachineVersionArn: string }> {
  const res = await http<WorkflowCreatedBody>('POST', '/workflows', { body: definition, ...(token ? { token } : {}) });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function createRun(tenant = 'dev'): Promise<string> {
  const runId = `r-${randomUUID()}`;
  await docClient().send(
    new PutCommand({
      TableName: tableName('TablesRuns'),
      Item: { pk: `RUN#${runId}`, sk: 'META', runId, tenant, status: 'RUNNING', createdAt: new Date().toISOString() },
    }),
  );
  return runId;
}

export async function putInputs(runId: string, count: number, concurrency = 32): Promise<void> {
  const s3 = s3Client();
  const bucket = workspaceBucket();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `runs/${runId}/inputs/item-${String(i).padStart(5, '0')}.txt`, Body: `item ${i}` }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export async function start(versionArn: string, runId: string, workflowId: string, version: number, parameters: Record<string, unknown> = {}, tenant = 'dev'): Promise<string> {
  const out = await sfnClient().send(
    new StartExecutionCommand({
      stateMachineArn: versionArn,
      name: runId,
      input: JSON.stringify({ runId, tenant, workflowId, workflowVersion: version, parameters, workspace: { bucket: workspaceBucket(), prefix: `runs/${runId}/` } }),
    }),
  );
  return out.executionArn!;
}

export async function waitForEnd(executionArn: string, timeoutMs: number): Promise<{ status: string; error?: string; cause?: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await sfnClient().send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') return { status: d.status!, ...(d.error ? { error: d.error } : {}), ...(d.cause ? { cause: d.cause } : {}) };
    if (Date.now() > deadline) throw new Error(`execution ${executionArn} still RUNNING after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function historyEventCount(executionArn: string): Promise<number> {
  let count = 0;
  let nextToken: string | undefined;
  do {
    const page = await sfnClient().send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
    count += page.events?.length ?? 0;
    nextToken = page.nextToken;
  } while (nextToken);
  return count;
}

/** The run record as the engine keeps it (a record a test wrote by hand has only what it wrote). */
export async function runRecord(runId: string): Promise<RunRecord | undefined> {
  const { Item } = await docClient().send(new GetCommand({ TableName: tableName('TablesRuns'), Key: { pk: `RUN#${runId}`, sk: 'META' }, ConsistentRead: true }));
  return Item as RunRecord | undefined;
}

export async function runEvents(runId: string): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await docClient().send(
      new QueryCommand({ TableName: tableName('TablesEvents'), KeyConditionExpression: 'runId = :r AND seq > :z', ExpressionAttributeValues: { ':r': runId, ':z': 0 }, ExclusiveStartKey }),
    );
    for (const item of page.Items ?? []) out.push({ ...item, payload: typeof item.payload === 'string' ? (JSON.parse(item.payload) as unknown) : (item.payload as unknown) } as EventEnvelope);
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}

export async function listKeys(prefix: string): Promise<string[]> {
  const s3 = s3Client();
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: workspaceBucket(), Prefix: prefix, ContinuationToken }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return keys;
}

export async function readJson(key: string): Promise<unknown> {
  const out = await s3Client().send(new GetObjectCommand({ Bucket: workspaceBucket(), Key: key }));
  return JSON.parse(await out.Body!.transformToString());
}
