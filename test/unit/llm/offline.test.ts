import { describe, expect, it } from 'vitest';
import { createProvider, DEFAULT_PRICES, lastFencedBlock, llmConfigFromEnv, OFFLINE_MODEL, OfflineProvider, estimateTokens } from '../../../lambdas/llm/index';

const request = (content: string, maxTokens = 1_000) => ({ system: 'sys', messages: [{ role: 'user' as const, content }], maxTokens });

describe('Class: OfflineProvider', () => {
  describe('Method: complete', () => {
    it('should answer the same request with the same text, usage and cost', async () => {
      const a = await new OfflineProvider().complete(request('explain PERFORM THRU'));
      const b = await new OfflineProvider().complete(request('explain PERFORM THRU'));
      expect(a).toEqual(b);
      expect(a.model).toBe(OFFLINE_MODEL);
      expect(a.text).toMatch(/^Offline deterministic answer [0-9a-f]{12}\. Regarding: explain PERFORM THRU$/);
      const c = await new OfflineProvider().complete(request('something else'));
      expect(c.text).not.toBe(a.text);
    });

    it('should report non-zero, consistent token counts and cost nothing: free, not unpriced', async () => {
      const r = await new OfflineProvider().complete(request('x'.repeat(700)));
      expect(r.usage.inputTokens).toBeGreaterThan(200);
      expect(r.usage.outputTokens).toBe(estimateTokens(r.text));
      expect(r.usage.totalTokens).toBe(r.usage.inputTokens + r.usage.outputTokens + r.usage.reasoningTokens);
      expect(r.costUsd).toBe(0);
      expect(r.priced).toBe(true);
    });

    it('should stay free whatever a price table says about its model (no invented price)', async () => {
      expect(DEFAULT_PRICES).not.toHaveProperty(OFFLINE_MODEL);
      const r = await new OfflineProvider({ prices: { [OFFLINE_MODEL]: { input: 5, output: 10 } } }).complete(request('x'.repeat(700)));
      expect(r.usage.totalTokens).toBeGreaterThan(0);
      expect(r).toMatchObject({ costUsd: 0, priced: true });
      const configured = await createProvider(llmConfigFromEnv({ AGENTPLANE_LLM_PRICES: JSON.stringify({ [OFFLINE_MODEL]: { input: 5, output: 10 } }) }));
      expect(configured.name).toBe('offline');
      expect(await configured.complete(request('y'.repeat(700)))).toMatchObject({ costUsd: 0, priced: true });
    });

    it('should answer with the reference block of the last user message', async () => {
      const r = await new OfflineProvider().complete(request('Translate.\n```java\nint a;\n```\n```reference\n// BEGIN m\nfoo();\n// END m\n```\n'));
      expect(r.text).toBe('// BEGIN m\nfoo();\n// END m');
      expect(r.finishReason).toBe('stop');
    });

    it('should stop at maxTokens like a model, and at stop sequences', async () => {
      const long = `\`\`\`reference\n${'statement();\n'.repeat(400)}\`\`\``;
      const cut = await new OfflineProvider().complete(request(long, 50));
      expect(cut.finishReason).toBe('length');
      expect(cut.usage.outputTokens).toBeLessThanOrEqual(50);
      const stopped = await new OfflineProvider().complete({ ...request('```reference\nabc STOP def\n```'), stop: ['STOP'] });
      expect(stopped.text).toBe('abc ');
    });

    it('should add synthetic reasoning tokens when asked', async () => {
      const r = await new OfflineProvider({ reasoningRatio: 0.5 }).complete(request('```reference\n' + 'x = 1;\n'.repeat(100) + '```'));
      expect(r.usage.reasoningTokens).toBe(Math.round(r.usage.outputTokens * 0.5));
    });
  });

  describe('Function: lastFencedBlock', () => {
    it('should find the last block with the info string', () => {
      expect(lastFencedBlock('```a\n1\n```\n```a\n2\n```', 'a')).toBe('2');
      expect(lastFencedBlock('```b\n1\n```', 'a')).toBeUndefined();
    });
  });
});
