import { BedrockRuntimeClient, ConverseCommand, ThrottlingException, ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BedrockProvider } from '../../../lambdas/llm/bedrock';
import { createProvider, LlmHttpError, llmConfigFromEnv, type RetryDeps } from '../../../lambdas/llm/index';
import type { LlmError } from '../../../lambdas/llm/errors';

const MODEL = 'anthropic.claude-3-7-sonnet-20250219-v1:0';
const bedrock = mockClient(BedrockRuntimeClient);

function deps(): RetryDeps & { delays: number[] } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms), random: () => 0.25 };
}

function answer(text: string, usage: { inputTokens: number; outputTokens: number; totalTokens: number }, reasoning?: string) {
  return {
    output: { message: { role: 'assistant' as const, content: [...(reasoning ? [{ reasoningContent: { reasoningText: { text: reasoning } } }] : []), { text }] } },
    stopReason: 'end_turn' as const,
    usage,
    metrics: { latencyMs: 10 },
  };
}

describe('Class: BedrockProvider', () => {
  beforeEach(() => bedrock.reset());
  const make = (d = deps()) => new BedrockProvider({ model: MODEL, client: new BedrockRuntimeClient({ region: 'eu-west-1' }), prices: { [MODEL]: { input: 3, output: 15 } }, retryDeps: d });

  describe('Method: complete', () => {
    it('should call Converse with system, messages and inference config, and price the usage', async () => {
      bedrock.on(ConverseCommand).resolves(answer('public class A {}', { inputTokens: 1000, outputTokens: 200, totalTokens: 1200 }));
      const r = await make().complete({ system: 'translate', messages: [{ role: 'user', content: 'COBOL' }], maxTokens: 512, temperature: 0, stop: ['// END'] });
      const input = bedrock.commandCalls(ConverseCommand)[0].args[0].input;
      expect(input).toEqual({
        modelId: MODEL,
        system: [{ text: 'translate' }],
        messages: [{ role: 'user', content: [{ text: 'COBOL' }] }],
        inferenceConfig: { maxTokens: 512, temperature: 0, stopSequences: ['// END'] },
      });
      expect(r.text).toBe('public class A {}');
      expect(r.usage).toEqual({ inputTokens: 1000, outputTokens: 200, reasoningTokens: 0, totalTokens: 1200 });
      expect(r.finishReason).toBe('stop');
      expect(r.costUsd).toBeCloseTo((1000 * 3 + 200 * 15) / 1e6, 12);
    });

    it('should split reasoning out of the output tokens without changing the total', async () => {
      bedrock.on(ConverseCommand).resolves(answer('ok', { inputTokens: 10, outputTokens: 100, totalTokens: 110 }, 'thinking '.repeat(20)));
      const r = await make().complete({ system: '', messages: [{ role: 'user', content: 'q' }], maxTokens: 200 });
      expect(r.usage.reasoningTokens).toBeGreaterThan(0);
      expect(r.usage.outputTokens + r.usage.reasoningTokens).toBe(100);
      expect(r.usage.totalTokens).toBe(110);
      expect(r.text).toBe('ok');
    });

    it('should retry throttling with backoff and then succeed', async () => {
      bedrock
        .on(ConverseCommand)
        .rejectsOnce(new ThrottlingException({ message: 'Too many requests', $metadata: { httpStatusCode: 429 } }))
        .resolves(answer('done', { inputTokens: 1, outputTokens: 1, totalTokens: 2 }));
      const d = deps();
      const r = await make(d).complete({ system: '', messages: [{ role: 'user', content: 'q' }], maxTokens: 10 });
      expect(r.text).toBe('done');
      expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(2);
      expect(d.delays).toHaveLength(1);
    });

    it('should not retry a validation error', async () => {
      bedrock.on(ConverseCommand).rejects(new ValidationException({ message: 'bad model', $metadata: { httpStatusCode: 400 } }));
      const d = deps();
      const error = (await make(d).complete({ system: '', messages: [{ role: 'user', content: 'q' }], maxTokens: 10 }).catch((e: unknown) => e)) as LlmError;
      expect(error).toBeInstanceOf(LlmHttpError);
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('ValidationException');
      expect(d.delays).toEqual([]);
    });

    it('should be what AGENTPLANE_LLM_PROVIDER=bedrock builds', async () => {
      bedrock.on(ConverseCommand).resolves(answer('x', { inputTokens: 1, outputTokens: 1, totalTokens: 2 }));
      const p = await createProvider(llmConfigFromEnv({ AGENTPLANE_LLM_PROVIDER: 'bedrock', AGENTPLANE_LLM_MODEL: `us.${MODEL}`, AWS_REGION: 'us-east-1' }), {
        bedrockClient: new BedrockRuntimeClient({ region: 'us-east-1' }),
      });
      const r = await p.complete({ system: '', messages: [{ role: 'user', content: 'q' }], maxTokens: 10 });
      expect(p.name).toBe('bedrock');
      // The inference profile id finds the model's default price.
      expect(r.priced).toBe(true);
    });
  });
});
