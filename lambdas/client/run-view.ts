/**
 * A run as a client sees it, rebuilt from its event log alone: status, per-step progress, tokens and cost.
 * Pure: the CLI's progress bars, the dashboard and `npm start`'s sample run all fold events through `applyEvent`.
 */
import type { EventName, PayloadOf } from '../core/events/schemas';

type StepViewStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';
export type RunViewStatus = 'QUEUED' | 'RUNNING' | 'PAUSED' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface StepView {
  stepId: string;
  status: StepViewStatus;
  skill?: string;
  agentId?: string;
  totalItems: number;
  succeeded: number;
  failed: number;
  inFlight: number;
  tokens: number;
  costUsd: number;
  reason?: string;
  /** Items that moved to another agent after failing on theirs (AgentSelected with fallbackFrom). */
  fallbacks?: number;
}

/** Items of a step whose failure may still be undone by a fallback; kept beside the view, not in it. */
const failedItems = new WeakMap<StepView, Set<string>>();

export interface RunView {
  runId: string;
  status: RunViewStatus;
  lastSeq: number;
  /** Steps in the order they were first heard of. */
  steps: StepView[];
  tokens: number;
  costUsd: number;
  /** The LLM providers the spend came from (metrics.provider of item events, summaries' providers), sorted. */
  providers?: string[];
  error?: { type: string; message: string };
  receipt?: { itemsDone: number; itemsAbandoned: number };
}

function addProviders(view: RunView, providers: ReadonlyArray<unknown> | undefined): void {
  const named = (providers ?? []).filter((p): p is string => typeof p === 'string' && p !== '');
  if (named.length === 0) return;
  view.providers = [...new Set([...(view.providers ?? []), ...named])].sort();
}

export const emptyRunView = (runId: string): RunView => ({ runId, status: 'QUEUED', lastSeq: 0, steps: [], tokens: 0, costUsd: 0 });

export const isFinal = (status: RunViewStatus): boolean => status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED';

function stepOf(view: RunView, stepId: string): StepView {
  let step = view.steps.find((s) => s.stepId === stepId);
  if (!step) {
    step = { stepId, status: 'pending', totalItems: 0, succeeded: 0, failed: 0, inFlight: 0, tokens: 0, costUsd: 0 };
    view.steps.push(step);
  }
  return step;
}

/**
 * A payload as a client receives it. A frame too large for the WebSocket carries only the payload's small scalar
 * fields (frames.ts, encodeEventFrame), so an object-valued field may be missing.
 */
type Received<P> = { [K in keyof P]: P[K] extends string | number | boolean | null | undefined ? P[K] : P[K] | undefined };

/** One event of a run's log, as `applyEvent` folds it: the payload matches the event's name. */
export type FoldableEvent = {
  [E in EventName]: { seq: number; event: E; payload: Received<PayloadOf<E>> };
}[EventName];

/** Folds one event into the view (mutating it) and returns it. Events at or below `lastSeq` are ignored. */
export function applyEvent(view: RunView, event: FoldableEvent): RunView {
  if (event.seq <= view.lastSeq) return view;
  view.lastSeq = event.seq;
  switch (event.event) {
    case 'RunQueued':
      view.status = 'QUEUED';
      break;
    case 'RunStarted':
    case 'RunResumed':
      view.status = 'RUNNING';
      break;
    case 'RunPaused':
      view.status = 'PAUSED';
      break;
    case 'RunSucceeded':
      view.status = 'SUCCEEDED';
      addProviders(view, event.payload.summary?.providers);
      break;
    case 'RunFailed':
      view.status = 'FAILED';
      view.error = event.payload.error;
      addProviders(view, event.payload.summary?.providers);
      break;
    case 'RunCancelled':
      view.status = 'CANCELLED';
      view.receipt = event.payload.receipt;
      break;
    case 'AgentSelected': {
      const p = event.payload;
      const step = stepOf(view, p.stepId);
      if (p.fallbackFrom === undefined) step.agentId = p.agentId;
      else {
        step.fallbacks = (step.fallbacks ?? 0) + 1;
        // The item's failure on the agent it leaves is not final: it runs again on p.agentId.
        const failed = failedItems.get(step);
        if (p.item !== undefined && failed?.delete(p.item)) step.failed = Math.max(0, step.failed - 1);
      }
      break;
    }
    case 'StepStarted': {
      const p = event.payload;
      const step = stepOf(view, p.stepId);
      Object.assign(step, { status: 'running', skill: p.skill, agentId: p.agentId, totalItems: p.totalItems });
      if (view.status === 'QUEUED') view.status = 'RUNNING';
      break;
    }
    case 'StepSkipped':
      Object.assign(stepOf(view, event.payload.stepId), { status: 'skipped', reason: event.payload.reason });
      break;
    case 'ItemStarted':
      stepOf(view, event.payload.stepId).inFlight++;
      break;
    case 'ItemCompleted':
    case 'ItemFailed': {
      const p = event.payload;
      const step = stepOf(view, p.stepId);
      step.inFlight = Math.max(0, step.inFlight - 1);
      // Every attempt's spend counts, a failed one that will be retried too (as in the run's totals).
      const tokens = p.metrics?.tokensUsed ?? 0;
      const cost = p.metrics?.costUsd ?? 0;
      step.tokens += tokens;
      step.costUsd += cost;
      view.tokens += tokens;
      view.costUsd += cost;
      addProviders(view, [p.metrics?.provider]);
      // A failed attempt that will be retried is not a settled item.
      if (event.event === 'ItemFailed' && event.payload.retry) break;
      if (event.event === 'ItemCompleted') step.succeeded++;
      else {
        step.failed++;
        let failed = failedItems.get(step);
        if (!failed) {
          failed = new Set();
          failedItems.set(step, failed);
        }
        failed.add(p.item);
      }
      break;
    }
    case 'StepCompleted': {
      const step = stepOf(view, event.payload.stepId);
      const s = event.payload.summary;
      if (!s) throw new Error(`StepCompleted #${event.seq} of step ${step.stepId} came without its summary`);
      // The step summary is authoritative: it also covers items whose events this client never saw.
      view.tokens += s.totalTokens - step.tokens;
      view.costUsd += s.totalCostUsd - step.costUsd;
      addProviders(view, s.providers);
      Object.assign(step, {
        status: s.failureCount > 0 && s.successCount === 0 && s.totalItems > 0 ? 'failed' : 'succeeded',
        totalItems: s.totalItems,
        succeeded: s.successCount,
        failed: s.failureCount,
        inFlight: 0,
        tokens: s.totalTokens,
        costUsd: s.totalCostUsd,
      });
      break;
    }
    default:
      break;
  }
  return view;
}
