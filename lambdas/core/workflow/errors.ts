/**
 * Error names the compiled state machines match in Retry and Catch. A Lambda that throws an error whose
 * `name` is one of these surfaces in Step Functions with that name (the `errorType` of the invocation), so
 * agents and engine Lambdas tell Step Functions what to do by the class they throw.
 */
export const AgentplaneErrorName = {
  /** Transient agent failure (model overloaded, network): the invocation is retried with the step's policy. */
  Retryable: 'Agentplane.Retryable',
  /** Permanent agent failure (bad input, unsupported item): never retried; the item or step fails. */
  Fatal: 'Agentplane.Fatal',
  /** The agent's own concurrency limit is reached: retried with backoff, apart from the step's attempts. */
  AgentBusy: 'Agentplane.AgentBusy',
  /**
   * The agent's circuit breaker is open (or its one probe call is taken) and the engine asked the runtime to
   * respect it: never retried on the same agent; the item falls back to the next candidate at once.
   */
  CircuitOpen: 'Agentplane.CircuitOpen',
  /** Raised by the reporter when a step's failed items exceed its tolerated percentage. */
  StepFailed: 'Agentplane.StepFailed',
  /** Raised by the gate when no registered agent serves the step's capability. */
  NoAgent: 'Agentplane.NoAgent',
  /** Raised by the gate when an inline-only fan-out gets more items than the compiler budgeted for. */
  TooManyItems: 'Agentplane.TooManyItems',
} as const;

export type AgentplaneErrorName = (typeof AgentplaneErrorName)[keyof typeof AgentplaneErrorName];

/** Lambda service-side failures that AWS documents as safe to retry. */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/** Throttling: retried on its own schedule so that a busy fleet does not burn the step's attempts. */
export const THROTTLING_ERRORS = ['Lambda.TooManyRequestsException', AgentplaneErrorName.AgentBusy] as const;

/**
 * Retried with the step's policy. `States.Timeout` is included: an agent that ran out of time on a loaded
 * model usually finishes on the next attempt, and the step's maxAttempts bounds the cost.
 */
export const RETRYABLE_AGENT_ERRORS = [
  AgentplaneErrorName.Retryable,
  ...LAMBDA_TRANSIENT_ERRORS,
  'States.Timeout',
] as const;

/**
 * Failures that send an item to the next candidate agent (docs/engine.md, "Fallback"): the retryable ones once
 * their retries ran out, and an open circuit at once. A fatal failure would fail on any agent, so it does not.
 */
export const FALLBACK_ERRORS = [...RETRYABLE_AGENT_ERRORS, ...THROTTLING_ERRORS, AgentplaneErrorName.CircuitOpen] as const;

// Everything else (Agentplane.Fatal, Agentplane.NoAgent, Agentplane.TooManyItems, States.TaskFailed, unknown errors) is
// fatal for the invocation.

/** Retry schedule for throttling; its attempts are counted in the history estimate. */
export const THROTTLING_RETRY = { intervalSeconds: 1, backoffRate: 2, maxAttempts: 6, maxDelaySeconds: 30 } as const;

/** Retry schedule for the engine's own Lambdas (gate, reporter). */
export const ENGINE_RETRY = { intervalSeconds: 1, backoffRate: 2, maxAttempts: 2 } as const;

/** Base class: the `name` is what Step Functions sees, so Retry and Catch can match it. */
export class AgentplaneError extends Error {
  constructor(name: AgentplaneErrorName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

export class RetryableAgentError extends AgentplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AgentplaneErrorName.Retryable, message, options);
  }
}

export class FatalAgentError extends AgentplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AgentplaneErrorName.Fatal, message, options);
  }
}

export class AgentBusyError extends AgentplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AgentplaneErrorName.AgentBusy, message, options);
  }
}

export class CircuitOpenError extends AgentplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AgentplaneErrorName.CircuitOpen, message, options);
  }
}

export class StepFailedError extends AgentplaneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AgentplaneErrorName.StepFailed, message, options);
  }
}

/** Thrown by compileWorkflow when handed a definition that validateWorkflow would reject. */
export class WorkflowCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkflowCompileError';
  }
}
