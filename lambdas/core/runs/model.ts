import { z } from 'zod';
import { attribution, mergeUsage, roundUsd, type RunSpend, type UsageEntry } from './spend';

/**
 * The run model: statuses, the commands a client may send, and the shape of the run record the runs API,
 * the engine Lambdas and the finalizer share. No AWS imports.
 *
 * Status machine (CONTRACT.md, plus the transitional PAUSING and FINALIZING this page adds):
 *   QUEUED → STARTING → RUNNING ⇄ PAUSING → PAUSED → RUNNING …
 *   any live status → CANCELLING → CANCELLED
 *   any live status → FINALIZING → SUCCEEDED | FAILED | CANCELLED
 * `QUEUED` is a run created with `start: false` (waiting for its uploads and a `start` command).
 */
export const RUN_STATUSES = [
  'QUEUED',
  'STARTING',
  'RUNNING',
  'PAUSING',
  'PAUSED',
  'CANCELLING',
  'FINALIZING',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
export const isTerminal = (status: string | undefined): boolean => TERMINAL_STATUSES.has(status as RunStatus);

type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'paused';

/**
 * Per-step state on the run record (`steps.<stepId>`), written by the gate, the item gate and the reporter.
 * Every field is optional: each writer merges the fields it owns (lambdas/aws/step-state.ts).
 */
export interface StepState {
  status?: StepStatus;
  agentId?: string;
  agentRevision?: number;
  skill?: string;
  totalItems?: number;
  succeeded?: number;
  failed?: number;
  tokens?: number;
  costUsd?: number;
  startedAt?: string;
  endedAt?: string;
  reason?: string;
  error?: { type: string; message: string };
  mode?: string;
  /** Items that fell back, by the agent they moved to (per-item fallback, docs/engine.md). */
  fallbacks?: Record<string, number>;
  /** Where `tokens` and `costUsd` came from: provider names, and figures per provider and model (spend.ts). */
  providers?: string[];
  usage?: UsageEntry[];
}

export interface RunSummary {
  totalItems: number;
  successCount: number;
  failureCount: number;
  totalTokens: number;
  totalCostUsd: number;
  durationMs: number;
  /** Where the spend came from (absent when nothing was spent): provider names, and figures per provider and model. */
  providers?: string[];
  usage?: UsageEntry[];
}

interface RunLimits {
  /** Run-wide cap on items in flight (0 = only the steps' own maxConcurrency). */
  maxConcurrency: number;
}

export interface RunRecord {
  runId: string;
  tenant: string;
  workflowId: string;
  workflowVersion: number;
  stateMachineArn: string;
  stateMachineVersionArn: string;
  executionArn?: string;
  aslSha256: string;
  status: RunStatus;
  priority: number;
  parameters: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  endedAt?: string;
  /** Bumped by cancel: writes made under an older epoch are refused (fencing). */
  epoch: number;
  steps: Record<string, StepState>;
  summary: RunSummary;
  /** Selected agent per step, as the gate chose them. */
  agents: Record<string, string>;
  limits: RunLimits;
  inputCount: number;
  cancel?: { requestedAt: string; reason?: string; receipt?: { itemsDone: number; itemsAbandoned: number } };
  execution?: { status: string; error?: string | null; cause?: string | null; endedAt?: string };
  error?: { type: string; message: string };
  expiresAt: number;
}

export const CommandSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('pause'), reason: z.string().max(500).optional() }),
  z.strictObject({ type: z.literal('resume') }),
  z.strictObject({ type: z.literal('cancel'), reason: z.string().max(500).optional() }),
  z.strictObject({ type: z.literal('setConcurrency'), maxConcurrency: z.number().int().min(1).max(1000) }),
  z.strictObject({ type: z.literal('start') }),
]);
export type RunCommand = z.infer<typeof CommandSchema>;

export function emptySummary(): RunSummary {
  return { totalItems: 0, successCount: 0, failureCount: 0, totalTokens: 0, totalCostUsd: 0, durationMs: 0 };
}

/**
 * The run's summary from its per-step state (which the reporter keeps current), never from its events.
 * Duration runs from start to end, or to `now` while the run is live.
 */
export function summarize(run: Pick<RunRecord, 'steps' | 'startedAt' | 'endedAt' | 'createdAt'>, now: number): RunSummary {
  const out = emptySummary();
  const steps = Object.values(run.steps);
  for (const step of steps) {
    out.totalItems += step.totalItems ?? 0;
    out.successCount += step.succeeded ?? 0;
    out.failureCount += step.failed ?? 0;
    out.totalTokens += step.tokens ?? 0;
    out.totalCostUsd += step.costUsd ?? 0;
  }
  out.totalCostUsd = Math.round(out.totalCostUsd * 1e6) / 1e6;
  const start = Date.parse(run.startedAt ?? run.createdAt);
  const end = run.endedAt ? Date.parse(run.endedAt) : now;
  out.durationMs = Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, end - start) : 0;
  return { ...out, ...attribution(mergeUsage(...steps.map((s) => s.usage))) };
}

/** One step's live counts (`<stepId>/<counter>` entries of the control item's `live`, kept by the item releases). */
export function liveTallyOf(live: Record<string, number> | undefined, stepId: string): { succeeded: number; failed: number; tokens: number; costUsd: number } | undefined {
  const counts = live ?? {};
  if (!(`${stepId}/succeeded` in counts) && !(`${stepId}/failed` in counts)) return undefined;
  const get = (k: string) => counts[`${stepId}/${k}`] ?? 0;
  return { succeeded: get('succeeded'), failed: get('failed'), tokens: get('tokens'), costUsd: get('costUsd') };
}

export const isLiveStep = (step: StepState) => step.status === 'running' || step.status === 'paused';

/**
 * The steps with their spend from the run's ledger (lambdas/core/runs/spend.ts), which counts every attempt
 * (failed and retried ones too) where it was emitted, plus `offLedger`: spend known only from results not yet
 * added to the ledger (a running step's agents that emit no item events, from the item releases' live tally).
 * A step the ledger does not know keeps its recorded figures (runs from before the ledger). Counts are not touched.
 */
export function overlaySpend(
  steps: Record<string, StepState>,
  ledger: RunSpend | undefined,
  offLedger?: (stepId: string, step: StepState) => { tokens: number; costUsd: number } | undefined,
): Record<string, StepState> {
  const out: Record<string, StepState> = {};
  for (const [stepId, step] of Object.entries(steps)) {
    const spent = ledger?.[stepId];
    const extra = offLedger?.(stepId, step);
    if (!spent) {
      out[stepId] = extra ? { ...step, tokens: extra.tokens, costUsd: roundUsd(extra.costUsd, 6) } : step;
      continue;
    }
    const { providers: _p, usage: _u, ...rest } = step;
    out[stepId] = {
      ...rest,
      tokens: spent.tokens + (extra?.tokens ?? 0),
      costUsd: roundUsd(spent.costUsd + (extra?.costUsd ?? 0), 6),
      ...attribution(spent.usage),
    };
  }
  return out;
}

/** The final status of a run whose execution ended with `executionStatus`. A cancel intent wins. */
export function finalStatusFor(executionStatus: string, cancelRequested: boolean): 'SUCCEEDED' | 'FAILED' | 'CANCELLED' {
  if (cancelRequested) return 'CANCELLED';
  if (executionStatus === 'SUCCEEDED') return 'SUCCEEDED';
  if (executionStatus === 'ABORTED') return 'CANCELLED';
  return 'FAILED';
}

/** Why a command cannot apply to a run in this status, or undefined when it can. */
export function commandConflict(command: RunCommand['type'], status: RunStatus): string | undefined {
  if (isTerminal(status)) return `run is ${status}; commands apply to live runs only`;
  if (status === 'FINALIZING') return 'run is finishing';
  switch (command) {
    case 'start':
      return status === 'QUEUED' ? undefined : `run is ${status}; start applies to a run created with start: false`;
    case 'cancel':
      return undefined;
    case 'pause':
    case 'resume':
      if (status === 'QUEUED') return 'run has not started; start it first (or cancel it)';
      return status === 'CANCELLING' ? 'run is being cancelled' : undefined;
    case 'setConcurrency':
      return status === 'CANCELLING' ? 'run is being cancelled' : undefined;
  }
}

/** Run ids: sortable by creation (time prefix), unguessable (random suffix), valid as execution names and S3 segments. */
export function newRunId(now: number, random: () => string): string {
  return `r-${now.toString(36).padStart(9, '0')}-${random()}`;
}

export const RUN_ID_PATTERN = /^r-[a-z0-9]{9}-[a-z0-9]{8,32}$/;
