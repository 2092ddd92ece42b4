import { describe, expect, it } from 'vitest';
import { report, type ReporterDeps } from '../../../lambdas/engine-reporter/reporter';
import type { StepState } from '../../../lambdas/shared/aws/step-state';

function fakeDeps(recorded: StepState | undefined = { startedAt: '2026-01-01T00:00:00.000Z', totalItems: 4 }, files: Record<string, unknown> = {}) {
  const written = new Map<string, unknown>();
  const merged: StepState[] = [];
  const emitted: Array<{ event: string; payload: any }> = [];
  const deps: ReporterDeps = {
    bucket: 'ws',
    readJson: async (_b, key) => files[key],
    writeJson: async (_b, key, value) => void written.set(key, value),
    steps: { merge: async (_r, _s, fields) => void merged.push(fields), steps: async () => (recorded ? { s: recorded } : ({} as Record<string, StepState>)) },
    emit: async (_r, list) => void emitted.push(...(list as never[])),
    clock: () => Date.parse('2026-01-01T00:00:02.000Z'),
  };
  return { deps, written, merged, emitted };
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
    expect(emitted[0]!.payload.summary).toEqual({ totalItems: 4, successCount: 2, failureCount: 2, totalTokens: 10, totalCostUsd: 0.5, durationMs: 2000 });
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
    expect(emitted[0]!.event).toBe('StepCompleted');
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
    const { deps, merged, emitted } = fakeDeps(null as never);
    await report({ runId: 'r', stepId: 's', status: 'failed', error: { Error: 'Agentplane.NoAgent', Cause: 'nobody serves x' } }, deps);
    expect(merged[0]).toMatchObject({ status: 'failed', error: { type: 'Agentplane.NoAgent', message: 'nobody serves x' }, totalItems: 0 });
    expect(emitted[0]!.payload.summary).toMatchObject({ totalItems: 0, successCount: 0, failureCount: 0 });
  });
});
