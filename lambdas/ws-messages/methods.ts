import type { RequestFrame, ResponseFrame, ParamsOf } from '../core/events/frames';
import { errorResponse, okResponse } from '../core/events/frames';
import type { EventStore } from '../aws/event-store';
import { replayThenGoLive, type DeliveryDeps, type SubscriptionStore } from '../aws/events-subscriptions';
import { publicRun, runSnapshot, type RunAccess } from '../aws/run-access';
import { overlaySpend, type StepState } from '../core/runs/model';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors';

/**
 * The WebSocket methods (CONTRACT.md). Each returns the `res` frame; events of a subscribe go out through
 * PostToConnection before the `res` does.
 */
export interface MethodContext {
  connectionId: string;
  tenant: string;
  now: () => number;
}

export interface MethodDeps extends DeliveryDeps {
  store: EventStore;
  subscriptions: SubscriptionStore;
  runs: RunAccess;
  /** Replay budget per subscribe: API Gateway answers a route within 29 s. */
  replayBudgetMs: number;
  maxReplayEvents: number;
  maxSubscriptionsPerConnection: number;
  /**
   * Runs a control command as `POST /runs/{id}/commands` does (same checks, same idempotency store): the
   * WebSocket is only another transport for it.
   */
  command(tenant: string, runId: string, command: { type: string; maxConcurrency?: number }, idempotencyKey?: string): Promise<unknown>;
}

type Handler<M extends RequestFrame['method']> = (deps: MethodDeps, ctx: MethodContext, id: string, params: ParamsOf<M>) => Promise<ResponseFrame>;

const subscribe: Handler<'subscribe'> = async (deps, ctx, id, params) => {
  const run = await deps.runs.forTenant(params.runId, ctx.tenant);
  const afterSeq = params.afterSeq ?? 0;
  const [first, lastAllocated] = await Promise.all([deps.store.firstAvailableSeq(params.runId), deps.store.lastAllocatedSeq(params.runId)]);
  // Everything up to firstSeq - 1 has expired (or, with no event left, everything allocated so far).
  const firstSeq = first ?? lastAllocated + 1;
  if (afterSeq < firstSeq - 1) {
    return errorResponse(id, {
      code: 'reset',
      message: `events ${afterSeq + 1}..${firstSeq - 1} have expired; rebuild from the snapshot and subscribe with afterSeq ${firstSeq - 1}`,
      details: { firstSeq, snapshot: runSnapshot(run, lastAllocated) },
    });
  }
  const existing = await deps.subscriptions.get(ctx.connectionId, params.runId);
  if (!existing && (await deps.subscriptions.countOf(ctx.connectionId)) >= deps.maxSubscriptionsPerConnection) {
    return errorResponse(id, { code: 'rate_limited', message: `a connection may subscribe to at most ${deps.maxSubscriptionsPerConnection} runs` });
  }
  const sub = await deps.subscriptions.create(ctx.connectionId, params.runId, ctx.tenant, afterSeq, ctx.now());
  const result = await replayThenGoLive(deps, sub, {
    deadline: ctx.now() + deps.replayBudgetMs,
    maxEvents: deps.maxReplayEvents,
  });
  if (result.outcome === 'superseded') {
    return errorResponse(id, { code: 'conflict', message: 'a later subscribe (or unsubscribe) to this run replaced this one' });
  }
  return okResponse(id, {
    runId: params.runId,
    afterSeq,
    lastSeq: result.lastSeq,
    replayed: result.replayed,
    // false: the replay budget ran out; send subscribe again with afterSeq = lastSeq to continue.
    complete: result.outcome === 'live',
  });
};

const unsubscribe: Handler<'unsubscribe'> = async (deps, ctx, id, params) => {
  const removed = await deps.subscriptions.remove(ctx.connectionId, params.runId);
  return okResponse(id, { runId: params.runId, unsubscribed: removed });
};

const runsGet: Handler<'runs.get'> = async (deps, ctx, id, params) => {
  const run = await deps.runs.forTenant(params.runId, ctx.tenant);
  const [lastSeq, ledger] = await Promise.all([deps.store.lastAllocatedSeq(params.runId), deps.store.spend(params.runId)]);
  // Steps' tokens and cost as GET /runs/{id} gives them: every attempt's, from the run's spend ledger.
  return okResponse(id, { run: publicRun({ ...run, steps: overlaySpend((run.steps ?? {}) as Record<string, StepState>, ledger) }), lastSeq });
};

const runsCommand: Handler<'runs.command'> = async (deps, ctx, id, params) => {
  const { runId, idempotencyKey, ...command } = params;
  try {
    return okResponse(id, await deps.command(ctx.tenant, runId, command, idempotencyKey));
  } catch (error) {
    if (error instanceof ConflictError) return errorResponse(id, { code: 'conflict', message: error.message });
    if (error instanceof ValidationError) return errorResponse(id, { code: 'invalid_params', message: error.message });
    throw error;
  }
};

const ping: Handler<'ping'> = (_deps, ctx, id) => Promise.resolve(okResponse(id, { pong: true, at: new Date(ctx.now()).toISOString() }));

export async function dispatch(deps: MethodDeps, ctx: MethodContext, request: RequestFrame): Promise<ResponseFrame> {
  try {
    switch (request.method) {
      case 'subscribe':
        return await subscribe(deps, ctx, request.id, request.params);
      case 'unsubscribe':
        return await unsubscribe(deps, ctx, request.id, request.params);
      case 'runs.get':
        return await runsGet(deps, ctx, request.id, request.params);
      case 'runs.command':
        return await runsCommand(deps, ctx, request.id, request.params);
      case 'ping':
        return await ping(deps, ctx, request.id, request.params);
    }
  } catch (error) {
    if (error instanceof NotFoundError) return errorResponse(request.id, { code: 'not_found', message: error.message });
    throw error;
  }
}
