import { z } from 'zod';

/**
 * Per-agent circuit breaker, pure with the clock injected.
 *
 * closed ──K consecutive failures──▶ open ──cool-down elapsed, a probe starts──▶ half-open
 * half-open ──probe succeeds──▶ closed;  half-open ──probe fails──▶ open (cool-down restarts)
 *
 * The state is plain JSON stored on the agent record. `version` increases on every change so that the
 * adapter writes with a condition on the version it read (`ConditionExpression: circuit.version = :v`)
 * and, on a conflict, re-reads and re-applies the same transition: outcomes from concurrent invocations
 * are never lost, and only one of many concurrent callers wins the probe slot.
 */

export const CircuitStateSchema = z.object({
  state: z.enum(['closed', 'open', 'half-open']),
  consecutiveFailures: z.number().int().nonnegative(),
  /** When the circuit last opened, epoch ms. */
  openedAt: z.number().optional(),
  /** When the running probe started, epoch ms (half-open only). */
  probeStartedAt: z.number().optional(),
  version: z.number().int().nonnegative(),
});
export type CircuitState = z.infer<typeof CircuitStateSchema>;

export interface CircuitConfig {
  /** K: consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before one probe is let through. */
  coolDownMs: number;
  /** A probe that has not reported after this long is presumed lost and another may start. */
  probeTimeoutMs: number;
}

export const DEFAULT_CIRCUIT_CONFIG: CircuitConfig = {
  failureThreshold: 5,
  coolDownMs: 30_000,
  probeTimeoutMs: 15 * 60_000,
};

export function initialCircuit(): CircuitState {
  return { state: 'closed', consecutiveFailures: 0, version: 0 };
}

export interface Transition {
  state: CircuitState;
  /** False when nothing changed: the adapter skips the write. */
  changed: boolean;
}

function next(from: CircuitState, to: Omit<CircuitState, 'version'>): Transition {
  const state: CircuitState = { state: to.state, consecutiveFailures: to.consecutiveFailures, version: from.version + 1 };
  // Absent rather than undefined: the record is marshalled to DynamoDB, which rejects undefined.
  if (to.openedAt !== undefined) state.openedAt = to.openedAt;
  if (to.probeStartedAt !== undefined) state.probeStartedAt = to.probeStartedAt;
  return { state, changed: true };
}

function same(state: CircuitState): Transition {
  return { state, changed: false };
}

export type Admission =
  | { allowed: true; probe: false }
  | { allowed: true; probe: true }
  | { allowed: false; retryAt: number; reason: string };

/**
 * Whether a call may go to the agent now. A `probe` admission must be claimed with beginProbe (a
 * conditional write) before calling, so that one caller probes at a time.
 */
export function admit(circuit: CircuitState, now: number, config: CircuitConfig = DEFAULT_CIRCUIT_CONFIG): Admission {
  switch (circuit.state) {
    case 'closed':
      return { allowed: true, probe: false };
    case 'open': {
      const retryAt = (circuit.openedAt ?? 0) + config.coolDownMs;
      if (now >= retryAt) return { allowed: true, probe: true };
      return {
        allowed: false,
        retryAt,
        reason: `circuit open after ${circuit.consecutiveFailures} consecutive failures until ${new Date(retryAt).toISOString()}`,
      };
    }
    case 'half-open': {
      const retryAt = (circuit.probeStartedAt ?? 0) + config.probeTimeoutMs;
      if (now >= retryAt) return { allowed: true, probe: true };
      return { allowed: false, retryAt, reason: 'circuit half-open: a probe is in flight' };
    }
  }
}

/** The state as callers should see it: an open circuit whose cool-down elapsed reads as half-open. */
export function effectiveState(
  circuit: CircuitState,
  now: number,
  config: CircuitConfig = DEFAULT_CIRCUIT_CONFIG,
): CircuitState['state'] {
  if (circuit.state === 'open' && now >= (circuit.openedAt ?? 0) + config.coolDownMs) return 'half-open';
  return circuit.state;
}

/** Claims the probe slot; unchanged (and the caller must not call) when no probe is due. */
export function beginProbe(circuit: CircuitState, now: number, config: CircuitConfig = DEFAULT_CIRCUIT_CONFIG): Transition {
  const admission = admit(circuit, now, config);
  if (!admission.allowed || !admission.probe) return same(circuit);
  return next(circuit, {
    state: 'half-open',
    consecutiveFailures: circuit.consecutiveFailures,
    openedAt: circuit.openedAt,
    probeStartedAt: now,
  });
}

export function recordSuccess(circuit: CircuitState): Transition {
  if (circuit.state === 'closed' && circuit.consecutiveFailures === 0) return same(circuit);
  return next(circuit, { state: 'closed', consecutiveFailures: 0 });
}

export function recordFailure(circuit: CircuitState, now: number, config: CircuitConfig = DEFAULT_CIRCUIT_CONFIG): Transition {
  const failures = circuit.consecutiveFailures + 1;
  switch (circuit.state) {
    case 'closed':
      if (failures >= config.failureThreshold) return next(circuit, { state: 'open', consecutiveFailures: failures, openedAt: now });
      return next(circuit, { state: 'closed', consecutiveFailures: failures });
    case 'half-open':
      return next(circuit, { state: 'open', consecutiveFailures: failures, openedAt: now });
    case 'open':
      // Late failures of calls admitted before the circuit opened: count them, keep the cool-down.
      return next(circuit, { state: 'open', consecutiveFailures: failures, openedAt: circuit.openedAt ?? now });
  }
}

/** Applies an outcome: the one entry point for the agent runtime after an invocation. */
export function recordOutcome(
  circuit: CircuitState,
  outcome: 'success' | 'failure',
  now: number,
  config: CircuitConfig = DEFAULT_CIRCUIT_CONFIG,
): Transition {
  return outcome === 'success' ? recordSuccess(circuit) : recordFailure(circuit, now, config);
}
