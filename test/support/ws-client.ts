import WebSocket from 'ws';
import type { EventFrame } from '../../lambdas/core/events/frames';

/** An answer frame (frames.ts ResponseFrame) as a test reads it: `payload` when ok, `error` when not. */
export interface ResFrame<P = Record<string, unknown>> {
  type: 'res';
  id: string | null;
  ok: boolean;
  payload?: P;
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

/** What the server sends (frames.ts): answers and event frames. */
export type Frame = ResFrame | EventFrame;

/** Whether a received frame is a JSON object (not the text of one that was not JSON). */
export function isFrame(frame: unknown): frame is Frame {
  return typeof frame === 'object' && frame !== null;
}

/** A test WebSocket client that collects frames and waits for them with deadlines (never fixed sleeps). */
export class TestSocket {
  /** Every frame received, in order; one that was not JSON is kept as its text. */
  readonly frames: Array<Frame | string> = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      // The default binaryType ('nodebuffer'): every message is one Buffer.
      const text = (data as Buffer).toString();
      try {
        this.frames.push(JSON.parse(text) as Frame);
      } catch {
        this.frames.push(text);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', () => { this.waiters.splice(0).forEach((w) => { w(); }); });
  }

  static open(url: string): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => { resolve(new TestSocket(ws)); });
      ws.once('unexpected-response', (_req, res) => { reject(Object.assign(new Error(`refused with HTTP ${String(res.statusCode)}`), { statusCode: res.statusCode })); });
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame that satisfies `predicate`, as the type the caller knows it to be (by default any frame). */
  async waitFor<T = Frame | string>(predicate: (frame: Frame | string) => boolean, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found as T;
      const left = deadline - Date.now();
      if (left <= 0 || this.ws.readyState === WebSocket.CLOSED) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a request and waits for its answer; `P` is the payload the method answers with. */
  async request<P = Record<string, unknown>>(id: string, method: string, params: unknown = {}): Promise<ResFrame<P>> {
    this.send({ type: 'req', id, method, params });
    return this.waitFor<ResFrame<P>>((f) => isFrame(f) && f.type === 'res' && f.id === id);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) { resolve(); return; }
      this.ws.once('close', () => { resolve(); });
      this.ws.close();
    });
  }
}
