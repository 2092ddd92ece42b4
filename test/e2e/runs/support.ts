/**
 * Helpers of the runs e2e tests: the public REST API only (plus the events replay), waits with deadlines.
 */
import { http } from '../../support/target';
import type { CommandBody, EventsPageBody, RunBody, RunCreatedBody, TokenBody, WorkflowCreatedBody, WorkspaceBody } from '../../support/api';
import type { EventEnvelope, EventEnvelopeOf, EventName } from '../../../lambdas/core/events/schemas';

export const unique = (name: string) => `${name}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export async function registerWorkflow(definition: Record<string, unknown>, token?: string): Promise<{ id: string; version: number }> {
  const res = await http<WorkflowCreatedBody>('POST', '/workflows', { body: definition, ...(token ? { token } : {}) });
  if (res.status !== 201) throw new Error(`register ${String(definition.id)}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A one-step fan-out over the run's inputs on the built-in diagnostics.delay agent. */
export function fanOutWorkflow(id: string, config: Record<string, unknown> = {}, step: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    parameters: { label: { type: 'string', default: 'x' }, mode: { type: 'string', enum: ['fast', 'slow'], default: 'fast' }, count: { type: 'integer' } },
    steps: [{ id: 'work', capability: { skill: 'diagnostics.delay' }, forEach: 'inputs', config: { delayMs: 10, ...config }, ...step }],
  };
}

export async function startRun(body: Record<string, unknown>, options: { token?: string; key?: string } = {}) {
  return http<RunCreatedBody>('POST', '/runs', { body, ...(options.token ? { token: options.token } : {}), ...(options.key ? { headers: { 'idempotency-key': options.key } } : {}) });
}

export async function getRun(runId: string, token?: string) {
  return http<RunBody>('GET', `/runs/${runId}`, token ? { token } : {});
}

export async function command(runId: string, body: Record<string, unknown>, options: { token?: string; key?: string } = {}) {
  return http<CommandBody>('POST', `/runs/${runId}/commands`, { body, ...(options.token ? { token: options.token } : {}), ...(options.key ? { headers: { 'idempotency-key': options.key } } : {}) });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export async function waitForStatus(runId: string, statuses: string[], timeoutMs: number, token?: string): Promise<RunBody> {
  return waitFor(
    `run ${runId} to be ${statuses.join('|')}`,
    async () => {
      const res = await getRun(runId, token);
      if (res.status !== 200) throw new Error(`GET /runs/${runId}: ${res.status} ${JSON.stringify(res.body)}`);
      if (statuses.includes(res.body.status)) return res.body;
      if (TERMINAL.has(res.body.status)) throw new Error(`run ${runId} ended ${res.body.status}, expected ${statuses.join('|')}: ${JSON.stringify(res.body.error ?? res.body.steps)}`);
      return undefined;
    },
    timeoutMs,
  );
}

/** An event of the log (schemas.ts): narrow on `event` (`filter((e) => e.event === 'X')`, `isEvent`) to read its payload. */
export type RunEvent = EventEnvelope;

export async function events(runId: string, token?: string): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  let afterSeq = 0;
  for (;;) {
    const res = await http<EventsPageBody>('GET', `/runs/${runId}/events?afterSeq=${afterSeq}&limit=1000`, token ? { token } : {});
    if (res.status !== 200) throw new Error(`events: ${res.status} ${JSON.stringify(res.body)}`);
    out.push(...res.body.events);
    if (res.body.events.length < 1000) return out;
    afterSeq = res.body.nextAfterSeq;
  }
}

export async function waitForEvent<E extends EventName>(runId: string, name: E, timeoutMs: number, token?: string): Promise<EventEnvelopeOf<E>> {
  return waitFor(`event ${name} of run ${runId}`, async () => (await events(runId, token)).find((e): e is EventEnvelopeOf<E> => e.event === name), timeoutMs, 250);
}

export async function workspace(runId: string, area = 'all', token?: string): Promise<Array<{ key: string; size: number; url: string }>> {
  const res = await http<WorkspaceBody>('GET', `/runs/${runId}/workspace?area=${area}`, token ? { token } : {});
  if (res.status !== 200) throw new Error(`workspace: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.objects;
}

export async function newTenantToken(tenant: string): Promise<string> {
  const res = await http<TokenBody>('POST', '/tokens', { body: { tenant, name: 'runs-e2e' } });
  if (res.status !== 201) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

export const inputs = (n: number, prefix = 'item', content = (i: number) => `content ${i}`) =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}-${String(i).padStart(4, '0')}.txt`, content: content(i) }));

/** Replays item events in seq order: the items in flight after each event. */
export function inFlightTimeline(list: RunEvent[]): Array<{ seq: number; event: string; at: number; inFlight: number }> {
  const live = new Set<string>();
  const out: Array<{ seq: number; event: string; at: number; inFlight: number }> = [];
  for (const e of list) {
    if (e.event === 'ItemStarted') live.add(`${e.payload.stepId}/${e.payload.item}`);
    else if (e.event === 'ItemCompleted' || e.event === 'ItemFailed') live.delete(`${e.payload.stepId}/${e.payload.item}`);
    out.push({ seq: e.seq, event: e.event, at: Date.parse(e.at), inFlight: live.size });
  }
  return out;
}

export async function snapshot(runId: string, token?: string): Promise<string[]> {
  return (await workspace(runId, 'all', token)).map((o) => `${o.key}:${o.size}`).sort();
}
