/**
 * The run's spend ledger: tokens and cost of every item attempt, counted once, whatever became of the attempt
 * (succeeded, failed, retried by Step Functions, moved to another agent). Pure: the AWS side is the events
 * table's counter item (lambdas/aws/event-store.ts), which this module only names and reads.
 *
 * Why there: every attempt the agent runtime makes ends in exactly one ItemCompleted or ItemFailed (a retried
 * invocation replays the items that completed from the idempotency store without emitting again), and every
 * emit already pays one atomic `ADD next :n` on the run's counter item to reserve its seq. The spend the event
 * carries rides on that same UpdateItem, so it is counted where it is emitted, with no extra write, and a
 * result that Step Functions' Retry throws away (the next attempt's result replaces it) has been counted all
 * the same. Readers (the reporter, GET /runs/{id}, the finalizer) read the counter item.
 *
 * What it cannot see: an attempt whose Lambda dies mid-item (timeout, out of memory) emits no item event, so its
 * spend is not counted (its ItemProgress events, which the ledger does not add, show how far it got); and, as
 * with the seq counter it shares, an ADD the SDK retries after its first try applied but its answer was lost
 * counts twice (the numbers it reserved become Noop holes).
 *
 * Layout: one top-level number attribute per (step, provider, model, figure), because DynamoDB's ADD only
 * works on top-level attributes and creates them at 0:
 * `spend|<stepId>|<provider>|<model>|tokens` and `…|costUsd`, each part URI-encoded (empty: not said).
 */

/** Spend of one provider and model; `provider`/`model` absent when the agent did not say (agents without an LLM). */
export interface UsageEntry {
  provider?: string;
  model?: string;
  tokens: number;
  costUsd: number;
}

/** One step's spend. */
export interface StepSpend {
  tokens: number;
  costUsd: number;
  usage: UsageEntry[];
}

/** The ledger as read: spend per step id. */
export type RunSpend = Record<string, StepSpend>;

/** The spend of one attempt (or of results no item event carried, see RESULTS_MARK_PREFIX). */
export interface SpendItem {
  stepId: string;
  provider?: string;
  model?: string;
  tokens: number;
  costUsd: number;
}

const LEDGER_PREFIX = 'spend|';
/**
 * Marks that a step's spend known only from its results (agents not on the runtime, which emit no item events)
 * was added by the reporter: the ADD is conditional on it, so a retried reporter adds nothing twice.
 */
const RESULTS_MARK_PREFIX = 'spendFromResults|';

type Figure = 'tokens' | 'costUsd';

const enc = (s: string | undefined) => encodeURIComponent(s ?? '');
const dec = (s: string) => (s === '' ? undefined : decodeURIComponent(s));

export function ledgerAttribute(item: Pick<SpendItem, 'stepId' | 'provider' | 'model'>, figure: Figure): string {
  return `${LEDGER_PREFIX}${enc(item.stepId)}|${enc(item.provider)}|${enc(item.model)}|${figure}`;
}

export const resultsMark = (stepId: string) => `${RESULTS_MARK_PREFIX}${enc(stepId)}`;

/** Rounded to a nano-dollar: sums of many decimal costs must not show float dust. */
export const roundUsd = (n: number, digits = 9) => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

function nonNegative(n: unknown): number {
  const v = typeof n === 'number' ? n : Number(n);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The spend an item event carries: ItemCompleted and ItemFailed with metrics; undefined when it spent nothing. */
export function spendOfEvent(event: string, payload: unknown): SpendItem | undefined {
  if (event !== 'ItemCompleted' && event !== 'ItemFailed') return undefined;
  const p = payload as { stepId?: unknown; metrics?: { tokensUsed?: unknown; costUsd?: unknown; provider?: unknown; model?: unknown } } | undefined;
  const stepId = text(p?.stepId);
  if (!stepId || !p?.metrics) return undefined;
  return spendItem(stepId, p.metrics);
}

/** The spend of metrics `{tokensUsed, costUsd, provider?, model?}`; undefined when it is nothing. */
export function spendItem(stepId: string, metrics: { tokensUsed?: unknown; costUsd?: unknown; provider?: unknown; model?: unknown }): SpendItem | undefined {
  const tokens = nonNegative(metrics.tokensUsed);
  const costUsd = nonNegative(metrics.costUsd);
  if (tokens === 0 && costUsd === 0) return undefined;
  const provider = text(metrics.provider);
  const model = text(metrics.model);
  return { stepId, ...(provider ? { provider } : {}), ...(model ? { model } : {}), tokens, costUsd };
}

/** The ADDs of several items, one per (step, provider, model, figure): what one UpdateItem applies. */
export function ledgerAdds(items: readonly SpendItem[]): Map<string, number> {
  const adds = new Map<string, number>();
  for (const item of items) {
    for (const figure of ['tokens', 'costUsd'] as const) {
      const name = ledgerAttribute(item, figure);
      adds.set(name, roundUsd((adds.get(name) ?? 0) + item[figure]));
    }
  }
  return adds;
}

/** The ledger of a counter item (its other attributes are ignored). */
export function parseLedger(item: Record<string, unknown> | undefined): RunSpend {
  const steps: RunSpend = {};
  const entries = new Map<string, UsageEntry & { stepId: string }>();
  for (const [name, value] of Object.entries(item ?? {})) {
    if (!name.startsWith(LEDGER_PREFIX)) continue;
    const parts = name.slice(LEDGER_PREFIX.length).split('|');
    if (parts.length !== 4 || (parts[3] !== 'tokens' && parts[3] !== 'costUsd')) continue;
    const [step, provider, model, figure] = parts as [string, string, string, Figure];
    const key = parts.slice(0, 3).join('|');
    let entry = entries.get(key);
    if (!entry) {
      const p = dec(provider);
      const m = dec(model);
      entry = { stepId: dec(step) ?? '', ...(p ? { provider: p } : {}), ...(m ? { model: m } : {}), tokens: 0, costUsd: 0 };
      entries.set(key, entry);
    }
    entry[figure] = nonNegative(value);
  }
  for (const { stepId, ...entry } of entries.values()) {
    const step = (steps[stepId] ??= { tokens: 0, costUsd: 0, usage: [] });
    step.usage.push({ ...entry, costUsd: roundUsd(entry.costUsd) });
  }
  for (const step of Object.values(steps)) {
    step.usage = sortUsage(step.usage);
    step.tokens = step.usage.reduce((n, u) => n + u.tokens, 0);
    step.costUsd = roundUsd(step.usage.reduce((n, u) => n + u.costUsd, 0));
  }
  return steps;
}

const usageKey = (u: Pick<UsageEntry, 'provider' | 'model'>) => `${u.provider ?? ''}\u0000${u.model ?? ''}`;

function sortUsage(usage: UsageEntry[]): UsageEntry[] {
  return usage.sort((a, b) => usageKey(a).localeCompare(usageKey(b)));
}

/** Usage entries summed per provider and model (steps into a run, results into a step). */
export function mergeUsage(...lists: ReadonlyArray<readonly UsageEntry[] | undefined>): UsageEntry[] {
  const byKey = new Map<string, UsageEntry>();
  for (const list of lists) {
    for (const u of list ?? []) {
      const key = usageKey(u);
      const into = byKey.get(key);
      if (into) {
        into.tokens += u.tokens;
        into.costUsd = roundUsd(into.costUsd + u.costUsd);
      } else byKey.set(key, { ...u });
    }
  }
  return sortUsage([...byKey.values()]);
}

/** The providers the spend came from, sorted; spend whose agent named none is not a provider. */
export function providersOf(usage: readonly UsageEntry[] | undefined): string[] {
  return [...new Set((usage ?? []).map((u) => u.provider).filter((p): p is string => p !== undefined))].sort();
}

/**
 * The fields a summary or a step record carries about where its spend came from: `providers` (sorted names) and
 * `usage` (per provider and model), both absent when nothing was spent.
 */
export function attribution(usage: readonly UsageEntry[] | undefined): { providers?: string[]; usage?: UsageEntry[] } {
  if (!usage || usage.length === 0) return {};
  const providers = providersOf(usage);
  return { ...(providers.length > 0 ? { providers } : {}), usage: [...usage] };
}
