import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CircuitConfig,
  CircuitStateSchema,
  admit,
  beginProbe,
  effectiveState,
  initialCircuit,
  recordFailure,
  recordOutcome,
  recordSuccess,
} from '../../../lambdas/core/registry/circuit';

const config: CircuitConfig = { failureThreshold: 3, coolDownMs: 1000, probeTimeoutMs: 5000 };

function failTimes(n: number, at = 0) {
  let state = initialCircuit();
  for (let i = 0; i < n; i++) state = recordFailure(state, at, config).state;
  return state;
}

describe('Function: recordFailure', () => {
  it('should open after K consecutive failures', () => {
    expect(failTimes(2).state).toBe('closed');
    const open = failTimes(3, 100);
    expect(open).toMatchObject({ state: 'open', consecutiveFailures: 3, openedAt: 100 });
  });

  it('should not open when a success breaks the run', () => {
    let state = failTimes(2);
    state = recordSuccess(state).state;
    state = recordFailure(state, 0, config).state;
    expect(state).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
  });

  it('should keep the cool-down when late failures arrive while open', () => {
    const open = failTimes(3, 100);
    expect(recordFailure(open, 900, config).state).toMatchObject({ state: 'open', openedAt: 100, consecutiveFailures: 4 });
  });
});

describe('Function: admit', () => {
  it('should refuse calls during the cool-down and say until when', () => {
    const admission = admit(failTimes(3, 0), 999, config);
    expect(admission).toMatchObject({ allowed: false, retryAt: 1000 });
    expect(admission.allowed ? '' : admission.reason).toMatch(/circuit open after 3 consecutive failures/);
  });

  it('should admit one probe after the cool-down', () => {
    const open = failTimes(3, 0);
    expect(effectiveState(open, 1000, config)).toBe('half-open');
    expect(admit(open, 1000, config)).toEqual({ allowed: true, probe: true });
    const probing = beginProbe(open, 1000, config);
    expect(probing).toMatchObject({ changed: true, state: { state: 'half-open', probeStartedAt: 1000 } });
    expect(admit(probing.state, 1500, config)).toMatchObject({ allowed: false });
    expect(beginProbe(probing.state, 1500, config).changed).toBe(false);
  });

  it('should allow a new probe when the last one never reported', () => {
    const probing = beginProbe(failTimes(3, 0), 1000, config).state;
    expect(admit(probing, 6000, config)).toEqual({ allowed: true, probe: true });
  });
});

describe('Function: beginProbe', () => {
  it('should not change a closed circuit', () => {
    const closed = initialCircuit();
    expect(beginProbe(closed, 0, config)).toEqual({ state: closed, changed: false });
  });
});

describe('Function: recordOutcome', () => {
  it('should close on a successful probe and reopen on a failed one', () => {
    const probing = beginProbe(failTimes(3, 0), 1000, config).state;
    expect(recordOutcome(probing, 'success', 1100, config).state).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    expect(recordOutcome(probing, 'failure', 1100, config).state).toMatchObject({ state: 'open', openedAt: 1100 });
  });

  it('should skip the write when a success changes nothing', () => {
    const closed = initialCircuit();
    expect(recordOutcome(closed, 'success', 0, config)).toEqual({ state: closed, changed: false });
  });

  it('should keep a valid, JSON-safe state with a version bumped on every change', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('success' as const), dt: fc.nat({ max: 2000 }) }),
      fc.record({ kind: fc.constant('failure' as const), dt: fc.nat({ max: 2000 }) }),
      fc.record({ kind: fc.constant('probe' as const), dt: fc.nat({ max: 2000 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        let state = initialCircuit();
        let now = 0;
        let run = 0;
        for (const { kind, dt } of steps) {
          now += dt;
          const t = kind === 'probe' ? beginProbe(state, now, config) : recordOutcome(state, kind, now, config);
          if (kind === 'success') run = 0;
          if (kind === 'failure') run++;
          expect(t.state.version).toBe(state.version + (t.changed ? 1 : 0));
          state = t.state;
          expect(JSON.parse(JSON.stringify(state))).toEqual(state);
          expect(CircuitStateSchema.parse(state)).toEqual(state);
          if (run >= config.failureThreshold) expect(state.state).not.toBe('closed');
          if (state.state === 'closed') expect(state.consecutiveFailures).toBeLessThan(config.failureThreshold);
        }
      }),
    );
  });
});
