import { describe, expect, it } from 'vitest';
import { DEFAULT_BEDROCK_MODEL, inferenceProfileGeography, llmEnvironment, llmSettings } from '../../../lib/llm-settings';
import { DeploymentConfigError } from '../../../lib/deployment';

const ctx = (values: Record<string, string> = {}) => (key: string) => values[key];

describe('Function: llmSettings', () => {
  it('should default to Bedrock when deployed and to the offline provider in the local cloud', () => {
    expect(llmSettings(ctx(), {})).toMatchObject({ provider: 'bedrock', model: DEFAULT_BEDROCK_MODEL });
    expect(llmSettings(ctx({ 'agentplane:local': 'true' }), {})).toMatchObject({ provider: 'offline', model: 'offline-deterministic-1' });
  });

  it('should take context over the deploying shell, and the shell over the defaults', () => {
    const env = { AGENTPLANE_LLM_PROVIDER: 'openai', AGENTPLANE_LLM_MODEL: 'gpt-4o-mini', AGENTPLANE_LLM_BASE_URL: 'https://x/v1' };
    expect(llmSettings(ctx(), env)).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', baseUrl: 'https://x/v1' });
    expect(llmSettings(ctx({ 'agentplane:llmProvider': 'bedrock', 'agentplane:llmModel': 'amazon.nova-lite-v1:0' }), env)).toMatchObject({ provider: 'bedrock', model: 'amazon.nova-lite-v1:0' });
  });

  it('should refuse settings a deployment could not run with, saying which', () => {
    expect(() => llmSettings(ctx({ 'agentplane:llmProvider': 'gemini' }), {})).toThrow(/offline, openai or bedrock/);
    expect(() => llmSettings(ctx({ 'agentplane:llmProvider': 'openai' }), {})).toThrow(DeploymentConfigError);
    expect(() => llmSettings(ctx({ 'agentplane:llmProvider': 'openai', 'agentplane:llmModel': 'm' }), {})).toThrow(/llmBaseUrl/);
    const both = { 'agentplane:llmProvider': 'openai', 'agentplane:llmModel': 'm', 'agentplane:llmBaseUrl': 'https://x', 'agentplane:llmApiKeySecret': 's', 'agentplane:llmApiKeyParameter': 'p' };
    expect(() => llmSettings(ctx(both), {})).toThrow(/not both/);
    expect(() => llmSettings(ctx({ 'agentplane:llmModel': 'global.anthropic.claude-sonnet-4-v1:0' }), {})).toThrow(/llmProfileRegions/);
  });

  it('should pass tuning settings through but never the key itself', () => {
    const settings = llmSettings(ctx(), { AGENTPLANE_LLM_API_KEY: 'sk-secret', AGENTPLANE_LLM_TIMEOUT_MS: '5000', OTHER: 'x' });
    const env = llmEnvironment(settings);
    expect(env).toMatchObject({ AGENTPLANE_LLM_PROVIDER: 'bedrock', AGENTPLANE_LLM_TIMEOUT_MS: '5000' });
    expect(Object.values(env)).not.toContain('sk-secret');
    expect(env).not.toHaveProperty('OTHER');
  });
});

describe('Function: inferenceProfileGeography', () => {
  it('should read the geography of system-defined inference profiles only', () => {
    expect(inferenceProfileGeography('eu.anthropic.claude-3-7-sonnet-20250219-v1:0')).toBe('eu');
    expect(inferenceProfileGeography('us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0')).toBe('us-gov');
    expect(inferenceProfileGeography('apac.amazon.nova-lite-v1:0')).toBe('apac');
    expect(inferenceProfileGeography('global.anthropic.claude-sonnet-4-v1:0')).toBe('global');
    for (const plain of ['amazon.nova-pro-v1:0', 'anthropic.claude-3-5-haiku-20241022-v1:0', 'meta.llama3-1-70b-instruct-v1:0', 'arn:aws:bedrock:eu-west-1:1:application-inference-profile/x']) {
      expect(inferenceProfileGeography(plain), plain).toBeUndefined();
    }
  });
});
