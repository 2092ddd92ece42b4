import { StepFailedError } from '../core/workflow/errors';
import type { EventName } from '../core/events/schemas';
import { OUTPUTS_FILE, stepStateKey, type StepState } from '../aws/step-state';
import { attribution, resultsMark, spendItem, type RunSpend, type SpendItem, type StepSpend } from '../core/runs/spend';

/**
 * The reporter after each step (docs/engine.md, "Reporter"): tallies the step's results (counts, outputs),
 * takes the step's tokens and cost from the run's spend ledger (every attempt, failed and retried ones
 * included; lambdas/core/runs/spend.ts), records the step's end on the run record, keeps a fan-out step's
 * outputs for the steps that iterate them, emits StepSkipped / StepCompleted, and fails the step
 * (Agentplane.StepFailed) when its failed items exceed the tolerance. No AWS here: the handler supplies the deps.
 */

interface ResultEntry {
  item?: { key?: string };
  status?: string;
  outputKey?: string;
  error?: { type?: string; message?: string };
  metrics?: { tokensUsed?: number; costUsd?: number; provider?: string; model?: string };
  /** The agent runtime counted this result's spend in the ledger when it emitted the item's event. */
  spendRecorded?: boolean;
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
  readJson(bucket: string, key: string): Promise<unknown>;
  writeJson(bucket: string, key: string, value: unknown): Promise<void>;
  steps: {
    merge(runId: string, stepId: string, fields: StepState): Promise<void>;
    steps(runId: string): Promise<Record<string, StepState> | undefined>;
  };
  emit(runId: string, events: Array<{ event: EventName; payload: unknown }>): Promise<void>;
  /** The run's spend ledger, on the events table's counter item (EventStore.spend / addSpendOnce). */
  ledger: {
    read(runId: string): Promise<RunSpend>;
    /** Adds spend once per mark (a retried reporter adds nothing twice). */
    addOnce(runId: string, mark: string, spend: readonly SpendItem[]): Promise<boolean>;
  };
  clock(): number;
}

interface Tally {
  succeeded: number;
  failed: number;
  /** Spend of results the ledger does not have (agents that emit no item events): added to it at the step's end. */
  offLedger: SpendItem[];
  outputs: Array<{ key: string; source?: string }>;
}

const newTally = (): Tally => ({ succeeded: 0, failed: 0, offLedger: [], outputs: [] });
const MAX_ERROR_MESSAGE = 2_000;

function addResults(tally: Tally, results: unknown, stepId: string): void {
  if (!Array.isArray(results)) return;
  // Agents' Lambda output: any entry may be malformed.
  for (const r of results as Array<ResultEntry | null | undefined>) {
    if (!r) {
      tally.failed++;
      continue;
    }
    if (r.status === 'succeeded') {
      tally.succeeded++;
      if (typeof r.outputKey === 'string') tally.outputs.push({ key: r.outputKey, ...(typeof r.item?.key === 'string' ? { source: r.item.key } : {}) });
    } else {
      tally.failed++;
    }
    if (r.spendRecorded === true || !r.metrics) continue;
    const spent = spendItem(stepId, r.metrics);
    if (spent) tally.offLedger.push(spent);
  }
}

/** Inline outcome: one entry per batch, `{results}` or `{failed: true, items, error}` (a batch that threw). */
function tallyInline(outcome: unknown[], stepId: string): Tally {
  const tally = newTally();
  for (const entry of outcome as Array<{ failed?: boolean; items?: unknown[]; results?: unknown } | null | undefined>) {
    if (entry?.failed === true) tally.failed += Array.isArray(entry.items) ? entry.items.length : 1;
    else addResults(tally, entry?.results, stepId);
  }
  return tally;
}

/**
 * The step's spend: the ledger's figures (every attempt's spend, counted where its item event was emitted), after
 * adding what only the results know (once per step). Nothing spent: zeros.
 */
async function stepSpend(deps: ReporterDeps, runId: string, stepId: string, offLedger: readonly SpendItem[] = []): Promise<StepSpend> {
  if (offLedger.length > 0) await deps.ledger.addOnce(runId, resultsMark(stepId), offLedger);
  return (await deps.ledger.read(runId))[stepId] ?? { tokens: 0, costUsd: 0, usage: [] };
}

/** The spend fields of a StepCompleted summary and of the step record. */
function spendFields(spend: StepSpend) {
  return { tokens: spend.tokens, costUsd: Math.round(spend.costUsd * 1e6) / 1e6, ...attribution(spend.usage) };
}

/** Distributed outcome: the ResultWriter's manifest names the files of succeeded and failed child executions. */
async function tallyDistributed(outcome: { ResultWriterDetails?: { Bucket?: string; Key?: string } }, deps: ReporterDeps, stepId: string): Promise<Tally> {
  const tally = newTally();
  const details = outcome.ResultWriterDetails;
  if (!details?.Bucket || !details.Key) return tally;
  const manifest = (await deps.readJson(details.Bucket, details.Key)) as { ResultFiles?: Record<string, Array<{ Key: string }>> } | undefined;
  if (!manifest) throw new Error(`the Map run's result manifest ${details.Key} is missing`);
  for (const [status, files] of Object.entries(manifest.ResultFiles ?? {})) {
    for (const file of files as Array<{ Key: string }> | undefined ?? []) {
      const entries = (await deps.readJson(details.Bucket, file.Key)) as Array<{ Output?: string; Input?: string }> | undefined;
      for (const entry of entries ?? []) {
        if (status === 'SUCCEEDED') {
          addResults(tally, (parseJson(entry.Output) as { results?: unknown } | undefined)?.results, stepId);
        } else {
          // A child that failed after its retries: every item of its batch failed.
          const items = (parseJson(entry.Input) as { Items?: unknown } | undefined)?.Items;
          tally.failed += Array.isArray(items) ? items.length : 1;
        }
      }
    }
  }
  return tally;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
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
    const message = (event.error?.Cause ?? '').slice(0, MAX_ERROR_MESSAGE);
    const totalItems = recorded?.totalItems ?? 0;
    // No results reach a failed step's reporter, but its attempts' spend is in the ledger all the same.
    const spend = spendFields(await stepSpend(deps, runId, stepId));
    await deps.steps.merge(runId, stepId, { status: 'failed', error: { type, message }, endedAt, ...spend, ...(recorded ? {} : { totalItems: 0, succeeded: 0, failed: 0 }) });
    await deps.emit(runId, [
      {
        event: 'StepCompleted',
        payload: {
          stepId,
          summary: {
            totalItems,
            successCount: recorded?.succeeded ?? 0,
            failureCount: Math.max(0, totalItems - (recorded?.succeeded ?? 0)),
            totalTokens: spend.tokens,
            totalCostUsd: spend.costUsd,
            durationMs,
            ...(spend.providers ? { providers: spend.providers } : {}),
            ...(spend.usage ? { usage: spend.usage } : {}),
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
    addResults(tally, (event.outcome as { results?: unknown } | null | undefined)?.results, stepId);
  } else if (Array.isArray(event.outcome)) {
    tally = tallyInline(event.outcome, stepId);
  } else {
    tally = await tallyDistributed((event.outcome ?? {}), deps, stepId);
  }
  const totalItems = single ? Math.max(1, tally.succeeded + tally.failed) : Math.max(recorded?.totalItems ?? 0, tally.succeeded + tally.failed);
  const tolerated = event.toleratedFailurePercentage ?? 0;
  const failedShare = totalItems === 0 ? 0 : (tally.failed * 100) / totalItems;
  const stepFailed = single ? tally.failed > 0 : failedShare > tolerated;

  if (!single) await deps.writeJson(deps.bucket, stepStateKey(runId, stepId, OUTPUTS_FILE), tally.outputs);
  const spend = spendFields(await stepSpend(deps, runId, stepId, tally.offLedger));
  await deps.steps.merge(runId, stepId, {
    status: stepFailed ? 'failed' : 'succeeded',
    totalItems,
    succeeded: tally.succeeded,
    failed: tally.failed,
    ...spend,
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
        summary: {
          totalItems,
          successCount: tally.succeeded,
          failureCount: tally.failed,
          totalTokens: spend.tokens,
          totalCostUsd: spend.costUsd,
          durationMs,
          ...(spend.providers ? { providers: spend.providers } : {}),
          ...(spend.usage ? { usage: spend.usage } : {}),
        },
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
