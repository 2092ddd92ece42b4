import { describe, expect, it } from 'vitest';
import { fanOutWorkflow, registerWorkflow, startRun, unique, waitFor, getRun, workspace } from './support';

const RUNS = Number(process.env.AGENTPLANE_RUNS_AT_ONCE ?? 100);

describe('Runs API: many runs at once', () => {
  it(`should complete ${RUNS} runs started at once, each with its own inputs and no other run's data`, async () => {
    const wf = await registerWorkflow(fanOutWorkflow(unique('runs-many'), { delayMs: 5 }));
    // As a client should: each POST carries an Idempotency-Key, so a 5xx (a gateway timeout while 100 creations
    // queue on 2 cores) is retried safely and answers the run the first attempt created.
    const started = await Promise.all(
      Array.from({ length: RUNS }, async (_, i) => {
        const key = unique(`many-${i}`);
        const body = { workflowId: wf.id, parameters: { label: `run-${i}` }, inputs: [{ key: `own-${i}.txt`, content: `payload of run ${i}` }, { key: `shared-name.txt`, content: `shared ${i}` }] };
        return waitFor(`POST /runs ${i}`, async () => {
          const res = await startRun(body, { key });
          return res.status >= 500 || res.status === 409 || res.status === 429 ? undefined : res;
        }, 240_000, 500);
      }),
    );
    expect(started.map((s) => s.status)).toEqual(Array(RUNS).fill(202));
    const ids = started.map((s) => s.body.runId);
    expect(new Set(ids).size).toBe(RUNS);
    await waitFor(
      `${RUNS} runs to end`,
      async () => {
        const statuses = await Promise.all(ids.map(async (id) => (await getRun(id)).body.status));
        const bad = statuses.filter((s) => s === 'FAILED' || s === 'CANCELLED');
        if (bad.length) throw new Error(`runs ended ${bad.join(',')}`);
        return statuses.every((s) => s === 'SUCCEEDED') ? true : undefined;
      },
      300_000,
      2_000,
    );
    for (let i = 0; i < RUNS; i++) {
      const objects = await workspace(ids[i], 'all');
      const inputsOf = objects.filter((o) => o.key.startsWith('inputs/')).map((o) => o.key).sort();
      expect(inputsOf).toEqual([`inputs/own-${i}.txt`, 'inputs/shared-name.txt']);
      const outputs = objects.filter((o) => o.key.startsWith('outputs/'));
      expect(outputs).toHaveLength(2);
      for (const o of outputs) {
        expect(o.key).toContain(ids[i]);
        const body = (await (await fetch(o.url)).json()) as { runId: string };
        expect(body.runId).toBe(ids[i]);
      }
      const shared = objects.find((o) => o.key === 'inputs/shared-name.txt')!;
      expect(await (await fetch(shared.url)).text()).toBe(`shared ${i}`);
      expect(objects.some((o) => ids.some((other, j) => j !== i && o.key.includes(other)))).toBe(false);
    }
    // The waits above have deadlines of their own (4 and 5 minutes); the test may take what they allow.
  }, 600_000);
});
