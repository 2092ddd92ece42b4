import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DescribeMapRunCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../../localstack/cloud/dynamodb-local';
import { FakeLambda, fn, FunctionError, REGION, ROLE, startHarness, tempDir, waitForEnd, type Harness } from '../../unit/localcloud/stepfunctions/helpers';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { run(): Promise<unknown>; close(): Promise<void> };
// s3rver verifies signatures against its own key registry; the local cloud signs with local/local.
(require('s3rver/lib/models/account') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } }).DUMMY_ACCOUNT.createKeyPair('local', 'local');

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const BUCKET = 'b';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => { resolve(port); });
    });
  });
}

let dynamo: DynamoDbLocal;
let s3rver: { close(): Promise<void> };
let s3Dir: string;
let s3: S3Client;
let ddb: DynamoDBClient;
let h: Harness;
/** What the Distributed Map hands the batch function. */
interface BatchEvent {
  Items: Array<{ n: number; runId: string }>;
  BatchInput: { runId: string };
}

const lambda = new FakeLambda({
  batch: (input) => {
    const event = input as BatchEvent;
    if (event.Items.some((item) => item.n === 4999)) throw new FunctionError('ItemFailed', 'item 4999 is poisoned');
    return { count: event.Items.length, sum: event.Items.reduce((s, i) => s + i.n, 0), runId: event.BatchInput.runId };
  },
  item: (event: unknown) => event,
});

beforeAll(async () => {
  const [dynamoPort, s3Port] = await Promise.all([freePort(), freePort()]);
  s3Dir = tempDir('sfn-s3-');
  s3rver = new S3rver({ port: s3Port, address: '127.0.0.1', silent: true, directory: s3Dir, configureBuckets: [{ name: BUCKET }] });
  await Promise.all([(s3rver as unknown as { run(): Promise<unknown> }).run(), startDynamoDbLocal({ port: dynamoPort }).then((d) => (dynamo = d))]);
  const s3Endpoint = `http://127.0.0.1:${s3Port}`;
  s3 = new S3Client({ endpoint: s3Endpoint, region: REGION, credentials, forcePathStyle: true });
  ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials });
  await ddb.send(
    new CreateTableCommand({
      TableName: 'counters',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  h = await startHarness(lambda, { dynamodbEndpoint: dynamo.endpoint, s3Endpoint });
}, 120_000);

afterAll(async () => {
  // Unset when beforeAll failed before creating them.
  await (h as Harness | undefined)?.close();
  (s3 as S3Client | undefined)?.destroy();
  (ddb as DynamoDBClient | undefined)?.destroy();
  await Promise.all([(dynamo as DynamoDbLocal | undefined)?.stop(), (s3rver as typeof s3rver | undefined)?.close()]);
  if (s3Dir) rmSync(s3Dir, { recursive: true, force: true });
});

async function run(name: string, definition: object, input: unknown) {
  const { stateMachineArn } = await h.client.send(new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: ROLE }));
  const { executionArn } = await h.client.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  return waitForEnd(h.client, executionArn!, 120_000);
}

async function readJson(key: string): Promise<unknown> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return JSON.parse(await out.Body!.transformToString()) as unknown;
}

describe('Class: LocalStepFunctions (service integrations)', () => {
  describe('Method: DynamoDB integrations', () => {
    it('should update, read and conditionally put items in DynamoDB Local, naming errors DynamoDB.*', async () => {
      const definition = {
        StartAt: 'Count',
        States: {
          Count: {
            Type: 'Task',
            Resource: 'arn:aws:states:::dynamodb:updateItem',
            Parameters: {
              TableName: 'counters',
              Key: { pk: { 'S.$': '$.id' } },
              UpdateExpression: 'ADD #c :one',
              ExpressionAttributeNames: { '#c': 'count' },
              ExpressionAttributeValues: { ':one': { N: '1' } },
              ReturnValues: 'UPDATED_NEW',
            },
            ResultSelector: { 'count.$': '$.Attributes.count.N' },
            ResultPath: '$.updated',
            Next: 'Read',
          },
          Read: {
            Type: 'Task',
            Resource: 'arn:aws:states:::dynamodb:getItem',
            Parameters: { TableName: 'counters', Key: { pk: { 'S.$': '$.id' } } },
            ResultSelector: { 'item.$': '$.Item' },
            ResultPath: '$.read',
            Next: 'Claim',
          },
          Claim: {
            Type: 'Task',
            Resource: 'arn:aws:states:::dynamodb:putItem',
            Parameters: { TableName: 'counters', Item: { pk: { 'S.$': '$.id' } }, ConditionExpression: 'attribute_not_exists(pk)' },
            Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: '$.claim', Next: 'Done' }],
            ResultPath: '$.claim',
            Next: 'Done',
          },
          Done: { Type: 'Succeed' },
        },
      };

      const out = await run('ddb', definition, { id: 'run-1' });

      expect(out.status).toBe('SUCCEEDED');
      const output = JSON.parse(out.output!) as { updated: unknown; read: { item: unknown }; claim: { Error: string } };
      expect(output.updated).toEqual({ count: '1' });
      expect(output.read.item).toEqual({ pk: { S: 'run-1' }, count: { N: '1' } });
      expect(output.claim.Error).toBe('DynamoDB.ConditionalCheckFailedException');
      const stored = await ddb.send(new GetItemCommand({ TableName: 'counters', Key: { pk: { S: 'run-1' } } }));
      expect(stored.Item?.count).toEqual({ N: '1' });
    });
  });

  describe('Method: S3 integrations', () => {
    it('should put and get an object through the aws-sdk S3 integration', async () => {
      const out = await run(
        's3io',
        {
          StartAt: 'Put',
          States: {
            Put: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:s3:putObject', Parameters: { Bucket: BUCKET, Key: 'io/doc.json', 'Body.$': '$.doc' }, ResultPath: null, Next: 'Get' },
            Get: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:s3:getObject', Parameters: { Bucket: BUCKET, Key: 'io/doc.json' }, ResultSelector: { 'body.$': 'States.StringToJson($.Body)' }, Next: 'Missing' },
            Missing: {
              Type: 'Task',
              Resource: 'arn:aws:states:::aws-sdk:s3:getObject',
              Parameters: { Bucket: BUCKET, Key: 'io/none.json' },
              Catch: [{ ErrorEquals: ['S3.NoSuchKeyException'], ResultPath: '$.missing', Next: 'Done' }],
              Next: 'Done',
            },
            Done: { Type: 'Succeed' },
          },
        },
        { doc: { hello: 'world' } },
      );

      expect(out.status).toBe('SUCCEEDED');
      const output = JSON.parse(out.output!) as { body: unknown; missing: { Error: string } };
      expect(output.body).toEqual({ hello: 'world' });
      expect(output.missing.Error).toBe('S3.NoSuchKeyException');
    });
  });

  describe('Method: Distributed Map', () => {
    it('should fan 5,000 items from an S3 manifest out in batches of 50 and write the results to S3', async () => {
      const items = Array.from({ length: 5000 }, (_, n) => ({ n, key: `runs/r1/items/${n}.json` }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/r1/manifest.json', Body: JSON.stringify(items) }));
      const definition = {
        StartAt: 'FanOut',
        States: {
          FanOut: {
            Type: 'Map',
            ItemReader: {
              Resource: 'arn:aws:states:::s3:getObject',
              ReaderConfig: { InputType: 'JSON' },
              Parameters: { 'Bucket.$': '$.bucket', 'Key.$': '$.manifestKey' },
            },
            ItemSelector: { 'n.$': '$$.Map.Item.Value.n', 'runId.$': '$.runId' },
            ItemBatcher: { MaxItemsPerBatch: 50, BatchInput: { 'runId.$': '$.runId' } },
            MaxConcurrency: 10,
            ToleratedFailurePercentage: 5,
            ItemProcessor: {
              ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
              StartAt: 'Process',
              States: {
                Process: {
                  Type: 'Task',
                  Resource: 'arn:aws:states:::lambda:invoke',
                  Parameters: { FunctionName: fn('batch'), 'Payload.$': '$' },
                  ResultSelector: { 'count.$': '$.Payload.count', 'sum.$': '$.Payload.sum' },
                  End: true,
                },
              },
            },
            ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: BUCKET, Prefix: 'runs/r1/results' } },
            ResultPath: '$.results',
            End: true,
          },
        },
      };

      const out = await run('fanout', definition, { bucket: BUCKET, manifestKey: 'runs/r1/manifest.json', runId: 'r1' });

      expect(out.status).toBe('SUCCEEDED');
      const { results } = JSON.parse(out.output!) as { results: { ResultWriterDetails: { Bucket: string; Key: string }; MapRunArn: string } };
      expect(results.ResultWriterDetails.Bucket).toBe(BUCKET);
      expect(results.ResultWriterDetails.Key).toMatch(/^runs\/r1\/results\/[0-9a-f-]{36}\/manifest\.json$/);
      const manifest = (await readJson(results.ResultWriterDetails.Key)) as { ResultFiles: Record<'SUCCEEDED' | 'FAILED', Array<{ Key: string }>> };
      expect(manifest).toMatchObject({ DestinationBucket: BUCKET, MapRunArn: results.MapRunArn, ResultFiles: { PENDING: [] } });
      const succeeded = (await readJson(manifest.ResultFiles.SUCCEEDED[0].Key)) as Array<{ Output: string }>;
      const failed = (await readJson(manifest.ResultFiles.FAILED[0].Key)) as unknown[];
      expect(succeeded).toHaveLength(99);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ Status: 'FAILED', Error: 'ItemFailed' });
      const total = succeeded.reduce((s, r) => s + (JSON.parse(r.Output) as { count: number }).count, 0);
      expect(total).toBe(4950);
      const batches = lambda.calls.filter((c) => c.name === 'batch');
      expect(batches).toHaveLength(100);
      expect(batches.map((c) => c.event as BatchEvent).every((e) => e.Items.length === 50 && e.BatchInput.runId === 'r1' && e.Items[0].runId === 'r1')).toBe(true);

      const records = h.service.listExecutionRecords();
      const children = records.filter((r) => r.mapRunArn === results.MapRunArn);
      expect(children).toHaveLength(100);
      expect(Math.max(...records.map((r) => r.historyEventCount))).toBeLessThanOrEqual(25_000);
      const mapRuns = await h.client.send(new ListMapRunsCommand({ executionArn: out.executionArn }));
      expect(mapRuns.mapRuns!.map((r) => r.mapRunArn)).toEqual([results.MapRunArn]);
      const described = await h.client.send(new DescribeMapRunCommand({ mapRunArn: results.MapRunArn }));
      expect(described).toMatchObject({ status: 'SUCCEEDED', maxConcurrency: 10, itemCounts: { total: 5000, succeeded: 4950, failed: 50 } });
      const listed = await h.client.send(new ListExecutionsCommand({ mapRunArn: results.MapRunArn, maxResults: 1000 }));
      expect(listed.executions).toHaveLength(100);
    });

    it('should fail the Map once failures exceed the tolerated threshold', async () => {
      const items = Array.from({ length: 100 }, (_, n) => ({ n: 4950 + n }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/r2/manifest.json', Body: JSON.stringify(items) }));
      const out = await run(
        'fanout-intolerant',
        {
          StartAt: 'FanOut',
          States: {
            FanOut: {
              Type: 'Map',
              ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' }, Parameters: { Bucket: BUCKET, Key: 'runs/r2/manifest.json' } },
              ItemBatcher: { MaxItemsPerBatch: 10 },
              ItemSelector: { 'n.$': '$$.Map.Item.Value.n', runId: 'r2' },
              ItemProcessor: {
                ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
                StartAt: 'Process',
                States: { Process: { Type: 'Task', Resource: fn('batch'), End: true } },
              },
              End: true,
            },
          },
        },
        {},
      );

      expect(out).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
    });

    it('should fail an inline Map over 5,000 items on the 25,000-event history limit', async () => {
      const out = await run(
        'inline-too-big',
        {
          StartAt: 'Each',
          States: { Each: { Type: 'Map', MaxConcurrency: 40, ItemProcessor: { StartAt: 'Item', States: { Item: { Type: 'Task', Resource: fn('item'), End: true } } }, End: true } },
        },
        Array.from({ length: 5000 }, (_, n) => n),
      );

      expect(out).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
      const record = h.service.listExecutionRecords().find((r) => r.executionArn === out.executionArn)!;
      expect(record.historyEventCount).toBe(25_000);
    });
  });
});
