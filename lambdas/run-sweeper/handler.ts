import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { requiredEnv } from '../aws/env';
import { LIVE_SHARDS, runDepsFromEnv, sfn } from '../aws/run-store';
import { sweepRun, type SweepOutcome } from '../core/runs/sweep';
import { logger } from '../edge/observability/logger';

const deps = runDepsFromEnv({ runsTable: requiredEnv('RUNS_TABLE'), eventsTable: requiredEnv('EVENTS_TABLE'), bucket: requiredEnv('WORKSPACE_BUCKET') });
const graceMs = Number(process.env.SWEEP_GRACE_SECONDS ?? 120) * 1000;

/**
 * The reconciliation sweep (EventBridge schedule): Step Functions' status change events are best effort, so
 * every live run (from the sharded live index, never a Scan) whose execution has ended without the run
 * knowing is finalized here, and closed runs whose in-flight items' leases all expired are completed.
 * Input `{runIds?: string[], graceSeconds?: number}` sweeps given runs (operators, tests).
 */
export async function handler(event: { runIds?: string[]; graceSeconds?: number } = {}): Promise<{ checked: number; repaired: number; outcomes: Record<string, SweepOutcome> }> {
  const grace = event.graceSeconds !== undefined ? event.graceSeconds * 1000 : graceMs;
  const runIds = event.runIds ?? (await Promise.all(Array.from({ length: LIVE_SHARDS }, (_, shard) => deps.runs.liveRuns(shard)))).flat().map((r) => r.runId);
  const outcomes: Record<string, SweepOutcome> = {};
  let repaired = 0;
  for (const runId of runIds) {
    try {
      const outcome = await sweepRun(deps, runId, {
        graceMs: grace,
        describe: async (executionArn) => {
          const out = await sfn().send(new DescribeExecutionCommand({ executionArn }));
          return { status: String(out.status), error: out.error ?? null, cause: out.cause ?? null, ...(out.stopDate ? { stopDate: out.stopDate.toISOString() } : {}) };
        },
      });
      outcomes[runId] = outcome;
      if (outcome === 'finalized' || outcome === 'completed') repaired++;
    } catch (error) {
      logger.error('sweep of a run failed', { runId, error: String(error) });
      outcomes[runId] = 'error';
    }
  }
  if (repaired > 0) logger.warn('reconciliation sweep repaired runs', { repaired, outcomes });
  return { checked: runIds.length, repaired, outcomes };
}
