import { describe, expect, it } from 'vitest';
import { http } from '../../support/target';
import { apiError, apiProblems, type AgentBody, type AgentListBody, type DiscoverBody, type TokenBody } from '../../support/api';

/**
 * The registry through the public REST API only. A custom agent is any Lambda given by ARN; on the local
 * cloud the Lambda is the built-in diagnostics function registered under another id (docs/agents.md).
 */
const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

async function builtInArn(): Promise<string> {
  const res = await http<AgentBody>('GET', '/agents/diagnostics.delay');
  expect(res.status).toBe(200);
  return res.body.agent.functionArn;
}

function registration(id: string, functionArn: string, skill: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: `Custom ${id}`,
    version: '1.0.0',
    description: 'A custom agent registered by the e2e suite',
    functionArn,
    capabilities: [{ skill, input: 'text', output: 'summary', constraints: { maxFileSizeBytes: 1000 }, priority: 70 }],
    tags: ['e2e'],
    ...extra,
  };
}

describe('Registry: custom agents over the REST API', () => {
  it('should make a custom agent with a new skill discoverable, with its score and reasons', async () => {
    const arn = await builtInArn();
    const skill = `summarize-${suffix}`;
    const created = await http<AgentBody>('POST', '/agents', { body: registration(`custom-${suffix}`, arn, skill) });
    expect(created.status).toBe(201);
    expect(created.body.agent).toMatchObject({ id: `custom-${suffix}`, revision: 1, builtIn: false, status: 'active' });

    const found = await http<DiscoverBody>('POST', '/agents/discover', { body: { requiredSkills: [skill], inputType: 'text', items: [{ key: 'inputs/a.txt', size: 10 }] } });
    expect(found.status).toBe(200);
    expect(found.body.matches).toHaveLength(1);
    expect(found.body.matches[0]).toMatchObject({ agentId: `custom-${suffix}`, matched: expect.arrayContaining([`skill:${skill}`, 'input:text']) as unknown });
    expect(found.body.matches[0].score).toBeGreaterThan(0);
    expect(found.body.matches[0].reasons.join(' | ')).toMatch(/priority 70/);

    const tooBig = await http<DiscoverBody>('POST', '/agents/discover', { body: { requiredSkills: [skill], items: [{ key: 'inputs/huge.txt', size: 5000 }] } });
    expect(tooBig.body.matches).toHaveLength(0);
    expect(tooBig.body.rejected[0].reasons.join(' ')).toMatch(/exceed maxFileSizeBytes 1000/);

    const listed = await http<AgentListBody>('GET', `/agents?skill=${skill}`);
    expect(listed.body.agents.map((a: { id: string }) => a.id)).toEqual([`custom-${suffix}`]);
  });

  it('should keep a version history: an unchanged registration is a no-op, a changed one a new revision', async () => {
    const arn = await builtInArn();
    const id = `versioned-${suffix}`;
    const body = registration(id, arn, `versioned-${suffix}`);
    expect((await http('POST', '/agents', { body })).status).toBe(201);
    const again = await http<AgentBody>('POST', '/agents', { body });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ changed: false, agent: { revision: 1 } });
    const changed = await http<AgentBody>('POST', '/agents', { body: { ...body, version: '1.1.0' } });
    expect(changed.status).toBe(201);
    expect(changed.body.agent).toMatchObject({ revision: 2, version: '1.1.0' });
    const got = await http<AgentBody>('GET', `/agents/${id}`);
    expect(got.body.agent).toMatchObject({ id, revision: 2, health: { status: 'Healthy' } });
  });

  it('should reject a bad registration with the JSON path of every problem', async () => {
    const res = await http('POST', '/agents', {
      body: { id: 'Bad Id', name: '', version: '1', description: 'x', functionArn: 'not-an-arn', capabilities: [{ skill: 'ok', constraints: { maxFileSizeBytes: -1, bogus: 1 } }], extra: true },
    });
    expect(res.status).toBe(400);
    expect(apiError(res).code).toBe('validation_error');
    const paths = apiProblems(res).map((p: { path: string }) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['$.id', '$.name', '$.functionArn', '$.capabilities[0].constraints.maxFileSizeBytes', '$.capabilities[0].constraints', '$']));
  });

  it('should let any tenant read the registry and only admins change it', async () => {
    const token = await http<TokenBody>('POST', '/tokens', { body: { tenant: `reader-${suffix}` } });
    expect(token.status).toBe(201);
    const asTenant = { token: token.body.token };
    expect((await http('GET', '/agents', asTenant)).status).toBe(200);
    expect((await http('GET', '/agents/diagnostics.delay/metrics', asTenant)).status).toBe(200);
    const arn = await builtInArn();
    const denied = await http('POST', '/agents', { ...asTenant, body: registration(`tenant-${suffix}`, arn, 'tenant-skill') });
    expect(denied.status).toBe(403);
    expect((await http('DELETE', '/agents/diagnostics.delay', asTenant)).status).toBe(403);
  });

  it('should unregister an agent: gone from reads and discovery', async () => {
    const arn = await builtInArn();
    const id = `doomed-${suffix}`;
    const skill = `doomed-${suffix}`;
    expect((await http('POST', '/agents', { body: registration(id, arn, skill) })).status).toBe(201);
    expect((await http('DELETE', `/agents/${id}`)).status).toBe(204);
    expect((await http('GET', `/agents/${id}`)).status).toBe(404);
    expect((await http('GET', `/agents/${id}/health`)).status).toBe(404);
    expect((await http('DELETE', `/agents/${id}`)).status).toBe(404);
    const found = await http<DiscoverBody>('POST', '/agents/discover', { body: { requiredSkills: [skill] } });
    expect(found.body.matches).toHaveLength(0);
    // Registering again continues the revision history.
    const back = await http<AgentBody>('POST', '/agents', { body: registration(id, arn, skill) });
    expect(back.body.agent.revision).toBe(2);
  });

  it('should list the built-in agent, registered at deploy by the custom resource', async () => {
    const res = await http<AgentListBody>('GET', '/agents');
    expect(res.status).toBe(200);
    const builtIn = res.body.agents.find((a: { id: string }) => a.id === 'diagnostics.delay');
    expect(builtIn).toMatchObject({ builtIn: true, skills: ['diagnostics.delay'] });
    const health = await http('GET', '/agents/diagnostics.delay/health');
    expect(health.body).toMatchObject({ agentId: 'diagnostics.delay', circuit: { state: 'closed' } });
  });
});
