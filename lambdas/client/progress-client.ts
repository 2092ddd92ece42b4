import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { parseServerFrame, type EventFrame, type FrameError, type ParamsOf, type RequestFrame, type RunSnapshot } from '../core/events/frames';
import type { CommandResult } from '../core/runs/control';

/**
 * The client of the progress WebSocket (docs/progress.md), used by the CLI and the dashboard.
 *
 * It keeps, per subscribed run, the last seq it handed to the application, and guarantees the application
 * sees every event once, in seq order:
 * - it accepts only `lastSeq + 1`; a frame with a higher seq is a gap: it re-subscribes from its last seq
 *   (the server replays the missing events) and drops frames until the replay fills in;
 * - a lower seq is dropped (the server does not send duplicates, but a broadcaster that crashes between
 *   sending and recording may repeat a frame);
 * - when the connection drops it reconnects with exponential backoff and full jitter, and re-subscribes
 *   every run from its last seq;
 * - API Gateway closes a connection idle for 10 minutes and every connection after 2 hours: it sends a
 *   `ping` request every 5 minutes and reconnects by itself before the 2 hours are up.
 * `Noop` events (fillers for numbers whose event was never written) advance the last seq and are not passed
 * on unless `includeNoop` is set.
 */

/** Anything shaped like a WHATWG WebSocket: the `ws` package in Node, `globalThis.WebSocket` in a browser. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: { message?: string; error?: unknown }) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

/** The request methods of the WebSocket API (CONTRACT.md). */
export type Method = RequestFrame['method'];

/** What each method answers (lambdas/ws-messages/methods.ts). */
export interface ResponsePayloads {
  subscribe: {
    runId: string;
    afterSeq: number;
    lastSeq: number;
    replayed: number;
    /** false: the replay budget ran out; subscribe again from lastSeq to continue. */
    complete: boolean;
  };
  unsubscribe: { runId: string; unsubscribed: boolean };
  /** The run as GET /runs/{id} gives it, and the last seq it has handed out. */
  'runs.get': { run: Record<string, unknown>; lastSeq: number };
  /** As POST /runs/{id}/commands answers. */
  'runs.command': CommandResult & { runId: string; command: string };
  ping: { pong: true; at: string };
}

export interface ProgressClientOptions {
  /** The WebSocket URL (`wsUrl` of local.json or the stack output). */
  url: string;
  token: string;
  /** Default: the `ws` package. */
  webSocket?: WebSocketFactory;
  /** Keeps the connection from API Gateway's 10-minute idle timeout. Default 5 minutes. */
  pingIntervalMs?: number;
  /** Reconnects before API Gateway's 2-hour limit cuts the connection. Default 1 h 55 min. */
  maxConnectionMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  requestTimeoutMs?: number;
}

export interface SubscribeOptions {
  /** Deliver events after this seq (0: from the first). */
  afterSeq?: number;
  onEvent: (event: EventFrame) => void;
  /**
   * The events after `afterSeq` have expired (beyond the run's retention): rebuild from the snapshot. The client
   * then continues from `firstSeq`.
   */
  onReset?: (reset: { firstSeq: number; snapshot: RunSnapshot }) => void;
  /** The subscription failed for good (e.g. not_found); it is dropped. */
  onError?: (error: ProgressClientError) => void;
  includeNoop?: boolean;
}

export class ProgressClientError extends Error {
  override readonly name = 'ProgressClientError';
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class RunSubscription {
  /** Resolves when the first subscribe (including its replay) completed; rejects when it failed for good. */
  readonly ready: Promise<void>;
  /** @internal */ resolveReady!: () => void;
  /** @internal */ rejectReady!: (e: unknown) => void;
  /** @internal */ subscribing = false;
  /** @internal */ settled = false;

  constructor(
    readonly runId: string,
    /** The last seq handed to onEvent (or skipped as Noop). */
    public lastSeq: number,
    /** @internal */ readonly options: SubscribeOptions,
    private readonly client: ProgressClient,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined);
  }

  close(): Promise<void> {
    return this.client.unsubscribe(this.runId);
  }
}

interface PendingRequest {
  resolve: (payload: unknown) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;

export class ProgressClient extends EventEmitter {
  private readonly options: Required<Omit<ProgressClientOptions, 'backoff' | 'webSocket'>> & { backoff: { initialMs: number; maxMs: number } };
  private readonly factory: WebSocketFactory;
  private socket: WebSocketLike | undefined;
  private readonly subscriptions = new Map<string, RunSubscription>();
  private readonly pending = new Map<string, PendingRequest>();
  private nextId = 1;
  private attempt = 0;
  private closedByUser = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private lifetimeTimer: ReturnType<typeof setTimeout> | undefined;
  private connecting: Promise<void> | undefined;

  constructor(options: ProgressClientOptions) {
    super();
    this.options = {
      url: options.url,
      token: options.token,
      pingIntervalMs: options.pingIntervalMs ?? 5 * 60_000,
      maxConnectionMs: options.maxConnectionMs ?? (2 * 60 - 5) * 60_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 35_000,
      backoff: { initialMs: options.backoff?.initialMs ?? 250, maxMs: options.backoff?.maxMs ?? 30_000 },
    };
    this.factory = options.webSocket ?? ((url) => new WebSocket(url) as unknown as WebSocketLike);
    // An 'error' event with no listener would crash the process; errors are also reported per request.
    this.on('error', () => undefined);
  }

  get connected(): boolean {
    return this.socket?.readyState === OPEN;
  }

  /** Opens the connection (subscribe does it too). Rejects when the first attempt is refused. */
  connect(): Promise<void> {
    this.closedByUser = false;
    if (this.connected) return Promise.resolve();
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Subscribes to a run; events go to `options.onEvent` in seq order, across reconnects. */
  subscribe(runId: string, options: SubscribeOptions): RunSubscription {
    const existing = this.subscriptions.get(runId);
    if (existing) return existing;
    const sub = new RunSubscription(runId, options.afterSeq ?? 0, options, this);
    this.subscriptions.set(runId, sub);
    this.connect().then(
      () => { this.sendSubscribe(sub); },
      () => undefined, // reconnect() retries; ready settles then
    );
    return sub;
  }

  async unsubscribe(runId: string): Promise<void> {
    const sub = this.subscriptions.get(runId);
    if (!sub) return;
    this.subscriptions.delete(runId);
    if (this.connected) await this.request('unsubscribe', { runId }).catch(() => undefined);
  }

  /** One request/response round trip (`runs.get`, `ping`, …); rejects with ProgressClientError. */
  async request<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResponsePayloads[M]> {
    await this.connect();
    const id = String(this.nextId++);
    return new Promise<ResponsePayloads[M]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ProgressClientError('timeout', `${method} got no answer within ${this.options.requestTimeoutMs} ms`));
      }, this.options.requestTimeoutMs);
      // The server answers each method with its documented payload (the frame parser checks only the envelope).
      this.pending.set(id, { resolve: (payload) => { resolve(payload as ResponsePayloads[M]); }, reject, timer });
      try {
        // connect() resolved, but the connection may have dropped since.
        if (!this.socket) throw new Error(`${method}: the connection closed before the request was sent`);
        this.socket.send(JSON.stringify({ type: 'req', id, method, params }));
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(asError(error));
      }
    });
  }

  /** Closes for good: no reconnect. */
  async close(): Promise<void> {
    this.closedByUser = true;
    clearTimeout(this.reconnectTimer);
    this.stopTimers();
    const socket = this.socket;
    if (!socket || socket.readyState > OPEN) return;
    await new Promise<void>((resolve) => {
      const previous = socket.onclose;
      socket.onclose = (event) => {
        previous?.(event);
        resolve();
      };
      socket.close(1000, 'client closed');
      setTimeout(resolve, 2_000);
    });
  }

  /** Drops the connection as a network failure would (tests, and `maxConnectionMs`); the client reconnects. */
  dropConnection(): void {
    this.socket?.close(4000, 'reconnecting');
  }

  private open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const url = `${this.options.url}${this.options.url.includes('?') ? '&' : '?'}token=${encodeURIComponent(this.options.token)}`;
      let socket: WebSocketLike;
      try {
        socket = this.factory(url);
      } catch (error) {
        reject(asError(error));
        return;
      }
      this.socket = socket;
      let opened = false;
      let refusal: ProgressClientError | undefined;
      socket.onopen = () => {
        opened = true;
        this.attempt = 0;
        this.startTimers();
        this.emit('open');
        resolve();
        for (const sub of this.subscriptions.values()) this.sendSubscribe(sub);
      };
      socket.onmessage = (event) => { this.onFrame(String(event.data)); };
      socket.onerror = (event) => {
        // `error` is whatever the WebSocket implementation attached, usually an Error (the message is coerced to text).
        const cause = event.error as { message?: string } | undefined;
        const message = event.message ?? cause?.message ?? 'WebSocket error';
        const status = /Unexpected server response: (\d+)/.exec(message)?.[1];
        if (status === '401' || status === '403') refusal = new ProgressClientError('unauthorized', `connection refused with HTTP ${status}`);
        this.emit('error', new ProgressClientError(refusal?.code ?? 'socket_error', message));
      };
      socket.onclose = (event) => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        this.stopTimers();
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new ProgressClientError('connection_closed', `connection closed (${event.code}) before the answer`));
          this.pending.delete(id);
        }
        for (const sub of this.subscriptions.values()) sub.subscribing = false;
        this.emit('close', { code: event.code, reason: event.reason });
        if (!opened) reject(refusal ?? new ProgressClientError('connect_failed', `connection failed (${event.code})`));
        if (refusal) {
          // A bad token does not get better by retrying.
          for (const sub of this.subscriptions.values()) this.fail(sub, refusal);
          return;
        }
        if (!this.closedByUser) this.scheduleReconnect();
      };
    });
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    const cap = Math.min(this.options.backoff.maxMs, this.options.backoff.initialMs * 2 ** this.attempt);
    const delayMs = Math.round(Math.random() * cap);
    this.attempt++;
    this.emit('reconnecting', { attempt: this.attempt, delayMs });
    this.reconnectTimer = setTimeout(() => {
      if (this.closedByUser) return;
      this.connect().catch(() => undefined);
    }, delayMs);
  }

  private startTimers(): void {
    this.stopTimers();
    this.pingTimer = setInterval(() => {
      if (this.connected) void this.request('ping', {}).catch(() => undefined);
    }, this.options.pingIntervalMs);
    this.lifetimeTimer = setTimeout(() => { this.dropConnection(); }, this.options.maxConnectionMs);
    unref(this.pingTimer);
    unref(this.lifetimeTimer);
  }

  private stopTimers(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.lifetimeTimer);
  }

  private sendSubscribe(sub: RunSubscription): void {
    if (sub.subscribing || this.subscriptions.get(sub.runId) !== sub || !this.connected) return;
    sub.subscribing = true;
    this.request('subscribe', { runId: sub.runId, afterSeq: sub.lastSeq }).then(
      // An ok frame's payload is optional in the frame format: do not count on one.
      (payload: ResponsePayloads['subscribe'] | undefined) => {
        sub.subscribing = false;
        // The replay budget of one request ran out: continue from where it got.
        if (payload?.complete === false) { this.sendSubscribe(sub); return; }
        if (!sub.settled) {
          sub.settled = true;
          sub.resolveReady();
        }
      },
      (error: unknown) => {
        sub.subscribing = false;
        if (!(error instanceof ProgressClientError)) return;
        if (error.code === 'reset') {
          const details = error.details as { firstSeq: number; snapshot: RunSnapshot };
          sub.lastSeq = details.firstSeq - 1;
          sub.options.onReset?.(details);
          this.sendSubscribe(sub);
        } else if (['connection_closed', 'timeout', 'internal', 'rate_limited', 'conflict'].includes(error.code)) {
          // Transient: a reconnect re-subscribes; on a live connection, try again after a pause.
          if (this.connected) unref(setTimeout(() => { this.sendSubscribe(sub); }, 500));
        } else {
          this.fail(sub, error);
        }
      },
    );
  }

  private fail(sub: RunSubscription, error: ProgressClientError): void {
    this.subscriptions.delete(sub.runId);
    sub.options.onError?.(error);
    if (!sub.settled) {
      sub.settled = true;
      sub.rejectReady(error);
    }
  }

  private onFrame(raw: string): void {
    const frame = parseServerFrame(raw);
    if (!frame) {
      this.emit('error', new ProgressClientError('bad_frame', `unparseable frame: ${raw.slice(0, 200)}`));
      return;
    }
    if (frame.type === 'res') {
      if (frame.id === null) return;
      const pending = this.pending.get(frame.id);
      if (!pending) return;
      this.pending.delete(frame.id);
      clearTimeout(pending.timer);
      if (frame.ok) pending.resolve(frame.payload);
      else {
        const error = frame.error as FrameError;
        pending.reject(new ProgressClientError(error.code, error.message, error.details));
      }
      return;
    }
    const sub = this.subscriptions.get(frame.runId);
    if (!sub) return;
    if (frame.seq <= sub.lastSeq) return;
    if (frame.seq > sub.lastSeq + 1) {
      if (!sub.subscribing) {
        this.emit('gap', { runId: sub.runId, expected: sub.lastSeq + 1, got: frame.seq });
        this.sendSubscribe(sub);
      }
      return;
    }
    sub.lastSeq = frame.seq;
    if (frame.event === 'Noop' && !sub.options.includeNoop) return;
    sub.options.onEvent(frame);
  }
}

/** A promise's rejection reason as an Error (a WebSocket implementation may throw anything). */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Lets the process exit while the timer is pending. Node's timers are objects with `unref`; a browser's are
 * numbers, and a test's fake timers may have no `unref`.
 */
function unref(timer: { unref?: () => unknown } | number): void {
  if (typeof timer === 'object') timer.unref?.();
}
