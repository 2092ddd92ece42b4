/**
 * Lambda's asynchronous invocation queue: an accepted event is run in the background, a function error is
 * retried up to MaximumRetryAttempts times, an event older than MaximumEventAgeInSeconds is discarded, and the
 * invocation record goes to the OnFailure (or OnSuccess) destination — per function, from its
 * `AWS::Lambda::EventInvokeConfig`, or AWS's defaults (two retries, six hours) without one.
 *
 * AWS waits about one minute before the first retry and two before the second. Locally the waits are short
 * (`retryDelaysMs`, default 1 s then 2 s) so a failing event settles within seconds, but an event's age is
 * measured on AWS's timeline: each local wait counts as the AWS wait it stands for. So a configuration behaves
 * as it would on AWS (a 60 s maximum age drops the event after its first failure, as the one-minute wait
 * outlives it) and the outcome does not depend on the machine's speed.
 *
 * A throttled attempt (TooManyRequestsException: the function's reserved or the account's concurrency is in use)
 * is no function error: as on AWS it does not use up a retry, and the event goes back to the queue with an
 * exponential wait (AWS: from 1 s, doubling, up to 5 min) until it runs or outlives its maximum age (six hours by
 * default). The local waits (`throttleDelaysMs`, default 100 ms doubling up to 2 s) count as AWS's on the same
 * timeline. Destinations get the record of the outcome either way.
 */
import { randomUUID } from 'node:crypto';
import {
  functionArn,
  functionNameOf,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  ResourceNotFoundError,
  type AsyncLambdaInvoker,
  type CloudLogger,
  type LambdaInvoker,
  type LambdaResult,
} from '../types';
import { DEFAULT_ASYNC_INVOKE_CONFIG, type AsyncInvokeConfig } from './event-invoke-config';
import { invocationRecord, type AsyncCondition } from './invocation-record';
import { checkRequestSize, payloadBytes, TooManyRequestsError } from './limits';

/** Where invocation records go: an SQS queue, by ARN. */
export interface DestinationSender {
  /** `functionName`: whose execution role sends the record, as Lambda sends it. */
  send(destinationArn: string, body: string, functionName: string): Promise<void>;
}

/** AWS's waits before the first and the second retry of a function error. */
const AWS_RETRY_DELAYS_MS: readonly [number, number] = [60_000, 120_000];
/** The local waits standing for them. */
export const DEFAULT_RETRY_DELAYS_MS: readonly [number, number] = [1_000, 2_000];
/** AWS's first wait after a throttle, and the most it waits: it doubles in between. */
const AWS_THROTTLE_DELAYS_MS: readonly [number, number] = [1_000, 300_000];
/** The local first and longest waits standing for them. */
const DEFAULT_THROTTLE_DELAYS_MS: readonly [number, number] = [100, 2_000];

/** The n-th (from 0) wait after a throttle: `first` doubling, at most `max`. */
export function throttleDelayMs(n: number, [first, max]: readonly [number, number]): number {
  return Math.min(max, first * 2 ** Math.min(n, 30));
}

export interface AsyncInvokerOptions {
  lambda: LambdaInvoker;
  destinations: DestinationSender;
  logger: CloudLogger;
  region?: string;
  accountId?: string;
  /** Local waits before the first and the second retry (default 1 s, 2 s). */
  retryDelaysMs?: readonly [number, number];
  /** Local first and longest waits after a throttled attempt (default 100 ms doubling up to 2 s). */
  throttleDelaysMs?: readonly [number, number];
  /** Epoch ms; a stand-in lets tests age events without waiting. */
  clock?: () => number;
}

export interface AsyncInvokerStats {
  accepted: number;
  succeeded: number;
  retriesExhausted: number;
  eventAgeExceeded: number;
  /** Attempts refused for want of concurrency, each put back in the queue. */
  throttled: number;
  /** Records that could not be sent to their destination (AWS's DestinationDeliveryFailures). */
  destinationFailures: number;
}

interface QueuedEvent {
  requestId: string;
  functionName: string;
  event: unknown;
  /** Its JSON size, measured once when accepted. */
  bytes: number;
  config: AsyncInvokeConfig;
}

export class AsyncInvoker implements AsyncLambdaInvoker {
  private readonly configs = new Map<string, AsyncInvokeConfig>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Events waiting for a retry: their timer, and how to wake them (false: the invoker stopped). */
  private readonly waits = new Map<NodeJS.Timeout, (proceed: boolean) => void>();
  private readonly retryDelaysMs: readonly [number, number];
  private readonly throttleDelaysMs: readonly [number, number];
  private readonly clock: () => number;
  private stopped = false;
  private readonly counters: AsyncInvokerStats = { accepted: 0, succeeded: 0, retriesExhausted: 0, eventAgeExceeded: 0, throttled: 0, destinationFailures: 0 };

  constructor(private readonly opts: AsyncInvokerOptions) {
    this.retryDelaysMs = opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    if (this.retryDelaysMs.some((ms) => !Number.isFinite(ms) || ms < 0)) throw new Error(`retryDelaysMs must be two non-negative numbers (got ${this.retryDelaysMs.join(',')})`);
    this.throttleDelaysMs = opts.throttleDelaysMs ?? DEFAULT_THROTTLE_DELAYS_MS;
    if (this.throttleDelaysMs.some((ms) => !Number.isFinite(ms) || ms < 0)) throw new Error(`throttleDelaysMs must be two non-negative numbers (got ${this.throttleDelaysMs.join(',')})`);
    this.clock = opts.clock ?? Date.now;
  }

  /** Applies a function's EventInvokeConfig (./event-invoke-config.ts checks there is one per function). */
  configure(functionName: string, config: AsyncInvokeConfig): void {
    this.configs.set(functionName, { ...config });
  }

  configFor(functionRef: string): AsyncInvokeConfig {
    return this.configs.get(functionNameOf(functionRef)) ?? DEFAULT_ASYNC_INVOKE_CONFIG;
  }

  invokeAsync(functionRef: string, event: unknown): { requestId: string } {
    if (!this.opts.lambda.has(functionRef)) throw new ResourceNotFoundError(`Function not found: ${functionRef}`);
    if (this.stopped) throw new Error('The local Lambda service is stopping');
    const bytes = payloadBytes(event);
    checkRequestSize(bytes, 'Event');
    const functionName = functionNameOf(functionRef);
    // The configuration in force when the event is accepted applies to all its attempts.
    const queued: QueuedEvent = { requestId: randomUUID(), functionName, event, bytes, config: this.configFor(functionName) };
    this.counters.accepted++;
    const run: Promise<void> = this.process(queued)
      .catch((error: unknown) => { this.opts.logger.error('async invocation failed', { function: functionName, requestId: queued.requestId, error: String(error) }); })
      .finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
    return { requestId: queued.requestId };
  }

  /** Resolves once every accepted event has settled (tests; a graceful stop). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  stats(): AsyncInvokerStats {
    return { ...this.counters };
  }

  /** Events waiting for a retry are dropped: unlike AWS's queue, the local one does not outlive the process. */
  stop(): void {
    this.stopped = true;
    if (this.waits.size > 0) this.opts.logger.warn('async events dropped at stop', { waitingForRetry: this.waits.size });
    for (const [timer, wake] of this.waits) {
      clearTimeout(timer);
      wake(false);
    }
    this.waits.clear();
  }

  private async process(queued: QueuedEvent): Promise<void> {
    const { config } = queued;
    const acceptedAt = this.clock();
    // The age counts the waits as the AWS waits they stand for (see the module comment): the local waits' real
    // duration (a timer may fire a millisecond early) is taken out, AWS's is put in.
    let awsTimelineLeadMs = 0;
    let attempts = 0;
    let throttles = 0;
    let last: LambdaResult | undefined;
    for (;;) {
      const ageMs = this.clock() - acceptedAt + awsTimelineLeadMs;
      if (ageMs >= config.maximumEventAgeSeconds * 1000) return this.settle(queued, 'EventAgeExceeded', attempts, last);
      const outcome = await this.attempt(queued.functionName, queued.event, queued.bytes);
      if (outcome === 'throttled') {
        this.counters.throttled++;
        const waitMs = throttleDelayMs(throttles, this.throttleDelaysMs);
        const awsWaitMs = throttleDelayMs(throttles, AWS_THROTTLE_DELAYS_MS);
        throttles++;
        const waitStarted = this.clock();
        if (!(await this.wait(waitMs))) return;
        awsTimelineLeadMs += awsWaitMs - (this.clock() - waitStarted);
        continue;
      }
      attempts++;
      last = outcome;
      if (last.ok) return this.settle(queued, 'Success', attempts, last);
      this.opts.logger.warn('async invocation attempt failed', {
        function: queued.functionName,
        requestId: queued.requestId,
        attempt: attempts,
        errorType: last.errorType,
        error: last.errorMessage,
      });
      if (attempts > config.maximumRetryAttempts) return this.settle(queued, 'RetriesExhausted', attempts, last);
      const retry = attempts - 1;
      const waitMs = this.retryDelaysMs[retry];
      const waitStarted = this.clock();
      if (!(await this.wait(waitMs))) return;
      awsTimelineLeadMs += AWS_RETRY_DELAYS_MS[retry] - (this.clock() - waitStarted);
    }
  }

  private async attempt(functionName: string, event: unknown, bytes: number): Promise<LambdaResult | 'throttled'> {
    try {
      return await this.opts.lambda.invoke(functionName, event, bytes);
    } catch (error) {
      if (error instanceof TooManyRequestsError) return 'throttled';
      // The function could not be run at all (e.g. its environment failed to start): an error like any other.
      const e = error instanceof Error ? error : new Error(String(error));
      return { ok: false, errorType: e.name, errorMessage: e.message };
    }
  }

  private async settle(queued: QueuedEvent, condition: AsyncCondition, attempts: number, last: LambdaResult | undefined): Promise<void> {
    if (condition === 'Success') this.counters.succeeded++;
    else if (condition === 'RetriesExhausted') this.counters.retriesExhausted++;
    else this.counters.eventAgeExceeded++;
    const destination = condition === 'Success' ? queued.config.onSuccess : queued.config.onFailure;
    if (!destination) {
      if (condition !== 'Success') this.opts.logger.warn('async event discarded', { function: queued.functionName, requestId: queued.requestId, condition, attempts });
      return;
    }
    const record = invocationRecord({
      requestId: queued.requestId,
      functionArn: functionArn(queued.functionName, this.opts.region ?? LOCAL_REGION, this.opts.accountId ?? LOCAL_ACCOUNT_ID),
      condition,
      attempts,
      requestPayload: queued.event,
      lastResult: last,
      now: new Date(this.clock()),
    });
    try {
      await this.opts.destinations.send(destination, JSON.stringify(record), queued.functionName);
    } catch (error) {
      this.counters.destinationFailures++;
      this.opts.logger.error('invocation record not delivered', { function: queued.functionName, requestId: queued.requestId, destination, error: String(error) });
    }
  }

  /** Resolves true after `ms`, or false at once if the invoker stops meanwhile. */
  private wait(ms: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waits.delete(timer);
        resolve(true);
      }, ms);
      this.waits.set(timer, resolve);
    });
  }
}
