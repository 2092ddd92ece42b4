/**
 * Honest figures, through the public API: a run whose items all fail after their LLM calls (some fatally, some
 * retryably, retried by the step's policy until their attempts run out) counts every call's tokens and cost in
 * its totals. The LLM is the OpenAI-compatible stub the global setup starts on loopback (test/support/llm-stub.ts),
 * which the diagnostics agent calls once per attempt when a step sets `llmPrompt`; the expected figures come from
 * the stub's own count of the run's calls, times its fixed usage and price, not from anything the platform says.
 */
import { describe, expect, it } from 'vitest';
import { http } from '../../support/target';
import type { RunCreatedBody } from '../../support/api';
import { stubCalls } from '../../support/llm-stub';
import { events, registerWorkflow, unique, waitForStatus } from './support';

const stubUrl = process.env.AGENTPLANE_TEST_LLM_STUB;

/** The diagnostics function under an agent id and skill of this test's own, so its failures touch no other test's agent. */
async function spenderAgent(): Promise<string> {
  const builtIn = (await http<{ functionArn?: string; agent?: { functionArn: string } }>('GET', '/agents/diagnostics.delay')).body;
  const functionArn: string = (builtIn.functionArn ?? builtIn.agent?.functionArn)!;
  const id = unique('spender');
  const res = await http('POST', '/agents', {
    body: { id, name: id, version: '1.0.0', description: 'failed-spend e2e', functionArn, capabilities: [{ skill: id }], tags: ['e2e'] },
  });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return id;
}

describe.skipIf(!stubUrl)('Spend of failed and retried items (OpenAI-compatible stub)', () => {
  it("should count the tokens and cost of every failed and retried attempt in the run's totals, summaries and events", async () => {
    const skill = await spenderAgent();
    const workflow = await registerWorkflow({
      id: unique('failed-spend'),
      steps: [
        {
          id: 'spend',
          capability: { skill },
          forEach: 'inputs',
          // Two retries: a retryably failing item makes three attempts, each with its LLM call.
          retry: { maxAttempts: 2, intervalSeconds: 1, backoffRate: 1 },
          config: { llmPrompt: 'Reply with ok.', failPattern: 'fatal', retryablePattern: 'retry' },
        },
      ],
    });
    const inputs = ['fatal-1.txt', 'fatal-2.txt', 'retry-1.txt', 'retry-2.txt'].map((key) => ({ key, content: 'x' }));
    const created = await http<RunCreatedBody>('POST', '/runs', { body: { workflowId: workflow.id, inputs } });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const runId: string = created.body.runId;
    const run = await waitForStatus(runId, ['FAILED'], 120_000);

    // What the LLM answered for this run, by its own count.
    const stub = await stubCalls(stubUrl!, runId);
    expect(stub.calls).toBe(2 * 1 + 2 * 3);
    const perCall = { tokens: stub.usage.prompt + stub.usage.completion, costUsd: (stub.usage.prompt * stub.price.input + stub.usage.completion * stub.price.output) / 1e6 };
    const expected = { tokens: stub.calls * perCall.tokens, costUsd: stub.calls * perCall.costUsd };
    const usage = [{ provider: 'openai', model: stub.model, tokens: expected.tokens, costUsd: expect.closeTo(expected.costUsd, 9) as unknown }];

    // GET /runs/{id}: totals and the step's figures count every attempt; item counts are the items' final outcomes.
    expect(run.summary).toMatchObject({ totalItems: 4, successCount: 0, failureCount: 4, totalTokens: expected.tokens, providers: ['openai'], usage });
    expect(run.summary.totalCostUsd).toBeCloseTo(expected.costUsd, 9);
    expect(run.steps.spend).toMatchObject({ status: 'failed', succeeded: 0, failed: 4, tokens: expected.tokens, providers: ['openai'], usage });
    expect(run.steps.spend.costUsd).toBeCloseTo(expected.costUsd, 9);

    // The events: one ItemFailed per attempt, each with what its call spent and where it came from.
    const log = await events(runId);
    const failed = log.filter((e) => e.event === 'ItemFailed');
    expect(failed).toHaveLength(stub.calls);
    for (const e of failed) {
      expect(e.payload.metrics).toMatchObject({ tokensUsed: perCall.tokens, provider: 'openai', model: stub.model });
      expect(e.payload.metrics!.costUsd).toBeCloseTo(perCall.costUsd, 9);
    }
    // Every retryably failing item ran three times, each fatal one once. (Counted from ItemStarted: the local cloud's
    // `$$.State.RetryCount` is always 0, so there even a last attempt's ItemFailed says it will be retried.)
    const attempts = new Map<string, number>();
    for (const e of log.filter((x) => x.event === 'ItemStarted')) attempts.set(e.payload.item.split('/').pop()!, (attempts.get(e.payload.item.split('/').pop()!) ?? 0) + 1);
    expect(Object.fromEntries(attempts)).toEqual({ 'fatal-1.txt': 1, 'fatal-2.txt': 1, 'retry-1.txt': 3, 'retry-2.txt': 3 });
    expect(log.filter((e) => e.event === 'ItemCompleted')).toHaveLength(0);

    // The summaries say the same.
    const stepCompleted = log.find((e) => e.event === 'StepCompleted')!.payload.summary;
    const runFailed = log.find((e) => e.event === 'RunFailed')!.payload.summary!;
    for (const summary of [stepCompleted, runFailed]) {
      expect(summary).toMatchObject({ totalItems: 4, failureCount: 4, totalTokens: expected.tokens, providers: ['openai'], usage });
      expect(summary.totalCostUsd).toBeCloseTo(expected.costUsd, 9);
    }
  });
});
