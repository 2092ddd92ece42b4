import { present } from '../invariants';
/**
 * Log-scale latency histogram with fixed bucket boundaries, so that recording is a pure increment:
 * the DynamoDB adapter records one latency with a single UpdateItem
 * `ADD h<i> :one, latSumMs :ms, latCount :one` (no read-modify-write), and concurrent recordings
 * commute. Bucket counters are top-level attributes because ADD cannot create a missing parent map.
 *
 * Buckets: 0 is [0, 1) ms; bucket i ≥ 1 is [G^(i-1), G^i) ms with G = 1.1; the last bucket is open
 * ended from about one hour (Lambda's limit is 15 minutes, so it only catches clock anomalies).
 *
 * Precision: a percentile is reported as the midpoint of the bucket holding the exact (nearest-rank)
 * percentile, so for values of at least 1 ms the error is at most (G - 1) / 2 = 5 % of the exact value,
 * and below 1 ms at most 0.5 ms. In the overflow bucket the lower bound is reported.
 *
 * Windows: "all time" is one counter set that never expires; "recent" merges the last `keepSlots` time
 * slots of `slotMs` each, every slot its own counter set with a TTL (slotExpiresAt).
 */

const GROWTH = 1.1;
/** Index of the open-ended overflow bucket. */
export const LAST_BUCKET = 160;
const BUCKET_COUNT = LAST_BUCKET + 1;
/** Worst relative error of a reported percentile for values ≥ 1 ms. */
export const RELATIVE_PRECISION = (GROWTH - 1) / 2;
/** Worst absolute error of a reported percentile below 1 ms. */
export const ABSOLUTE_PRECISION_MS = 0.5;

// Each boundary is computed directly (not by repeated multiplication) so rounding does not accumulate.
const LOWER: readonly number[] = Array.from({ length: BUCKET_COUNT }, (_, i) => (i === 0 ? 0 : GROWTH ** (i - 1)));
const LN_GROWTH = Math.log(GROWTH);

/** Sparse bucket counters: bucket index → count. */
export type BucketCounts = Record<number, number>;

export interface HistogramSnapshot {
  counts: BucketCounts;
  sumMs: number;
  count: number;
}

export interface LatencySummary {
  count: number;
  avg: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** The bucket a latency falls in; negative and NaN latencies count as 0 ms. */
export function bucketIndexFor(ms: number): number {
  if (!(ms >= 1)) return 0;
  if (ms >= LOWER[LAST_BUCKET]) return LAST_BUCKET;
  // The logarithm gives the index up to floating-point error; the boundary table has the last word.
  let i = Math.min(LAST_BUCKET, Math.max(1, Math.floor(Math.log(ms) / LN_GROWTH) + 1));
  while (i < LAST_BUCKET && LOWER[i + 1] <= ms) i++;
  while (i > 0 && LOWER[i] > ms) i--;
  return i;
}

/** [lower, upper) of a bucket, in ms; upper is Infinity for the overflow bucket. */
export function bucketBounds(index: number): { lower: number; upper: number } {
  if (!Number.isInteger(index) || index < 0 || index > LAST_BUCKET) throw new RangeError(`no bucket ${index}`);
  return { lower: LOWER[index], upper: index === LAST_BUCKET ? Infinity : LOWER[index + 1] };
}

/** The value reported for a bucket: its midpoint, or its lower bound for the overflow bucket. */
function bucketValue(index: number): number {
  const { lower, upper } = bucketBounds(index);
  return upper === Infinity ? lower : (lower + upper) / 2;
}

/** Nearest-rank: the 1-based rank of the p-th percentile among n values (p in [0, 100]). */
export function percentileRank(p: number, n: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  // The epsilon keeps e.g. 95 * 20 / 100 from rounding up past an exact integer rank.
  return Math.min(n, Math.max(1, Math.ceil((p * n) / 100 - 1e-9)));
}

function sortedEntries(counts: BucketCounts): Array<[number, number]> {
  return Object.entries(counts)
    .map(([key, value]) => [Number(key), value] as [number, number])
    .filter(([, value]) => value > 0)
    .sort((a, b) => a[0] - b[0]);
}

/** The p-th percentile (p in [0, 100]) of the recorded latencies, within the bucket precision; null if empty. */
export function percentileFromBuckets(counts: BucketCounts, p: number): number | null {
  const [value] = percentilesFromBuckets(counts, [p]);
  return value ?? null;
}

/** Several percentiles in one pass over the buckets. */
function percentilesFromBuckets(counts: BucketCounts, ps: readonly number[]): Array<number | null> {
  const entries = sortedEntries(counts);
  const total = entries.reduce((sum, [, value]) => sum + value, 0);
  if (total === 0) return ps.map(() => null);
  return ps.map((p) => {
    const rank = percentileRank(p, total);
    let cumulative = 0;
    for (const [index, value] of entries) {
      cumulative += value;
      if (cumulative >= rank) return bucketValue(index);
    }
    return bucketValue(present(entries.at(-1), 'entries.at(-1)')[0]);
  });
}

export function summarize(counts: BucketCounts, sumMs: number, count: number): LatencySummary {
  if (count <= 0) return { count: 0, avg: null, p50: null, p95: null, p99: null };
  const [p50, p95, p99] = percentilesFromBuckets(counts, [50, 95, 99]);
  return { count, avg: sumMs / count, p50: present(p50, 'p50'), p95: present(p95, 'p95'), p99: present(p99, 'p99') };
}

export function summarizeSnapshot(snapshot: HistogramSnapshot): LatencySummary {
  return summarize(snapshot.counts, snapshot.sumMs, snapshot.count);
}

export function emptyHistogram(): HistogramSnapshot {
  return { counts: {}, sumMs: 0, count: 0 };
}

/** The increments that record one latency: what the adapter ADDs, and what applyIncrement applies. */
export interface LatencyIncrement {
  bucket: number;
  sumMs: number;
  count: 1;
}

export function incrementFor(ms: number): LatencyIncrement {
  return { bucket: bucketIndexFor(ms), sumMs: Number.isFinite(ms) && ms > 0 ? ms : 0, count: 1 };
}

export function applyIncrement(snapshot: HistogramSnapshot, increment: LatencyIncrement): HistogramSnapshot {
  return {
    counts: { ...snapshot.counts, [increment.bucket]: (snapshot.counts[increment.bucket] ?? 0) + increment.count },
    sumMs: snapshot.sumMs + increment.sumMs,
    count: snapshot.count + increment.count,
  };
}

/** Records many latencies at once (tests, benches, in-memory aggregation). */
export function histogramOf(latencies: Iterable<number>): HistogramSnapshot {
  const counts: BucketCounts = {};
  let sumMs = 0;
  let count = 0;
  for (const ms of latencies) {
    const increment = incrementFor(ms);
    counts[increment.bucket] = (counts[increment.bucket] ?? 0) + 1;
    sumMs += increment.sumMs;
    count++;
  }
  return { counts, sumMs, count };
}

/** Sums counter sets: shards recorded concurrently, or the slots of a window. Order-independent. */
export function mergeHistograms(...snapshots: HistogramSnapshot[]): HistogramSnapshot {
  const counts: BucketCounts = {};
  let sumMs = 0;
  let count = 0;
  for (const snapshot of snapshots) {
    for (const [index, value] of Object.entries(snapshot.counts)) {
      const key = Number(index);
      counts[key] = (counts[key] ?? 0) + value;
    }
    sumMs += snapshot.sumMs;
    count += snapshot.count;
  }
  return { counts, sumMs, count };
}

const BUCKET_ATTRIBUTE_PREFIX = 'h';

export function bucketAttribute(index: number): string {
  return `${BUCKET_ATTRIBUTE_PREFIX}${index}`;
}

/** Reads bucket counters back from an item's top-level `h<i>` attributes. */
export function countsFromAttributes(item: Record<string, unknown>): BucketCounts {
  const counts: BucketCounts = {};
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith(BUCKET_ATTRIBUTE_PREFIX)) continue;
    const index = Number(name.slice(BUCKET_ATTRIBUTE_PREFIX.length));
    if (!Number.isInteger(index) || index < 0 || index > LAST_BUCKET) continue;
    const n = Number(value);
    if (n > 0) counts[index] = n;
  }
  return counts;
}

export interface WindowConfig {
  slotMs: number;
  /** Slots merged into the recent window, the current one included. */
  keepSlots: number;
}

/** Recent window: three 5-minute slots, i.e. the last 10 to 15 minutes. */
export const DEFAULT_WINDOW: WindowConfig = { slotMs: 5 * 60_000, keepSlots: 3 };

export function slotOf(now: number, window: WindowConfig = DEFAULT_WINDOW): number {
  return Math.floor(now / window.slotMs);
}

/** The slots making up the recent window at `now`, newest first. */
export function recentSlots(now: number, window: WindowConfig = DEFAULT_WINDOW): number[] {
  const current = slotOf(now, window);
  return Array.from({ length: window.keepSlots }, (_, i) => current - i);
}

/** TTL (epoch seconds) of a slot's counters: once the slot has left every recent window, plus one slot. */
export function slotExpiresAt(slot: number, window: WindowConfig = DEFAULT_WINDOW): number {
  return Math.ceil(((slot + window.keepSlots + 1) * window.slotMs) / 1000);
}
