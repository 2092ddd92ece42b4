/**
 * In-memory dependencies of the agent runtime (lambdas/core/agent-runtime) for unit tests: events are kept in order,
 * the idempotency store replays an item's first result like Powertools Idempotency does, every agent is known with a
 * closed circuit, and leases are always granted. Tests override what they exercise.
 */
import type { RuntimeDeps } from '../../lambdas/core/agent-runtime';
import { DEFAULT_CIRCUIT_CONFIG, initialCircuit } from '../../lambdas/core/registry/circuit';

export interface EmittedEvent {
  event: string;
  payload: any;
}

export function fakeRuntimeDeps(overrides: Partial<RuntimeDeps> = {}): { deps: RuntimeDeps; events: EmittedEvent[] } {
  const events: EmittedEvent[] = [];
  const cache = new Map<string, unknown>();
  const deps: RuntimeDeps = {
    events: { emit: async (_runId, event, payload) => void events.push({ event, payload }) },
    objects: { put: async () => {}, get: async () => undefined, list: async () => [] },
    agent: async (id) => ({ id, circuit: initialCircuit() }),
    recordMetrics: async () => {},
    updateCircuit: async () => {},
    claimProbe: async () => true,
    acquireLease: async () => ({ ok: true, lease: { id: 'l', expiresAt: 0 } }),
    releaseLease: async () => {},
    idempotent: async (agentId, key, fn) => {
      const k = JSON.stringify([agentId, key]);
      if (cache.has(k)) return cache.get(k) as never;
      const result = await fn();
      cache.set(k, result);
      return result;
    },
    circuitConfig: DEFAULT_CIRCUIT_CONFIG,
    clock: Date.now,
    log: { warn() {}, error() {} },
    ...overrides,
  };
  return { deps, events };
}
