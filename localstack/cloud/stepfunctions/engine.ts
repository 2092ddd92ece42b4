/**
 * Runs executions on aws-local-stepfunctions: feeds the rewritten definition and the Task handlers to the library,
 * records an AWS-like history from its event log (and from the handlers), enforces the history limit and the
 * execution timeout, mints and settles task tokens, and reports every terminal status exactly once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CloudLogger, LambdaInvoker } from '../types';
import { splitTaskResource } from './arns';
import type { AuthorizationRequest } from '../iam/evaluate';
import { lambdaInvokePermission } from '../iam/service-actions';
import {
  MAX_TIMER_SECONDS,
  substitutePlaceholders,
  usesTaskToken,
  type CompiledMachine,
  type DistributedMapSpec,
  type TaskSpec,
} from './definition';
import { executionClosedError, SfnServiceError, StatesError } from './errors';
import { callDynamoDb, callLambda, callS3, lambdaInvokeOutput } from './integrations';
import { runDistributedMap, type MapRun } from './distributed-map';
import { objectOr, parseJson, type JsonObject, type JsonValue } from './json';
import { evaluateParameters, nextRetryDelayMs } from './retry';
import { ExecutionRuntime, type ExecutionStatus } from './runtime';

/** An entry of the library's event log (the library does not export the type). */
type LibraryEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
type TaskHandler = (input: JsonValue) => Promise<JsonValue>;

/** JSON text of a value the library reports; `null` when it reports none. */
function jsonText(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export const MAX_PAYLOAD_BYTES = 262_144;
export const DEFAULT_MAX_HISTORY_EVENTS = 25_000;

export interface EngineOptions {
  region: string;
  accountId: string;
  lambda: LambdaInvoker;
  logger: CloudLogger;
  maxHistoryEvents: number;
  /** Clients that sign as the execution's role, so the local cloud's IAM sees the state machine's role. */
  dynamodb(roleArn: string): DynamoDBClient;
  s3(roleArn: string): S3Client;
  /** Why the role may not make these requests (IAM's message), or undefined when it may. */
  refusal?(roleArn: string, requests: readonly AuthorizationRequest[]): string | undefined;
  /** Called after every status change of an execution (RUNNING at start, then its terminal status). */
  onStatusChange(runtime: ExecutionRuntime): void;
}

interface PendingTask {
  runtime: ExecutionRuntime;
  resolve(output: JsonValue): void;
  reject(error: Error): void;
  heartbeatSeconds?: number;
  heartbeatTimer?: NodeJS.Timeout;
}

const libraryMachines = new WeakMap<CompiledMachine, StateMachine>();

function libraryMachine(compiled: CompiledMachine): StateMachine {
  let machine = libraryMachines.get(compiled);
  if (!machine) {
    machine = new StateMachine(compiled.definition as never, { validationOptions: { noValidate: true } });
    libraryMachines.set(compiled, machine);
  }
  return machine;
}

let timeoutErrorClass: Promise<new () => Error> | undefined;

/**
 * The library exempts only its own StatesTimeoutError from the `States.TaskFailed` wildcard (as AWS exempts
 * States.Timeout), and does not export the class. A Task with a 1 ms timeout run once hands us an instance.
 */
function statesTimeoutErrorClass(): Promise<new () => Error> {
  timeoutErrorClass ??= (async () => {
    const machine = new StateMachine(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'local', TimeoutSeconds: 0.001, End: true } } } as never,
      { validationOptions: { noValidate: true } },
    );
    const run = machine.run(null, { overrides: { taskResourceLocalHandlers: { T: () => new Promise(() => {}) } } });
    try {
      await run.result;
    } catch (error) {
      const cause = (error as Error).cause as Error | undefined;
      if (cause?.name === 'States.Timeout') return cause.constructor as new () => Error;
    }
    return class extends Error {
      override name = 'States.Timeout';
    };
  })();
  return timeoutErrorClass;
}

async function timeoutError(cause: string): Promise<Error> {
  const Class = await statesTimeoutErrorClass();
  const error = new Class();
  error.message = cause;
  return error;
}

export function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

export class Engine {
  private readonly pending = new Map<string, PendingTask>();
  /** Every execution of this process, including Distributed Map children, by ARN. */
  readonly runtimes = new Map<string, ExecutionRuntime>();
  /** Distributed Map runs of this process, by ARN. */
  readonly mapRuns = new Map<string, MapRun>();

  constructor(private readonly opts: EngineOptions) {}

  async warmUp(): Promise<void> {
    await statesTimeoutErrorClass();
  }

  s3For(roleArn: string): S3Client {
    return this.opts.s3(roleArn);
  }

  /** Invokes as the execution's role: refused as Step Functions reports Lambda's AccessDeniedException. */
  private invokeLambda(runtime: ExecutionRuntime, functionRef: string, payload: JsonValue): Promise<JsonValue> {
    const refusal = this.opts.refusal?.(runtime.record.roleArn, [lambdaInvokePermission(functionRef, { region: this.opts.region, accountId: this.opts.accountId })]);
    if (refusal !== undefined) {
      throw new StatesError(
        'Lambda.AWSLambdaException',
        `${refusal} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: ${randomUUID()}; Proxy: null)`,
      );
    }
    return callLambda(this.opts.lambda, functionRef, payload);
  }

  get logger(): CloudLogger {
    return this.opts.logger;
  }

  get scope(): { region: string; accountId: string } {
    return { region: this.opts.region, accountId: this.opts.accountId };
  }

  // --- history ---------------------------------------------------------------------------------------------------

  /**
   * Appends an event. The last slot under the limit is kept for the terminal event: an execution that would need
   * more fails, as in AWS, instead of growing its history past the limit.
   */
  addEvent(runtime: ExecutionRuntime, type: string, detailsKey?: string, details?: JsonObject): void {
    if (runtime.closed) return;
    if (runtime.record.historyEventCount + 1 >= this.opts.maxHistoryEvents) {
      this.finish(runtime, 'FAILED', {
        error: 'States.Runtime',
        cause: `The execution reached the maximum number of history events (${this.opts.maxHistoryEvents}).`,
      });
      return;
    }
    this.pushEvent(runtime, type, detailsKey, details);
  }

  private pushEvent(runtime: ExecutionRuntime, type: string, detailsKey?: string, details?: JsonObject): void {
    const id = runtime.record.historyEventCount + 1;
    runtime.record.historyEventCount = id;
    runtime.history.push({ id, previousEventId: id - 1, timestamp: Date.now(), type, detailsKey, details });
  }

  private async consumeEvents(runtime: ExecutionRuntime, events: AsyncGenerator<LibraryEvent>): Promise<void> {
    for await (const event of events) {
      if (runtime.closed) break;
      this.translateEvent(runtime, event);
    }
  }

  private translateEvent(runtime: ExecutionRuntime, event: LibraryEvent): void {
    const info = (internal: string) => runtime.compiled.states.get(internal) ?? { name: internal, type: 'Unknown' };
    switch (event.type) {
      case 'StateEntered': {
        const { name, type } = info(event.state.name);
        this.addEvent(runtime, `${type}StateEntered`, 'stateEnteredEventDetails', {
          name,
          input: jsonText(event.state.input),
          inputDetails: { truncated: false },
        });
        if (type === 'Map' || type === 'Parallel') this.addEvent(runtime, `${type}StateStarted`);
        return;
      }
      case 'StateExited': {
        const { name, type } = info(event.state.name);
        if (type === 'Map' || type === 'Parallel') this.addEvent(runtime, `${type}StateSucceeded`);
        // AWS records no exit for Fail states; Succeed states do exit.
        if (type === 'Fail') return;
        this.addEvent(runtime, `${type}StateExited`, 'stateExitedEventDetails', {
          name,
          output: jsonText(event.state.output),
          outputDetails: { truncated: false },
        });
        return;
      }
      case 'StateFailed': {
        const { type } = info(event.state.name);
        if (type === 'Map' || type === 'Parallel') this.addEvent(runtime, `${type}StateFailed`);
        return;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const { name } = info(event.parentState.name);
        const key = `mapIteration${event.type.slice('MapIteration'.length)}EventDetails`;
        this.addEvent(runtime, event.type, key, { name, index: event.index });
        return;
      }
      default:
        // Execution events are recorded by the engine itself; branch and retry/catch events have no AWS equivalent.
        return;
    }
  }

  // --- executions ------------------------------------------------------------------------------------------------

  /** Starts a runtime whose record is RUNNING; returns at once. */
  start(runtime: ExecutionRuntime, input: JsonValue): void {
    const { record, compiled } = runtime;
    this.runtimes.set(record.executionArn, runtime);
    if (runtime.parent) runtime.parent.children.add(runtime);
    this.pushEvent(runtime, 'ExecutionStarted', 'executionStartedEventDetails', {
      input: record.input,
      inputDetails: { truncated: false },
      roleArn: record.roleArn,
      ...(record.stateMachineVersionArn ? { stateMachineVersionArn: record.stateMachineVersionArn } : {}),
    });
    this.reportStatus(runtime);

    // The library's JSON type is ours without `undefined` fields, which parsed JSON never has.
    const run = libraryMachine(compiled).run(input as never, {
      overrides: { taskResourceLocalHandlers: this.handlersFor(runtime) as never },
      context: this.contextFor(runtime, input),
    });
    runtime.abortLibrary = run.abort;
    const drained = this.consumeEvents(runtime, run.eventLogs).catch((error: unknown) => { this.logger.warn('step functions: history consumer failed', { error: String(error) }); },
    );
    const timeoutSeconds = compiled.timeoutSeconds;
    // Beyond the 32-bit timer range the timeout is ignored rather than firing at once.
    if (timeoutSeconds !== undefined && timeoutSeconds <= MAX_TIMER_SECONDS) {
      const timer = setTimeout(() => {
        this.finish(runtime, 'TIMED_OUT', { error: 'States.Timeout', cause: `The execution timed out after ${timeoutSeconds} seconds.` });
      }, timeoutSeconds * 1000);
      runtime.timers.add(timer);
    }
    const settle = async () => {
      // Let the last state events land before the terminal one, without waiting on a consumer that never ends.
      await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    };
    run.result.then(
      async (output) => {
        await settle();
        const text = JSON.stringify(output ?? null);
        if (byteLength(text) > MAX_PAYLOAD_BYTES) {
          this.finish(runtime, 'FAILED', {
            error: 'States.DataLimitExceeded',
            cause: `The state/task returned a result with a size exceeding the maximum number of bytes service limit (${MAX_PAYLOAD_BYTES}).`,
          });
        } else {
          this.finish(runtime, 'SUCCEEDED', { output: text });
        }
      },
      async (error: unknown) => {
        await settle();
        // Anything may be thrown; an Error's name and message are used when there is one.
        const cause = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : (error as Partial<Error> | undefined);
        this.finish(runtime, 'FAILED', { error: cause?.name ?? 'States.Runtime', cause: cause?.message ?? String(error) });
      },
    );
  }

  private contextFor(runtime: ExecutionRuntime, input: JsonValue): JsonObject {
    const { record } = runtime;
    const smArn = record.stateMachineVersionArn ?? record.stateMachineArn;
    return {
      Execution: {
        Id: record.executionArn,
        Name: record.name,
        RoleArn: record.roleArn,
        RedriveCount: 0,
        LocalInput: input,
        LocalStartTime: new Date(record.startDate).toISOString(),
      },
      StateMachine: { Id: smArn, Name: smArn.split(':stateMachine:')[1]?.split(':')[0] ?? record.stateMachineArn },
    };
  }

  /** Context of the running execution, for evaluating templates outside the library run (Distributed Map). */
  contextOf(runtime: ExecutionRuntime): JsonObject {
    return this.contextFor(runtime, parseJson(runtime.record.input));
  }

  /**
   * Moves a running execution to a terminal status once: records the terminal event, stops whatever it still
   * runs (library run, timers, pending tokens, Distributed Map children) and reports the change.
   */
  finish(
    runtime: ExecutionRuntime,
    status: Exclude<ExecutionStatus, 'RUNNING'>,
    result: { output?: string; error?: string; cause?: string },
  ): void {
    if (runtime.closed) return;
    const { record } = runtime;
    const details: JsonObject =
      status === 'SUCCEEDED'
        ? { output: result.output, outputDetails: { truncated: false } }
        : { ...(result.error !== undefined ? { error: result.error } : {}), ...(result.cause !== undefined ? { cause: result.cause } : {}) };
    const type = { SUCCEEDED: 'ExecutionSucceeded', FAILED: 'ExecutionFailed', TIMED_OUT: 'ExecutionTimedOut', ABORTED: 'ExecutionAborted' }[status];
    this.pushEvent(runtime, type, `${type[0].toLowerCase()}${type.slice(1)}EventDetails`, details);
    runtime.closed = true;
    record.status = status;
    record.stopDate = Date.now();
    if (result.output !== undefined) record.output = result.output;
    if (result.error !== undefined) record.error = result.error;
    if (result.cause !== undefined) record.cause = result.cause;
    runtime.clearTimers();
    for (const token of runtime.tokens) this.dropToken(token, executionClosedError());
    for (const child of runtime.children) {
      this.finish(child, 'ABORTED', { error: 'States.Aborted', cause: 'The parent execution ended.' });
    }
    runtime.abortLibrary?.();
    runtime.parent?.children.delete(runtime);
    this.reportStatus(runtime);
    runtime.markDone();
  }

  /** Persistence or listener failures are logged: they must not turn into a failure of the state that ran. */
  private reportStatus(runtime: ExecutionRuntime): void {
    try {
      this.opts.onStatusChange(runtime);
    } catch (error) {
      this.logger.error('step functions: recording a status change failed', { executionArn: runtime.record.executionArn, error: String(error) });
    }
  }

  /** Ends bookkeeping without a terminal status: the records stay RUNNING on disk (see LocalStepFunctions.stop). */
  shutdown(): void {
    for (const runtime of this.runtimes.values()) {
      if (runtime.closed) continue;
      runtime.closed = true;
      runtime.clearTimers();
      runtime.abortLibrary?.();
      runtime.markDone();
    }
    for (const [token, task] of this.pending) {
      if (task.heartbeatTimer) clearTimeout(task.heartbeatTimer);
      this.pending.delete(token);
    }
  }

  // --- task tokens -----------------------------------------------------------------------------------------------

  /** Tokens name their execution so that one presented after a restart still gets AWS's answer. */
  private mintToken(runtime: ExecutionRuntime): string {
    const body = JSON.stringify({ e: runtime.record.executionArn, n: randomBytes(24).toString('base64url') });
    return `AQ${Buffer.from(body).toString('base64url')}`;
  }

  private decodeToken(token: unknown): { executionArn: string } | undefined {
    if (typeof token !== 'string' || !token.startsWith('AQ')) return undefined;
    try {
      const parsed = objectOr(parseJson(Buffer.from(token.slice(2), 'base64url').toString('utf8')));
      return typeof parsed.e === 'string' && typeof parsed.n === 'string' ? { executionArn: parsed.e } : undefined;
    } catch {
      return undefined;
    }
  }

  private dropToken(token: string, error?: Error): void {
    const task = this.pending.get(token);
    if (!task) return;
    this.pending.delete(token);
    task.runtime.tokens.delete(token);
    if (task.heartbeatTimer) clearTimeout(task.heartbeatTimer);
    if (error) task.reject(error);
  }

  private armHeartbeat(token: string): void {
    const task = this.pending.get(token);
    if (!task?.heartbeatSeconds || task.heartbeatSeconds > MAX_TIMER_SECONDS) return;
    if (task.heartbeatTimer) clearTimeout(task.heartbeatTimer);
    const seconds = task.heartbeatSeconds;
    task.heartbeatTimer = setTimeout(
      () => { this.dropToken(token, new StatesError('States.HeartbeatTimeout', `No heartbeat was received within ${seconds} seconds.`)); },
      seconds * 1000,
    );
  }

  private waitForToken(runtime: ExecutionRuntime, token: string, heartbeatSeconds?: number): Promise<JsonValue> {
    return new Promise((resolve, reject) => {
      this.pending.set(token, { runtime, resolve, reject, heartbeatSeconds });
      runtime.tokens.add(token);
      this.armHeartbeat(token);
    });
  }

  /** Finds the waiting task of a token, or throws the error AWS answers for it. */
  private pendingTask(token: unknown): { token: string; task: PendingTask } {
    const decoded = this.decodeToken(token);
    if (!decoded) throw new SfnServiceError('InvalidToken', 'Invalid Token: the task token is malformed.');
    const task = this.pending.get(token as string);
    if (task) return { token: token as string, task };
    if (!this.runtimes.has(decoded.executionArn) && !this.knownExecution(decoded.executionArn)) {
      throw new SfnServiceError('TaskDoesNotExist', 'Task does not exist anymore.');
    }
    throw new SfnServiceError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
  }

  /** Set by the service: whether an execution ARN is known from persisted records. */
  knownExecution: (executionArn: string) => boolean = () => false;

  sendTaskSuccess(token: unknown, output: JsonValue): void {
    const { token: t, task } = this.pendingTask(token);
    this.dropToken(t);
    task.resolve(output);
  }

  sendTaskFailure(token: unknown, error: string | undefined, cause: string | undefined): void {
    const { token: t } = this.pendingTask(token);
    this.dropToken(t, new StatesError(error ?? '', cause ?? ''));
  }

  sendTaskHeartbeat(token: unknown): void {
    const { token: t } = this.pendingTask(token);
    this.armHeartbeat(t);
  }

  // --- tasks -----------------------------------------------------------------------------------------------------

  private handlersFor(runtime: ExecutionRuntime): Record<string, TaskHandler> {
    const handlers: Record<string, TaskHandler> = {};
    for (const [internal, spec] of runtime.compiled.handlers) {
      if (spec.kind === 'distributedMap') {
        handlers[internal] = (envelope) => handled(this.runMap(runtime, spec, envelope));
        continue;
      }
      const retried = spec.retried;
      handlers[internal] = retried
        ? (envelope) => handled(this.runRetriedTask(runtime, spec, retried, envelope))
        : (envelope) => handled(this.runTask(runtime, spec, envelope));
    }
    return handlers;
  }

  private async runMap(runtime: ExecutionRuntime, spec: DistributedMapSpec, envelope: JsonValue): Promise<JsonValue> {
    await new Promise((resolve) => setImmediate(resolve));
    runtime.throwIfCancelled();
    // A Distributed Map starts its child executions as the state machine's role, which AWS authorizes.
    const refusal = this.opts.refusal?.(runtime.record.roleArn, [{ action: 'states:StartExecution', resource: runtime.record.stateMachineArn }]);
    if (refusal !== undefined) throw new StatesError('States.Runtime', `${refusal} (Service: AWSStepFunctions; Status Code: 400; Error Code: AccessDeniedException)`, { retryable: false });
    return runDistributedMap(this, runtime, spec, envelope);
  }

  /** Runs a child execution of a Distributed Map to its end. */
  async runChild(child: ExecutionRuntime, input: JsonValue): Promise<void> {
    this.start(child, input);
    await child.done;
  }

  /**
   * A Task whose Parameters read `$$.State.RetryCount` (see retry.ts for why the engine retries it rather than the
   * library): each attempt evaluates the Parameters with the retries made so far since the state was entered.
   */
  private async runRetriedTask(
    runtime: ExecutionRuntime,
    spec: TaskSpec,
    retried: NonNullable<TaskSpec['retried']>,
    received: JsonValue,
  ): Promise<JsonValue> {
    const { input = null, ...limits } = objectOr(received);
    const attempts: number[] = [];
    for (let retryCount = 0; ; retryCount++) {
      try {
        const context = { ...this.contextOf(runtime), State: { Name: spec.name, RetryCount: retryCount } };
        const payload = await evaluateParameters(retried.parameters, input, context);
        return await this.runTask(runtime, spec, { ...limits, payload });
      } catch (error) {
        const delayMs = nextRetryDelayMs(retried.retriers, attempts, error as Error);
        if (delayMs === undefined || runtime.isCancelled()) throw error;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            runtime.timers.delete(timer);
            resolve();
          }, delayMs);
          // Cleared with the execution's other timers when it ends; the library's run is aborted then too.
          runtime.timers.add(timer);
        });
        runtime.throwIfCancelled();
      }
    }
  }

  private async runTask(runtime: ExecutionRuntime, spec: TaskSpec, received: JsonValue): Promise<JsonValue> {
    // The library queued this state's StateEntered just before calling us; let the history consumer take it first.
    await new Promise((resolve) => setImmediate(resolve));
    runtime.throwIfCancelled();
    const envelope = objectOr(spec.enveloped ? received : { payload: received });
    const { resourceType, resource } = splitTaskResource(spec.resource);
    const callback = spec.resource.endsWith('.waitForTaskToken');
    const token = callback || usesTaskToken(envelope.payload) ? this.mintToken(runtime) : '';
    const payload = substitutePlaceholders(envelope.payload ?? null, token, new Date().toISOString());
    const timeoutSeconds = numberOr(envelope.timeoutSeconds, spec.timeoutSeconds);
    const heartbeatSeconds = numberOr(envelope.heartbeatSeconds, spec.heartbeatSeconds);
    const plainLambda = resourceType === 'lambda' && resource.startsWith('arn:');
    const prefix = plainLambda ? 'LambdaFunction' : 'Task';
    const base = plainLambda ? { resource: spec.resource } : { resourceType, resource };

    if (plainLambda) {
      this.addEvent(runtime, 'LambdaFunctionScheduled', 'lambdaFunctionScheduledEventDetails', {
        resource: spec.resource,
        input: JSON.stringify(payload),
        inputDetails: { truncated: false },
        ...(timeoutSeconds ? { timeoutInSeconds: timeoutSeconds } : {}),
      });
      this.addEvent(runtime, 'LambdaFunctionStarted');
    } else {
      this.addEvent(runtime, 'TaskScheduled', 'taskScheduledEventDetails', {
        resourceType,
        resource,
        region: this.opts.region,
        parameters: JSON.stringify(payload),
        ...(timeoutSeconds ? { timeoutInSeconds: timeoutSeconds } : {}),
        ...(heartbeatSeconds ? { heartbeatInSeconds: heartbeatSeconds } : {}),
      });
      this.addEvent(runtime, 'TaskStarted', 'taskStartedEventDetails', { resourceType, resource });
    }

    const work = async (): Promise<JsonValue> => {
      if (callback) {
        const waiting = this.waitForToken(runtime, token, heartbeatSeconds);
        // The function may answer before it returns, so the token waits before the call is made.
        waiting.catch(() => {});
        try {
          const functionRef = functionRefOf(payload);
          const response = lambdaInvokeOutput(functionRef, await this.invokeLambda(runtime, functionRef, objectOr(payload).Payload ?? {}));
          this.addEvent(runtime, 'TaskSubmitted', 'taskSubmittedEventDetails', {
            resourceType,
            resource,
            output: JSON.stringify(response),
            outputDetails: { truncated: false },
          });
        } catch (error) {
          this.dropToken(token);
          throw error;
        }
        return waiting;
      }
      return this.callIntegration(runtime, spec.resource, resourceType, resource, payload);
    };

    try {
      const output = await withTimeout(runtime, work(), timeoutSeconds);
      runtime.throwIfCancelled();
      const text = jsonText(output);
      if (byteLength(text) > MAX_PAYLOAD_BYTES) {
        throw new StatesError(
          'States.DataLimitExceeded',
          `The state/task '${spec.name}' returned a result with a size exceeding the maximum number of bytes service limit (${MAX_PAYLOAD_BYTES}).`,
          { retryable: false },
        );
      }
      this.addEvent(runtime, `${prefix}Succeeded`, `${lower(prefix)}SucceededEventDetails`, {
        ...base,
        output: text,
        outputDetails: { truncated: false },
      });
      return output ?? null;
    } catch (error) {
      if (token) this.dropToken(token);
      runtime.throwIfCancelled();
      const e = error as Error;
      const timedOut = e.name === 'States.Timeout' || e.name === 'States.HeartbeatTimeout';
      const kind = timedOut ? 'TimedOut' : 'Failed';
      this.addEvent(runtime, `${prefix}${kind}`, `${lower(prefix)}${kind}EventDetails`, { ...base, error: e.name, cause: e.message });
      throw error;
    }
  }

  private async callIntegration(runtime: ExecutionRuntime, arn: string, resourceType: string, resource: string, payload: JsonValue): Promise<JsonValue> {
    const role = runtime.record.roleArn;
    if (resourceType === 'lambda') {
      if (resource.startsWith('arn:')) return this.invokeLambda(runtime, arn, payload);
      const functionRef = functionRefOf(payload);
      if (!functionRef) throw new StatesError('States.Runtime', 'lambda:invoke needs Parameters.FunctionName', { retryable: false });
      return lambdaInvokeOutput(functionRef, await this.invokeLambda(runtime, functionRef, objectOr(payload).Payload ?? {}));
    }
    if (resourceType === 'dynamodb') return callDynamoDb(this.opts.dynamodb(role), resource, payload, 'DynamoDB');
    if (resourceType === 'aws-sdk:dynamodb') return callDynamoDb(this.opts.dynamodb(role), resource, payload, 'DynamoDb');
    if (resourceType === 's3' || resourceType === 'aws-sdk:s3') return callS3(this.opts.s3(role), resource, payload);
    throw new StatesError('States.Runtime', `The local cloud does not support the resource ${arn}`, { retryable: false });
  }
}

/** `Parameters.FunctionName` of a lambda:invoke Task (a name or ARN; anything else is shown as JSON). */
function functionRefOf(payload: JsonValue): string {
  const ref = objectOr(payload).FunctionName;
  if (ref === undefined || ref === null) return '';
  return typeof ref === 'string' ? ref : JSON.stringify(ref);
}

/**
 * The library stops awaiting a task once its execution is stopped, so the task's later rejection (the
 * execution-closed error it ends with) would be unhandled and end the process: mark it handled; the library
 * still sees it while it waits.
 */
function handled<T>(work: Promise<T>): Promise<T> {
  work.catch(() => undefined);
  return work;
}

function lower(s: string): string {
  return `${s[0].toLowerCase()}${s.slice(1)}`;
}

function numberOr(value: unknown, fallback: number | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

async function withTimeout<T>(runtime: ExecutionRuntime, work: Promise<T>, timeoutSeconds: number | undefined): Promise<T> {
  if (!timeoutSeconds || timeoutSeconds > MAX_TIMER_SECONDS) return work;
  const error = await timeoutError(`The task did not complete within its timeout of ${timeoutSeconds} seconds.`);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(error); }, timeoutSeconds * 1000);
    runtime.timers.add(timer);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    if (timer) {
      clearTimeout(timer);
      runtime.timers.delete(timer);
    }
  }
}
