/**
 * In-memory dependencies of the agent runtime (lambdas/core/agent-runtime) for unit tests: events are kept in order,
 * the idempotency store replays an item's first result like Powertools Idempotency does, every agent is known with a
 * closed circuit, and leases are always granted. Tests override what they exercise.
 */
import type { RuntimeDeps } from '../../lambdas/core/agent-runtime';
import { DEFAULT_CIRCUIT_CONFIG, initialCircuit } from '../../lambdas/core/registry/circuit';
import type { EventName, PayloadOf } from '../../lambdas/core/events/schemas';

// RunResumed's payload has no field (an index signature of never, which would swallow every name).
type Payload = Exclude<PayloadOf<EventName>, Record<string, never>>;
type KeysOf<P> = P extends unknown ? keyof P : never;
type FieldOf<P, K extends PropertyKey> = P extends unknown ? (K extends keyof P ? Exclude<P[K], undefined> : never) : never;

/**
 * Every field some event's payload has, typed as that event has it (schemas.ts): tests pick an event by its name
 * (`find`/`filter` on `event`, which does not narrow) and read that event's fields. Reading a field the picked
 * event lacks is the test's mistake, as it would be on the wire.
 */
export type EventPayload = { [K in KeysOf<Payload>]: FieldOf<Payload, K> };

export interface EmittedEvent {
  event: EventName;
  payload: EventPayload;
}

export function fakeRuntimeDeps(overrides: Partial<RuntimeDeps> = {}): { deps: RuntimeDeps; events: EmittedEvent[] } {
  const events: EmittedEvent[] = [];
  const cache = new Map<string, unknown>();
  const deps: RuntimeDeps = {
    events: { emit: async (_runId, event, payload) => void events.push({ event, payload: payload as EventPayload }) },
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
