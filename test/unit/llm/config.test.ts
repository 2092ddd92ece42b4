import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  ConcurrencyLimiter,
  costOf,
  describeConfig,
  extractKey,
  LlmConfigError,
  llmConfigFromEnv,
  parsePriceTable,
  parseRetryAfter,
  priceOf,
  redact,
} from '../../../lambdas/llm/index';

const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n] ?? null });

describe('Function: llmConfigFromEnv', () => {
  it('should default to the offline provider', () => {
    const c = llmConfigFromEnv({});
    expect(c.provider).toBe('offline');
    expect(c.model).toBe('offline-deterministic-1');
    expect(c.key).toEqual({ kind: 'none' });
  });

  it('should read an OpenAI-compatible configuration with prices merged over the defaults', () => {
    const c = llmConfigFromEnv({
      AGENTPLANE_LLM_PROVIDER: 'openai',
      AGENTPLANE_LLM_MODEL: 'my-model',
      AGENTPLANE_LLM_BASE_URL: 'http://localhost:11434',
      AGENTPLANE_LLM_API_KEY: 'local-key-123',
      AGENTPLANE_LLM_PRICES: '{"my-model":{"input":1,"output":2},"bad":{"input":-1}}',
      AGENTPLANE_LLM_CONTEXT_TOKENS: '8000',
      AGENTPLANE_LLM_MAX_CONCURRENCY: '3',
    });
    expect(c.prices['my-model']).toEqual({ input: 1, output: 2 });
    expect(c.prices['gpt-4o-mini']).toBeDefined();
    expect(c.warnings).toHaveLength(1);
    expect(c.contextTokens).toBe(8000);
    expect(c.maxConcurrency).toBe(3);
    expect(c.key).toEqual({ kind: 'env', value: 'local-key-123' });
    expect(JSON.stringify(describeConfig(c))).not.toContain('local-key-123');
  });

  it('should reject unknown providers, missing models and bad numbers', () => {
    expect(() => llmConfigFromEnv({ AGENTPLANE_LLM_PROVIDER: 'gpt' })).toThrow(LlmConfigError);
    expect(() => llmConfigFromEnv({ AGENTPLANE_LLM_PROVIDER: 'bedrock' })).toThrow(/MODEL/);
    expect(() => llmConfigFromEnv({ AGENTPLANE_LLM_PROVIDER: 'openai', AGENTPLANE_LLM_MODEL: 'm' })).toThrow(/BASE_URL/);
    expect(() => llmConfigFromEnv({ AGENTPLANE_LLM_TIMEOUT_MS: 'soon' })).toThrow(/TIMEOUT/);
  });

  it('should prefer Secrets Manager, then SSM, then the environment for the key', () => {
    expect(llmConfigFromEnv({ AGENTPLANE_LLM_API_KEY_SECRET: 's', AGENTPLANE_LLM_API_KEY_PARAMETER: 'p', AGENTPLANE_LLM_API_KEY: 'k' }).key.kind).toBe('secretsmanager');
    expect(llmConfigFromEnv({ AGENTPLANE_LLM_API_KEY_PARAMETER: 'p', AGENTPLANE_LLM_API_KEY: 'k' }).key.kind).toBe('ssm');
  });
});

describe('Function: costOf', () => {
  it('should price input, output and reasoning per million tokens', () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 500_000, reasoningTokens: 100_000, totalTokens: 1_600_000 };
    expect(costOf(usage, 'm', { m: { input: 1, output: 4 } })).toEqual({ costUsd: 1 + 2 + 0.4, priced: true });
    expect(costOf(usage, 'm', { m: { input: 1, output: 4, reasoning: 1 } }).costUsd).toBeCloseTo(3.1, 9);
    expect(costOf(usage, 'unknown', { m: { input: 1, output: 4 } })).toEqual({ costUsd: 0, priced: false });
  });

  it('should match dated ids and regional inference profiles to their family, not other models', () => {
    const prices = { 'gpt-4o': { input: 1, output: 1 }, 'gpt-4o-mini': { input: 2, output: 2 }, 'anthropic.claude': { input: 3, output: 3 } };
    expect(priceOf('gpt-4o-mini-2024-07-18', prices)?.input).toBe(2);
    expect(priceOf('us.anthropic.claude', prices)?.input).toBe(3);
    expect(priceOf('my-gpt-4o', prices)).toBeUndefined();
    expect(parsePriceTable('not json').problems[0]).toMatch(/not JSON/);
  });
});

describe('Function: parseRetryAfter', () => {
  it('should read seconds, HTTP dates and retry-after-ms', () => {
    expect(parseRetryAfter(headers({ 'retry-after': '3' }))).toBe(3000);
    expect(parseRetryAfter(headers({ 'retry-after-ms': '250', 'retry-after': '3' }))).toBe(250);
    expect(parseRetryAfter(headers({ 'retry-after': new Date(10_000).toUTCString() }), 4_000)).toBe(6_000);
    expect(parseRetryAfter(headers({}))).toBeUndefined();
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }))).toBeUndefined();
  });
});

describe('Function: backoffDelay', () => {
  it('should stay within [0, min(cap, base·2^n)]', () => {
    const policy = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelay(0, policy, () => 0.999)).toBe(99);
    expect(backoffDelay(3, policy, () => 0.999)).toBe(799);
    expect(backoffDelay(10, policy, () => 0.999)).toBe(999);
    expect(backoffDelay(10, policy, () => 0)).toBe(0);
  });
});

describe('Class: ConcurrencyLimiter', () => {
  it('should run at most max at once, in arrival order', async () => {
    const limiter = new ConcurrencyLimiter(2);
    const order: number[] = [];
    let active = 0;
    let peak = 0;
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        limiter.run(async () => {
          active++;
          peak = Math.max(peak, active);
          order.push(i);
          await new Promise((r) => setTimeout(r, 5));
          active--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('Function: redact', () => {
  it('should remove known secrets and credential-looking strings', () => {
    const text = redact('key=abcd1234 Authorization: Bearer sk-live-aaaaaaaaaaaa api_key="zzz" plain', ['abcd1234']);
    expect(text).not.toContain('abcd1234');
    expect(text).not.toContain('sk-live-aaaaaaaaaaaa');
    expect(text).not.toContain('zzz');
    expect(text).toContain('plain');
  });

  it('should take the key out of a Secrets Manager JSON value', () => {
    expect(extractKey('{"apiKey":"a1"}')).toBe('a1');
    expect(extractKey('{"token":"t"}', 'token')).toBe('t');
    expect(extractKey('  raw-key \n')).toBe('raw-key');
    expect(extractKey('{"other":"x"}')).toBeUndefined();
  });
});
