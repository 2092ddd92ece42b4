/**
 * Lambda's invocation limits as the local cloud enforces them (localstack/cloud/lambda/limits.ts):
 * - through the SDK's Lambda client against the running local cloud, a 7 MB synchronous payload is refused with
 *   RequestEntityTooLargeException (413) and the function never runs;
 * - an agent with reserved concurrency 1 under a Map of 5 items: the local Lambda runtime (real worker threads)
 *   throttles the items it cannot run, the local Step Functions service surfaces Lambda.TooManyRequestsException,
 *   and the retriers the workflow compiler gives every agent task (lambdas/core/workflow/compile.ts) bring every
 *   item to completion.
 *
 * The stack has no function with reserved concurrency, and giving one to a shared agent would throttle every other
 * test of the shared cloud; so the second test stands up the two emulators it exercises, on a one-file function.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateStateMachineCommand, GetExecutionHistoryCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { target } from '../../support/target';
import { LambdaRuntime } from '../../../localstack/cloud/lambda/runtime';
import { compileWorkflow } from '../../../lambdas/core/workflow/compile';
import { AgentplaneErrorName } from '../../../lambdas/core/workflow/errors';
import { fn, ROLE, startHarness, waitForEnd, type Harness } from '../../unit/localcloud/stepfunctions/helpers';
import { recordingLogger } from '../../unit/localcloud/lambda/helpers';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const MB = 1024 * 1024;

describe('Local cloud: Lambda payload limits through the Invoke API', () => {
  let lambda: LambdaClient;
  let health: string;

  beforeAll(() => {
    const t = target();
    const endpoint = t.endpoints?.lambda;
    if (!endpoint) throw new Error('the target has no local Lambda endpoint (run against the local cloud)');
    lambda = new LambdaClient({ endpoint, region: t.region, credentials });
    const name = Object.entries(t.resources?.functions ?? {}).find(([logicalId]) => /^Health[0-9A-F]{8}$/.test(logicalId))?.[1];
    if (!name) throw new Error(`no health function in the local cloud (functions: ${Object.keys(t.resources?.functions ?? {}).join(', ')})`);
    health = name;
  });
  afterAll(() => {
    (lambda as LambdaClient | undefined)?.destroy();
  });

  async function invocationsOf(name: string): Promise<number> {
    const response = await fetch(`${target().endpoints!.lambda}/_local/functions`);
    const { functions } = (await response.json()) as { functions: Array<{ name: string; invocations: number }> };
    const found = functions.find((f) => f.name === name);
    if (!found) throw new Error(`${name} is not a function of the local cloud`);
    return found.invocations;
  }

  it('should refuse a 7 MB synchronous payload with RequestEntityTooLargeException, running nothing', async () => {
    const before = await invocationsOf(health);
    const payload = Buffer.from(JSON.stringify({ blob: 'x'.repeat(7 * MB) }));

    const error = await lambda.send(new InvokeCommand({ FunctionName: health, Payload: payload })).catch((e: unknown) => e);

    expect(error).toMatchObject({
      name: 'RequestEntityTooLargeException',
      message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
      $metadata: { httpStatusCode: 413 },
    });
    expect(await invocationsOf(health)).toBe(before);
  });

  it('should still run a synchronous payload just under 6 MB', async () => {
    // The health handler ignores its event: what matters is that the payload is accepted and the function runs.
    const payload = Buffer.from(JSON.stringify({ blob: 'x'.repeat(6 * MB - 64) }));
    const before = await invocationsOf(health);
    const response = await lambda.send(new InvokeCommand({ FunctionName: health, Payload: payload }));
    expect(response.StatusCode).toBe(200);
    expect(response.FunctionError).toBeUndefined();
    expect(await invocationsOf(health)).toBe(before + 1);
  });
});

describe('Local cloud: a throttled agent under a Map of 5 items', () => {
  let dir: string;
  let runtime: LambdaRuntime;
  let h: Harness;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'throttled-agent-'));
    // Holds each execution long enough for the Map's five items to overlap.
    writeFileSync(
      join(dir, 'index.mjs'),
      `export async function handler(event) {
  await new Promise((r) => setTimeout(r, 200));
  return { results: [{ item: event.item, status: 'succeeded' }] };
}
`,
    );
    runtime = new LambdaRuntime({ logDir: join(dir, 'logs'), baseEnvironment: {}, logger: recordingLogger() });
    runtime.add({
      name: 'throttled-agent',
      logicalId: 'ThrottledAgent',
      arn: fn('throttled-agent'),
      codeDir: dir,
      entryFile: join(dir, 'index.mjs'),
      handlerName: 'handler',
      timeoutMs: 10_000,
      memoryMb: 128,
      environment: {},
      maxConcurrency: 1,
      reservedConcurrency: 1,
      logGroupName: '/aws/lambda/throttled-agent',
    });
    h = await startHarness(runtime);
  });
  afterAll(async () => {
    await h.close();
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The Retry of the agent task the compiler emits for a fan-out step (the Task that retries throttles). */
  function compiledAgentRetry(): unknown[] {
    const { asl } = compileWorkflow(
      { id: 'throttle', steps: [{ id: 'analyze', capability: { skill: 'analyze' } }] },
      { functions: { gate: fn('gate'), reporter: fn('reporter') }, expectedItems: { analyze: 5 } },
    );
    const retries: unknown[][] = [];
    JSON.stringify(asl, (_key, value: unknown) => {
      const state = value as { Type?: unknown; Retry?: Array<{ ErrorEquals: string[] }> } | null;
      // The agent tasks are the ones whose retriers also match the agent's own AgentBusy throttle.
      const retry = state?.Type === 'Task' ? state.Retry : undefined;
      if (retry?.some((r) => r.ErrorEquals.includes('Lambda.TooManyRequestsException') && r.ErrorEquals.includes(AgentplaneErrorName.AgentBusy))) {
        retries.push(retry);
      }
      return value;
    });
    if (retries.length === 0) throw new Error('the compiled workflow has no agent task retrying Lambda.TooManyRequestsException');
    return retries[0];
  }

  it('should complete every item, the compiled throttling retrier absorbing Lambda.TooManyRequestsException', async () => {
    const retry = compiledAgentRetry();
    const definition = {
      StartAt: 'items',
      States: {
        items: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'agent',
            States: {
              agent: {
                Type: 'Task',
                Resource: 'arn:aws:states:::lambda:invoke',
                Parameters: { FunctionName: fn('throttled-agent'), Payload: { 'item.$': '$' } },
                ResultSelector: { 'results.$': '$.Payload.results' },
                Retry: retry,
                End: true,
              },
            },
          },
          End: true,
        },
      },
    };
    const { stateMachineArn } = await h.client.send(new CreateStateMachineCommand({ name: 'throttled-map', definition: JSON.stringify(definition), roleArn: ROLE }));
    const items = ['a', 'b', 'c', 'd', 'e'];

    const { executionArn } = await h.client.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ items }) }));
    // The throttling retrier backs off with full jitter (1 s doubling, six attempts): well within the deadline.
    const end = await waitForEnd(h.client, executionArn!, 90_000);

    expect(end.status).toBe('SUCCEEDED');
    const output = JSON.parse(end.output!) as Array<{ results: Array<{ item: string; status: string }> }>;
    expect(output.map((o) => o.results[0])).toEqual(items.map((item) => ({ item, status: 'succeeded' })));
    const stats = runtime.functions()[0];
    // Five items, one execution at a time: the others were throttled, not queued, and each item ran exactly once.
    expect(stats.throttles).toBeGreaterThan(0);
    expect(stats.invocations).toBe(items.length);
    const history = await h.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    const throttledTasks = (history.events ?? []).filter((e) => e.taskFailedEventDetails?.error === 'Lambda.TooManyRequestsException');
    expect(throttledTasks.length).toBe(stats.throttles);
  });
});
