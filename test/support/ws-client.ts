import WebSocket from 'ws';

/** A test WebSocket client that collects frames and waits for them with deadlines (never fixed sleeps). */
export class TestSocket {
  readonly frames: any[] = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = String(data);
      try {
        this.frames.push(JSON.parse(text));
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
      ws.once('unexpected-response', (_req, res) => { reject(Object.assign(new Error(`refused with HTTP ${res.statusCode}`), { statusCode: res.statusCode })); });
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  async waitFor(predicate: (frame: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found;
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

  async request(id: string, method: string, params: unknown = {}): Promise<any> {
    this.send({ type: 'req', id, method, params });
    return this.waitFor((f) => f?.type === 'res' && f.id === id);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) { resolve(); return; }
      this.ws.once('close', () => { resolve(); });
      this.ws.close();
    });
  }
}
