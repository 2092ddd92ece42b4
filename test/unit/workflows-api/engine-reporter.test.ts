import { describe, expect, it } from 'vitest';
import { report, type ReporterDeps } from '../../../lambdas/engine-reporter/reporter';
import type { StepState } from '../../../lambdas/aws/step-state';
import { ledgerAdds, parseLedger, type SpendItem } from '../../../lambdas/core/runs/spend';

/** The events table's counter item as the ledger: the same ADDs and reads the EventStore does, in memory. */
export function fakeLedger() {
  const item: Record<string, unknown> = {};
  const add = (spend: readonly SpendItem[]) => {
    for (const [name, value] of ledgerAdds(spend)) item[name] = Number(item[name] ?? 0) + value;
  };
  return {
    item,
    /** What the agent runtime's item events add as they are emitted. */
    emitted: add,
    ledger: {
      read: async () => parseLedger(item),
      addOnce: async (_runId: string, mark: string, spend: readonly SpendItem[]) => {
        if (item[mark]) return false;
        item[mark] = true;
        add(spend);
        return true;
      },
    },
  };
}

function fakeDeps(recorded: StepState | null = { startedAt: '2026-01-01T00:00:00.000Z', totalItems: 4 }, files: Record<string, unknown> = {}) {
  const written = new Map<string, unknown>();
  const merged: StepState[] = [];
  const emitted: Array<{ event: string; payload: Record<string, unknown> }> = [];
  const ledger = fakeLedger();
  const deps: ReporterDeps = {
    bucket: 'ws',
    readJson: async (_b, key) => files[key],
    writeJson: async (_b, key, value) => void written.set(key, value),
    steps: { merge: async (_r, _s, fields) => void merged.push(fields), steps: async (): Promise<Record<string, StepState>> => (recorded ? { s: recorded } : {}) },
    emit: async (_r, list) => void emitted.push(...(list as never[])),
    ledger: ledger.ledger,
    clock: () => Date.parse('2026-01-01T00:00:02.000Z'),
  };
  return { deps, written, merged, emitted, ledger };
}

const ok = (key: string, tokens = 5) => ({ item: { key }, status: 'succeeded', outputKey: `out/${key}`, metrics: { tokensUsed: tokens, costUsd: 0.25, durationMs: 1, retryCount: 0 } });
const bad = (key: string) => ({ item: { key }, status: 'failed', error: { type: 'X', message: 'no' }, metrics: { tokensUsed: 1, costUsd: 0, durationMs: 1, retryCount: 0 } });

describe('Function: report', () => {
  it('should record a skipped step and emit StepSkipped', async () => {
    const { deps, merged, emitted } = fakeDeps();
    await report({ runId: 'r', stepId: 's', status: 'skipped', reason: 'upstream' }, deps);
    expect(merged[0]).toMatchObject({ status: 'skipped', reason: 'upstream', totalItems: 0 });
    expect(emitted).toEqual([{ event: 'StepSkipped', payload: { stepId: 's', reason: 'upstream' } }]);
  });

  it('should tally an inline outcome, counting failed batches by their items, and keep the outputs', async () => {
    const { deps, merged, emitted, written } = fakeDeps();
    await report(
      {
        runId: 'r',
        stepId: 's',
        status: 'succeeded',
        mode: 'inline',
        toleratedFailurePercentage: 50,
        outcome: [{ results: [ok('a'), ok('b')] }, { failed: true, items: [{ key: 'c' }, { key: 'd' }], error: { Error: 'Agentplane.Fatal' } }],
      },
      deps,
    );
    expect(merged[0]).toMatchObject({ status: 'succeeded', totalItems: 4, succeeded: 2, failed: 2, tokens: 10, costUsd: 0.5 });
    // Results of agents that emit no item events (no spendRecorded): their spend counts from the results, unattributed.
    expect(emitted[0].payload.summary).toEqual({ totalItems: 4, successCount: 2, failureCount: 2, totalTokens: 10, totalCostUsd: 0.5, durationMs: 2000, usage: [{ tokens: 10, costUsd: 0.5 }] });
    expect(written.get('runs/r/state/s/outputs.json')).toEqual([
      { key: 'out/a', source: 'a' },
      { key: 'out/b', source: 'b' },
    ]);
  });

  it('should throw Agentplane.StepFailed beyond the tolerance, after recording the failure', async () => {
    const { deps, merged, emitted } = fakeDeps();
    const run = report({ runId: 'r', stepId: 's', status: 'succeeded', mode: 'adaptive', toleratedFailurePercentage: 10, outcome: [{ results: [ok('a'), bad('b'), ok('c'), ok('d')] }] }, deps);
    await expect(run).rejects.toMatchObject({ name: 'Agentplane.StepFailed' });
    expect(merged[0]).toMatchObject({ status: 'failed', failed: 1, error: { type: 'Agentplane.StepFailed' } });
    expect(emitted[0].event).toBe('StepCompleted');
  });

  it('should fail a single step on any failed result', async () => {
    const { deps } = fakeDeps();
    await expect(report({ runId: 'r', stepId: 's', status: 'succeeded', mode: 'single', outcome: { results: [bad('@step')] } }, deps)).rejects.toMatchObject({
      name: 'Agentplane.StepFailed',
    });
    const good = fakeDeps();
    await report({ runId: 'r', stepId: 's', status: 'succeeded', mode: 'single', outcome: { results: [ok('@step', 7)] } }, good.deps);
    expect(good.merged[0]).toMatchObject({ status: 'succeeded', totalItems: 1, succeeded: 1, tokens: 7 });
    expect(good.written.size).toBe(0);
  });

  it('should read a distributed outcome from the ResultWriter manifest and its files', async () => {
    const files = {
      'runs/r/state/s/results/m1/manifest.json': { ResultFiles: { SUCCEEDED: [{ Key: 'runs/r/state/s/results/m1/SUCCEEDED_0.json' }], FAILED: [{ Key: 'runs/r/state/s/results/m1/FAILED_0.json' }] } },
      'runs/r/state/s/results/m1/SUCCEEDED_0.json': [{ Output: JSON.stringify({ results: [ok('a'), ok('b')] }) }, { Output: JSON.stringify({ results: [ok('c')] }) }],
      'runs/r/state/s/results/m1/FAILED_0.json': [{ Input: JSON.stringify({ Items: [{ key: 'd' }], BatchInput: {} }), Error: 'Agentplane.Fatal' }],
    };
    const { deps, merged, written } = fakeDeps({ startedAt: '2026-01-01T00:00:00.000Z', totalItems: 4 }, files);
    await report(
      { runId: 'r', stepId: 's', status: 'succeeded', mode: 'distributed', toleratedFailurePercentage: 25, outcome: { MapRunArn: 'arn', ResultWriterDetails: { Bucket: 'ws', Key: 'runs/r/state/s/results/m1/manifest.json' } } },
      deps,
    );
    expect(merged[0]).toMatchObject({ status: 'succeeded', totalItems: 4, succeeded: 3, failed: 1, tokens: 15 });
    expect((written.get('runs/r/state/s/outputs.json') as unknown[]).length).toBe(3);
  });

  it('should record a failed step with its error and emit StepCompleted', async () => {
    const { deps, merged, emitted } = fakeDeps(null);
    await report({ runId: 'r', stepId: 's', status: 'failed', error: { Error: 'Agentplane.NoAgent', Cause: 'nobody serves x' } }, deps);
    expect(merged[0]).toMatchObject({ status: 'failed', error: { type: 'Agentplane.NoAgent', message: 'nobody serves x' }, totalItems: 0, tokens: 0, costUsd: 0 });
    expect(merged[0]).not.toHaveProperty('providers');
    expect(emitted[0].payload.summary).toMatchObject({ totalItems: 0, successCount: 0, failureCount: 0, totalTokens: 0, totalCostUsd: 0 });
  });

  describe('spend (the run ledger)', () => {
    // What the agent runtime returns: the spend of its results is in the ledger already (their events carried it).
    const recorded = (key: string, status: 'succeeded' | 'failed', tokens: number, costUsd: number, provider = 'openai', model = 'gpt-x') => ({
      item: { key },
      status,
      ...(status === 'succeeded' ? { outputKey: `out/${key}` } : { error: { type: 'Agentplane.Retryable', message: 'x' } }),
      metrics: { tokensUsed: tokens, costUsd, durationMs: 1, retryCount: 0, provider, model },
      spendRecorded: true,
    });

    it('should count every attempt from the ledger, retried and failed ones too, and say which providers and models spent it', async () => {
      const { deps, merged, emitted, ledger } = fakeDeps();
      // Four attempts emitted: a retried attempt of a (Step Functions threw its result away), its success, and two
      // items that failed for good; plus an offline item.
      ledger.emitted([
        { stepId: 's', provider: 'openai', model: 'gpt-x', tokens: 100, costUsd: 0.001 },
        { stepId: 's', provider: 'openai', model: 'gpt-x', tokens: 100, costUsd: 0.001 },
        { stepId: 's', provider: 'openai', model: 'gpt-x', tokens: 50, costUsd: 0.0005 },
        { stepId: 's', provider: 'openai', model: 'gpt-x', tokens: 50, costUsd: 0.0005 },
        { stepId: 's', provider: 'offline', model: 'offline-deterministic-1', tokens: 70, costUsd: 0 },
        { stepId: 'other', provider: 'openai', model: 'gpt-x', tokens: 9, costUsd: 0.9 },
      ]);
      const results = [recorded('a', 'succeeded', 100, 0.001), recorded('b', 'failed', 50, 0.0005), recorded('c', 'failed', 50, 0.0005), recorded('d', 'succeeded', 70, 0, 'offline', 'offline-deterministic-1')];
      await report({ runId: 'r', stepId: 's', status: 'succeeded', mode: 'inline', toleratedFailurePercentage: 50, outcome: [{ results }] }, deps);
      const usage = [
        { provider: 'offline', model: 'offline-deterministic-1', tokens: 70, costUsd: 0 },
        { provider: 'openai', model: 'gpt-x', tokens: 300, costUsd: 0.003 },
      ];
      // Counts are the results' (as before); tokens and cost are every attempt's.
      expect(merged[0]).toMatchObject({ status: 'succeeded', succeeded: 2, failed: 2, tokens: 370, costUsd: 0.003, providers: ['offline', 'openai'], usage });
      expect(emitted[0].payload.summary).toEqual({ totalItems: 4, successCount: 2, failureCount: 2, totalTokens: 370, totalCostUsd: 0.003, durationMs: 2000, providers: ['offline', 'openai'], usage });
    });

    it("should add the spend of results no item event carried (agents off the runtime) once, even when the reporter is retried", async () => {
      const { deps, merged, ledger } = fakeDeps();
      ledger.emitted([{ stepId: 's', provider: 'offline', model: 'm', tokens: 10, costUsd: 0 }]);
      const event = { runId: 'r', stepId: 's', status: 'succeeded' as const, mode: 'inline' as const, outcome: [{ results: [ok('a', 5), ok('b', 5), recorded('c', 'succeeded', 10, 0, 'offline', 'm')] }] };
      await report(event, deps);
      await report(event, deps);
      expect(merged[0]).toMatchObject({ tokens: 20, costUsd: 0.5, providers: ['offline'] });
      expect(merged[1]).toMatchObject({ tokens: 20, costUsd: 0.5 });
      expect(merged[1].usage).toEqual([
        { tokens: 10, costUsd: 0.5 },
        { provider: 'offline', model: 'm', tokens: 10, costUsd: 0 },
      ]);
    });

    it('should give a failed step (no results reach it) the spend of its attempts', async () => {
      const { deps, merged, emitted, ledger } = fakeDeps({ startedAt: '2026-01-01T00:00:00.000Z', totalItems: 2, succeeded: 0 });
      ledger.emitted([{ stepId: 's', provider: 'openai', model: 'gpt-x', tokens: 40, costUsd: 0.2 }]);
      await report({ runId: 'r', stepId: 's', status: 'failed', error: { Error: 'Agentplane.Fatal', Cause: 'boom' } }, deps);
      expect(merged[0]).toMatchObject({ status: 'failed', tokens: 40, costUsd: 0.2, providers: ['openai'] });
      expect(emitted[0].payload.summary).toMatchObject({ totalItems: 2, failureCount: 2, totalTokens: 40, totalCostUsd: 0.2, providers: ['openai'] });
    });

    it('should report an offline step as costing 0 with provider offline', async () => {
      const { deps, emitted, ledger } = fakeDeps();
      ledger.emitted([{ stepId: 's', provider: 'offline', model: 'offline-deterministic-1', tokens: 1234, costUsd: 0 }]);
      await report({ runId: 'r', stepId: 's', status: 'succeeded', mode: 'single', outcome: { results: [recorded('@step', 'succeeded', 1234, 0, 'offline', 'offline-deterministic-1')] } }, deps);
      expect(emitted[0].payload.summary).toMatchObject({ totalTokens: 1234, totalCostUsd: 0, providers: ['offline'], usage: [{ provider: 'offline', model: 'offline-deterministic-1', tokens: 1234, costUsd: 0 }] });
    });
  });
});
