import { describe, expect, it } from 'vitest';
import { applyEvent, emptyRunView, isFinal } from '../../../lambdas/client/run-view';

const ev = (seq: number, event: string, payload: Record<string, unknown>) => ({ seq, event, payload }) as never;
const metrics = (tokens: number, cost: number) => ({ durationMs: 5, tokensUsed: tokens, costUsd: cost, retryCount: 0 });

describe('Function: applyEvent', () => {
  it('should follow a run from start to success with per-step counts, tokens and cost', () => {
    const view = emptyRunView('r1');
    const log = [
      ev(1, 'RunStarted', {}),
      ev(2, 'AgentSelected', { stepId: 'analyze', agentId: 'cobol', score: 1, candidates: [] }),
      ev(3, 'StepStarted', { stepId: 'analyze', skill: 'cobol-analysis', agentId: 'cobol', totalItems: 3 }),
      ev(4, 'ItemStarted', { stepId: 'analyze', item: { key: 'a' }, index: 0, total: 3 }),
      ev(5, 'ItemCompleted', { stepId: 'analyze', item: { key: 'a' }, outputKey: 'o/a', metrics: metrics(10, 0.01) }),
      ev(6, 'ItemFailed', { stepId: 'analyze', item: { key: 'b' }, error: { type: 'X', message: 'm' }, retry: { attempt: 1, nextDelayMs: 100 } }),
      ev(7, 'ItemFailed', { stepId: 'analyze', item: { key: 'b' }, error: { type: 'X', message: 'm' }, retry: null, metrics: metrics(2, 0.002) }),
      ev(8, 'StepSkipped', { stepId: 'generate', reason: 'when' }),
      ev(9, 'StepCompleted', { stepId: 'analyze', summary: { totalItems: 3, successCount: 2, failureCount: 1, totalTokens: 20, totalCostUsd: 0.02, durationMs: 9 } }),
      ev(10, 'RunSucceeded', { summary: { totalItems: 3, successCount: 2, failureCount: 1, totalTokens: 20, totalCostUsd: 0.02, durationMs: 9 } }),
    ];
    for (const e of log) applyEvent(view, e);
    expect(view.status).toBe('SUCCEEDED');
    expect(isFinal(view.status)).toBe(true);
    expect(view.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['analyze', 'succeeded'],
      ['generate', 'skipped'],
    ]);
    expect(view.steps[0]).toMatchObject({ totalItems: 3, succeeded: 2, failed: 1, tokens: 20, agentId: 'cobol' });
    expect(view.tokens).toBe(20);
    expect(view.costUsd).toBeCloseTo(0.02);
  });

  it("should count the spend of every attempt, a retried one's too, and list the providers it came from", () => {
    const view = emptyRunView('r1');
    const spent = (tokens: number, cost: number, provider: string) => ({ ...metrics(tokens, cost), provider, model: `${provider}-model` });
    applyEvent(view, ev(1, 'StepStarted', { stepId: 's', skill: 'k', agentId: 'a', totalItems: 1 }));
    applyEvent(view, ev(2, 'ItemFailed', { stepId: 's', item: 'x', error: { type: 'Agentplane.Retryable', message: 'm' }, retry: { attempt: 2, nextDelayMs: 10 }, metrics: spent(100, 0.5, 'openai') }));
    expect(view.steps[0]).toMatchObject({ failed: 0, tokens: 100 });
    applyEvent(view, ev(3, 'ItemCompleted', { stepId: 's', item: 'x', outputKey: 'o', metrics: spent(40, 0, 'offline') }));
    expect(view.steps[0]).toMatchObject({ succeeded: 1, failed: 0, tokens: 140, costUsd: 0.5 });
    expect(view).toMatchObject({ tokens: 140, costUsd: 0.5, providers: ['offline', 'openai'] });
    applyEvent(view, ev(4, 'StepCompleted', { stepId: 's', summary: { totalItems: 1, successCount: 1, failureCount: 0, totalTokens: 140, totalCostUsd: 0.5, durationMs: 9, providers: ['offline', 'openai'] } }));
    expect(view).toMatchObject({ tokens: 140, costUsd: 0.5, providers: ['offline', 'openai'] });
  });

  it('should ignore events it has already applied, so a replay after a reconnect changes nothing', () => {
    const view = emptyRunView('r1');
    const done = ev(2, 'ItemCompleted', { stepId: 's', item: { key: 'a' }, outputKey: 'o', metrics: metrics(5, 0) });
    applyEvent(view, ev(1, 'StepStarted', { stepId: 's', skill: 'k', agentId: 'a', totalItems: 1 }));
    applyEvent(view, done);
    applyEvent(view, done);
    expect(view.steps[0].succeeded).toBe(1);
    expect(view.tokens).toBe(5);
  });

  it('should undo the failure of an item that falls back to another agent, and count it in flight once per attempt', () => {
    const view = emptyRunView('r1');
    const log = [
      ev(1, 'AgentSelected', { stepId: 's', agentId: 'a', score: 1, candidates: [] }),
      ev(2, 'StepStarted', { stepId: 's', skill: 'k', agentId: 'a', totalItems: 2 }),
      ev(3, 'ItemStarted', { stepId: 's', item: 'x', index: 0, total: 2 }),
      ev(4, 'ItemFailed', { stepId: 's', item: 'x', error: { type: 'Agentplane.Retryable', message: 'm' }, retry: { attempt: 2, nextDelayMs: 10 } }),
      ev(5, 'ItemStarted', { stepId: 's', item: 'x', index: 0, total: 2 }),
      ev(6, 'ItemFailed', { stepId: 's', item: 'x', error: { type: 'Agentplane.Retryable', message: 'm' }, retry: null, metrics: metrics(3, 0) }),
      ev(7, 'ItemStarted', { stepId: 's', item: 'y', index: 1, total: 2 }),
      ev(8, 'ItemFailed', { stepId: 's', item: 'y', error: { type: 'Agentplane.Fatal', message: 'm' }, retry: null, metrics: metrics(1, 0) }),
    ];
    for (const e of log) applyEvent(view, e);
    expect(view.steps[0]).toMatchObject({ failed: 2, inFlight: 0 });
    applyEvent(view, ev(9, 'AgentSelected', { stepId: 's', agentId: 'b', score: 0.5, candidates: [], fallbackFrom: 'a', item: 'x', reason: 'Agentplane.Retryable after 3 attempts' }));
    expect(view.steps[0]).toMatchObject({ failed: 1, fallbacks: 1, agentId: 'a' });
    applyEvent(view, ev(10, 'ItemStarted', { stepId: 's', item: 'x', index: 0, total: 2 }));
    applyEvent(view, ev(11, 'ItemCompleted', { stepId: 's', item: 'x', outputKey: 'o/x', metrics: metrics(4, 0) }));
    expect(view.steps[0]).toMatchObject({ succeeded: 1, failed: 1, inFlight: 0, tokens: 8 });
  });

  it('should keep the cancellation receipt and the failure', () => {
    const cancelled = applyEvent(emptyRunView('r'), ev(1, 'RunCancelled', { receipt: { itemsDone: 4, itemsAbandoned: 2 } }));
    expect(cancelled).toMatchObject({ status: 'CANCELLED', receipt: { itemsDone: 4, itemsAbandoned: 2 } });
    const failed = applyEvent(emptyRunView('r'), ev(1, 'RunFailed', { error: { type: 'Agentplane.StepFailed', message: 'too many' } }));
    expect(failed.error?.type).toBe('Agentplane.StepFailed');
  });
});
