import { describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { outputKeyFor, processDelayItem, WorkspaceViolationError } from '../../../lambdas/diagnostics-delay/delay-agent';
import { defineAgent } from '../../../lambdas/core/agent-runtime';
import { fakeRuntimeDeps } from '../../support/runtime-deps';
import { OfflineProvider, type LlmProvider } from '../../../lambdas/llm/index';

const runtime = () => fakeRuntimeDeps();

const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
const run = { runId: 'r1', stepId: 's1', workspace: { bucket: 'b', prefix: 'runs/r1/' } };

describe('Function: processDelayItem (on the agent runtime, as the deployed handler runs it)', () => {
  it('should sleep per item, write succeeded items, fail matching ones with DiagnosticFailure and report tokensPerItem', async () => {
    const { deps, events } = runtime();
    const writes: string[] = [];
    deps.objects.put = async (_bucket, key) => void writes.push(key);
    const sleeps: number[] = [];
    const handler = defineAgent({ agentId: 'diagnostics.delay', deps, processItem: (item, ctx) => processDelayItem(item, ctx, { sleep: async (ms) => void sleeps.push(ms) }) });
    const out = await handler({ ...run, items: [{ key: 'a' }, { key: 'x-fail' }], attempt: 1, config: { delayMs: 10, failPattern: 'fail', tokensPerItem: 7 } }, context);
    expect(sleeps).toEqual([10, 10]);
    expect(writes).toEqual(['runs/r1/outputs/s1/a.json']);
    expect(out.results[0]).toMatchObject({ status: 'succeeded', outputKey: 'runs/r1/outputs/s1/a.json', metrics: { tokensUsed: 7, costUsd: 0, retryCount: 0 } });
    expect(out.results[1]).toMatchObject({ status: 'failed', error: { type: 'DiagnosticFailure', message: expect.stringContaining('matches failPattern') as unknown } });
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['ItemCompleted', 'ItemFailed']));
  });

  it('should count retries from the attempt number', async () => {
    const { deps } = runtime();
    const handler = defineAgent({ agentId: 'diagnostics.delay', deps, processItem: (item, ctx) => processDelayItem(item, ctx, { sleep: async () => {} }) });
    const out = await handler({ ...run, items: [{ key: 'a' }], attempt: 3, config: {} }, context);
    expect(out.results[0].metrics.retryCount).toBe(2);
  });

  it('should fail retryably on attempts up to retryableAttempts and succeed after them', async () => {
    const { deps } = runtime();
    const handler = defineAgent({ agentId: 'diagnostics.delay', deps, processItem: (item, ctx) => processDelayItem(item, ctx, { sleep: async () => {} }) });
    const retry = { maxAttempts: 2, intervalSeconds: 1, backoffRate: 1 };
    const attempt = (n: number) => handler({ ...run, items: [{ key: 'a' }], attempt: n, retry, config: { retryableAttempts: 2 } }, context);
    // Attempts 1 and 2 have a retry left, so the runtime fails the invocation for Step Functions to retry it.
    await expect(attempt(1)).rejects.toMatchObject({ name: 'Agentplane.Retryable' });
    await expect(attempt(2)).rejects.toMatchObject({ name: 'Agentplane.Retryable' });
    expect((await attempt(3)).results[0]).toMatchObject({ status: 'succeeded', metrics: { retryCount: 2 } });
  });
});

describe('Function: outputKeyFor', () => {
  it('should keep keys inside the run prefix, dropping dot segments', () => {
    expect(outputKeyFor(run, '../../etc/passwd')).toBe('runs/r1/outputs/s1/etc/passwd.json');
  });

  it('should refuse a workspace prefix other than the run prefix', () => {
    expect(() => outputKeyFor({ ...run, workspace: { prefix: 'runs/r2/' } }, 'a')).toThrow(WorkspaceViolationError);
  });
});

describe('Function: processDelayItem with llmPrompt (on the agent runtime)', () => {
  /** An OpenAI-like provider with fixed usage and price: 100 in + 20 out tokens, $0.0006 a call. */
  function fixedLlm() {
    const prompts: string[] = [];
    const llm: LlmProvider = {
      name: 'openai',
      model: 'stub-model',
      contextTokens: 8_000,
      async complete(request) {
        prompts.push(request.messages[0].content);
        return { text: 'ok', usage: { inputTokens: 100, outputTokens: 20, reasoningTokens: 0, totalTokens: 120 }, model: 'stub-model', finishReason: 'stop', costUsd: 0.0006, priced: true };
      },
    };
    return { llm, prompts };
  }

  const agentInput = (attempt: number, config: Record<string, unknown>) => ({
    runId: 'r1',
    stepId: 's1',
    items: [{ key: 'runs/r1/inputs/ok.txt' }, { key: 'runs/r1/inputs/fatal.txt' }, { key: 'runs/r1/inputs/retry.txt' }],
    workspace: { bucket: 'b', prefix: 'runs/r1/' },
    attempt,
    retry: { maxAttempts: 1, intervalSeconds: 1, backoffRate: 1 },
    config,
  });

  it('should call the LLM once per attempt before the patterns apply, and report its spend on success and failure alike', async () => {
    const { llm, prompts } = fixedLlm();
    const { deps, events } = runtime();
    const handler = defineAgent({ agentId: 'diagnostics.delay', deps, processItem: (item, ctx) => processDelayItem(item, ctx, { sleep: async () => {}, llm: async () => llm }) });
    const config = { llmPrompt: 'Say ok.', failPattern: 'fatal', retryablePattern: 'retry' };
    await expect(handler(agentInput(1, config), context)).rejects.toMatchObject({ name: 'Agentplane.Retryable' });
    const last = await handler(agentInput(2, config), context);
    // ok and fatal once (then replayed), retry at both attempts.
    expect(prompts).toHaveLength(4);
    expect(prompts[0]).toBe('Say ok.\n\nrun r1 step s1 item runs/r1/inputs/ok.txt attempt 1');
    const spent = { tokensUsed: 120, costUsd: 0.0006, provider: 'openai', model: 'stub-model' };
    const settled = events.filter((e) => e.event === 'ItemCompleted' || e.event === 'ItemFailed').map((e) => [e.event, e.payload.item.split('/').pop(), e.payload.metrics]);
    expect(settled).toEqual([
      ['ItemCompleted', 'ok.txt', expect.objectContaining(spent)],
      ['ItemFailed', 'fatal.txt', expect.objectContaining(spent)],
      ['ItemFailed', 'retry.txt', expect.objectContaining(spent)],
      ['ItemFailed', 'retry.txt', expect.objectContaining({ ...spent, retryCount: 1 })],
    ]);
    expect(last.results.map((r) => [r.status, r.metrics.tokensUsed, r.metrics.costUsd])).toEqual([
      ['succeeded', 120, 0.0006],
      ['failed', 120, 0.0006],
      ['failed', 120, 0.0006],
    ]);
  });

  it('should report the offline provider at cost 0 when no LLM is configured, and add tokensPerItem as synthetic tokens', async () => {
    const { deps, events } = runtime();
    const offline = new OfflineProvider();
    const handler = defineAgent({ agentId: 'diagnostics.delay', deps, processItem: (item, ctx) => processDelayItem(item, ctx, { sleep: async () => {}, llm: async () => offline }) });
    await handler({ ...agentInput(1, { llmPrompt: 'Say ok.', tokensPerItem: 5 }), items: [{ key: 'runs/r1/inputs/ok.txt' }] }, context);
    const metrics = events.find((e) => e.event === 'ItemCompleted')!.payload.metrics;
    expect(metrics).toMatchObject({ costUsd: 0, provider: 'offline', model: 'offline-deterministic-1' });
    expect(metrics.tokensUsed).toBeGreaterThan(5);
  });

  it('should fail the item as fatal when llmPrompt is set but no provider is', async () => {
    const { deps } = runtime();
    const handler = defineAgent({ agentId: 'diagnostics.delay', deps, processItem: (item, ctx) => processDelayItem(item, ctx, { sleep: async () => {} }) });
    const out = await handler({ ...agentInput(1, { llmPrompt: 'x' }), items: [{ key: 'runs/r1/inputs/a' }] }, context);
    expect(out.results[0]).toMatchObject({ status: 'failed', error: { type: 'Agentplane.Fatal', message: expect.stringMatching(/no LLM provider/) as unknown } });
  });
});
