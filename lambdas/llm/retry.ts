import { LlmError, LlmTimeoutError } from './errors';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 4, baseDelayMs: 500, maxDelayMs: 20_000 };

export interface RetryDeps {
  sleep(ms: number): Promise<void>;
  /** A property, not a method: it is handed on as a plain function. */
  random: () => number;
}

export const realRetryDeps: RetryDeps = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in [0, min(cap, base·2^n)].
 * It spreads the retries of many agents hitting one rate limit better than equal or decorrelated jitter.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/**
 * Retry-After as seconds or an HTTP date; `retry-after-ms` (OpenAI, Azure) first when present.
 * Undefined when absent or unparsable.
 */
export function parseRetryAfter(headers: { get(name: string): string | null }, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or the retries are spent. The server's
 * Retry-After wins over our backoff (capped at maxDelayMs: a server asking for minutes is better answered by
 * failing the item retryably and letting the step's policy wait).
 */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, policy: RetryPolicy, deps: RetryDeps = realRetryDeps): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const retryable = error instanceof LlmError ? error.retryable : false;
      if (!retryable || n >= policy.maxRetries) throw error;
      const asked = error instanceof LlmError && !(error instanceof LlmTimeoutError) ? error.retryAfterMs : undefined;
      const delay = asked !== undefined ? Math.min(asked, policy.maxDelayMs) : backoffDelay(n, policy, deps.random);
      await deps.sleep(delay);
    }
  }
}

/** A counting semaphore: at most `max` calls of one provider instance in flight, the rest queued FIFO. */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** The highest number in flight seen (tests and metrics). */
  peak = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max concurrency must be a positive integer, got ${max}`);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    this.peak = Math.max(this.peak, this.active);
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `active` never dips and a newcomer cannot jump the queue.
      if (next) next();
      else this.active--;
    }
  }
}

/** fetch (or any call taking a signal) with a deadline; the timer is cleared whatever happens. */
export async function withTimeout<T>(timeoutMs: number, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => { controller.abort(new LlmTimeoutError(`${what} timed out after ${timeoutMs} ms`)); }, timeoutMs);
  try {
    return await fn(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) {
      throw controller.signal.reason instanceof LlmTimeoutError ? controller.signal.reason : new LlmTimeoutError(`${what} timed out after ${timeoutMs} ms`, { cause: error });
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
