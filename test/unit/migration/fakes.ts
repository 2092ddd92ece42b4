import { estimateRequestTokens, estimateTokens, lastFencedBlock, type LlmProvider, type LlmRequest, type LlmResponse } from '../../../lambdas/llm/index';

/** An LLM whose answers the test writes: `answer` gets the request and the reference block of its prompt. */
export class ScriptedProvider implements LlmProvider {
  readonly name = 'scripted';
  readonly model = 'scripted-1';
  readonly requests: LlmRequest[] = [];

  constructor(
    private readonly answer: (request: LlmRequest, reference: string | undefined) => string | { text: string; finishReason: LlmResponse['finishReason'] },
    readonly contextTokens = 32_000,
  ) {}

  async complete(request: LlmRequest): Promise<LlmResponse> {
    this.requests.push(request);
    const last = request.messages[request.messages.length - 1].content;
    const a = this.answer(request, lastFencedBlock(last, 'reference'));
    const { text, finishReason } = typeof a === 'string' ? { text: a, finishReason: 'stop' as const } : a;
    const usage = { inputTokens: estimateRequestTokens(request), outputTokens: estimateTokens(text), reasoningTokens: 3, totalTokens: 0 };
    usage.totalTokens = usage.inputTokens + usage.outputTokens + usage.reasoningTokens;
    return { text, usage, model: this.model, finishReason, costUsd: 0.001, priced: true };
  }
}
