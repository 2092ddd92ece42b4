import { PutCommand, QueryCommand, UpdateCommand, GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './clients';
import {
  EventValidationError,
  validatePayload,
  type EventEnvelope,
  type EventName,
  type PayloadOf,
} from '../core/events/schemas';
import { blockFromCounter, SeqAllocator } from '../core/events/sequence';
import { ProgressCoalescer, progressKey, type CoalescerOptions } from '../core/events/coalesce';
import { ledgerAdds, parseLedger, spendOfEvent, type RunSpend, type SpendItem } from '../core/runs/spend';
import { isConditionFailure, updateIf } from './conditions';
import { present } from '../core/invariants';

/**
 * The run event log in DynamoDB: the one emitter every producer uses (engine, finalizer, control API, agent
 * runtime), and the readers the broadcaster, the WebSocket replay and the REST replay share.
 *
 * Layout of the events table (pk `runId`, sk `seq`):
 * - `seq = 0` is the run's counter item `{runId, seq: 0, next, expiresAt}`; it is never an event (seq starts at
 *   1) and every reader skips it. Keeping it in the events table needs no extra table or grant.
 * - `seq >= 1` are events `{runId, seq, event, at, payload, expiresAt}`.
 *
 * Allocation follows lambdas/core/events/sequence.ts: one atomic `ADD next :n` per flush reserves exactly the
 * numbers of the events gathered while the flush was pending, then one conditional Put per event. Emits made in
 * the same tick for the same run share a flush, so a producer emitting several events at once (the agent
 * runtime, the coalescer) pays 1 + 1/n writes per event.
 *
 * The counter item is also the run's spend ledger (lambdas/core/runs/spend.ts): the tokens and cost an
 * ItemCompleted / ItemFailed carries are ADDed in the same UpdateItem that reserves its number, once per emit
 * (an event re-emitted under a new number after a reader filled its old one does not add them again).
 */

export const COUNTER_SEQ = 0;
const DEFAULT_RETENTION_SECONDS = 30 * 24 * 3600;
/**
 * A missing seq below a present one is presumed abandoned (its emitter died) once a reader has watched it stay
 * missing this long. Measured by the reader, not from timestamps: under load an emitter's Put can land seconds
 * after the `at` it stamped at emit time, and filling its number early would cost it a re-emit.
 */
const DEFAULT_HOLE_GRACE_MS = 5_000;
/** A stateless reader (REST) fills a hole whose next event was emitted this long ago: no Put is that late. */
const DEFAULT_STALE_HOLE_MS = 60_000;
/** DynamoDB items are at most 400 KB; keep clear of it so the envelope and attributes fit. */
const MAX_PAYLOAD_BYTES = 350 * 1024;
const MAX_FLUSH = 100;

export interface StoredEvent {
  runId: string;
  seq: number;
  event: string;
  at: string;
  payload: Record<string, unknown>;
  expiresAt?: number;
  /** Attributes stored beside the envelope (emit option `attributes`); never sent to clients. */
  [attribute: string]: unknown;
}

export interface EmitOptions {
  /**
   * Extra item attributes stored beside the envelope and never sent to clients. The broadcaster honours a
   * `fault` attribute in the local cloud only (see lambdas/broadcaster/fault-injection.ts).
   */
  attributes?: Record<string, unknown>;
}

export interface EventStoreStats {
  /** Events written (fillers excluded). */
  events: number;
  /** Conditional event Puts issued, including retried and failed ones. */
  eventPuts: number;
  /** Counter ADDs issued. */
  counterUpdates: number;
  /** Noop fillers written. */
  fillers: number;
  /** Events re-emitted under a new number because a filler took theirs. */
  reEmitted: number;
}

export interface EventStoreOptions {
  tableName: string;
  client?: DynamoDBDocumentClient;
  /** How long events are kept (TTL). Default EVENTS_RETENTION_DAYS or 30 days. */
  retentionSeconds?: number;
  /** Milliseconds since the epoch; injected by tests. */
  clock?: () => number;
  /** ItemProgress coalescing (K per item per window); false turns it off. */
  progress?: CoalescerOptions | false;
  holeGraceMs?: number;
  staleHoleMs?: number;
}

interface Pending {
  runId: string;
  event: EventName;
  payload: Record<string, unknown>;
  at: string;
  attributes?: Record<string, unknown>;
  /** What the event spent, for the run's ledger; `spendCounted` once a reserve carried it. */
  spend?: SpendItem;
  spendCounted?: boolean;
  resolve: (event: EventEnvelope) => void;
  reject: (error: unknown) => void;
}

function retentionFromEnv(): number {
  const days = Number(process.env.EVENTS_RETENTION_DAYS);
  return Number.isFinite(days) && days > 0 ? Math.round(days * 24 * 3600) : DEFAULT_RETENTION_SECONDS;
}

export function toEnvelope(item: Record<string, unknown>): EventEnvelope {
  return { runId: item.runId, seq: item.seq, event: item.event, at: item.at, payload: item.payload ?? {} } as EventEnvelope;
}

/**
 * The payload is stored as a JSON string: it is opaque to DynamoDB (never queried), round-trips exactly (no
 * Number or empty-set quirks), and an empty payload is not an empty map, which some stream readers mishandle.
 */
function toItem(event: StoredEvent): Record<string, unknown> {
  return { ...event, payload: JSON.stringify(event.payload) };
}

/** A stored item (from a read or a stream image) as an event, payload parsed. */
export function fromItem(item: Record<string, unknown>): StoredEvent {
  const payload = typeof item.payload === 'string' ? (JSON.parse(item.payload) as Record<string, unknown>) : ((item.payload as Record<string, unknown> | undefined) ?? {});
  return { ...item, payload } as StoredEvent;
}

export interface ContiguousPage {
  /** Events after afterSeq with no hole, in seq order. */
  events: StoredEvent[];
  /** The first missing seq, when a later one exists (an emitter mid-write, or dead). */
  hole?: { seq: number; /** `at` of the first event after the hole: how long the hole has been there, at least. */ nextAt: string };
  /** More stored events may follow (the page hit its limit). */
  more: boolean;
}

export class EventStore {
  readonly tableName: string;
  readonly stats: EventStoreStats = { events: 0, eventPuts: 0, counterUpdates: 0, fillers: 0, reEmitted: 0 };
  private readonly client: DynamoDBDocumentClient;
  private readonly retentionSeconds: number;
  private readonly clock: () => number;
  readonly holeGraceMs: number;
  private readonly staleHoleMs: number;
  private readonly coalescer: ProgressCoalescer | undefined;
  private readonly queues = new Map<string, Pending[]>();
  private readonly flushing = new Map<string, Promise<void>>();
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(options: EventStoreOptions) {
    this.tableName = options.tableName;
    this.client = options.client ?? dynamo();
    this.retentionSeconds = options.retentionSeconds ?? retentionFromEnv();
    this.clock = options.clock ?? Date.now;
    this.holeGraceMs = options.holeGraceMs ?? DEFAULT_HOLE_GRACE_MS;
    this.staleHoleMs = options.staleHoleMs ?? DEFAULT_STALE_HOLE_MS;
    this.coalescer = options.progress === false ? undefined : new ProgressCoalescer(options.progress ?? {});
  }

  // ---------------------------------------------------------------- emitting

  /**
   * Validates and appends one event. Resolves with the stored envelope, or with undefined for an ItemProgress
   * the coalescer held back (it is written later by flushProgress/drainProgress or superseded).
   */
  async emit<E extends EventName>(runId: string, event: E, payload: PayloadOf<E>, options: EmitOptions = {}): Promise<EventEnvelope | undefined> {
    const valid = validatePayload(event, payload) as Record<string, unknown>;
    checkSize(event, valid);
    const now = this.clock();
    let toWrite = valid;
    if (this.coalescer) {
      if (event === 'ItemProgress') {
        const key = progressKey(runId, String(valid.stepId), String(valid.item));
        const released = this.coalescer.offer(key, valid as PayloadOf<'ItemProgress'>, now);
        this.scheduleProgressFlush();
        if (!released) return undefined;
        toWrite = released as unknown as Record<string, unknown>;
      } else if (event === 'ItemCompleted' || event === 'ItemFailed') {
        const key = progressKey(runId, String(valid.stepId), String(valid.item));
        const held = this.coalescer.settle(key, event === 'ItemCompleted' ? 'completed' : 'failed');
        if (held && event === 'ItemFailed' && valid.lastProgress === undefined) {
          toWrite = { ...valid, lastProgress: { progress: held.progress, tokensUsed: held.tokensUsed, ...(held.costUsd !== undefined ? { costUsd: held.costUsd } : {}) } };
        }
      }
    }
    return this.enqueue(runId, event, toWrite, new Date(now).toISOString(), options.attributes);
  }

  /**
   * Appends several events of one run in the given order with one counter ADD. Every payload is validated
   * before anything is written, so a bad one rejects the whole call with nothing written. No coalescing: the
   * caller chose these events.
   */
  async emitMany(runId: string, events: ReadonlyArray<{ event: EventName; payload: unknown; attributes?: Record<string, unknown> }>): Promise<EventEnvelope[]> {
    const at = new Date(this.clock()).toISOString();
    const valid = events.map(({ event, payload, attributes }) => {
      const p = validatePayload(event, payload) as Record<string, unknown>;
      checkSize(event, p);
      return { event, payload: p, attributes };
    });
    return Promise.all(valid.map((e) => this.enqueue(runId, e.event, e.payload, at, e.attributes)));
  }

  /** Writes held ItemProgress whose window has room again (call before an invocation ends, or on a timer). */
  async flushProgress(): Promise<EventEnvelope[]> {
    if (!this.coalescer) return [];
    return this.writeReleased(this.coalescer.flushDue(this.clock()));
  }

  /** Writes every held ItemProgress regardless of rate: for an invocation that ends with items unsettled. */
  async drainProgress(): Promise<EventEnvelope[]> {
    if (!this.coalescer) return [];
    return this.writeReleased(this.coalescer.drain());
  }

  /** Waits for every pending write; stops the progress timer. */
  async close(): Promise<void> {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = undefined;
    await Promise.all([...this.flushing.values()]);
  }

  private async writeReleased(released: Array<{ key: string; update: Record<string, unknown> | object }>): Promise<EventEnvelope[]> {
    const out = await Promise.all(
      released.map(({ key, update }) => {
        const [runId, stepId, item] = JSON.parse(key) as [string, string, string];
        return this.enqueue(runId, 'ItemProgress', { ...(update as object), stepId, item }, new Date(this.clock()).toISOString());
      }),
    );
    return out;
  }

  private scheduleProgressFlush(): void {
    if (!this.coalescer || this.progressTimer) return;
    const due = this.coalescer.nextDueAt();
    if (due === undefined) return;
    // unref: a Lambda that returns must not be kept alive by held progress; it calls drainProgress instead.
    this.progressTimer = setTimeout(() => {
      this.progressTimer = undefined;
      void this.flushProgress().finally(() => { this.scheduleProgressFlush(); });
    }, Math.max(0, due - this.clock()));
    this.progressTimer.unref();
  }

  private enqueue(runId: string, event: EventName, payload: Record<string, unknown>, at: string, attributes?: Record<string, unknown>): Promise<EventEnvelope> {
    const spend = spendOfEvent(event, payload);
    return new Promise<EventEnvelope>((resolve, reject) => {
      let queue = this.queues.get(runId);
      if (!queue) this.queues.set(runId, (queue = []));
      queue.push({ runId, event, payload, at, attributes, ...(spend ? { spend } : {}), resolve, reject });
      this.kick(runId);
    });
  }

  /** One flush per run at a time; emits arriving meanwhile wait for the next flush and share its ADD. */
  private kick(runId: string): void {
    if (this.flushing.has(runId)) return;
    const run = (async () => {
      // Let the rest of this tick's emits join the flush.
      await new Promise<void>((r) => setImmediate(r));
      for (;;) {
        const queue = this.queues.get(runId);
        if (!queue || queue.length === 0) break;
        const batch = queue.splice(0, MAX_FLUSH);
        await this.flush(runId, batch);
      }
      this.queues.delete(runId);
    })().finally(() => {
      this.flushing.delete(runId);
      if ((this.queues.get(runId)?.length ?? 0) > 0) this.kick(runId);
    });
    this.flushing.set(runId, run);
  }

  private expiresAt(): number {
    return Math.floor(this.clock() / 1000) + this.retentionSeconds;
  }

  /** Reserves `n` numbers with one atomic ADD on the counter item, adding the spend of the events to the ledger. */
  private async reserve(runId: string, n: number, spend: readonly SpendItem[] = []): Promise<number[]> {
    this.stats.counterUpdates++;
    const adds = [...ledgerAdds(spend)];
    const names: Record<string, string> = { '#next': 'next' };
    const values: Record<string, unknown> = { ':n': n, ':exp': this.expiresAt() };
    const terms = ['#next :n'];
    adds.forEach(([name, value], i) => {
      names[`#s${i}`] = name;
      values[`:s${i}`] = value;
      terms.push(`#s${i} :s${i}`);
    });
    const result = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { runId, seq: COUNTER_SEQ },
        // The counter lives as long as the newest event, so numbering never restarts under live events.
        UpdateExpression: `ADD ${terms.join(', ')} SET expiresAt = :exp`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const allocator = new SeqAllocator();
    allocator.addBlock(blockFromCounter(Number(present(result.Attributes, 'result.Attributes').next), n));
    return allocator.take(n);
  }

  private async flush(runId: string, batch: Pending[]): Promise<void> {
    let numbers: number[];
    const spending = batch.filter((p) => p.spend && !p.spendCounted);
    try {
      numbers = await this.reserve(runId, batch.length, spending.map((p) => present(p.spend, 'p.spend')));
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    // Counted now, whatever happens to the Put: the attempt spent it. A re-emission under a new number must not add it again.
    for (const p of spending) p.spendCounted = true;
    const expiresAt = this.expiresAt();
    const retry: Pending[] = [];
    await Promise.all(
      batch.map(async (p, i) => {
        const seq = numbers[i];
        const envelope = { runId, seq, event: p.event, at: p.at, payload: p.payload } as EventEnvelope;
        try {
          this.stats.eventPuts++;
          await this.client.send(
            new PutCommand({
              TableName: this.tableName,
              Item: toItem({ ...p.attributes, ...envelope, expiresAt }),
              ConditionExpression: 'attribute_not_exists(seq)',
            }),
          );
          this.stats.events++;
          p.resolve(envelope);
        } catch (error) {
          if (isConditionFailure(error)) {
            // A reader filled this number with a Noop (it took us longer than the grace period): never overwrite
            // what subscribers may have seen; take a new number instead.
            this.stats.reEmitted++;
            retry.push(p);
            return;
          }
          p.reject(error);
          // Our number would stay a hole until a reader's grace period ran out; fill it now if we can.
          await this.fill(runId, seq, 'emit failed').catch(() => undefined);
        }
      }),
    );
    if (retry.length > 0) {
      const queue = this.queues.get(runId) ?? [];
      queue.unshift(...retry);
      this.queues.set(runId, queue);
    }
  }

  // ---------------------------------------------------------------- reading

  /**
   * Writes a `Noop` at seq unless an event is there already, and returns whatever now holds the number.
   * Conditional, so a late emitter's event and the filler can never both land.
   */
  async fill(runId: string, seq: number, reason: string): Promise<StoredEvent> {
    const item: StoredEvent = { runId, seq, event: 'Noop', at: new Date(this.clock()).toISOString(), payload: { reason }, expiresAt: this.expiresAt() };
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: toItem(item), ConditionExpression: 'attribute_not_exists(seq)' }));
      this.stats.fillers++;
      return item;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { runId, seq }, ConsistentRead: true }));
      return fromItem(present(Item, 'Item'));
    }
  }

  /** Stored, unexpired events with seq in (afterSeq, upTo], ascending, at most `limit`. Strongly consistent. */
  async query(runId: string, afterSeq: number, limit: number, upTo?: number): Promise<{ events: StoredEvent[]; more: boolean }> {
    const nowSec = Math.floor(this.clock() / 1000);
    const events: StoredEvent[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    const from = Math.max(afterSeq, COUNTER_SEQ);
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: upTo === undefined ? 'runId = :r AND seq > :a' : 'runId = :r AND seq BETWEEN :a1 AND :u',
          ExpressionAttributeValues: upTo === undefined ? { ':r': runId, ':a': from } : { ':r': runId, ':a1': from + 1, ':u': upTo },
          ConsistentRead: true,
          Limit: limit - events.length,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) {
        // TTL deletes lag by up to days; an expired event is gone as far as clients are concerned.
        if (typeof item.expiresAt === 'number' && item.expiresAt <= nowSec) continue;
        events.push(fromItem(item));
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey && events.length < limit);
    return { events, more: ExclusiveStartKey !== undefined };
  }

  /** Events after afterSeq up to the first hole. */
  async readContiguous(runId: string, afterSeq: number, limit: number): Promise<ContiguousPage> {
    const { events, more } = await this.query(runId, afterSeq, limit);
    const out: StoredEvent[] = [];
    let expect = afterSeq + 1;
    for (const e of events) {
      if (e.seq !== expect) return { events: out, hole: { seq: expect, nextAt: e.at }, more: true };
      out.push(e);
      expect++;
    }
    return { events: out, more };
  }

  /**
   * Events after afterSeq with every hole resolved: a hole this call watched for the grace period (or whose next
   * event is older than the stale limit) is filled with a Noop; a younger one is waited for until `waitUntil`
   * (epoch ms; 0 = do not wait, return the prefix before it). Pass a waitUntil beyond the grace period to have a
   * dead emitter's number filled within the call.
   */
  async readResolved(runId: string, afterSeq: number, limit: number, waitUntil = 0): Promise<ContiguousPage> {
    let out: StoredEvent[] = [];
    let after = afterSeq;
    let watched: { seq: number; since: number } | undefined;
    for (;;) {
      if (out.length >= limit) return { events: out, more: true };
      const page = await this.readContiguous(runId, after, limit - out.length);
      out = out.concat(page.events);
      after = out.length > 0 ? out[out.length - 1].seq : after;
      if (!page.hole || out.length >= limit) return { events: out, more: page.more, ...(page.hole && out.length < limit ? { hole: page.hole } : {}) };
      if (watched?.seq !== page.hole.seq) watched = { seq: page.hole.seq, since: this.clock() };
      const age = this.clock() - Date.parse(page.hole.nextAt);
      if (this.clock() - watched.since >= this.holeGraceMs || age >= this.staleHoleMs) {
        out.push(await this.fill(runId, page.hole.seq, 'reserved number never written'));
        after = page.hole.seq;
        continue;
      }
      if (this.clock() >= waitUntil) return { events: out, hole: page.hole, more: true };
      await new Promise((r) => setTimeout(r, Math.min(25, Math.max(1, waitUntil - this.clock()))));
    }
  }

  /** The lowest unexpired seq, or undefined when the run has no (unexpired) event. */
  async firstAvailableSeq(runId: string): Promise<number | undefined> {
    const { events } = await this.query(runId, 0, 1);
    return events[0]?.seq;
  }

  /** The run's spend ledger (lambdas/core/runs/spend.ts): tokens and cost per step, provider and model. */
  async spend(runId: string): Promise<RunSpend> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { runId, seq: COUNTER_SEQ }, ConsistentRead: true }));
    return parseLedger(Item);
  }

  /**
   * Adds spend no event carried (a step's results from agents that emit no item events) to the ledger, once per
   * `mark`: the ADD is conditional on the mark's absence and sets it, so a retried caller adds nothing twice.
   * False when the mark was there already.
   */
  async addSpendOnce(runId: string, mark: string, spend: readonly SpendItem[]): Promise<boolean> {
    const adds = [...ledgerAdds(spend)];
    if (adds.length === 0) return false;
    const names: Record<string, string> = { '#mark': mark };
    const values: Record<string, unknown> = { ':true': true, ':exp': this.expiresAt() };
    const terms = adds.map(([name, value], i) => {
      names[`#s${i}`] = name;
      values[`:s${i}`] = value;
      return `#s${i} :s${i}`;
    });
    return updateIf(this.client, {
      TableName: this.tableName,
      Key: { runId, seq: COUNTER_SEQ },
      UpdateExpression: `ADD ${terms.join(', ')} SET #mark = :true, expiresAt = if_not_exists(expiresAt, :exp)`,
      ConditionExpression: 'attribute_not_exists(#mark)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  /** The highest seq handed out so far (0 when the run never emitted). */
  async lastAllocatedSeq(runId: string): Promise<number> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { runId, seq: COUNTER_SEQ }, ConsistentRead: true }));
    return Item ? Number(Item.next ?? 0) : 0;
  }
}

function checkSize(event: string, payload: Record<string, unknown>): void {
  const bytes = Buffer.byteLength(JSON.stringify(payload));
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new EventValidationError(`${event} payload is ${bytes} bytes; the limit is ${MAX_PAYLOAD_BYTES} (store large data in the workspace)`, [
      { path: '$.payload', message: 'too large' },
    ]);
  }
}
