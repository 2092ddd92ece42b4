import type { AcquireOutcome, ControlRecord, ItemTally, ParkedToken } from '../../../lambdas/core/runs/control-record';
import type { ControlStore } from '../../../lambdas/core/runs/control';
import type { FinalizeDeps } from '../../../lambdas/core/runs/finalize';
import type { RunRecord, RunStatus } from '../../../lambdas/core/runs/model';
import { emptySummary } from '../../../lambdas/core/runs/model';

/** The run store's semantics in memory: conditional transitions, the semaphore, parked tokens. */
export class MemoryStore implements ControlStore {
  runs = new Map<string, RunRecord>();
  controls = new Map<string, ControlRecord>();
  parkedTokens = new Map<string, ParkedToken[]>();
  now = 1_000_000;
  private seq = 0;

  seed(run: Partial<RunRecord> & { runId: string }, control: Partial<ControlRecord> = {}): RunRecord {
    const full: RunRecord = {
      tenant: 't',
      workflowId: 'wf',
      workflowVersion: 1,
      stateMachineArn: 'sm',
      stateMachineVersionArn: 'sm:1',
      aslSha256: 'h',
      status: 'RUNNING',
      priority: 5,
      parameters: {},
      createdAt: new Date(this.now).toISOString(),
      updatedAt: new Date(this.now).toISOString(),
      epoch: 0,
      steps: {},
      summary: emptySummary(),
      agents: {},
      limits: { maxConcurrency: 0 },
      inputCount: 0,
      expiresAt: 9_999_999_999,
      executionArn: `arn:exec:${run.runId}`,
      ...run,
    };
    this.runs.set(full.runId, full);
    this.controls.set(full.runId, { leases: {}, maxSlots: 1_000_000, paused: false, closed: false, epoch: 0, settled: 0, ...control });
    return full;
  }

  async get(runId: string) {
    const r = this.runs.get(runId);
    return r ? structuredClone(r) : undefined;
  }
  async control(runId: string) {
    const c = this.controls.get(runId);
    return c ? structuredClone(c) : undefined;
  }
  async acquire(runId: string, leaseSeconds: number, leaseId = `lease-${++this.seq}`): Promise<AcquireOutcome> {
    const c = this.controls.get(runId);
    if (!c) return { ok: false, reason: 'missing' };
    if (c.closed) return { ok: false, reason: 'closed' };
    if (c.paused) return { ok: false, reason: 'paused' };
    for (const [id, exp] of Object.entries(c.leases)) if (exp <= this.now) Reflect.deleteProperty(c.leases, id);
    if (Object.keys(c.leases).length >= c.maxSlots) return { ok: false, reason: 'full' };
    c.leases[leaseId] = this.now + leaseSeconds * 1000;
    return { ok: true, leaseId };
  }
  async release(runId: string, leaseId: string | undefined, settled: number, tally?: { stepId: string } & ItemTally) {
    const c = this.controls.get(runId);
    if (!c) return undefined;
    if (leaseId) {
      if (!(leaseId in c.leases)) return structuredClone(c);
      Reflect.deleteProperty(c.leases, leaseId);
    }
    c.settled += settled;
    if (tally) {
      c.live ??= {};
      for (const k of ['succeeded', 'failed', 'tokens', 'costUsd'] as const) c.live[`${tally.stepId}/${k}`] = (c.live[`${tally.stepId}/${k}`] ?? 0) + tally[k];
    }
    return structuredClone(c);
  }
  async holdLease(runId: string, leaseId: string, expiresAt: number, settled: number) {
    const c = this.controls.get(runId);
    if (!c) return undefined;
    if (leaseId in c.leases) {
      c.leases[leaseId] = expiresAt;
      c.settled += settled;
    }
    return structuredClone(c);
  }
  async updateControl(runId: string, change: { paused?: boolean; closed?: boolean; maxSlots?: number; bumpEpoch?: boolean }) {
    const c = this.controls.get(runId);
    if (!c) return undefined;
    const before = structuredClone(c);
    if (change.paused !== undefined) c.paused = change.paused;
    if (change.closed !== undefined) c.closed = change.closed;
    if (change.maxSlots !== undefined) c.maxSlots = change.maxSlots;
    if (change.bumpEpoch) c.epoch++;
    return { before, after: structuredClone(c) };
  }
  liveLeases(control: ControlRecord) {
    return Object.entries(control.leases).filter(([, exp]) => exp > this.now).map(([id]) => id);
  }
  async transition(runId: string, from: readonly RunStatus[] | 'live', to: RunStatus, fields: Record<string, unknown> = {}) {
    const r = this.runs.get(runId);
    const live = ['QUEUED', 'STARTING', 'RUNNING', 'PAUSING', 'PAUSED', 'CANCELLING', 'FINALIZING'];
    if (!r || !(from === 'live' ? live : from).includes(r.status)) return undefined;
    Object.assign(r, fields, { status: to, updatedAt: new Date(this.now).toISOString() });
    return structuredClone(r);
  }
  async setFields(runId: string, fields: Record<string, unknown>) {
    const r = this.runs.get(runId);
    if (r) Object.assign(r, fields);
  }
  async park(token: Omit<ParkedToken, 'sk' | 'parkedAt'>) {
    const parked: ParkedToken = { ...token, sk: `PARK#${String(++this.seq).padStart(6, '0')}`, parkedAt: new Date(this.now).toISOString() };
    const list = this.parkedTokens.get(token.runId) ?? [];
    list.push(parked);
    this.parkedTokens.set(token.runId, list);
    return parked;
  }
  async claim(runId: string, sk: string) {
    const list = this.parkedTokens.get(runId) ?? [];
    const i = list.findIndex((p) => p.sk === sk);
    if (i < 0) return undefined;
    return list.splice(i, 1)[0];
  }
  async parked(runId: string) {
    return [...(this.parkedTokens.get(runId) ?? [])];
  }
}

export interface Recorded {
  /** The admission answers a task with its lease: `{leaseId}`. */
  successes: Array<{ token: string; output: { leaseId?: string } }>;
  failures: Array<{ token: string; error: string }>;
  events: Array<{ runId: string; event: string; payload: unknown }>;
  stopped: string[];
  resumed: Array<Record<string, unknown>>;
  completed: string[];
  written: Record<string, unknown>;
  deleted: string[];
}

export function fakeDeps(store: MemoryStore): { deps: FinalizeDeps; rec: Recorded } {
  const rec: Recorded = { successes: [], failures: [], events: [], stopped: [], resumed: [], completed: [], written: {}, deleted: [] };
  const deps: FinalizeDeps = {
    store,
    tasks: {
      async success(token, output) {
        rec.successes.push({ token, output: output as { leaseId?: string } });
      },
      async failure(token, error) {
        rec.failures.push({ token, error });
      },
    },
    events: {
      async emit(runId, event, payload) {
        rec.events.push({ runId, event, payload });
      },
    },
    async stopExecution(arn) {
      rec.stopped.push(arn);
    },
    async resumeStep(event) {
      rec.resumed.push(event);
    },
    workspace: {
      async putJson(key, value) {
        rec.written[key] = value;
      },
      async deletePrefix(prefix) {
        rec.deleted.push(prefix);
        return 0;
      },
    },
    async unlist() {},
    clock: () => store.now,
  };
  deps.complete = async (runId) => {
    rec.completed.push(runId);
    const { completeRun } = await import('../../../lambdas/core/runs/finalize');
    await completeRun(deps, runId);
  };
  return { deps, rec };
}

;
