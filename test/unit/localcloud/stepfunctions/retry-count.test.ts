import { afterEach, describe, expect, it } from 'vitest';
import { CreateStateMachineCommand, GetExecutionHistoryCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { compileWorkflow } from '../../../../lambdas/core/workflow/compile';
import { defineAgent } from '../../../../lambdas/core/agent-runtime';
import { processDelayItem } from '../../../../lambdas/diagnostics-delay/delay-agent';
import { fakeRuntimeDeps } from '../../../support/runtime-deps';
import { FakeLambda, fn, FunctionError, ROLE, startHarness, waitForEnd, type FakeFunction, type Harness } from './helpers';

/** What the tasks below hand their function: the attempt number (RetryCount + 1) and RetryCount itself. */
interface Seen {
  attempt: number;
  retryCount: number;
  item?: string;
}

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
});

async function setup(functions: Record<string, FakeFunction>) {
  const h = await startHarness(new FakeLambda(functions));
  harnesses.push(h);
  return h;
}

let machineCounter = 0;
async function runToEnd(h: Harness, definition: object, input: unknown = {}) {
  const { stateMachineArn } = await h.client.send(
    new CreateStateMachineCommand({ name: `retry-count-${++machineCounter}`, definition: JSON.stringify(definition), roleArn: ROLE }),
  );
  const { executionArn } = await h.client.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  return waitForEnd(h.client, executionArn ?? '', 20_000);
}

/** The agent workflow's shape (lambdas/core/workflow/compile.ts): the attempt is `States.MathAdd($$.State.RetryCount, 1)`. */
const countingTask = (name: string, retry: object[], extra: object = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: {
    FunctionName: fn(name),
    Payload: { 'attempt.$': 'States.MathAdd($$.State.RetryCount, 1)', 'retryCount.$': '$$.State.RetryCount', 'item.$': '$.item' },
  },
  ResultSelector: { 'seen.$': '$.Payload' },
  Retry: retry,
  ...extra,
});

/** A function that fails with the given error names in turn, then answers what it was given. */
function failing(errors: Array<string | undefined>, seen: Seen[]): FakeFunction {
  return (event) => {
    const e = event as Seen;
    seen.push({ attempt: e.attempt, retryCount: e.retryCount });
    const error = errors[seen.length - 1];
    if (error !== undefined) throw new FunctionError(error, `attempt ${e.attempt} failed`);
    return e;
  };
}

describe('Class: LocalStepFunctions', () => {
  describe('Method: $$.State.RetryCount', () => {
    it('should count the retries of a Task: a function failing twice then succeeding sees attempts 1, 2, 3', async () => {
      const seen: Seen[] = [];
      const h = await setup({ flaky: failing(['Transient', 'Transient'], seen) });
      const out = await runToEnd(h, {
        StartAt: 'Work',
        States: { Work: countingTask('flaky', [{ ErrorEquals: ['Transient'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 1 }], { End: true }) },
      }, { item: 'a' });

      expect(out.status).toBe('SUCCEEDED');
      expect(seen).toEqual([
        { attempt: 1, retryCount: 0 },
        { attempt: 2, retryCount: 1 },
        { attempt: 3, retryCount: 2 },
      ]);
      expect(JSON.parse(out.output ?? 'null')).toEqual({ seen: { attempt: 3, retryCount: 2, item: 'a' } });
      // Each attempt is scheduled and recorded in the history, as in AWS.
      const history = await h.client.send(new GetExecutionHistoryCommand({ executionArn: out.executionArn, maxResults: 1000 }));
      const types = (history.events ?? []).map((e) => e.type);
      expect(types.filter((t) => t === 'TaskScheduled')).toHaveLength(3);
      expect(types.filter((t) => t === 'TaskFailed')).toHaveLength(2);
    }, 30_000);

    it('should share one count among the retriers of a state while each retrier keeps its own MaxAttempts', async () => {
      // A, B, A: the count goes 0, 1, 2 across both retriers; the third error is A's second, over its MaxAttempts
      // of 1, so it goes to Catch although B still has attempts left (AWS's error-handling example).
      const seen: Seen[] = [];
      const h = await setup({ flaky: failing(['ErrorA', 'ErrorB', 'ErrorA'], seen) });
      const out = await runToEnd(h, {
        StartAt: 'Work',
        States: {
          Work: countingTask(
            'flaky',
            [
              { ErrorEquals: ['ErrorA'], IntervalSeconds: 1, MaxAttempts: 1, BackoffRate: 1 },
              { ErrorEquals: ['ErrorB', 'ErrorA'], IntervalSeconds: 1, MaxAttempts: 5, BackoffRate: 1 },
            ],
            { Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }], End: true },
          ),
          Caught: { Type: 'Pass', End: true },
        },
      }, { item: 'a' });

      expect(seen).toEqual([
        { attempt: 1, retryCount: 0 },
        { attempt: 2, retryCount: 1 },
        { attempt: 3, retryCount: 2 },
      ]);
      expect(out.status).toBe('SUCCEEDED');
      expect(JSON.parse(out.output ?? 'null')).toMatchObject({ item: 'a', error: { Error: 'ErrorA' } });
    }, 30_000);

    it('should start again from 0 when the state is entered afresh', async () => {
      const seen: Seen[] = [];
      const h = await setup({ flaky: failing(['Transient', undefined, 'Transient'], seen) });
      const out = await runToEnd(h, {
        StartAt: 'Work',
        States: {
          Work: countingTask('flaky', [{ ErrorEquals: ['Transient'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 1 }], {
            ResultPath: '$.last',
            Next: 'Again',
          }),
          Again: { Type: 'Choice', Choices: [{ Variable: '$.item', StringEquals: 'first', Next: 'Second' }], Default: 'Done' },
          Second: { Type: 'Pass', Result: 'second', ResultPath: '$.item', Next: 'Work' },
          Done: { Type: 'Succeed' },
        },
      }, { item: 'first' });

      expect(out.status).toBe('SUCCEEDED');
      expect(seen).toEqual([
        { attempt: 1, retryCount: 0 },
        { attempt: 2, retryCount: 1 },
        { attempt: 1, retryCount: 0 },
        { attempt: 2, retryCount: 1 },
      ]);
    }, 30_000);

    it('should count each item of an inline Map on its own', async () => {
      const failedOnce = new Set<string>();
      const seen: Seen[] = [];
      const h = await setup({
        item: (event) => {
          const e = event as Seen;
          seen.push(e);
          if (e.item !== undefined && !failedOnce.has(e.item)) {
            failedOnce.add(e.item);
            throw new FunctionError('Transient', `first try of ${e.item}`);
          }
          return e;
        },
      });
      const out = await runToEnd(h, {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemSelector: { 'item.$': '$$.Map.Item.Value' },
            ItemProcessor: {
              StartAt: 'Work',
              States: { Work: countingTask('item', [{ ErrorEquals: ['Transient'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 1 }], { End: true }) },
            },
            End: true,
          },
        },
      }, { items: ['x', 'y', 'z'] });

      expect(out.status).toBe('SUCCEEDED');
      expect(JSON.parse(out.output ?? 'null')).toEqual(['x', 'y', 'z'].map((item) => ({ seen: { attempt: 2, retryCount: 1, item } })));
      for (const item of ['x', 'y', 'z']) {
        expect(seen.filter((s) => s.item === item).map((s) => s.retryCount)).toEqual([0, 1]);
      }
    }, 30_000);

    it('should keep RetryCount at 0 in a Task without retriers', async () => {
      const seen: Seen[] = [];
      const h = await setup({ once: failing([], seen) });
      const out = await runToEnd(h, { StartAt: 'Work', States: { Work: { ...countingTask('once', []), Retry: undefined, End: true } } }, { item: 'a' });

      expect(out.status).toBe('SUCCEEDED');
      expect(seen).toEqual([{ attempt: 1, retryCount: 0 }]);
    }, 30_000);
  });
});

/** A Task state of the compiled ASL, found anywhere in it (Map processors, Parallel branches). */
function findTask(states: Record<string, Record<string, unknown>>, test: (state: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
  for (const state of Object.values(states)) {
    if (state.Type === 'Task' && test(state)) return state;
    const scopes = [...((state.Branches as Array<{ States: Record<string, Record<string, unknown>> }> | undefined) ?? []), ...(state.ItemProcessor ? [state.ItemProcessor as { States: Record<string, Record<string, unknown>> }] : [])];
    for (const scope of scopes) {
      const found = findTask(scope.States, test);
      if (found) return found;
    }
  }
  return undefined;
}

describe('Function: compileWorkflow (its agent Task on the local Step Functions)', () => {
  it('should give an agent failing twice attempts 1, 2, 3 and let the third complete the item', async () => {
    const { asl } = compileWorkflow(
      {
        id: 'wf',
        steps: [{ id: 'flaky', capability: { skill: 'diagnostics.delay' }, forEach: 'inputs', retry: { maxAttempts: 2, intervalSeconds: 1, backoffRate: 1, jitter: false } }],
      },
      { functions: { gate: fn('gate'), reporter: fn('reporter') } },
    );
    const agentTask = findTask((asl as { States: Record<string, Record<string, unknown>> }).States, (s) => JSON.stringify(s).includes('$$.State.RetryCount'));
    expect(agentTask).toBeDefined();
    const { Catch: _catch, Next: _next, End: _end, ...task } = agentTask ?? {};
    const { deps, events } = fakeRuntimeDeps();
    const agent = defineAgent({ agentId: 'diagnostics.delay', deps, processItem: (item, ctx) => processDelayItem(item, ctx, { sleep: async () => {} }) });
    const lambdaContext = { getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
    const h = await setup({ agent: (event) => agent(event, lambdaContext) });
    const out = await runToEnd(h, { StartAt: 'Agent', States: { Agent: { ...task, End: true } } }, {
      BatchInput: {
        runId: 'r1',
        stepId: 'flaky',
        functionArn: fn('agent'),
        workspace: { bucket: 'b', prefix: 'runs/r1/' },
        parameters: {},
        config: { retryableAttempts: 2 },
        upstream: {},
      },
      Items: [{ key: 'a' }],
    });

    expect(out.status).toBe('SUCCEEDED');
    const started = events.filter((e) => e.event === 'ItemStarted').map((e) => (e.payload as { attempt: number }).attempt);
    expect(started).toEqual([1, 2, 3]);
    expect(JSON.parse(out.output ?? 'null')).toMatchObject({ results: [{ status: 'succeeded', metrics: { retryCount: 2 } }] });
  }, 30_000);
});
