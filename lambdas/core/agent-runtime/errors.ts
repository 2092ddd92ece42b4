import {
  AgentBusyError,
  AgentplaneError,
  AgentplaneErrorName,
  CircuitOpenError,
  FatalAgentError,
  RetryableAgentError,
} from '../workflow/errors';

/**
 * The agent runtime's typed errors. The names are the ones the compiled state machines match in Retry and
 * Catch (lambdas/core/workflow/errors.ts), so what an agent throws decides what Step Functions does:
 * `Agentplane.Retryable` is retried with the step's policy, `Agentplane.AgentBusy` with the throttling
 * schedule, `Agentplane.Fatal` never.
 */
export { AgentBusyError, AgentplaneError,  CircuitOpenError, FatalAgentError, RetryableAgentError };

/** A key outside `runs/<runId>/`: the agent's bug or a hostile input, never worth a retry. */
export class WorkspaceViolationError extends FatalAgentError {
  constructor(
    message: string,
    readonly key: string,
  ) {
    super(message);
  }
}

/** The invocation's payload is not an agent input: nothing can be done with it, so never retried. */
export class InvalidAgentInputError extends FatalAgentError {
  constructor(
    message: string,
    readonly problems: Array<{ path: string; message: string }>,
  ) {
    super(message);
  }
}

export type ErrorKind = 'retryable' | 'busy' | 'fatal';

const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'TransactionConflictException',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
  // A duplicate delivery of an item still being processed elsewhere: try again after it finished.
  'IdempotencyAlreadyInProgressError',
  'IdempotencyPersistenceLayerError',
]);
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Retryable: the runtime's own retryable errors, throttling, timeouts, 5xx and connection failures (what
 * the AWS SDK marks `$retryable` included). Everything else, an unknown error from agent code included,
 * is fatal: retrying a bug burns the step's attempts for nothing, and an agent that knows better throws
 * RetryableAgentError.
 */
export function classifyError(error: unknown): ErrorKind {
  if (!error || typeof error !== 'object') return 'fatal';
  const e = error as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number }; cause?: unknown };
  if (e.name === AgentplaneErrorName.AgentBusy) return 'busy';
  if (e.name === AgentplaneErrorName.Retryable) return 'retryable';
  if (e.name === AgentplaneErrorName.Fatal) return 'fatal';
  if (e.$retryable) return 'retryable';
  if (e.name && RETRYABLE_NAMES.has(e.name)) return 'retryable';
  if (e.code && RETRYABLE_CODES.has(e.code)) return 'retryable';
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status === 429 || status >= 500)) return 'retryable';
  if (e.cause && e.cause !== error) return classifyError(e.cause) === 'retryable' ? 'retryable' : 'fatal';
  return 'fatal';
}

export function errorTypeOf(kind: ErrorKind): string {
  return kind === 'busy' ? AgentplaneErrorName.AgentBusy : kind === 'retryable' ? AgentplaneErrorName.Retryable : AgentplaneErrorName.Fatal;
}

/**
 * The `error.type` of an item that failed fatally: the error's own class name when it has a specific one
 * (more telling than a generic label, and still fatal to every consumer, since only the retryable names
 * are retried), else Agentplane.Fatal.
 */
export function fatalTypeOf(error: unknown): string {
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' && name !== '' && name !== 'Error' ? name : AgentplaneErrorName.Fatal;
}

/** The typed error Step Functions should see for any error, keeping the original as the cause. */
export function toTypedError(error: unknown): AgentplaneError {
  if (error instanceof AgentplaneError) return error;
  const kind = classifyError(error);
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (kind === 'busy') return new AgentBusyError(message, { cause: error });
  if (kind === 'retryable') return new RetryableAgentError(message, { cause: error });
  return new FatalAgentError(message, { cause: error });
}
