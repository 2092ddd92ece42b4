import { describe, expect, it } from 'vitest';
import { initialCircuit, recordFailure } from '../../../lambdas/core/registry/circuit';
import { DEFAULT_HEALTH_THRESHOLDS, assessHealth } from '../../../lambdas/core/registry/health';

const counters = (invocations: number, failures: number, lastError?: string) => ({
  invocations,
  successes: invocations - failures,
  failures,
  ...(lastError ? { lastError } : {}),
});
const circuitConfig = { failureThreshold: 2, coolDownMs: 1000, probeTimeoutMs: 5000 };

describe('Function: assessHealth', () => {
  it('should call an agent with a low error rate Healthy', () => {
    expect(assessHealth({ recent: counters(100, 5), now: 0 })).toEqual({ status: 'Healthy' });
  });

  it('should go Degraded then Unhealthy as the error rate rises', () => {
    expect(assessHealth({ recent: counters(20, 3), now: 0 })).toEqual({
      status: 'Degraded',
      reason: 'error rate 15% over the last 20 invocations',
    });
    expect(assessHealth({ recent: counters(20, 12, 'ThrottlingException'), now: 0 })).toEqual({
      status: 'Unhealthy',
      reason: 'error rate 60% over the last 20 invocations',
      error: 'ThrottlingException',
    });
  });

  it('should not judge on too few invocations', () => {
    expect(assessHealth({ recent: counters(DEFAULT_HEALTH_THRESHOLDS.minSamples - 1, 3), now: 0 }).status).toBe('Healthy');
  });

  it('should be Unhealthy after a fresh failed health check, and ignore a stale one', () => {
    const healthCheck = { ok: false, at: 0, error: 'timeout after 3 s' };
    expect(assessHealth({ recent: counters(0, 0), healthCheck, now: 1000 })).toEqual({
      status: 'Unhealthy',
      reason: 'health check failed: timeout after 3 s',
      error: 'timeout after 3 s',
    });
    const later = DEFAULT_HEALTH_THRESHOLDS.healthCheckMaxAgeMs + 1;
    expect(assessHealth({ recent: counters(0, 0), healthCheck, now: later }).status).toBe('Healthy');
  });

  it('should follow the circuit: Unhealthy while open, Degraded once it may probe', () => {
    let circuit = initialCircuit();
    circuit = recordFailure(circuit, 0, circuitConfig).state;
    circuit = recordFailure(circuit, 0, circuitConfig).state;
    const recent = counters(10, 10, 'boom');
    const open = assessHealth({ recent, circuit, now: 500 }, DEFAULT_HEALTH_THRESHOLDS, circuitConfig);
    expect(open).toMatchObject({ status: 'Unhealthy', error: 'boom' });
    expect(open.status === 'Unhealthy' && open.reason).toMatch(/circuit open/);
    const cooled = assessHealth({ recent, circuit, now: 1000 }, DEFAULT_HEALTH_THRESHOLDS, circuitConfig);
    expect(cooled).toEqual({ status: 'Degraded', reason: 'circuit half-open: probing after cool-down' });
  });

  it('should flag slow agents only when a latency threshold is set', () => {
    const recent = { ...counters(50, 0), p95Ms: 40_000 };
    expect(assessHealth({ recent, now: 0 }).status).toBe('Healthy');
    expect(assessHealth({ recent, now: 0 }, { ...DEFAULT_HEALTH_THRESHOLDS, degradedP95Ms: 30_000 })).toEqual({
      status: 'Degraded',
      reason: 'p95 latency 40000 ms over 30000 ms',
    });
  });
});
