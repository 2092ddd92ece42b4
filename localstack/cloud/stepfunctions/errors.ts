/**
 * Errors of the local Step Functions service. Two families: `SfnServiceError` is an API error answered to the
 * caller (AWS JSON 1.0 `__type`), `StatesError` is an error raised inside an execution, matched by Retry/Catch.
 */

export class SfnServiceError extends Error {
  override readonly name = 'SfnServiceError';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * aws-local-stepfunctions matches `ErrorEquals` against `error.name`, reports `error.message` as the Cause, and
 * reads `isRetryable` / `isCatchable` (defaulting to true) before retrying or catching.
 */
export class StatesError extends Error {
  readonly isRetryable: boolean;
  readonly isCatchable: boolean;
  constructor(error: string, cause: string, options: { retryable?: boolean; catchable?: boolean } = {}) {
    super(cause);
    this.name = error;
    this.isRetryable = options.retryable ?? true;
    this.isCatchable = options.catchable ?? true;
  }
}

/**
 * Thrown into a state once its execution has ended (stopped, failed elsewhere, timed out): not retryable nor
 * catchable, so the interpreter unwinds without starting anything else.
 */
export function executionClosedError(): StatesError {
  return new StatesError('States.Runtime', 'The execution is no longer running.', { retryable: false, catchable: false });
}
