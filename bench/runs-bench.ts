/**
 * Orchestration overhead of a run through a running cloud (REST API only): a 1,000-item fan-out of the
 * built-in diagnostics.delay agent doing fixed work (`delayMs` per item, one item per invocation) at a fixed
 * concurrency. The ideal is the work alone, `ceil(items / concurrency) * delayMs`; the overhead is the run's
 * wall time (created -> RunSucceeded) divided by it. Everything between is orchestration: the gate, item
 * admission (the run's semaphore), Step Functions, Lambda invocation, the agent runtime's events and the
 * reporter and finalizer. A small run first warms the functions, so cold starts are not counted.
 * Figures, never assertions.
 */
import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '../lambdas/core/events/schemas';
import type { RunRecord, StepState } from '../lambdas/core/runs/model';

export interface RunsBenchTarget {
  restUrl: string;
  token: string;
  endpoints?: unknown;
  resources?: unknown;
}

export interface RunsBenchOptions {
  items?: number;
  concurrency?: number;
  delayMs?: number;
  timeoutMs?: number;
}

/** GET /runs/{id} (runs-api publicView), the fields the bench reads; what comes over HTTP is not checked. */
interface RunBody {
  runId: string;
  status: RunRecord['status'];
  createdAt: string;
  endedAt?: string;
  error?: RunRecord['error'];
  steps?: Partial<Record<string, StepState>>;
}

/** A page of GET /runs/{id}/events. */
interface EventsPage {
  events: EventEnvelope[];
  nextAfterSeq: number;
}

/** The parsed JSON body (undefined when empty); callers cast it to the route's response. */
async function call(target: RunsBenchTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${target.restUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${target.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

async function allEvents(target: RunsBenchTarget, runId: string): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = [];
  let after = 0;
  for (;;) {
    const page = (await call(target, 'GET', `/runs/${runId}/events?afterSeq=${after}&limit=1000`)) as EventsPage;
    out.push(...page.events);
    if (page.events.length < 1000) return out;
    after = page.nextAfterSeq;
  }
}

/** Median time from ItemStarted to ItemCompleted: the agent's side of an item (its work and its runtime). */
function agentSideMedian(events: EventEnvelope[]): number {
  const started = new Map<string, number>();
  const durations: number[] = [];
  for (const e of events) {
    if (e.event === 'ItemStarted') started.set(e.payload.item, Date.parse(e.at));
    else if (e.event === 'ItemCompleted') {
      const from = started.get(e.payload.item);
      if (from !== undefined) durations.push(Date.parse(e.at) - from);
    }
  }
  durations.sort((a, b) => a - b);
  return durations.length ? durations[Math.floor(durations.length / 2)] : 0;
}

async function runToEnd(target: RunsBenchTarget, workflowId: string, items: number, timeoutMs: number): Promise<{ wallMs: number; run: RunBody & { agentSideMs: number } }> {
  const inputs = Array.from({ length: items }, (_, i) => ({ key: `item-${String(i).padStart(5, '0')}.txt`, content: `item ${i}` }));
  const created = (await call(target, 'POST', '/runs', { workflowId, inputs })) as Pick<RunBody, 'runId'>;
  const runId = created.runId;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = (await call(target, 'GET', `/runs/${runId}`)) as RunBody;
    if (run.status === 'SUCCEEDED') {
      // The run's own clock: created (before the execution started) to its end, not the polling interval.
      const events = await allEvents(target, runId);
      // Neither known: NaN, as Date.parse(undefined) gives.
      const end = events.find((e) => e.event === 'RunSucceeded')?.at ?? run.endedAt ?? '';
      return { wallMs: Date.parse(end) - Date.parse(run.createdAt), run: { ...run, agentSideMs: agentSideMedian(events) } };
    }
    if (run.status === 'FAILED' || run.status === 'CANCELLED') throw new Error(`bench run ${runId} ended ${run.status}: ${JSON.stringify(run.error ?? run.steps)}`);
    if (Date.now() > deadline) throw new Error(`bench run ${runId} not done after ${timeoutMs} ms (${run.status})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export async function runRunsBench(cloud: RunsBenchTarget, options: RunsBenchOptions = {}): Promise<Array<{ name: string; value: number; unit: string }>> {
  const items = options.items ?? 1_000;
  const concurrency = options.concurrency ?? 10;
  const delayMs = options.delayMs ?? 250;
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  const workflowId = `bench-runs-${randomUUID().slice(0, 8)}`;
  await call(cloud, 'POST', '/workflows', {
    id: workflowId,
    description: 'runs bench: fixed work per item',
    steps: [
      {
        id: 'work',
        capability: { skill: 'diagnostics.delay' },
        forEach: 'inputs',
        batchSize: 1,
        maxConcurrency: concurrency,
        retry: { maxAttempts: 0 },
        config: { delayMs },
      },
    ],
  });
  await runToEnd(cloud, workflowId, Math.min(items, concurrency * 2), timeoutMs);

  const { wallMs, run } = await runToEnd(cloud, workflowId, items, timeoutMs);
  const rounds = Math.ceil(items / concurrency);
  const idealMs = rounds * delayMs;
  const prefix = `runs: ${items}-item run, ${delayMs} ms/item, concurrency ${concurrency}`;
  return [
    { name: `${prefix}: orchestration overhead (wall / ideal)`, value: round(wallMs / idealMs), unit: 'ratio' },
    { name: `${prefix}: wall time`, value: round(wallMs / 1000), unit: 's' },
    { name: `${prefix}: ideal time`, value: round(idealMs / 1000), unit: 's' },
    { name: `${prefix}: overhead per item slot`, value: round((wallMs - idealMs) / rounds, 1), unit: 'ms' },
    { name: `${prefix}: throughput`, value: round(items / (wallMs / 1000), 1), unit: 'items/s' },
    // The slot time splits into the agent's side (work + agent runtime: events, output write) and the rest
    // (child execution, item admission and release, invocations, the engine's own states).
    { name: `${prefix}: agent side per item (median ItemStarted -> ItemCompleted)`, value: round(run.agentSideMs, 0), unit: 'ms' },
    { name: `${prefix}: outside the agent per item slot`, value: round(wallMs / rounds - run.agentSideMs, 0), unit: 'ms' },
    { name: `${prefix}: map mode`, value: run.steps?.work?.mode === 'distributed' ? 1 : 0, unit: '1 = distributed' },
  ];
}
