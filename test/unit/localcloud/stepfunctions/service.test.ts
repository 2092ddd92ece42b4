import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  ListStateMachineVersionsCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  UpdateStateMachineCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { RESTART_ERROR } from '../../../../localstack/cloud/stepfunctions';
import { ACCOUNT, FakeLambda, fn, FunctionError, REGION, ROLE, startHarness, tempDir, waitFor, waitForEnd, type FakeFunction, type Harness } from './helpers';

/** The functions' inputs in these machines: a counter, and what a waitForTaskToken task sends. */
interface Counter {
  n: number;
}
interface AskEvent {
  token: string;
  input: { who: string };
}

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
});

async function setup(functions: Record<string, FakeFunction> = {}, overrides = {}) {
  const lambda = new FakeLambda(functions);
  const h = await startHarness(lambda, overrides);
  harnesses.push(h);
  return { h, lambda, client: h.client };
}

let machineCounter = 0;
async function createMachine(h: Harness, definition: object, name = `sm-${++machineCounter}`): Promise<string> {
  const out = await h.client.send(new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: ROLE }));
  return out.stateMachineArn!;
}

async function runToEnd(h: Harness, definition: object, input: unknown = {}) {
  const stateMachineArn = await createMachine(h, definition);
  const { executionArn } = await h.client.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  return waitForEnd(h.client, executionArn!);
}

async function history(h: Harness, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await h.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

const lambdaTask = (name: string, extra: object = {}) => ({ Type: 'Task', Resource: fn(name), ...extra });
const invokeTask = (name: string, extra: object = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: fn(name), 'Payload.$': '$' },
  ...extra,
});
const callbackTask = (name: string, extra: object = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
  Parameters: { FunctionName: fn(name), Payload: { 'token.$': '$$.Task.Token', 'input.$': '$' } },
  ...extra,
});

describe('Class: LocalStepFunctions', () => {
  describe('Method: StartExecution / DescribeExecution', () => {
    it('should run Lambda tasks and report output and status change events in AWS shape', async () => {
      const { h } = await setup({ double: (e) => ({ n: (e as Counter).n * 2 }), inc: (e) => ({ n: (e as Counter).n + 1 }) });
      const definition = {
        StartAt: 'Double',
        States: {
          Double: lambdaTask('double', { Next: 'Inc' }),
          Inc: invokeTask('inc', { ResultSelector: { 'n.$': '$.Payload.n', 'status.$': '$.StatusCode' }, End: true }),
        },
      };
      const out = await runToEnd(h, definition, { n: 5 });

      expect(out.status).toBe('SUCCEEDED');
      expect(JSON.parse(out.output!)).toEqual({ n: 11, status: 200 });
      expect(out.startDate).toBeInstanceOf(Date);
      expect(out.stopDate).toBeInstanceOf(Date);
      await waitFor(() => h.events.length >= 2, 5000, 'status events');
      const [running, succeeded] = h.events;
      expect(Object.keys(running).sort()).toEqual(['account', 'detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version']);
      expect(running).toMatchObject({
        version: '0',
        'detail-type': 'Step Functions Execution Status Change',
        source: 'aws.states',
        account: ACCOUNT,
        region: REGION,
        resources: [out.executionArn],
        detail: { executionArn: out.executionArn, stateMachineArn: out.stateMachineArn, name: out.name, status: 'RUNNING', stopDate: null, output: null, input: '{"n":5}' },
      });
      expect(running.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(typeof running.detail.startDate).toBe('number');
      expect(succeeded.detail).toMatchObject({ status: 'SUCCEEDED', output: out.output, error: null, cause: null });
      expect(typeof succeeded.detail.stopDate).toBe('number');
    });

    it('should record an AWS-like history with task and state events', async () => {
      const { h } = await setup({ echo: (e) => e });
      const out = await runToEnd(h, { StartAt: 'A', States: { A: invokeTask('echo', { Next: 'B' }), B: { Type: 'Pass', End: true } } });

      const types = (await history(h, out.executionArn!)).map((e) => e.type);
      expect(types).toEqual([
        'ExecutionStarted',
        'TaskStateEntered',
        'TaskScheduled',
        'TaskStarted',
        'TaskSucceeded',
        'TaskStateExited',
        'PassStateEntered',
        'PassStateExited',
        'ExecutionSucceeded',
      ]);
    });

    it('should be idempotent for the same name and input while running, and refuse a different input', async () => {
      const { h } = await setup({ wait: () => new Promise(() => {}) });
      const stateMachineArn = await createMachine(h, { StartAt: 'W', States: { W: callbackTask('wait', { End: true }) } });
      const first = await h.client.send(new StartExecutionCommand({ stateMachineArn, name: 'run-1', input: '{"a":1}' }));
      const again = await h.client.send(new StartExecutionCommand({ stateMachineArn, name: 'run-1', input: '{"a":1}' }));

      expect(again.executionArn).toBe(first.executionArn);
      await expect(h.client.send(new StartExecutionCommand({ stateMachineArn, name: 'run-1', input: '{"a":2}' }))).rejects.toMatchObject({
        name: 'ExecutionAlreadyExists',
      });
    });

    it('should refuse unsupported resources and invalid definitions with InvalidDefinition', async () => {
      const { h } = await setup();
      await expect(createMachine(h, { StartAt: 'Q', States: { Q: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } } })).rejects.toMatchObject({
        name: 'InvalidDefinition',
        message: expect.stringContaining("State 'Q'") as unknown,
      });
      await expect(createMachine(h, { StartAt: 'Missing', States: { P: { Type: 'Pass', End: true } } })).rejects.toMatchObject({ name: 'InvalidDefinition' });
    });

    it('should resolve the Context Object ($$) values the library leaves empty', async () => {
      const { h } = await setup();
      const definition = {
        StartAt: 'Ctx',
        States: {
          Ctx: {
            Type: 'Pass',
            Parameters: {
              'id.$': '$$.Execution.Id',
              'name.$': '$$.Execution.Name',
              'sm.$': '$$.StateMachine.Id',
              'state.$': '$$.State.Name',
              'start.$': '$$.Execution.StartTime',
              'items.$': '$.items',
            },
            Next: 'Each',
          },
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemSelector: { 'index.$': '$$.Map.Item.Index', 'value.$': '$$.Map.Item.Value' },
            ItemProcessor: {
              StartAt: 'Inner',
              States: { Inner: { Type: 'Pass', Parameters: { 'index.$': '$.index', 'value.$': '$.value', 'input.$': '$$.Execution.Input.tag', 'exec.$': '$$.Execution.Name' }, End: true } },
            },
            ResultPath: '$.mapped',
            End: true,
          },
        },
      };
      const out = await runToEnd(h, definition, { items: ['x', 'y'], tag: 'T' });

      const output = JSON.parse(out.output!) as { start: string; mapped: unknown };
      expect(output).toMatchObject({ id: out.executionArn, name: out.name, sm: out.stateMachineArn, state: 'Ctx' });
      expect(new Date(output.start).getTime()).toBe(out.startDate!.getTime());
      expect(output.mapped).toEqual([
        { index: 0, value: 'x', input: 'T', exec: out.name },
        { index: 1, value: 'y', input: 'T', exec: out.name },
      ]);
    });
  });

  describe('Method: Retry and Catch', () => {
    it('should retry on a custom error name and then succeed', async () => {
      let attempts = 0;
      const { h } = await setup({
        flaky: () => {
          if (++attempts < 2) throw new FunctionError('TransientError', 'try again');
          return { attempts };
        },
      });
      const out = await runToEnd(h, {
        StartAt: 'Flaky',
        States: { Flaky: lambdaTask('flaky', { Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 1 }], End: true }) },
      });

      expect(out.status).toBe('SUCCEEDED');
      expect(JSON.parse(out.output!)).toEqual({ attempts: 2 });
    });

    it('should catch a function error by its errorType with the error JSON as Cause', async () => {
      const { h } = await setup({ boom: () => { throw new FunctionError('FatalError', 'it broke'); } });
      const out = await runToEnd(h, {
        StartAt: 'Boom',
        States: {
          Boom: invokeTask('boom', { Retry: [{ ErrorEquals: ['TransientError'] }], Catch: [{ ErrorEquals: ['FatalError'], ResultPath: '$.error', Next: 'Handled' }], Next: 'Done' }),
          Handled: { Type: 'Pass', End: true },
          Done: { Type: 'Succeed' },
        },
      }, { a: 1 });

      expect(out.status).toBe('SUCCEEDED');
      const output = JSON.parse(out.output!) as { a: number; error: { Error: string; Cause: string } };
      expect(output.a).toBe(1);
      expect(output.error.Error).toBe('FatalError');
      expect(JSON.parse(output.error.Cause)).toMatchObject({ errorType: 'FatalError', errorMessage: 'it broke' });
    });

    it('should fail with Lambda.ResourceNotFoundException for an unknown function', async () => {
      const { h } = await setup();
      const out = await runToEnd(h, { StartAt: 'Ghost', States: { Ghost: invokeTask('ghost', { End: true }) } });

      expect(out.status).toBe('FAILED');
      expect(out.error).toBe('Lambda.ResourceNotFoundException');
    });

    it('should time a Task out with States.Timeout, which States.TaskFailed does not catch', async () => {
      const { h } = await setup({ slow: () => new Promise((resolve) => setTimeout(() => { resolve('late'); }, 3000)) });
      const out = await runToEnd(h, {
        StartAt: 'Slow',
        States: {
          Slow: lambdaTask('slow', { TimeoutSeconds: 1, Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Wrong' }, { ErrorEquals: ['States.Timeout'], Next: 'Right' }], End: true }),
          Wrong: { Type: 'Pass', Result: 'wrong', End: true },
          Right: { Type: 'Pass', Result: 'right', End: true },
        },
      });

      expect(JSON.parse(out.output!)).toBe('right');
    });
  });

  describe('Method: Choice, Parallel and Map', () => {
    it('should follow Choice rules', async () => {
      const { h } = await setup();
      const definition = {
        StartAt: 'Size',
        States: {
          Size: { Type: 'Choice', Choices: [{ Variable: '$.n', NumericGreaterThan: 5, Next: 'Big' }], Default: 'Small' },
          Big: { Type: 'Pass', Result: 'big', End: true },
          Small: { Type: 'Pass', Result: 'small', End: true },
        },
      };
      expect(JSON.parse((await runToEnd(h, definition, { n: 9 })).output!)).toBe('big');
      expect(JSON.parse((await runToEnd(h, definition, { n: 1 })).output!)).toBe('small');
    });

    it('should run Parallel branches and give each branch its own handler', async () => {
      const { h } = await setup({ left: () => 'L', right: () => 'R' });
      const out = await runToEnd(h, {
        StartAt: 'Both',
        States: {
          Both: {
            Type: 'Parallel',
            Branches: [
              { StartAt: 'Left', States: { Left: lambdaTask('left', { End: true }) } },
              { StartAt: 'Right', States: { Right: lambdaTask('right', { End: true }) } },
            ],
            End: true,
          },
        },
      });

      expect(JSON.parse(out.output!)).toEqual(['L', 'R']);
      const types = (await history(h, out.executionArn!)).map((e) => e.type);
      expect(types.slice(0, 3)).toEqual(['ExecutionStarted', 'ParallelStateEntered', 'ParallelStateStarted']);
      expect(types.slice(-3)).toEqual(['ParallelStateSucceeded', 'ParallelStateExited', 'ExecutionSucceeded']);
    });

    it('should refuse state names repeated across branches, as AWS does', async () => {
      const { h } = await setup();
      const branch = { StartAt: 'Work', States: { Work: { Type: 'Pass', End: true } } };
      await expect(createMachine(h, { StartAt: 'Both', States: { Both: { Type: 'Parallel', Branches: [branch, branch], End: true } } })).rejects.toMatchObject({
        name: 'InvalidDefinition',
      });
    });

    it('should run an inline Map under MaxConcurrencyPath', async () => {
      let running = 0;
      let peak = 0;
      const { h } = await setup({
        item: async (e) => {
          peak = Math.max(peak, ++running);
          await new Promise((resolve) => setTimeout(resolve, 30));
          running--;
          return (e as number) * 10;
        },
      });
      const out = await runToEnd(h, {
        StartAt: 'Each',
        States: {
          Each: { Type: 'Map', ItemsPath: '$.items', MaxConcurrencyPath: '$.concurrency', ItemProcessor: { StartAt: 'Item', States: { Item: lambdaTask('item', { End: true }) } }, End: true },
        },
      }, { items: [1, 2, 3, 4, 5, 6, 7, 8], concurrency: 2 });

      expect(JSON.parse(out.output!)).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
      expect(peak).toBe(2);
    });

    it('should fail an execution whose history would exceed the limit', async () => {
      const { h } = await setup({ item: (e) => e }, { maxHistoryEvents: 100 });
      const out = await runToEnd(h, {
        StartAt: 'Each',
        States: { Each: { Type: 'Map', MaxConcurrency: 1, ItemProcessor: { StartAt: 'Item', States: { Item: lambdaTask('item', { End: true }) } }, End: true } },
      }, Array.from({ length: 50 }, (_, i) => i));

      expect(out.status).toBe('FAILED');
      expect(out.error).toBe('States.Runtime');
      expect(out.cause).toContain('maximum number of history events');
      const events = await history(h, out.executionArn!);
      expect(events.length).toBeLessThanOrEqual(100);
      expect(events.at(-1)!.type).toBe('ExecutionFailed');
    });
  });

  describe('Method: waitForTaskToken and SendTask*', () => {
    it('should hand a minted token to the function and complete on SendTaskSuccess', async () => {
      const tokens: string[] = [];
      const { h, lambda } = await setup({ ask: (e) => void tokens.push((e as AskEvent).token) });
      const stateMachineArn = await createMachine(h, { StartAt: 'Ask', States: { Ask: callbackTask('ask', { End: true }) } });
      const { executionArn } = await h.client.send(new StartExecutionCommand({ stateMachineArn, input: '{"q":1}' }));
      const token = await waitFor(() => tokens[0], 5000, 'token');

      await h.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"answer":42}' }));
      const out = await waitForEnd(h.client, executionArn!);

      expect(lambda.calls[0].event).toEqual({ token, input: { q: 1 } });
      expect(out.status).toBe('SUCCEEDED');
      expect(JSON.parse(out.output!)).toEqual({ answer: 42 });
      expect((await history(h, executionArn!)).map((e) => e.type)).toContain('TaskSubmitted');
      await expect(h.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
    });

    it('should fail the task with the error and cause of SendTaskFailure', async () => {
      const tokens: string[] = [];
      const { h } = await setup({ ask: (e) => void tokens.push((e as AskEvent).token) });
      const stateMachineArn = await createMachine(h, { StartAt: 'Ask', States: { Ask: callbackTask('ask', { End: true }) } });
      const { executionArn } = await h.client.send(new StartExecutionCommand({ stateMachineArn }));
      const token = await waitFor(() => tokens[0], 5000, 'token');

      await h.client.send(new SendTaskFailureCommand({ taskToken: token, error: 'Rejected', cause: 'reviewer said no' }));
      const out = await waitForEnd(h.client, executionArn!);

      expect(out).toMatchObject({ status: 'FAILED', error: 'Rejected', cause: 'reviewer said no' });
    });

    it('should time out without heartbeats and stay alive with them', async () => {
      const tokens: Record<string, string> = {};
      const { h } = await setup({ ask: (e) => void (tokens[(e as AskEvent).input.who] = (e as AskEvent).token) });
      const stateMachineArn = await createMachine(h, { StartAt: 'Ask', States: { Ask: callbackTask('ask', { HeartbeatSeconds: 1, End: true }) } });

      const silent = await h.client.send(new StartExecutionCommand({ stateMachineArn, input: '{"who":"silent"}' }));
      const beating = await h.client.send(new StartExecutionCommand({ stateMachineArn, input: '{"who":"beating"}' }));
      const beatingToken = await waitFor(() => tokens.beating, 5000, 'token');
      const deadline = Date.now() + 1800;
      while (Date.now() < deadline) {
        await h.client.send(new SendTaskHeartbeatCommand({ taskToken: beatingToken }));
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      await h.client.send(new SendTaskSuccessCommand({ taskToken: beatingToken, output: '"alive"' }));

      expect(await waitForEnd(h.client, silent.executionArn!)).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout' });
      expect(await waitForEnd(h.client, beating.executionArn!)).toMatchObject({ status: 'SUCCEEDED', output: '"alive"' });
    });

    it('should answer TaskTimedOut for a token of a stopped execution and InvalidToken for garbage', async () => {
      const tokens: string[] = [];
      const { h } = await setup({ ask: (e) => void tokens.push((e as AskEvent).token) });
      const stateMachineArn = await createMachine(h, { StartAt: 'Ask', States: { Ask: callbackTask('ask', { End: true }) } });
      const { executionArn } = await h.client.send(new StartExecutionCommand({ stateMachineArn }));
      const token = await waitFor(() => tokens[0], 5000, 'token');

      await h.client.send(new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'by the user' }));

      await expect(h.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
      await expect(h.client.send(new SendTaskHeartbeatCommand({ taskToken: 'not-a-token' }))).rejects.toMatchObject({ name: 'InvalidToken' });
      expect(await h.client.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'by the user' });
    });
  });

  describe('Method: ListExecutions / GetExecutionHistory', () => {
    it('should filter executions by status and page history in both orders', async () => {
      const { h } = await setup({ wait: () => new Promise(() => {}) });
      const stateMachineArn = await createMachine(h, {
        StartAt: 'Route',
        States: {
          Route: { Type: 'Choice', Choices: [{ Variable: '$.wait', BooleanEquals: true, Next: 'Wait' }], Default: 'Done' },
          Wait: callbackTask('wait', { End: true }),
          Done: { Type: 'Pass', End: true },
        },
      });
      const done = await h.client.send(new StartExecutionCommand({ stateMachineArn, input: '{"wait":false}' }));
      await h.client.send(new StartExecutionCommand({ stateMachineArn, input: '{"wait":true}' }));
      await waitForEnd(h.client, done.executionArn!);

      const running = await h.client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING' }));
      const succeeded = await h.client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'SUCCEEDED' }));
      expect(running.executions).toHaveLength(1);
      expect(succeeded.executions!.map((e) => e.executionArn)).toEqual([done.executionArn]);
      const firstPage = await h.client.send(new GetExecutionHistoryCommand({ executionArn: done.executionArn, maxResults: 2 }));
      expect(firstPage.events!.map((e) => e.id)).toEqual([1, 2]);
      expect(firstPage.nextToken).toBeDefined();
      const reversed = await h.client.send(new GetExecutionHistoryCommand({ executionArn: done.executionArn, reverseOrder: true, maxResults: 1 }));
      expect(reversed.events![0].type).toBe('ExecutionSucceeded');
    });

    it('should time an execution out after its TimeoutSeconds', async () => {
      const { h } = await setup({ wait: () => new Promise(() => {}) });
      const out = await runToEnd(h, { TimeoutSeconds: 1, StartAt: 'Wait', States: { Wait: callbackTask('wait', { End: true }) } });

      expect(out).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
      await waitFor(() => h.events.some((e) => e.detail.status === 'TIMED_OUT'), 2000, 'TIMED_OUT event');
    });
  });

  describe('Method: putStateMachine', () => {
    it('should update a template state machine in place when its definition changed', async () => {
      const { h } = await setup();
      const v1 = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', Result: 1, End: true } } });
      const v2 = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', Result: 2, End: true } } });

      expect(h.service.putStateMachine({ name: 'tpl', definition: v1, roleArn: ROLE }).change).toBe('created');
      expect(h.service.putStateMachine({ name: 'tpl', definition: v1, roleArn: ROLE }).change).toBe('unchanged');
      const updated = h.service.putStateMachine({ name: 'tpl', definition: v2, roleArn: ROLE });

      expect(updated.change).toBe('updated');
      const described = await h.client.send(new DescribeStateMachineCommand({ stateMachineArn: updated.stateMachineArn }));
      expect(described.definition).toBe(v2);
    });
  });

  describe('Method: StopExecution', () => {
    it('should start no new Task in a running Map once stopped', async () => {
      const releases: Array<() => void> = [];
      const { h, lambda } = await setup({ item: () => new Promise<void>((resolve) => releases.push(resolve)) });
      const stateMachineArn = await createMachine(h, {
        StartAt: 'Each',
        States: { Each: { Type: 'Map', MaxConcurrency: 1, ItemProcessor: { StartAt: 'Item', States: { Item: lambdaTask('item', { End: true }) } }, End: true } },
      });
      const { executionArn } = await h.client.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify([1, 2, 3, 4, 5, 6]) }));
      await waitFor(() => releases.length === 1, 5000, 'first item');
      releases.shift()!();
      await waitFor(() => releases.length === 1, 5000, 'second item');

      await h.client.send(new StopExecutionCommand({ executionArn, error: 'Stop', cause: 'enough' }));
      releases.shift()!();
      // Long enough for the Map to have started the next item had the stop not held it.
      await new Promise((resolve) => setTimeout(resolve, 300));

      expect(lambda.calls).toHaveLength(2);
      const out = await h.client.send(new DescribeExecutionCommand({ executionArn }));
      expect(out).toMatchObject({ status: 'ABORTED', error: 'Stop', cause: 'enough' });
      await waitFor(() => h.events.some((e) => e.detail.status === 'ABORTED'), 2000, 'ABORTED event');
    });
  });

  describe('Method: init (restart)', () => {
    it('should fail an execution that was running when the previous process stopped, and keep state machines', async () => {
      const dataDir = tempDir('sfn-restart-');
      const tokens: string[] = [];
      const first = await startHarness(new FakeLambda({ ask: (e) => void tokens.push((e as AskEvent).token) }), { dataDir });
      const stateMachineArn = await createMachine(first, { StartAt: 'Ask', States: { Ask: callbackTask('ask', { End: true }) } }, 'survivor');
      const { executionArn } = await first.client.send(new StartExecutionCommand({ stateMachineArn, name: 'in-flight' }));
      await waitFor(() => tokens[0], 5000, 'token');
      await first.close();

      const second = await startHarness(new FakeLambda(), { dataDir });
      harnesses.push(second);
      onTestFinished(() => { rmSync(dataDir, { recursive: true, force: true }); });

      const out = await second.client.send(new DescribeExecutionCommand({ executionArn }));
      expect(out.status).toBe('FAILED');
      expect(out.error).toBe(RESTART_ERROR);
      expect(out.cause).toContain('local cloud stopped');
      expect(second.events).toHaveLength(1);
      expect(second.events[0].detail).toMatchObject({ executionArn, status: 'FAILED', error: RESTART_ERROR });
      expect((await second.client.send(new DescribeStateMachineCommand({ stateMachineArn }))).name).toBe('survivor');
      await expect(second.client.send(new SendTaskSuccessCommand({ taskToken: tokens[0], output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
      expect((await history(second, executionArn!)).map((e) => e.type)).toEqual(['ExecutionStarted', 'ExecutionFailed']);
    });
  });

  describe('Method: versions', () => {
    it('should pin an execution to the version it was started with', async () => {
      const { h } = await setup();
      const v1 = { StartAt: 'P', States: { P: { Type: 'Pass', Result: 'one', End: true } } };
      const v2 = { StartAt: 'P', States: { P: { Type: 'Pass', Result: 'two', End: true } } };
      const created = await h.client.send(new CreateStateMachineCommand({ name: 'versioned', definition: JSON.stringify(v1), roleArn: ROLE, publish: true }));
      const updated = await h.client.send(new UpdateStateMachineCommand({ stateMachineArn: created.stateMachineArn, definition: JSON.stringify(v2), publish: true }));

      expect(created.stateMachineVersionArn).toBe(`${created.stateMachineArn!}:1`);
      expect(updated.stateMachineVersionArn).toBe(`${created.stateMachineArn!}:2`);
      const pinned = await h.client.send(new StartExecutionCommand({ stateMachineArn: created.stateMachineVersionArn }));
      const latest = await h.client.send(new StartExecutionCommand({ stateMachineArn: created.stateMachineArn }));
      const pinnedOut = await waitForEnd(h.client, pinned.executionArn!);
      expect(JSON.parse(pinnedOut.output!)).toBe('one');
      expect(pinnedOut.stateMachineVersionArn).toBe(created.stateMachineVersionArn);
      expect(JSON.parse((await waitForEnd(h.client, latest.executionArn!)).output!)).toBe('two');
      const described = await h.client.send(new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineVersionArn }));
      expect(JSON.parse(described.definition!)).toEqual(v1);
      const versions = await h.client.send(new ListStateMachineVersionsCommand({ stateMachineArn: created.stateMachineArn }));
      expect(versions.stateMachineVersions!.map((v) => v.stateMachineVersionArn)).toEqual([`${created.stateMachineArn!}:2`, `${created.stateMachineArn!}:1`]);
      const listed = await h.client.send(new ListExecutionsCommand({ stateMachineArn: created.stateMachineVersionArn }));
      expect(listed.executions!.map((e) => e.executionArn)).toEqual([pinned.executionArn]);
    });

    it('should answer CreateStateMachine idempotently for an identical definition only', async () => {
      const { h } = await setup();
      const definition = { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } };
      const a = h.service.createStateMachine({ name: 'same', definition: JSON.stringify(definition), roleArn: ROLE });
      const b = h.service.createStateMachine({ name: 'same', definition: JSON.stringify(definition), roleArn: ROLE });

      expect(b.stateMachineArn).toBe(a.stateMachineArn);
      expect(b.creationDate.getTime()).toBe(a.creationDate.getTime());
      expect(() => h.service.createStateMachine({ name: 'same', definition: JSON.stringify({ ...definition, Comment: 'x' }), roleArn: ROLE })).toThrow(
        expect.objectContaining({ code: 'StateMachineAlreadyExists' }),
      );
    });
  });
});

describe('Tags (local Step Functions)', () => {
  it('should keep tags given at creation and by TagResource, list them, and remove them by key', async () => {
    const { h } = await setup();
    const out = await h.client.send(
      new CreateStateMachineCommand({ name: 'tagged', definition: JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }), roleArn: ROLE, tags: [{ key: 'agentplane:tenant', value: 'acme' }] }),
    );
    await h.client.send(new TagResourceCommand({ resourceArn: out.stateMachineArn!, tags: [{ key: 'agentplane:workflow', value: 'wf' }] }));
    const listed = await h.client.send(new ListTagsForResourceCommand({ resourceArn: out.stateMachineArn! }));
    expect(listed.tags).toEqual([{ key: 'agentplane:tenant', value: 'acme' }, { key: 'agentplane:workflow', value: 'wf' }]);
    await h.client.send(new UntagResourceCommand({ resourceArn: out.stateMachineArn!, tagKeys: ['agentplane:tenant'] }));
    expect((await h.client.send(new ListTagsForResourceCommand({ resourceArn: out.stateMachineArn! }))).tags).toEqual([{ key: 'agentplane:workflow', value: 'wf' }]);
  });

  it('should refuse tags AWS refuses, and unknown or versioned machines', async () => {
    const { h } = await setup();
    const arn = await createMachine(h, { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    await expect(h.client.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'aws:reserved', value: 'x' }] }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(h.client.send(new TagResourceCommand({ resourceArn: `${arn}-missing`, tags: [{ key: 'k', value: 'v' }] }))).rejects.toMatchObject({ name: 'ResourceNotFound' });
    await expect(h.client.send(new ListTagsForResourceCommand({ resourceArn: `${arn}:1` }))).rejects.toMatchObject({ name: 'InvalidArn' });
  });
});
