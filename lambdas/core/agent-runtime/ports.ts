/**
 * What the agent runtime asks of the world besides its RuntimeDeps' methods: the answers of the agent's lease
 * semaphore (lambdas/aws/semaphore.ts) and what one item's attempt tells the registry's metrics
 * (lambdas/aws/registry-metrics.ts). Declared here so the runtime stays free of the adapters that implement them.
 */

interface Lease {
  id: string;
  expiresAt: number;
}

export type AcquireResult = { ok: true; lease: Lease } | { ok: false; held: number; nextExpiryAt?: number };

/** One item attempt, as the registry's metrics and circuit count it. */
export interface ItemOutcome {
  ok: boolean;
  latencyMs: number;
  error?: string;
}
