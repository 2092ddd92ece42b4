/**
 * LLM errors carry whether a retry can help. Retryable ones are marked `$retryable` like AWS SDK errors, so
 * the agent runtime's classifier (lambdas/core/agent-runtime/errors.ts) turns them into Agentplane.Retryable
 * once the provider's own retries are spent, and the step's retry policy takes over.
 */
export class LlmError extends Error {
  override readonly name: string = 'LlmError';
  readonly retryable: boolean;
  readonly status?: number;
  /** Milliseconds the server asked us to wait (Retry-After), when it said. */
  readonly retryAfterMs?: number;
  readonly $retryable?: { throttling: boolean };

  constructor(message: string, opts: { retryable?: boolean; status?: number; retryAfterMs?: number; throttling?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.retryable = opts.retryable ?? false;
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
    if (this.retryable) this.$retryable = { throttling: opts.throttling ?? false };
  }
}

/** HTTP status or service error from the provider. */
export class LlmHttpError extends LlmError {
  override readonly name: string = 'LlmHttpError';
}

/** The per-attempt deadline passed (AbortController). */
export class LlmTimeoutError extends LlmError {
  override readonly name: string = 'LlmTimeoutError';
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { retryable: true, ...opts });
  }
}

/** Misconfiguration: unknown provider, missing key or model. Never retried. */
export class LlmConfigError extends LlmError {
  override readonly name: string = 'LlmConfigError';
}

/** The provider answered but the answer is unusable (no text, malformed JSON). */
export class LlmResponseError extends LlmError {
  override readonly name: string = 'LlmResponseError';
}
