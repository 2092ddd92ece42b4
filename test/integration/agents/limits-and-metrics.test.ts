import { describe, expect, it } from 'vitest';
import { http } from '../../support/target';
import type { MetricsBody } from '../../support/api';
import { MetricsRecorder } from '../../../lambdas/aws/registry-metrics';
import { RegistryStore } from '../../../lambdas/aws/registry-store';
import { bucketIndexFor } from '../../../lambdas/core/registry/histogram';
import { DEFAULT_WINDOW } from '../../../lambdas/core/registry/histogram';
import { agentCloud, exactPercentile, uniqueSuffix } from './support';

describe('Agent runtime: concurrency limit and latency histogram on the local cloud', () => {
  const cloud = agentCloud();

  it('should never exceed the agent concurrency limit across concurrent invocations (checked by the agent)', async () => {
    const suffix = uniqueSuffix();
    const agentId = `limited-${suffix}`;
    await cloud.register(agentId, `limited-${suffix}`, { maxConcurrency: 2 });
    const probe = `probe-${suffix}`;
    let busy = 0;
    const one = async (i: number) => {
      for (let attempt = 1; ; attempt++) {
        const { functionError, body } = await cloud.invoke(cloud.input(`run-limit-${suffix}-${i}`, agentId, ['inputs/x.cbl'], { delayMs: 250, probeConcurrency: probe }));
        if (!functionError) return body;
        expect(body.errorType).toBe('Agentplane.AgentBusy');
        busy++;
        // What the state machine's throttling retrier does: back off with jitter.
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 150 * Math.min(attempt, 4)));
        if (attempt > 100) throw new Error('never admitted');
      }
    };
    const bodies = await Promise.all(Array.from({ length: 8 }, (_, i) => one(i)));
    expect(bodies.every((b) => b.results![0].status === 'succeeded')).toBe(true);
    const seen = await cloud.item(`DIAG#${probe}`, 'INFLIGHT');
    expect(seen).toMatchObject({ entered: 8, inFlight: 0 });
    expect(seen!.maxInFlight).toBeLessThanOrEqual(2);
    expect(seen!.maxInFlight).toBe(2);
    expect(busy).toBeGreaterThan(0);
    const leases = await cloud.item(`AGENT#${agentId}`, 'LEASES');
    expect(Object.keys(leases!.leases as Record<string, number>)).toEqual([]);
  });

  it('should report percentiles of concurrently recorded invocations within the bucket precision', async () => {
    const suffix = uniqueSuffix();
    const agentId = `timed-${suffix}`;
    await cloud.register(agentId, `timed-${suffix}`);
    const runs = Array.from({ length: 32 }, (_, i) => `run-hist-${suffix}-${i}`);
    await Promise.all(runs.map((runId, i) => cloud.invoke(cloud.input(runId, agentId, ['inputs/a.cbl', 'inputs/b.cbl'], { delayMs: (i * 37) % 180 }))));
    const durations: number[] = [];
    for (const runId of runs) {
      for (const e of await cloud.events(runId)) if (e.event === 'ItemCompleted') durations.push(e.payload.metrics.durationMs);
    }
    expect(durations).toHaveLength(64);
    const metrics = (await http<MetricsBody>('GET', `/agents/${agentId}/metrics`)).body;
    expect(metrics.invocations).toBe(64);
    for (const window of [metrics.allTime, metrics.recent]) {
      expect(window.latencyMs.count).toBe(64);
      for (const p of [50, 95, 99] as const) {
        const exact = exactPercentile(durations, p);
        // The reported value is the midpoint of the bucket holding the exact percentile.
        expect(bucketIndexFor(window.latencyMs[`p${p}`]!), `p${p}: exact ${exact}, reported ${String(window.latencyMs[`p${p}`])}`).toBe(bucketIndexFor(exact));
      }
      expect(window.latencyMs.avg).toBeCloseTo(durations.reduce((a, b) => a + b, 0) / 64, 6);
    }
  });

  it('should lose no recording under heavy concurrent ADDs on DynamoDB Local', async () => {
    const suffix = uniqueSuffix();
    const agentId = `hammered-${suffix}`;
    await cloud.register(agentId, `hammered-${suffix}`);
    const client = cloud.ddb;
    const recorder = new MetricsRecorder(client, cloud.agentsTable, DEFAULT_WINDOW);
    const latencies: number[] = [];
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const batches = Array.from({ length: 60 }, () =>
      Array.from({ length: 15 }, () => {
        const ms = Math.round(Math.exp(random() * 9) * 100) / 100;
        latencies.push(ms);
        return { ok: random() > 0.1, latencyMs: ms };
      }),
    );
    const now = Date.now();
    await Promise.all(batches.map((b) => recorder.record(agentId, b, now)));
    const store = new RegistryStore({ tableName: cloud.agentsTable, client });
    const metrics = (await store.metrics(agentId))!;
    expect(metrics.invocations).toBe(900);
    expect(metrics.successes + metrics.failures).toBe(900);
    for (const p of [50, 95, 99] as const) {
      const exact = exactPercentile(latencies, p);
      expect(bucketIndexFor(metrics.allTime.latencyMs[`p${p}`]!)).toBe(bucketIndexFor(exact));
      expect(Math.abs(metrics.recent.latencyMs[`p${p}`]! - exact)).toBeLessThanOrEqual(Math.max(0.5, exact * 0.05) + 1e-9);
    }
  });
});
