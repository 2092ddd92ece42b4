import { afterSettle, type ControlDeps } from './control';
import { finalStatusFor, isLiveStep, isTerminal, liveTallyOf, overlaySpend, summarize, type RunRecord, type RunSummary } from './model';
import { runPrefix } from './keys';
import type { RunSpend } from './spend';

/**
 * Ending a run, whatever way it ends, in two halves:
 * 1. `executionEnded` (the finalizer, on the execution status change, or the sweep when that event was lost):
 *    records how the execution ended and closes admission (no item starts any more).
 * 2. `completeRun`, once no item is in flight (at once, or when the last one settles or its lease expires):
 *    final status, `reports/summary.json`, `temp/` deleted, then the final event. Nothing of the run writes
 *    after that event, because nothing of it runs any more.
 * Both halves are idempotent: the status change may arrive twice, and the sweep may race the finalizer.
 */
export interface FinalizeDeps extends ControlDeps {
  workspace: {
    putJson(key: string, value: unknown): Promise<void>;
    deletePrefix(prefix: string): Promise<number>;
  };
  /** Removes the run from the live index the sweep reads. */
  unlist(runId: string): Promise<void>;
  /** The run's spend ledger (lambdas/core/runs/spend.ts); absent: the steps' recorded figures are the totals. */
  spend?(runId: string): Promise<RunSpend>;
}

export interface ExecutionEnd {
  status: string;
  error?: string | null;
  cause?: string | null;
  endedAt: string;
}

export async function executionEnded(deps: FinalizeDeps, runId: string, end: ExecutionEnd): Promise<'completed' | 'waiting' | 'ignored'> {
  const run = await deps.store.get(runId);
  if (!run) return 'ignored';
  if (isTerminal(run.status)) {
    // A duplicate delivery after completion: make sure the final event went out.
    if ((run as unknown as { finalEvent?: string }).finalEvent === 'pending') await completeRun(deps, runId);
    return 'ignored';
  }
  const execution = { status: end.status, error: end.error ?? null, cause: end.cause ?? null, endedAt: end.endedAt };
  if (run.status === 'CANCELLING') await deps.store.setFields(runId, { execution });
  else await deps.store.transition(runId, 'live', 'FINALIZING', { execution });
  const control = await deps.store.updateControl(runId, { closed: true });
  const inFlight = control ? deps.store.liveLeases(control.after).length : 0;
  if (inFlight > 0) return 'waiting';
  await completeRun(deps, runId);
  return 'completed';
}

function receiptOf(run: RunRecord, settled: number): { itemsDone: number; itemsAbandoned: number } {
  const started = Object.values(run.steps).reduce((n, s) => n + (s.totalItems ?? 0), 0);
  const done = Math.max(settled, Object.values(run.steps).reduce((n, s) => n + (s.succeeded ?? 0) + (s.failed ?? 0), 0));
  return { itemsDone: done, itemsAbandoned: Math.max(0, started - done) };
}

export async function completeRun(deps: FinalizeDeps, runId: string): Promise<RunRecord | undefined> {
  const run = await deps.store.get(runId);
  if (!run) return undefined;
  const pendingEvent = (run as unknown as { finalEvent?: string }).finalEvent === 'pending';
  if (isTerminal(run.status) && !pendingEvent) return run;
  const control = await deps.store.control(runId);
  const now = deps.clock();
  let final = run;
  if (!isTerminal(run.status)) {
    const status = finalStatusFor(run.execution?.status ?? 'ABORTED', run.cancel !== undefined);
    const endedAt = run.execution?.endedAt ?? new Date(now).toISOString();
    // Tokens and cost from the ledger, read now that nothing of the run runs any more: every attempt's spend, also
    // that of steps whose reporter never ran (a cancel) and of attempts that ended after their step's reporter (a
    // timed-out invocation finishing late). A step still live keeps the spend its releases counted off the ledger.
    const ledger = deps.spend ? await deps.spend(runId) : undefined;
    const steps = overlaySpend(run.steps, ledger, (stepId, step) => (isLiveStep(step) ? liveTallyOf(control?.live, stepId) : undefined));
    const summary: RunSummary = summarize({ ...run, steps, endedAt }, now);
    const receipt = run.cancel ? receiptOf(run, control?.settled ?? 0) : undefined;
    const error = status === 'FAILED' ? { type: run.execution?.error || 'States.Failed', message: (run.execution?.cause || 'the execution failed').slice(0, 2_000) } : undefined;
    const report = {
      runId,
      workflowId: run.workflowId,
      workflowVersion: run.workflowVersion,
      status,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      endedAt,
      summary,
      steps,
      agents: run.agents,
      ...(receipt ? { cancel: { ...run.cancel, receipt } } : {}),
      ...(error ? { error } : {}),
      execution: run.execution,
    };
    // The report and the cleanup come before the final event: a client that saw the event sees them done.
    if (deps.refreshConfig) await deps.refreshConfig(run);
    await deps.workspace.putJson(`${runPrefix(runId)}reports/summary.json`, report);
    await deps.workspace.deletePrefix(`${runPrefix(runId)}temp/`);
    const moved = await deps.store.transition(runId, 'live', status, {
      endedAt,
      summary,
      finalEvent: 'pending',
      ...(receipt ? { cancel: { ...run.cancel, receipt } } : {}),
      ...(error ? { error } : {}),
    });
    if (!moved) return deps.store.get(runId);
    final = moved;
  }
  await emitFinal(deps, final);
  await deps.store.setFields(runId, { finalEvent: 'emitted' });
  await deps.unlist(runId);
  return final;
}

async function emitFinal(deps: FinalizeDeps, run: RunRecord): Promise<void> {
  const summary = run.summary;
  if (run.status === 'SUCCEEDED') await deps.events.emit(run.runId, 'RunSucceeded', { summary });
  else if (run.status === 'CANCELLED') {
    const receipt = run.cancel?.receipt ?? { itemsDone: 0, itemsAbandoned: 0 };
    await deps.events.emit(run.runId, 'RunCancelled', { ...(run.cancel?.reason ? { reason: run.cancel.reason } : {}), receipt });
  } else {
    const failedStep = Object.entries(run.steps).find(([, s]) => s.status === 'failed')?.[0];
    await deps.events.emit(run.runId, 'RunFailed', {
      error: run.error ?? { type: 'States.Failed', message: 'the execution failed' },
      ...(failedStep ? { stepId: failedStep } : {}),
      summary,
    });
  }
}

/**
 * The sweep's repair of one live run: a closed run whose in-flight items' leases all expired is completed (their
 * holders died with the execution); an open one is left to the caller, which asks Step Functions.
 */
export async function repairClosed(deps: FinalizeDeps, runId: string): Promise<boolean> {
  const control = await deps.store.control(runId);
  if (!control || !control.closed) return false;
  await afterSettle(deps, runId, control);
  return true;
}
