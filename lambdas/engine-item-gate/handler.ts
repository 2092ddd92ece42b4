import { requiredEnv } from '../shared/aws/env';
import { runDepsFromEnv } from '../shared/aws/run-store';
import { admitItem, releaseItem } from '../shared/runs/control';
import { logger } from '../shared/observability/logger';

/**
 * Item admission around every agent invocation of a compiled machine (docs/engine.md, "Item admission"):
 * - `admit` (waitForTaskToken): a slot of the run's semaphore, answered at once; or the token is parked on
 *   the run while it is paused or full, and answered by whoever frees the way. Never a wait in here.
 * - `release` (plain invoke): the invocation came back; its slot goes to the next waiting item, and a pausing
 *   or closing run whose last item settled moves on.
 */
export type ItemGateEvent =
  | { action: 'admit'; taskToken: string; runId: string; stepId: string; items?: unknown[]; leaseSeconds?: number }
  | { action: 'release'; runId: string; stepId: string; items?: unknown[]; leaseId?: string; results?: unknown; error?: string; timeoutSeconds?: number };

const deps = runDepsFromEnv({
  runsTable: requiredEnv('RUNS_TABLE'),
  eventsTable: requiredEnv('EVENTS_TABLE'),
  bucket: requiredEnv('WORKSPACE_BUCKET'),
  ...(process.env.GATE_FUNCTION_ARN ? { gateFunction: process.env.GATE_FUNCTION_ARN } : {}),
});

export async function handler(event: ItemGateEvent): Promise<{ outcome: string }> {
  if (event.action === 'admit') {
    const outcome = await admitItem(deps, {
      taskToken: event.taskToken,
      runId: event.runId,
      stepId: event.stepId,
      leaseSeconds: Math.max(30, Math.min(event.leaseSeconds ?? 900, 7 * 86_400)),
    });
    return { outcome };
  }
  if (event.action === 'release') {
    await releaseItem(deps, {
      runId: event.runId,
      stepId: event.stepId,
      ...(event.results !== undefined ? { results: event.results } : {}),
      ...(event.leaseId ? { leaseId: event.leaseId } : {}),
      items: Array.isArray(event.items) ? event.items.length : 1,
      ...(event.error ? { error: event.error } : {}),
      ...(event.timeoutSeconds ? { timeoutSeconds: event.timeoutSeconds } : {}),
    });
    return { outcome: 'released' };
  }
  logger.error('unknown item gate action', { event });
  throw new Error(`unknown item gate action ${(event as { action?: unknown }).action}`);
}
