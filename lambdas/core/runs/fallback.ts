import { AgentplaneErrorName, FALLBACK_ERRORS } from '../workflow/errors';
import { MAX_EVENT_CANDIDATES } from '../events/schemas';
import { STEP_ITEM_KEY } from '../agent-runtime/input';

/**
 * Per-item fallback (docs/engine.md, "Fallback"): after each agent invocation of a step, the items that failed
 * in a way another agent could fix (retryable errors once their retries ran out, an open circuit at once)
 * go to the next candidate for the step's capability, each with an AgentSelected event that says where from
 * and why. The other items are settled. Pure: the registry read and the events are the caller's.
 */

/** The agent a batch of items is sent to, and what the machine carries from one pass to the next. */
export interface AgentRoute {
  agentId: string;
  functionArn: string;
  /** Passes before this one (0: the step's own agent). The agent input's epoch: a new pass runs its items again. */
  epoch: number;
  /** Agents these items already failed on, oldest first. */
  tried: string[];
  /**
   * Whether the runtime should refuse the call while the agent's circuit is open: only when there is
   * another candidate to fall back to (a circuit with nowhere else to send the work would only fail it).
   */
  circuitBreaker: boolean;
}

export interface RouteItem {
  key: string;
  size?: number;
  [field: string]: unknown;
}

export interface ItemResult {
  item: { key: string };
  status: 'succeeded' | 'failed';
  outputKey?: string;
  error?: { type: string; message: string };
  metrics?: { durationMs?: number; tokensUsed?: number; costUsd?: number; retryCount?: number };
  [field: string]: unknown;
}

export interface Capability {
  skill: string;
  input?: string;
  output?: string;
  constraints?: Record<string, unknown>;
}

export interface RouteRequest {
  runId: string;
  stepId: string;
  capability: Capability;
  items: RouteItem[];
  route: AgentRoute;
  /** Results of earlier passes of this batch. */
  settled: ItemResult[];
  /** This pass's per-item results (the invocation returned). */
  results?: unknown;
  /** The invocation's error after its retries (the invocation threw): every item failed with it. */
  error?: { name: string; cause?: string };
  /** Agent passes a batch may make (the compiler's history budget): 1 + the fallbacks allowed. */
  maxPasses: number;
}

/** The next candidate, from a fresh look at the registry (health and circuits as they are now). */
export interface CandidateChoice {
  agentId: string;
  functionArn: string;
  score: number;
  /** Candidates still untried after this one: decides whether its circuit breaker is worth respecting. */
  alternatives: number;
  /** The ranked candidates, for the event (score and reasons). */
  candidates: Array<{ agentId: string; score: number; reasons: string[] }>;
}

export interface FallbackDeps {
  /** The best candidate for the capability that is not in `exclude`; undefined when none is left. */
  choose(capability: Capability, items: readonly RouteItem[], exclude: readonly string[]): Promise<CandidateChoice | undefined>;
  emitSelected(runId: string, events: Array<AgentSelectedFallback>): Promise<void>;
  /** Records on the step that `items` moved to `agentId` (what `GET /runs/{id}` shows). */
  countMoves(runId: string, stepId: string, agentId: string, items: number): Promise<void>;
}

interface AgentSelectedFallback {
  stepId: string;
  agentId: string;
  score: number;
  candidates: CandidateChoice['candidates'];
  fallbackFrom: string;
  item?: string;
  reason: string;
}

/** What the batch's iteration outputs when it is done: the shapes the reporter already reads. */
type SettledOutput = { results: ItemResult[] } | { failed: true; items: RouteItem[]; error: { Error: string; Cause: string } };

export type RouteDecision =
  | {
      kind: 'settled';
      /** This pass's final results, for the run's live tally (earlier passes were counted at their release). */
      final: ItemResult[];
      output: SettledOutput;
    }
  | {
      kind: 'fallback';
      final: ItemResult[];
      /** The items to send to `route.agentId`, and everything settled so far (carried to the last pass). */
      pending: RouteItem[];
      route: AgentRoute;
      settled: ItemResult[];
    };

const FALLBACK = new Set<string>(FALLBACK_ERRORS);
const MAX_REASON = 1_000;

function isResult(value: unknown): value is ItemResult {
  if (!value || typeof value !== 'object') return false;
  const r = value as { item?: { key?: unknown }; status?: unknown };
  return typeof r.item?.key === 'string' && (r.status === 'succeeded' || r.status === 'failed');
}

function failedResult(item: RouteItem, type: string, message: string): ItemResult {
  return { item: { key: item.key }, status: 'failed', error: { type, message }, metrics: { durationMs: 0, tokensUsed: 0, costUsd: 0, retryCount: 0 } };
}

function reasonOf(type: string, message: string | undefined, attempts: number | undefined): string {
  const detail = message ? `: ${message}` : '';
  const text =
    type === AgentplaneErrorName.CircuitOpen
      ? `${type}${detail}`
      : `${type} after ${attempts !== undefined ? `${attempts} attempt${attempts === 1 ? '' : 's'}` : 'its retries'}${detail}`;
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

interface Failure {
  item: RouteItem;
  result: ItemResult;
  reason: string;
  circuit: boolean;
}

/** Splits a pass into settled results and items another agent could take, with the reason for each. */
function triage(request: RouteRequest): { final: ItemResult[]; movable: Failure[] } {
  const final: ItemResult[] = [];
  const movable: Failure[] = [];
  if (request.error) {
    const { name, cause } = request.error;
    for (const item of request.items) {
      const result = failedResult(item, name, cause ?? name);
      if (FALLBACK.has(name)) movable.push({ item, result, reason: reasonOf(name, cause, undefined), circuit: name === AgentplaneErrorName.CircuitOpen });
      else final.push(result);
    }
    return { final, movable };
  }
  const byKey = new Map(request.items.map((i) => [i.key, i]));
  const results = Array.isArray(request.results) ? request.results : [];
  for (const result of results) {
    if (!isResult(result)) continue;
    const type = result.error?.type;
    const item = byKey.get(result.item.key);
    if (result.status === 'failed' && type !== undefined && FALLBACK.has(type) && item) {
      const attempts = typeof result.metrics?.retryCount === 'number' ? result.metrics.retryCount + 1 : undefined;
      movable.push({ item, result, reason: reasonOf(type, result.error?.message, attempts), circuit: type === AgentplaneErrorName.CircuitOpen });
    } else {
      final.push(result);
    }
  }
  // Whatever the agent returned, unknown entries included, is kept as it was.
  for (const entry of results) if (!isResult(entry)) final.push(entry as ItemResult);
  return { final, movable };
}

function settledOutput(request: RouteRequest, final: ItemResult[]): SettledOutput {
  if (request.error && request.settled.length === 0 && final.length === request.items.length) {
    // The batch threw and nothing settled before: the shape a failed batch has always had.
    return { failed: true, items: request.items, error: { Error: request.error.name, Cause: request.error.cause ?? request.error.name } };
  }
  return { results: [...request.settled, ...final] };
}

export async function routeAfterInvocation(request: RouteRequest, deps: FallbackDeps): Promise<RouteDecision> {
  const { final, movable } = triage(request);
  const giveUp = (): RouteDecision => {
    const all = [...final, ...movable.map((m) => m.result)];
    return { kind: 'settled', final: all, output: settledOutput(request, all) };
  };
  if (movable.length === 0 || request.route.epoch + 1 >= request.maxPasses) return giveUp();

  const { route } = request;
  const tried = [...route.tried, route.agentId];
  const pending = movable.map((m) => m.item);
  const next = await deps.choose(request.capability, pending, tried);
  let nextRoute: AgentRoute;
  if (next) {
    nextRoute = {
      agentId: next.agentId,
      functionArn: next.functionArn,
      epoch: route.epoch + 1,
      tried,
      circuitBreaker: next.alternatives > 0 && route.epoch + 2 < request.maxPasses,
    };
    // Counted first: a failure here leaves no event announcing a move that will not happen.
    await deps.countMoves(request.runId, request.stepId, next.agentId, movable.length);
    await deps.emitSelected(
      request.runId,
      movable.map((m) => ({
        stepId: request.stepId,
        agentId: next.agentId,
        score: next.score,
        candidates: next.candidates.slice(0, MAX_EVENT_CANDIDATES),
        fallbackFrom: route.agentId,
        // A step without items falls back as a whole: no item to name.
        ...(m.item.key !== STEP_ITEM_KEY ? { item: m.item.key } : {}),
        reason: m.reason,
      })),
    );
  } else if (movable.every((m) => m.circuit)) {
    // Refused by a circuit breaker, and nothing else can take the items: call the agent anyway.
    nextRoute = { ...route, epoch: route.epoch + 1, circuitBreaker: false };
  } else {
    return giveUp();
  }
  return {
    kind: 'fallback',
    final,
    pending,
    route: nextRoute,
    settled: [...request.settled, ...final],
  };
}
