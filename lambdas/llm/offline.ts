import { createHash } from 'node:crypto';
import { BaseProvider, usageOf, type ProviderOptions } from './base';
import { estimateRequestTokens, estimateTokens } from './tokens';
import type { FinishReason, LlmRequest, LlmResponse } from './types';

export const OFFLINE_MODEL = 'offline-deterministic-1';

/**
 * Prompts that carry the answer the deterministic tools would give put it in a fenced block with the info
 * string `reference`; the offline provider answers with that block. Real models get the same block as their
 * starting point, so one prompt serves both.
 */
export const REFERENCE_FENCE = 'reference';

export interface OfflineOptions extends Partial<ProviderOptions> {
  /** Synthetic reasoning tokens as a share of output tokens (0 by default), to exercise reasoning accounting. */
  reasoningRatio?: number;
  /** Simulated latency per call, in ms (0 by default). */
  latencyMs?: number;
}

/**
 * The default provider locally and in tests: no network, same request → same response, token counts from the
 * same estimate prompts are sized with, so events and reports show real-looking, non-zero, reproducible tokens.
 * It costs nothing, and says so: cost 0 with `priced: true` (it is free, not "unpriced"), whatever a price
 * table says about its model id, so no figure a run reports is invented.
 */
export class OfflineProvider extends BaseProvider {
  readonly name = 'offline';
  private readonly reasoningRatio: number;
  private readonly latencyMs: number;

  constructor(opts: OfflineOptions = {}) {
    super({ contextTokens: 32_000, ...opts, model: opts.model ?? OFFLINE_MODEL });
    this.reasoningRatio = Math.max(0, opts.reasoningRatio ?? 0);
    this.latencyMs = Math.max(0, opts.latencyMs ?? 0);
  }

  protected async attempt(request: LlmRequest): Promise<LlmResponse> {
    if (this.latencyMs > 0) await this.retryDeps.sleep(this.latencyMs);
    let text = offlineAnswer(request);
    let finish: FinishReason = 'stop';
    for (const s of request.stop ?? []) {
      const at = s ? text.indexOf(s) : -1;
      if (at >= 0) text = text.slice(0, at);
    }
    // A model stops at maxTokens; so does this one, which lets callers test their handling of cut answers.
    if (estimateTokens(text) > request.maxTokens) {
      let cut = Math.floor(request.maxTokens * 3.5);
      while (cut > 0 && estimateTokens(text.slice(0, cut)) > request.maxTokens) cut = Math.floor(cut * 0.9);
      text = text.slice(0, cut);
      finish = 'length';
    }
    const output = estimateTokens(text);
    const reasoning = Math.round(output * this.reasoningRatio);
    return this.respond(text, usageOf(estimateRequestTokens(request), output, reasoning), this.model, finish);
  }

  protected override price(): { costUsd: number; priced: boolean } {
    return { costUsd: 0, priced: true };
  }
}

function offlineAnswer(request: LlmRequest): string {
  const last = [...request.messages].reverse().find((m) => m.role === 'user');
  const reference = last ? lastFencedBlock(last.content, REFERENCE_FENCE) : undefined;
  if (reference !== undefined) return reference;
  const digest = createHash('sha256')
    .update(request.system)
    .update('\u0000')
    .update(request.messages.map((m) => `${m.role}:${m.content}`).join('\u0000'))
    .digest('hex')
    .slice(0, 12);
  const topic = (last?.content ?? '').split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 120) ?? '';
  return `Offline deterministic answer ${digest}.${topic ? ` Regarding: ${topic}` : ''}`;
}

/** The body of the last ```<info> … ``` block, or undefined. */
export function lastFencedBlock(text: string, info: string): string | undefined {
  const re = new RegExp('^```' + info.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '[ \\t]*\\r?\\n([\\s\\S]*?)^```[ \\t]*$', 'gm');
  let found: string | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) found = m[1];
  return found === undefined ? undefined : found.replace(/\r?\n$/, '');
}
