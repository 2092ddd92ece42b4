import { beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { http } from '../../support/target';
import { apiError, apiProblems, type TokenBody, type WorkflowBody, type WorkflowCreatedBody, type WorkflowListBody, type WorkflowValidationBody } from '../../support/api';
import { BAD_DEFINITIONS, oversizedDefinition } from '../../unit/workflows-api/bad-definitions';

const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
const definition = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  description: 'e2e workflow',
  parameters: { lang: { type: 'string', enum: ['java', 'kotlin'], default: 'java' } },
  steps: [
    { id: 'analyze', capability: { skill: 'diagnostics.delay' }, forEach: 'inputs', batchSize: 5 },
    { id: 'generate', dependsOn: ['analyze'], forEach: 'analyze', when: { param: 'lang', equals: 'java' }, capability: { skill: 'diagnostics.delay' } },
    { id: 'report', dependsOn: ['generate'], capability: { skill: 'diagnostics.delay' }, config: { title: 'Report in ${params.lang}' } },
  ],
  ...extra,
});

let otherToken: string;

beforeAll(async () => {
  const res = await http<TokenBody>('POST', '/tokens', { body: { tenant: unique('wf-other').toLowerCase(), name: 'workflows-e2e' } });
  expect(res.status).toBe(201);
  otherToken = res.body.token;
});

describe('API: workflows', () => {
  describe('Route: POST /workflows, GET /workflows/{id}', () => {
    it('should register, read back, and version an update while version 1 stays as it was', async () => {
      const id = unique('e2e-reg');
      const v1 = await http<WorkflowCreatedBody>('POST', '/workflows', { body: definition(id) });
      expect(v1.status).toBe(201);
      expect(v1.body).toMatchObject({ id, version: 1, warnings: [] });
      expect(v1.body.stateMachineArn).toMatch(/:stateMachine:agentplane-/);

      const got = await http<WorkflowBody>('GET', `/workflows/${id}`);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id, version: 1, latestVersion: 1, stateMachineArn: v1.body.stateMachineArn, definition: definition(id) });
      expect(Object.keys(got.body.asl.States)).toContain('analyze.gate');
      expect(got.body.report.seriesParallel).toBe(true);

      const changed = definition(id, { description: 'second version' });
      const v2 = await http<WorkflowCreatedBody>('POST', '/workflows', { body: changed });
      expect(v2.status).toBe(201);
      expect(v2.body.version).toBe(2);
      expect(v2.body.stateMachineArn).toBe(v1.body.stateMachineArn);
      expect(v2.body.stateMachineVersionArn).not.toBe(v1.body.stateMachineVersionArn);

      const old = await http<WorkflowBody>('GET', `/workflows/${id}?version=1`);
      expect(old.body).toMatchObject({ version: 1, latestVersion: 2, stateMachineVersionArn: v1.body.stateMachineVersionArn, definition: definition(id) });
      expect(old.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
      const latest = await http<WorkflowBody>('GET', `/workflows/${id}`);
      expect(latest.body).toMatchObject({ version: 2, definition: { description: 'second version' } });
      expect((await http('GET', `/workflows/${id}?version=3`)).status).toBe(404);
    });

    it('should register and read back a workflow whose compiled machine is too large for one DynamoDB item', async () => {
      const id = unique('e2e-large');
      const steps = Array.from({ length: 120 }, (_, i) => ({
        id: `step${i}`,
        capability: { skill: 'diagnostics.delay' },
        config: { note: 'n'.repeat(1_000) },
        ...(i > 0 ? { dependsOn: [`step${i - 1}`] } : {}),
      }));
      const created = await http<WorkflowCreatedBody>('POST', '/workflows', { body: { id, steps } });
      expect(created.status).toBe(201);
      const got = await http<WorkflowBody>('GET', `/workflows/${id}`);
      expect(got.status).toBe(200);
      expect(got.body.report.definitionBytes).toBeGreaterThan(400_000);
      expect(JSON.stringify(got.body.asl).length).toBe(got.body.report.definitionBytes);
      expect(got.body.definition.steps).toHaveLength(120);
    });

    it('should give concurrent registrations of one id distinct, gap-free versions', async () => {
      const id = unique('e2e-race');
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => http<WorkflowCreatedBody>('POST', '/workflows', { body: definition(id, { description: `racer ${i}` }) })));
      expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      expect(results.map((r) => r.body.version).sort()).toEqual([1, 2, 3, 4, 5]);
      // Each version pins the machine version holding its own definition.
      for (const r of results) {
        const got = await http<WorkflowBody>('GET', `/workflows/${id}?version=${r.body.version}`);
        expect(got.body.stateMachineVersionArn).toBe(r.body.stateMachineVersionArn);
      }
    });

    it('should warn about a capability no agent serves, and refuse it when strict', async () => {
      const id = unique('e2e-strict');
      const body = { id, steps: [{ id: 'a', capability: { skill: 'nobody-serves-this' } }] };
      const warned = await http<WorkflowCreatedBody>('POST', '/workflows', { body });
      expect(warned.status).toBe(201);
      expect(warned.body.warnings).toEqual([expect.objectContaining({ path: '$.steps[0].capability.skill', code: 'capability.unserved' })]);
      const refused = await http<WorkflowCreatedBody>('POST', '/workflows?strict=true', { body });
      expect(refused.status).toBe(400);
      expect(apiProblems(refused)).toEqual([expect.objectContaining({ path: '$.steps[0].capability.skill', code: 'capability.unserved' })]);
    });
  });

  describe('Route: POST /workflows with bad definitions', () => {
    it(`should answer each of ${BAD_DEFINITIONS.length} kinds of bad definition with a 400 naming every problem by path (never a 500)`, async () => {
      expect(BAD_DEFINITIONS.length).toBeGreaterThanOrEqual(20);
      for (const bad of BAD_DEFINITIONS) {
        const res = await http('POST', '/workflows', { body: bad.body });
        expect(res.status, bad.name).toBe(400);
        expect(apiError(res).code, bad.name).toBe('validation_error');
        const got = apiProblems(res).map((p) => `${p.path} ${String(p.code)}`);
        for (const [path, code] of bad.expect) expect(got, bad.name).toContain(`${path} ${code}`);
      }
    });

    it('should refuse a workflow whose machine exceeds the Step Functions size and history limits, saying why', async () => {
      const res = await http('POST', '/workflows', { body: oversizedDefinition() });
      expect(res.status).toBe(400);
      const codes = apiProblems(res).map((p) => p.code);
      expect(codes).toEqual(expect.arrayContaining(['definition.size', 'history.limit']));
      expect(apiProblems(res)[0].message).toMatch(/1048576|25000/);
    });

    it('should answer malformed JSON and a missing body with 400', async () => {
      expect((await http('POST', '/workflows', { rawBody: '{"id": ', headers: { 'content-type': 'application/json' } })).status).toBe(400);
      expect((await http('POST', '/workflows')).status).toBe(400);
    });
  });

  describe('Route: POST /workflows/validate', () => {
    it('should validate and compile without registering', async () => {
      const id = unique('e2e-validate');
      const good = await http<WorkflowValidationBody>('POST', '/workflows/validate', { body: definition(id) });
      expect(good.status).toBe(200);
      expect(good.body).toMatchObject({ valid: true, errors: [], warnings: [] });
      expect(good.body.report!.mapModes).toEqual({ analyze: 'adaptive', generate: 'adaptive' });
      expect(good.body.asl!.StartAt).toBe('plan(init)');
      expect((await http('GET', `/workflows/${id}`)).status).toBe(404);

      const bad = await http<WorkflowValidationBody>('POST', '/workflows/validate', { body: BAD_DEFINITIONS.find((b) => b.name === 'cycle')!.body });
      expect(bad.status).toBe(200);
      expect(bad.body.valid).toBe(false);
      expect(bad.body.errors[0]).toMatchObject({ path: '$.steps[0].dependsOn[0]', code: 'graph.cycle' });
      expect(bad.body.asl).toBeUndefined();
    });
  });

  describe('Route: GET /workflows', () => {
    it("should list the tenant's workflows with cursor pagination, and nothing of another tenant's", async () => {
      const ids = [unique('e2e-list-a'), unique('e2e-list-b')];
      for (const id of ids) expect((await http('POST', '/workflows', { body: definition(id) })).status).toBe(201);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await http<WorkflowListBody>('GET', `/workflows?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.status).toBe(200);
        expect(page.body.workflows.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.workflows.map((w: { id: string }) => w.id));
        cursor = page.body.cursor;
        pages++;
      } while (cursor && pages < 500);
      expect(seen).toEqual(expect.arrayContaining(ids));
      expect(new Set(seen).size).toBe(seen.length);

      const theirs = await http<WorkflowListBody>('GET', '/workflows', { token: otherToken });
      expect(theirs.status).toBe(200);
      expect(theirs.body.workflows.map((w: { id: string }) => w.id)).not.toEqual(expect.arrayContaining([ids[0]]));
      expect((await http('GET', '/workflows?cursor=not-a-cursor')).status).toBe(400);
    });

    it("should answer 404 for another tenant's workflow, and let that tenant register its own under the same id", async () => {
      const id = unique('e2e-tenancy');
      const mine = await http<WorkflowCreatedBody>('POST', '/workflows', { body: definition(id) });
      expect(mine.status).toBe(201);
      const peek = await http<WorkflowBody>('GET', `/workflows/${id}`, { token: otherToken });
      expect(peek.status).toBe(404);
      expect(apiError(peek).code).toBe('not_found');
      const theirs = await http<WorkflowCreatedBody>('POST', '/workflows', { body: definition(id), token: otherToken });
      expect(theirs.status).toBe(201);
      expect(theirs.body.version).toBe(1);
      expect(theirs.body.stateMachineArn).not.toBe(mine.body.stateMachineArn);
    });
  });

  describe('Header: Idempotency-Key on POST /workflows', () => {
    it('should answer a retry with the first answer, and 409 for the same key with another body', async () => {
      const id = unique('e2e-idem');
      const key = `key-${randomUUID()}`;
      const first = await http<WorkflowCreatedBody>('POST', '/workflows', { body: definition(id), headers: { 'idempotency-key': key } });
      expect(first.status).toBe(201);
      const retry = await http<WorkflowCreatedBody>('POST', '/workflows', { body: definition(id), headers: { 'idempotency-key': key } });
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(first.body);
      expect((await http<WorkflowBody>('GET', `/workflows/${id}`)).body.latestVersion).toBe(1);
      const other = await http<WorkflowCreatedBody>('POST', '/workflows', { body: definition(id, { description: 'different' }), headers: { 'idempotency-key': key } });
      expect(other.status).toBe(409);
      expect(apiError(other).code).toBe('conflict');
      // Another tenant's identical key is its own.
      const theirs = await http<WorkflowCreatedBody>('POST', '/workflows', { body: definition(id), headers: { 'idempotency-key': key }, token: otherToken });
      expect(theirs.status).toBe(201);
    });
  });
});
