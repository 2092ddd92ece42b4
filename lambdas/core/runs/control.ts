import type { AcquireOutcome, ControlRecord, ItemTally, ParkedToken } from './control-record';
import type { RunRecord, RunStatus } from './model';
import type { EventName, PayloadOf } from '../events/schemas';

/**
 * Run control: item admission, pause / resume / setConcurrency / cancel, and what happens when a run's last
 * in-flight item settles. Shared by the runs API (REST and WebSocket commands), the item gate, the step gate's
 * admission and the finalizer. It never waits in a loop: a token that cannot go on is parked on the run and
 * woken by whatever frees the way (a release, a resume, a setConcurrency, a cancel).
 *
 * Why nothing is lost or run twice: a parked token is removed with a conditional delete by whoever wakes it,
 * so exactly one waker answers it; and a waiter re-checks after parking, so a release that happened between
 * its failed attempt and its parking cannot be missed (the releaser either freed the slot before the re-check,
 * or found the parked token after it was written).
 */

/** The subset of RunStore control uses (so tests can run it on a fake). */
export interface ControlStore {
  get(runId: string): Promise<RunRecord | undefined>;
  control(runId: string): Promise<ControlRecord | undefined>;
  acquire(runId: string, leaseSeconds: number, leaseId?: string): Promise<AcquireOutcome>;
  release(runId: string, leaseId: string | undefined, settledItems: number, tally?: { stepId: string } & ItemTally): Promise<ControlRecord | undefined>;
  holdLease(runId: string, leaseId: string, expiresAt: number, settledItems: number, tally?: { stepId: string } & ItemTally): Promise<ControlRecord | undefined>;
  updateControl(runId: string, change: { paused?: boolean; closed?: boolean; maxSlots?: number; bumpEpoch?: boolean }): Promise<{ before: ControlRecord; after: ControlRecord } | undefined>;
  liveLeases(control: ControlRecord): string[];
  transition(runId: string, from: readonly RunStatus[] | 'live', to: RunStatus, fields?: Record<string, unknown>): Promise<RunRecord | undefined>;
  setFields(runId: string, fields: Record<string, unknown>): Promise<void>;
  park(token: Omit<ParkedToken, 'sk' | 'parkedAt'>, expiresAt: number): Promise<ParkedToken>;
  claim(runId: string, sk: string): Promise<ParkedToken | undefined>;
  parked(runId: string, limit?: number): Promise<ParkedToken[]>;
}

interface TaskCallbacks {
  success(taskToken: string, output: unknown): Promise<void>;
  failure(taskToken: string, error: string, cause: string): Promise<void>;
}

export interface ControlDeps {
  store: ControlStore;
  tasks: TaskCallbacks;
  events: { emit<E extends EventName>(runId: string, event: E, payload: PayloadOf<E>): Promise<unknown> };
  /** StopExecution: the run's execution stops at once (its in-flight Lambdas finish, unobserved). */
  stopExecution(executionArn: string, cause: string): Promise<void>;
  /** Ends a run whose execution has ended and whose items all settled (the finalizer's second half). */
  complete?(runId: string): Promise<void>;
  /** Hands a held step back to the gate (it asks admission again, then does the step's work). */
  resumeStep(event: Record<string, unknown>): Promise<void>;
  /** Rewrites config.json's selected agents from the run record (each step's choice is recorded there). */
  refreshConfig?(run: RunRecord): Promise<void>;
  /** Marks a step held by a pause (`steps.<id>.status = paused`). */
  onStepHeld?(runId: string, stepId: string): Promise<void>;
  clock(): number;
  log?: { warn(message: string, extra?: object): void };
}

export const CANCELLED_ERROR = 'Agentplane.Cancelled';
/** The lease id of an item admitted without a semaphore. */
const NO_LEASE = 'none';

export interface AdmitRequest {
  taskToken: string;
  runId: string;
  stepId: string;
  leaseSeconds: number;
}

/** Item admission (`<step>.admit`): a slot now, a cancellation, or parked until a slot frees or the run resumes. */
export async function admitItem(deps: ControlDeps, request: AdmitRequest): Promise<'admitted' | 'parked' | 'cancelled'> {
  const first = await deps.store.acquire(request.runId, request.leaseSeconds);
  if (first.ok) {
    await deps.tasks.success(request.taskToken, { leaseId: first.leaseId });
    return 'admitted';
  }
  if (first.reason === 'missing') {
    // A run without a control item was not started by the runs API (engine tests): no semaphore to hold.
    await deps.tasks.success(request.taskToken, { leaseId: NO_LEASE });
    return 'admitted';
  }
  if (first.reason === 'closed') {
    await deps.tasks.failure(request.taskToken, CANCELLED_ERROR, `run ${request.runId} was cancelled or has ended; item not started`);
    return 'cancelled';
  }
  const run = await deps.store.get(request.runId);
  const parked = await deps.store.park(
    { kind: 'item', runId: request.runId, stepId: request.stepId, taskToken: request.taskToken, leaseSeconds: request.leaseSeconds },
    run?.expiresAt ?? Math.floor(deps.clock() / 1000) + 7 * 86_400,
  );
  // The re-check after parking (see the module comment).
  await wakeOne(deps, request.runId, parked);
  return 'parked';
}

/**
 * Tries to admit one parked item: takes a slot for it first, then claims its token (a conditional delete), so a
 * token leaves the park only with a slot, or with the run's refusal when it is closed. Returns false when the run
 * has no slot for it, so a caller waking several stops there.
 */
async function wakeOne(deps: ControlDeps, runId: string, parked: ParkedToken): Promise<boolean> {
  const outcome = await deps.store.acquire(runId, parked.leaseSeconds ?? 900);
  if (!outcome.ok && outcome.reason !== 'closed' && outcome.reason !== 'missing') return false;
  const claimed = await deps.store.claim(runId, parked.sk);
  if (!claimed) {
    // Someone else answered this token: the slot goes back, to the next waiter if there is one.
    if (outcome.ok) await releaseAndFollowUp(deps, runId, outcome.leaseId, 0);
    return outcome.ok;
  }
  if (outcome.ok) {
    await answer(deps, claimed, () => deps.tasks.success(claimed.taskToken, { leaseId: outcome.leaseId }));
    return true;
  }
  await answer(deps, claimed, () => deps.tasks.failure(claimed.taskToken, CANCELLED_ERROR, `run ${runId} was cancelled or has ended; item not started`));
  return false;
}

/** A token whose execution stopped meanwhile cannot be answered; that is not an error. */
async function answer(deps: ControlDeps, parked: ParkedToken, send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'TaskTimedOut' || name === 'InvalidToken' || name === 'TaskDoesNotExist') {
      deps.log?.warn('parked token no longer answerable', { runId: parked.runId, stepId: parked.stepId, error: name });
      return;
    }
    throw error;
  }
}

/** Wakes parked items while slots are free, oldest first; parked steps are left to `resume`. */
async function wakeParked(deps: ControlDeps, runId: string, known?: ControlRecord): Promise<number> {
  let woken = 0;
  const control = known ?? (await deps.store.control(runId));
  if (!control || control.paused) return 0;
  for (const parked of await deps.store.parked(runId)) {
    if (parked.kind !== 'item') continue;
    if (!(await wakeOne(deps, runId, parked))) break;
    woken++;
  }
  return woken;
}

/** `<step>.release`: the item's invocation came back (succeeded or failed); its slot goes to the next item. */
export interface ReleaseRequest {
  runId: string;
  stepId?: string;
  leaseId?: string;
  /** Items that settled with this release (0 when they all fall back to another agent). */
  items: number;
  /** The settled items' results: statuses and metrics. */
  results?: unknown;
  /** The invocation's error name (failure path); without `results`, every item of the invocation failed. */
  error?: string;
  timeoutSeconds?: number;
}

/**
 * A step's counts from one invocation's results (or its failure), for the run's live view. Tokens and cost are
 * only those of results whose spend is not in the run's ledger already (`spendRecorded`: the agent runtime
 * counted it when it emitted the item's event; lambdas/core/runs/spend.ts): the live view adds the two.
 */
export function tallyOf(request: Pick<ReleaseRequest, 'items' | 'results' | 'error'>): ItemTally {
  const tally: ItemTally = { succeeded: 0, failed: 0, tokens: 0, costUsd: 0 };
  if (!Array.isArray(request.results)) {
    tally.failed = request.items;
    return tally;
  }
  // Results come from agents' Lambda output: any entry may be malformed.
  for (const r of request.results as Array<{ status?: string; spendRecorded?: unknown; metrics?: { tokensUsed?: unknown; costUsd?: unknown } } | null | undefined>) {
    if (r?.status === 'succeeded') tally.succeeded++;
    else tally.failed++;
    if (r?.spendRecorded === true) continue;
    const tokens = Number(r?.metrics?.tokensUsed);
    const cost = Number(r?.metrics?.costUsd);
    if (Number.isFinite(tokens) && tokens > 0) tally.tokens += tokens;
    if (Number.isFinite(cost) && cost > 0) tally.costUsd += cost;
  }
  return tally;
}

export async function releaseItem(deps: ControlDeps, request: ReleaseRequest): Promise<void> {
  if (request.leaseId === NO_LEASE) return;
  const settled = Math.max(0, request.items);
  const tally = request.stepId ? { stepId: request.stepId, ...tallyOf(request) } : undefined;
  if (request.error === 'States.Timeout' && request.leaseId) {
    // Step Functions stopped waiting, the Lambda did not: its slot stays taken for one more timeout (then it
    // is presumed dead), so neither a new item nor the run's end overtakes a late write of it. Its expiry is
    // noticed by the next acquire when the run is full, or by the sweep.
    const holdMs = Math.max(1, request.timeoutSeconds ?? 300) * 1000;
    const control = await deps.store.holdLease(request.runId, request.leaseId, deps.clock() + holdMs, settled, tally);
    if (control) await afterSettle(deps, request.runId, control);
    return;
  }
  const control = await deps.store.release(request.runId, request.leaseId, settled, tally);
  if (control) await afterSettle(deps, request.runId, control);
}

async function releaseAndFollowUp(deps: ControlDeps, runId: string, leaseId: string | undefined, settled: number): Promise<void> {
  const control = await deps.store.release(runId, leaseId, settled);
  if (!control) return;
  await afterSettle(deps, runId, control);
}

/**
 * What a freed slot means for the run: a pausing run whose last item settled is PAUSED; a closed run (cancel,
 * end) whose last item settled is stopped or completed; otherwise waiting items get the slot.
 */
export async function afterSettle(deps: ControlDeps, runId: string, control: ControlRecord): Promise<void> {
  const inFlight = deps.store.liveLeases(control).length;
  if (control.closed) {
    if (inFlight === 0) await drained(deps, runId);
    return;
  }
  if (control.paused) {
    if (inFlight === 0) await markPaused(deps, runId);
    return;
  }
  await wakeParked(deps, runId, control);
}

async function markPaused(deps: ControlDeps, runId: string): Promise<void> {
  const run = await deps.store.transition(runId, ['PAUSING'], 'PAUSED', { pausedAt: new Date(deps.clock()).toISOString() });
  if (run) await deps.events.emit(runId, 'RunPaused', { reason: (run as unknown as { pauseReason?: string }).pauseReason ?? 'requested' });
}

/**
 * Every in-flight item of a closed run has settled: a cancelled run's execution is stopped now (nothing of it
 * runs any more, so nothing is written after), and a run whose execution already ended is completed.
 */
async function drained(deps: ControlDeps, runId: string): Promise<void> {
  const run = await deps.store.get(runId);
  if (!run) return;
  if (run.status === 'CANCELLING') {
    if (run.executionArn && !run.execution) await deps.stopExecution(run.executionArn, run.cancel?.reason ?? 'cancelled by request');
    else if (deps.complete) await deps.complete(runId);
    // Stopping makes the execution ABORTED, whose status change reaches the finalizer, which completes the run.
    return;
  }
  if (run.status === 'FINALIZING' && deps.complete) await deps.complete(runId);
}

// ---------------------------------------------------------------- commands

export type CommandResult = { status: RunStatus; accepted: true; [k: string]: unknown };

export async function pauseRun(deps: ControlDeps, run: RunRecord, reason?: string): Promise<CommandResult> {
  if (run.status === 'PAUSED' || run.status === 'PAUSING') return { status: run.status, accepted: true };
  const moved = await deps.store.transition(run.runId, ['RUNNING', 'STARTING'], 'PAUSING', { pauseRequestedAt: new Date(deps.clock()).toISOString(), pauseReason: reason ?? 'requested' });
  if (!moved) return currentStatus(deps, run.runId);
  // After this one write no item can take a slot; the items holding one are exactly the ones in flight.
  const control = await deps.store.updateControl(run.runId, { paused: true });
  if (control && deps.store.liveLeases(control.after).length === 0) await markPaused(deps, run.runId);
  return currentStatus(deps, run.runId);
}

export async function resumeRun(deps: ControlDeps, run: RunRecord): Promise<CommandResult> {
  if (run.status !== 'PAUSED' && run.status !== 'PAUSING') return { status: run.status, accepted: true };
  const moved = await deps.store.transition(run.runId, ['PAUSED', 'PAUSING'], 'RUNNING', { resumedAt: new Date(deps.clock()).toISOString() });
  if (!moved) return currentStatus(deps, run.runId);
  await deps.store.updateControl(run.runId, { paused: false });
  await deps.events.emit(run.runId, 'RunResumed', {});
  // Steps the gate held first (they were admitted before the pause was asked for), then waiting items.
  for (const parked of await deps.store.parked(run.runId)) {
    if (parked.kind !== 'step') continue;
    const claimed = await deps.store.claim(run.runId, parked.sk);
    if (claimed?.event) await deps.resumeStep(claimed.event);
  }
  await wakeParked(deps, run.runId);
  return currentStatus(deps, run.runId);
}

export async function setConcurrency(deps: ControlDeps, run: RunRecord, maxConcurrency: number): Promise<CommandResult> {
  const control = await deps.store.updateControl(run.runId, { maxSlots: maxConcurrency });
  const previous = run.limits.maxConcurrency > 0 ? run.limits.maxConcurrency : undefined;
  await deps.store.setFields(run.runId, { limits: { ...run.limits, maxConcurrency } });
  await deps.events.emit(run.runId, 'ConcurrencyChanged', { maxConcurrency, ...(previous ? { previous } : {}) });
  // A higher limit has room for waiting items now.
  if (control && !control.after.paused && !control.after.closed) await wakeParked(deps, run.runId);
  return { status: run.status, accepted: true, maxConcurrency, inFlight: control ? deps.store.liveLeases(control.after).length : 0 };
}

/**
 * Cancel: the intent is persisted first (status CANCELLING, epoch bumped, admission closed: no item starts
 * from here), parked tokens are failed, and once the items in flight have settled the execution is stopped;
 * its ABORTED status reaches the finalizer, which emits RunCancelled with the receipt.
 */
export async function cancelRun(deps: ControlDeps, run: RunRecord, reason?: string): Promise<CommandResult> {
  if (run.status === 'CANCELLING') return { status: run.status, accepted: true };
  const now = new Date(deps.clock()).toISOString();
  const moved = await deps.store.transition(run.runId, ['QUEUED', 'STARTING', 'RUNNING', 'PAUSING', 'PAUSED'], 'CANCELLING', {
    cancel: { requestedAt: now, ...(reason ? { reason } : {}) },
    epoch: run.epoch + 1,
  });
  if (!moved) return currentStatus(deps, run.runId);
  const control = await deps.store.updateControl(run.runId, { closed: true, bumpEpoch: true });
  for (const parked of await deps.store.parked(run.runId)) {
    const claimed = await deps.store.claim(run.runId, parked.sk);
    if (claimed) await answer(deps, claimed, () => deps.tasks.failure(claimed.taskToken, CANCELLED_ERROR, `run ${run.runId} was cancelled`));
  }
  if (!control || deps.store.liveLeases(control.after).length === 0) await drained(deps, run.runId);
  return currentStatus(deps, run.runId);
}

async function currentStatus(deps: ControlDeps, runId: string): Promise<CommandResult> {
  const run = await deps.store.get(runId);
  return { status: (run?.status ?? 'FAILED'), accepted: true };
}

/** The Map's MaxConcurrency for a step under the run-wide cap (0 = unlimited, as in ASL). */
function capConcurrency(stepMax: number, runMax: number): number {
  if (runMax <= 0 || runMax >= 1_000_000) return stepMax;
  return stepMax === 0 ? runMax : Math.min(stepMax, runMax);
}

// ---------------------------------------------------------------- step admission (the gate)

export type StepAdmission = { admit: true; maxConcurrency?: number } | { admit: false; reason: string };

export interface StepAdmissionRequest {
  taskToken: string;
  runId: string;
  stepId: string;
  /** The step's own maxConcurrency (fan-out steps; 0 or absent = no limit). */
  maxConcurrency?: number;
  fanOut: boolean;
  /** The gate's whole event: kept with a held token, handed back to the gate on resume. */
  event: Record<string, unknown>;
}

/**
 * The gate's decision before a step (lambdas/engine-gate/admission.ts): go on now, with the Map's
 * maxConcurrency capped by the run's current limit; hold the token on the run while it is paused (resume
 * invokes the gate again with the same event); or, for a cancelled or ended run, fail the token at once.
 */
export async function admitStep(deps: ControlDeps, request: StepAdmissionRequest): Promise<StepAdmission> {
  const [control, run] = await Promise.all([deps.store.control(request.runId), deps.store.get(request.runId)]);
  if (control?.closed || (run && (run.status === 'CANCELLING' || isClosedStatus(run.status)))) {
    await answerToken(deps, request.runId, request.stepId, () =>
      deps.tasks.failure(request.taskToken, CANCELLED_ERROR, `run ${request.runId} was cancelled or has ended; step ${request.stepId} not started`),
    );
    return { admit: false, reason: 'cancelled' };
  }
  const admit = async (slots: number): Promise<StepAdmission> => {
    if (run?.status === 'STARTING') await deps.store.transition(run.runId, ['STARTING'], 'RUNNING');
    // The agents chosen for the steps before this one reach config.json as the run goes.
    if (run && deps.refreshConfig) await deps.refreshConfig(run);
    return request.fanOut ? { admit: true, maxConcurrency: capConcurrency(request.maxConcurrency ?? 0, slots) } : { admit: true };
  };

  // A run without a control item was not started by the runs API (engine tests): nothing to enforce.
  if (!control || !run) return { admit: true };
  if (!control.paused) return admit(control.maxSlots);
  const parked = await deps.store.park({ kind: 'step', runId: request.runId, stepId: request.stepId, taskToken: request.taskToken, event: request.event }, run.expiresAt);
  // A resume between the read above and the park would not have seen this token: look again.
  const again = await deps.store.control(request.runId);
  if (again && !again.paused && !again.closed && (await deps.store.claim(request.runId, parked.sk))) return admit(again.maxSlots);
  await deps.onStepHeld?.(request.runId, request.stepId);
  return { admit: false, reason: 'paused' };
}

function isClosedStatus(status: string): boolean {
  return status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED' || status === 'FINALIZING';
}

async function answerToken(deps: ControlDeps, runId: string, stepId: string, send: () => Promise<void>): Promise<void> {
  await answer(deps, { runId, stepId } as ParkedToken, send);
}
