import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { http, target } from '../../support/target';
import type { AgentBody } from '../../support/api';
import type { AgentOutput } from '../../../lambdas/core/agent-runtime';
import type { EventEnvelope } from '../../../lambdas/core/events/schemas';

/**
 * What the agent Lambda answers: its items' results (AgentOutput) when it returned, the Lambda's error when it
 * threw (a FunctionError), or a health-check's answer. A test reads the fields of the answer it expects.
 */
export type AgentAnswer = Partial<AgentOutput> & { errorType?: string; errorMessage?: string; healthy?: boolean; agentId?: string };

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The local cloud's agent plumbing, found from local.json like any tool would. */
export function agentCloud() {
  const t = target();
  const find = (map: Record<string, string>, prefix: string) => Object.entries(map).find(([id]) => id.startsWith(prefix))![1];
  const lambda = new LambdaClient({ endpoint: t.endpoints!.lambda, region: t.region, credentials });
  const s3 = new S3Client({ endpoint: t.endpoints!.s3, region: t.region, credentials, forcePathStyle: true });
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: t.endpoints!.dynamodb, region: t.region, credentials }));
  const fn = find(t.resources!.functions, 'AgentsDiagnosticsDelay');
  const bucket = find(t.resources!.buckets, 'WorkspaceBucket');
  const eventsTable = find(t.resources!.tables, 'TablesEvents');
  const agentsTable = find(t.resources!.tables, 'TablesAgents');

  return {
    t,
    lambda,
    s3,
    ddb,
    fn,
    bucket,
    eventsTable,
    agentsTable,
    async invoke(payload: Record<string, unknown>): Promise<{ functionError?: string; body: AgentAnswer }> {
      const out = await lambda.send(new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(JSON.stringify(payload)) }));
      return { functionError: out.FunctionError, body: JSON.parse(Buffer.from(out.Payload!).toString('utf8')) as AgentAnswer };
    },
    input(runId: string, agentId: string, items: string[], config: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
      return { runId, stepId: 'work', agentId, items: items.map((key) => ({ key })), workspace: { bucket, prefix: `runs/${runId}/` }, config, ...extra };
    },
    async events(runId: string): Promise<EventEnvelope[]> {
      const out = await ddb.send(new QueryCommand({ TableName: eventsTable, KeyConditionExpression: 'runId = :r AND seq > :z', ExpressionAttributeValues: { ':r': runId, ':z': 0 }, ConsistentRead: true }));
      // The event store keeps payloads as JSON strings (lambdas/aws/event-store.ts); older items as maps.
      return (out.Items ?? []).map((item) => ({ ...item, payload: typeof item.payload === 'string' ? (JSON.parse(item.payload) as unknown) : (item.payload as unknown) })) as EventEnvelope[];
    },
    async keys(prefix: string): Promise<string[]> {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (out.Contents ?? []).map((o) => o.Key!);
    },
    async item(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
      return (await ddb.send(new GetCommand({ TableName: agentsTable, Key: { pk, sk }, ConsistentRead: true }))).Item;
    },
    /** Registers a custom agent on the diagnostics Lambda under another id (docs/agents.md). */
    async register(id: string, skill: string, extra: Record<string, unknown> = {}) {
      const arn = (await http<AgentBody>('GET', '/agents/diagnostics.delay')).body.agent.functionArn;
      const res = await http<AgentBody>('POST', '/agents', {
        body: { id, name: id, version: '1.0.0', description: 'integration test agent', functionArn: arn, capabilities: [{ skill }], tags: [], ...extra },
      });
      if (res.status !== 201 && res.status !== 200) throw new Error(`register ${id}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.agent;
    },
  };
}

export const uniqueSuffix = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

/** Nearest-rank percentile, the definition the histogram's precision is stated against. */
export function exactPercentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p * sorted.length) / 100 - 1e-9)));
  return sorted[rank - 1];
}

export async function eventually<T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value).slice(0, 1500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
