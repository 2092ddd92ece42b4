import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LeaseSemaphore } from '../../../lambdas/aws/semaphore';
import { incrementOf, MetricsRecorder } from '../../../lambdas/aws/registry-metrics';
import { RegistryStore } from '../../../lambdas/aws/registry-store';
import { DEFAULT_WINDOW, bucketIndexFor } from '../../../lambdas/core/registry/histogram';
import { planFor } from '../../../lambdas/registry-seeder/seed';
import { runHealthChecks, HEALTH_CHECK_TAG } from '../../../lambdas/agent-health-check/checks';
import { registryConfigFromEnv } from '../../../lambdas/aws/registry-config';

const ddb = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
afterEach(() => ddb.reset());
const conditionFailed = () => Object.assign(new Error('failed'), { name: 'ConditionalCheckFailedException' });
const key = { pk: 'AGENT#a', sk: 'LEASES' };

describe('Class: LeaseSemaphore', () => {
  describe('Method: acquire', () => {
    it('should take a lease with one conditional update on the size of the lease map', async () => {
      ddb.on(UpdateCommand).resolves({});
      const result = await new LeaseSemaphore({ client, tableName: 't', clock: () => 1000 }).acquire(key, 3, 500, 'L1');
      expect(result).toEqual({ ok: true, lease: { id: 'L1', expiresAt: 1500 } });
      const input = ddb.commandCalls(UpdateCommand)[0].args[0].input;
      expect(input).toMatchObject({ UpdateExpression: 'SET leases.#id = :exp', ConditionExpression: 'size(leases) < :max', ExpressionAttributeValues: { ':max': 3 } });
    });

    it('should reap expired leases (conditionally on their expiry) and retry when full', async () => {
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({});
      ddb.on(GetCommand).resolves({ Item: { ...key, leases: { dead: 900, live: 5000 } } });
      const result = await new LeaseSemaphore({ client, tableName: 't', clock: () => 1000 }).acquire(key, 2, 500, 'L2');
      expect(result.ok).toBe(true);
      const reap = ddb.commandCalls(UpdateCommand)[1].args[0].input;
      expect(reap).toMatchObject({ UpdateExpression: 'REMOVE leases.#l0', ConditionExpression: 'leases.#l0 = :e0', ExpressionAttributeNames: { '#l0': 'dead' } });
    });

    it('should report busy with the live lease count when nothing expired', async () => {
      ddb.on(UpdateCommand).rejects(conditionFailed());
      ddb.on(GetCommand).resolves({ Item: { ...key, leases: { a: 5000, b: 6000 } } });
      const result = await new LeaseSemaphore({ client, tableName: 't', clock: () => 1000 }).acquire(key, 2, 500);
      expect(result).toEqual({ ok: false, held: 2, nextExpiryAt: 5000 });
    });

    it('should create the semaphore item on first use', async () => {
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({});
      ddb.on(GetCommand).resolves({});
      ddb.on(PutCommand).resolves({});
      expect((await new LeaseSemaphore({ client, tableName: 't' }).acquire(key, 1, 500)).ok).toBe(true);
      expect(ddb.commandCalls(PutCommand)[0].args[0].input).toMatchObject({ Item: { ...key, leases: {} }, ConditionExpression: 'attribute_not_exists(pk)' });
    });
  });
});

describe('Class: MetricsRecorder', () => {
  it('should fold an invocation into two ADD-only updates (all time and the current slot with a TTL)', async () => {
    ddb.on(UpdateCommand).resolves({});
    await new MetricsRecorder(client, 't', DEFAULT_WINDOW).record('a', [{ ok: true, latencyMs: 12 }, { ok: false, latencyMs: 12.5, error: 'boom' }, { ok: true, latencyMs: 900 }], 600_000);
    const calls = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Key!.sk as unknown)).toEqual(['METRICS', 'METRICS#2']);
    for (const c of calls) {
      expect(c.UpdateExpression).toMatch(/^ADD invocations :n, successes :s, failures :f, latCount :c, latSumMs :sum, #h\d+ :h\d+/);
      expect(c.UpdateExpression).not.toMatch(/if_not_exists|list_append/);
      expect(c.ExpressionAttributeValues).toMatchObject({ ':n': 3, ':s': 2, ':f': 1, ':err': 'boom' });
    }
    expect(calls[1].ExpressionAttributeValues![':exp']).toBe(Math.ceil(((2 + 3 + 1) * 300_000) / 1000));
    expect(incrementOf([{ ok: true, latencyMs: 12 }, { ok: true, latencyMs: 12.5 }]).buckets.get(bucketIndexFor(12))).toBe(2);
  });
});

describe('Class: RegistryStore', () => {
  const registration = { id: 'a', name: 'A', version: '1', description: '', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f', capabilities: [{ skill: 'x' }, { skill: 'y' }], tags: [] };

  it('should register in one transaction: record, revision, catalogue and one index entry per skill', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    const { agent, created } = await new RegistryStore({ tableName: 't', client, clock: () => 0 }).register(registration);
    expect(created).toBe(true);
    expect(agent.revision).toBe(1);
    const items = ddb.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!;
    expect(items.map((i) => (i.Put?.Item?.sk ?? i.Delete?.Key?.sk) as unknown)).toEqual(['RECORD', 'REV#0000000001', 'SKILL##all', 'SKILL#x', 'SKILL#y']);
    expect(items[0].Put!.ConditionExpression).toBe('attribute_not_exists(pk)');
  });

  it('should not write an unchanged registration, and make a changed one the next revision dropping lost skills', async () => {
    const store = new RegistryStore({ tableName: 't', client, clock: () => 0 });
    const current = { ...registration, status: 'active', builtIn: false, health: { status: 'Healthy' }, circuit: { state: 'closed', consecutiveFailures: 0, version: 3 }, createdAt: 'c', updatedAt: 'u', revision: 4 };
    ddb.on(GetCommand, { Key: { pk: 'AGENT#a', sk: 'RECORD' } }).resolves({ Item: { pk: 'AGENT#a', sk: 'RECORD', ...current } });
    ddb.on(GetCommand, { Key: { pk: 'AGENT#a', sk: 'DELETED' } }).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    expect((await store.register({ ...registration, capabilities: [{ skill: 'y' }, { skill: 'x' }].reverse() })).changed).toBe(false);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    const { agent } = await store.register({ ...registration, capabilities: [{ skill: 'x' }] });
    expect(agent.revision).toBe(5);
    const items = ddb.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!;
    expect(items[0].Put!).toMatchObject({ ConditionExpression: 'revision = :rev AND circuit.version = :cv', ExpressionAttributeValues: { ':rev': 4, ':cv': 3 } });
    expect(items.at(-1)!.Delete!.Key).toEqual({ pk: 'AGENT#a', sk: 'SKILL#y' });
  });
});

describe('Function: planFor (built-in agents custom resource)', () => {
  const props = (ids: string[]) => ({
    ServiceToken: 'x',
    AgentsJson: JSON.stringify(ids.map((id) => ({ id, name: id, version: '1', description: '', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f', capabilities: [{ skill: 's' }] }))),
  });
  const base = { ResponseURL: 'u', StackId: 's', RequestId: 'r', LogicalResourceId: 'l', ResourceType: 'Custom::AgentRegistration' };
  it('should register on Create/Update, drop agents an Update removed, unregister on Delete', () => {
    expect(planFor({ ...base, RequestType: 'Create', ResourceProperties: props(['a']) })).toMatchObject({ register: [{ id: 'a' }], unregister: [] });
    expect(planFor({ ...base, RequestType: 'Update', ResourceProperties: props(['a']), OldResourceProperties: props(['a', 'b']) }).unregister).toEqual(['b']);
    expect(planFor({ ...base, RequestType: 'Delete', ResourceProperties: props(['a', 'b']) })).toEqual({ register: [], unregister: ['a', 'b'] });
    expect(() => planFor({ ...base, RequestType: 'Create', ResourceProperties: { AgentsJson: '[{"id":"BAD"}]' } })).toThrow(/AgentsJson\[0\] is not a valid registration/);
  });
});

describe('Function: runHealthChecks', () => {
  it('should check only active agents tagged for it and record failures with the error', async () => {
    const recorded: unknown[] = [];
    // Only the fields the health check reads; the rest of an agent record does not matter here.
    const agent = (id: string, tags: string[]) => ({ id, tags, status: 'active', functionArn: id }) as never;
    const results = await runHealthChecks({
      list: async (cursor) => (cursor ? { agents: [agent('c', [HEALTH_CHECK_TAG])] } : { agents: [agent('a', [HEALTH_CHECK_TAG]), agent('b', [])], cursor: 'next' }),
      invoke: async (a) => (a.id === 'a' ? { ok: true } : { ok: false, error: 'Unhandled' }),
      record: async (id, r) => void recorded.push([id, r]),
      clock: () => 7,
    });
    expect(results.sort((x, y) => x.agentId.localeCompare(y.agentId))).toEqual([{ agentId: 'a', ok: true }, { agentId: 'c', ok: false }]);
    expect(recorded).toContainEqual(['c', { ok: false, at: 7, error: 'Unhandled' }]);
  });
});

describe('Function: registryConfigFromEnv', () => {
  it('should shorten the cool-down from the environment and ignore junk', () => {
    expect(registryConfigFromEnv({ CIRCUIT_COOL_DOWN_MS: '2000', CIRCUIT_FAILURE_THRESHOLD: '3' }).circuit).toMatchObject({ coolDownMs: 2000, failureThreshold: 3 });
    expect(registryConfigFromEnv({ CIRCUIT_COOL_DOWN_MS: 'soon' }).circuit.coolDownMs).toBe(30_000);
  });
});
