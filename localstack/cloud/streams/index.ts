/**
 * DynamoDB Stream → Lambda event source mappings, run against DynamoDB Local with the semantics of Lambda's
 * stream poller: ordered batches per shard with one batch in flight, parent shards drained before their
 * children, batching window, filter criteria, retries with bisection, partial batch responses, maximum record
 * age, an on-failure destination, and a checkpoint that survives restarts (at-least-once, no gap).
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  type _Record as SdkStreamRecord,
  type DescribeStreamCommandOutput,
  type GetRecordsCommandOutput,
  type GetShardIteratorCommandOutput,
  type ListStreamsCommandOutput,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import {
  functionArn,
  functionNameOf,
  LOCAL_ACCOUNT_ID,
  UnsupportedResourceError,
  type CloudLogger,
  type LambdaInvoker,
  type LambdaResult,
} from '../types';
import { compareSequenceNumbers, readCheckpoint, writeCheckpoint, type MappingCheckpoint, type ShardCheckpoint } from './checkpoint';
import { compileFilterCriteria, FilterPatternError, type RecordPredicate } from './filter';
import { toLambdaRecord, type LambdaDynamoDbRecord, type WireAttributeValue } from './records';

export { compileFilterCriteria, FilterPatternError } from './filter';
export { toLambdaRecord,    } from './records';
export type { LambdaDynamoDbRecord,  } from './records';
export { readCheckpoint, type MappingCheckpoint,  } from './checkpoint';

export interface StreamMappingConfig {
  uuid: string;
  functionName: string;
  /** The table's StreamArn as the template resolves it; DynamoDB Local's own ARN is looked up by table name. */
  eventSourceArn: string;
  batchSize: number;
  /** `TRIM_HORIZON` or `LATEST`, as the template says; anything else is refused at start-up. */
  startingPosition: string;
  maximumBatchingWindowInSeconds?: number;
  /** -1 = infinite (AWS default). */
  maximumRetryAttempts?: number;
  /** -1 = infinite (AWS default). */
  maximumRecordAgeInSeconds?: number;
  bisectBatchOnFunctionError?: boolean;
  /** `['ReportBatchItemFailures']` */
  functionResponseTypes?: string[];
  parallelizationFactor?: number;
  tumblingWindowInSeconds?: number;
  enabled?: boolean;
  filterCriteria?: { Filters: Array<{ Pattern: string }> };
  /** An SQS queue ARN. */
  onFailureDestinationArn?: string;
}

/** The part of `DynamoDBStreamsClient` the runner uses; tests may pass a fake. */
export interface StreamsClientLike {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy?(): void;
}

export interface StreamMappingRunnerOptions {
  config: StreamMappingConfig;
  /** DynamoDB Local endpoint. */
  streamsEndpoint: string;
  /** The function's execution role's key: Lambda reads the stream with it (default `local`, the administrator). */
  accessKeyId?: string;
  region: string;
  accountId?: string;
  lambda: LambdaInvoker;
  /** On-failure destination; `LocalSqs` fits. */
  sqs: { sendMessage(queueArn: string, body: string): Promise<unknown> };
  checkpointFile: string;
  logger?: CloudLogger;
  /** Wait after an empty GetRecords (default 50 ms). */
  pollIntervalMs?: number;
  /** How often the shard list is refreshed to find new shards (default 1,000 ms; a drained shard refreshes at once). */
  describeIntervalMs?: number;
  /** First retry delay after a failed batch, doubled per retry (default 100 ms). */
  retryBaseDelayMs?: number;
  /** Cap of the retry delay (default 2,000 ms). */
  retryMaxDelayMs?: number;
  /** How long stop() lets an in-flight invocation finish so its result is checkpointed (default 2,000 ms). */
  stopTimeoutMs?: number;
  /** Replaces the SDK client (tests). */
  streamsClient?: StreamsClientLike;
}

export interface StreamMappingStats {
  uuid: string;
  functionName: string;
  state: 'created' | 'disabled' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';
  streamArn?: string;
  shards: Array<{ shardId: string; parentShardId?: string; status: 'waiting' | 'active' | 'done'; checkpoint?: string }>;
  /** Records seen in the stream. */
  recordsRead: number;
  /** Records dropped by the filter criteria. */
  recordsFilteredOut: number;
  invocations: number;
  failedInvocations: number;
  partialFailures: number;
  /** Records in invocations that succeeded (a record counts once per successful invocation containing it). */
  recordsSucceeded: number;
  retries: number;
  bisections: number;
  /** Records given up on (retries exhausted or too old), whether or not a destination received them. */
  recordsDiscarded: number;
  recordsExpired: number;
  destinationMessages: number;
  lastError?: string;
}

/** Lambda's synchronous invocation payload limit. */
const PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
/** DynamoDB Local truncates ApproximateCreationDateTime to the minute; see arrivalEstimate(). */
const CREATION_TIME_GRANULARITY_MS = 60_000;
const GET_RECORDS_LIMIT = 1000;

interface Entry {
  record: LambdaDynamoDbRecord;
  seq: string;
  matched: boolean;
  size: number;
  /** Upper bound of the record's creation time, used for the record age. */
  createdAtMs: number;
  /** When the poller read it; the batching window starts with the oldest pending record. */
  fetchedAt: number;
  /** Parallel mode: delivered, discarded or filtered out. */
  settled?: boolean;
}

interface Chunk {
  entries: Entry[];
  retries: number;
  invokeCount: number;
  lastResponse?: Record<string, unknown>;
}

type InvokeOutcome =
  | { kind: 'success' }
  | { kind: 'partial'; firstFailedIndex: number }
  | { kind: 'failure'; reason: string }
  | { kind: 'stopped' };

class StoppedError extends Error {}

const noopLogger: CloudLogger = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * Shards that may be read now: not finished, and whose parent is finished or gone from the stream (trimmed).
 * Reading a child before its parent is drained would reorder the records of a key.
 */
export function readyShards(shards: Array<Pick<Shard, 'ShardId' | 'ParentShardId'>>, isDone: (shardId: string) => boolean): string[] {
  const present = new Set(shards.map(shardIdOf));
  return shards
    .filter((s) => !isDone(shardIdOf(s)))
    .filter((s) => !s.ParentShardId || !present.has(s.ParentShardId) || isDone(s.ParentShardId))
    .map(shardIdOf);
}

/** DynamoDB Streams always names a shard, though the SDK types every output field as optional. */
function shardIdOf(shard: Pick<Shard, 'ShardId'>): string {
  if (!shard.ShardId) throw new Error('DynamoDB Streams described a shard without a ShardId');
  return shard.ShardId;
}

/** The last of items the caller knows are there (a batch is never empty). */
function lastOf<T>(items: T[]): T {
  if (items.length === 0) throw new Error('stream mapping: expected a non-empty batch');
  return items[items.length - 1];
}

/**
 * Interprets a partial batch response the way Lambda does: no response, no list or an empty list means
 * success; an identifier that is missing, empty or not in the batch fails the whole batch; otherwise the
 * batch succeeded up to the lowest failed record.
 */
export function interpretBatchItemFailures(
  payload: unknown,
  sequenceNumbers: string[],
): { kind: 'success' } | { kind: 'partial'; firstFailedIndex: number } | { kind: 'failure'; reason: string } {
  let body = payload;
  if (typeof body === 'string') {
    if (body.trim() === '') return { kind: 'success' };
    try {
      body = JSON.parse(body);
    } catch {
      return { kind: 'success' };
    }
  }
  if (body === null || body === undefined || typeof body !== 'object') return { kind: 'success' };
  const failures = (body as Record<string, unknown>).batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'failure', reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'success' };
  let lowest = Infinity;
  for (const failure of failures) {
    const id = (failure as Record<string, unknown> | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '') return { kind: 'failure', reason: 'a batchItemFailures entry has no itemIdentifier' };
    const index = sequenceNumbers.indexOf(id);
    if (index < 0) return { kind: 'failure', reason: `itemIdentifier ${id} is not a sequence number of the batch` };
    lowest = Math.min(lowest, index);
  }
  return { kind: 'partial', firstFailedIndex: lowest };
}

/** FNV-1a: a stable spread of partition keys over lanes. */
function laneOf(key: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % lanes;
}

function errorName(error: unknown): string {
  return (error as { name?: string } | null | undefined)?.name ?? '';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isoSeconds(epochSeconds: number | undefined): string | undefined {
  if (epochSeconds === undefined) return undefined;
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class StreamMappingRunner {
  private readonly config: StreamMappingConfig;
  private readonly options: StreamMappingRunnerOptions;
  private readonly logger: CloudLogger;
  private client?: StreamsClientLike;
  private readonly filter: RecordPredicate;
  private readonly reportBatchItemFailures: boolean;
  private readonly functionArn: string;
  private readonly pollIntervalMs: number;
  private readonly describeIntervalMs: number;

  private state: StreamMappingStats['state'] = 'created';
  private localStreamArn?: string;
  private checkpoint?: MappingCheckpoint;
  private shards = new Map<string, Shard>();
  /** The table's partition key, which decides the lane of a record in parallel mode. */
  private hashKeyName?: string;
  private readonly workers = new Map<string, Promise<void>>();
  private supervisor?: Promise<void>;
  private abort = new AbortController();
  private stopping = false;
  /** Set once stop() returned: a late invocation result must not move the checkpoint any more. */
  private closed = false;
  /** The stop in progress, so concurrent stop() calls wait for the same end. */
  private stopped?: Promise<void>;
  private readonly sleepers = new Set<() => void>();
  private wakeSupervisor?: () => void;
  private readonly counters = {
    recordsRead: 0,
    recordsFilteredOut: 0,
    invocations: 0,
    failedInvocations: 0,
    partialFailures: 0,
    recordsSucceeded: 0,
    retries: 0,
    bisections: 0,
    recordsDiscarded: 0,
    recordsExpired: 0,
    destinationMessages: 0,
  };
  private lastError?: string;

  constructor(options: StreamMappingRunnerOptions) {
    this.options = options;
    this.config = options.config;
    this.logger = options.logger ?? noopLogger;
    this.validate();
    try {
      this.filter = compileFilterCriteria(this.config.filterCriteria);
    } catch (error) {
      if (error instanceof FilterPatternError) {
        throw new UnsupportedResourceError(`event source mapping ${this.config.uuid}: invalid FilterCriteria: ${error.message}`);
      }
      throw error;
    }
    this.reportBatchItemFailures = (this.config.functionResponseTypes ?? []).includes('ReportBatchItemFailures');
    this.functionArn = this.config.functionName.startsWith('arn:')
      ? this.config.functionName
      : functionArn(functionNameOf(this.config.functionName), options.region, options.accountId ?? LOCAL_ACCOUNT_ID);
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
    this.describeIntervalMs = options.describeIntervalMs ?? 1000;
  }

  /** Refuses, at start-up, what the local poller cannot honour faithfully. */
  private validate(): void {
    const c = this.config;
    const fail = (message: string): never => {
      throw new UnsupportedResourceError(`event source mapping ${c.uuid} (${c.functionName}): ${message}`);
    };
    const intIn = (value: number | undefined, name: string, min: number, max: number) => {
      if (value === undefined) return;
      if (!Number.isInteger(value) || value < min || value > max) fail(`${name} must be an integer in [${min}, ${max}], got ${value}`);
    };
    if (!/^arn:aws[\w-]*:dynamodb:[^:]*:[^:]*:table\/[^/]+\/stream\/.+$/.test(c.eventSourceArn)) {
      fail(`EventSourceArn ${c.eventSourceArn} is not a DynamoDB stream ARN (only DynamoDB stream sources are supported here)`);
    }
    intIn(c.batchSize, 'BatchSize', 1, 10_000);
    if (c.startingPosition !== 'TRIM_HORIZON' && c.startingPosition !== 'LATEST') {
      fail(`StartingPosition must be TRIM_HORIZON or LATEST, got ${c.startingPosition}`);
    }
    intIn(c.maximumBatchingWindowInSeconds, 'MaximumBatchingWindowInSeconds', 0, 300);
    intIn(c.maximumRetryAttempts, 'MaximumRetryAttempts', -1, 10_000);
    // AWS's minimum is 60 s; smaller values are accepted so tests need not wait a minute.
    intIn(c.maximumRecordAgeInSeconds, 'MaximumRecordAgeInSeconds', -1, 604_800);
    intIn(c.parallelizationFactor, 'ParallelizationFactor', 1, 10);
    if (c.tumblingWindowInSeconds) fail('TumblingWindowInSeconds (stateful tumbling windows) is not supported by the local cloud');
    for (const type of c.functionResponseTypes ?? []) {
      if (type !== 'ReportBatchItemFailures') fail(`unsupported FunctionResponseType ${type}`);
    }
    if (c.onFailureDestinationArn && !/^arn:aws[\w-]*:sqs:/.test(c.onFailureDestinationArn)) {
      fail(`on-failure destination ${c.onFailureDestinationArn} is not an SQS queue (SNS and S3 destinations are not supported locally)`);
    }
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    if (this.stopped) await this.stopped;
    if (this.state === 'running' || this.state === 'starting') return;
    if (this.config.enabled === false) {
      this.state = 'disabled';
      this.logger.info('stream mapping disabled', { uuid: this.config.uuid });
      return;
    }
    this.state = 'starting';
    this.stopping = false;
    this.closed = false;
    this.abort = new AbortController();
    // Created per start because stop() destroys it, so a stopped runner can be started again.
    this.client =
      this.options.streamsClient ??
      new DynamoDBStreamsClient({
        endpoint: this.options.streamsEndpoint,
        region: this.options.region,
        credentials: { accessKeyId: this.options.accessKeyId ?? 'local', secretAccessKey: 'local' },
      });
    try {
      this.localStreamArn = await this.resolveStreamArn();
      const shards = await this.describeAll();
      this.checkpoint = this.loadCheckpoint();
      if (!this.checkpoint) {
        this.checkpoint = { version: 1, uuid: this.config.uuid, streamArn: this.localStreamArn, shards: {}, updatedAt: '' };
        await this.applyStartingPosition(shards);
        this.persist();
      }
      this.mergeShards(shards);
    } catch (error) {
      if (this.isStopping()) return;
      this.state = 'failed';
      this.lastError = messageOf(error);
      this.disposeClient();
      throw error;
    }
    if (this.isStopping()) return;
    this.state = 'running';
    this.logger.info('stream mapping started', {
      uuid: this.config.uuid,
      functionName: this.config.functionName,
      streamArn: this.localStreamArn,
    });
    this.supervisor = this.supervise();
  }

  async stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    if (this.state !== 'running' && this.state !== 'starting') {
      if (this.state !== 'disabled' && this.state !== 'created') this.state = 'stopped';
      this.disposeClient();
      return;
    }
    this.state = 'stopping';
    this.stopping = true;
    this.abort.abort();
    for (const wake of [...this.sleepers]) wake();
    this.wakeSupervisor?.();
    this.stopped = (async () => {
      const all = Promise.allSettled([this.supervisor, ...this.workers.values()]);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.stopTimeoutMs ?? 2000)))]);
      clearTimeout(timer);
      this.closed = true;
      this.state = 'stopped';
      this.disposeClient();
      this.logger.info('stream mapping stopped', { uuid: this.config.uuid });
    })().finally(() => {
      this.stopped = undefined;
    });
    return this.stopped;
  }

  stats(): StreamMappingStats {
    const shards = [...this.shards].map(([shardId, s]) => {
      const ck = this.checkpoint?.shards[shardId];
      const status: 'waiting' | 'active' | 'done' = ck?.done ? 'done' : this.workers.has(shardId) ? 'active' : 'waiting';
      return {
        shardId,
        ...(s.ParentShardId ? { parentShardId: s.ParentShardId } : {}),
        status,
        ...(ck?.seq ? { checkpoint: ck.seq } : {}),
      };
    });
    return {
      uuid: this.config.uuid,
      functionName: this.config.functionName,
      state: this.state,
      ...(this.localStreamArn ? { streamArn: this.localStreamArn } : {}),
      shards,
      ...this.counters,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /**
   * Read through a call: stop() sets the flag while this runner awaits, which TypeScript's narrowing of the
   * field (from the last assignment or test before the await) does not see.
   */
  private isStopping(): boolean {
    return this.stopping;
  }

  /** The checkpoint, which start() loads or creates before any shard is read. */
  private startedCheckpoint(): MappingCheckpoint {
    if (!this.checkpoint) throw new Error(`stream mapping ${this.config.uuid} has no checkpoint: it was not started`);
    return this.checkpoint;
  }

  /** A shard's checkpoint, which the supervisor creates before it starts the shard's worker. */
  private shardCheckpoint(shardId: string): ShardCheckpoint {
    const state = this.startedCheckpoint().shards[shardId];
    if (!state) throw new Error(`stream mapping ${this.config.uuid} has no checkpoint for shard ${shardId}`);
    return state;
  }

  private disposeClient(): void {
    if (!this.options.streamsClient) this.client?.destroy?.();
    this.client = undefined;
  }

  // ------------------------------------------------------------------ stream and shards

  private async send<T>(command: unknown): Promise<T> {
    if (!this.client) throw new StoppedError('the stream mapping is stopped');
    return (await this.client.send(command, { abortSignal: this.abort.signal })) as T;
  }

  /**
   * The template's StreamArn carries the template's region and account and a label of its own, while DynamoDB
   * Local names streams `arn:aws:dynamodb:ddblocal:000000000000:…`; the table name identifies the stream.
   */
  private async resolveStreamArn(): Promise<string> {
    const arn = this.config.eventSourceArn;
    try {
      await this.send<DescribeStreamCommandOutput>(new DescribeStreamCommand({ StreamArn: arn, Limit: 1 }));
      return arn;
    } catch (error) {
      const name = errorName(error);
      if (name !== 'ResourceNotFoundException' && name !== 'ValidationException') throw error;
    }
    const m = /:table\/([^/]+)\/stream\/(.+)$/.exec(arn);
    // validate() refused any other EventSourceArn.
    if (!m) throw new UnsupportedResourceError(`event source mapping ${this.config.uuid}: EventSourceArn ${arn} is not a DynamoDB stream ARN`);
    const tableName = m[1];
    const label = m[2];
    const streams: NonNullable<ListStreamsCommandOutput['Streams']> = [];
    let start: string | undefined;
    do {
      const page = await this.send<ListStreamsCommandOutput>(
        new ListStreamsCommand({ TableName: tableName, ...(start ? { ExclusiveStartStreamArn: start } : {}) }),
      );
      streams.push(...(page.Streams ?? []));
      start = page.LastEvaluatedStreamArn;
    } while (start);
    const chosen = streams.find((s) => s.StreamLabel === label) ?? streams.at(-1);
    if (!chosen?.StreamArn) {
      throw new UnsupportedResourceError(
        `event source mapping ${this.config.uuid}: table ${tableName} has no stream in DynamoDB Local (is StreamSpecification set?)`,
      );
    }
    return chosen.StreamArn;
  }

  private async describeAll(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const out = await this.send<DescribeStreamCommandOutput>(
        new DescribeStreamCommand({ StreamArn: this.localStreamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }),
      );
      shards.push(...(out.StreamDescription?.Shards ?? []));
      this.hashKeyName ??= out.StreamDescription?.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  private loadCheckpoint(): MappingCheckpoint | undefined {
    let existing: MappingCheckpoint | undefined;
    try {
      existing = readCheckpoint(this.options.checkpointFile);
    } catch (error) {
      this.logger.warn('unreadable stream checkpoint; starting from the configured position', {
        uuid: this.config.uuid,
        error: String(error),
      });
      return undefined;
    }
    if (existing && existing.streamArn !== this.localStreamArn) {
      this.logger.warn('stream checkpoint belongs to another stream (table recreated?); starting from the configured position', {
        uuid: this.config.uuid,
        checkpointStream: existing.streamArn,
        stream: this.localStreamArn,
      });
      return undefined;
    }
    return existing;
  }

  /**
   * LATEST is pinned to a sequence number right away (by reading the open shards to their current end) so a
   * restart before the first record resumes from the same point instead of skipping what arrived meanwhile.
   */
  private async applyStartingPosition(shards: Shard[]): Promise<void> {
    const ck = this.startedCheckpoint();
    for (const shard of shards) {
      const id = shardIdOf(shard);
      if (this.config.startingPosition === 'TRIM_HORIZON') {
        ck.shards[id] = {};
        continue;
      }
      if (shard.SequenceNumberRange?.EndingSequenceNumber) {
        ck.shards[id] = { done: true };
        continue;
      }
      const tip = await this.readToTip(id);
      ck.shards[id] = tip ? { seq: tip } : {};
    }
  }

  private async readToTip(shardId: string): Promise<string | undefined> {
    let iterator = await this.iteratorFor(shardId, undefined);
    let last: string | undefined;
    while (iterator) {
      const out = await this.send<GetRecordsCommandOutput>(new GetRecordsCommand({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT }));
      const records = out.Records ?? [];
      if (records.length === 0) break;
      last = lastOf(records).dynamodb?.SequenceNumber ?? last;
      iterator = out.NextShardIterator;
    }
    return last;
  }

  private mergeShards(shards: Shard[]): void {
    const next = new Map<string, Shard>();
    for (const s of shards) next.set(shardIdOf(s), s);
    // Shards trimmed from the stream (24 h retention) leave the checkpoint once nobody reads them.
    const checkpoint = this.startedCheckpoint();
    checkpoint.shards = Object.fromEntries(Object.entries(checkpoint.shards).filter(([id]) => next.has(id) || this.workers.has(id)));
    this.shards = next;
  }

  private async supervise(): Promise<void> {
    while (!this.stopping) {
      try {
        this.mergeShards(await this.describeAll());
        const checkpoint = this.startedCheckpoint();
        const ready = readyShards([...this.shards.values()], (id) => checkpoint.shards[id]?.done === true);
        for (const id of ready) {
          if (this.workers.has(id)) continue;
          // A shard first seen after start-up is new: it is read from its beginning, whatever StartingPosition says.
          checkpoint.shards[id] ??= {};
          const worker = this.runShard(id)
            .catch((error: unknown) => {
              if (error instanceof StoppedError || this.stopping) return;
              this.lastError = messageOf(error);
              this.logger.error('stream shard worker failed; it will be restarted', { uuid: this.config.uuid, shardId: id, error: this.lastError });
            })
            .finally(() => {
              this.workers.delete(id);
              this.wakeSupervisor?.();
            });
          this.workers.set(id, worker);
        }
      } catch (error) {
        if (this.isStopping()) break;
        this.lastError = messageOf(error);
        this.logger.warn('DescribeStream failed', { uuid: this.config.uuid, error: this.lastError });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.describeIntervalMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wakeSupervisor = done;
      });
      this.wakeSupervisor = undefined;
    }
  }

  /**
   * One GetRecords call. An iterator that expired, or whose position was trimmed, is replaced from the last
   * fetched record (iteratorFor() falls back to the oldest record) and the call repeated. Undefined once stopping.
   */
  private async getRecords(shardId: string, iterator: string | undefined, lastFetched: string | undefined): Promise<GetRecordsCommandOutput | undefined> {
    let current = iterator;
    while (!this.stopping) {
      try {
        return await this.send<GetRecordsCommandOutput>(new GetRecordsCommand({ ShardIterator: current, Limit: GET_RECORDS_LIMIT }));
      } catch (error) {
        if (this.isStopping()) return undefined;
        const name = errorName(error);
        if (name !== 'ExpiredIteratorException' && name !== 'TrimmedDataAccessException') throw error;
        current = await this.iteratorFor(shardId, lastFetched);
      }
    }
    return undefined;
  }

  private async iteratorFor(shardId: string, afterSeq: string | undefined): Promise<string | undefined> {
    if (afterSeq) {
      try {
        return await this.iteratorOfType(shardId, afterSeq);
      } catch (error) {
        if (errorName(error) !== 'TrimmedDataAccessException') throw error;
        this.logger.warn('the checkpointed record was trimmed from the stream; reading the shard from its oldest record', {
          uuid: this.config.uuid,
          shardId,
        });
      }
    }
    return this.iteratorOfType(shardId, undefined);
  }

  private async iteratorOfType(shardId: string, afterSeq: string | undefined): Promise<string | undefined> {
    const out = await this.send<GetShardIteratorCommandOutput>(
      new GetShardIteratorCommand({
        StreamArn: this.localStreamArn,
        ShardId: shardId,
        ...(afterSeq
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: afterSeq }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return out.ShardIterator;
  }

  // ------------------------------------------------------------------ polling one shard

  private async runShard(shardId: string): Promise<void> {
    const factor = this.config.parallelizationFactor ?? 1;
    if (factor > 1) return this.runShardInLanes(shardId, factor);
    const state = this.shardCheckpoint(shardId);
    let lastFetched = state.seq;
    let iterator = await this.iteratorFor(shardId, lastFetched);
    let ended = !iterator;
    const pending: Entry[] = [];
    let lastFetchHadRecords = false;
    const windowMs = (this.config.maximumBatchingWindowInSeconds ?? 0) * 1000;

    while (!this.stopping) {
      let matched = 0;
      let bytes = 0;
      for (const e of pending) {
        if (!e.matched) continue;
        matched++;
        bytes += e.size;
      }
      const room = matched < this.config.batchSize && bytes < PAYLOAD_LIMIT_BYTES;
      if (!ended && room) {
        const out = await this.getRecords(shardId, iterator, lastFetched);
        if (!out) break;
        const now = Date.now();
        const records = out.Records ?? [];
        for (const raw of records) {
          const entry = this.toEntry(raw, now);
          pending.push(entry);
          if (entry.matched) {
            matched++;
            bytes += entry.size;
          }
        }
        if (records.length > 0) lastFetched = lastOf(pending).seq;
        lastFetchHadRecords = records.length > 0;
        iterator = out.NextShardIterator;
        if (!iterator) ended = true;
      }
      if (pending.length === 0) {
        if (ended) {
          state.done = true;
          this.persist();
          this.logger.debug('stream shard drained', { uuid: this.config.uuid, shardId });
          return;
        }
        await this.sleep(this.pollIntervalMs);
        continue;
      }
      const full = matched >= this.config.batchSize || bytes >= PAYLOAD_LIMIT_BYTES;
      const waited = Date.now() - pending[0].fetchedAt;
      if (!full && !ended && waited < windowMs) {
        // Gathering within the batching window: poll again at once while records flow, else wait a little.
        if (!lastFetchHadRecords) await this.sleep(Math.min(this.pollIntervalMs, windowMs - waited));
        continue;
      }
      const { batch, consumed } = this.takeBatch(pending);
      const settle = (done: Entry[]) => { this.commit(shardId, lastOf(done).seq); };
      const completed = batch.length === 0 ? true : await this.processBatch(shardId, batch, settle);
      if (!completed) return;
      this.commit(shardId, lastOf(consumed).seq);
    }
  }

  /**
   * ParallelizationFactor > 1: records are spread over that many lanes by partition key (so one key's records
   * stay in order in one lane) and the lanes invoke concurrently. The shard checkpoint only advances past a
   * record once it and every earlier record are settled, so a restart never skips an unfinished record.
   */
  private async runShardInLanes(shardId: string, factor: number): Promise<void> {
    const state = this.shardCheckpoint(shardId);
    const windowMs = (this.config.maximumBatchingWindowInSeconds ?? 0) * 1000;
    // Bounded read-ahead: enough to keep every lane busy with full batches.
    const capacity = Math.max(GET_RECORDS_LIMIT, this.config.batchSize * factor * 2);
    let lastFetched = state.seq;
    let iterator = await this.iteratorFor(shardId, lastFetched);
    let ended = !iterator;
    const order: Entry[] = [];
    const lanes = Array.from({ length: factor }, () => ({ queue: [] as Entry[], running: undefined as Promise<void> | undefined }));
    // Set by the lanes as they end; an object, so the loop below rereads what a lane wrote meanwhile.
    const lanesEnd: { stopped: boolean; error?: Error } = { stopped: false };
    const mainWakers = new Set<() => void>();

    const advance = () => {
      let last: Entry | undefined;
      while (order.length > 0 && order[0].settled) last = order.shift();
      if (last) this.commit(shardId, last.seq);
    };
    const settle = (done: Entry[]) => {
      for (const e of done) e.settled = true;
      advance();
    };
    const runLane = async (lane: (typeof lanes)[number]) => {
      while (lane.queue.length > 0 && !this.stopping) {
        const waited = Date.now() - lane.queue[0].fetchedAt;
        if (lane.queue.length < this.config.batchSize && !ended && waited < windowMs) {
          await this.sleep(Math.min(this.pollIntervalMs, windowMs - waited));
          continue;
        }
        const { batch } = this.takeBatch(lane.queue);
        if (!(await this.processBatch(shardId, batch, settle))) {
          lanesEnd.stopped = true;
          return;
        }
      }
    };

    while (!this.stopping && !lanesEnd.stopped) {
      let fetched = 0;
      if (!ended && order.length < capacity) {
        const out = await this.getRecords(shardId, iterator, lastFetched);
        if (!out) break;
        const now = Date.now();
        for (const raw of out.Records ?? []) {
          const entry = this.toEntry(raw, now);
          order.push(entry);
          lastFetched = entry.seq;
          fetched++;
          if (!entry.matched) entry.settled = true;
          else lanes[laneOf(this.partitionKeyOf(entry.record), factor)].queue.push(entry);
        }
        advance();
        iterator = out.NextShardIterator;
        if (!iterator) ended = true;
      }
      for (const lane of lanes) {
        if (lane.running || lane.queue.length === 0) continue;
        lane.running = runLane(lane)
          .catch((error: unknown) => {
            lanesEnd.error ??= error instanceof Error ? error : new Error(String(error));
            lanesEnd.stopped = true;
          })
          .finally(() => {
            lane.running = undefined;
            for (const wake of [...mainWakers]) wake();
          });
      }
      if (ended && order.length === 0 && lanes.every((l) => !l.running)) {
        state.done = true;
        this.persist();
        return;
      }
      // Poll again at once while records flow and there is room; otherwise wait (a finishing lane wakes us).
      if (fetched === 0 || order.length >= capacity || ended) await this.sleep(this.pollIntervalMs, mainWakers);
    }
    await Promise.allSettled(lanes.flatMap((l) => (l.running ? [l.running] : [])));
    // The supervisor restarts the shard from its checkpoint.
    if (lanesEnd.error) throw lanesEnd.error;
  }

  private partitionKeyOf(record: LambdaDynamoDbRecord): string {
    const keys: Partial<Record<string, WireAttributeValue>> = record.dynamodb.Keys ?? {};
    if (this.hashKeyName && keys[this.hashKeyName]) return JSON.stringify(keys[this.hashKeyName]);
    return JSON.stringify(keys);
  }

  private toEntry(raw: SdkStreamRecord, fetchedAt: number): Entry {
    const record = toLambdaRecord(raw, { region: this.options.region, eventSourceArn: this.config.eventSourceArn });
    this.counters.recordsRead++;
    const matched = this.filter(record);
    if (!matched) this.counters.recordsFilteredOut++;
    const approx = record.dynamodb.ApproximateCreationDateTime;
    // The creation time is at most one granularity step after the truncated timestamp, and no later than the
    // moment we read the record; taking the earlier of the two never expires a record early.
    const createdAtMs = approx === undefined ? fetchedAt : Math.min(approx * 1000 + CREATION_TIME_GRANULARITY_MS, fetchedAt);
    return {
      record,
      seq: record.dynamodb.SequenceNumber,
      matched,
      size: Buffer.byteLength(JSON.stringify(record)) + 1,
      createdAtMs,
      fetchedAt,
    };
  }

  /** Up to BatchSize matching records (and the filtered-out records among them) within the payload limit. */
  private takeBatch(pending: Entry[]): { batch: Entry[]; consumed: Entry[] } {
    const batch: Entry[] = [];
    let bytes = 16;
    let take = 0;
    for (; take < pending.length; take++) {
      const entry = pending[take];
      if (entry.matched) {
        if (batch.length >= this.config.batchSize) break;
        if (batch.length > 0 && bytes + entry.size > PAYLOAD_LIMIT_BYTES) break;
        batch.push(entry);
        bytes += entry.size;
      }
    }
    return { batch, consumed: pending.splice(0, take) };
  }

  // ------------------------------------------------------------------ delivering a batch

  /**
   * Delivers one batch to completion: success, or records given up on. `settle` is told, in order, which
   * records are finished so the checkpoint can move past them. Returns false when stopped first.
   */
  private async processBatch(shardId: string, entries: Entry[], settle: (done: Entry[]) => void): Promise<boolean> {
    const maxRetries = this.config.maximumRetryAttempts ?? -1;
    const maxAgeMs = (this.config.maximumRecordAgeInSeconds ?? -1) * 1000;
    const chunks: Chunk[] = [{ entries, retries: 0, invokeCount: 0 }];
    while (chunks.length > 0) {
      if (this.stopping) return false;
      const chunk = chunks[0];
      if (maxAgeMs >= 0) {
        const cutoff = Date.now() - maxAgeMs;
        let expired = 0;
        while (expired < chunk.entries.length && chunk.entries[expired].createdAtMs < cutoff) expired++;
        if (expired > 0) {
          const gone = chunk.entries.splice(0, expired);
          this.counters.recordsExpired += gone.length;
          await this.discard(shardId, gone, 'RecordAgeExceeded', chunk);
          settle(gone);
          if (chunk.entries.length === 0) chunks.shift();
          continue;
        }
      }
      const outcome = await this.invoke(chunk);
      if (outcome.kind === 'stopped') return false;
      if (outcome.kind === 'success') {
        this.counters.recordsSucceeded += chunk.entries.length;
        settle(chunk.entries);
        chunks.shift();
        continue;
      }
      if (outcome.kind === 'partial') {
        this.counters.partialFailures++;
        const done = chunk.entries.splice(0, outcome.firstFailedIndex);
        if (done.length > 0) {
          this.counters.recordsSucceeded += done.length;
          settle(done);
        }
      } else if (this.config.bisectBatchOnFunctionError && chunk.entries.length > 1) {
        // Splitting does not use up a retry (AWS): the halves inherit the retry count so far.
        const half = Math.ceil(chunk.entries.length / 2);
        this.counters.bisections++;
        chunks.splice(
          0,
          1,
          { ...chunk, entries: chunk.entries.slice(0, half) },
          { ...chunk, entries: chunk.entries.slice(half) },
        );
        continue;
      }
      chunk.retries++;
      if (maxRetries >= 0 && chunk.retries > maxRetries) {
        await this.discard(shardId, chunk.entries, 'RetryAttemptsExhausted', chunk);
        settle(chunk.entries);
        chunks.shift();
        continue;
      }
      this.counters.retries++;
      const base = this.options.retryBaseDelayMs ?? 100;
      await this.sleep(Math.min(base * 2 ** (chunk.retries - 1), this.options.retryMaxDelayMs ?? 2000));
    }
    return true;
  }

  private async invoke(chunk: Chunk): Promise<InvokeOutcome> {
    const event = { Records: chunk.entries.map((e) => e.record) };
    chunk.invokeCount++;
    this.counters.invocations++;
    let result: LambdaResult;
    try {
      result = await this.options.lambda.invoke(this.config.functionName, event);
    } catch (error) {
      if (this.closed) return { kind: 'stopped' };
      this.counters.failedInvocations++;
      const name = errorName(error);
      this.lastError = `${name}: ${messageOf(error)}`;
      chunk.lastResponse = { statusCode: name === 'ResourceNotFoundException' ? 404 : 500, executedVersion: '$LATEST' };
      this.logger.error('stream mapping could not invoke its function', { uuid: this.config.uuid, functionName: this.config.functionName, error: this.lastError });
      return { kind: 'failure', reason: this.lastError };
    }
    if (this.closed) return { kind: 'stopped' };
    if (!result.ok) {
      this.counters.failedInvocations++;
      this.lastError = `${result.errorType}: ${result.errorMessage}`;
      chunk.lastResponse = { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' };
      this.logger.warn('stream batch failed', { uuid: this.config.uuid, records: chunk.entries.length, error: this.lastError });
      return { kind: 'failure', reason: this.lastError };
    }
    chunk.lastResponse = { statusCode: 200, executedVersion: '$LATEST' };
    if (!this.reportBatchItemFailures) return { kind: 'success' };
    const verdict = interpretBatchItemFailures(
      result.payload,
      chunk.entries.map((e) => e.seq),
    );
    if (verdict.kind === 'failure') {
      this.counters.failedInvocations++;
      this.lastError = `invalid partial batch response: ${verdict.reason}`;
      this.logger.warn('stream batch failed', { uuid: this.config.uuid, records: chunk.entries.length, error: this.lastError });
    }
    return verdict;
  }

  /** Hands the batch description (never the records themselves) to the on-failure destination, as AWS does. */
  private async discard(shardId: string, entries: Entry[], condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded', chunk: Chunk): Promise<void> {
    this.counters.recordsDiscarded += entries.length;
    const first = entries[0];
    const last = lastOf(entries);
    const info = {
      requestContext: {
        requestId: randomUUID(),
        functionArn: this.functionArn,
        condition,
        approximateInvokeCount: chunk.invokeCount,
      },
      responseContext: chunk.lastResponse ?? {},
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: first.seq,
        endSequenceNumber: last.seq,
        approximateArrivalOfFirstRecord: isoSeconds(first.record.dynamodb.ApproximateCreationDateTime),
        approximateArrivalOfLastRecord: isoSeconds(last.record.dynamodb.ApproximateCreationDateTime),
        batchSize: entries.length,
        streamArn: this.config.eventSourceArn,
      },
    };
    const destination = this.config.onFailureDestinationArn;
    if (!destination) {
      this.logger.warn('stream records discarded (no on-failure destination)', { uuid: this.config.uuid, condition, ...info.DDBStreamBatchInfo });
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.sqs.sendMessage(destination, JSON.stringify(info));
        this.counters.destinationMessages++;
        this.logger.warn('stream records sent to the on-failure destination', { uuid: this.config.uuid, condition, destination, batchSize: entries.length });
        return;
      } catch (error) {
        if (attempt >= 3 || this.stopping) {
          this.lastError = `on-failure destination ${destination}: ${messageOf(error)}`;
          this.logger.error('could not send to the on-failure destination; records dropped', { uuid: this.config.uuid, error: this.lastError });
          return;
        }
        await this.sleep(this.options.retryBaseDelayMs ?? 100);
      }
    }
  }

  // ------------------------------------------------------------------ checkpoint and timers

  private commit(shardId: string, seq: string): void {
    if (this.closed) return;
    const state = (this.startedCheckpoint().shards[shardId] ??= {});
    if (state.seq && compareSequenceNumbers(seq, state.seq) <= 0) return;
    state.seq = seq;
    this.persist();
  }

  private persist(): void {
    if (this.closed || !this.checkpoint) return;
    writeCheckpoint(this.options.checkpointFile, this.checkpoint);
  }

  /** A timer that stop() cuts short, as can whoever holds `wakers`. */
  private sleep(ms: number, wakers?: Set<() => void>): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        wakers?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.sleepers.add(done);
      wakers?.add(done);
    });
  }
}
