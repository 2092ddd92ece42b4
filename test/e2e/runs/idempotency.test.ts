import { describe, expect, it } from 'vitest';
import { http } from '../../support/target';
import { apiError, type RunListBody } from '../../support/api';
import { fanOutWorkflow, inputs, registerWorkflow, startRun, unique } from './support';

describe('Runs API: Idempotency-Key', () => {
  describe('Method: POST /runs', () => {
    it('should create one run for 50 concurrent POSTs with one key and answer each the same', async () => {
      const wf = await registerWorkflow(fanOutWorkflow(unique('runs-idem')));
      const key = unique('idem');
      const body = { workflowId: wf.id, inputs: inputs(2), start: false };
      const answers = await Promise.all(Array.from({ length: 50 }, () => startRun(body, { key })));
      expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
      expect(new Set(answers.map((a) => a.body.runId)).size).toBe(1);
      const list = await http<RunListBody>('GET', `/runs?workflowId=${wf.id}&limit=100`);
      expect(list.body.runs).toHaveLength(1);
      const again = await startRun(body, { key });
      expect(again.body.runId).toBe(answers[0].body.runId);
      const other = await startRun({ ...body, priority: 1 }, { key });
      expect(other.status).toBe(409);
      expect(apiError(other).code).toBe('conflict');
      // Another key is another request.
      expect((await startRun(body, { key: unique('fresh') })).body.runId).not.toBe(answers[0].body.runId);
    });
  });
});
