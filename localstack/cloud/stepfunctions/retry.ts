/**
 * `$$.State.RetryCount` for Task states, as AWS counts it.
 *
 * How AWS counts: the Context Object documents `State.RetryCount` as a number
 * (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html); the error-handling page
 * (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html) gives each retrier its own
 * `MaxAttempts` budget (its ErrorA/ErrorB/ErrorC example: the fourth error fails over to Catch because *its*
 * retrier is spent, although another retrier still has attempts). Neither page says more about RetryCount, so the
 * counting follows LocalStack's interpreter, which is snapshot-tested against AWS
 * (localstack-core/.../state_execution/execute_state.py: `_eval_state` sets `State.RetryCount = 0` when the state
 * is entered, `_handle_retry` adds 1 for every retry whichever retrier granted it). So: one counter per state,
 * shared by all its retriers, reset when the state is entered afresh (a loop back to it starts again at 0).
 *
 * Why our own retry loop: aws-local-stepfunctions keeps its retrier counters inside a per-entry executor it does
 * not export, evaluates Parameters before calling the Task handler, and gives the handler nothing but the
 * evaluated input; no hook sees the retry count in between. So a Task whose Parameters read RetryCount is
 * compiled without `Retry` for the library (definition.ts), its Parameters are evaluated here once per attempt by
 * the library's own evaluator (a one-state Pass machine, so the JSONPath and intrinsic semantics stay the
 * library's), and its retriers are applied here with the library's rules. Every other Task keeps the library's
 * retries, where RetryCount is not observable anyway.
 */
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { Retrier } from './asl';
import type { JsonObject, JsonValue } from './json';

const DEFAULT_MAX_ATTEMPTS = 3;
const DEFAULT_INTERVAL_SECONDS = 1;
const DEFAULT_BACKOFF_RATE = 2;

/**
 * The wait before the next attempt, or undefined when no retrier retries this error. `attempts` holds each
 * retrier's retries so far and is advanced. As in AWS (and the library), the first retrier whose ErrorEquals
 * matches decides: once it is spent the error goes to Catch, even if a later retrier would match.
 */
export function nextRetryDelayMs(retriers: Retrier[], attempts: number[], error: Error & { isRetryable?: boolean }): number | undefined {
  if (error.isRetryable === false) return undefined;
  for (const [i, retrier] of retriers.entries()) {
    const matches = retrier.ErrorEquals.some(
      (name) => name === error.name || name === 'States.ALL' || (name === 'States.TaskFailed' && error.name !== 'States.Timeout'),
    );
    if (!matches) continue;
    const done = attempts[i] ?? 0;
    if (done >= (retrier.MaxAttempts ?? DEFAULT_MAX_ATTEMPTS)) return undefined;
    attempts[i] = done + 1;
    const interval = (retrier.IntervalSeconds ?? DEFAULT_INTERVAL_SECONDS) * Math.pow(retrier.BackoffRate ?? DEFAULT_BACKOFF_RATE, done);
    const capped = Math.min(interval, retrier.MaxDelaySeconds ?? Infinity) * 1000;
    return retrier.JitterStrategy === 'FULL' ? Math.random() * capped : capped;
  }
  return undefined;
}

const evaluators = new WeakMap<object, StateMachine>();

/** Evaluates a Parameters template against the state's effective input and a Context Object, as the library does. */
export async function evaluateParameters(template: JsonObject, input: JsonValue, context: JsonObject): Promise<JsonValue> {
  let machine = evaluators.get(template);
  if (!machine) {
    const definition = { StartAt: 'P', States: { P: { Type: 'Pass', Parameters: template, End: true } } };
    machine = new StateMachine(definition as never, { validationOptions: { noValidate: true } });
    evaluators.set(template, machine);
  }
  try {
    // The library's JSON type is ours without `undefined` fields, which parsed JSON never has.
    return await machine.run(input as never, { context }).result;
  } catch (error) {
    // A path or intrinsic failure is the state's own error (States.Runtime, ...), not the helper run's.
    throw error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
  }
}
