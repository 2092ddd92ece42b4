import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { dynamo } from './clients';
import { CONNECTION_TTL_SECONDS } from './connections';
import type { EventStore, StoredEvent } from './event-store';
import { isConditionFailure } from './conditions';

/**
 * Subscriptions of WebSocket connections to runs, and exactly-once, in-order delivery to them.
 *
 * A subscription is an item of the connections table under its connection (so `$disconnect` removes it with
 * the connection): `{pk: CONN#<connectionId>, sk: SUB#<runId>, runId, connectionId, tenant, epoch, phase,
 * lastSeq, wanted}`; the `byRun` index finds a run's subscriptions for the broadcaster.
 *
 * At any time exactly one party sends a run's events to a connection, and the item is the fence:
 * - phase `replay`: the subscribe handler (the replayer) sends from the table. The broadcaster does not send;
 *   it records the highest seq it saw in `wanted`.
 * - phase `live`: the broadcaster sends. It processes a run's stream records one batch at a time, so it is
 *   a single sender per run.
 * The replayer flips the phase with one conditional update that holds only if it delivered everything the
 * broadcaster asked for (`wanted <= lastSeq`); otherwise it keeps replaying. Every sender sends only
 * `lastSeq + 1, lastSeq + 2, …` in order, reading missing numbers from the table, so a frame is neither
 * skipped nor repeated, whichever of the stream and the replay is ahead. `epoch` changes on every subscribe,
 * fencing off a sender still working for a previous subscribe of the same connection.
 */

type SubscriptionPhase = 'replay' | 'live';

export interface Subscription {
  pk: string;
  sk: string;
  runId: string;
  connectionId: string;
  tenant: string;
  epoch: string;
  phase: SubscriptionPhase;
  /** Every event up to this seq has been sent to the connection, once, in order. */
  lastSeq: number;
  /** The highest seq the broadcaster saw while the subscription was replaying. */
  wanted: number;
  subscribedAt: string;
  expiresAt: number;
}

const subscriptionKey = (connectionId: string, runId: string) => ({ pk: `CONN#${connectionId}`, sk: `SUB#${runId}` });

export class SubscriptionStore {
  private readonly client: DynamoDBDocumentClient;
  constructor(
    readonly tableName: string,
    client?: DynamoDBDocumentClient,
  ) {
    this.client = client ?? dynamo();
  }

  /** Starts (or restarts) a subscription in the replay phase at afterSeq, with a new epoch. */
  async create(connectionId: string, runId: string, tenant: string, afterSeq: number, nowMs = Date.now()): Promise<Subscription> {
    const sub: Subscription = {
      ...subscriptionKey(connectionId, runId),
      runId,
      connectionId,
      tenant,
      epoch: randomUUID(),
      phase: 'replay',
      lastSeq: afterSeq,
      wanted: 0,
      subscribedAt: new Date(nowMs).toISOString(),
      expiresAt: Math.floor(nowMs / 1000) + CONNECTION_TTL_SECONDS,
    };
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: sub }));
    return sub;
  }

  async get(connectionId: string, runId: string): Promise<Subscription | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: subscriptionKey(connectionId, runId), ConsistentRead: true }));
    return Item as Subscription | undefined;
  }

  async remove(connectionId: string, runId: string): Promise<boolean> {
    const { Attributes } = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: subscriptionKey(connectionId, runId), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes !== undefined;
  }

  /** How many runs a connection subscribes to (for the per-connection limit). */
  async countOf(connectionId: string): Promise<number> {
    const { Count } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
        ExpressionAttributeValues: { ':pk': `CONN#${connectionId}`, ':sub': 'SUB#' },
        Select: 'COUNT',
      }),
    );
    return Count ?? 0;
  }

  /** The connections subscribed to a run: the byRun index (never a Scan), then a consistent read of each. */
  async subscribersOf(runId: string): Promise<Subscription[]> {
    const keys: Array<{ pk: string; sk: string }> = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'byRun',
          KeyConditionExpression: 'runId = :r',
          ExpressionAttributeValues: { ':r': runId },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) if (typeof item.sk === 'string' && item.sk.startsWith('SUB#')) keys.push({ pk: item.pk as string, sk: item.sk });
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    // The index is eventually consistent: it finds who is subscribed; their delivery state comes from the table.
    const out: Subscription[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      type Batch = Record<string, { Keys: Array<Record<string, unknown>>; ConsistentRead: boolean }>;
      let request: Batch | undefined = {
        [this.tableName]: { Keys: keys.slice(i, i + 100), ConsistentRead: true },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        const result = await this.client.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of result.Responses?.[this.tableName] ?? []) out.push(item as Subscription);
        request = result.UnprocessedKeys as Batch | undefined;
        if (request && Object.keys(request).length > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
      }
    }
    return out;
  }

  /** True once the byRun index lists the subscription (the broadcaster finds it from then on). */
  async visibleInIndex(sub: Subscription): Promise<boolean> {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byRun',
        KeyConditionExpression: 'runId = :r AND connectionId = :c',
        ExpressionAttributeValues: { ':r': sub.runId, ':c': sub.connectionId },
      }),
    );
    return (Items ?? []).some((i) => i.epoch === sub.epoch);
  }

  /** Replayer: records progress; false when the subscription was replaced or removed. */
  async advanceReplay(sub: Subscription, lastSeq: number): Promise<boolean> {
    return this.conditional(sub, 'SET lastSeq = :l', 'epoch = :e AND phase = :replay', { ':l': lastSeq, ':replay': 'replay' });
  }

  /** Replayer: hands over to the broadcaster; false when the broadcaster wants more first (or the sub changed). */
  async goLive(sub: Subscription, lastSeq: number): Promise<boolean> {
    return this.conditional(sub, 'SET phase = :live, lastSeq = :l', 'epoch = :e AND phase = :replay AND lastSeq = :l AND wanted <= :l', {
      ':l': lastSeq,
      ':live': 'live',
      ':replay': 'replay',
    });
  }

  /** Broadcaster: asks the replayer to deliver up to seq before going live. */
  async want(sub: Subscription, seq: number): Promise<boolean> {
    return this.conditional(sub, 'SET wanted = :w', 'epoch = :e AND phase = :replay AND wanted < :w', { ':w': seq, ':replay': 'replay' });
  }

  /** Broadcaster: records what it sent since `from`. */
  async advanceLive(sub: Subscription, from: number, to: number): Promise<boolean> {
    return this.conditional(sub, 'SET lastSeq = :to', 'epoch = :e AND phase = :live AND lastSeq = :from', { ':to': to, ':from': from, ':live': 'live' });
  }

  private async conditional(sub: Subscription, update: string, condition: string, values: Record<string, unknown>): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: sub.pk, sk: sub.sk },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeValues: { ':e': sub.epoch, ...values },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

/** Sends one frame to one connection; 'gone' for a closed connection (410). Other errors are thrown. */
export interface FramePoster {
  post(connectionId: string, data: string): Promise<'sent' | 'gone'>;
}

export interface DeliveryDeps {
  store: EventStore;
  subscriptions: SubscriptionStore;
  poster: FramePoster;
  /** Encodes an event frame within the frame limit (encodeEventFrame). */
  encode: (event: StoredEvent) => string;
  /** Called once for a connection that answered 410. */
  onGone: (connectionId: string) => Promise<void>;
  clock?: () => number;
}

export type ReplayOutcome = 'live' | 'partial' | 'superseded' | 'gone';

export interface ReplayOptions {
  /** Stop replaying at this time (epoch ms) and answer `complete: false` (API Gateway's 29 s integration limit). */
  deadline: number;
  /** Stop after this many events; the client continues with another subscribe. */
  maxEvents: number;
  /** How long to wait for the index to list a new subscription before going live anyway. */
  indexWaitMs?: number;
}

/**
 * The subscribe side of the seam: sends every stored event after `sub.lastSeq` in order, then flips the
 * subscription to live when nothing more is stored and the broadcaster asked for nothing more.
 */
export async function replayThenGoLive(deps: DeliveryDeps, sub: Subscription, options: ReplayOptions): Promise<{ outcome: ReplayOutcome; lastSeq: number; replayed: number }> {
  const clock = deps.clock ?? Date.now;
  let lastSeq = sub.lastSeq;
  let replayed = 0;
  let indexed = false;
  const indexDeadline = clock() + (options.indexWaitMs ?? 5_000);
  for (;;) {
    const room = options.maxEvents - replayed;
    if (room <= 0 || clock() >= options.deadline) return { outcome: 'partial', lastSeq, replayed };
    const page = await deps.store.readResolved(sub.runId, lastSeq, Math.min(room, 200), Math.min(options.deadline, clock() + deps.store.holeGraceMs + 1_000));
    if (page.events.length > 0) {
      for (const event of page.events) {
        const result = await deps.poster.post(sub.connectionId, deps.encode(event));
        if (result === 'gone') {
          await deps.onGone(sub.connectionId);
          return { outcome: 'gone', lastSeq, replayed };
        }
        lastSeq = event.seq;
        replayed++;
      }
      if (!(await deps.subscriptions.advanceReplay(sub, lastSeq))) return { outcome: 'superseded', lastSeq, replayed };
      continue;
    }
    if (page.hole) continue; // a young hole: readResolved waited its share; look again
    if (!indexed) {
      // Go live only once the broadcaster can find us: from then on every newly stored event either reaches
      // `wanted` (we are still replaying) or is sent by the broadcaster (we are live).
      indexed = (await deps.subscriptions.visibleInIndex(sub)) || clock() >= indexDeadline;
      if (!indexed) await new Promise((r) => setTimeout(r, 25));
      continue;
    }
    if (await deps.subscriptions.goLive(sub, lastSeq)) return { outcome: 'live', lastSeq, replayed };
    const now = await deps.subscriptions.get(sub.connectionId, sub.runId);
    if (!now || now.epoch !== sub.epoch) return { outcome: 'superseded', lastSeq, replayed };
    // The broadcaster saw events we have not sent yet: loop and send them.
  }
}

interface LiveState {
  sub: Subscription;
  /** Sent through (in memory, ahead of the table until commit). */
  sent: number;
  committed: number;
  /** Replaying: the replayer was asked for everything of this batch; nothing to do here. */
  handedOver: boolean;
  gone: boolean;
}

/**
 * The broadcaster's side, for one invocation (one stream batch). Per run, the subscriptions are read once;
 * per subscription, frames go out in seq order (one at a time), subscriptions in parallel. What a live
 * subscription was sent is committed once per invocation (commit()), which keeps DynamoDB writes per batch,
 * not per event.
 */
export class BroadcastBatch {
  private readonly runs = new Map<string, Promise<Map<string, LiveState>>>();
  /** The batch's events by run and seq: fills read from here before going to the table. */
  private readonly inBatch = new Map<string, Map<number, StoredEvent>>();
  private readonly maxSeq = new Map<string, number>();

  constructor(
    private readonly deps: DeliveryDeps,
    events: StoredEvent[],
    /** How long a missing seq is waited for before the record fails; beyond the grace so a dead emitter's number gets filled. */
    private readonly fillWaitMs = deps.store.holeGraceMs + 1_000,
  ) {
    for (const e of events) {
      let m = this.inBatch.get(e.runId);
      if (!m) this.inBatch.set(e.runId, (m = new Map<number, StoredEvent>()));
      m.set(e.seq, e);
      this.maxSeq.set(e.runId, Math.max(this.maxSeq.get(e.runId) ?? 0, e.seq));
    }
  }

  private states(runId: string): Promise<Map<string, LiveState>> {
    let p = this.runs.get(runId);
    if (!p) {
      p = this.deps.subscriptions.subscribersOf(runId).then(
        (subs) => new Map(subs.map((sub) => [sub.connectionId, { sub, sent: sub.lastSeq, committed: sub.lastSeq, handedOver: false, gone: false }])),
      );
      // A failed read must not poison the rest of the batch.
      p.catch(() => this.runs.delete(runId));
      this.runs.set(runId, p);
    }
    return p;
  }

  /**
   * Delivers one event to every subscriber of its run (or only to the first, for the local-only midway fault).
   * Throws when a subscriber could not be served: the record is retried, and what was sent is remembered and
   * never sent twice.
   */
  async deliver(event: StoredEvent, options: { onlyFirst?: boolean } = {}): Promise<void> {
    let states = [...(await this.states(event.runId)).values()].filter((s) => !s.gone);
    if (options.onlyFirst) states = states.slice(0, 1);
    const results = await Promise.allSettled(states.map((s) => this.serve(s, event)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async serve(state: LiveState, event: StoredEvent): Promise<void> {
    if (state.handedOver || state.gone) return;
    if (state.sub.phase === 'replay') {
      const want = Math.max(event.seq, this.maxSeq.get(event.runId) ?? event.seq);
      if (state.sub.wanted >= want || (await this.deps.subscriptions.want(state.sub, want))) {
        state.handedOver = true;
        return;
      }
      // The replayer went live meanwhile, or the subscription changed: take it from the table.
      const fresh = await this.deps.subscriptions.get(state.sub.connectionId, state.sub.runId);
      if (!fresh) {
        state.gone = true;
        return;
      }
      Object.assign(state, { sub: fresh, sent: fresh.lastSeq, committed: fresh.lastSeq, handedOver: false });
      return this.serve(state, event);
    }
    if (event.seq <= state.sent) return;
    const missing = await this.between(event.runId, state.sent, event.seq);
    for (const e of [...missing, event]) {
      const result = await this.deps.poster.post(state.sub.connectionId, this.deps.encode(e));
      if (result === 'gone') {
        state.gone = true;
        await this.deps.onGone(state.sub.connectionId);
        return;
      }
      state.sent = e.seq;
    }
  }

  /** Events in (after, before), from the batch or the table, holes waited for or filled. */
  private async between(runId: string, after: number, before: number): Promise<StoredEvent[]> {
    if (before <= after + 1) return [];
    const batch = this.inBatch.get(runId);
    const out: StoredEvent[] = [];
    let next = after + 1;
    while (next < before) {
      const fromBatch = batch?.get(next);
      if (fromBatch) {
        out.push(fromBatch);
        next++;
        continue;
      }
      const clock = this.deps.clock ?? Date.now;
      const page = await this.deps.store.readResolved(runId, next - 1, before - next, clock() + this.fillWaitMs);
      const usable = page.events.filter((e) => e.seq < before);
      if (usable.length === 0) throw new Error(`events ${next}..${before - 1} of run ${runId} are not readable yet`);
      out.push(...usable);
      next = usable[usable.length - 1].seq + 1;
    }
    return out;
  }

  /**
   * Records what each live subscription was sent, after every record was handled. Returns the failures: a
   * failed commit means the next batch may send those frames again (logged, not retried here).
   */
  async commit(): Promise<unknown[]> {
    const all: Array<Promise<unknown>> = [];
    for (const p of this.runs.values()) {
      all.push(
        p.then((states) =>
          Promise.all(
            [...states.values()]
              .filter((s) => !s.gone && s.sub.phase === 'live' && s.sent > s.committed)
              .map(async (s) => {
                // A failed condition means the client re-subscribed meanwhile; the new subscription owns the state.
                await this.deps.subscriptions.advanceLive(s.sub, s.committed, s.sent);
                s.committed = s.sent;
              }),
          ),
        ),
      );
    }
    const results = await Promise.allSettled(all);
    return results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r): unknown => r.reason);
  }
}
