import type { ItemOutcome } from '../core/agent-runtime/ports';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  bucketAttribute,
  countsFromAttributes,
  incrementFor,
  mergeHistograms,
  recentSlots,
  slotExpiresAt,
  slotOf,
  summarizeSnapshot,
  type HistogramSnapshot,
  type LatencySummary,
  type WindowConfig,
} from '../core/registry/histogram';
import { agentPk, METRICS_SK, slotSk } from './registry-keys';

/**
 * Agent metrics with atomic DynamoDB updates only: every recording is an `ADD` of counters and histogram
 * buckets (plus `SET` of last-seen values), so concurrent invocations commute and nothing is read first.
 * An invocation's items are folded into one increment, so the cost is two UpdateItems per invocation
 * (all-time item + current window slot) whatever the batch size.
 */

export interface CounterSet {
  invocations: number;
  successes: number;
  failures: number;
  histogram: HistogramSnapshot;
  lastError?: string;
  lastErrorAt?: string;
  lastInvocationAt?: string;
}

export interface MetricsIncrement {
  invocations: number;
  successes: number;
  failures: number;
  buckets: Map<number, number>;
  sumMs: number;
  lastError?: string;
}

export function incrementOf(outcomes: readonly ItemOutcome[]): MetricsIncrement {
  const buckets = new Map<number, number>();
  let sumMs = 0;
  let successes = 0;
  let lastError: string | undefined;
  for (const outcome of outcomes) {
    const increment = incrementFor(outcome.latencyMs);
    buckets.set(increment.bucket, (buckets.get(increment.bucket) ?? 0) + 1);
    sumMs += increment.sumMs;
    if (outcome.ok) successes++;
    else lastError = outcome.error ?? 'failed';
  }
  return { invocations: outcomes.length, successes, failures: outcomes.length - successes, buckets, sumMs, lastError };
}

/** The UpdateItem input adding one increment to a counter item (exported for tests and the bench). */
function updateFor(tableName: string, agentId: string, sk: string, inc: MetricsIncrement, now: number, expiresAt?: number) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {
    ':n': inc.invocations,
    ':s': inc.successes,
    ':f': inc.failures,
    ':c': inc.invocations,
    ':sum': inc.sumMs,
    ':now': new Date(now).toISOString(),
    ':id': agentId,
  };
  const adds = ['invocations :n', 'successes :s', 'failures :f', 'latCount :c', 'latSumMs :sum'];
  for (const [bucket, count] of inc.buckets) {
    names[`#${bucketAttribute(bucket)}`] = bucketAttribute(bucket);
    values[`:${bucketAttribute(bucket)}`] = count;
    adds.push(`#${bucketAttribute(bucket)} :${bucketAttribute(bucket)}`);
  }
  const sets = ['lastInvocationAt = :now', 'agentId = :id'];
  if (inc.lastError !== undefined) {
    sets.push('lastError = :err', 'lastErrorAt = :now');
    values[':err'] = inc.lastError.slice(0, 1000);
  }
  if (expiresAt !== undefined) {
    sets.push('expiresAt = :exp');
    values[':exp'] = expiresAt;
  }
  return {
    TableName: tableName,
    Key: { pk: agentPk(agentId), sk },
    UpdateExpression: `ADD ${adds.join(', ')} SET ${sets.join(', ')}`,
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    ExpressionAttributeValues: values,
  };
}

export class MetricsRecorder {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly window: WindowConfig,
  ) {}

  /** Two atomic updates, issued together: the all-time item and the current slot of the recent window. */
  async record(agentId: string, outcomes: readonly ItemOutcome[], now: number): Promise<void> {
    if (outcomes.length === 0) return;
    const inc = incrementOf(outcomes);
    const slot = slotOf(now, this.window);
    await Promise.all([
      this.client.send(new UpdateCommand(updateFor(this.tableName, agentId, METRICS_SK, inc, now))),
      this.client.send(new UpdateCommand(updateFor(this.tableName, agentId, slotSk(slot), inc, now, slotExpiresAt(slot, this.window)))),
    ]);
  }
}

export function counterSetOf(item: Record<string, unknown> | undefined): CounterSet {
  const histogram: HistogramSnapshot = item
    ? { counts: countsFromAttributes(item), sumMs: Number(item.latSumMs ?? 0), count: Number(item.latCount ?? 0) }
    : { counts: {}, sumMs: 0, count: 0 };
  const set: CounterSet = {
    invocations: Number(item?.invocations ?? 0),
    successes: Number(item?.successes ?? 0),
    failures: Number(item?.failures ?? 0),
    histogram,
  };
  if (typeof item?.lastError === 'string') set.lastError = item.lastError;
  if (typeof item?.lastErrorAt === 'string') set.lastErrorAt = item.lastErrorAt;
  if (typeof item?.lastInvocationAt === 'string') set.lastInvocationAt = item.lastInvocationAt;
  return set;
}

/** Merges the slots of the recent window; the last error is the newest one among them. */
export function mergeCounterSets(sets: readonly CounterSet[]): CounterSet {
  const merged: CounterSet = {
    invocations: sets.reduce((s, c) => s + c.invocations, 0),
    successes: sets.reduce((s, c) => s + c.successes, 0),
    failures: sets.reduce((s, c) => s + c.failures, 0),
    histogram: mergeHistograms(...sets.map((c) => c.histogram)),
  };
  let newestError: { lastError: string; lastErrorAt: string } | undefined;
  for (const { lastError, lastErrorAt } of sets) {
    if (lastError === undefined || !lastErrorAt) continue;
    if (!newestError || lastErrorAt > newestError.lastErrorAt) newestError = { lastError, lastErrorAt };
  }
  if (newestError) {
    merged.lastError = newestError.lastError;
    merged.lastErrorAt = newestError.lastErrorAt;
  }
  const newest = sets.map((c) => c.lastInvocationAt).filter((x): x is string => !!x).sort().at(-1);
  if (newest) merged.lastInvocationAt = newest;
  return merged;
}

export function recentSlotKeys(now: number, window: WindowConfig): string[] {
  return recentSlots(now, window).map(slotSk);
}

export interface MetricsView {
  invocations: number;
  successes: number;
  failures: number;
  errorRate: number | null;
  latencyMs: LatencySummary;
}

export function metricsView(set: CounterSet): MetricsView {
  return {
    invocations: set.invocations,
    successes: set.successes,
    failures: set.failures,
    errorRate: set.invocations > 0 ? set.failures / set.invocations : null,
    latencyMs: summarizeSnapshot(set.histogram),
  };
}
