/**
 * Progress streaming end to end on the local cloud: emitter → events table → stream → broadcaster →
 * WebSocket, and the subscribe replay, with simulated runs (a run record plus events from the emitter).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { http } from '../../support/target';
import { apiError, type EventsPageBody } from '../../support/api';
import { isFrame, type TestSocket } from '../../support/ws-client';
import { ProgressClient } from '../../../lambdas/client/progress-client';
import type { EventFrame } from '../../../lambdas/core/events/frames';
import { cloud, createRun, emitter, eventually, itemEvent, openSocket, range, restReplay, tokenFor, waitForEvents } from './support';

const sockets: TestSocket[] = [];
const clients: ProgressClient[] = [];
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function subscribed(runId: string, afterSeq = 0, token?: string): Promise<TestSocket> {
  const socket = await openSocket(token);
  sockets.push(socket);
  const id = `sub-${runId}-${afterSeq}`;
  socket.send({ type: 'req', id, method: 'subscribe', params: { runId, afterSeq } });
  // The answer follows the replay, which takes a while on a loaded machine.
  const res = await socket.waitFor((f) => isFrame(f) && f.type === 'res' && f.id === id, 60_000);
  expect(res).toMatchObject({ ok: true, payload: { complete: true } });
  return socket;
}

/** Emits `count` events from several emitters at once, singly and in batches, starting with item `from`. */
async function emitConcurrently(runId: string, from: number, count: number, emitters = 5): Promise<void> {
  const stores = Array.from({ length: emitters }, () => emitter());
  const chunks: Array<Promise<unknown>> = [];
  for (let i = 0, k = 0; i < count; k++) {
    const size = k % 3 === 0 ? 1 : 10;
    const items = range(from + i, from + Math.min(count, i + size) - 1).map(itemEvent);
    chunks.push(stores[k % emitters].emitMany(runId, items));
    i += items.length;
  }
  await Promise.all(chunks);
}

const seqsOf = (frames: Array<{ seq: number }>) => frames.map((f) => f.seq);

/** An event frame without its `type`: the event as the REST replay has it. */
function withoutType(frame: EventFrame): Partial<EventFrame> {
  const event: Partial<EventFrame> = { ...frame };
  delete event.type;
  return event;
}

describe('Progress streaming (local cloud)', () => {
  it('should give 10 subscribers the identical sequence 1..N, equal to the REST replay', async () => {
    const runId = await createRun();
    const subscribers = await Promise.all(range(1, 10).map(() => subscribed(runId)));
    const N = 500;
    await emitConcurrently(runId, 1, N);
    const received = await Promise.all(subscribers.map((s) => waitForEvents(s, runId, N, 90_000)));
    const rest = await restReplay(runId, 150);
    expect(seqsOf(rest)).toEqual(range(1, N));
    for (const frames of received) {
      expect(frames).toHaveLength(N);
      expect(seqsOf(frames)).toEqual(range(1, N));
      expect(frames.map(withoutType)).toEqual(rest);
    }
  });

  it('should deliver every event once, in order, when the broadcaster fails records (injected) and retries', async () => {
    const runId = await createRun();
    const subscribers = await Promise.all(range(1, 3).map(() => subscribed(runId)));
    const store = emitter();
    // Wide enough that every faulty record is first processed inside it, even on a loaded machine.
    const failUntil = Date.now() + 15_000;
    const N = 120;
    for (let i = 1; i <= N; i += 20) {
      await store.emitMany(
        runId,
        range(i, i + 19).map((n) => ({
          ...itemEvent(n),
          // Some records fail before any frame is sent, some after the first subscriber got theirs.
          ...(n % 17 === 0 ? { attributes: { fault: { failUntil, stage: n % 2 === 0 ? 'before' : 'midway' } } } : {}),
        })),
      );
    }
    for (const s of subscribers) {
      const frames = await waitForEvents(s, runId, N, 60_000);
      expect(seqsOf(frames)).toEqual(range(1, N));
    }
    // Once the fault window has closed, a sentinel event reaches everyone only after every earlier record
    // was processed for good (the stream is ordered per shard): then nothing may have arrived twice.
    await eventually(() => Date.now() > failUntil || undefined, 20_000, 'fault window');
    await store.emit(runId, 'RunResumed', {});
    for (const s of subscribers) {
      const frames = await waitForEvents(s, runId, N + 1, 30_000);
      expect(seqsOf(frames)).toEqual(range(1, N + 1));
      expect(frames.every((f) => !('fault' in f) && !('fault' in f.payload))).toBe(true);
    }
    const log = readFileSync(join(dirname(process.env.AGENTPLANE_LOCAL_JSON!), 'logs', readdirSync(join(dirname(process.env.AGENTPLANE_LOCAL_JSON!), 'logs')).find((f) => f.startsWith('Broadcaster'))!), 'utf8');
    const injected = log.split('\n').filter((line) => line.includes('injected failure') && line.includes(runId));
    // Both kinds fired (records processed after the window closed pass on the first try).
    expect(injected.some((line) => line.includes('"before"'))).toBe(true);
    expect(injected.some((line) => line.includes('"midway"'))).toBe(true);
  });

  it('should replay exactly the missed events to a client that resubscribes with its last seq, then live ones', async () => {
    const runId = await createRun();
    const first = await subscribed(runId);
    const store = emitter();
    await store.emitMany(runId, range(1, 100).map(itemEvent));
    const before = await waitForEvents(first, runId, 100);
    expect(seqsOf(before)).toEqual(range(1, 100));
    await first.close();

    await emitConcurrently(runId, 101, 100, 3); // missed while away
    const again = await subscribed(runId, 100);
    const replayed = await waitForEvents(again, runId, 100);
    expect(seqsOf(replayed)).toEqual(range(101, 200));
    // The subscribe answer comes after its replay.
    const resIndex = again.frames.findIndex((f) => isFrame(f) && f.type === 'res');
    expect(again.frames.slice(0, resIndex).filter((f) => isFrame(f) && f.type === 'event')).toHaveLength(100);

    await emitConcurrently(runId, 201, 100, 3); // live
    const all = await waitForEvents(again, runId, 200);
    expect(seqsOf(all)).toEqual(range(101, 300));
  });

  it('should have no gap or duplicate at the seam when events are emitted while the subscriber replays', async () => {
    const runId = await createRun();
    const store = emitter();
    await store.emitMany(runId, range(1, 200).map(itemEvent));
    const emitting = emitConcurrently(runId, 201, 300, 4);
    const late = await Promise.all(range(1, 4).map(() => subscribed(runId, 0)));
    await emitting;
    for (const s of late) expect(seqsOf(await waitForEvents(s, runId, 500))).toEqual(range(1, 500));
  });

  it('should let the client library reconnect and resume from its last seq by itself', async () => {
    const runId = await createRun();
    const received: EventFrame[] = [];
    const client = new ProgressClient({ url: cloud().wsUrl, token: cloud().token, backoff: { initialMs: 50, maxMs: 200 } });
    clients.push(client);
    const sub = client.subscribe(runId, { onEvent: (e) => received.push(e) });
    await sub.ready;
    const store = emitter();
    let reconnected = 0;
    client.on('open', () => reconnected++);
    const emitting = (async () => {
      for (let i = 1; i <= 300; i += 10) await store.emitMany(runId, range(i, i + 9).map(itemEvent));
    })();
    await eventually(() => received.length >= 100 || undefined, 30_000, '100 events');
    client.dropConnection();
    await emitting;
    await eventually(() => received.length >= 300 || undefined, 60_000, '300 events');
    expect(received.map((e) => e.seq)).toEqual(range(1, 300));
    expect(reconnected).toBeGreaterThanOrEqual(1);
    expect(sub.lastSeq).toBe(300);
  });

  it('should answer reset with a snapshot and the first available seq when the events asked for expired', async () => {
    const runId = await createRun('dev', { steps: { analyze: { state: 'running', succeeded: 3 } } });
    const past = Date.now() - 3 * 24 * 3600_000;
    await emitter({ clock: () => past, retentionSeconds: 24 * 3600 }).emitMany(runId, range(1, 10).map(itemEvent));
    await emitter().emitMany(runId, range(11, 15).map(itemEvent));
    const socket = await openSocket();
    sockets.push(socket);
    const res = await socket.request('r1', 'subscribe', { runId, afterSeq: 0 });
    expect(res.ok).toBe(false);
    expect(res.error!.code).toBe('reset');
    expect(res.error!.details!.firstSeq).toBe(11);
    expect(res.error!.details!.snapshot).toMatchObject({ runId, status: 'RUNNING', steps: { analyze: { state: 'running', succeeded: 3 } }, lastSeq: 15 });
    const ok = await socket.request('r2', 'subscribe', { runId, afterSeq: 10 });
    expect(ok.ok).toBe(true);
    expect(seqsOf(await waitForEvents(socket, runId, 5))).toEqual(range(11, 15));
    const rest = await http<EventsPageBody>('GET', `/runs/${runId}/events?afterSeq=0`);
    expect(rest.body.firstAvailableSeq).toBe(11);
    expect(seqsOf(rest.body.events)).toEqual(range(11, 15));
  });

  it('should keep runs of another tenant invisible: not_found on subscribe and runs.get, 404 on REST', async () => {
    const runId = await createRun('dev');
    await emitter().emit(runId, 'RunStarted', {});
    const token = await tokenFor('progress-other');
    const socket = await openSocket(token);
    sockets.push(socket);
    expect((await socket.request('s', 'subscribe', { runId })).error!.code).toBe('not_found');
    expect((await socket.request('g', 'runs.get', { runId })).error!.code).toBe('not_found');
    const rest = await http('GET', `/runs/${runId}/events`, { token });
    expect(rest.status).toBe(404);
    expect(apiError(rest).code).toBe('not_found');
    const own = await http('GET', `/runs/${runId}/events`);
    expect(own.status).toBe(200);
    const mine = await openSocket();
    sockets.push(mine);
    const got = await mine.request<{ run: Record<string, unknown>; lastSeq: number }>('g', 'runs.get', { runId });
    expect(got.payload!.run).toMatchObject({ runId, tenant: 'dev', status: 'RUNNING' });
    expect(got.payload!.run.pk).toBeUndefined();
    expect(got.payload!.lastSeq).toBe(1);
  });

  it('should stop sending to a connection that went away and forget its subscription', async () => {
    const runId = await createRun();
    const keep = await subscribed(runId);
    const leave = await subscribed(runId);
    // Terminate without a close handshake: the gateway notices and answers 410 for it.
    leave.ws.terminate();
    await emitter().emitMany(runId, range(1, 20).map(itemEvent));
    expect(seqsOf(await waitForEvents(keep, runId, 20))).toEqual(range(1, 20));
  });
});
