import { type CircuitConfig, DEFAULT_CIRCUIT_CONFIG } from '../core/registry/circuit';
import { DEFAULT_WINDOW, type WindowConfig } from '../core/registry/histogram';
import { DEFAULT_HEALTH_THRESHOLDS, type HealthThresholds } from '../core/registry/health';
import { ENV } from './registry-keys';

/**
 * Registry tuning shared by every reader and writer of agent state (the agents API, the agent runtime, the
 * engine's selection): they must agree, or an agent would read as open in one place and closed in another.
 * The stack sets the same environment on all of them (lib/registry.ts); tests shorten the cool-down.
 */
export interface RegistryConfig {
  circuit: CircuitConfig;
  window: WindowConfig;
  health: HealthThresholds;
}

function positive(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
}

export function registryConfigFromEnv(env: Record<string, string | undefined> = process.env): RegistryConfig {
  return {
    circuit: {
      ...DEFAULT_CIRCUIT_CONFIG,
      coolDownMs: positive(env[ENV.coolDownMs]) ?? DEFAULT_CIRCUIT_CONFIG.coolDownMs,
      failureThreshold: Math.round(positive(env[ENV.failureThreshold]) ?? DEFAULT_CIRCUIT_CONFIG.failureThreshold),
    },
    window: DEFAULT_WINDOW,
    health: DEFAULT_HEALTH_THRESHOLDS,
  };
}
