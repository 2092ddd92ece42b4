import WebSocket from 'ws';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { EventStore } from '../lambdas/aws/event-store';
import type { ServerFrame } from '../lambdas/core/events/frames';

/**
 * Progress streaming on the local cloud: emitters write a simulated run's events (the production EventStore,
 * straight to the events table), 10 WebSocket subscribers receive them through the stream and the broadcaster.
 *
 * Metrics:
 * - progress.throughput.events_per_s: events emitted as fast as 4 emitters can (batches of 10) divided by the
 *   time until the last of the 10 subscribers has all of them;
 * - progress.latency.p50|p95|p99 (ms): emit (`at`) to receipt, per event per subscriber, at a paced 50 events/s;
 * - progress.dynamodb.writes_per_event: the emitters' write requests (Puts + counter ADDs) per event.
 */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

export interface ProgressBenchCloud {
  restUrl: string;
  wsUrl: string;
  token: string;
  endpoints: { dynamodb: string };
  resources: { tables: Record<string, string> };
  region?: string;
}

export interface ProgressBenchOptions {
  subscribers?: number;
  events?: number;
  pacedEvents?: number;
}

function tableOf(cloud: ProgressBenchCloud, prefix: string): string {
  const key = Object.keys(cloud.resources.tables).find((k) => k.startsWith(prefix));
  if (!key) throw new Error(`no ${prefix} table`);
  return cloud.resources.tables[key];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

interface Subscriber {
  ws: WebSocket;
  /** seq → receipt time (ms) */
  received: Map<number, number>;
  waiters: Array<() => void>;
}

async function subscriber(cloud: ProgressBenchCloud, runId: string): Promise<Subscriber> {
  const ws = new WebSocket(`${cloud.wsUrl}?token=${encodeURIComponent(cloud.token)}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => { resolve(); });
    ws.once('error', reject);
  });
  const sub: Subscriber = { ws, received: new Map(), waiters: [] };
  let answered: (() => void) | undefined;
  ws.on('message', (data) => {
    const now = Date.now();
    // ws's default binaryType ('nodebuffer') hands every message over as one Buffer.
    const frame = JSON.parse((data as Buffer).toString()) as ServerFrame;
    if (frame.type === 'event' && frame.runId === runId) sub.received.set(frame.seq, now - Date.parse(frame.at));
    if (frame.type === 'res' && frame.id === 'sub') {
      if (!frame.ok) throw new Error(`subscribe failed: ${JSON.stringify(frame.error)}`);
      answered?.();
    }
    for (const w of sub.waiters.splice(0)) w();
  });
  await new Promise<void>((resolve) => {
    answered = resolve;
    ws.send(JSON.stringify({ type: 'req', id: 'sub', method: 'subscribe', params: { runId, afterSeq: 0 } }));
  });
  return sub;
}

async function waitAll(subs: Subscriber[], count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const sub of subs) {
    while (sub.received.size < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`subscriber has ${sub.received.size} of ${count} events after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        sub.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

async function newRun(cloud: ProgressBenchCloud, client: DynamoDBDocumentClient): Promise<string> {
  const runId = `bench-${randomUUID()}`;
  await client.send(
    new PutCommand({ TableName: tableOf(cloud, 'TablesRuns'), Item: { pk: `RUN#${runId}`, sk: 'META', runId, tenant: 'dev', status: 'RUNNING', createdAt: new Date().toISOString() } }),
  );
  return runId;
}

const item = (i: number) => ({ event: 'ItemStarted' as const, payload: { stepId: 'bench', item: `inputs/${i}`, index: i, total: 1_000_000 } });

export async function runProgressBench(cloud: ProgressBenchCloud, options: ProgressBenchOptions = {}): Promise<BenchResult[]> {
  const subscribers = options.subscribers ?? 10;
  const total = options.events ?? 1000;
  const paced = options.pacedEvents ?? 200;
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: cloud.endpoints.dynamodb, region: cloud.region ?? 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
  const eventsTable = tableOf(cloud, 'TablesEvents');
  const subs: Subscriber[] = [];
  try {
    // Throughput: emit as fast as the emitters go.
    const runId = await newRun(cloud, client);
    for (let i = 0; i < subscribers; i++) subs.push(await subscriber(cloud, runId));
    const emitters = Array.from({ length: 4 }, () => new EventStore({ tableName: eventsTable, client, progress: false }));
    const started = Date.now();
    const work: Array<Promise<unknown>> = [];
    for (let i = 1, k = 0; i <= total; i += 10, k++) {
      work.push(emitters[k % emitters.length].emitMany(runId, Array.from({ length: Math.min(10, total - i + 1) }, (_, j) => item(i + j))));
    }
    await Promise.all(work);
    await waitAll(subs, total, 300_000);
    const seconds = (Date.now() - started) / 1000;
    const writes = emitters.reduce((n, e) => n + e.stats.eventPuts + e.stats.counterUpdates, 0);
    const written = emitters.reduce((n, e) => n + e.stats.events, 0);
    for (const s of subs.splice(0)) s.ws.close();

    // Latency at a pace the local cloud sustains, one event per emit (the worst case for writes per event).
    const pacedRun = await newRun(cloud, client);
    for (let i = 0; i < subscribers; i++) subs.push(await subscriber(cloud, pacedRun));
    const single = new EventStore({ tableName: eventsTable, client, progress: false });
    const pacing: Array<Promise<unknown>> = [];
    for (let i = 1; i <= paced; i++) {
      pacing.push(single.emit(pacedRun, 'ItemStarted', item(i).payload));
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(pacing);
    await waitAll(subs, paced, 120_000);
    const latencies = subs.flatMap((s) => [...s.received.values()]).sort((a, b) => a - b);

    return [
      { name: 'progress.throughput.events_per_s', value: Math.round((total / seconds) * 10) / 10, unit: 'events/s' },
      { name: 'progress.throughput.deliveries_per_s', value: Math.round(((total * subscribers) / seconds) * 10) / 10, unit: 'frames/s' },
      { name: 'progress.latency.p50', value: percentile(latencies, 50), unit: 'ms' },
      { name: 'progress.latency.p95', value: percentile(latencies, 95), unit: 'ms' },
      { name: 'progress.latency.p99', value: percentile(latencies, 99), unit: 'ms' },
      { name: 'progress.dynamodb.writes_per_event.batched', value: Math.round((writes / written) * 1000) / 1000, unit: 'writes/event' },
      {
        name: 'progress.dynamodb.writes_per_event.single',
        value: Math.round(((single.stats.eventPuts + single.stats.counterUpdates) / single.stats.events) * 1000) / 1000,
        unit: 'writes/event',
      },
    ];
  } finally {
    for (const s of subs) s.ws.close();
    client.destroy();
  }
}
