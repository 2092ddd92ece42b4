import { StepFailedError } from '../shared/workflow/errors';
import type { EventName } from '../shared/events/schemas';
import { OUTPUTS_FILE, stepStateKey, type StepState } from '../shared/aws/step-state';

/**
 * The reporter after each step (docs/engine.md, "Reporter"): tallies the step's results (counts, tokens,
 * cost), records the step's end on the run record, keeps a fan-out step's outputs for the steps that iterate
 * them, emits StepSkipped / StepCompleted, and fails the step (Agentplane.StepFailed) when its failed items
 * exceed the tolerance. No AWS here: the handler supplies the deps.
 */

export interface ResultEntry {
  item?: { key?: string };
  status?: string;
  outputKey?: string;
  error?: { type?: string; message?: string };
  metrics?: { tokensUsed?: number; costUsd?: number };
}

export type ReporterEvent =
  | {
      runId: string;
      stepId: string;
      status: 'succeeded';
      mode: 'single' | 'inline' | 'distributed' | 'adaptive';
      toleratedFailurePercentage?: number;
      agent?: { agentId?: string; functionArn?: string };
      outcome: unknown;
    }
  | { runId: string; stepId: string; status: 'skipped'; reason: string }
  | { runId: string; stepId: string; status: 'failed'; error?: { Error?: string; Cause?: string } };

export interface ReporterDeps {
  /** The workspace bucket (the reporter's payload does not carry it). */
  bucket: string;
  readJson(bucket: string, key: string): Promise<unknown | undefined>;
  writeJson(bucket: string, key: string, value: unknown): Promise<void>;
  steps: {
    merge(runId: string, stepId: string, fields: StepState): Promise<void>;
    steps(runId: string): Promise<Record<string, StepState> | undefined>;
  };
  emit(runId: string, events: Array<{ event: EventName; payload: unknown }>): Promise<void>;
  clock(): number;
}

export interface Tally {
  succeeded: number;
  failed: number;
  tokens: number;
  costUsd: number;
  outputs: Array<{ key: string; source?: string }>;
}

const newTally = (): Tally => ({ succeeded: 0, failed: 0, tokens: 0, costUsd: 0, outputs: [] });
const MAX_ERROR_MESSAGE = 2_000;

function finite(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

export function addResults(tally: Tally, results: unknown): void {
  if (!Array.isArray(results)) return;
  for (const r of results as ResultEntry[]) {
    if (r?.status === 'succeeded') {
      tally.succeeded++;
      if (typeof r.outputKey === 'string') tally.outputs.push({ key: r.outputKey, ...(typeof r.item?.key === 'string' ? { source: r.item.key } : {}) });
    } else {
      tally.failed++;
    }
    tally.tokens += finite(r?.metrics?.tokensUsed);
    tally.costUsd += finite(r?.metrics?.costUsd);
  }
}

/** Inline outcome: one entry per batch, `{results}` or `{failed: true, items, error}` (a batch that threw). */
export function tallyInline(outcome: unknown[]): Tally {
  const tally = newTally();
  for (const entry of outcome as Array<{ failed?: boolean; items?: unknown[]; results?: unknown }>) {
    if (entry?.failed === true) tally.failed += Array.isArray(entry.items) ? entry.items.length : 1;
    else addResults(tally, entry?.results);
  }
  return tally;
}

/** Distributed outcome: the ResultWriter's manifest names the files of succeeded and failed child executions. */
export async function tallyDistributed(outcome: { ResultWriterDetails?: { Bucket?: string; Key?: string } }, deps: ReporterDeps): Promise<Tally> {
  const tally = newTally();
  const details = outcome.ResultWriterDetails;
  if (!details?.Bucket || !details.Key) return tally;
  const manifest = (await deps.readJson(details.Bucket, details.Key)) as { ResultFiles?: Record<string, Array<{ Key: string }>> } | undefined;
  if (!manifest) throw new Error(`the Map run's result manifest ${details.Key} is missing`);
  for (const [status, files] of Object.entries(manifest.ResultFiles ?? {})) {
    for (const file of files ?? []) {
      const entries = (await deps.readJson(details.Bucket, file.Key)) as Array<{ Output?: string; Input?: string }> | undefined;
      for (const entry of entries ?? []) {
        if (status === 'SUCCEEDED') {
          addResults(tally, parseJson<{ results?: unknown }>(entry.Output)?.results);
        } else {
          // A child that failed after its retries: every item of its batch failed.
          const items = parseJson<{ Items?: unknown[] }>(entry.Input)?.Items;
          tally.failed += Array.isArray(items) ? items.length : 1;
        }
      }
    }
  }
  return tally;
}

function parseJson<T>(text: unknown): T | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export async function report(event: ReporterEvent, deps: ReporterDeps): Promise<void> {
  const now = deps.clock();
  const endedAt = new Date(now).toISOString();
  const { runId, stepId } = event;

  if (event.status === 'skipped') {
    await deps.steps.merge(runId, stepId, { status: 'skipped', reason: event.reason, totalItems: 0, succeeded: 0, failed: 0, endedAt });
    await deps.emit(runId, [{ event: 'StepSkipped', payload: { stepId, reason: event.reason } }]);
    return;
  }

  const recorded = (await deps.steps.steps(runId))?.[stepId];
  const startedAt = recorded?.startedAt ? Date.parse(recorded.startedAt) : now;
  const durationMs = Math.max(0, now - startedAt);

  if (event.status === 'failed') {
    const type = event.error?.Error || 'States.TaskFailed';
    const message = String(event.error?.Cause ?? '').slice(0, MAX_ERROR_MESSAGE);
    const totalItems = recorded?.totalItems ?? 0;
    await deps.steps.merge(runId, stepId, { status: 'failed', error: { type, message }, endedAt, ...(recorded ? {} : { totalItems: 0, succeeded: 0, failed: 0 }) });
    await deps.emit(runId, [
      {
        event: 'StepCompleted',
        payload: {
          stepId,
          summary: {
            totalItems,
            successCount: recorded?.succeeded ?? 0,
            failureCount: Math.max(0, totalItems - (recorded?.succeeded ?? 0)),
            totalTokens: recorded?.tokens ?? 0,
            totalCostUsd: recorded?.costUsd ?? 0,
            durationMs,
          },
        },
      },
    ]);
    return;
  }

  const single = event.mode === 'single';
  let tally: Tally;
  if (single) {
    tally = newTally();
    addResults(tally, (event.outcome as { results?: unknown })?.results);
  } else if (Array.isArray(event.outcome)) {
    tally = tallyInline(event.outcome);
  } else {
    tally = await tallyDistributed((event.outcome ?? {}) as { ResultWriterDetails?: { Bucket?: string; Key?: string } }, deps);
  }
  const totalItems = single ? Math.max(1, tally.succeeded + tally.failed) : Math.max(recorded?.totalItems ?? 0, tally.succeeded + tally.failed);
  const tolerated = event.toleratedFailurePercentage ?? 0;
  const failedShare = totalItems === 0 ? 0 : (tally.failed * 100) / totalItems;
  const stepFailed = single ? tally.failed > 0 : failedShare > tolerated;

  if (!single) await deps.writeJson(deps.bucket, stepStateKey(runId, stepId, OUTPUTS_FILE), tally.outputs);
  const costUsd = Math.round(tally.costUsd * 1e6) / 1e6;
  await deps.steps.merge(runId, stepId, {
    status: stepFailed ? 'failed' : 'succeeded',
    totalItems,
    succeeded: tally.succeeded,
    failed: tally.failed,
    tokens: tally.tokens,
    costUsd,
    endedAt,
    ...(stepFailed
      ? {
          error: {
            type: 'Agentplane.StepFailed',
            message: single ? `the step's agent reported a failure` : `${tally.failed} of ${totalItems} items failed (${failedShare.toFixed(1)}%), above the tolerated ${tolerated}%`,
          },
        }
      : {}),
  });
  await deps.emit(runId, [
    {
      event: 'StepCompleted',
      payload: {
        stepId,
        summary: { totalItems, successCount: tally.succeeded, failureCount: tally.failed, totalTokens: tally.tokens, totalCostUsd: costUsd, durationMs },
      },
    },
  ]);
  if (stepFailed) {
    throw new StepFailedError(
      single
        ? `step "${stepId}" failed: its agent reported a failed result`
        : `step "${stepId}" failed: ${tally.failed} of ${totalItems} items failed, above the tolerated ${tolerated}%`,
    );
  }
}
