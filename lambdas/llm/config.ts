import { DEFAULT_CONTEXT_TOKENS, DEFAULT_MAX_CONCURRENCY, DEFAULT_TIMEOUT_MS } from './base';
import { LlmConfigError } from './errors';
import { OFFLINE_MODEL, OfflineProvider } from './offline';
import { OpenAiCompatibleProvider } from './openai';
import { DEFAULT_PRICES, parsePriceTable, type PriceTable } from './pricing';
import { DEFAULT_RETRY, type RetryDeps } from './retry';
import { secretFromSecretsManager, secretFromSsm, type SecretFetcher, type SecretSources } from './secrets';
import type { LlmProvider } from './types';
import type { ConverseClient } from './bedrock';

type ProviderKind = 'offline' | 'openai' | 'bedrock';

type KeySource =
  | { kind: 'none' }
  | { kind: 'env'; value: string }
  | { kind: 'secretsmanager'; secretId: string; field?: string }
  | { kind: 'ssm'; name: string };

/** Everything a provider is built from; `llmConfigFromEnv` reads it, tests build it directly. */
export interface LlmConfig {
  provider: ProviderKind;
  model: string;
  baseUrl?: string;
  region?: string;
  contextTokens: number;
  /** Default answer budget per call (callers may ask for less). */
  maxOutputTokens: number;
  timeoutMs: number;
  maxRetries: number;
  maxConcurrency: number;
  prices: PriceTable;
  key: KeySource;
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** Problems found while reading the configuration that did not stop it (bad price entries). */
  warnings: string[];
}

function int(env: Record<string, string | undefined>, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new LlmConfigError(`${name} must be an integer ≥ ${min}, got '${raw}'`);
  return n;
}

/**
 * Reads the LLM configuration from the environment:
 * AGENTPLANE_LLM_PROVIDER (offline | openai | bedrock; default offline), AGENTPLANE_LLM_MODEL,
 * AGENTPLANE_LLM_BASE_URL (openai), AGENTPLANE_LLM_REGION (bedrock; else AWS_REGION),
 * AGENTPLANE_LLM_API_KEY (local) | AGENTPLANE_LLM_API_KEY_SECRET (+ _SECRET_FIELD) | AGENTPLANE_LLM_API_KEY_PARAMETER,
 * AGENTPLANE_LLM_PRICES (JSON, merged over the defaults), AGENTPLANE_LLM_CONTEXT_TOKENS,
 * AGENTPLANE_LLM_MAX_OUTPUT_TOKENS, AGENTPLANE_LLM_TIMEOUT_MS, AGENTPLANE_LLM_MAX_RETRIES,
 * AGENTPLANE_LLM_MAX_CONCURRENCY, AGENTPLANE_LLM_MAX_TOKENS_FIELD.
 */
export function llmConfigFromEnv(env: Record<string, string | undefined> = process.env): LlmConfig {
  const provider = (env.AGENTPLANE_LLM_PROVIDER ?? 'offline').trim().toLowerCase() || 'offline';
  if (provider !== 'offline' && provider !== 'openai' && provider !== 'bedrock') {
    throw new LlmConfigError(`AGENTPLANE_LLM_PROVIDER must be offline, openai or bedrock, got '${provider}'`);
  }
  const model = env.AGENTPLANE_LLM_MODEL?.trim() || (provider === 'offline' ? OFFLINE_MODEL : '');
  if (!model) throw new LlmConfigError(`AGENTPLANE_LLM_MODEL is required for the ${provider} provider`);
  const baseUrl = env.AGENTPLANE_LLM_BASE_URL?.trim();
  if (provider === 'openai' && !baseUrl) throw new LlmConfigError('AGENTPLANE_LLM_BASE_URL is required for the openai provider');
  const { prices, problems } = parsePriceTable(env.AGENTPLANE_LLM_PRICES);

  let key: KeySource = { kind: 'none' };
  if (env.AGENTPLANE_LLM_API_KEY_SECRET) {
    key = { kind: 'secretsmanager', secretId: env.AGENTPLANE_LLM_API_KEY_SECRET, ...(env.AGENTPLANE_LLM_API_KEY_SECRET_FIELD ? { field: env.AGENTPLANE_LLM_API_KEY_SECRET_FIELD } : {}) };
  } else if (env.AGENTPLANE_LLM_API_KEY_PARAMETER) key = { kind: 'ssm', name: env.AGENTPLANE_LLM_API_KEY_PARAMETER };
  else if (env.AGENTPLANE_LLM_API_KEY) key = { kind: 'env', value: env.AGENTPLANE_LLM_API_KEY };

  const field = env.AGENTPLANE_LLM_MAX_TOKENS_FIELD;
  if (field !== undefined && field !== 'max_tokens' && field !== 'max_completion_tokens') {
    throw new LlmConfigError(`AGENTPLANE_LLM_MAX_TOKENS_FIELD must be max_tokens or max_completion_tokens, got '${field}'`);
  }
  const region = env.AGENTPLANE_LLM_REGION || env.AWS_REGION;
  return {
    provider,
    model,
    ...(baseUrl ? { baseUrl } : {}),
    ...(region ? { region } : {}),
    contextTokens: int(env, 'AGENTPLANE_LLM_CONTEXT_TOKENS', DEFAULT_CONTEXT_TOKENS, 1_000),
    maxOutputTokens: int(env, 'AGENTPLANE_LLM_MAX_OUTPUT_TOKENS', 4_096, 16),
    timeoutMs: int(env, 'AGENTPLANE_LLM_TIMEOUT_MS', DEFAULT_TIMEOUT_MS, 1),
    maxRetries: int(env, 'AGENTPLANE_LLM_MAX_RETRIES', DEFAULT_RETRY.maxRetries, 0),
    maxConcurrency: int(env, 'AGENTPLANE_LLM_MAX_CONCURRENCY', DEFAULT_MAX_CONCURRENCY, 1),
    prices: { ...DEFAULT_PRICES, ...prices },
    key,
    ...(field ? { maxTokensField: field } : {}),
    warnings: problems,
  };
}

export interface ProviderDeps {
  fetch?: typeof fetch;
  bedrockClient?: ConverseClient;
  secrets?: SecretSources;
  retryDeps?: RetryDeps;
}

function keyFetcher(key: KeySource, secrets?: SecretSources): string | SecretFetcher | undefined {
  switch (key.kind) {
    case 'none':
      return undefined;
    case 'env':
      return key.value;
    case 'secretsmanager':
      return secretFromSecretsManager(key.secretId, { ...(key.field ? { field: key.field } : {}), ...(secrets ? { sources: secrets } : {}) });
    case 'ssm':
      return secretFromSsm(key.name, secrets ? { sources: secrets } : {});
  }
}

/** Builds the configured provider. Bedrock's SDK module is loaded only when Bedrock is chosen. */
export async function createProvider(config: LlmConfig, deps: ProviderDeps = {}): Promise<LlmProvider> {
  const common = {
    model: config.model,
    contextTokens: config.contextTokens,
    prices: config.prices,
    timeoutMs: config.timeoutMs,
    retry: { maxRetries: config.maxRetries },
    maxConcurrency: config.maxConcurrency,
    ...(deps.retryDeps ? { retryDeps: deps.retryDeps } : {}),
  };
  switch (config.provider) {
    case 'offline':
      return new OfflineProvider(common);
    case 'openai': {
      const apiKey = keyFetcher(config.key, deps.secrets);
      return new OpenAiCompatibleProvider({
        ...common,
        baseUrl: config.baseUrl ?? '',
        ...(apiKey !== undefined ? { apiKey } : {}),
        ...(config.maxTokensField ? { maxTokensField: config.maxTokensField } : {}),
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      });
    }
    case 'bedrock': {
      const { BedrockProvider } = await import('./bedrock');
      return new BedrockProvider({ ...common, ...(config.region ? { region: config.region } : {}), ...(deps.bedrockClient ? { client: deps.bedrockClient } : {}) });
    }
  }
}

/** A description safe to log or store in a report: never the key, only where it comes from. */
export function describeConfig(config: LlmConfig): Record<string, unknown> {
  return {
    provider: config.provider,
    model: config.model,
    ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
    ...(config.region ? { region: config.region } : {}),
    contextTokens: config.contextTokens,
    maxOutputTokens: config.maxOutputTokens,
    key: config.key.kind === 'env' ? 'environment' : config.key.kind === 'secretsmanager' ? `secretsmanager:${config.key.secretId}` : config.key.kind === 'ssm' ? `ssm:${config.key.name}` : 'none',
  };
}
