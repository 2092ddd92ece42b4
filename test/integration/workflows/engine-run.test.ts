import { describe, expect, it } from 'vitest';
import { createRun, historyEventCount, putInputs, register, runEvents, runRecord, listKeys, readJson, start, waitForEnd } from './support';

const unique = (name: string) => `${name}-${Date.now().toString(36)}`;

describe('Engine: gate and reporter on the local cloud', () => {
  describe('Method: a small workflow (inline fan-out, a conditional step, a skipped step)', () => {
    it('should run every step, skip what the parameters rule out and record each step on the run', async () => {
      const id = unique('engine-small');
      const wf = await register({
        id,
        parameters: { mode: { type: 'string', enum: ['full', 'quick'], default: 'full' } },
        steps: [
          { id: 'fan', capability: { skill: 'diagnostics.delay' }, forEach: 'inputs', batchSize: 2, config: { delayMs: 0, tokensPerItem: 3 } },
          { id: 'again', dependsOn: ['fan'], forEach: 'fan', capability: { skill: 'diagnostics.delay' }, config: { label: '${params.mode}' } },
          { id: 'extra', dependsOn: ['fan'], when: { param: 'mode', equals: 'full' }, capability: { skill: 'diagnostics.delay' } },
          { id: 'quickOnly', dependsOn: ['again'], when: { param: 'mode', equals: 'quick' }, capability: { skill: 'diagnostics.delay' } },
        ],
      });
      const runId = await createRun();
      await putInputs(runId, 5);
      const arn = await start(wf.stateMachineVersionArn, runId, id, wf.version, { mode: 'full' });
      const end = await waitForEnd(arn, 90_000);
      expect(end).toEqual({ status: 'SUCCEEDED' });

      const record = await runRecord(runId);
      expect(record!.steps.fan).toMatchObject({ status: 'succeeded', agentId: 'diagnostics.delay', totalItems: 5, succeeded: 5, failed: 0, tokens: 15, mode: 'inline' });
      expect(record!.steps.again).toMatchObject({ status: 'succeeded', totalItems: 5, succeeded: 5 });
      expect(record!.steps.extra).toMatchObject({ status: 'succeeded', totalItems: 1, succeeded: 1 });
      expect(record!.steps.quickOnly).toMatchObject({ status: 'skipped', reason: 'condition' });
      expect(record!.steps.fan.startedAt! <= record!.steps.fan.endedAt!).toBe(true);

      const events = await runEvents(runId);
      // Run events have no step; every other event names its step.
      const names = events.map((e) => `${e.event}:${(e.payload as { stepId?: string }).stepId ?? ''}`);
      for (const step of ['fan', 'again', 'extra']) {
        expect(names).toContain(`AgentSelected:${step}`);
        expect(names).toContain(`StepStarted:${step}`);
        expect(names).toContain(`StepCompleted:${step}`);
        expect(names.indexOf(`StepStarted:${step}`)).toBeLessThan(names.indexOf(`StepCompleted:${step}`));
      }
      expect(names).toContain('StepSkipped:quickOnly');
      const fanDone = events.filter((e) => e.event === 'StepCompleted').find((e) => e.payload.stepId === 'fan')!;
      expect(fanDone.payload.summary).toMatchObject({ totalItems: 5, successCount: 5, failureCount: 0, totalTokens: 15 });
      // The second fan-out iterated the first one's outputs.
      const outputs = await readJson(`runs/${runId}/state/fan/outputs.json`);
      expect(outputs).toHaveLength(5);
      expect((await listKeys(`runs/${runId}/outputs/again/`)).length).toBe(5);
    });

    it('should fail the step with Agentplane.NoAgent naming the capability when no agent serves it', async () => {
      const id = unique('engine-noagent');
      const wf = await register({ id, steps: [{ id: 'lonely', capability: { skill: 'no-such-skill-anywhere' } }] });
      const runId = await createRun();
      const arn = await start(wf.stateMachineVersionArn, runId, id, wf.version);
      const end = await waitForEnd(arn, 60_000);
      expect(end.status).toBe('FAILED');
      const record = await runRecord(runId);
      expect(record!.steps.lonely.status).toBe('failed');
      expect(record!.steps.lonely.error!.type).toBe('Agentplane.NoAgent');
      expect(record!.steps.lonely.error!.message).toContain('no-such-skill-anywhere');
    });

    it('should fail a fan-out step whose failed items exceed its tolerance', async () => {
      const id = unique('engine-tolerance');
      const wf = await register({
        id,
        steps: [{ id: 'fan', capability: { skill: 'diagnostics.delay' }, forEach: 'inputs', toleratedFailurePercentage: 10, retry: { maxAttempts: 0 }, config: { failPattern: 'item-0000[0-1]' } }],
      });
      const runId = await createRun();
      await putInputs(runId, 4);
      const end = await waitForEnd(await start(wf.stateMachineVersionArn, runId, id, wf.version), 60_000);
      expect(end.status).toBe('FAILED');
      const record = await runRecord(runId);
      expect(record!.steps.fan).toMatchObject({ status: 'failed', totalItems: 4, succeeded: 2, failed: 2 });
    });
  });

  describe('Method: a 5,000-item fan-out through Distributed Map', () => {
    const ITEMS = Number(process.env.AGENTPLANE_FANOUT_ITEMS ?? 5_000);

    it(`should process ${ITEMS} items in batches, write the results to the workspace and keep every history under 25,000 events`, async () => {
      const id = unique('engine-fanout');
      const wf = await register({
        id,
        steps: [
          { id: 'fan', capability: { skill: 'diagnostics.delay' }, forEach: 'inputs', batchSize: 100, maxConcurrency: 16, config: { delayMs: 0 } },
          { id: 'summary', dependsOn: ['fan'], capability: { skill: 'diagnostics.delay' } },
        ],
      });
      const runId = await createRun();
      await putInputs(runId, ITEMS);
      const arn = await start(wf.stateMachineVersionArn, runId, id, wf.version);
      const end = await waitForEnd(arn, 900_000);
      expect(end).toEqual({ status: 'SUCCEEDED' });

      const record = await runRecord(runId);
      expect(record!.steps.fan).toMatchObject({ status: 'succeeded', mode: 'distributed', totalItems: ITEMS, succeeded: ITEMS, failed: 0 });
      expect(record!.steps.summary.status).toBe('succeeded');

      const manifest = await readJson(`runs/${runId}/state/fan/manifest.json`);
      expect(manifest).toHaveLength(ITEMS);
      const resultKeys = await listKeys(`runs/${runId}/state/fan/results/`);
      expect(resultKeys.some((k) => k.endsWith('/manifest.json'))).toBe(true);
      expect(resultKeys.some((k) => k.endsWith('/SUCCEEDED_0.json'))).toBe(true);
      expect((await listKeys(`runs/${runId}/outputs/fan/`)).length).toBe(ITEMS);
      expect(await readJson(`runs/${runId}/state/fan/outputs.json`)).toHaveLength(ITEMS);

      // Every execution: the parent and each Distributed Map child (one per batch of 100).
      const { ListMapRunsCommand, ListExecutionsCommand } = await import('@aws-sdk/client-sfn');
      const { sfnClient } = await import('./support');
      const parentEvents = await historyEventCount(arn);
      expect(parentEvents).toBeLessThan(25_000);
      const mapRuns = await sfnClient().send(new ListMapRunsCommand({ executionArn: arn }));
      expect(mapRuns.mapRuns).toHaveLength(1);
      const children: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfnClient().send(new ListExecutionsCommand({ mapRunArn: mapRuns.mapRuns![0].mapRunArn, maxResults: 1000, nextToken }));
        children.push(...page.executions!.map((e) => e.executionArn!));
        nextToken = page.nextToken;
      } while (nextToken);
      expect(children).toHaveLength(Math.ceil(ITEMS / 100));
      let largest = parentEvents;
      for (const child of children) largest = Math.max(largest, await historyEventCount(child));
      expect(largest).toBeLessThan(25_000);
    }, 960_000);
  });
});
