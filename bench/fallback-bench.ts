/**
 * What per-item fallback costs on a running local cloud (called by bench/run.ts with its config): two
 * registrations of the diagnostics function for one skill, a 20-item step run one item at a time, first with
 * no failure, then with every item failing on the first agent (no retries) and moving to the second. The first
 * five fall back after a retryable failure; then the first agent's circuit is open and the runtime refuses
 * the rest at once. Figures are per-item wall time (the step's duration / items) and the split of the reasons.
 */
import type { BenchCloud } from './agents-bench';
import type { EventEnvelope, EventEnvelopeOf } from '../lambdas/core/events/schemas';
import type { RunRecord } from '../lambdas/core/runs/model';

interface Row {
  name: string;
  value: number;
  unit: string;
}

type RunEvent = EventEnvelope;

/** GET /agents/{id} answers `{ agent }`; the bench also takes the fields at the top level. */
interface AgentBody {
  functionArn?: string;
  agent?: { functionArn?: string };
}

const ITEMS = 20;

/** The parsed JSON body (undefined when empty); callers cast it to the route's response. */
async function api(cloud: BenchCloud, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${cloud.restUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${cloud.token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function runStep(cloud: BenchCloud, workflowId: string, failing: string): Promise<RunEvent[]> {
  const inputs = Array.from({ length: ITEMS }, (_, i) => ({ key: `f${String(i).padStart(2, '0')}.txt`, content: 'x' }));
  const { runId } = (await api(cloud, 'POST', '/runs', { workflowId, parameters: { failing }, inputs })) as Pick<RunRecord, 'runId'>;
  const deadline = Date.now() + 300_000;
  for (;;) {
    const run = (await api(cloud, 'GET', `/runs/${runId}`)) as Pick<RunRecord, 'status'>;
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status)) {
      if (run.status !== 'SUCCEEDED') throw new Error(`fallback bench run ${runId} ended ${run.status}`);
      return ((await api(cloud, 'GET', `/runs/${runId}/events?afterSeq=0&limit=1000`)) as { events: RunEvent[] }).events;
    }
    if (Date.now() > deadline) throw new Error(`fallback bench run ${runId} did not end`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const perItem = (events: RunEvent[]) => {
  const completed = events.find((e): e is EventEnvelopeOf<'StepCompleted'> => e.event === 'StepCompleted');
  if (!completed) throw new Error('fallback bench run has no StepCompleted event');
  return completed.payload.summary.durationMs / ITEMS;
};

export async function runFallbackBench(cloud: BenchCloud): Promise<Row[]> {
  const builtIn = (await api(cloud, 'GET', '/agents/diagnostics.delay')) as AgentBody;
  const functionArn = builtIn.functionArn ?? builtIn.agent?.functionArn;
  const stamp = Date.now().toString(36);
  const skill = `bench-fallback-${stamp}`;
  for (const [id, priority] of [[`bench-first-${stamp}`, 100], [`bench-second-${stamp}`, 0]] as const) {
    await api(cloud, 'POST', '/agents', { id, name: id, version: '1', description: 'fallback bench', functionArn, capabilities: [{ skill, priority }], tags: [] });
  }
  const workflowId = `bench-fallback-${stamp}`;
  await api(cloud, 'POST', '/workflows', {
    id: workflowId,
    parameters: { failing: { type: 'string' } },
    steps: [
      {
        id: 'work',
        capability: { skill },
        forEach: 'inputs',
        maxConcurrency: 1,
        retry: { maxAttempts: 0 },
        config: { delayMs: 50, retryablePattern: '${params.failing}', onlyOnAgent: '^bench-first-' },
      },
    ],
  });
  // Warm-up: cold starts of the agent and engine functions are not the figure.
  await runStep(cloud, workflowId, '^$');
  const clean = await runStep(cloud, workflowId, '^$');
  const moved = await runStep(cloud, workflowId, '.');
  const reasons = moved
    .filter((e): e is EventEnvelopeOf<'AgentSelected'> => e.event === 'AgentSelected' && e.payload.fallbackFrom !== undefined)
    .map((e) => String(e.payload.reason));
  return [
    { name: 'fallback.per-item wall time, no failure', value: perItem(clean), unit: 'ms' },
    { name: 'fallback.per-item wall time, every item moves', value: perItem(moved), unit: 'ms' },
    { name: 'fallback.items moved after a retryable failure', value: reasons.filter((r) => r.startsWith('Agentplane.Retryable')).length, unit: 'items' },
    { name: 'fallback.items moved when the circuit refused', value: reasons.filter((r) => r.startsWith('Agentplane.CircuitOpen')).length, unit: 'items' },
  ];
}
