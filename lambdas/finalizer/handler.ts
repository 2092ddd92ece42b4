import type { EventBridgeEvent } from 'aws-lambda';
import { requiredEnv } from '../aws/env';
import { runDepsFromEnv } from '../aws/run-store';
import { executionEnded } from '../core/runs/finalize';
import { logger } from '../edge/observability/logger';

interface ExecutionStatusChange {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  error?: string | null;
  cause?: string | null;
  stopDate?: number | null;
}

const deps = runDepsFromEnv({ runsTable: requiredEnv('RUNS_TABLE'), eventsTable: requiredEnv('EVENTS_TABLE'), bucket: requiredEnv('WORKSPACE_BUCKET') });

/**
 * The end of an execution, whatever way it ended (lambdas/core/runs/finalize.ts): the run is closed to new
 * items and, once none is in flight, gets its final status, reports/summary.json, an empty temp/ and its final
 * event. EventBridge delivers at least once; a second delivery finds the run finished and changes nothing.
 * A Distributed Map child execution is named by Step Functions, not after a run: it is not found and ignored.
 */
export const handler = async (event: EventBridgeEvent<'Step Functions Execution Status Change', ExecutionStatusChange>): Promise<{ outcome: string }> => {
  const { name, status, executionArn, error, cause, stopDate } = event.detail;
  if (status === 'RUNNING') return { outcome: 'ignored' };
  logger.info('execution status change', { executionArn, status });
  const outcome = await executionEnded(deps, name, {
    status,
    error: error ?? null,
    cause: cause ?? null,
    endedAt: stopDate ? new Date(stopDate).toISOString() : event.time,
  });
  return { outcome };
};
