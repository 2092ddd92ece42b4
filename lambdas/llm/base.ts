import { LlmConfigError } from './errors';
import { costOf, DEFAULT_PRICES, type PriceTable } from './pricing';
import { ConcurrencyLimiter, DEFAULT_RETRY, realRetryDeps, withRetries, type RetryDeps, type RetryPolicy } from './retry';
import type { FinishReason, LlmProvider, LlmRequest, LlmResponse, LlmUsage } from './types';

export interface ProviderOptions {
  model: string;
  contextTokens?: number;
  prices?: PriceTable;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  maxConcurrency?: number;
  /** Injected clock and randomness for retries (tests). */
  retryDeps?: RetryDeps;
}

export const DEFAULT_CONTEXT_TOKENS = 32_000;
export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_CONCURRENCY = 4;

/** What every provider shares: validation, the limiter, retries around one attempt, usage and cost. */
export abstract class BaseProvider implements LlmProvider {
  abstract readonly name: string;
  readonly model: string;
  readonly contextTokens: number;
  readonly limiter: ConcurrencyLimiter;
  protected readonly prices: PriceTable;
  protected readonly timeoutMs: number;
  protected readonly retryPolicy: RetryPolicy;
  protected readonly retryDeps: RetryDeps;

  constructor(opts: ProviderOptions) {
    if (!opts.model) throw new LlmConfigError('an LLM model id is required');
    this.model = opts.model;
    this.contextTokens = opts.contextTokens ?? DEFAULT_CONTEXT_TOKENS;
    this.prices = opts.prices ?? DEFAULT_PRICES;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
    this.retryDeps = opts.retryDeps ?? realRetryDeps;
    this.limiter = new ConcurrencyLimiter(opts.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY);
  }

  async complete(request: LlmRequest): Promise<LlmResponse> {
    validateRequest(request);
    // The limiter is held across retries: a throttled caller backing off must not let others pile in.
    return this.limiter.run(() => withRetries((n) => this.attempt(request, n), this.retryPolicy, this.retryDeps));
  }

  protected abstract attempt(request: LlmRequest, retry: number): Promise<LlmResponse>;

  protected respond(text: string, usage: LlmUsage, model: string, finishReason: FinishReason): LlmResponse {
    return { text, usage, model, finishReason, ...this.price(usage, model) };
  }

  /** What the call cost, from the price table; a provider that bills otherwise (or not at all) overrides it. */
  protected price(usage: LlmUsage, model: string): { costUsd: number; priced: boolean } {
    // The answering model id may be more specific than the configured one (dated ids, inference profiles).
    const cost = costOf(usage, model, this.prices);
    return !cost.priced && model !== this.model ? costOf(usage, this.model, this.prices) : cost;
  }
}

function validateRequest(request: LlmRequest): void {
  if (!Number.isInteger(request.maxTokens) || request.maxTokens < 1) throw new LlmConfigError(`maxTokens must be a positive integer, got ${request.maxTokens}`);
  if (!Array.isArray(request.messages) || request.messages.length === 0) throw new LlmConfigError('at least one message is required');
  if (request.temperature !== undefined && !(request.temperature >= 0 && request.temperature <= 2)) throw new LlmConfigError(`temperature must be in [0, 2], got ${request.temperature}`);
}

/** Non-negative integers only: a provider omitting a count must not turn sums into NaN. */
export function count(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

export function usageOf(input: number, output: number, reasoning: number, total?: number): LlmUsage {
  const sum = input + output + reasoning;
  return { inputTokens: input, outputTokens: output, reasoningTokens: reasoning, totalTokens: Math.max(sum, count(total)) };
}
