import { BaseProvider, count, usageOf, type ProviderOptions } from './base';
import { LlmConfigError, LlmError, LlmHttpError, LlmResponseError } from './errors';
import { redact } from './redact';
import { parseRetryAfter, withTimeout } from './retry';
import type { FinishReason, LlmRequest, LlmResponse } from './types';

export interface OpenAiOptions extends ProviderOptions {
  /** `https://api.openai.com`, `http://localhost:11434` (Ollama), a vLLM or gateway URL; `/v1` optional. */
  baseUrl: string;
  /** The key, or how to get it (Secrets Manager / SSM in AWS); absent for endpoints without auth. */
  apiKey?: string | (() => Promise<string>);
  /** Reasoning models reject max_tokens; most compatible servers only know it. */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  fetch?: typeof fetch;
  /** Extra headers (gateways' own auth, OpenAI-Organization). */
  headers?: Record<string, string>;
}

interface ChatCompletion {
  model?: string;
  choices?: Array<{ message?: { content?: string | null; reasoning_content?: string | null }; finish_reason?: string | null }>;
  usage?: {
    prompt_tokens?: number;
    completion_tokens?: number;
    total_tokens?: number;
    completion_tokens_details?: { reasoning_tokens?: number };
  };
}

const FINISH: Record<string, FinishReason> = { stop: 'stop', length: 'length', content_filter: 'content_filter', tool_calls: 'tool_use', function_call: 'tool_use' };

/** Any `/v1/chat/completions` endpoint, over plain fetch. */
export class OpenAiCompatibleProvider extends BaseProvider {
  readonly name = 'openai';
  private readonly url: string;
  private readonly fetchFn: typeof fetch;
  private key: string | undefined;
  private keyPromise: Promise<string> | undefined;

  constructor(private readonly opts: OpenAiOptions) {
    super(opts);
    if (!opts.baseUrl) throw new LlmConfigError('the OpenAI-compatible provider needs a base URL');
    const base = opts.baseUrl.replace(/\/+$/, '');
    this.url = /\/v\d+$/.test(base) ? `${base}/chat/completions` : `${base}/v1/chat/completions`;
    this.fetchFn = opts.fetch ?? fetch;
    if (typeof opts.apiKey === 'string') this.key = opts.apiKey;
  }

  private async apiKey(): Promise<string | undefined> {
    if (this.key !== undefined || this.opts.apiKey === undefined) return this.key;
    if (typeof this.opts.apiKey === 'string') return this.opts.apiKey;
    // One fetch per provider instance, shared by concurrent callers; a failure is retried on the next call.
    this.keyPromise ??= this.opts.apiKey().catch((e: unknown) => {
      this.keyPromise = undefined;
      throw new LlmConfigError(`could not read the LLM API key: ${redact(e instanceof Error ? e.message : String(e), [])}`);
    });
    this.key = await this.keyPromise;
    return this.key;
  }

  protected async attempt(request: LlmRequest): Promise<LlmResponse> {
    const key = await this.apiKey();
    const body = {
      model: this.model,
      messages: [...(request.system ? [{ role: 'system', content: request.system }] : []), ...request.messages.map((m) => ({ role: m.role, content: m.content }))],
      [this.opts.maxTokensField ?? 'max_tokens']: request.maxTokens,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.stop && request.stop.length > 0 ? { stop: request.stop } : {}),
    };
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...this.opts.headers };
    if (key) headers.authorization = `Bearer ${key}`;
    const secrets = [key];

    let res: Response;
    let text: string;
    try {
      ({ res, text } = await withTimeout(this.timeoutMs, `LLM call to ${this.model}`, async (signal) => {
        const r = await this.fetchFn(this.url, { method: 'POST', headers, body: JSON.stringify(body), signal });
        return { res: r, text: await r.text() };
      }));
    } catch (error) {
      if (error instanceof LlmError) throw error;
      // fetch rejects with a TypeError on connection failures: worth another try.
      const message = redact(error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error), secrets);
      throw new LlmHttpError(`LLM endpoint unreachable (${this.model}): ${message}`, { retryable: true });
    }

    if (!res.ok) {
      const status = res.status;
      const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
      const retryAfterMs = parseRetryAfter(res.headers);
      const detail = redact(errorDetail(text), secrets);
      throw new LlmHttpError(`LLM endpoint answered ${status} (${this.model}): ${detail}`, {
        status,
        retryable,
        throttling: status === 429,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    }
    let json: ChatCompletion;
    try {
      json = JSON.parse(text) as ChatCompletion;
    } catch {
      throw new LlmResponseError(`LLM endpoint returned non-JSON (${this.model}): ${redact(text.slice(0, 200), secrets)}`, { retryable: true });
    }
    const choice = json.choices?.[0];
    if (!choice) throw new LlmResponseError(`LLM endpoint returned no choices (${this.model})`, { retryable: true });
    const u = json.usage ?? {};
    const completion = count(u.completion_tokens);
    const reasoning = Math.min(count(u.completion_tokens_details?.reasoning_tokens), completion);
    const usage = usageOf(count(u.prompt_tokens), completion - reasoning, reasoning, u.total_tokens);
    return this.respond(choice.message?.content ?? '', usage, json.model || this.model, FINISH[choice.finish_reason ?? ''] ?? 'other');
  }
}

function errorDetail(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: string; type?: string; code?: string } | string; message?: string };
    if (typeof j.error === 'string') return j.error.slice(0, 300);
    if (j.error?.message) return `${j.error.message}${j.error.code ? ` (${j.error.code})` : ''}`.slice(0, 300);
    if (j.message) return j.message.slice(0, 300);
  } catch {
    // not JSON: the raw text, truncated
  }
  return text.slice(0, 300) || '(empty body)';
}
