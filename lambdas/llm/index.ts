export * from './types';
export * from './errors';
export * from './pricing';
export * from './tokens';
export * from './retry';
export * from './redact';
export { BaseProvider, validateRequest, type ProviderOptions } from './base';
export { OfflineProvider, OFFLINE_MODEL, REFERENCE_FENCE, lastFencedBlock, offlineAnswer, type OfflineOptions } from './offline';
export { OpenAiCompatibleProvider, type OpenAiOptions } from './openai';
export { extractKey, secretFromSecretsManager, secretFromSsm, awsSecretSources, type SecretFetcher, type SecretSources } from './secrets';
export { createProvider, describeConfig, llmConfigFromEnv, type KeySource, type LlmConfig, type ProviderDeps, type ProviderKind } from './config';
// BedrockProvider is imported from './bedrock' directly: it pulls in the Bedrock SDK.
