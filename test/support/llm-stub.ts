/**
 * A tiny OpenAI-compatible endpoint on loopback for the cloud tests: `POST /v1/chat/completions` answers every
 * request with the same fixed usage and counts it; `GET /calls?match=<text>` tells a test how many requests it
 * answered whose prompt contains `text` (a run id), so the test computes the expected tokens and cost from the
 * server's own count, independently of what the platform reports. The global setup points the diagnostics agent
 * at it (`AGENTPLANE_DIAGNOSTICS_LLM_*`); its `llmPrompt` knob makes the calls.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const STUB_MODEL = 'agentplane-test-stub';
/** Usage of every answer, and the price the cloud is given for the stub's model (USD per 1M tokens). */
export const STUB_USAGE = { prompt: 100, completion: 20 };
export const STUB_PRICE = { input: 3, output: 15 };

export interface StubInfo {
  model: string;
  usage: typeof STUB_USAGE;
  price: typeof STUB_PRICE;
}

export interface StubCalls extends StubInfo {
  calls: number;
}

export interface LlmStub {
  url: string;
  /** AGENTPLANE_DIAGNOSTICS_LLM_* for the synthesizing process: the diagnostics agent calls this stub. */
  diagnosticsEnv: Record<string, string>;
  close(): Promise<void>;
}

export async function startLlmStub(): Promise<LlmStub> {
  const prompts: string[] = [];
  const info: StubInfo = { model: STUB_MODEL, usage: STUB_USAGE, price: STUB_PRICE };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/calls') {
      const match = url.searchParams.get('match') ?? '';
      answer(200, { ...info, calls: prompts.filter((p) => p.includes(match)).length } satisfies StubCalls); return;
    }
    if (req.method !== 'POST' || !url.pathname.endsWith('/chat/completions')) { answer(404, { error: { message: `no route ${String(req.method)} ${url.pathname}` } }); return; }
    let body = '';
    req.on('data', (chunk: Buffer) => (body += String(chunk)));
    req.on('end', () => {
      let request: { model?: string; messages?: Array<{ content?: string }> };
      try {
        request = JSON.parse(body) as typeof request;
      } catch {
        answer(400, { error: { message: 'not JSON' } }); return;
      }
      prompts.push((request.messages ?? []).map((m) => m.content ?? '').join('\n'));
      answer(200, {
        id: `chatcmpl-${prompts.length}`,
        object: 'chat.completion',
        model: request.model ?? STUB_MODEL,
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: STUB_USAGE.prompt, completion_tokens: STUB_USAGE.completion, total_tokens: STUB_USAGE.prompt + STUB_USAGE.completion },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => { resolve(); }));
  // Never what keeps the test process alive (a cloud that failed to start leaves it open).
  server.unref();
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    diagnosticsEnv: {
      AGENTPLANE_DIAGNOSTICS_LLM_PROVIDER: 'openai',
      AGENTPLANE_DIAGNOSTICS_LLM_MODEL: STUB_MODEL,
      AGENTPLANE_DIAGNOSTICS_LLM_BASE_URL: `${url}/v1`,
      AGENTPLANE_DIAGNOSTICS_LLM_PRICES: JSON.stringify({ [STUB_MODEL]: STUB_PRICE }),
      // One request per attempt, exactly: the provider's own retries would only blur the count if the stub failed.
      AGENTPLANE_DIAGNOSTICS_LLM_MAX_RETRIES: '0',
    },
    close: () => new Promise<void>((resolve) => server.close(() => { resolve(); })),
  };
}

/** What the stub answered for prompts containing `match` (e.g. a run id): its count and its fixed figures. */
export async function stubCalls(stubUrl: string, match: string): Promise<StubCalls> {
  const res = await fetch(`${stubUrl}/calls?match=${encodeURIComponent(match)}`);
  if (!res.ok) throw new Error(`LLM stub: ${res.status} ${await res.text()}`);
  return (await res.json()) as StubCalls;
}
