export * from './types';
export * from './errors';
export * from './pricing';
export * from './tokens';
export * from './retry';
export * from './redact';
;
export { OfflineProvider, OFFLINE_MODEL,  lastFencedBlock,   } from './offline';
export { OpenAiCompatibleProvider,  } from './openai';
export { extractKey,      } from './secrets';
export { createProvider, describeConfig, llmConfigFromEnv,     } from './config';
// BedrockProvider is imported from './bedrock' directly: it pulls in the Bedrock SDK.
