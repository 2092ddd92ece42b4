/**
 * Registry and agent runtime figures on a running local cloud (called by bench/run.ts with its config):
 * - discovery latency (POST /agents/discover through API Gateway, Lambda and DynamoDB Local) with 10,000
 *   registered agents seeded straight into the agents table: 100 skills of 100 agents, and one popular
 *   skill that 1,000 of them share;
 * - registry write cost: DynamoDB requests per item processed by the agent runtime (counted with an SDK
 *   middleware on the runtime's own clients), for batches of 1 and of 10 items.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, type BatchWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { agentRuntimeDeps } from '../lambdas/aws/agent-runtime';
import { defineAgent } from '../lambdas/core/agent-runtime';
import { newAgentRecord, parseAgentRegistration, skillsOf } from '../lambdas/core/registry/agent';
import { summaryOf } from '../lambdas/aws/registry-store';
import { agentPk, RECORD_SK, skillSk } from '../lambdas/aws/registry-keys';

export interface BenchCloud {
  restUrl: string;
  token: string;
  endpoints: { dynamodb: string; s3: string; [name: string]: string };
  resources: { tables: Record<string, string>; buckets: Record<string, string>; functions: Record<string, string> };
}

interface Row {
  name: string;
  value: number;
  unit: string;
}

const AGENTS = 10_000;
const SKILLS = 100;
const POPULAR = 1_000;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

function find(map: Record<string, string>, prefix: string): string {
  const hit = Object.entries(map).find(([id]) => id.startsWith(prefix));
  if (!hit) throw new Error(`no resource ${prefix}*`);
  return hit[1];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The fields of a DynamoDB command's input that name its table(s). */
interface TableNaming {
  TableName?: string;
  RequestItems?: Record<string, unknown>;
  TransactItems?: unknown;
}

/** Counts every request a client sends, by table and command. */
function countRequests(client: DynamoDBClient, counts: Map<string, number>): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      const input = args.input as TableNaming;
      const table = input.TableName ?? Object.keys(input.RequestItems ?? {}).at(0) ?? (input.TransactItems ? 'transaction' : '?');
      const key = `${table} ${String(context.commandName)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'agentplaneBenchCounter' },
  );
}

/** One table's share of a BatchWrite (what UnprocessedItems hands back, too). */
type WriteRequests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];

async function seed(doc: DynamoDBDocumentClient, table: string, functionArn: string): Promise<number> {
  const started = performance.now();
  const now = new Date();
  const items: Array<Record<string, unknown>> = [];
  for (let i = 0; i < AGENTS; i++) {
    const capabilities = [{ skill: `bench-s${i % SKILLS}`, priority: 10 + (i % 80) }];
    if (i < POPULAR) capabilities.push({ skill: 'bench-popular', priority: 10 + (i % 80) });
    const parsed = parseAgentRegistration({ id: `bench-${i}`, name: `Bench ${i}`, version: '1', description: '', functionArn, capabilities, tags: [] });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const record = { ...newAgentRecord(parsed.registration, now, { builtIn: false }), revision: 1 };
    const pk = agentPk(record.id);
    const summary = summaryOf(record);
    items.push({ pk, sk: RECORD_SK, ...record });
    // No catalogue entry (skill "#all"): discovery never reads it, and it would add a third of the seeding time.
    for (const skill of skillsOf(record)) items.push({ pk, sk: skillSk(skill), skill, agentId: record.id, ...summary });
  }
  const batches: Array<Array<Record<string, unknown>>> = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let next = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (next < batches.length) {
        let pending: WriteRequests = batches[next++].map((Item) => ({ PutRequest: { Item } }));
        while (pending.length > 0) {
          const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
          pending = out.UnprocessedItems?.[table] ?? [];
        }
      }
    }),
  );
  return performance.now() - started;
}

async function discoverLatencies(cloud: BenchCloud, skills: string[]): Promise<{ latencies: number[]; candidates: number }> {
  const latencies: number[] = [];
  let candidates = 0;
  for (const skill of skills) {
    const started = performance.now();
    const res = await fetch(`${cloud.restUrl}/agents/discover`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cloud.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ requiredSkills: [skill], limit: 10 }),
    });
    const body = (await res.json()) as { considered: number };
    latencies.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`discover ${skill}: ${res.status} ${JSON.stringify(body)}`);
    candidates = body.considered;
  }
  return { latencies, candidates };
}

async function writeCost(cloud: BenchCloud, tables: { agents: string; events: string; idempotency: string }, bucket: string, batchSize: number, invocations: number) {
  const counts = new Map<string, number>();
  const dynamoClient = new DynamoDBClient({ endpoint: cloud.endpoints.dynamodb, region: 'us-east-1', credentials });
  countRequests(dynamoClient, counts);
  const documentClient = DynamoDBDocumentClient.from(dynamoClient, { marshallOptions: { removeUndefinedValues: true } });
  const s3Client = new S3Client({ endpoint: cloud.endpoints.s3, region: 'us-east-1', credentials, forcePathStyle: true });
  const deps = agentRuntimeDeps({ agentsTable: tables.agents, eventsTable: tables.events, idempotencyTable: tables.idempotency, dynamoClient, documentClient, s3Client });
  const handler = defineAgent({ agentId: 'bench-0', deps, processItem: async (item, ctx) => ({ outputKey: await ctx.workspace.put(`outputs/${item.key}.json`, '{}') }) });
  const context = { getRemainingTimeInMillis: () => 60_000, functionName: 'bench' } as unknown as Context;
  // Warm the record cache so the figure is the steady state of a warm environment.
  await deps.agent('bench-0');
  counts.clear();
  const stamp = Date.now().toString(36);
  for (let i = 0; i < invocations; i++) {
    const runId = `bench-${stamp}-${batchSize}-${i}`;
    await handler(
      { runId, stepId: 's', items: Array.from({ length: batchSize }, (_, k) => ({ key: `inputs/${k}.txt` })), workspace: { bucket, prefix: `runs/${runId}/` }, config: {} },
      context,
    );
  }
  const items = batchSize * invocations;
  const byTable = (table: string) => [...counts].filter(([k]) => k.startsWith(`${table} `) || (table === tables.agents && k.startsWith('transaction'))).reduce((s, [, n]) => s + n, 0);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return { registry: byTable(tables.agents) / items, idempotency: byTable(tables.idempotency) / items, events: byTable(tables.events) / items, total: total / items };
}

export async function runAgentsBench(cloud: BenchCloud): Promise<Row[]> {
  const agentsTable = find(cloud.resources.tables, 'TablesAgents');
  const tables = { agents: agentsTable, events: find(cloud.resources.tables, 'TablesEvents'), idempotency: find(cloud.resources.tables, 'TablesIdempotency') };
  const bucket = find(cloud.resources.buckets, 'WorkspaceBucket');
  const functionArn = `arn:aws:lambda:us-east-1:000000000000:function:${find(cloud.resources.functions, 'AgentsDiagnosticsDelay')}`;
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: cloud.endpoints.dynamodb, region: 'us-east-1', credentials }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const rows: Row[] = [];
  const seedMs = await seed(doc, agentsTable, functionArn);
  rows.push({ name: 'agents.seed 10,000 agents (direct BatchWrite)', value: seedMs, unit: 'ms' });

  // Warm-up: cold start of the agents API Lambda, then the measured requests.
  await discoverLatencies(cloud, ['bench-s0', 'bench-s1']);
  const regular = await discoverLatencies(cloud, Array.from({ length: 200 }, (_, i) => `bench-s${(i * 7) % SKILLS}`));
  rows.push({ name: `agents.discover p50 (${regular.candidates} candidates of 10k)`, value: percentile(regular.latencies, 50), unit: 'ms' });
  rows.push({ name: `agents.discover p99 (${regular.candidates} candidates of 10k)`, value: percentile(regular.latencies, 99), unit: 'ms' });
  const popular = await discoverLatencies(cloud, Array.from({ length: 30 }, () => 'bench-popular'));
  rows.push({ name: `agents.discover p50 (${popular.candidates} candidates of 10k)`, value: percentile(popular.latencies, 50), unit: 'ms' });
  rows.push({ name: `agents.discover p99 (${popular.candidates} candidates of 10k)`, value: percentile(popular.latencies, 99), unit: 'ms' });

  for (const [batch, invocations] of [[1, 20], [10, 4]] as const) {
    const cost = await writeCost(cloud, tables, bucket, batch, invocations);
    rows.push({ name: `agents.runtime registry requests/item (batch ${batch})`, value: cost.registry, unit: 'requests' });
    rows.push({ name: `agents.runtime idempotency requests/item (batch ${batch})`, value: cost.idempotency, unit: 'requests' });
    rows.push({ name: `agents.runtime event requests/item (batch ${batch})`, value: cost.events, unit: 'requests' });
    rows.push({ name: `agents.runtime DynamoDB requests/item (batch ${batch})`, value: cost.total, unit: 'requests' });
  }
  return rows;
}
