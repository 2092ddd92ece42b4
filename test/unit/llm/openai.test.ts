import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createProvider,
  llmConfigFromEnv,
  LlmHttpError,
  LlmTimeoutError,
  OpenAiCompatibleProvider,
  type RetryDeps,
} from '../../../lambdas/llm/index';
import type { LlmError } from '../../../lambdas/llm/errors';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** A fake OpenAI-compatible endpoint on loopback: each test scripts its answers. */
const fake = {
  server: undefined as Server | undefined,
  url: '',
  requests: [] as Array<{ method?: string; url?: string; headers: IncomingMessage['headers']; body: Record<string, unknown> | undefined }>,
  script: [] as Handler[],
  inFlight: 0,
  maxInFlight: 0,
};

function completion(usage: object, content = 'hello', extra: object = {}) {
  return JSON.stringify({ id: 'c1', object: 'chat.completion', model: 'gpt-4o-mini-2024-07-18', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage, ...extra });
}

const ok: Handler = (_req, _body, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(completion({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }));
};

function recordingDeps(): RetryDeps & { delays: number[] } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms), random: () => 0.5 };
}

function provider(opts: Partial<ConstructorParameters<typeof OpenAiCompatibleProvider>[0]> = {}) {
  return new OpenAiCompatibleProvider({ baseUrl: fake.url, model: 'gpt-4o-mini', apiKey: 'sk-test-secret-key-123456', prices: { 'gpt-4o-mini': { input: 2, output: 10 } }, ...opts });
}

describe('Class: OpenAiCompatibleProvider', () => {
  beforeAll(async () => {
    fake.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        fake.requests.push({ method: req.method, url: req.url, headers: req.headers, body: body ? (JSON.parse(body) as Record<string, unknown>) : undefined });
        fake.inFlight++;
        fake.maxInFlight = Math.max(fake.maxInFlight, fake.inFlight);
        res.on('close', () => fake.inFlight--);
        (fake.script.shift() ?? ok)(req, body, res);
      });
    });
    await new Promise<void>((resolve) => fake.server!.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    fake.server?.closeAllConnections();
    await new Promise((resolve) => fake.server?.close(resolve));
  });
  beforeEach(() => {
    fake.requests = [];
    fake.script = [];
    fake.maxInFlight = 0;
  });

  describe('Method: complete', () => {
    it('should send a chat completion request of the OpenAI shape', async () => {
      const r = await provider().complete({ system: 'be brief', messages: [{ role: 'user', content: 'hi' }], maxTokens: 64, temperature: 0.2, stop: ['END'] });
      expect(r.text).toBe('hello');
      expect(fake.requests).toHaveLength(1);
      const req = fake.requests[0];
      expect(req.method).toBe('POST');
      expect(req.url).toBe('/v1/chat/completions');
      expect(req.headers.authorization).toBe('Bearer sk-test-secret-key-123456');
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.body).toEqual({
        model: 'gpt-4o-mini',
        messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }],
        max_tokens: 64,
        temperature: 0.2,
        stop: ['END'],
      });
    });

    it('should not double /v1 and should use max_completion_tokens when configured', async () => {
      await provider({ baseUrl: `${fake.url}/v1/`, maxTokensField: 'max_completion_tokens' }).complete({ system: '', messages: [{ role: 'user', content: 'x' }], maxTokens: 8 });
      expect(fake.requests[0].url).toBe('/v1/chat/completions');
      expect(fake.requests[0].body!.max_completion_tokens).toBe(8);
      expect(fake.requests[0].body!.messages).toEqual([{ role: 'user', content: 'x' }]);
    });

    it('should account tokens with reasoning split out of completion tokens, and price them', async () => {
      fake.script.push((_q, _b, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(completion({ prompt_tokens: 100, completion_tokens: 50, total_tokens: 150, completion_tokens_details: { reasoning_tokens: 20 } }));
      });
      const r = await provider().complete({ system: 's', messages: [{ role: 'user', content: 'q' }], maxTokens: 100 });
      expect(r.usage).toEqual({ inputTokens: 100, outputTokens: 30, reasoningTokens: 20, totalTokens: 150 });
      expect(r.model).toBe('gpt-4o-mini-2024-07-18');
      expect(r.finishReason).toBe('stop');
      // (100·2 + 30·10 + 20·10) / 1e6: reasoning billed at the output price, the dated id priced as its family.
      expect(r.costUsd).toBeCloseTo(0.0007, 12);
      expect(r.priced).toBe(true);
    });

    it('should bill reasoning at its own price when one is configured', async () => {
      fake.script.push((_q, _b, res) => {
        res.writeHead(200);
        res.end(completion({ prompt_tokens: 100, completion_tokens: 50, completion_tokens_details: { reasoning_tokens: 20 } }));
      });
      const r = await provider({ prices: { 'gpt-4o-mini': { input: 2, output: 10, reasoning: 5 } } }).complete({ system: '', messages: [{ role: 'user', content: 'q' }], maxTokens: 10 });
      expect(r.usage.totalTokens).toBe(150);
      expect(r.costUsd).toBeCloseTo(0.0006, 12);
    });

    it('should retry a 429 after the Retry-After the server asked for', async () => {
      fake.script.push((_q, _b, res) => {
        res.writeHead(429, { 'retry-after': '2', 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'rate_limit' } }));
      });
      const deps = recordingDeps();
      const r = await provider({ retryDeps: deps }).complete({ system: '', messages: [{ role: 'user', content: 'q' }], maxTokens: 10 });
      expect(r.text).toBe('hello');
      expect(fake.requests).toHaveLength(2);
      expect(deps.delays).toEqual([2000]);
    });

    it('should back off with full jitter on 5xx and give up after maxRetries', async () => {
      for (let i = 0; i < 3; i++) {
        fake.script.push((_q, _b, res) => {
          res.writeHead(503);
          res.end('overloaded');
        });
      }
      const deps = recordingDeps();
      const p = provider({ retryDeps: deps, retry: { maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1000 } });
      const error = (await p.complete({ system: '', messages: [{ role: 'user', content: 'q' }], maxTokens: 10 }).catch((e: unknown) => e)) as LlmError;
      expect(error).toBeInstanceOf(LlmHttpError);
      expect(error.status).toBe(503);
      expect(error.retryable).toBe(true);
      expect(error.$retryable).toBeDefined();
      // random() = 0.5 of min(cap, base·2^n): 50, then 100.
      expect(deps.delays).toEqual([50, 100]);
      expect(fake.requests).toHaveLength(3);
    });

    it('should not retry a 400 and should never put the key in the error', async () => {
      fake.script.push((req, _b, res) => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `invalid request, header was ${String(req.headers.authorization)}` } }));
      });
      const deps = recordingDeps();
      const error = (await provider({ retryDeps: deps }).complete({ system: '', messages: [{ role: 'user', content: 'q' }], maxTokens: 10 }).catch((e: unknown) => e)) as LlmError;
      expect(error).toBeInstanceOf(LlmHttpError);
      expect(error.retryable).toBe(false);
      expect(deps.delays).toEqual([]);
      expect(error.message).toContain('400');
      expect(error.message).not.toContain('sk-test-secret-key-123456');
      expect(JSON.stringify(error)).not.toContain('sk-test-secret-key-123456');
    });

    it('should abort a call that exceeds its timeout', async () => {
      fake.script.push(() => {
        // never answers
      });
      const started = Date.now();
      const error = (await provider({ timeoutMs: 100, retry: { maxRetries: 0 } }).complete({ system: '', messages: [{ role: 'user', content: 'q' }], maxTokens: 10 }).catch((e: unknown) => e)) as LlmError;
      expect(error).toBeInstanceOf(LlmTimeoutError);
      expect(error.retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('should hold at most maxConcurrency calls in flight', async () => {
      for (let i = 0; i < 6; i++) fake.script.push((_q, _b, res) => setTimeout(() => { ok(_q, _b, res); }, 30));
      const p = provider({ maxConcurrency: 2 });
      await Promise.all(Array.from({ length: 6 }, () => p.complete({ system: '', messages: [{ role: 'user', content: 'q' }], maxTokens: 10 })));
      expect(fake.maxInFlight).toBe(2);
      expect(p.limiter.peak).toBe(2);
    });
  });

  describe('Function: createProvider', () => {
    it('should read the key from Secrets Manager once, through the injected source', async () => {
      const reads: string[] = [];
      const config = llmConfigFromEnv({
        AGENTPLANE_LLM_PROVIDER: 'openai',
        AGENTPLANE_LLM_MODEL: 'gpt-4o-mini',
        AGENTPLANE_LLM_BASE_URL: fake.url,
        AGENTPLANE_LLM_API_KEY_SECRET: 'arn:aws:secretsmanager:eu-west-1:123:secret:llm',
      });
      const p = await createProvider(config, {
        secrets: {
          secretsManager: async (id) => (reads.push(id), JSON.stringify({ apiKey: 'sk-from-secrets-manager-1' })),
          ssm: async () => undefined,
        },
      });
      await p.complete({ system: '', messages: [{ role: 'user', content: 'a' }], maxTokens: 5 });
      await p.complete({ system: '', messages: [{ role: 'user', content: 'b' }], maxTokens: 5 });
      expect(reads).toEqual(['arn:aws:secretsmanager:eu-west-1:123:secret:llm']);
      expect(fake.requests.map((r) => r.headers.authorization)).toEqual(['Bearer sk-from-secrets-manager-1', 'Bearer sk-from-secrets-manager-1']);
    });

    it('should read the key from an SSM SecureString parameter', async () => {
      const config = llmConfigFromEnv({ AGENTPLANE_LLM_PROVIDER: 'openai', AGENTPLANE_LLM_MODEL: 'm', AGENTPLANE_LLM_BASE_URL: fake.url, AGENTPLANE_LLM_API_KEY_PARAMETER: '/agentplane/llm-key' });
      const p = await createProvider(config, { secrets: { secretsManager: async () => undefined, ssm: async (name) => (name === '/agentplane/llm-key' ? 'ssm-key-abcdef' : undefined) } });
      await p.complete({ system: '', messages: [{ role: 'user', content: 'a' }], maxTokens: 5 });
      expect(fake.requests[0].headers.authorization).toBe('Bearer ssm-key-abcdef');
    });
  });
});
