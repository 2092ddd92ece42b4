import type { LlmUsage } from './types';

/** USD per 1M tokens. `reasoning` absent: reasoning tokens are billed at the output price (how vendors bill them). */
export interface ModelPrice {
  input: number;
  output: number;
  reasoning?: number;
}

/** Model id → price; a lookup of a model that is not listed gives undefined. */
export type PriceTable = Record<string, ModelPrice | undefined>;

/**
 * Defaults so a fresh deployment reports a cost at all. List prices move: deployments set
 * AGENTPLANE_LLM_PRICES (merged over these) rather than trusting this table. The offline provider is not
 * here: it calls nobody and is free by construction (OfflineProvider prices itself at 0), so no table entry
 * can give it an invented cost.
 */
export const DEFAULT_PRICES: PriceTable = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'anthropic.claude-3-5-haiku-20241022-v1:0': { input: 0.8, output: 4 },
  'anthropic.claude-3-7-sonnet-20250219-v1:0': { input: 3, output: 15 },
  'amazon.nova-lite-v1:0': { input: 0.06, output: 0.24 },
  'amazon.nova-pro-v1:0': { input: 0.8, output: 3.2 },
};

function isPrice(v: unknown): v is ModelPrice {
  if (!v || typeof v !== 'object') return false;
  const p = v as Record<string, unknown>;
  const ok = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  return ok(p.input) && ok(p.output) && (p.reasoning === undefined || ok(p.reasoning));
}

/** Parses the JSON of AGENTPLANE_LLM_PRICES; entries that are not prices are reported, not guessed. */
export function parsePriceTable(json: string | undefined): { prices: PriceTable; problems: string[] } {
  if (!json || json.trim() === '') return { prices: {}, problems: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    return { prices: {}, problems: [`price table is not JSON: ${e instanceof Error ? e.message : String(e)}`] };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { prices: {}, problems: ['price table must be an object of {model: {input, output, reasoning?}}'] };
  const prices: PriceTable = {};
  const problems: string[] = [];
  for (const [model, price] of Object.entries(parsed)) {
    if (isPrice(price)) prices[model] = { input: price.input, output: price.output, ...(price.reasoning !== undefined ? { reasoning: price.reasoning } : {}) };
    else problems.push(`price of ${model} needs non-negative numbers input and output (USD per 1M tokens)`);
  }
  return { prices, problems };
}

/**
 * The model's price: an exact match, else the longest table key the model id starts with, so a Bedrock
 * inference profile (`us.anthropic.…`) or a dated OpenAI id (`gpt-4o-mini-2024-07-18`) finds its family.
 */
export function priceOf(model: string, prices: PriceTable): ModelPrice | undefined {
  if (prices[model]) return prices[model];
  let best: string | undefined;
  for (const key of Object.keys(prices)) {
    const at = model.indexOf(key);
    // A region prefix (`us.`, `eu.`) before the key is allowed; anything else is another model.
    if (at < 0 || (at > 0 && !/^[a-z]{2,4}\.$/.test(model.slice(0, at)))) continue;
    if (!best || key.length > best.length) best = key;
  }
  return best ? prices[best] : undefined;
}

export function costOf(usage: LlmUsage, model: string, prices: PriceTable): { costUsd: number; priced: boolean } {
  const p = priceOf(model, prices);
  if (!p) return { costUsd: 0, priced: false };
  const raw = (usage.inputTokens * p.input + usage.outputTokens * p.output + usage.reasoningTokens * (p.reasoning ?? p.output)) / 1e6;
  return { costUsd: Math.round(raw * 1e9) / 1e9, priced: true };
}
