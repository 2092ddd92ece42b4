import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ASYNC_REQUEST_LIMIT_BYTES,
  checkRequestSize,
  ConcurrencyLimiter,
  RequestTooLargeError,
  responseTooLarge,
  SYNC_REQUEST_LIMIT_BYTES,
  SYNC_RESPONSE_LIMIT_BYTES,
  TooManyRequestsError,
} from '../../../../localstack/cloud/lambda/limits';
import { LambdaRuntime, type FunctionDefinition } from '../../../../localstack/cloud/lambda/runtime';
import { AsyncInvoker, throttleDelayMs } from '../../../../localstack/cloud/lambda/async-invoker';
import { startLambdaApi } from '../../../../localstack/cloud/lambda/api';
import { callLambda } from '../../../../localstack/cloud/stepfunctions/integrations';
import { StatesError } from '../../../../localstack/cloud/stepfunctions/errors';
import { credentials, freePort } from '../streams/helpers';
import { CapturingDestinations, FAILURES, FUNCTION, ScriptedFunction, SUCCESSES, ok, recordingLogger } from './helpers';

const MB = 1024 * 1024;
const throttled = () => new TooManyRequestsError('ReservedFunctionConcurrentInvocationLimitExceeded', 'Rate Exceeded.');

describe('Function: checkRequestSize', () => {
  it('should accept a synchronous request of exactly 6 MB and refuse one byte more with RequestEntityTooLargeException', () => {
    expect(() => { checkRequestSize(SYNC_REQUEST_LIMIT_BYTES, 'RequestResponse'); }).not.toThrow();
    expect(() => { checkRequestSize(SYNC_REQUEST_LIMIT_BYTES + 1, 'RequestResponse'); }).toThrow(RequestTooLargeError);
    expect(SYNC_REQUEST_LIMIT_BYTES).toBe(6 * MB);
  });

  it('should hold an Event request to 1 MB', () => {
    expect(() => { checkRequestSize(ASYNC_REQUEST_LIMIT_BYTES, 'Event'); }).not.toThrow();
    let error: unknown;
    try {
      checkRequestSize(ASYNC_REQUEST_LIMIT_BYTES + 1, 'Event');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RequestTooLargeError);
    expect(error).toMatchObject({ name: 'RequestEntityTooLargeException', statusCode: 413, message: `${MB + 1} byte payload is too large for the Event invocation type (limit ${MB} bytes)` });
  });
});

describe('Function: responseTooLarge', () => {
  it('should pass a response up to AWS’s figure and turn a larger one into Function.ResponseSizeTooLarge', () => {
    expect(responseTooLarge(SYNC_RESPONSE_LIMIT_BYTES)).toBeUndefined();
    expect(responseTooLarge(SYNC_RESPONSE_LIMIT_BYTES + 1)).toEqual({
      ok: false,
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
    });
  });
});

describe('Class: ConcurrencyLimiter', () => {
  describe('Method: acquire', () => {
    it('should throttle a function at its reserved concurrency and admit again once an execution is released', () => {
      const limiter = new ConcurrencyLimiter(10);
      limiter.reserve('agent', 1);
      const release = limiter.acquire('agent');

      expect(() => limiter.acquire('agent')).toThrow(expect.objectContaining({ name: 'TooManyRequestsException', reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', statusCode: 429 }) as Error);
      release();
      release(); // a second release must not free a slot twice
      expect(limiter.inFlightOf('agent')).toBe(0);
      expect(() => limiter.acquire('agent')).not.toThrow();
    });

    it('should throttle a function reserved at 0 every time', () => {
      const limiter = new ConcurrencyLimiter(10);
      limiter.reserve('off', 0);
      expect(() => limiter.acquire('off')).toThrow(TooManyRequestsError);
    });

    it('should share what the reservations leave of the account limit among unreserved functions', () => {
      const limiter = new ConcurrencyLimiter(4);
      limiter.reserve('reserved', 2);
      limiter.acquire('a');
      limiter.acquire('b');

      expect(() => limiter.acquire('a')).toThrow(expect.objectContaining({ reason: 'ConcurrentInvocationLimitExceeded' }) as Error);
      // The reserved function keeps its own share, whatever the others use.
      expect(() => limiter.acquire('reserved')).not.toThrow();
    });
  });

  describe('Method: reserve', () => {
    it('should refuse reservations that leave the account nothing unreserved', () => {
      const limiter = new ConcurrencyLimiter(5);
      limiter.reserve('a', 3);
      expect(() => { limiter.reserve('b', 2); }).toThrow(/leaves no unreserved concurrency/);
      expect(() => { limiter.reserve('b', 1); }).not.toThrow();
    });
  });
});

describe('Class: LambdaRuntime', () => {
  let dir: string;
  let runtime: LambdaRuntime;
  const gate = () => join(dir, 'gate');

  function definition(name: string, reservedConcurrency?: number): FunctionDefinition {
    return {
      name,
      logicalId: name,
      arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
      codeDir: dir,
      entryFile: join(dir, 'index.mjs'),
      handlerName: 'handler',
      timeoutMs: 10_000,
      memoryMb: 128,
      environment: {},
      maxConcurrency: 4,
      ...(reservedConcurrency !== undefined ? { reservedConcurrency } : {}),
      logGroupName: `/aws/lambda/${name}`,
    };
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lambda-limits-'));
    // `wait`: hold the execution until the gate file exists (a deadline keeps a broken test from hanging);
    // `bytes`: answer a string of that many bytes.
    writeFileSync(
      join(dir, 'index.mjs'),
      `import { existsSync } from 'node:fs';
export async function handler(event) {
  if (event.wait) {
    const deadline = Date.now() + 5000;
    while (!existsSync(event.wait)) {
      if (Date.now() > deadline) throw new Error('gate never opened');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return event.bytes ? 'x'.repeat(event.bytes) : { ok: true };
}
`,
    );
    runtime = new LambdaRuntime({ logDir: join(dir, 'logs'), baseEnvironment: {}, logger: recordingLogger(), accountConcurrency: 10 });
    runtime.add(definition('plain'));
    runtime.add(definition('reserved', 1));
    runtime.add(definition('off', 0));
  });
  afterAll(async () => {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const stats = (name: string) => runtime.functions().find((f) => f.name === name);

  describe('Method: invoke', () => {
    it('should refuse a 7 MB event with RequestEntityTooLargeException before any execution environment starts', async () => {
      await expect(runtime.invoke('plain', { blob: 'x'.repeat(7 * MB) })).rejects.toMatchObject({ name: 'RequestEntityTooLargeException', statusCode: 413 });
      expect(stats('plain')).toMatchObject({ invocations: 0, coldStarts: 0 });
    });

    it('should fail a response over 6 MB with the function error Function.ResponseSizeTooLarge', async () => {
      const result = await runtime.invoke('plain', { bytes: 6 * MB + 200 });
      expect(result).toMatchObject({ ok: false, errorType: 'Function.ResponseSizeTooLarge' });
      expect(await runtime.invoke('plain', { bytes: 5 * MB })).toMatchObject({ ok: true });
    });

    it('should throttle a second concurrent invocation of a function reserved at 1 instead of queueing it', async () => {
      rmSync(gate(), { force: true });
      const first = runtime.invoke('reserved', { wait: gate() });

      await expect(runtime.invoke('reserved', {})).rejects.toMatchObject({ name: 'TooManyRequestsException', reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
      writeFileSync(gate(), '');
      expect(await first).toEqual({ ok: true, payload: { ok: true } });
      expect(await runtime.invoke('reserved', {})).toEqual({ ok: true, payload: { ok: true } });
      expect(stats('reserved')).toMatchObject({ throttles: 1, invocations: 2 });
      expect(existsSync(gate())).toBe(true);
    });

    it('should throttle every invocation of a function reserved at 0', async () => {
      await expect(runtime.invoke('off', {})).rejects.toBeInstanceOf(TooManyRequestsError);
    });
  });
});

describe('Class: AsyncInvoker', () => {
  describe('Method: invokeAsync', () => {
    it('should refuse an event over 1 MB with RequestEntityTooLargeException, running nothing', () => {
      const fn = new ScriptedFunction([ok()]);
      const async = new AsyncInvoker({ lambda: fn, destinations: new CapturingDestinations(), logger: recordingLogger() });

      expect(() => async.invokeAsync(FUNCTION, { blob: 'x'.repeat(MB) })).toThrow(RequestTooLargeError);
      expect(fn.calls).toHaveLength(0);
      expect(async.stats().accepted).toBe(0);
    });

    it('should put a throttled event back in the queue without using a retry, then send the success record', async () => {
      // Five throttles, then a function error, then success: two function runs, within the two retries allowed.
      const fn = new ScriptedFunction([throttled(), throttled(), throttled(), throttled(), throttled(), { ok: false, errorType: 'Error', errorMessage: 'flaky' }, ok({ done: true })]);
      const destinations = new CapturingDestinations();
      const async = new AsyncInvoker({ lambda: fn, destinations, logger: recordingLogger(), retryDelaysMs: [1, 1], throttleDelaysMs: [1, 4] });
      async.configure(FUNCTION, { maximumRetryAttempts: 1, maximumEventAgeSeconds: 21_600, onSuccess: SUCCESSES, onFailure: FAILURES });

      const { requestId } = async.invokeAsync(FUNCTION, { n: 1 });
      await async.drain();

      expect(fn.calls).toHaveLength(7);
      expect(destinations.sent).toEqual([
        {
          destination: SUCCESSES,
          record: expect.objectContaining({
            requestContext: expect.objectContaining({ requestId, condition: 'Success', approximateInvokeCount: 2 }) as unknown,
            responsePayload: { done: true },
          }) as unknown,
        },
      ]);
      expect(async.stats()).toMatchObject({ throttled: 5, succeeded: 1 });
    });

    it('should drop an event throttled for longer than its maximum age to OnFailure as EventAgeExceeded', async () => {
      const fn = new ScriptedFunction([throttled()]);
      const destinations = new CapturingDestinations();
      const async = new AsyncInvoker({ lambda: fn, destinations, logger: recordingLogger(), throttleDelaysMs: [1, 1] });
      // 60 s on AWS's timeline is 1+2+4+8+16+32 s of throttle waits: six throttled attempts, then the event is too old.
      async.configure(FUNCTION, { maximumRetryAttempts: 2, maximumEventAgeSeconds: 60, onFailure: FAILURES });

      async.invokeAsync(FUNCTION, { n: 2 });
      await async.drain();

      expect(fn.calls).toHaveLength(6);
      expect(destinations.sent[0].record.requestContext).toMatchObject({ condition: 'EventAgeExceeded', approximateInvokeCount: 0 });
      expect(destinations.sent[0].record.responseContext).toBeUndefined();
    });
  });

  describe('Function: throttleDelayMs', () => {
    it('should double from the first wait up to the longest', () => {
      expect([0, 1, 2, 3, 4, 5].map((n) => throttleDelayMs(n, [100, 1000]))).toEqual([100, 200, 400, 800, 1000, 1000]);
    });
  });
});

describe('Function: startLambdaApi (limits)', () => {
  const fn = new ScriptedFunction([throttled()]);
  const asyncLambda = new AsyncInvoker({ lambda: fn, destinations: new CapturingDestinations(), logger: recordingLogger() });
  let api: { url: string; close(): Promise<void> } | undefined;
  let client: LambdaClient | undefined;

  beforeAll(async () => {
    api = await startLambdaApi({ has: (ref) => fn.has(ref), invoke: (ref, event) => fn.invoke(ref, event), functions: () => [] }, asyncLambda, await freePort(), '127.0.0.1', recordingLogger());
    // One attempt: the SDK would otherwise retry the 429 itself.
    client = new LambdaClient({ endpoint: api.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    asyncLambda.stop();
    client?.destroy();
    await api?.close();
  });

  it('should answer 413 RequestEntityTooLargeException to a 7 MB synchronous payload without invoking the function', async () => {
    const calls = fn.calls.length;
    const error = await client!.send(new InvokeCommand({ FunctionName: FUNCTION, Payload: Buffer.from(JSON.stringify({ blob: 'x'.repeat(7 * MB) })) })).catch((e: unknown) => e);

    expect(error).toMatchObject({
      name: 'RequestEntityTooLargeException',
      message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
      $metadata: { httpStatusCode: 413 },
    });
    expect(fn.calls.length).toBe(calls);
  });

  it('should answer 413 to a 2 MB Event payload', async () => {
    const error = await client!.send(new InvokeCommand({ FunctionName: FUNCTION, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ blob: 'x'.repeat(2 * MB) })) })).catch((e: unknown) => e);
    expect(error).toMatchObject({ $metadata: { httpStatusCode: 413 } });
  });

  it('should answer 429 TooManyRequestsException with its Reason to a throttled synchronous invocation', async () => {
    const error = await client!.send(new InvokeCommand({ FunctionName: FUNCTION, Payload: Buffer.from('{}') })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TooManyRequestsException);
    expect(error).toMatchObject({ Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User', $metadata: { httpStatusCode: 429 } });
  });
});

describe('Function: callLambda (limits)', () => {
  it('should surface a throttle to the state machine as Lambda.TooManyRequestsException, which a Retry can match', async () => {
    const fn = new ScriptedFunction([throttled()]);
    const error = await callLambda(fn, FUNCTION, {}).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StatesError);
    expect(error).toMatchObject({ name: 'Lambda.TooManyRequestsException', isRetryable: true });
  });
});
