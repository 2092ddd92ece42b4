import { STEP_ITEM_KEY } from '../core/agent-runtime/input';
import type { ReleaseRequest } from '../core/runs/control';
import {
  routeAfterInvocation,
  type AgentRoute,
  type RouteDecision,
  type RouteRequest,
  type Capability,
  type FallbackDeps,
  type ItemResult,
  type RouteItem,
} from '../core/runs/fallback';

/**
 * `<step>.release` of a compiled machine (docs/engine.md, "Item admission" and "Fallback"): gives the item's
 * slot back with the tally of what settled, and, for machines compiled with fallback, answers with the route
 * of the batch: settled (`{results}` or `{failed, items, error}`) or sent again to another candidate.
 */

export interface ReleaseEvent {
  action: 'release';
  runId: string;
  stepId: string;
  items?: unknown[];
  leaseId?: string;
  results?: unknown;
  error?: string;
  cause?: string;
  timeoutSeconds?: number;
  /** Present in machines compiled with fallback. `batch` for Map iterations, `agent` for a single step. */
  fallback?: {
    capability: Capability;
    maxPasses: number;
    batch?: { agent: AgentRoute; settled?: ItemResult[]; [field: string]: unknown };
    agent?: AgentRoute;
  };
}

export type ReleaseAnswer =
  | { outcome: 'released' }
  | { results: ItemResult[] }
  | { failed: true; items: RouteItem[]; error: { Error: string; Cause: string } }
  | { fallback: true; Items: RouteItem[]; BatchInput: Record<string, unknown> }
  | { fallback: true; agent: AgentRoute };

export interface ReleaseDeps {
  release(request: ReleaseRequest): Promise<void>;
  fallback: FallbackDeps;
  log: { warn(message: string, extra?: object): void };
}

function itemsOf(event: ReleaseEvent): RouteItem[] {
  const items = (Array.isArray(event.items) ? event.items : []).filter((i: unknown): i is RouteItem => typeof (i as { key?: unknown } | null)?.key === 'string');
  // A step without forEach runs on one pseudo item, the step itself (what the agent runtime reports).
  return items.length > 0 ? items : [{ key: STEP_ITEM_KEY }];
}

/**
 * Lambda errors reach Step Functions with a JSON cause (`{"errorMessage", "errorType", "stackTrace"}`); only the
 * message belongs in events and results, never a stack trace.
 */
export function causeMessage(cause: string | undefined): string | undefined {
  if (cause === undefined || cause === '') return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown } | null;
    if (parsed && typeof parsed === 'object' && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: the cause is the message.
  }
  return cause;
}

export async function handleRelease(event: ReleaseEvent, deps: ReleaseDeps): Promise<ReleaseAnswer> {
  const base = {
    runId: event.runId,
    stepId: event.stepId,
    ...(event.leaseId ? { leaseId: event.leaseId } : {}),
    ...(event.error ? { error: event.error } : {}),
    ...(event.timeoutSeconds ? { timeoutSeconds: event.timeoutSeconds } : {}),
  };
  const spec = event.fallback;
  const route = spec?.batch?.agent ?? spec?.agent;
  if (!spec || !route) {
    // A machine compiled before fallback: release and count, nothing to answer.
    await deps.release({ ...base, items: Math.max(1, Array.isArray(event.items) ? event.items.length : 1), ...(event.results !== undefined ? { results: event.results } : {}) });
    return { outcome: 'released' };
  }
  const items = itemsOf(event);
  const message = causeMessage(event.cause);
  const request: RouteRequest = {
    runId: event.runId,
    stepId: event.stepId,
    capability: spec.capability,
    items,
    route,
    settled: Array.isArray(spec.batch?.settled) ? spec.batch.settled : [],
    ...(event.error ? { error: { name: event.error, ...(message !== undefined ? { cause: message } : {}) } } : { results: event.results }),
    maxPasses: spec.maxPasses,
  };
  let decision: RouteDecision;
  try {
    decision = await routeAfterInvocation(request, deps.fallback);
  } catch (error) {
    // Fallback is best effort: if the registry or the event log cannot be reached, the items keep their own
    // outcome and the slot is still given back (a lost release would hold the run's end until the lease expires).
    deps.log.warn('fallback decision failed; the items settle as they are', { runId: event.runId, stepId: event.stepId, error: String(error) });
    decision = await routeAfterInvocation({ ...request, maxPasses: 0 }, deps.fallback);
  }
  await deps.release({ ...base, items: decision.final.length, results: decision.final });
  if (decision.kind === 'settled') return spec.batch ? decision.output : { outcome: 'released' };
  if (!spec.batch) return { fallback: true, agent: decision.route };
  return { fallback: true, Items: decision.pending, BatchInput: { ...spec.batch, agent: decision.route, settled: decision.settled } };
}
