import { describe, expect, it } from 'vitest';
import { diagnosticsLlmSettings } from '../../../lib/agents';
import { llmEnvironment } from '../../../lib/llm-settings';

describe('Function: diagnosticsLlmSettings', () => {
  it('should leave the diagnostics agent alone (offline, environment unchanged) when nothing is set', () => {
    expect(diagnosticsLlmSettings({ AGENTPLANE_LLM_PROVIDER: 'openai', AGENTPLANE_LLM_MODEL: 'm', AGENTPLANE_LLM_BASE_URL: 'https://x' })).toBeUndefined();
  });

  it("should give the agent AGENTPLANE_LLM_* from the shell's AGENTPLANE_DIAGNOSTICS_LLM_*, never the key itself", () => {
    const settings = diagnosticsLlmSettings({
      AGENTPLANE_DIAGNOSTICS_LLM_PROVIDER: 'openai',
      AGENTPLANE_DIAGNOSTICS_LLM_MODEL: 'stub-model',
      AGENTPLANE_DIAGNOSTICS_LLM_BASE_URL: 'http://127.0.0.1:9/v1',
      AGENTPLANE_DIAGNOSTICS_LLM_PRICES: '{"stub-model":{"input":3,"output":15}}',
      AGENTPLANE_DIAGNOSTICS_LLM_API_KEY: 'sk-never',
      AGENTPLANE_LLM_MODEL: 'not-this-one',
    });
    const env = llmEnvironment(settings!);
    expect(env).toEqual({
      AGENTPLANE_LLM_PROVIDER: 'openai',
      AGENTPLANE_LLM_MODEL: 'stub-model',
      AGENTPLANE_LLM_BASE_URL: 'http://127.0.0.1:9/v1',
      AGENTPLANE_LLM_PRICES: '{"stub-model":{"input":3,"output":15}}',
    });
  });

  it('should mean the offline provider when only tuning is set', () => {
    expect(diagnosticsLlmSettings({ AGENTPLANE_DIAGNOSTICS_LLM_TIMEOUT_MS: '5000' })).toMatchObject({ provider: 'offline', model: 'offline-deterministic-1' });
  });
});
