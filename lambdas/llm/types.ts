/**
 * One small interface in front of every LLM the agents use (Bedrock, OpenAI-compatible endpoints, the
 * offline provider). Agents only ever see this, so tests and local runs swap providers freely.
 */

type LlmRole = 'user' | 'assistant';

interface LlmMessage {
  role: LlmRole;
  content: string;
}

export interface LlmRequest {
  system: string;
  messages: LlmMessage[];
  maxTokens: number;
  temperature?: number;
  stop?: string[];
}

/**
 * Token counts as the provider reported them. `outputTokens` excludes reasoning tokens (OpenAI counts them
 * inside completion_tokens; we split them out) so that `input + output + reasoning = total` and nothing is
 * billed twice.
 */
export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  totalTokens: number;
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_use' | 'other';

export interface LlmResponse {
  text: string;
  usage: LlmUsage;
  model: string;
  finishReason: FinishReason;
  /**
   * USD, from the price table; 0 when the model has no price (`priced: false`: the cost is unknown) and 0 for a
   * free provider (`priced: true`: the offline provider calls nobody).
   */
  costUsd: number;
  priced: boolean;
}

export interface LlmProvider {
  /** `offline`, `openai`, `bedrock`, or a test double's name. */
  readonly name: string;
  readonly model: string;
  /** The model's context window in tokens: callers size prompts against it. */
  readonly contextTokens: number;
  complete(request: LlmRequest): Promise<LlmResponse>;
}

function emptyUsage(): LlmUsage {
  return { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, totalTokens: 0 };
}

/** Running totals of several calls (per item, per agent). */
export interface UsageTotals extends LlmUsage {
  calls: number;
  costUsd: number;
}

export function emptyTotals(): UsageTotals {
  return { ...emptyUsage(), calls: 0, costUsd: 0 };
}

export function addUsage(totals: UsageTotals, response: Pick<LlmResponse, 'usage' | 'costUsd'>): UsageTotals {
  totals.calls += 1;
  totals.inputTokens += response.usage.inputTokens;
  totals.outputTokens += response.usage.outputTokens;
  totals.reasoningTokens += response.usage.reasoningTokens;
  totals.totalTokens += response.usage.totalTokens;
  // Rounded to a micro-dollar so sums of many calls stay stable in JSON.
  totals.costUsd = Math.round((totals.costUsd + response.costUsd) * 1e6) / 1e6;
  return totals;
}

