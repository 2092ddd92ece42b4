import { describe, expect, it, vi } from 'vitest';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { apiHandler } from '../../../lambdas/edge/http/api';
import { workflowRoutes, type WorkflowRoutesDeps } from '../../../lambdas/workflows-api/routes';
import { stateMachineName, unwrapBody } from '../../../lambdas/workflows-api/registration';
import { DefinitionRejectedError } from '../../../lambdas/workflows-api/state-machines';
import type { NewVersion, WorkflowStore, WorkflowVersion } from '../../../lambdas/aws/workflow-store';
import { BAD_DEFINITIONS, oversizedDefinition } from './bad-definitions';

/** The response bodies as these tests read them: each route answers with some of these fields. */
interface ResponseBody {
  stateMachineArn: string;
  stateMachineVersionArn: string;
  version: number;
  versions: { version: number }[];
  asl?: { StartAt: string; States: Record<string, unknown> };
  warnings: unknown[];
  errors: unknown[];
  report: { criticalPathDag: number };
  workflows: { id: string }[];
  error: { code: string; details: { problems: { path: string; code: string }[] } };
}

/** An in-memory WorkflowStore with the same tenancy and numbering rules. */
function memoryStore() {
  const versions = new Map<string, WorkflowVersion[]>();
  const key = (tenant: string, id: string) => `${tenant}/${id}`;
  return {
    async addVersion(input: NewVersion): Promise<WorkflowVersion> {
      const list = versions.get(key(input.tenant, input.workflowId)) ?? [];
      const stored: WorkflowVersion = { ...input, version: list.length + 1, asl: JSON.parse(input.aslJson) as WorkflowVersion['asl'], createdAt: 'now' };
      list.push(stored);
      versions.set(key(input.tenant, input.workflowId), list);
      return stored;
    },
    async latestVersion(tenant: string, id: string) {
      return (versions.get(key(tenant, id)) ?? []).length;
    },
    async getVersion(tenant: string, id: string, version?: number) {
      const list = versions.get(key(tenant, id)) ?? [];
      return version === undefined ? list.at(-1) : list[version - 1];
    },
    async listVersions(tenant: string, id: string) {
      return (versions.get(key(tenant, id)) ?? []).map((v) => ({ version: v.version, stateMachineVersionArn: v.stateMachineVersionArn, createdAt: v.createdAt, steps: 1 }));
    },
    async list(tenant: string) {
      const workflows = [...versions.entries()].filter(([k]) => k.startsWith(`${tenant}/`)).map(([, list]) => ({ id: list.at(-1)!.workflowId, latestVersion: list.length }));
      return { workflows };
    },
  } as unknown as WorkflowStore;
}

function setup(overrides: Partial<WorkflowRoutesDeps> = {}) {
  let published = 0;
  const deploy = vi.fn(async ({ name }: { name: string; definition: string; description: string }) => ({ stateMachineArn: `arn:sm:${name}`, stateMachineVersionArn: `arn:sm:${name}:${++published}` }));
  const deps: WorkflowRoutesDeps = {
    store: memoryStore(),
    stateMachines: { deploy },
    skills: { known: async (skills) => new Set(skills.filter((s) => s === 'diagnostics.delay')) },
    functions: { gate: 'arn:gate', reporter: 'arn:reporter' },
    workspaceBucket: 'bucket',
    ...overrides,
  };
  const handler = apiHandler(workflowRoutes(deps), { error: () => undefined });
  const call = async (method: string, resource: string, options: { body?: unknown; tenant?: string; query?: Record<string, string>; id?: string; headers?: Record<string, string> } = {}) => {
    const event = {
      httpMethod: method,
      resource,
      headers: { 'content-type': 'application/json', ...options.headers },
      body: options.body === undefined ? null : JSON.stringify(options.body),
      queryStringParameters: options.query ?? null,
      pathParameters: options.id ? { id: options.id } : null,
      requestContext: { requestId: 'req', authorizer: { tenant: options.tenant ?? 'acme', admin: 'false', tokenId: 't' } },
    } as unknown as APIGatewayProxyEvent;
    const res = await handler(event);
    return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as ResponseBody) : undefined };
  };
  return { call, deploy, deps };
}

const simple = (id = 'wf', skill = 'diagnostics.delay') => ({ id, steps: [{ id: 'a', capability: { skill } }] });

describe('Module: workflows-api routes', () => {
  describe('Route: POST /workflows', () => {
    it('should register version 1 with a state machine named after tenant and workflow', async () => {
      const { call, deploy } = setup();
      const res = await call('POST', '/workflows', { body: simple() });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ id: 'wf', version: 1, warnings: [] });
      expect(res.body!.stateMachineArn).toContain(stateMachineName('acme', 'wf'));
      expect(deploy.mock.calls[0][0].definition).toContain('arn:gate');
      expect((deploy.mock.calls[0][0] as { tags?: Record<string, string> }).tags).toEqual({ 'agentplane:tenant': 'acme', 'agentplane:workflow': 'wf', 'agentplane:deployment': 'default' });
    });

    it('should name and tag the machine after a named deployment', async () => {
      const { call, deploy } = setup({ deployment: { stateMachinePrefix: 'agentplane_staging-', name: 'staging' } });
      const res = await call('POST', '/workflows', { body: simple() });
      expect(res.body!.stateMachineArn).toContain(stateMachineName('acme', 'wf', 'agentplane_staging-'));
      expect(res.body!.stateMachineArn).toMatch(/:agentplane_staging-acme-wf-[0-9a-f]{8}$/);
      expect((deploy.mock.calls[0][0] as { tags?: Record<string, string> }).tags).toMatchObject({ 'agentplane:deployment': 'staging' });
    });

    it('should number versions per workflow and keep each version ARN', async () => {
      const { call } = setup();
      const v1 = await call('POST', '/workflows', { body: simple() });
      const v2 = await call('POST', '/workflows', { body: { ...simple(), description: 'second' } });
      expect(v2.body!.version).toBe(2);
      const got1 = await call('GET', '/workflows/{id}', { id: 'wf', query: { version: '1' } });
      expect(got1.body!.stateMachineVersionArn).toBe(v1.body!.stateMachineVersionArn);
      expect(got1.body!.versions.map((v) => v.version)).toEqual([1, 2]);
      const latest = await call('GET', '/workflows/{id}', { id: 'wf' });
      expect(latest.body).toMatchObject({ version: 2, latestVersion: 2, definition: { description: 'second' } });
      expect(latest.body!.asl!.StartAt).toBeDefined();
    });

    it('should warn about a capability nobody serves, and refuse it with strict (query or body flag)', async () => {
      const { call } = setup();
      const warned = await call('POST', '/workflows', { body: simple('wf', 'unserved') });
      expect(warned.status).toBe(201);
      expect(warned.body!.warnings).toEqual([expect.objectContaining({ path: '$.steps[0].capability.skill', code: 'capability.unserved' }) as unknown]);
      const strictQuery = await call('POST', '/workflows', { body: simple('wf', 'unserved'), query: { strict: 'true' } });
      expect(strictQuery.status).toBe(400);
      expect(strictQuery.body!.error.details.problems).toEqual([expect.objectContaining({ path: '$.steps[0].capability.skill' }) as unknown]);
      const strictBody = await call('POST', '/workflows', { body: { definition: simple('wf', 'unserved'), strict: true } });
      expect(strictBody.status).toBe(400);
    });

    it.each(BAD_DEFINITIONS)('should answer 400 naming every problem of: $name', async ({ body, expect: wanted }) => {
      const { call, deploy } = setup();
      const res = await call('POST', '/workflows', { body });
      expect(res.status).toBe(400);
      expect(res.body!.error.code).toBe('validation_error');
      const got = res.body!.error.details.problems.map((p) => `${p.path} ${p.code}`);
      for (const [path, code] of wanted) expect(got).toContain(`${path} ${code}`);
      expect(deploy).not.toHaveBeenCalled();
    });

    it('should refuse a machine above the Step Functions definition size and history limits, saying why', async () => {
      const { call, deploy } = setup();
      const res = await call('POST', '/workflows', { body: oversizedDefinition() });
      expect(res.status).toBe(400);
      const codes = res.body!.error.details.problems.map((p) => p.code);
      expect(codes).toEqual(expect.arrayContaining(['definition.size', 'history.limit']));
      expect(deploy).not.toHaveBeenCalled();
    });

    it('should answer 400 when Step Functions refuses the definition', async () => {
      const { call } = setup({ stateMachines: { deploy: async () => Promise.reject(new DefinitionRejectedError('bad state')) } });
      const res = await call('POST', '/workflows', { body: simple() });
      expect(res.status).toBe(400);
      expect(res.body!.error.details.problems[0]).toMatchObject({ path: '$', code: 'definition.rejected' });
    });

    it('should hand a request with an Idempotency-Key to the idempotency runner, keyed by tenant and key', async () => {
      const idempotent = vi.fn(async (_key, _payload, run: () => Promise<unknown>) => run());
      const { call } = setup({ idempotent: idempotent as never });
      const res = await call('POST', '/workflows', { body: simple(), headers: { 'Idempotency-Key': 'k-1' } });
      expect(res.status).toBe(201);
      expect(idempotent.mock.calls[0][0]).toEqual({ tenant: 'acme', idempotencyKey: 'k-1' });
      expect(idempotent.mock.calls[0][1]).toEqual({ body: simple(), strict: false });
      const bad = await call('POST', '/workflows', { body: simple(), headers: { 'Idempotency-Key': 'has space' } });
      expect(bad.status).toBe(400);
    });
  });

  describe('Route: GET /workflows and GET /workflows/{id}', () => {
    it("should list only the caller's workflows and answer 404 for another tenant's", async () => {
      const { call } = setup();
      await call('POST', '/workflows', { body: simple('mine') });
      expect((await call('GET', '/workflows')).body!.workflows.map((w) => w.id)).toEqual(['mine']);
      expect((await call('GET', '/workflows', { tenant: 'other' })).body!.workflows).toEqual([]);
      expect((await call('GET', '/workflows/{id}', { id: 'mine', tenant: 'other' })).status).toBe(404);
      expect((await call('GET', '/workflows/{id}', { id: 'mine', query: { version: '7' } })).status).toBe(404);
      expect((await call('GET', '/workflows/{id}', { id: 'mine', query: { version: 'x' } })).status).toBe(400);
      expect((await call('GET', '/workflows/{id}', { id: 'bad id!' })).status).toBe(404);
    });
  });

  describe('Route: POST /workflows/validate', () => {
    it('should validate and compile without registering', async () => {
      const { call, deploy } = setup();
      const good = await call('POST', '/workflows/validate', { body: simple() });
      expect(good.status).toBe(200);
      expect(good.body).toMatchObject({ valid: true, errors: [], warnings: [] });
      expect(good.body!.report.criticalPathDag).toBe(1);
      expect(good.body!.asl!.States['a.gate']).toBeDefined();
      const bad = await call('POST', '/workflows/validate', { body: BAD_DEFINITIONS[5].body });
      expect(bad.body).toMatchObject({ valid: false });
      expect(bad.body!.errors.length).toBeGreaterThan(0);
      expect(bad.body!.asl).toBeUndefined();
      expect(deploy).not.toHaveBeenCalled();
    });
  });
});

describe('Module: registration', () => {
  describe('Function: stateMachineName', () => {
    it('should stay within 80 characters, keep the prefix and tell apart pairs that concatenate alike', () => {
      const long = stateMachineName('t'.repeat(63), 'w'.repeat(64));
      expect(long.length).toBeLessThanOrEqual(80);
      expect(long).toMatch(/^agentplane-[A-Za-z0-9_-]+$/);
      expect(stateMachineName('a-b', 'c')).not.toBe(stateMachineName('a', 'b-c'));
      expect(stateMachineName('acme', 'wf')).toMatch(/^agentplane-acme-wf-[0-9a-f]{8}$/);
      const named = stateMachineName('t'.repeat(63), 'w'.repeat(64), 'agentplane_staging-');
      expect(named.length).toBeLessThanOrEqual(80);
      expect(named).toMatch(/^agentplane_staging-t+-[0-9a-f]{8}$/);
    });
  });

  describe('Function: unwrapBody', () => {
    it('should accept the definition itself or an envelope with strict', () => {
      expect(unwrapBody({ id: 'x', steps: [] }, {})).toEqual({ definition: { id: 'x', steps: [] }, strict: false });
      expect(unwrapBody({ definition: { id: 'x' }, strict: true }, {})).toEqual({ definition: { id: 'x' }, strict: true });
      expect(unwrapBody({ id: 'x', steps: [] }, { strict: 'true' }).strict).toBe(true);
    });
  });
});
