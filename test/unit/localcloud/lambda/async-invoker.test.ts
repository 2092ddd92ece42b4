import { afterEach, describe, expect, it, vi } from 'vitest';
import { AsyncInvoker, DEFAULT_RETRY_DELAYS_MS, type AsyncInvokerOptions } from '../../../../localstack/cloud/lambda/async-invoker';
import type { AsyncInvokeConfig } from '../../../../localstack/cloud/lambda/event-invoke-config';
import { ResourceNotFoundError } from '../../../../localstack/cloud/types';
import { CapturingDestinations, FAILURES, FUNCTION, FUNCTION_ARN, ScriptedFunction, SUCCESSES, fail, ok, recordingLogger } from './helpers';

const FAST: readonly [number, number] = [5, 10];
const event = { detail: { name: 'run-1', status: 'FAILED' } };

function invoker(fn: ScriptedFunction, config?: Partial<AsyncInvokeConfig>, extra: Partial<AsyncInvokerOptions> = {}) {
  const destinations = new CapturingDestinations();
  const logger = recordingLogger();
  const async = new AsyncInvoker({ lambda: fn, destinations, logger, retryDelaysMs: FAST, ...extra });
  if (config) async.configure(FUNCTION, { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600, ...config });
  return { async, destinations, logger };
}

describe('Class: AsyncInvoker', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('Method: invokeAsync', () => {
    it('should retry a function error twice by default and send AWS’s RetriesExhausted record to OnFailure', async () => {
      const fn = new ScriptedFunction([fail('Cannot destructure detail')]);
      const { async, destinations } = invoker(fn, { onFailure: FAILURES });

      const { requestId } = async.invokeAsync(FUNCTION, event);
      await async.drain();

      expect(fn.calls).toHaveLength(3);
      expect(fn.calls.every((c) => c.event === event)).toBe(true);
      expect(destinations.sent).toHaveLength(1);
      expect(destinations.sent[0].destination).toBe(FAILURES);
      expect(destinations.sent[0].record).toEqual({
        version: '1.0',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
        requestContext: { requestId, functionArn: `${FUNCTION_ARN}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: { errorType: 'TypeError', errorMessage: 'Cannot destructure detail', trace: ['TypeError: Cannot destructure detail', '    at handler'] },
      });
      expect(async.stats()).toMatchObject({ accepted: 1, retriesExhausted: 1, succeeded: 0 });
    });

    it('should apply AWS’s defaults (two retries, no destination) to a function without an EventInvokeConfig', async () => {
      const fn = new ScriptedFunction([fail()]);
      const { async, destinations, logger } = invoker(fn);

      async.invokeAsync(FUNCTION, event);
      await async.drain();

      expect(fn.calls).toHaveLength(3);
      expect(destinations.sent).toEqual([]);
      expect(logger.lines.find((l) => l.message === 'async event discarded')?.extra).toMatchObject({ condition: 'RetriesExhausted', attempts: 3 });
    });

    it('should make MaximumRetryAttempts attempts more than the first, and no more', async () => {
      for (const retries of [0, 1]) {
        const fn = new ScriptedFunction([fail()]);
        const { async, destinations } = invoker(fn, { maximumRetryAttempts: retries, onFailure: FAILURES });

        async.invokeAsync(FUNCTION, event);
        await async.drain();

        expect(fn.calls).toHaveLength(retries + 1);
        expect(destinations.sent[0].record.requestContext.approximateInvokeCount).toBe(retries + 1);
      }
    });

    it('should stop retrying once the function succeeds, and send the Success record to OnSuccess only', async () => {
      const fn = new ScriptedFunction([fail(), ok({ outcome: 'completed' })]);
      const { async, destinations } = invoker(fn, { onFailure: FAILURES, onSuccess: SUCCESSES });

      async.invokeAsync(FUNCTION, event);
      await async.drain();

      expect(fn.calls).toHaveLength(2);
      expect(destinations.sent).toHaveLength(1);
      expect(destinations.sent[0].destination).toBe(SUCCESSES);
      expect(destinations.sent[0].record).toMatchObject({
        requestContext: { condition: 'Success', approximateInvokeCount: 2 },
        responseContext: { statusCode: 200, executedVersion: '$LATEST' },
        responsePayload: { outcome: 'completed' },
      });
      expect(destinations.sent[0].record.responseContext).not.toHaveProperty('functionError');
    });

    it('should count an invocation the runtime could not run at all as a function error', async () => {
      const fn = new ScriptedFunction([new Error('worker crashed')]);
      const { async, destinations } = invoker(fn, { maximumRetryAttempts: 0, onFailure: FAILURES });

      async.invokeAsync(FUNCTION, event);
      await async.drain();

      expect(destinations.sent[0].record.responsePayload).toEqual({ errorType: 'Error', errorMessage: 'worker crashed', trace: [] });
    });

    it('should refuse an unknown function at once, as Lambda’s Invoke does', () => {
      const { async } = invoker(new ScriptedFunction([ok()]));

      expect(() => async.invokeAsync('no-such-function', event)).toThrow(ResourceNotFoundError);
      expect(async.stats().accepted).toBe(0);
    });

    it('should find the configuration of a function invoked by ARN', async () => {
      const fn = new ScriptedFunction([fail()]);
      const { async, destinations } = invoker(fn, { maximumRetryAttempts: 0, onFailure: FAILURES });

      async.invokeAsync(FUNCTION_ARN, event);
      await async.drain();

      expect(fn.calls).toHaveLength(1);
      expect(destinations.sent).toHaveLength(1);
    });
  });

  describe('Retry delays', () => {
    it('should wait 1 s before the first retry and 2 s before the second by default', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      expect(DEFAULT_RETRY_DELAYS_MS).toEqual([1_000, 2_000]);
      const fn = new ScriptedFunction([fail()]);
      const { async } = invoker(fn, { onFailure: FAILURES }, { retryDelaysMs: undefined });

      async.invokeAsync(FUNCTION, event);
      await vi.advanceTimersByTimeAsync(0);
      expect(fn.calls).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(999);
      expect(fn.calls).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(fn.calls).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(1_999);
      expect(fn.calls).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(1);
      expect(fn.calls).toHaveLength(3);
      await async.drain();
    });

    it('should use the configured waits', async () => {
      const fn = new ScriptedFunction([fail()]);
      const { async } = invoker(fn, undefined, { retryDelaysMs: [40, 80] });

      async.invokeAsync(FUNCTION, event);
      await async.drain();

      const [first, second, third] = fn.calls.map((c) => c.at);
      // Timers may fire a millisecond early by rounding.
      expect(second - first).toBeGreaterThanOrEqual(39);
      expect(third - second).toBeGreaterThanOrEqual(79);
    });

    it('should refuse negative waits', () => {
      expect(() => invoker(new ScriptedFunction([ok()]), undefined, { retryDelaysMs: [-1, 10] })).toThrow(/retryDelaysMs/);
    });
  });

  describe('Maximum event age', () => {
    it('should count each local wait as the AWS wait it stands for: a 60 s age drops the event after its first failure', async () => {
      const fn = new ScriptedFunction([fail()]);
      const { async, destinations } = invoker(fn, { maximumEventAgeSeconds: 60, onFailure: FAILURES });

      async.invokeAsync(FUNCTION, event);
      await async.drain();

      expect(fn.calls).toHaveLength(1);
      expect(destinations.sent[0].record).toMatchObject({
        requestContext: { condition: 'EventAgeExceeded', approximateInvokeCount: 1 },
        responseContext: { functionError: 'Unhandled' },
        responsePayload: { errorType: 'TypeError' },
      });
      expect(async.stats().eventAgeExceeded).toBe(1);
    });

    it('should allow the first retry (after AWS’s 1 min) but not the second (after 3 min) with a 120 s age', async () => {
      const fn = new ScriptedFunction([fail()]);
      const { async, destinations } = invoker(fn, { maximumEventAgeSeconds: 120, onFailure: FAILURES });

      async.invokeAsync(FUNCTION, event);
      await async.drain();

      expect(fn.calls).toHaveLength(2);
      expect(destinations.sent[0].record.requestContext).toMatchObject({ condition: 'EventAgeExceeded', approximateInvokeCount: 2 });
    });

    it('should count the time the function itself ran', async () => {
      let now = 1_000_000;
      const fn = new ScriptedFunction([fail()]);
      // Two attempts of 100 s and AWS's 1 + 2 min waits make 380 s > 250 s; the waits alone (180 s) would allow a third.
      fn.onCall = () => void (now += 100_000);
      const { async, destinations } = invoker(fn, { maximumEventAgeSeconds: 250, onFailure: FAILURES }, { clock: () => now });

      async.invokeAsync(FUNCTION, event);
      await async.drain();

      expect(fn.calls).toHaveLength(2);
      expect(destinations.sent[0].record.requestContext).toMatchObject({ condition: 'EventAgeExceeded', approximateInvokeCount: 2 });
      expect(destinations.sent[0].record.timestamp).toBe(new Date(now).toISOString());
    });
  });

  describe('Destinations', () => {
    it('should log a record that cannot be delivered and count it, as AWS’s DestinationDeliveryFailures', async () => {
      const fn = new ScriptedFunction([fail()]);
      const { async, destinations, logger } = invoker(fn, { maximumRetryAttempts: 0, onFailure: FAILURES });
      destinations.failWith = new Error('QueueDoesNotExist');

      async.invokeAsync(FUNCTION, event);
      await async.drain();

      expect(async.stats().destinationFailures).toBe(1);
      expect(logger.lines.find((l) => l.level === 'error')).toMatchObject({ message: 'invocation record not delivered', extra: { destination: FAILURES } });
    });

    it('should send nothing for a success without OnSuccess', async () => {
      const fn = new ScriptedFunction([ok()]);
      const { async, destinations } = invoker(fn, { onFailure: FAILURES });

      async.invokeAsync(FUNCTION, event);
      await async.drain();

      expect(destinations.sent).toEqual([]);
      expect(async.stats().succeeded).toBe(1);
    });
  });

  describe('Method: stop', () => {
    it('should drop events waiting for a retry and accept no more', async () => {
      const fn = new ScriptedFunction([fail()]);
      const { async, destinations } = invoker(fn, { onFailure: FAILURES }, { retryDelaysMs: [60_000, 60_000] });
      async.invokeAsync(FUNCTION, event);
      const deadline = Date.now() + 5_000;
      while (fn.calls.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));

      async.stop();
      await async.drain();

      expect(fn.calls).toHaveLength(1);
      expect(destinations.sent).toEqual([]);
      expect(() => async.invokeAsync(FUNCTION, event)).toThrow(/stopping/);
    });
  });
});
