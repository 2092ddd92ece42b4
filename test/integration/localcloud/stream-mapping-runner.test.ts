import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../../localstack/cloud/dynamodb-local';
import { LocalSqs } from '../../../localstack/cloud/sqs';
import { StreamMappingRunner, type StreamMappingConfig } from '../../../localstack/cloud/streams';
import { credentials, FakeInvoker, fail, freePort, numberOf, ok, waitFor } from '../../unit/localcloud/streams/helpers';

const REGION = 'us-east-1';

/** A message of an on-failure destination: the invocation record of a discarded batch (the parts read here). */
interface FailureMessage {
  requestContext: { condition: string; approximateInvokeCount: number };
  DDBStreamBatchInfo: { batchSize: number };
}

describe('Class: StreamMappingRunner (against DynamoDB Local)', () => {
  let ddbLocal: DynamoDbLocal;
  let ddb: DynamoDBClient;
  let workDir: string;
  let sqs: LocalSqs;
  let sqsClient: SQSClient;
  let tableCount = 0;
  const runners: StreamMappingRunner[] = [];

  beforeAll(async () => {
    ddbLocal = await startDynamoDbLocal({ port: await freePort() });
    ddb = new DynamoDBClient({ endpoint: ddbLocal.endpoint, region: REGION, credentials });
    workDir = mkdtempSync(join(tmpdir(), 'stream-mapping-'));
    sqs = new LocalSqs({ region: REGION, accountId: '000000000000', dataDir: join(workDir, 'sqs') });
    const { url } = await sqs.listen(0);
    sqsClient = new SQSClient({ endpoint: url, region: REGION, credentials });
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
  });

  afterAll(async () => {
    // Unset when beforeAll failed before creating them.
    (sqsClient as SQSClient | undefined)?.destroy();
    (ddb as DynamoDBClient | undefined)?.destroy();
    await (sqs as LocalSqs | undefined)?.stop();
    await (ddbLocal as DynamoDbLocal | undefined)?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /** A table with a stream; returns the StreamArn as a template would spell it (not DynamoDB Local's). */
  async function createTable(options: { ttl?: boolean } = {}): Promise<{ tableName: string; templateStreamArn: string }> {
    const tableName = `events-${++tableCount}-${Date.now()}`;
    await ddb.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'N' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    if (options.ttl) {
      await ddb.send(
        new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } }),
      );
    }
    return { tableName, templateStreamArn: `arn:aws:dynamodb:${REGION}:000000000000:table/${tableName}/stream/2026-01-01T00:00:00.000` };
  }

  async function put(tableName: string, pk: string, n: number, extra: Record<string, AttributeValue> = {}): Promise<void> {
    await ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk }, sk: { N: String(n) }, n: { N: String(n) }, ...extra } }));
  }

  function runner(
    config: Partial<StreamMappingConfig> & Pick<StreamMappingConfig, 'eventSourceArn'>,
    invoker: FakeInvoker,
    checkpointFile = join(workDir, `checkpoint-${config.eventSourceArn.split('/')[1]}.json`),
  ): StreamMappingRunner {
    const r = new StreamMappingRunner({
      config: {
        uuid: `mapping-${config.eventSourceArn.split('/')[1]}`,
        functionName: 'broadcaster',
        batchSize: 100,
        startingPosition: 'TRIM_HORIZON',
        ...config,
      },
      streamsEndpoint: ddbLocal.endpoint,
      region: REGION,
      lambda: invoker,
      sqs,
      checkpointFile,
      pollIntervalMs: 20,
      retryBaseDelayMs: 5,
      retryMaxDelayMs: 50,
    });
    runners.push(r);
    return r;
  }

  /** Waits until the mapping has checkpointed its last delivered record: nothing more can be redelivered. */
  async function settled(mapping: StreamMappingRunner, invoker: FakeInvoker): Promise<void> {
    await waitFor(() => {
      const seqs = invoker.calls.flatMap((c) => c.records.map((r) => BigInt(r.dynamodb.SequenceNumber)));
      const last = seqs.reduce((a, b) => (b > a ? b : a), 0n);
      const checkpoint = mapping.stats().shards[0]?.checkpoint;
      return checkpoint !== undefined && BigInt(checkpoint) >= last;
    }, 'the checkpoint to reach the last delivered record');
  }

  async function receiveAll(queueName: string, expected: number): Promise<FailureMessage[]> {
    const { QueueUrl } = await sqsClient.send(new GetQueueUrlCommand({ QueueName: queueName }));
    const bodies: FailureMessage[] = [];
    const deadline = Date.now() + 15_000;
    while (bodies.length < expected && Date.now() < deadline) {
      const out = await sqsClient.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const m of out.Messages ?? []) bodies.push(JSON.parse(m.Body!) as FailureMessage);
    }
    return bodies;
  }

  describe('Method: start', () => {
    it('should deliver 1,000 writes across 10 keys in order, each once, in AWS-shaped events', async () => {
      // Arrange
      const { tableName, templateStreamArn } = await createTable();
      const invoker = new FakeInvoker();
      await runner({ eventSourceArn: templateStreamArn, batchSize: 100 }, invoker).start();

      // Act: ten writers, one per key, each writing its own keys' items in order.
      await Promise.all(
        Array.from({ length: 10 }, async (_, key) => {
          for (let i = 0; i < 100; i++) await put(tableName, `run-${key}`, key * 1000 + i);
        }),
      );
      await waitFor(() => invoker.succeededRecords().length >= 1000, '1,000 records');

      // Assert
      const records = invoker.succeededRecords();
      expect(records).toHaveLength(1000);
      expect(invoker.calls.every((c) => c.records.length >= 1 && c.records.length <= 100)).toBe(true);
      const seqs = records.map((r) => BigInt(r.dynamodb.SequenceNumber));
      expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1])).toBe(true);
      for (let key = 0; key < 10; key++) {
        const ns = records.filter((r) => (r.dynamodb.Keys!.pk as { S: string }).S === `run-${key}`).map(numberOf);
        expect(ns).toEqual(Array.from({ length: 100 }, (_, i) => key * 1000 + i));
      }
      const first = records[0];
      expect(first).toMatchObject({
        eventName: 'INSERT',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: REGION,
        eventSourceARN: templateStreamArn,
        dynamodb: { StreamViewType: 'NEW_AND_OLD_IMAGES', Keys: { pk: { S: expect.any(String) as unknown }, sk: { N: expect.any(String) as unknown } } },
      });
      expect(typeof first.eventID).toBe('string');
      expect(typeof first.dynamodb.ApproximateCreationDateTime).toBe('number');
      expect(first.dynamodb.SizeBytes).toBeGreaterThan(0);
      expect(first.userIdentity).toBeUndefined();
    });

    it('should gather records for the batching window before invoking', async () => {
      // Arrange
      const { tableName, templateStreamArn } = await createTable();
      const invoker = new FakeInvoker();
      await runner({ eventSourceArn: templateStreamArn, batchSize: 100, maximumBatchingWindowInSeconds: 1 }, invoker).start();

      // Act
      for (let i = 0; i < 10; i++) await put(tableName, 'k', i);
      await waitFor(() => invoker.succeededRecords().length >= 10, '10 records');

      // Assert
      expect(invoker.calls).toHaveLength(1);
      expect(invoker.calls[0].records.map(numberOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });
  });

  describe('ParallelizationFactor', () => {
    it('should invoke lanes concurrently while keeping each partition key in order', async () => {
      // Arrange
      const { tableName, templateStreamArn } = await createTable();
      for (let i = 0; i < 240; i++) await put(tableName, `run-${i % 8}`, i);
      let inFlight = 0;
      let maxInFlight = 0;
      const invoker = new FakeInvoker(async () => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise((r) => setTimeout(r, 10));
        inFlight--;
        return ok();
      });
      const mapping = runner({ eventSourceArn: templateStreamArn, batchSize: 10, parallelizationFactor: 4 }, invoker);

      // Act
      await mapping.start();
      await waitFor(() => invoker.succeededRecords().length >= 240, '240 records');
      await waitFor(() => mapping.stats().shards[0]?.checkpoint !== undefined, 'a checkpoint');

      // Assert
      const records = invoker.succeededRecords();
      expect(records.map(numberOf).sort((a, b) => a - b)).toEqual(Array.from({ length: 240 }, (_, i) => i));
      for (let key = 0; key < 8; key++) {
        const ns = records.filter((r) => (r.dynamodb.Keys!.pk as { S: string }).S === `run-${key}`).map(numberOf);
        expect(ns).toEqual([...ns].sort((a, b) => a - b));
      }
      expect(maxInFlight).toBeGreaterThan(1);
      const lastSeq = records.map((r) => r.dynamodb.SequenceNumber).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)).at(-1);
      await waitFor(() => mapping.stats().shards[0]?.checkpoint === lastSeq, 'the checkpoint at the last record');
    });
  });

  describe('Method: stop', () => {
    it('should resume from the checkpoint after a restart, with no loss and no duplicate', async () => {
      // Arrange
      const { tableName, templateStreamArn } = await createTable();
      const checkpointFile = join(workDir, 'restart.json');
      const invoker = new FakeInvoker(async () => {
        await new Promise((r) => setTimeout(r, 15));
        return ok();
      });
      const first = runner({ eventSourceArn: templateStreamArn, batchSize: 10 }, invoker, checkpointFile);
      await first.start();
      for (let i = 0; i < 50; i++) await put(tableName, `k${i % 3}`, i);
      await waitFor(() => invoker.succeededRecords().length >= 20, 'part of the records');

      // Act: stop mid-stream, write while stopped, start a new runner on the same checkpoint.
      await first.stop();
      for (let i = 50; i < 100; i++) await put(tableName, `k${i % 3}`, i);
      const second = runner({ eventSourceArn: templateStreamArn, batchSize: 10 }, invoker, checkpointFile);
      await second.start();
      await waitFor(() => invoker.succeededRecords().length >= 100, '100 records');
      await settled(second, invoker);

      // Assert
      const ns = invoker.succeededRecords().map(numberOf);
      expect(ns).toEqual(Array.from({ length: 100 }, (_, i) => i));
    });

    it('should pin LATEST at the first start so a restart neither replays old records nor skips new ones', async () => {
      // Arrange
      const { tableName, templateStreamArn } = await createTable();
      const checkpointFile = join(workDir, 'latest.json');
      for (let i = 0; i < 20; i++) await put(tableName, 'old', i);
      const invoker = new FakeInvoker();
      const first = runner({ eventSourceArn: templateStreamArn, startingPosition: 'LATEST' }, invoker, checkpointFile);
      await first.start();
      await first.stop();

      // Act
      for (let i = 100; i < 105; i++) await put(tableName, 'new', i);
      const second = runner({ eventSourceArn: templateStreamArn, startingPosition: 'LATEST' }, invoker, checkpointFile);
      await second.start();
      await waitFor(() => invoker.succeededRecords().length >= 5, 'the new records');
      await settled(second, invoker);

      // Assert
      expect(invoker.succeededRecords().map(numberOf)).toEqual([100, 101, 102, 103, 104]);
    });
  });

  describe('Error handling', () => {
    it('should isolate a poison record by bisection, bound its retries and report it to the on-failure queue', async () => {
      // Arrange
      const { tableName, templateStreamArn } = await createTable();
      const { queueArn } = sqs.createQueue('bisect-failures');
      for (let i = 0; i < 10; i++) await put(tableName, 'run-1', i, i === 6 ? { poison: { BOOL: true } } : {});
      const invoker = new FakeInvoker((records) =>
        records.some((r) => r.dynamodb.NewImage?.poison) ? fail('poison') : ok(),
      );
      const mapping = runner(
        {
          eventSourceArn: templateStreamArn,
          batchSize: 10,
          bisectBatchOnFunctionError: true,
          maximumRetryAttempts: 2,
          onFailureDestinationArn: queueArn,
        },
        invoker,
      );

      // Act
      await mapping.start();
      await waitFor(() => invoker.succeededRecords().length >= 9, 'the nine good records');
      const [failure] = await receiveAll('bisect-failures', 1);

      // Assert
      expect(invoker.succeededRecords().map(numberOf)).toEqual([0, 1, 2, 3, 4, 5, 7, 8, 9]);
      const poisonAlone = invoker.calls.filter((c) => c.records.length === 1 && numberOf(c.records[0]) === 6);
      expect(poisonAlone).toHaveLength(3); // the first attempt and maximumRetryAttempts retries
      const poisonSeq = invoker.calls.flatMap((c) => c.records).find((r) => numberOf(r) === 6)!.dynamodb.SequenceNumber;
      expect(failure).toMatchObject({
        requestContext: {
          requestId: expect.any(String) as unknown,
          functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:broadcaster',
          condition: 'RetryAttemptsExhausted',
          approximateInvokeCount: expect.any(Number) as unknown,
        },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        version: '1.0',
        timestamp: expect.any(String) as unknown,
        DDBStreamBatchInfo: {
          shardId: mapping.stats().shards[0].shardId,
          startSequenceNumber: poisonSeq,
          endSequenceNumber: poisonSeq,
          approximateArrivalOfFirstRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) as unknown,
          approximateArrivalOfLastRecord: expect.stringMatching(/Z$/) as unknown,
          batchSize: 1,
          streamArn: templateStreamArn,
        },
      });
      expect(failure.requestContext.approximateInvokeCount).toBeGreaterThanOrEqual(3);
      expect(mapping.stats()).toMatchObject({ recordsDiscarded: 1, destinationMessages: 1 });
    });

    it('should retry from the lowest reported item failure and deliver every record successfully once', async () => {
      // Arrange: the handler processes records in order and stops at the first one that fails, reporting it
      // and every later record (the sequential pattern the broadcaster uses).
      const { tableName, templateStreamArn } = await createTable();
      for (let i = 0; i < 12; i++) await put(tableName, 'run-2', i);
      const failuresLeft = new Map([[4, 2], [9, 1]]);
      const processed: number[] = [];
      const invoker = new FakeInvoker((records) => {
        const failed: string[] = [];
        for (const record of records) {
          const n = numberOf(record);
          if (failed.length > 0 || (failuresLeft.get(n) ?? 0) > 0) {
            if (failed.length === 0) failuresLeft.set(n, failuresLeft.get(n)! - 1);
            failed.push(record.dynamodb.SequenceNumber);
            continue;
          }
          processed.push(n);
        }
        return ok({ batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) });
      });

      // Act
      const mapping = runner(
        { eventSourceArn: templateStreamArn, batchSize: 12, functionResponseTypes: ['ReportBatchItemFailures'], maximumRetryAttempts: 5 },
        invoker,
      );
      await mapping.start();
      await waitFor(() => processed.length >= 12, 'all records processed');
      await settled(mapping, invoker);

      // Assert
      expect(processed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(invoker.calls.map((c) => numberOf(c.records[0]))).toEqual([0, 4, 4, 9]);
      expect(mapping.stats()).toMatchObject({ partialFailures: 3, recordsDiscarded: 0 });
    });

    it('should retry the whole batch when a reported item identifier is not in the batch', async () => {
      const { tableName, templateStreamArn } = await createTable();
      for (let i = 0; i < 3; i++) await put(tableName, 'run-3', i);
      let calls = 0;
      const invoker = new FakeInvoker(() => (++calls === 1 ? ok({ batchItemFailures: [{ itemIdentifier: 'bogus' }] }) : ok({})));

      await runner({ eventSourceArn: templateStreamArn, functionResponseTypes: ['ReportBatchItemFailures'] }, invoker).start();
      await waitFor(() => invoker.calls.length >= 2, 'the retry');

      expect(invoker.calls[1].records.map(numberOf)).toEqual([0, 1, 2]);
    });

    it('should discard records older than maximumRecordAgeInSeconds and report RecordAgeExceeded', async () => {
      // Arrange
      const { tableName, templateStreamArn } = await createTable();
      const { queueArn } = sqs.createQueue('age-failures');
      // Written before the start so that the three records form one batch.
      for (let i = 0; i < 3; i++) await put(tableName, 'run-4', i);
      let healthy = false;
      const invoker = new FakeInvoker(() => (healthy ? ok() : fail('down')));
      const mapping = runner(
        { eventSourceArn: templateStreamArn, maximumRecordAgeInSeconds: 1, maximumRetryAttempts: -1, onFailureDestinationArn: queueArn },
        invoker,
      );
      await mapping.start();

      // Act
      const [failure] = await receiveAll('age-failures', 1);
      healthy = true;
      await put(tableName, 'run-4', 3);
      await waitFor(() => invoker.succeededRecords().length >= 1, 'the fresh record');

      // Assert
      expect(failure.requestContext.condition).toBe('RecordAgeExceeded');
      expect(failure.requestContext.approximateInvokeCount).toBeGreaterThanOrEqual(1);
      expect(failure.DDBStreamBatchInfo.batchSize).toBe(3);
      expect(invoker.succeededRecords().map(numberOf)).toEqual([3]);
      expect(mapping.stats().recordsExpired).toBe(3);
    });
  });

  describe('TTL deletions and filter criteria', () => {
    it('should deliver TTL deletions as REMOVE by the DynamoDB service and filter out other records', async () => {
      // Arrange
      const { tableName, templateStreamArn } = await createTable({ ttl: true });
      const invoker = new FakeInvoker();
      const mapping = runner(
        {
          eventSourceArn: templateStreamArn,
          filterCriteria: { Filters: [{ Pattern: JSON.stringify({ userIdentity: { type: ['Service'] } }) }] },
        },
        invoker,
      );
      await mapping.start();
      const past = String(Math.floor(Date.now() / 1000) - 60);

      // Act
      await put(tableName, 'expiring', 1, { expiresAt: { N: past } });
      await put(tableName, 'expiring', 2, { expiresAt: { N: past } });
      await put(tableName, 'kept', 3);
      await ddb.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: 'kept' }, sk: { N: '3' } } }));
      await waitFor(() => invoker.succeededRecords().length >= 2, 'the TTL deletions', 30_000);

      // Assert
      const records = invoker.succeededRecords();
      expect(records.map((r) => r.eventName)).toEqual(['REMOVE', 'REMOVE']);
      expect(records.map((r) => r.userIdentity)).toEqual([
        { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
        { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      ]);
      expect(records.map(numberOf).sort()).toEqual([1, 2]);
      expect(mapping.stats().recordsFilteredOut).toBe(4);
    });
  });
});
