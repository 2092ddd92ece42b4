import { describe, expect, it } from 'vitest';
import { BroadcastBatch, replayThenGoLive, type DeliveryDeps, type Subscription } from '../../../lambdas/aws/events-subscriptions';
import type { StoredEvent } from '../../../lambdas/aws/event-store';

/** Deterministic PRNG so a failing interleaving can be replayed. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** In-memory event log and subscription table with the conditional semantics of the DynamoDB adapters. */
function world(seed: number) {
  const rnd = random(seed);
  const pause = () =>
    new Promise<void>((r) => {
      if (rnd() < 0.5) setImmediate(r);
      else r();
    });
  const events = new Map<number, StoredEvent>();
  const subs = new Map<string, Subscription>();
  const frames = new Map<string, number[]>();
  const ev = (seq: number): StoredEvent => ({ runId: 'r', seq, event: 'ItemStarted', at: new Date().toISOString(), payload: { seq } });
  const store = {
    holeGraceMs: 5_000,
    async readResolved(_runId: string, afterSeq: number, limit: number) {
      await pause();
      const out: StoredEvent[] = [];
      for (let s = afterSeq + 1; events.has(s) && out.length < limit; s++) out.push(events.get(s)!);
      return { events: out, more: false };
    },
  };
  const upd = async (sub: Subscription, cond: (cur: Subscription) => boolean, set: Partial<Subscription>) => {
    await pause();
    const cur = subs.get(sub.connectionId);
    if (!cur || cur.epoch !== sub.epoch || !cond(cur)) return false;
    Object.assign(cur, set);
    return true;
  };
  const subscriptions = {
    async get(connectionId: string) {
      await pause();
      const s = subs.get(connectionId);
      return s ? { ...s } : undefined;
    },
    async subscribersOf() {
      await pause();
      return [...subs.values()].map((s) => ({ ...s }));
    },
    async visibleInIndex() {
      return true;
    },
    advanceReplay: (sub: Subscription, l: number) => upd(sub, (c) => c.phase === 'replay', { lastSeq: l }),
    goLive: (sub: Subscription, l: number) => upd(sub, (c) => c.phase === 'replay' && c.lastSeq === l && c.wanted <= l, { phase: 'live', lastSeq: l }),
    want: (sub: Subscription, w: number) => upd(sub, (c) => c.phase === 'replay' && c.wanted < w, { wanted: w }),
    advanceLive: (sub: Subscription, from: number, to: number) => upd(sub, (c) => c.phase === 'live' && c.lastSeq === from, { lastSeq: to }),
  };
  const deps: DeliveryDeps = {
    // The fakes have only what delivery calls; DeliveryDeps names the adapter classes, hence the casts.
    store: store as unknown as DeliveryDeps['store'],
    subscriptions: subscriptions as unknown as DeliveryDeps['subscriptions'],
    poster: {
      async post(connectionId, data) {
        await pause();
        frames.get(connectionId)!.push((JSON.parse(data) as { seq: number }).seq);
        return 'sent';
      },
    },
    encode: (e) => JSON.stringify({ seq: e.seq }),
    onGone: async () => undefined,
  };
  const subscribe = (connectionId: string, afterSeq: number) => {
    const sub: Subscription = { pk: `CONN#${connectionId}`, sk: 'SUB#r', runId: 'r', connectionId, tenant: 't', epoch: `${connectionId}-${afterSeq}`, phase: 'replay', lastSeq: afterSeq, wanted: 0, subscribedAt: '', expiresAt: 0 };
    subs.set(connectionId, { ...sub });
    frames.set(connectionId, frames.get(connectionId) ?? []);
    return replayThenGoLive(deps, sub, { deadline: Date.now() + 10_000, maxEvents: 10_000 });
  };
  /** Emits and broadcasts like the stream: events stored, then processed in batches, in order. */
  const emitAndBroadcast = async (from: number, to: number) => {
    for (let s = from; s <= to; ) {
      const size = 1 + Math.floor(rnd() * 8);
      const batchEvents: StoredEvent[] = [];
      for (let i = 0; i < size && s <= to; i++, s++) {
        events.set(s, ev(s));
        batchEvents.push(ev(s));
      }
      await pause();
      const batch = new BroadcastBatch(deps, batchEvents);
      for (const e of batchEvents) await batch.deliver(e);
      await batch.commit();
    }
  };
  return { events, subs, frames, subscribe, emitAndBroadcast, ev, deps };
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('Function: replayThenGoLive with BroadcastBatch (the seam)', () => {
  it.each(range(1, 40))('should deliver 1..N once, in order, whatever the interleaving (seed %i)', async (seed) => {
    const w = world(seed);
    await w.emitAndBroadcast(1, 30);
    // Subscribers arrive while the run keeps emitting; one resumes from a later seq.
    const live = w.emitAndBroadcast(31, 120);
    const replays = [w.subscribe('a', 0), w.subscribe('b', 10), w.subscribe('c', 0)];
    await Promise.all([live, ...replays]);
    // One more event after everything settled: whatever is live gets it and nothing is pending.
    await w.emitAndBroadcast(121, 121);
    expect(w.frames.get('a')).toEqual(range(1, 121));
    expect(w.frames.get('b')).toEqual(range(11, 121));
    expect(w.frames.get('c')).toEqual(range(1, 121));
    for (const sub of w.subs.values()) expect(sub).toMatchObject({ phase: 'live', lastSeq: 121 });
  });

  it('should not send anything twice when a stream batch is redelivered', async () => {
    const w = world(7);
    await w.subscribe('a', 0);
    await w.emitAndBroadcast(1, 10);
    // At-least-once: the stream hands the same records over again.
    const redelivered = range(5, 10).map(w.ev);
    const batch = new BroadcastBatch(w.deps, redelivered);
    for (const e of redelivered) await batch.deliver(e);
    await batch.commit();
    expect(w.frames.get('a')).toEqual(range(1, 10));
  });

  it('should fill from the log when the stream hands over a later seq first', async () => {
    const w = world(11);
    await w.subscribe('a', 0);
    for (const s of range(1, 6)) w.events.set(s, w.ev(s));
    // Two emitters' Puts committed out of order: 6 reaches the stream before 4 and 5.
    const batch = new BroadcastBatch(w.deps, [w.ev(1), w.ev(2), w.ev(3), w.ev(6)]);
    for (const s of [1, 2, 3, 6]) await batch.deliver(w.ev(s));
    await batch.commit();
    const later = new BroadcastBatch(w.deps, [w.ev(4), w.ev(5)]);
    for (const s of [4, 5]) await later.deliver(w.ev(s));
    await later.commit();
    expect(w.frames.get('a')).toEqual(range(1, 6));
  });
});
