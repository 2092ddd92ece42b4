import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { readCheckpoint, StreamMappingRunner, type StreamMappingConfig, type StreamsClientLike } from '../../../../localstack/cloud/streams';
import { UnsupportedResourceError } from '../../../../localstack/cloud/types';
import { FakeInvoker, fail, numberOf, ok, waitFor } from './helpers';

/** Whether the checkpoint file marks a shard done (the file, and the shard's entry, may not exist yet). */
function shardDone(file: string, shardId: string): boolean {
  const shards: Partial<Record<string, { done?: boolean }>> = readCheckpoint(file)?.shards ?? {};
  return shards[shardId]?.done === true;
}

const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/events/stream/2026-01-01T00:00:00.000';

interface FakeShard {
  id: string;
  parent?: string;
  closed: boolean;
  records: number[];
}

/**
 * A DynamoDB Streams double with shard lineage, the way DynamoDB Local rotates shards: a closed parent and
 * an open child. Sequence numbers are the record numbers.
 */
class FakeStreams implements StreamsClientLike {
  readonly reads: string[] = [];
  expireNextIterator = false;

  constructor(readonly shards: FakeShard[]) {}

  async send(command: unknown): Promise<unknown> {
    const input = (command as { input: { ShardId?: string; SequenceNumber?: string; ShardIteratorType?: string; ShardIterator?: string; Limit?: number } }).input;
    if (command instanceof DescribeStreamCommand) {
      return {
        StreamDescription: {
          StreamArn: STREAM_ARN,
          Shards: this.shards.map((s) => ({
            ShardId: s.id,
            ...(s.parent ? { ParentShardId: s.parent } : {}),
            SequenceNumberRange: {
              StartingSequenceNumber: String(s.records[0] ?? 0),
              ...(s.closed ? { EndingSequenceNumber: String(s.records.at(-1) ?? 0) } : {}),
            },
          })),
        },
      };
    }
    if (command instanceof ListStreamsCommand) return { Streams: [{ StreamArn: STREAM_ARN, TableName: 'events' }] };
    if (command instanceof GetShardIteratorCommand) {
      const shard = this.shards.find((s) => s.id === input.ShardId)!;
      const after = input.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER' ? Number(input.SequenceNumber) : -Infinity;
      const position = shard.records.filter((n) => n <= after).length;
      return { ShardIterator: `${shard.id}|${position}` };
    }
    if (command instanceof GetRecordsCommand) {
      if (this.expireNextIterator) {
        this.expireNextIterator = false;
        throw Object.assign(new Error('Iterator expired'), { name: 'ExpiredIteratorException' });
      }
      const [id, pos] = String(input.ShardIterator).split('|');
      const shard = this.shards.find((s) => s.id === id)!;
      const start = Number(pos);
      const slice = shard.records.slice(start, start + (input.Limit ?? 1000));
      if (slice.length > 0) this.reads.push(id);
      const next = start + slice.length;
      return {
        Records: slice.map((n) => ({
          eventID: `e${n}`,
          eventName: 'INSERT',
          dynamodb: {
            ApproximateCreationDateTime: new Date(),
            Keys: { pk: { S: 'k' } },
            NewImage: { pk: { S: 'k' }, n: { N: String(n) } },
            SequenceNumber: String(n),
            SizeBytes: 10,
            StreamViewType: 'NEW_IMAGE',
          },
        })),
        ...(shard.closed && next >= shard.records.length ? {} : { NextShardIterator: `${id}|${next}` }),
      };
    }
    throw new Error(`unexpected command ${(command as object).constructor.name}`);
  }
}

describe('Class: StreamMappingRunner (with a fake stream)', () => {
  let dir: string;
  const runners: StreamMappingRunner[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stream-fake-'));
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  function make(streams: StreamsClientLike, invoker: FakeInvoker, config: Partial<StreamMappingConfig> = {}) {
    const runner = new StreamMappingRunner({
      config: { uuid: 'm-1', functionName: 'fn', eventSourceArn: STREAM_ARN, batchSize: 2, startingPosition: 'TRIM_HORIZON', ...config },
      streamsEndpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      lambda: invoker,
      sqs: { sendMessage: async () => undefined },
      checkpointFile: join(dir, 'checkpoint.json'),
      pollIntervalMs: 10,
      describeIntervalMs: 50,
      retryBaseDelayMs: 5,
      streamsClient: streams,
    });
    runners.push(runner);
    return runner;
  }

  describe('Method: start', () => {
    it('should drain a parent shard before reading its child', async () => {
      // Arrange
      const streams = new FakeStreams([
        { id: 'child', parent: 'parent', closed: false, records: [4, 5, 6] },
        { id: 'parent', closed: true, records: [1, 2, 3] },
      ]);
      const invoker = new FakeInvoker();

      // Act
      await make(streams, invoker).start();
      await waitFor(() => invoker.succeededRecords().length >= 6, 'six records');

      // Assert
      expect(invoker.succeededRecords().map(numberOf)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(streams.reads.indexOf('child')).toBeGreaterThan(streams.reads.lastIndexOf('parent'));
      await waitFor(() => shardDone(join(dir, 'checkpoint.json'), 'parent'), 'the parent marked done');
    });

    it('should pick up a child shard that appears later, from its beginning', async () => {
      const streams = new FakeStreams([{ id: 'first', closed: false, records: [1, 2] }]);
      const invoker = new FakeInvoker();
      await make(streams, invoker, { startingPosition: 'LATEST' }).start();

      streams.shards[0].records.push(3);
      streams.shards[0].closed = true;
      streams.shards.push({ id: 'second', parent: 'first', closed: false, records: [4, 5] });
      await waitFor(() => invoker.succeededRecords().length >= 3, 'records 3 to 5');

      expect(invoker.succeededRecords().map(numberOf)).toEqual([3, 4, 5]);
    });

    it('should renew an expired iterator from the last record read', async () => {
      const streams = new FakeStreams([{ id: 's', closed: false, records: [1, 2, 3, 4] }]);
      streams.expireNextIterator = true;
      const invoker = new FakeInvoker();

      await make(streams, invoker).start();
      await waitFor(() => invoker.succeededRecords().length >= 4, 'four records');

      expect(invoker.succeededRecords().map(numberOf)).toEqual([1, 2, 3, 4]);
    });

    it('should do nothing when the mapping is disabled', async () => {
      const invoker = new FakeInvoker();
      const runner = make(new FakeStreams([{ id: 's', closed: false, records: [1] }]), invoker, { enabled: false });

      await runner.start();

      expect(invoker.calls).toHaveLength(0);
      expect(runner.stats()).toMatchObject({ state: 'disabled', shards: [], recordsRead: 0 });
    });
  });

  describe('Method: stop', () => {
    it('should end promptly while a batch is being retried forever', async () => {
      // Arrange
      const invoker = new FakeInvoker(() => fail());
      const runner = make(new FakeStreams([{ id: 's', closed: false, records: [1, 2] }]), invoker, { maximumRetryAttempts: -1 });
      await runner.start();
      await waitFor(() => invoker.calls.length >= 3, 'a few retries');

      // Act
      const started = Date.now();
      await runner.stop();

      // Assert
      expect(Date.now() - started).toBeLessThan(500);
      expect(runner.stats()).toMatchObject({ state: 'stopped', recordsSucceeded: 0 });
      expect(runner.stats().shards.every((s) => s.status !== 'active')).toBe(true);
    });
  });

  describe('Method: start after stop', () => {
    it('should resume the same runner from its checkpoint', async () => {
      const streams = new FakeStreams([{ id: 's', closed: false, records: [1, 2] }]);
      const invoker = new FakeInvoker();
      const runner = make(streams, invoker);
      await runner.start();
      await waitFor(() => invoker.succeededRecords().length >= 2, 'two records');
      await runner.stop();

      streams.shards[0].records.push(3, 4);
      await runner.start();
      await waitFor(() => invoker.succeededRecords().length >= 4, 'four records');

      expect(invoker.succeededRecords().map(numberOf)).toEqual([1, 2, 3, 4]);
      expect(runner.stats().state).toBe('running');
    });
  });

  describe('Constructor', () => {
    const build = (config: Partial<StreamMappingConfig>) => () => make(new FakeStreams([]), new FakeInvoker(), config);

    it('should refuse what the local poller cannot honour, naming the mapping', () => {
      expect(build({ tumblingWindowInSeconds: 60 })).toThrow(UnsupportedResourceError);
      expect(build({ tumblingWindowInSeconds: 60 })).toThrow(/m-1 \(fn\).*TumblingWindowInSeconds/);
      expect(build({ onFailureDestinationArn: 'arn:aws:sns:us-east-1:000000000000:topic' })).toThrow(/not an SQS queue/);
      expect(build({ batchSize: 0 })).toThrow(/BatchSize/);
      expect(build({ functionResponseTypes: ['Other'] })).toThrow(/FunctionResponseType/);
      expect(build({ eventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/x' })).toThrow(/not a DynamoDB stream ARN/);
      expect(build({ filterCriteria: { Filters: [{ Pattern: '{"a":[{"wildcard":"*"}]}' }] } })).toThrow(/invalid FilterCriteria/);
    });

    it('should accept a valid configuration', () => {
      expect(build({ filterCriteria: { Filters: [{ Pattern: '{"eventName":["INSERT"]}' }] }, parallelizationFactor: 2 })).not.toThrow();
    });
  });

  describe('Method: stats', () => {
    it('should count invocations, retries and successes', async () => {
      let calls = 0;
      const invoker = new FakeInvoker(() => (++calls === 1 ? fail() : ok()));
      const runner = make(new FakeStreams([{ id: 's', closed: true, records: [1, 2] }]), invoker);

      await runner.start();
      await waitFor(() => runner.stats().shards[0]?.status === 'done', 'the shard drained');

      expect(runner.stats()).toMatchObject({
        state: 'running',
        recordsRead: 2,
        invocations: 2,
        failedInvocations: 1,
        retries: 1,
        recordsSucceeded: 2,
        shards: [{ shardId: 's', status: 'done', checkpoint: '2' }],
      });
    });
  });
});
