import { BedrockRuntimeClient, ConverseCommand, type ConverseCommandInput, type ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import { BaseProvider, count, usageOf, type ProviderOptions } from './base';
import { LlmError, LlmHttpError, LlmResponseError } from './errors';
import { redact } from './redact';
import { withTimeout } from './retry';
import { estimateTokens } from './tokens';
import type { FinishReason, LlmRequest, LlmResponse } from './types';

/** The slice of BedrockRuntimeClient we use, so tests can pass a double or aws-sdk-client-mock's mock. */
export interface ConverseClient {
  send(command: ConverseCommand, options?: { abortSignal?: AbortSignal }): Promise<ConverseCommandOutput>;
}

export interface BedrockOptions extends ProviderOptions {
  region?: string;
  client?: ConverseClient;
}

const RETRYABLE = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelTimeoutException',
  'ModelNotReadyException',
  'TooManyRequestsException',
]);

const FINISH: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_use',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

/** Amazon Bedrock through the Converse API (one request shape for every model family). */
export class BedrockProvider extends BaseProvider {
  readonly name = 'bedrock';
  private readonly client: ConverseClient;

  constructor(opts: BedrockOptions) {
    super(opts);
    // maxAttempts 1: our retry loop (full jitter, shared limiter) is the only one, so attempts are counted once.
    this.client = opts.client ?? new BedrockRuntimeClient({ ...(opts.region ? { region: opts.region } : {}), maxAttempts: 1 });
  }

  protected async attempt(request: LlmRequest): Promise<LlmResponse> {
    const input: ConverseCommandInput = {
      modelId: this.model,
      messages: request.messages.map((m) => ({ role: m.role, content: [{ text: m.content }] })),
      ...(request.system ? { system: [{ text: request.system }] } : {}),
      inferenceConfig: {
        maxTokens: request.maxTokens,
        ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        ...(request.stop && request.stop.length > 0 ? { stopSequences: request.stop } : {}),
      },
    };
    let out: ConverseCommandOutput;
    try {
      out = await withTimeout(this.timeoutMs, `Bedrock call to ${this.model}`, (abortSignal) => this.client.send(new ConverseCommand(input), { abortSignal }));
    } catch (error) {
      if (error instanceof LlmError) throw error;
      const e = error as { name?: string; message?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode;
      const retryable = RETRYABLE.has(e.name ?? '') || !!e.$retryable || status === 429 || (status !== undefined && status >= 500);
      throw new LlmHttpError(`Bedrock ${e.name ?? 'error'} (${this.model}): ${redact(e.message ?? String(error), [])}`, {
        retryable,
        throttling: e.name === 'ThrottlingException' || status === 429,
        ...(status !== undefined ? { status } : {}),
        cause: error,
      });
    }
    const blocks = out.output?.message?.content;
    if (!blocks) throw new LlmResponseError(`Bedrock returned no message (${this.model})`, { retryable: true });
    const text = blocks.map((b) => b.text ?? '').join('');
    const reasoningText = blocks.map((b) => b.reasoningContent?.reasoningText?.text ?? '').join('');
    const u = out.usage;
    const output = count(u?.outputTokens);
    // Converse folds reasoning into outputTokens without a count of its own: the split is an estimate from
    // the reasoning text, and billing is unchanged unless reasoning has its own price.
    const reasoning = Math.min(estimateTokens(reasoningText), output);
    const input_ = count(u?.inputTokens) + count(u?.cacheReadInputTokens) + count(u?.cacheWriteInputTokens);
    const usage = usageOf(input_, output - reasoning, reasoning, u?.totalTokens);
    return this.respond(text, usage, this.model, FINISH[out.stopReason ?? ''] ?? 'other');
  }
}
