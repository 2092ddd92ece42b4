import { liveTallyOf, type RunRecord } from './model';

/**
 * What item admission decides on (the run's CONTROL item, lambdas/aws/run-store.ts keeps it): the run's semaphore,
 * its pause and close flags, the live counts of settled items, and the task tokens parked on it. Pure types and
 * readings, shared by run control (./control.ts) and the store.
 */

/** "No run-wide cap": the steps' own maxConcurrency is the limit. */
export const UNLIMITED_SLOTS = 1_000_000;

/** Counts of one step's settled items, kept as items settle (the reporter's figures replace them at step end). */
export interface ItemTally {
  succeeded: number;
  failed: number;
  tokens: number;
  costUsd: number;
}

export interface ControlRecord {
  leases: Record<string, number>;
  /** `<stepId>/<counter>` -> value: live counts per step (ItemTally). */
  live?: Record<string, number>;
  maxSlots: number;
  paused: boolean;
  closed: boolean;
  epoch: number;
  settled: number;
}

export interface ParkedToken {
  sk: string;
  kind: 'step' | 'item';
  runId: string;
  stepId: string;
  taskToken: string;
  /** Step tokens: the gate's event, handed back to the gate on resume. */
  event?: Record<string, unknown>;
  /** Item tokens: how long the slot is held if its release never comes. */
  leaseSeconds?: number;
  parkedAt: string;
}

export type AcquireOutcome = { ok: true; leaseId: string } | { ok: false; reason: 'paused' | 'closed' | 'full' | 'missing' };

/** One step's live tally from the control item. */
export function liveTally(control: ControlRecord | undefined, stepId: string): ItemTally | undefined {
  return liveTallyOf(control?.live, stepId);
}

export function agentsOf(run: Pick<RunRecord, 'steps'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [stepId, step] of Object.entries(run.steps)) if (step.agentId) out[stepId] = step.agentId;
  return out;
}

