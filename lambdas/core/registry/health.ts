import { z } from 'zod';
import { type CircuitConfig, type CircuitState, DEFAULT_CIRCUIT_CONFIG, admit, effectiveState } from './circuit';

/**
 * Agent health from the recent window's counters, the circuit breaker and an optional scheduled
 * health-check invocation. Selection drops Unhealthy agents and prefers Healthy over Degraded ones.
 */

export const HealthSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('Healthy') }),
  z.object({ status: z.literal('Degraded'), reason: z.string() }),
  z.object({ status: z.literal('Unhealthy'), reason: z.string(), error: z.string().optional() }),
]);
export type Health = z.infer<typeof HealthSchema>;
export type HealthStatus = Health['status'];

interface RecentCounters {
  invocations: number;
  successes: number;
  failures: number;
  /** The most recent failure's message, reported with Unhealthy. */
  lastError?: string;
  p95Ms?: number | null;
}

export interface HealthCheckResult {
  ok: boolean;
  /** When the check ran, epoch ms. */
  at: number;
  error?: string;
}

export interface HealthThresholds {
  /** Fewer recent invocations than this say nothing about the error rate. */
  minSamples: number;
  degradedErrorRate: number;
  unhealthyErrorRate: number;
  /** A health-check result older than this is ignored. */
  healthCheckMaxAgeMs: number;
  /** p95 latency above this makes the agent Degraded; undefined: latency does not affect health. */
  degradedP95Ms?: number;
}

export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = {
  minSamples: 5,
  degradedErrorRate: 0.1,
  unhealthyErrorRate: 0.5,
  healthCheckMaxAgeMs: 15 * 60_000,
};

export interface HealthInput {
  recent: RecentCounters;
  healthCheck?: HealthCheckResult;
  circuit?: CircuitState;
  now: number;
}

function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}

/**
 * Rules in order, first match wins:
 * 1. a fresh failed health check → Unhealthy;
 * 2. circuit open, cool-down running → Unhealthy;
 * 3. circuit half-open (cool-down elapsed) → Degraded, whatever the error rate: the window still holds
 *    the failures that opened the circuit, and the agent must be eligible for its probe;
 * 4. recent error rate ≥ unhealthyErrorRate → Unhealthy; ≥ degradedErrorRate → Degraded;
 * 5. p95 over degradedP95Ms → Degraded; otherwise Healthy.
 */
export function assessHealth(
  input: HealthInput,
  thresholds: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS,
  circuitConfig: CircuitConfig = DEFAULT_CIRCUIT_CONFIG,
): Health {
  const { recent, healthCheck, circuit, now } = input;

  if (healthCheck && !healthCheck.ok && now - healthCheck.at <= thresholds.healthCheckMaxAgeMs) {
    const error = healthCheck.error ?? 'no detail';
    return { status: 'Unhealthy', reason: `health check failed: ${error}`, error };
  }

  if (circuit) {
    const state = effectiveState(circuit, now, circuitConfig);
    if (state === 'open') {
      const admission = admit(circuit, now, circuitConfig);
      const reason = admission.allowed ? 'circuit open' : admission.reason;
      return withError({ status: 'Unhealthy', reason }, recent.lastError);
    }
    if (state === 'half-open') return { status: 'Degraded', reason: 'circuit half-open: probing after cool-down' };
  }

  if (recent.invocations >= thresholds.minSamples && recent.invocations > 0) {
    const errorRate = recent.failures / recent.invocations;
    const observed = `error rate ${percent(errorRate)} over the last ${recent.invocations} invocations`;
    if (errorRate >= thresholds.unhealthyErrorRate) return withError({ status: 'Unhealthy', reason: observed }, recent.lastError);
    if (errorRate >= thresholds.degradedErrorRate) return { status: 'Degraded', reason: observed };
  }

  if (thresholds.degradedP95Ms !== undefined && recent.p95Ms != null && recent.p95Ms > thresholds.degradedP95Ms) {
    return { status: 'Degraded', reason: `p95 latency ${Math.round(recent.p95Ms)} ms over ${thresholds.degradedP95Ms} ms` };
  }

  return { status: 'Healthy' };
}

function withError(health: { status: 'Unhealthy'; reason: string }, error: string | undefined): Health {
  return error === undefined ? health : { ...health, error };
}
