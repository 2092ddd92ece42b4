/**
 * Lambda's invocation quotas, enforced locally so code that would breach them in AWS fails here first
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html and the Invoke API reference):
 * - payloads: 6 MB for a synchronous request and for its response, 1 MB for an asynchronous (Event) request;
 * - concurrency: a function with ReservedConcurrentExecutions runs at most that many invocations at once, the
 *   others share what the account limit (1000 by default) leaves unreserved. An invocation over either is
 *   refused with TooManyRequestsException (429) instead of waiting, as Lambda never queues a synchronous call.
 *
 * The errors carry AWS's exception names, so every in-process caller (Step Functions tasks, API Gateway, stream
 * mappings, the async invoker) sees what the SDK would have surfaced, and the Invoke API answers AWS's status.
 */

/** Synchronous (RequestResponse) request payload: 6 MB. */
export const SYNC_REQUEST_LIMIT_BYTES = 6 * 1024 * 1024;
/** Synchronous response payload: AWS's own figure in its error message (6 MB and 100 bytes of envelope). */
export const SYNC_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024 + 100;
/** Asynchronous (Event) request payload: 1 MB (raised from 256 KB in 2025). */
export const ASYNC_REQUEST_LIMIT_BYTES = 1024 * 1024;
/** AWS's default concurrent executions per account and region. */
export const DEFAULT_ACCOUNT_CONCURRENCY = 1000;

/**
 * The Invoke API's 413 as Lambda answers it (`x-amzn-errortype: RequestEntityTooLargeException`; the SDK models
 * a `RequestTooLargeException` that this service does not send, so SDK v3 surfaces the name unmodeled).
 */
export class RequestTooLargeError extends Error {
  override readonly name = 'RequestEntityTooLargeException';
  readonly statusCode = 413;
}

export type ThrottleReason = 'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded';

/** The Invoke API's 429: no concurrency left for the function. */
export class TooManyRequestsError extends Error {
  override readonly name = 'TooManyRequestsException';
  readonly statusCode = 429;
  constructor(readonly reason: ThrottleReason, message: string) {
    super(message);
  }
}

/** The JSON text of an event or response as Lambda would carry it, in bytes. */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

/** Throws RequestTooLargeError when a request of `bytes` is over the limit of its invocation type. */
export function checkRequestSize(bytes: number, invocationType: 'RequestResponse' | 'Event'): void {
  if (invocationType === 'Event') {
    if (bytes > ASYNC_REQUEST_LIMIT_BYTES) {
      throw new RequestTooLargeError(`${bytes} byte payload is too large for the Event invocation type (limit ${ASYNC_REQUEST_LIMIT_BYTES} bytes)`);
    }
    return;
  }
  if (bytes > SYNC_REQUEST_LIMIT_BYTES) {
    throw new RequestTooLargeError(`Request must be smaller than ${SYNC_REQUEST_LIMIT_BYTES} bytes for the InvokeFunction operation`);
  }
}

/** The function error Lambda reports, with a 200, when a function's response is over the limit. */
export function responseTooLarge(bytes: number): { ok: false; errorType: string; errorMessage: string } | undefined {
  if (bytes <= SYNC_RESPONSE_LIMIT_BYTES) return undefined;
  return {
    ok: false,
    errorType: 'Function.ResponseSizeTooLarge',
    errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_RESPONSE_LIMIT_BYTES} bytes).`,
  };
}

/**
 * Concurrent executions per function and per account. A function's in-flight count includes invocations waiting
 * for a local worker thread: in AWS each of them would be an execution environment of its own.
 */
export class ConcurrencyLimiter {
  private readonly reserved = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();
  private unreservedInFlight = 0;

  constructor(readonly accountLimit: number = DEFAULT_ACCOUNT_CONCURRENCY) {
    if (!Number.isInteger(accountLimit) || accountLimit < 1) throw new Error(`the account concurrency limit must be a positive integer (got ${accountLimit})`);
  }

  /** Sets a function's ReservedConcurrentExecutions; Lambda refuses a reservation that leaves the account nothing unreserved. */
  reserve(functionName: string, reservedConcurrency: number): void {
    if (!Number.isInteger(reservedConcurrency) || reservedConcurrency < 0) {
      throw new Error(`${functionName}: ReservedConcurrentExecutions must be a non-negative integer (got ${reservedConcurrency})`);
    }
    const others = this.totalReserved() - (this.reserved.get(functionName) ?? 0);
    if (others + reservedConcurrency >= this.accountLimit) {
      throw new Error(
        `${functionName}: ReservedConcurrentExecutions ${reservedConcurrency} leaves no unreserved concurrency under the account limit of ${this.accountLimit} (${others} reserved by other functions)`,
      );
    }
    this.reserved.set(functionName, reservedConcurrency);
  }

  reservedOf(functionName: string): number | undefined {
    return this.reserved.get(functionName);
  }

  /** Takes one execution for the function, or throws TooManyRequestsError; call the returned release exactly once. */
  acquire(functionName: string): () => void {
    const reserved = this.reserved.get(functionName);
    const current = this.inFlight.get(functionName) ?? 0;
    if (reserved !== undefined) {
      if (current >= reserved) {
        throw new TooManyRequestsError('ReservedFunctionConcurrentInvocationLimitExceeded', 'Rate Exceeded.');
      }
    } else if (this.unreservedInFlight >= this.accountLimit - this.totalReserved()) {
      throw new TooManyRequestsError('ConcurrentInvocationLimitExceeded', 'Rate Exceeded.');
    }
    this.inFlight.set(functionName, current + 1);
    if (reserved === undefined) this.unreservedInFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight.set(functionName, (this.inFlight.get(functionName) ?? 1) - 1);
      if (reserved === undefined) this.unreservedInFlight--;
    };
  }

  inFlightOf(functionName: string): number {
    return this.inFlight.get(functionName) ?? 0;
  }

  private totalReserved(): number {
    let total = 0;
    for (const n of this.reserved.values()) total += n;
    return total;
  }
}
