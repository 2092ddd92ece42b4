import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { decodeCursor, encodeCursor, tenantPk, versionSk, workflowPk, WorkflowStore, VersionConflictError } from '../../../lambdas/aws/workflow-store';
import type { CompileReport } from '../../../lambdas/core/workflow/compile';

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const s3Client = new S3Client({ region: 'us-east-1' });

const report = { seriesParallel: true, warnings: [] } as unknown as CompileReport;
const definition = { id: 'wf', steps: [{ id: 'a', capability: { skill: 's' } }] };
const newVersion = (aslJson = '{"StartAt":"a","States":{}}') => ({
  tenant: 'acme',
  workflowId: 'wf',
  definition,
  aslJson,
  stateMachineArn: 'arn:sm',
  stateMachineVersionArn: 'arn:sm:1',
  report,
  warnings: [],
});

function conditionFailure() {
  return Object.assign(new Error('cancelled'), { name: 'TransactionCanceledException' });
}

afterEach(() => {
  ddb.reset();
  s3.reset();
});

describe('Class: WorkflowStore', () => {
  describe('Method: addVersion', () => {
    it('should create version 1 and the head together, each conditional on not existing', async () => {
      ddb.on(GetCommand).resolves({});
      ddb.on(TransactWriteCommand).resolves({});
      const store = new WorkflowStore({ tableName: 't', client, clock: () => 0 });

      const stored = await store.addVersion(newVersion());

      expect(stored.version).toBe(1);
      const items = ddb.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!;
      expect(items[0].Put!.Item).toMatchObject({ pk: workflowPk('acme', 'wf'), sk: versionSk(1), version: 1, definition: JSON.stringify(definition) });
      expect(items[0].Put!.ConditionExpression).toBe('attribute_not_exists(pk)');
      expect(items[1].Put!.Item).toMatchObject({ pk: tenantPk('acme'), sk: 'WF#wf', latestVersion: 1 });
      expect(items[1].Put!.ConditionExpression).toBe('attribute_not_exists(pk)');
    });

    it('should take the next number when a concurrent registration took the one it read', async () => {
      ddb.on(GetCommand).resolvesOnce({ Item: { latestVersion: 3 } }).resolves({ Item: { latestVersion: 4 } });
      ddb.on(TransactWriteCommand).rejectsOnce(conditionFailure()).resolves({});
      const store = new WorkflowStore({ tableName: 't', client });

      const stored = await store.addVersion(newVersion());

      expect(stored.version).toBe(5);
      const calls = ddb.commandCalls(TransactWriteCommand);
      expect(calls).toHaveLength(2);
      const head = calls[1].args[0].input.TransactItems![1].Update!;
      expect(head.ConditionExpression).toBe('#latestVersion = :previous');
      expect(head.ExpressionAttributeValues![':previous']).toBe(4);
      expect(calls[1].args[0].input.TransactItems![0].Put!.Item!.sk).toBe(versionSk(5));
    });

    it('should give up with VersionConflictError after repeated conflicts', async () => {
      ddb.on(GetCommand).resolves({ Item: { latestVersion: 1 } });
      ddb.on(TransactWriteCommand).rejects(conditionFailure());
      const store = new WorkflowStore({ tableName: 't', client });

      await expect(store.addVersion(newVersion())).rejects.toBeInstanceOf(VersionConflictError);
    });

    it('should put a body too large for an item in the bucket under workflows/ and store its key', async () => {
      ddb.on(GetCommand).resolves({});
      ddb.on(TransactWriteCommand).resolves({});
      s3.on(PutObjectCommand).resolves({});
      const store = new WorkflowStore({ tableName: 't', client, bucket: 'b', s3Client, inlineBodyLimit: 100 });

      await store.addVersion(newVersion(JSON.stringify({ StartAt: 'a', States: {}, Comment: 'x'.repeat(200) })));

      const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
      expect(put.Key).toMatch(/^workflows\/acme\/wf\/[0-9a-f]{64}\.json$/);
      const item = ddb.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems![0].Put!.Item!;
      expect(item.bodyKey).toBe(put.Key);
      expect(item.definition).toBeUndefined();
      expect(item.asl).toBeUndefined();
    });
  });

  describe('Method: getVersion', () => {
    it('should read the latest version when none is asked for', async () => {
      ddb.on(GetCommand, { Key: { pk: tenantPk('acme'), sk: 'WF#wf' } }).resolves({ Item: { latestVersion: 2 } });
      ddb.on(GetCommand, { Key: { pk: workflowPk('acme', 'wf'), sk: versionSk(2) } }).resolves({
        Item: { tenant: 'acme', version: 2, definition: JSON.stringify(definition), asl: '{"StartAt":"a"}', stateMachineArn: 'arn:sm', stateMachineVersionArn: 'arn:sm:2', report: '{}', createdAt: 'now' },
      });
      const store = new WorkflowStore({ tableName: 't', client });

      const got = await store.getVersion('acme', 'wf');

      expect(got).toMatchObject({ workflowId: 'wf', version: 2, definition, stateMachineVersionArn: 'arn:sm:2', asl: { StartAt: 'a' }, createdAt: 'now' });
    });

    it("should not find another tenant's workflow", async () => {
      ddb.on(GetCommand).resolves({});
      const store = new WorkflowStore({ tableName: 't', client });
      expect(await store.getVersion('other', 'wf')).toBeUndefined();
      expect(await store.getVersion('other', 'wf', 1)).toBeUndefined();
    });

    it('should load a body kept in the bucket', async () => {
      ddb.on(GetCommand).resolves({ Item: { tenant: 'acme', version: 1, bodyKey: 'workflows/acme/wf/h.json', stateMachineArn: 'a', stateMachineVersionArn: 'a:1', report: '{}', createdAt: 'now' } });
      s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => JSON.stringify({ definition: JSON.stringify(definition), asl: '{"big":true}' }) } as never });
      const store = new WorkflowStore({ tableName: 't', client, bucket: 'b', s3Client });

      const got = await store.getVersion('acme', 'wf', 1);

      expect(got!.asl).toEqual({ big: true });
      expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toMatchObject({ Bucket: 'b', Key: 'workflows/acme/wf/h.json' });
    });
  });

  describe('Method: list', () => {
    it("should query the tenant's partition and page with a cursor bound to that tenant", async () => {
      ddb.on(QueryCommand).resolves({
        Items: [{ workflowId: 'wf', latestVersion: 2, stateMachineArn: 'a', latestVersionArn: 'a:2', steps: 1, createdAt: 'c', updatedAt: 'u' }],
        LastEvaluatedKey: { pk: tenantPk('acme'), sk: 'WF#wf' },
      });
      const store = new WorkflowStore({ tableName: 't', client });

      const page = await store.list('acme', { limit: 1 });

      expect(page.workflows).toEqual([{ id: 'wf', latestVersion: 2, stateMachineArn: 'a', latestVersionArn: 'a:2', steps: 1, createdAt: 'c', updatedAt: 'u' }]);
      expect(decodeCursor(page.cursor, 'acme')).toEqual({ pk: tenantPk('acme'), sk: 'WF#wf' });
      expect(decodeCursor(page.cursor, 'other')).toBeUndefined();
      await expect(store.list('other', { cursor: page.cursor })).rejects.toThrow(/cursor/);
      expect(decodeCursor(encodeCursor({ pk: 'x' }), 'acme')).toBeUndefined();
    });
  });
});
