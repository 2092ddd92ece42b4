import { describe, expect, it } from 'vitest';
import { http } from '../../support/target';
import { apiError, apiProblems, type RunListBody, type UploadsBody } from '../../support/api';
import { command, fanOutWorkflow, getRun, inputs, newTenantToken, registerWorkflow, startRun, unique, waitForStatus, workspace } from './support';

describe('Runs API: errors and tenancy', () => {
  describe('Method: POST /runs', () => {
    it('should refuse path traversal, absolute paths and control characters with 400 naming each path', async () => {
      const wf = await registerWorkflow(fanOutWorkflow(unique('runs-keys')));
      const res = await startRun({
        workflowId: wf.id,
        inputs: [
          { key: '../other-run/inputs/x', content: 'a' },
          { key: '/etc/passwd', content: 'b' },
          { key: 'ok/../../x', content: 'c' },
          { key: 'bad\u0001name', content: 'd' },
          { key: 'fine.txt', content: 'e' },
          { key: './fine.txt', content: 'dup' },
          { key: 'back\\slash', content: 'f' },
        ],
      });
      expect(res.status).toBe(400);
      expect(apiError(res).code).toBe('validation_error');
      const paths = apiProblems(res).map((p: { path: string }) => p.path);
      expect(paths).toEqual(['$.inputs[0].key', '$.inputs[1].key', '$.inputs[2].key', '$.inputs[3].key', '$.inputs[5].key', '$.inputs[6].key']);
      // Nothing was created.
      const list = await http<RunListBody>('GET', `/runs?workflowId=${wf.id}`);
      expect(list.body.runs).toEqual([]);
    });

    it('should refuse an s3Uri into another tenant run or outside runs/ of the workspace bucket', async () => {
      const wf = await registerWorkflow(fanOutWorkflow(unique('runs-s3uri')));
      const res = await startRun({ workflowId: wf.id, inputs: [{ key: 'a', s3Uri: 's3://no-such-bucket-xyz/k' }, { key: 'b', content: 'x', s3Uri: 's3://b/k' }, { key: 'c', s3Uri: 'http://x' }] });
      expect(res.status).toBe(400);
      const paths = apiProblems(res).map((p: { path: string }) => p.path);
      expect(paths).toEqual(expect.arrayContaining(['$.inputs[1]', '$.inputs[2].s3Uri']));
    });

    it('should answer 413 for oversized bodies and oversized inline inputs', async () => {
      const wf = await registerWorkflow(fanOutWorkflow(unique('runs-big')));
      const huge = await http('POST', '/runs', { rawBody: JSON.stringify({ workflowId: wf.id, inputs: [{ key: 'a', content: 'x'.repeat(1_100_000) }] }), headers: { 'content-type': 'application/json' } });
      expect(huge.status).toBe(413);
      const inline = await startRun({ workflowId: wf.id, inputs: [{ key: 'a', content: 'x'.repeat(500_000) }, { key: 'b', content: 'y'.repeat(400_000) }] });
      expect(inline.status).toBe(413);
      expect(apiError(inline).code).toBe('payload_too_large');
    });

    it('should answer 404 for an unknown workflow or version and 400 for bad parameters with their paths', async () => {
      const unknown = await startRun({ workflowId: unique('no-such-workflow') });
      expect(unknown.status).toBe(404);
      expect(apiError(unknown).code).toBe('not_found');
      const wf = await registerWorkflow(fanOutWorkflow(unique('runs-params')));
      expect((await startRun({ workflowId: wf.id, version: 99 })).status).toBe(404);
      const bad = await startRun({ workflowId: wf.id, parameters: { mode: 'medium', count: 1.5, label: 3, nope: true } });
      expect(bad.status).toBe(400);
      const problems = apiProblems(bad);
      expect(problems.map((p: { path: string }) => p.path).sort()).toEqual(['$.parameters.count', '$.parameters.label', '$.parameters.mode', '$.parameters.nope']);
      expect(problems.find((p: { path: string }) => p.path === '$.parameters.mode')!.code).toBe('parameters.enum');
      const shape = await startRun({ workflowId: wf.id, priority: 12, extra: 1 });
      expect(shape.status).toBe(400);
      expect(apiProblems(shape).map((p: { path: string }) => p.path)).toEqual(expect.arrayContaining(['$.priority']));
    });
  });

  describe('Method: tenancy', () => {
    it('should hide another tenant run (404) from every route and keep it out of listings', async () => {
      const wf = await registerWorkflow(fanOutWorkflow(unique('runs-tenant')));
      const mine = await startRun({ workflowId: wf.id, inputs: inputs(1), start: false });
      const other = await newTenantToken(unique('other').toLowerCase().slice(0, 30));
      const runId = mine.body.runId;
      expect((await getRun(runId, other)).status).toBe(404);
      expect((await command(runId, { type: 'cancel' }, { token: other })).status).toBe(404);
      expect((await http('POST', `/runs/${runId}/uploads`, { token: other, body: { files: [{ key: 'a' }] } })).status).toBe(404);
      expect((await http('GET', `/runs/${runId}/workspace`, { token: other })).status).toBe(404);
      expect((await http('GET', `/runs/${runId}/events`, { token: other })).status).toBe(404);
      expect((await http<RunListBody>('GET', '/runs', { token: other })).body.runs).toEqual([]);
      // Their workflow is not ours to start either.
      expect((await startRun({ workflowId: wf.id }, { token: other })).status).toBe(404);
      // Nor may they copy our run's inputs.
      const bucketKey = `runs/${runId}/inputs/item-0000.txt`;
      const theirWf = await registerWorkflow(fanOutWorkflow(unique('runs-tenant2')), other);
      const copy = await startRun({ workflowId: theirWf.id, inputs: [{ key: 'stolen', s3Uri: `s3://${await bucketOf(runId)}/${bucketKey}` }] }, { token: other });
      expect(copy.status).toBe(400);
      expect(apiProblems(copy)[0]).toMatchObject({ path: '$.inputs[0].s3Uri', code: 's3Uri.forbidden' });
    });
  });

  describe('Method: uploads and start', () => {
    it('should hand out presigned PUT URLs for a run created with start: false, then run it on start', async () => {
      const wf = await registerWorkflow(fanOutWorkflow(unique('runs-upload')));
      const created = await startRun({ workflowId: wf.id, start: false });
      expect(created.status).toBe(202);
      expect(created.body.status).toBe('QUEUED');
      const runId = created.body.runId;
      const traversal = await http('POST', `/runs/${runId}/uploads`, { body: { files: [{ key: '../../x' }] } });
      expect(traversal.status).toBe(400);
      expect(apiProblems(traversal)[0].path).toBe('$.files[0].key');
      const res = await http<UploadsBody>('POST', `/runs/${runId}/uploads`, { body: { files: [{ key: 'big/a.txt' }, { key: 'b.txt', contentType: 'text/plain' }] } });
      expect(res.status).toBe(200);
      expect(res.body.uploads.map((u: { key: string }) => u.key)).toEqual(['inputs/big/a.txt', 'inputs/b.txt']);
      for (const u of res.body.uploads) {
        const put = await fetch(u.url, { method: 'PUT', body: `data of ${u.key}`, headers: u.headers });
        expect(put.status).toBe(200);
      }
      const started = await command(runId, { type: 'start' });
      expect(started.status).toBe(202);
      const run = await waitForStatus(runId, ['SUCCEEDED'], 60_000);
      expect(run.steps.work).toMatchObject({ totalItems: 2, succeeded: 2 });
      expect((await command(runId, { type: 'start' })).status).toBe(409);
      expect((await http('POST', `/runs/${runId}/uploads`, { body: { files: [{ key: 'late' }] } })).status).toBe(409);
      const objects = await workspace(runId, 'inputs');
      expect(objects.map((o) => o.key).sort()).toEqual(['inputs/b.txt', 'inputs/big/a.txt']);
      expect(await (await fetch(objects.find((o) => o.key === 'inputs/b.txt')!.url)).text()).toBe('data of inputs/b.txt');
    });
  });
});

async function bucketOf(runId: string): Promise<string> {
  const objects = await workspace(runId, 'all');
  return new URL(objects[0].url).pathname.split('/')[1];
}
