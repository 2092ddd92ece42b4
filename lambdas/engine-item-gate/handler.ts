import { requiredEnv } from '../aws/env';
import { runDepsFromEnv } from '../aws/run-store';
import { EventStore } from '../aws/event-store';
import { StepStateStore } from '../aws/step-state';
import { RegistryStore } from '../aws/registry-store';
import { chooseFallback } from '../aws/registry-selection';
import { admitItem, releaseItem } from '../core/runs/control';
import { logger } from '../edge/observability/logger';
import { handleRelease, type ReleaseAnswer, type ReleaseDeps, type ReleaseEvent } from './release';

/**
 * Item admission around every agent invocation of a compiled machine (docs/engine.md, "Item admission"):
 * - `admit` (waitForTaskToken): a slot of the run's semaphore, answered at once; or the token is parked on
 *   the run while it is paused or full, and answered by whoever frees the way. Never a wait in here.
 * - `release` (plain invoke): the invocation came back; its slot goes to the next waiting item, a pausing
 *   or closing run whose last item settled moves on, and items another agent could fix fall back to it.
 */
export type ItemGateEvent = { action: 'admit'; taskToken: string; runId: string; stepId: string; items?: unknown[]; leaseSeconds?: number } | ReleaseEvent;

const deps = runDepsFromEnv({
  runsTable: requiredEnv('RUNS_TABLE'),
  eventsTable: requiredEnv('EVENTS_TABLE'),
  bucket: requiredEnv('WORKSPACE_BUCKET'),
  ...(process.env.GATE_FUNCTION_ARN ? { gateFunction: process.env.GATE_FUNCTION_ARN } : {}),
});
const registry = new RegistryStore({ tableName: requiredEnv('AGENTS_TABLE') });
const events = new EventStore({ tableName: requiredEnv('EVENTS_TABLE'), progress: false });
const steps = new StepStateStore(requiredEnv('RUNS_TABLE'));

const releaseDeps: ReleaseDeps = {
  release: (request) => releaseItem(deps, request),
  log: { warn: (message, extra) => { logger.warn(message, { ...extra }); } },
  fallback: {
    choose: (capability, items, exclude) =>
      chooseFallback(capability, items.map((i) => ({ key: i.key, size: typeof i.size === 'number' ? i.size : 0 })), exclude, { store: registry }),
    async emitSelected(runId, selected) {
      await events.emitMany(runId, selected.map((payload) => ({ event: 'AgentSelected' as const, payload })));
    },
    countMoves: (runId, stepId, agentId, items) => steps.countFallbacks(runId, stepId, agentId, items),
  },
};

export async function handler(event: ItemGateEvent): Promise<{ outcome: string } | ReleaseAnswer> {
  if (event.action === 'admit') {
    const outcome = await admitItem(deps, {
      taskToken: event.taskToken,
      runId: event.runId,
      stepId: event.stepId,
      leaseSeconds: Math.max(30, Math.min(event.leaseSeconds ?? 900, 7 * 86_400)),
    });
    return { outcome };
  }
  // The event comes from the state machine: an action the types rule out can still arrive from a stale definition.
  if ((event.action as string) === 'release') return handleRelease(event, releaseDeps);
  logger.error('unknown item gate action', { event });
  throw new Error(`unknown item gate action ${JSON.stringify((event as { action?: unknown }).action)}`);
}
