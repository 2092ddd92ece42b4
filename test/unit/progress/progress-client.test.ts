import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressClient, type WebSocketLike } from '../../../lambdas/client/progress-client';

/** A request frame the client sent. */
interface SentFrame {
  type: string;
  id: string;
  method: string;
  params: Record<string, unknown>;
}

/** A WebSocket double: records what the client sends, lets the test play the server. */
class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  onopen: WebSocketLike['onopen'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  readonly sent: SentFrame[] = [];
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  send(data: string) {
    this.sent.push(JSON.parse(data) as SentFrame);
  }
  close(code = 1000, reason = '') {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  server(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  requests(method: string) {
    return this.sent.filter((f) => f.method === method);
  }
  answer(request: SentFrame, payload: unknown) {
    this.server({ type: 'res', id: request.id, ok: true, payload });
  }
  fail(request: SentFrame, code: string, details?: unknown) {
    this.server({ type: 'res', id: request.id, ok: false, error: { code, message: code, details } });
  }
}

const event = (seq: number, name = 'ItemStarted') => ({ type: 'event', runId: 'r1', seq, event: name, at: new Date().toISOString(), payload: { seq } });
const flush = () => new Promise((r) => setImmediate(r));

let client: ProgressClient;
let received: number[];

beforeEach(() => {
  FakeSocket.all = [];
  received = [];
  client = new ProgressClient({ url: 'ws://x/v1', token: 't o', webSocket: (url) => new FakeSocket(url), backoff: { initialMs: 1, maxMs: 2 } });
});
afterEach(async () => {
  await client.close();
  vi.useRealTimers();
});

async function subscribed(afterSeq = 0) {
  const sub = client.subscribe('r1', { afterSeq, onEvent: (e) => received.push(e.seq) });
  const socket = FakeSocket.all.at(-1)!;
  socket.open();
  await flush();
  socket.answer(socket.requests('subscribe').at(-1)!, { complete: true, lastSeq: afterSeq });
  await sub.ready;
  return { sub, socket };
}

describe('Class: ProgressClient', () => {
  describe('Method: subscribe', () => {
    it('should connect with the token in the query string and subscribe from afterSeq', async () => {
      const { socket } = await subscribed(7);
      expect(socket.url).toBe('ws://x/v1?token=t%20o');
      expect(socket.requests('subscribe')[0].params).toEqual({ runId: 'r1', afterSeq: 7 });
    });

    it('should pass events on in seq order and drop repeated ones', async () => {
      const { sub, socket } = await subscribed();
      for (const seq of [1, 2, 2, 3, 1]) socket.server(event(seq));
      expect(received).toEqual([1, 2, 3]);
      expect(sub.lastSeq).toBe(3);
    });

    it('should skip Noop fillers but advance past them', async () => {
      const { sub, socket } = await subscribed();
      socket.server(event(1));
      socket.server(event(2, 'Noop'));
      socket.server(event(3));
      expect(received).toEqual([1, 3]);
      expect(sub.lastSeq).toBe(3);
    });

    it('should re-subscribe from its last seq on a gap and drop frames until the replay fills it', async () => {
      const { socket } = await subscribed();
      const gaps: unknown[] = [];
      client.on('gap', (g) => gaps.push(g));
      socket.server(event(1));
      socket.server(event(3));
      socket.server(event(4));
      await flush();
      expect(gaps).toEqual([{ runId: 'r1', expected: 2, got: 3 }]);
      const again = socket.requests('subscribe');
      expect(again).toHaveLength(2);
      expect(again[1].params).toEqual({ runId: 'r1', afterSeq: 1 });
      for (const seq of [2, 3, 4]) socket.server(event(seq));
      socket.answer(again[1], { complete: true });
      expect(received).toEqual([1, 2, 3, 4]);
    });

    it('should continue a replay that ran out of budget', async () => {
      client.subscribe('r1', { onEvent: (e) => received.push(e.seq) });
      const socket = FakeSocket.all[0];
      socket.open();
      await flush();
      socket.server(event(1));
      socket.answer(socket.requests('subscribe')[0], { complete: false, lastSeq: 1 });
      await flush();
      expect(socket.requests('subscribe')[1].params.afterSeq).toBe(1);
    });

    it('should hand a reset to onReset and continue from the first available seq', async () => {
      const resets: unknown[] = [];
      client.subscribe('r1', { onEvent: (e) => received.push(e.seq), onReset: (r) => resets.push(r) });
      const socket = FakeSocket.all[0];
      socket.open();
      await flush();
      socket.fail(socket.requests('subscribe')[0], 'reset', { firstSeq: 40, snapshot: { status: 'RUNNING' } });
      await flush();
      expect(resets).toEqual([{ firstSeq: 40, snapshot: { status: 'RUNNING' } }]);
      expect(socket.requests('subscribe')[1].params.afterSeq).toBe(39);
      socket.server(event(40));
      expect(received).toEqual([40]);
    });

    it('should drop a subscription the server refuses (not_found) and reject ready', async () => {
      const errors: string[] = [];
      const sub = client.subscribe('r1', { onEvent: () => undefined, onError: (e) => errors.push(e.code) });
      const socket = FakeSocket.all[0];
      socket.open();
      await flush();
      socket.fail(socket.requests('subscribe')[0], 'not_found');
      await expect(sub.ready).rejects.toMatchObject({ code: 'not_found' });
      expect(errors).toEqual(['not_found']);
    });
  });

  describe('Method: reconnect (on a dropped connection)', () => {
    it('should reconnect with backoff and re-subscribe from the last seq', async () => {
      const { socket } = await subscribed();
      socket.server(event(1));
      socket.server(event(2));
      socket.close(1006, '');
      await vi.waitFor(() => { expect(FakeSocket.all).toHaveLength(2); }, { timeout: 2000 });
      const next = FakeSocket.all[1];
      next.open();
      await flush();
      expect(next.requests('subscribe')[0].params).toEqual({ runId: 'r1', afterSeq: 2 });
      next.server(event(3));
      expect(received).toEqual([1, 2, 3]);
    });

    it('should not retry a connection refused with 401', async () => {
      const errors: string[] = [];
      client.subscribe('r1', { onEvent: () => undefined, onError: (e) => errors.push(e.code) });
      const socket = FakeSocket.all[0];
      socket.onerror?.({ message: 'Unexpected server response: 401' });
      socket.close(1006, '');
      await flush();
      expect(errors).toEqual(['unauthorized']);
      expect(FakeSocket.all).toHaveLength(1);
    });
  });

  describe('Method: keep-alive', () => {
    it('should ping within the 10-minute idle limit and reconnect before the 2-hour limit', async () => {
      vi.useFakeTimers();
      const pinging = new ProgressClient({ url: 'ws://x/v1', token: 't', webSocket: (url) => new FakeSocket(url) });
      const connecting = pinging.connect();
      FakeSocket.all.at(-1)!.open();
      await connecting;
      const socket = FakeSocket.all.at(-1)!;
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      expect(socket.requests('ping').length).toBe(1);
      await vi.advanceTimersByTimeAsync(2 * 3600_000 - 5 * 60_000);
      expect(socket.readyState).toBe(3);
      await pinging.close();
    });
  });
});
