import { afterEach, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { EventStore } from '../../../lambdas/aws/event-store';
import { defineAgent, RetryableAgentError } from '../../../lambdas/core/agent-runtime';
import { fakeRuntimeDeps } from '../../support/runtime-deps';
import { report, type ReporterDeps } from '../../../lambdas/engine-reporter/reporter';
import type { StepState } from '../../../lambdas/core/runs/model';
import { overlaySpend, summarize } from '../../../lambdas/core/runs/model';
import {
  attribution,
  ledgerAdds,
  ledgerAttribute,
  mergeUsage,
  parseLedger,
  providersOf,
  resultsMark,
  spendOfEvent,
  type SpendItem,
} from '../../../lambdas/core/runs/spend';

const ddb = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const conditionFailed = () => Object.assign(new Error('failed'), { name: 'ConditionalCheckFailedException' });
afterEach(() => ddb.reset());

const openai = (stepId: string, tokens: number, costUsd: number): SpendItem => ({ stepId, provider: 'openai', model: 'gpt-x', tokens, costUsd });
const metrics = (tokensUsed: number, costUsd: number, extra: Record<string, unknown> = {}) => ({ durationMs: 1, tokensUsed, costUsd, retryCount: 0, ...extra });

describe('Module: spend (the run ledger)', () => {
  describe('Function: spendOfEvent', () => {
    it('should take the spend of ItemCompleted and ItemFailed, nothing else, and nothing when nothing was spent', () => {
      expect(spendOfEvent('ItemCompleted', { stepId: 's', metrics: metrics(10, 0.5, { provider: 'openai', model: 'gpt-x' }) })).toEqual(openai('s', 10, 0.5));
      expect(spendOfEvent('ItemFailed', { stepId: 's', metrics: metrics(7, 0, { provider: 'offline', model: 'offline-deterministic-1' }) })).toEqual({
        stepId: 's',
        provider: 'offline',
        model: 'offline-deterministic-1',
        tokens: 7,
        costUsd: 0,
      });
      expect(spendOfEvent('ItemFailed', { stepId: 's', error: { type: 'x', message: 'y' }, retry: null })).toBeUndefined();
      expect(spendOfEvent('ItemCompleted', { stepId: 's', metrics: metrics(0, 0, { provider: 'openai' }) })).toBeUndefined();
      expect(spendOfEvent('ItemProgress', { stepId: 's', tokensUsed: 5 })).toBeUndefined();
    });
  });

  describe('Functions: ledgerAdds, parseLedger', () => {
    it('should sum the adds of one flush per step, provider and model, and read them back per step with usage', () => {
      const adds = ledgerAdds([openai('gen', 100, 0.0001), openai('gen', 100, 0.0002), { stepId: 'gen', tokens: 5, costUsd: 0 }, openai('a|b', 1, 0)]);
      expect(adds.get(ledgerAttribute({ stepId: 'gen', provider: 'openai', model: 'gpt-x' }, 'tokens'))).toBe(200);
      expect(adds.get(ledgerAttribute({ stepId: 'gen', provider: 'openai', model: 'gpt-x' }, 'costUsd'))).toBe(0.0003);
      // Names are unambiguous whatever the ids hold (each part encoded).
      expect(ledgerAttribute({ stepId: 'a|b', provider: 'p', model: 'us.anthropic.x:0' }, 'tokens')).toBe('spend|a%7Cb|p|us.anthropic.x%3A0|tokens');
      const item = { runId: 'r', seq: 0, next: 42, expiresAt: 1, [resultsMark('gen')]: true, ...Object.fromEntries(adds) };
      expect(parseLedger(item)).toEqual({
        gen: {
          tokens: 205,
          costUsd: 0.0003,
          usage: [
            { tokens: 5, costUsd: 0 },
            { provider: 'openai', model: 'gpt-x', tokens: 200, costUsd: 0.0003 },
          ],
        },
        'a|b': { tokens: 1, costUsd: 0, usage: [{ provider: 'openai', model: 'gpt-x', tokens: 1, costUsd: 0 }] },
      });
      expect(parseLedger(undefined)).toEqual({});
    });
  });

  describe('Functions: mergeUsage, providersOf, attribution', () => {
    it('should sum usage per provider and model and name the providers, none when nothing was spent', () => {
      const usage = mergeUsage([{ provider: 'openai', model: 'm', tokens: 1, costUsd: 0.1 }], [{ provider: 'openai', model: 'm', tokens: 2, costUsd: 0.2 }, { provider: 'offline', tokens: 3, costUsd: 0 }, { tokens: 4, costUsd: 0 }]);
      expect(usage).toEqual([
        { tokens: 4, costUsd: 0 },
        { provider: 'offline', tokens: 3, costUsd: 0 },
        { provider: 'openai', model: 'm', tokens: 3, costUsd: 0.3 },
      ]);
      expect(providersOf(usage)).toEqual(['offline', 'openai']);
      expect(attribution(usage)).toEqual({ providers: ['offline', 'openai'], usage });
      expect(attribution([])).toEqual({});
    });
  });

  describe('Functions: overlaySpend, summarize', () => {
    const steps: Record<string, StepState> = {
      done: { status: 'succeeded', totalItems: 2, succeeded: 1, failed: 1, tokens: 10, costUsd: 0.1 },
      live: { status: 'running', totalItems: 5, succeeded: 0, failed: 0, tokens: 0, costUsd: 0 },
      old: { status: 'succeeded', totalItems: 1, succeeded: 1, tokens: 3, costUsd: 0.3 },
    };

    it("should take each step's tokens and cost from the ledger, plus a live step's off-ledger spend, keeping counts", () => {
      const ledger = parseLedger(Object.fromEntries(ledgerAdds([openai('done', 30, 0.3), openai('live', 7, 0.07)])));
      const out = overlaySpend(steps, ledger, (stepId) => (stepId === 'live' ? { tokens: 2, costUsd: 0.02 } : undefined));
      expect(out.done).toMatchObject({ succeeded: 1, failed: 1, tokens: 30, costUsd: 0.3, providers: ['openai'], usage: [{ provider: 'openai', model: 'gpt-x', tokens: 30, costUsd: 0.3 }] });
      expect(out.live).toMatchObject({ tokens: 9, costUsd: 0.09, providers: ['openai'] });
      // A step the ledger does not know (a run from before it) keeps its recorded figures.
      expect(out.old).toEqual(steps.old);
      const summary = summarize({ steps: out, createdAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:01.000Z' }, 0);
      expect(summary).toMatchObject({ totalTokens: 42, totalCostUsd: 0.69, providers: ['openai'], usage: [{ provider: 'openai', model: 'gpt-x', tokens: 37, costUsd: 0.37 }] });
    });

    it('should say cost 0 and provider offline for an offline run', () => {
      const ledger = parseLedger(Object.fromEntries(ledgerAdds([{ stepId: 'done', provider: 'offline', model: 'offline-deterministic-1', tokens: 500, costUsd: 0 }])));
      const summary = summarize({ steps: overlaySpend({ done: steps.done }, ledger), createdAt: '2026-01-01T00:00:00.000Z' }, Date.parse('2026-01-01T00:00:01.000Z'));
      expect(summary).toEqual({
        totalItems: 2,
        successCount: 1,
        failureCount: 1,
        totalTokens: 500,
        totalCostUsd: 0,
        durationMs: 1000,
        providers: ['offline'],
        usage: [{ provider: 'offline', model: 'offline-deterministic-1', tokens: 500, costUsd: 0 }],
      });
    });
  });
});

describe('Class: EventStore (the ledger on the counter item)', () => {
  const itemEvents = (stepId: string) => [
    { event: 'ItemStarted' as const, payload: { stepId, item: 'a', index: 0, total: 2 } },
    { event: 'ItemFailed' as const, payload: { stepId, item: 'a', error: { type: 'Agentplane.Retryable', message: 'x' }, retry: { attempt: 2, nextDelayMs: 1000 }, metrics: metrics(100, 0.0006, { provider: 'openai', model: 'gpt-x' }) } },
    { event: 'ItemCompleted' as const, payload: { stepId, item: 'b', outputKey: 'o', metrics: metrics(100, 0.0006, { provider: 'openai', model: 'gpt-x' }) } },
  ];

  it('should add the spend of the item events to the ledger in the same ADD that reserves their numbers', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { next: 3 } });
    ddb.on(PutCommand).resolves({});
    const store = new EventStore({ tableName: 'events', client, progress: false });
    await store.emitMany('r1', itemEvents('gen'));
    const updates = ddb.commandCalls(UpdateCommand);
    expect(updates).toHaveLength(1);
    const input = updates[0].args[0].input;
    expect(input.Key).toEqual({ runId: 'r1', seq: 0 });
    expect(input.UpdateExpression).toBe('ADD #next :n, #s0 :s0, #s1 :s1 SET expiresAt = :exp');
    const adds = Object.fromEntries(Object.entries(input.ExpressionAttributeNames!).filter(([k]) => k.startsWith('#s')).map(([k, name]) => [name, input.ExpressionAttributeValues![k.replace('#', ':')]]));
    expect(adds).toEqual({ 'spend|gen|openai|gpt-x|tokens': 200, 'spend|gen|openai|gpt-x|costUsd': 0.0012 });
    expect(input.ExpressionAttributeValues![':n']).toBe(3);
  });

  it('should not add the spend again when an event is re-emitted under a new number (a reader filled its first one)', async () => {
    ddb.on(UpdateCommand).resolvesOnce({ Attributes: { next: 1 } }).resolves({ Attributes: { next: 2 } });
    ddb.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});
    const store = new EventStore({ tableName: 'events', client, progress: false });
    const [envelope] = await store.emitMany('r1', [itemEvents('gen')[2]]);
    expect(envelope.seq).toBe(2);
    const expressions = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input.UpdateExpression);
    expect(expressions).toEqual(['ADD #next :n, #s0 :s0, #s1 :s1 SET expiresAt = :exp', 'ADD #next :n SET expiresAt = :exp']);
    expect(store.stats.reEmitted).toBe(1);
  });

  it('should count nothing when the reserve fails (the emit fails: nothing was written)', async () => {
    ddb.on(UpdateCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServerError' }));
    const store = new EventStore({ tableName: 'events', client, progress: false });
    await expect(store.emitMany('r1', [itemEvents('gen')[2]])).rejects.toThrow('down');
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('should read the ledger with a consistent read of the counter item', async () => {
    ddb.on(GetCommand).resolves({ Item: { runId: 'r1', seq: 0, next: 9, 'spend|gen|offline|offline-deterministic-1|tokens': 70, 'spend|gen|offline|offline-deterministic-1|costUsd': 0 } });
    const store = new EventStore({ tableName: 'events', client, progress: false });
    expect(await store.spend('r1')).toEqual({ gen: { tokens: 70, costUsd: 0, usage: [{ provider: 'offline', model: 'offline-deterministic-1', tokens: 70, costUsd: 0 }] } });
    expect(ddb.commandCalls(GetCommand)[0].args[0].input).toMatchObject({ Key: { runId: 'r1', seq: 0 }, ConsistentRead: true });
  });

  it('should add results-only spend once per mark: a retried caller adds nothing twice', async () => {
    ddb.on(UpdateCommand).resolvesOnce({}).rejects(conditionFailed());
    const store = new EventStore({ tableName: 'events', client, progress: false });
    expect(await store.addSpendOnce('r1', resultsMark('gen'), [{ stepId: 'gen', tokens: 5, costUsd: 0.5 }])).toBe(true);
    expect(await store.addSpendOnce('r1', resultsMark('gen'), [{ stepId: 'gen', tokens: 5, costUsd: 0.5 }])).toBe(false);
    const input = ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(input.ConditionExpression).toBe('attribute_not_exists(#mark)');
    expect(input.ExpressionAttributeNames).toMatchObject({ '#mark': 'spendFromResults|gen', '#s0': 'spend|gen|||tokens', '#s1': 'spend|gen|||costUsd' });
    expect(await store.addSpendOnce('r1', resultsMark('gen'), [])).toBe(false);
  });
});

/**
 * The whole path in memory: the agent runtime (with its idempotency store) emitting into an event sink that keeps the
 * ledger the way the EventStore does, Step Functions retrying the invocation, the reporter run twice. The run's totals
 * must be exactly what the LLM calls spent, each once.
 */
describe('Ledger end to end (runtime → events → reporter), under retries', () => {
  it('should count every LLM call of succeeded, failed and retried attempts exactly once', async () => {
    const ledgerItem: Record<string, unknown> = {};
    let calls = 0;
    const { deps, events } = fakeRuntimeDeps();
    const emit = deps.events.emit.bind(deps.events);
    // The sink keeps the ledger the way the EventStore does: each item event's spend added where it is emitted.
    deps.events = {
      emit: async (runId, event, payload) => {
        await emit(runId, event, payload);
        const spent = spendOfEvent(event, payload);
        if (spent) for (const [name, value] of ledgerAdds([spent])) ledgerItem[name] = Number(ledgerItem[name] ?? 0) + value;
      },
    };
    // Every attempt makes one LLM call (120 tokens, $0.0006), reports it, then: ok-* succeed, retry-* fail retryably,
    // fatal-* fail for good.
    const handler = defineAgent({
      agentId: 'spender',
      deps,
      processItem: async (item, ctx) => {
        calls++;
        await ctx.progress(0.5, { tokensUsed: 120, costUsd: 0.0006, provider: 'openai', model: 'gpt-x' });
        if (item.key.startsWith('retry-')) throw new RetryableAgentError('unusable answer');
        if (item.key.startsWith('fatal-')) throw new Error('bad input');
        return { outputKey: await ctx.workspace.put(`outputs/${item.key}`, 'x') };
      },
    });
    const input = (attempt: number) => ({
      runId: 'r1',
      stepId: 'gen',
      items: [{ key: 'ok-1' }, { key: 'retry-1' }, { key: 'fatal-1' }],
      workspace: { bucket: 'b', prefix: 'runs/r1/' },
      attempt,
      retry: { maxAttempts: 2, intervalSeconds: 1, backoffRate: 1 },
    });
    const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
    // Attempts 1 and 2 throw Agentplane.Retryable (Step Functions discards their results); attempt 3 returns.
    await expect(handler(input(1), context)).rejects.toMatchObject({ name: 'Agentplane.Retryable' });
    await expect(handler(input(2), context)).rejects.toMatchObject({ name: 'Agentplane.Retryable' });
    // A Lambda-level retry of attempt 2 (the invocation ran, its answer was lost): completed items are replayed.
    await expect(handler(input(2), context)).rejects.toMatchObject({ name: 'Agentplane.Retryable' });
    const last = await handler(input(3), context);
    // ok-1 and fatal-1 ran once (then replayed); retry-1 ran at attempts 1, 2, 2 (again: not stored) and 3.
    expect(calls).toBe(6);
    expect(last.results.map((r) => [r.item.key, r.status])).toEqual([
      ['ok-1', 'succeeded'],
      ['retry-1', 'failed'],
      ['fatal-1', 'failed'],
    ]);
    // The final results alone know 3 calls' worth; the ledger knows all of them.
    expect(last.results.reduce((n, r) => n + r.metrics.tokensUsed, 0)).toBe(360);

    const merged: StepState[] = [];
    // The reporter's events as this test reads them: RunSummary-like payloads.
    const emitted: Array<{ event: string; payload: { summary: { totalCostUsd: number } } }> = [];
    const reporterDeps: ReporterDeps = {
      bucket: 'b',
      readJson: async () => undefined,
      writeJson: async () => {},
      steps: { merge: async (_r, _s, fields) => void merged.push(fields), steps: async () => ({ gen: { startedAt: new Date().toISOString(), totalItems: 3 } }) },
      emit: async (_r, list) => void emitted.push(...(list as never[])),
      ledger: {
        read: async () => parseLedger(ledgerItem),
        addOnce: async (_r, mark, spend) => {
          if (ledgerItem[mark]) return false;
          ledgerItem[mark] = true;
          for (const [name, value] of ledgerAdds(spend)) ledgerItem[name] = Number(ledgerItem[name] ?? 0) + value;
          return true;
        },
      },
      clock: Date.now,
    };
    const step = { runId: 'r1', stepId: 'gen', status: 'succeeded' as const, mode: 'inline' as const, toleratedFailurePercentage: 100, outcome: [{ results: last.results }] };
    await report(step, reporterDeps);
    await report(step, reporterDeps); // Step Functions retrying the reporter
    for (const summary of emitted.map((e) => e.payload.summary)) {
      expect(summary).toMatchObject({ successCount: 1, failureCount: 2, totalTokens: calls * 120, providers: ['openai'] });
      expect(summary.totalCostUsd).toBeCloseTo(calls * 0.0006, 9);
    }
    expect(merged[1]).toMatchObject({ tokens: 720, costUsd: 0.0036 });
    // What a client folding the events sees agrees.
    const fromEvents = events.filter((e) => e.event === 'ItemCompleted' || e.event === 'ItemFailed').reduce((n, e) => n + e.payload.metrics.tokensUsed, 0);
    expect(fromEvents).toBe(720);
  });
});
