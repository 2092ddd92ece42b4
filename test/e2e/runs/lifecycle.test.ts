import { describe, expect, it } from 'vitest';
import { http, target } from '../../support/target';
import type { RunListBody } from '../../support/api';
import { events, fanOutWorkflow, inputs, registerWorkflow, startRun, unique, waitForEvent, waitForStatus, workspace } from './support';

describe('Runs API: lifecycle', () => {
  describe('Method: POST /runs', () => {
    it('should run a fan-out to completion with its inputs, summary, report and an empty temp/', async () => {
      const wf = await registerWorkflow(fanOutWorkflow(unique('runs-basic'), { tokensPerItem: 7 }));
      const res = await startRun({ workflowId: wf.id, parameters: { count: 3 }, inputs: inputs(4) });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ runId: expect.stringMatching(/^r-/) as unknown, links: { self: `/runs/${res.body.runId}` } });
      const runId = res.body.runId;
      const run = await waitForStatus(runId, ['SUCCEEDED'], 60_000);
      expect(run.steps.work).toMatchObject({ status: 'succeeded', totalItems: 4, succeeded: 4, failed: 0, tokens: 28 });
      expect(run.summary).toMatchObject({ totalItems: 4, successCount: 4, failureCount: 0, totalTokens: 28 });
      expect(run.summary.durationMs).toBeGreaterThan(0);
      expect(run.agents).toEqual({ work: 'diagnostics.delay' });
      expect(run.parameters).toEqual({ label: 'x', mode: 'fast', count: 3 });
      // The execution's Step Functions console page, where there is a console (a deployed stack, not the local cloud).
      if (target().assemblyDir) expect(run.links).not.toHaveProperty('console');
      else expect(run.links.console).toContain(encodeURIComponent(run.executionArn!));

      const names = (await events(runId)).map((e) => e.event);
      expect(names[0]).toBe('RunQueued');
      expect(names).toContain('RunStarted');
      expect(names.at(-1)).toBe('RunSucceeded');

      const objects = await workspace(runId);
      const keys = objects.map((o) => o.key).sort();
      expect(keys).toEqual(expect.arrayContaining(['config.json', 'reports/summary.json', 'inputs/item-0000.txt', 'inputs/item-0003.txt']));
      expect(keys.filter((k) => k.startsWith('temp/'))).toEqual([]);
      expect(keys.filter((k) => k.startsWith('outputs/')).length).toBe(4);
      const config = await (await fetch(objects.find((o) => o.key === 'config.json')!.url)).json();
      expect(config).toMatchObject({ workflowId: wf.id, workflowVersion: wf.version, aslSha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown, parameters: { count: 3 }, agents: { work: 'diagnostics.delay' } });
      const summary = await (await fetch(objects.find((o) => o.key === 'reports/summary.json')!.url)).json();
      expect(summary).toMatchObject({ runId, status: 'SUCCEEDED', summary: { totalItems: 4, successCount: 4 } });
      const succeeded = await waitForEvent(runId, 'RunSucceeded', 5_000);
      expect(succeeded.payload.summary).toMatchObject({ totalItems: 4, successCount: 4 });
    });
  });

  describe('Method: GET /runs', () => {
    it('should list the tenant runs newest first with filters and a cursor', async () => {
      const wf = await registerWorkflow(fanOutWorkflow(unique('runs-list')));
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await startRun({ workflowId: wf.id, inputs: inputs(1), start: false })).body.runId);
      const first = await http<RunListBody>('GET', `/runs?workflowId=${wf.id}&limit=2`);
      expect(first.status).toBe(200);
      expect(first.body.runs.map((r: { runId: string }) => r.runId)).toEqual([ids[2], ids[1]]);
      expect(first.body.cursor).toEqual(expect.any(String));
      const second = await http<RunListBody>('GET', `/runs?workflowId=${wf.id}&limit=2&cursor=${encodeURIComponent(first.body.cursor!)}`);
      expect(second.body.runs.map((r: { runId: string }) => r.runId)).toEqual([ids[0]]);
      const queued = await http<RunListBody>('GET', `/runs?workflowId=${wf.id}&status=QUEUED&limit=10`);
      expect(queued.body.runs).toHaveLength(3);
      const none = await http<RunListBody>('GET', `/runs?workflowId=${wf.id}&status=SUCCEEDED`);
      expect(none.body.runs).toHaveLength(0);
    });
  });
});
