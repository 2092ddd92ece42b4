import type { MiddlewareObj, Request } from '@middy/core';
import type { Context } from 'aws-lambda';
import { admit, recordOutcome, type CircuitConfig, type CircuitState, type Transition } from '../registry/circuit';
import type { AcquireResult } from './ports';
import type { ItemOutcome } from './ports';
import type { EventName, PayloadOf } from '../events/schemas';
import {
  AgentBusyError,
  CircuitOpenError,
  classifyError,
  errorTypeOf,
  fatalTypeOf,
  FatalAgentError,
  RetryableAgentError,
  toTypedError,
  type ErrorKind,
} from './errors';
import { isHealthCheck, nextRetry, parseAgentInput, runPrefix, STEP_ITEM_KEY, type AgentInput, type AgentItem } from './input';
import { WorkspaceClient, type ObjectStore } from './workspace';

/**
 * The agent runtime: a middy middleware every agent Lambda uses (built-in or custom). Around the agent's
 * code it
 * 1. parses the agent input (zod; a bad input is Agentplane.Fatal with the JSON path of every problem);
 * 2. when the engine has another candidate (`circuitBreaker`), refuses the call while the agent's circuit is
 *    open (Agentplane.CircuitOpen: the item falls back at once) and claims the probe call after the cool-down;
 * 3. holds the agent's concurrency limit with a DynamoDB lease semaphore (full: Agentplane.AgentBusy,
 *    which the state machine retries with backoff; the lease expires if this environment dies);
 * 4. runs each item once per (run, step, item, epoch) with Powertools Idempotency: a retried invocation
 *    returns the stored result of items that already completed and re-runs only the others;
 * 5. gives each item a workspace client confined to `runs/<runId>/` and a `progress()` callback, and emits
 *    ItemStarted / ItemProgress / ItemCompleted / ItemFailed with metrics: what the attempt spent (tokens, cost,
 *    provider, model), a failed attempt too, which the event log adds to the run's spend ledger as it is emitted;
 * 6. records the agent's metrics (counters and latency histogram, atomic ADDs) and circuit breaker
 *    outcome in the registry, then releases the lease.
 * Item errors are classified: fatal ones fail the item (result `failed`, ItemFailed with `retry: null`);
 * retryable ones fail the item too and, while the step's retry policy has attempts left, make the
 * invocation throw Agentplane.Retryable so Step Functions retries it (completed items are not re-run).
 */

/** Where run events go (lambdas/aws/event-store.ts's EventStore in Lambda). */
interface EventSink {
  emit<E extends EventName>(runId: string, event: E, payload: PayloadOf<E>): Promise<unknown>;
  /** Writes ItemProgress the sink held back for rate limiting; called before the invocation returns. */
  drainProgress?(): Promise<unknown>;
}

export interface RuntimeAgentRecord {
  id: string;
  maxConcurrency?: number;
  circuit?: CircuitState;
}

export interface RuntimeDeps {
  events: EventSink;
  objects: ObjectStore;
  /** The registered agent (cached briefly by the adapter, unless `fresh`); undefined when not registered. */
  agent(agentId: string, options?: { fresh?: boolean }): Promise<RuntimeAgentRecord | undefined>;
  recordMetrics(agentId: string, outcomes: readonly ItemOutcome[], now: number): Promise<void>;
  updateCircuit(agentId: string, apply: (circuit: CircuitState) => Transition, hint?: CircuitState): Promise<unknown>;
  /** Claims the one probe call of an agent whose circuit cool-down elapsed (a conditional write): true for one caller. */
  claimProbe(agentId: string): Promise<boolean>;
  acquireLease(agentId: string, max: number, ttlMs: number): Promise<AcquireResult>;
  releaseLease(agentId: string, leaseId: string): Promise<void>;
  /** Runs fn at most once per key (Powertools Idempotency in Lambda); a replay returns the stored result. */
  idempotent<R>(agentId: string, key: IdempotencyKey, fn: () => Promise<R>, context?: Context): Promise<R>;
  circuitConfig: CircuitConfig;
  clock(): number;
  log: { warn(message: string, extra?: object): void; error(message: string, extra?: object): void };
}

interface IdempotencyKey {
  runId: string;
  stepId: string;
  item: string;
  epoch: number;
}

/** An attempt's figures: what this attempt spent, whether it succeeded or failed. */
interface ItemMetrics {
  durationMs: number;
  tokensUsed: number;
  costUsd: number;
  retryCount: number;
  /** The LLM provider (`offline`, `openai`, `bedrock`, …) and model the spend came from, when the agent said. */
  provider?: string;
  model?: string;
}

interface ItemResult {
  item: { key: string };
  status: 'succeeded' | 'failed';
  outputKey?: string;
  error?: { type: string; message: string };
  metrics: ItemMetrics;
  /**
   * The attempt's spend is in the run's ledger already (the runtime's item event carried it, see
   * lambdas/core/runs/spend.ts): whoever reads results must not count it again. Results without it come from
   * agents that emit no item events; their spend is counted from the results.
   */
  spendRecorded?: boolean;
}

export interface AgentOutput {
  results: ItemResult[];
}

/** An item's spend so far, cumulative: the total of its LLM calls, and which provider and model made them. */
interface ItemUsage {
  tokensUsed?: number;
  costUsd?: number;
  provider?: string;
  model?: string;
}

/**
 * What an agent's item function may return; outputKey defaults to the last key it wrote. Usage fields given
 * here are the item's final figures; absent ones default to what `progress()` last reported.
 */
export interface ItemOutput extends ItemUsage {
  outputKey?: string;
}

export interface ItemContext {
  input: AgentInput;
  agentId: string;
  index: number;
  workspace: WorkspaceClient;
  /**
   * Reports progress (0..1) and the item's spend so far (cumulative); rate-limited by the event sink. Report
   * spend as it happens: an item that then fails carries it in ItemFailed.metrics, so its tokens and cost still
   * count in the run's totals.
   */
  progress(fraction: number, usage?: ItemUsage & { etaMs?: number }): Promise<void>;
  lambdaContext?: Context;
}

export type ItemFunction = (item: AgentItem, ctx: ItemContext) => Promise<ItemOutput | undefined>;

export interface AgentRuntimeOptions {
  /** The agent's registry id, unless the input names one (input.agentId wins). */
  agentId: string;
  /** Dependencies, or their factory, called on first use (in Lambda: lambdas/aws/agent-runtime.ts, from the environment). */
  deps: RuntimeDeps | (() => RuntimeDeps | Promise<RuntimeDeps>);
  /** Items of one invocation processed at once (default 1: in order). */
  itemConcurrency?: number;
}

interface AgentInvocationContext {
  input: AgentInput;
  agentId: string;
  runItems(fn: ItemFunction): Promise<AgentOutput>;
}

declare module 'aws-lambda' {
  interface Context {
    agentplane?: AgentInvocationContext;
  }
}

interface InvocationState {
  input: AgentInput;
  agentId: string;
  deps: RuntimeDeps;
  record: RuntimeAgentRecord;
  leaseId?: string;
  outcomes: ItemOutcome[];
  retryableFailures: number;
  finished: boolean;
}

const LEASE_MARGIN_MS = 5_000;
const DEFAULT_LEASE_MS = 15 * 60_000;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Folds an invocation's outcomes, in order, into one circuit transition (one conditional write). */
export function foldOutcomes(outcomes: readonly ItemOutcome[], now: number, config: CircuitConfig) {
  return (circuit: CircuitState): Transition => {
    let state = circuit;
    let changed = false;
    for (const outcome of outcomes) {
      const t = recordOutcome(state, outcome.ok ? 'success' : 'failure', now, config);
      if (t.changed) {
        changed = true;
        state = t.state;
      }
    }
    // One write moves the version by one, whatever the number of steps folded.
    return changed ? { state: { ...state, version: circuit.version + 1 }, changed } : { state: circuit, changed };
  };
}

export function agentRuntime(options: AgentRuntimeOptions): MiddlewareObj<unknown, AgentOutput> {
  let resolved: RuntimeDeps | undefined;
  const depsOf = async (): Promise<RuntimeDeps> => {
    resolved ??= typeof options.deps === 'function' ? await options.deps() : options.deps;
    return resolved;
  };
  const states = new WeakMap<object, InvocationState>();

  const finish = async (state: InvocationState) => {
    if (state.finished) return;
    state.finished = true;
    const { deps, agentId } = state;
    const now = deps.clock();
    const work: Array<Promise<unknown>> = [];
    if (deps.events.drainProgress) work.push(deps.events.drainProgress());
    if (state.outcomes.length > 0) {
      work.push(deps.recordMetrics(agentId, state.outcomes, now));
      const fold = foldOutcomes(state.outcomes, now, deps.circuitConfig);
      const hint = state.record.circuit;
      // A success on a closed, clean circuit changes nothing: skip the write without reading.
      if (!(hint && !fold(hint).changed && state.outcomes.every((o) => o.ok))) {
        work.push(deps.updateCircuit(agentId, fold, hint));
      }
    }
    if (state.leaseId) work.push(deps.releaseLease(agentId, state.leaseId));
    const settled = await Promise.allSettled(work);
    for (const s of settled) if (s.status === 'rejected') deps.log.error('agent runtime bookkeeping failed', { agentId, error: String(s.reason) });
  };

  const before = async (request: Request<unknown, AgentOutput>) => {
    const deps = await depsOf();
    if (isHealthCheck(request.event)) {
      const requested = (request.event as Record<string, unknown>).agentId;
      const agentId = typeof requested === 'string' ? requested : options.agentId;
      const record = await deps.agent(agentId);
      return { healthy: record !== undefined, agentId, at: new Date(deps.clock()).toISOString(), ...(record ? {} : { error: `agent ${agentId} is not registered` }) } as never;
    }
    const input = parseAgentInput(request.event);
    const expected = runPrefix(input.runId);
    if (input.workspace.prefix !== expected) {
      throw new FatalAgentError(`Workspace violation: workspace prefix '${input.workspace.prefix}' is not the run's prefix '${expected}'`);
    }
    const agentId = input.agentId ?? options.agentId;
    // With a circuit to respect, the record is read afresh: a circuit another environment just opened counts now.
    const record = await deps.agent(agentId, input.circuitBreaker ? { fresh: true } : undefined);
    if (!record) throw new FatalAgentError(`Agent '${agentId}' is not registered`);
    if (input.circuitBreaker) await passCircuit(deps, agentId, record);
    const state: InvocationState = { input, agentId, deps, record, outcomes: [], retryableFailures: 0, finished: false };
    if (record.maxConcurrency !== undefined) {
      // Invoked outside Lambda (tests, the bench) there is no context to ask.
      const remaining = (request.context as Partial<Context> | undefined)?.getRemainingTimeInMillis?.();
      const ttl = (remaining && remaining > 0 ? remaining : DEFAULT_LEASE_MS) + LEASE_MARGIN_MS;
      const acquired = await deps.acquireLease(agentId, record.maxConcurrency, ttl);
      if (!acquired.ok) {
        throw new AgentBusyError(
          `Agent '${agentId}' is at its concurrency limit (${acquired.held} of ${record.maxConcurrency} in flight); retry with backoff`,
        );
      }
      state.leaseId = acquired.lease.id;
    }
    states.set(request, state);
    request.event = input;
    request.context.agentplane = {
      input,
      agentId,
      runItems: (fn) => runItems(state, fn, request.context, options.itemConcurrency ?? 1),
    };
    return undefined;
  };

  const after = async (request: Request<unknown, AgentOutput>) => {
    const state = states.get(request);
    if (!state) return;
    await finish(state);
    if (state.retryableFailures > 0 && nextRetry(state.input.attempt, state.input.retry) !== null) {
      throw new RetryableAgentError(
        `${state.retryableFailures} of ${Math.max(1, state.input.items.length)} items failed with retryable errors at attempt ${state.input.attempt}; completed items are not re-run`,
      );
    }
  };

  const onError = async (request: Request<unknown, AgentOutput>) => {
    const state = states.get(request);
    if (state) await finish(state);
    request.error = toTypedError(request.error);
  };

  return { before, after, onError };
}

/**
 * Lets the call through the agent's circuit breaker (as just read) or throws CircuitOpenError. Refused calls
 * record no outcome: the agent did not run.
 */
async function passCircuit(deps: RuntimeDeps, agentId: string, record: RuntimeAgentRecord): Promise<void> {
  if (!record.circuit || record.circuit.state === 'closed') return;
  const admission = admit(record.circuit, deps.clock(), deps.circuitConfig);
  if (!admission.allowed) throw new CircuitOpenError(`Agent '${agentId}': ${admission.reason}`);
  if (admission.probe && !(await deps.claimProbe(agentId))) {
    throw new CircuitOpenError(`Agent '${agentId}': circuit half-open and its probe call is taken by another invocation`);
  }
}

async function runItems(state: InvocationState, fn: ItemFunction, lambdaContext: Context | undefined, concurrency: number): Promise<AgentOutput> {
  const { input } = state;
  const items: AgentItem[] = input.items.length > 0 ? input.items : [{ key: STEP_ITEM_KEY }];
  const results = new Array<ItemResult>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const position = next++;
      results[position] = await runItem(state, fn, items[position], position, items.length, lambdaContext);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return { results };
}

async function runItem(state: InvocationState, fn: ItemFunction, item: AgentItem, position: number, count: number, lambdaContext: Context | undefined): Promise<ItemResult> {
  const { input, agentId, deps } = state;
  const { runId, stepId } = input;
  const retryCount = input.attempt - 1;
  const index = item.index ?? position;
  const total = input.total ?? count;
  let started = deps.clock();
  // The item's spend so far, as its agent reported it (progress, then its output): what its item event carries.
  const spent = { tokensUsed: 0, costUsd: 0, costReported: false, provider: undefined as string | undefined, model: undefined as string | undefined };
  const note = (usage: ItemUsage, final: boolean) => {
    const tokens = usage.tokensUsed !== undefined ? Math.max(0, Math.round(usage.tokensUsed)) : undefined;
    const cost = usage.costUsd !== undefined && Number.isFinite(usage.costUsd) ? Math.max(0, usage.costUsd) : undefined;
    // Progress is cumulative and never goes back; the agent's output is its last word.
    if (tokens !== undefined) spent.tokensUsed = final ? tokens : Math.max(spent.tokensUsed, tokens);
    if (cost !== undefined) {
      spent.costUsd = final ? cost : Math.max(spent.costUsd, cost);
      spent.costReported = true;
    }
    if (usage.provider) spent.provider = usage.provider;
    if (usage.model) spent.model = usage.model;
  };
  const metricsNow = (): ItemMetrics => ({
    durationMs: Math.max(0, deps.clock() - started),
    tokensUsed: spent.tokensUsed,
    costUsd: spent.costUsd,
    retryCount,
    ...(spent.provider ? { provider: spent.provider } : {}),
    ...(spent.model ? { model: spent.model } : {}),
  });
  const workspace = new WorkspaceClient(deps.objects, input.workspace.bucket, runId);

  const fail = async (error: unknown, kind: ErrorKind): Promise<ItemResult> => {
    const type = kind === 'fatal' ? fatalTypeOf(error) : errorTypeOf(kind);
    const message = errorMessage(error);
    // A failed attempt spent what it spent: its tokens and cost are reported (and counted) like a success's.
    const metrics = metricsNow();
    state.outcomes.push({ ok: false, latencyMs: metrics.durationMs, error: `${type}: ${message}` });
    const retry = kind === 'fatal' ? null : nextRetry(input.attempt, input.retry);
    await deps.events.emit(runId, 'ItemFailed', { stepId, item: item.key, error: { type, message }, retry, metrics });
    return { item: { key: item.key }, status: 'failed', error: { type, message }, metrics, spendRecorded: true };
  };

  const execute = async (): Promise<ItemResult> => {
    started = deps.clock();
    await deps.events.emit(runId, 'ItemStarted', { stepId, item: item.key, index, total, agentId, attempt: input.attempt });
    const ctx: ItemContext = {
      input,
      agentId,
      index,
      workspace,
      progress: async (fraction, usage = {}) => {
        note(usage, false);
        await deps.events.emit(runId, 'ItemProgress', {
          stepId,
          item: item.key,
          progress: Math.min(1, Math.max(0, fraction)),
          tokensUsed: spent.tokensUsed,
          ...(usage.etaMs !== undefined ? { etaMs: Math.max(0, usage.etaMs) } : {}),
          ...(spent.costReported ? { costUsd: spent.costUsd } : {}),
          ...(spent.provider ? { provider: spent.provider } : {}),
          ...(spent.model ? { model: spent.model } : {}),
        });
      },
      ...(lambdaContext ? { lambdaContext } : {}),
    };
    let output: ItemOutput | undefined;
    try {
      output = await fn(item, ctx);
    } catch (error) {
      const kind = classifyError(error);
      const result = await fail(error, kind);
      // Thrown out of the idempotent section so its record is dropped and a retry runs the item again.
      if (kind !== 'fatal') throw Object.assign(new ItemRetryableFailure(result), { cause: error });
      return result;
    }
    const outputKey = output?.outputKey !== undefined ? workspace.resolve(output.outputKey) : workspace.written.at(-1);
    if (outputKey === undefined) {
      return fail(new FatalAgentError(`item '${item.key}' produced no output: the agent wrote nothing and returned no outputKey`), 'fatal');
    }
    if (output) note(output, true);
    const metrics = metricsNow();
    state.outcomes.push({ ok: true, latencyMs: metrics.durationMs });
    await deps.events.emit(runId, 'ItemCompleted', { stepId, item: item.key, outputKey, metrics });
    return { item: { key: item.key }, status: 'succeeded', outputKey, metrics, spendRecorded: true };
  };

  try {
    return await deps.idempotent(agentId, { runId, stepId, item: item.key, epoch: input.epoch }, execute, lambdaContext);
  } catch (error) {
    if (error instanceof ItemRetryableFailure) {
      state.retryableFailures++;
      return error.result;
    }
    // The runtime's own bookkeeping failed (events, idempotency store): the item did not get a fair try.
    state.retryableFailures++;
    deps.log.warn('item bookkeeping failed', { agentId, runId, stepId, item: item.key, error: String(error) });
    const kind = classifyError(error);
    return {
      item: { key: item.key },
      status: 'failed',
      error: { type: errorTypeOf(kind === 'busy' ? 'busy' : 'retryable'), message: errorMessage(error) },
      metrics: metricsNow(),
      // Usually the item's event was written and its spend counted (the idempotency store failed after it), and
      // an event that could not be written has nowhere else to be counted from: never count it from this result.
      spendRecorded: true,
    };
  }
}

/** Carries a retryable item failure through the idempotency wrapper (which must see a throw). */
class ItemRetryableFailure extends Error {
  override readonly name = 'ItemRetryableFailure';
  constructor(readonly result: ItemResult) {
    super(result.error?.message ?? 'retryable item failure');
  }
}
