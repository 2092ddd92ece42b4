import { describe, expect, it } from 'vitest';
import { apiHandler } from '../../../lambdas/edge/http/api';
import { runsRoutes, type RunsRoutesDeps } from '../../../lambdas/runs-api/routes';
import type { RunRecord } from '../../../lambdas/core/runs/model';
import { ledgerAdds, parseLedger } from '../../../lambdas/core/runs/spend';
import { fakeDeps, MemoryStore } from './fakes';

const silent = { error: () => {} };

/** The response bodies as these tests read them: each route answers with some of these fields. */
interface ResponseBody {
  runId: string;
  runs: { summary: unknown }[];
  steps: Record<string, unknown>;
  summary: unknown;
  uploads: unknown;
  objects: unknown;
  error: { details: { problems: { path: string }[] } };
}

function setup(extra: Partial<RunsRoutesDeps> = {}) {
  const store = new MemoryStore();
  const { deps, rec } = fakeDeps(store);
  const objects = new Map<string, string>();
  const started: Array<{ stateMachineArn: string; name: string; input: string }> = [];
  const created: RunRecord[] = [];
  const routesDeps: RunsRoutesDeps = {
    ...deps,
    runs: {
      async create(run: RunRecord) {
        created.push(run);
        store.seed(run);
        return true;
      },
      get: (id: string) => store.get(id),
      async listForTenant(tenant: string) {
        return { runs: [...store.runs.values()].filter((r) => r.tenant === tenant).reverse() };
      },
    },
    workflows: {
      async getVersion(tenant, id, version) {
        if (tenant !== 'acme' || id !== 'wf' || (version !== undefined && version !== 2)) return undefined;
        return {
          tenant,
          workflowId: 'wf',
          version: 2,
          definition: { id: 'wf', parameters: { lang: { type: 'string', enum: ['java', 'kotlin'], default: 'java' } }, steps: [{ id: 's', capability: { skill: 'x' } }] },
          asl: { StartAt: 's' },
          stateMachineArn: 'arn:sm',
          stateMachineVersionArn: 'arn:sm:2',
          report: {} as never,
          warnings: [],
          createdAt: 'x',
        };
      },
    },
    workspace: {
      async createLayout(runId, config) {
        objects.set(`runs/${runId}/config.json`, JSON.stringify(config));
      },
      async put(key, body) {
        objects.set(key, body);
      },
      async copyIn(source, key) {
        objects.set(key, `copy of ${source.bucket}/${source.key}`);
      },
      async list(prefix) {
        return [...objects.keys()].filter((k) => k.startsWith(prefix)).map((key) => ({ key, size: objects.get(key)!.length }));
      },
      presignPut: async (key) => `https://put/${key}`,
      presignGet: async (key) => `https://get/${key}`,
    },
    bucket: 'ws-bucket',
    async startExecution(input) {
      started.push(input);
      return { executionArn: `arn:exec:${input.name}`, startDate: new Date(store.now).toISOString() };
    },
    retentionDays: 30,
    random: () => 'abcdef0123456789',
    ...extra,
  };
  const handler = apiHandler(runsRoutes(routesDeps), silent);
  const call = async (method: string, resource: string, options: { id?: string; body?: unknown; tenant?: string; query?: Record<string, string> } = {}) => {
    const res = await handler({
      httpMethod: method,
      resource,
      path: resource,
      headers: { 'content-type': 'application/json' },
      pathParameters: options.id ? { id: options.id } : null,
      queryStringParameters: options.query ?? null,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      isBase64Encoded: false,
      requestContext: { requestId: 'req', authorizer: { tenant: options.tenant ?? 'acme', admin: 'false', tokenId: 't' } },
    } as never);
    return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as ResponseBody) : undefined };
  };
  return { call, store, rec, objects, started, created };
}

describe('Function: runsRoutes', () => {
  describe('Method: POST /runs', () => {
    it('should create the run, its workspace and inputs, then start the execution named after it', async () => {
      const { call, objects, started, rec, store } = setup();
      const res = await call('POST', '/runs', { body: { workflowId: 'wf', inputs: [{ key: './a/b.cbl', content: 'X' }, { key: 'c', s3Uri: 's3://elsewhere/k' }], priority: 3 } });
      expect(res.status).toBe(202);
      const runId = res.body!.runId;
      expect(res.body).toMatchObject({ status: 'RUNNING', workflowVersion: 2, links: { self: `/runs/${runId}` } });
      expect(objects.get(`runs/${runId}/inputs/a/b.cbl`)).toBe('X');
      expect(objects.get(`runs/${runId}/inputs/c`)).toBe('copy of elsewhere/k');
      expect(JSON.parse(objects.get(`runs/${runId}/config.json`)!)).toMatchObject({ workflowId: 'wf', workflowVersion: 2, parameters: { lang: 'java' }, aslSha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown });
      expect(started).toEqual([{ stateMachineArn: 'arn:sm:2', name: runId, input: expect.any(String) as unknown }]);
      expect(JSON.parse(started[0].input)).toEqual({ runId, tenant: 'acme', workflowId: 'wf', workflowVersion: 2, parameters: { lang: 'java' }, workspace: { bucket: 'ws-bucket', prefix: `runs/${runId}/` } });
      expect(rec.events.map((e) => e.event)).toEqual(['RunQueued', 'RunStarted']);
      expect((await store.get(runId))!).toMatchObject({ status: 'RUNNING', priority: 3, inputCount: 2, executionArn: `arn:exec:${runId}` });
    });

    it('should refuse bad keys, bad parameters and unknown workflows, creating nothing', async () => {
      const { call, created } = setup();
      const keys = await call('POST', '/runs', { body: { workflowId: 'wf', inputs: [{ key: '../x', content: '' }, { key: 'ok', content: '' }, { key: 'ok', content: '' }, { key: 'y' }] } });
      expect(keys.status).toBe(400);
      expect(keys.body!.error.details.problems.map((p) => p.path)).toEqual(['$.inputs[0].key', '$.inputs[2].key', '$.inputs[3]']);
      const params = await call('POST', '/runs', { body: { workflowId: 'wf', parameters: { lang: 'cobol' } } });
      expect(params.status).toBe(400);
      expect(params.body!.error.details.problems[0]).toMatchObject({ path: '$.parameters.lang', code: 'parameters.enum' });
      expect((await call('POST', '/runs', { body: { workflowId: 'nope' } })).status).toBe(404);
      expect((await call('POST', '/runs', { body: { workflowId: 'wf', version: 1 } })).status).toBe(404);
      expect((await call('POST', '/runs', { body: { workflowId: 'wf' }, tenant: 'other' })).status).toBe(404);
      expect((await call('POST', '/runs', { body: { workflowId: 'wf', inputs: [{ key: 'a', content: 'x'.repeat(800 * 1024) }] } })).status).toBe(413);
      const foreign = await call('POST', '/runs', { body: { workflowId: 'wf', inputs: [{ key: 'a', s3Uri: 's3://ws-bucket/tokens/x' }] } });
      expect(foreign.status).toBe(400);
      expect(created).toEqual([]);
    });
  });

  describe('Method: GET /runs', () => {
    it('should list a live run with the summary of its settled steps, and an ended run with its final summary', async () => {
      const { call, store } = setup();
      const runId = (await call('POST', '/runs', { body: { workflowId: 'wf' } })).body!.runId;
      const run = store.runs.get(runId)!;
      run.steps = { s: { status: 'succeeded', totalItems: 4, succeeded: 3, failed: 1, tokens: 120, costUsd: 0.5 } } as never;
      const live = await call('GET', '/runs');
      expect(live.body!.runs[0]).toMatchObject({ runId, status: 'RUNNING', summary: { totalItems: 4, successCount: 3, failureCount: 1, totalTokens: 120, totalCostUsd: 0.5 } });
      Object.assign(run, { status: 'SUCCEEDED', endedAt: new Date(store.now).toISOString(), summary: { totalItems: 9, successCount: 9, failureCount: 0, totalTokens: 1, totalCostUsd: 0, durationMs: 5 } });
      expect((await call('GET', '/runs')).body!.runs[0].summary).toEqual({ totalItems: 9, successCount: 9, failureCount: 0, totalTokens: 1, totalCostUsd: 0, durationMs: 5 });
    });
  });

  describe('Method: GET /runs/{id} (spend)', () => {
    it("should show every attempt's tokens and cost from the run's ledger, live and at the end, with the providers", async () => {
      let ledgerItem: Record<string, unknown> = {};
      const { call, store } = setup({ spend: async () => parseLedger(ledgerItem) });
      const runId = (await call('POST', '/runs', { body: { workflowId: 'wf' } })).body!.runId;
      const run = store.runs.get(runId)!;
      // A running step: its counts from the item releases (their spend, off the ledger, is 0 here), its spend from the ledger.
      run.steps = { s: { status: 'running', totalItems: 3, succeeded: 0, failed: 0, tokens: 0, costUsd: 0 } } as never;
      await store.release(runId, undefined, 1, { stepId: 's', succeeded: 0, failed: 1, tokens: 0, costUsd: 0 });
      ledgerItem = Object.fromEntries(ledgerAdds([
        { stepId: 's', provider: 'openai', model: 'gpt-x', tokens: 120, costUsd: 0.0006 },
        { stepId: 's', provider: 'openai', model: 'gpt-x', tokens: 120, costUsd: 0.0006 },
      ]));
      const live = (await call('GET', '/runs/{id}', { id: runId })).body!;
      expect(live.steps.s).toMatchObject({ status: 'running', failed: 1, tokens: 240, costUsd: 0.0012, providers: ['openai'], usage: [{ provider: 'openai', model: 'gpt-x', tokens: 240, costUsd: 0.0012 }] });
      expect(live.summary).toMatchObject({ totalTokens: 240, totalCostUsd: 0.0012, failureCount: 1, providers: ['openai'] });
      // Without a ledger (a deployment before it, or a run that spent nothing), the recorded figures.
      const plain = setup();
      const other = (await plain.call('POST', '/runs', { body: { workflowId: 'wf' } })).body!.runId;
      plain.store.runs.get(other)!.steps = { s: { status: 'succeeded', totalItems: 1, succeeded: 1, tokens: 7, costUsd: 0.07 } } as never;
      const recorded = (await plain.call('GET', '/runs/{id}', { id: other })).body!;
      expect(recorded.steps.s).toEqual({ status: 'succeeded', totalItems: 1, succeeded: 1, tokens: 7, costUsd: 0.07 });
      expect(recorded.summary).not.toHaveProperty('providers');
    });
  });

  describe('Method: commands, reads and uploads', () => {
    it('should keep other tenants out and refuse commands on finished runs', async () => {
      const { call, store } = setup();
      const runId = (await call('POST', '/runs', { body: { workflowId: 'wf', start: false } })).body!.runId;
      expect((await call('GET', '/runs/{id}', { id: runId, tenant: 'other' })).status).toBe(404);
      expect((await call('POST', '/runs/{id}/commands', { id: runId, tenant: 'other', body: { type: 'cancel' } })).status).toBe(404);
      expect((await call('GET', '/runs/{id}/workspace', { id: runId, tenant: 'other' })).status).toBe(404);
      const uploads = await call('POST', '/runs/{id}/uploads', { id: runId, body: { files: [{ key: 'big.bin' }, { key: '/abs' }] } });
      expect(uploads.status).toBe(400);
      const ok = await call('POST', '/runs/{id}/uploads', { id: runId, body: { files: [{ key: 'big.bin' }] } });
      expect(ok.body!.uploads).toEqual([{ key: 'inputs/big.bin', method: 'PUT', url: `https://put/runs/${runId}/inputs/big.bin`, headers: {}, expiresAt: expect.any(String) as unknown }]);
      expect((await call('POST', '/runs/{id}/commands', { id: runId, body: { type: 'start' } })).status).toBe(202);
      expect((await call('POST', '/runs/{id}/uploads', { id: runId, body: { files: [{ key: 'late' }] } })).status).toBe(409);
      expect((await call('POST', '/runs/{id}/commands', { id: runId, body: { type: 'setConcurrency', maxConcurrency: 0 } })).status).toBe(400);
      await store.transition(runId, 'live', 'SUCCEEDED');
      for (const type of ['pause', 'resume', 'cancel', 'start']) expect((await call('POST', '/runs/{id}/commands', { id: runId, body: { type } })).status).toBe(409);
      const view = await call('GET', '/runs/{id}', { id: runId });
      expect(view.body).toMatchObject({ runId, status: 'SUCCEEDED', workflowId: 'wf', summary: { totalItems: 0 }, agents: {} });
      expect(view.body).not.toHaveProperty('pk');
      const ws = await call('GET', '/runs/{id}/workspace', { id: runId, query: { area: 'all' } });
      expect(ws.body!.objects).toEqual([{ key: 'config.json', size: expect.any(Number) as unknown, url: `https://get/runs/${runId}/config.json` }]);
      expect((await call('GET', '/runs/{id}/workspace', { id: runId, query: { area: '../x' } })).status).toBe(400);
    });
  });
});
