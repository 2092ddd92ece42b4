import { executionEnded, repairClosed, type FinalizeDeps } from './finalize';
import { afterSettle } from './control';
import { isTerminal } from './model';

export type SweepOutcome = 'unlisted' | 'running' | 'finalized' | 'completed' | 'waiting' | 'young' | 'queued' | 'error';

export interface SweepOptions {
  /** Runs younger than this are left to the status change event, which is normally on its way. */
  graceMs: number;
  describe(executionArn: string): Promise<{ status: string; error: string | null; cause: string | null; stopDate?: string }>;
}

/**
 * One live run, repaired if its execution ended without the run knowing (a lost status change event), or if
 * it is closed and waiting for in-flight items whose holders died (their leases expired).
 */
export async function sweepRun(deps: FinalizeDeps & { unlist(runId: string): Promise<void> }, runId: string, options: SweepOptions): Promise<SweepOutcome> {
  const run = await deps.store.get(runId);
  if (!run || (isTerminal(run.status) && (run as unknown as { finalEvent?: string }).finalEvent !== 'pending')) {
    await deps.unlist(runId);
    return 'unlisted';
  }
  if (isTerminal(run.status)) {
    await executionEnded(deps, runId, { status: run.execution?.status ?? 'ABORTED', endedAt: run.endedAt ?? new Date(deps.clock()).toISOString() });
    return 'completed';
  }
  if (run.status === 'QUEUED') return 'queued';
  // Leases whose holders died (expired) free their slots here when nothing else would notice: waiting items
  // are woken, a pausing run whose last item is gone is paused, a closed one completed.
  const control = await deps.store.control(runId);
  if (control && !control.closed) await afterSettle(deps, runId, control);
  if (run.execution) {
    await repairClosed(deps, runId);
    const after = await deps.store.get(runId);
    return after && isTerminal(after.status) ? 'completed' : 'waiting';
  }
  if (!run.executionArn) return 'queued';
  if (deps.clock() - Date.parse(run.updatedAt) < options.graceMs) return 'young';
  const execution = await options.describe(run.executionArn);
  if (execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE') {
    // An execution still running but a cancelled run whose items all settled: finish what cancel began.
    if (run.status === 'CANCELLING') await repairClosed(deps, runId);
    return 'running';
  }
  const outcome = await executionEnded(deps, runId, {
    status: execution.status,
    error: execution.error,
    cause: execution.cause,
    endedAt: execution.stopDate ?? new Date(deps.clock()).toISOString(),
  });
  return outcome === 'completed' ? 'finalized' : outcome === 'waiting' ? 'waiting' : 'running';
}
