import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ABSOLUTE_PRECISION_MS,
  LAST_BUCKET,
  RELATIVE_PRECISION,
  applyIncrement,
  bucketAttribute,
  bucketBounds,
  bucketIndexFor,
  countsFromAttributes,
  emptyHistogram,
  histogramOf,
  incrementFor,
  mergeHistograms,
  percentileFromBuckets,
  percentileRank,
  recentSlots,
  slotExpiresAt,
  slotOf,
  summarize,
  summarizeSnapshot,
} from '../../../lambdas/core/registry/histogram';

// Lambda latencies: sub-millisecond to the 15-minute limit, many small and some large.
const latency = fc.oneof(
  fc.double({ min: 0, max: 5, noNaN: true }),
  fc.double({ min: 0, max: 10_000, noNaN: true }),
  fc.integer({ min: 0, max: 900_000 }),
);

function exactPercentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[percentileRank(p, sorted.length) - 1];
}

function withinPrecision(estimate: number, exact: number): boolean {
  const tolerance = exact >= 1 ? RELATIVE_PRECISION * exact : ABSOLUTE_PRECISION_MS;
  return Math.abs(estimate - exact) <= tolerance + 1e-9;
}

describe('Function: bucketIndexFor', () => {
  it('should put a latency in the bucket whose bounds contain it', () => {
    fc.assert(
      fc.property(fc.oneof(latency, fc.double({ min: 0, max: 1e8, noNaN: true })), (ms) => {
        const { lower, upper } = bucketBounds(bucketIndexFor(ms));
        expect(ms).toBeGreaterThanOrEqual(lower);
        expect(ms).toBeLessThan(upper);
      }),
    );
  });

  it('should place boundaries exactly and clamp the odd inputs', () => {
    for (let i = 1; i <= LAST_BUCKET; i++) expect(bucketIndexFor(bucketBounds(i).lower)).toBe(i);
    expect(bucketIndexFor(0.999)).toBe(0);
    expect(bucketIndexFor(-5)).toBe(0);
    expect(bucketIndexFor(Number.NaN)).toBe(0);
    expect(bucketIndexFor(Infinity)).toBe(LAST_BUCKET);
  });

  it('should keep bucket widths within the growth factor', () => {
    for (let i = 2; i < LAST_BUCKET; i++) {
      const { lower, upper } = bucketBounds(i);
      expect(upper / lower).toBeCloseTo(1.1, 9);
    }
    expect(bucketBounds(LAST_BUCKET).lower).toBeGreaterThan(3_600_000);
  });
});

describe('Function: percentileFromBuckets', () => {
  it('should match the exact percentile within the bucket precision', () => {
    fc.assert(
      fc.property(fc.array(latency, { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 100, noNaN: true }), (values, p) => {
        const { counts } = histogramOf(values);
        for (const q of [p, 50, 95, 99, 100]) {
          expect(withinPrecision(percentileFromBuckets(counts, q)!, exactPercentile(values, q))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('should give the same answer however concurrent recordings were split and ordered', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(latency, fc.nat({ max: 7 })), { minLength: 1, maxLength: 200 }),
        fc.shuffledSubarray([0, 1, 2, 3, 4, 5, 6, 7], { minLength: 8, maxLength: 8 }),
        (tagged, order) => {
          const all = histogramOf(tagged.map(([ms]) => ms));
          // Each of 8 invocations applies its own increments; the store sums them in any order.
          const shards = Array.from({ length: 8 }, (_, shard) =>
            tagged.filter(([, s]) => s === shard).reduce((h, [ms]) => applyIncrement(h, incrementFor(ms)), emptyHistogram()),
          );
          const merged = mergeHistograms(...order.map((i) => shards[i]));
          expect(merged.counts).toEqual(all.counts);
          expect(merged.count).toBe(all.count);
          expect(merged.sumMs).toBeCloseTo(all.sumMs, 6);
          for (const p of [50, 95, 99]) expect(percentileFromBuckets(merged.counts, p)).toBe(percentileFromBuckets(all.counts, p));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('should return null with no recordings and ignore zero counters', () => {
    expect(percentileFromBuckets({}, 50)).toBeNull();
    expect(percentileFromBuckets({ 3: 0 }, 50)).toBeNull();
  });

  it('should refuse a percentile outside 0..100', () => {
    expect(() => percentileFromBuckets({ 1: 1 }, 101)).toThrow(RangeError);
  });
});

describe('Function: summarize', () => {
  it('should give avg and the three percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => (i + 1) * 10);
    const summary = summarizeSnapshot(histogramOf(values));
    expect(summary.count).toBe(100);
    expect(summary.avg).toBe(505);
    expect(withinPrecision(summary.p50!, 500)).toBe(true);
    expect(withinPrecision(summary.p95!, 950)).toBe(true);
    expect(withinPrecision(summary.p99!, 990)).toBe(true);
  });

  it('should report nulls for an agent never invoked', () => {
    expect(summarize({}, 0, 0)).toEqual({ count: 0, avg: null, p50: null, p95: null, p99: null });
  });
});

describe('Function: countsFromAttributes', () => {
  it('should read back the top-level bucket attributes and nothing else', () => {
    const item = { pk: 'AGENT#a', [bucketAttribute(3)]: 2, [bucketAttribute(40)]: '5', h999: 1, hx: 4, latCount: 7 };
    expect(countsFromAttributes(item)).toEqual({ 3: 2, 40: 5 });
  });
});

describe('Function: recentSlots', () => {
  it('should list the current slot and the ones before it, and expire each after it leaves the window', () => {
    const window = { slotMs: 300_000, keepSlots: 3 };
    const now = 10 * 300_000 + 5;
    expect(slotOf(now, window)).toBe(10);
    expect(recentSlots(now, window)).toEqual([10, 9, 8]);
    // Slot 10 is last read at slot 12; its TTL falls after slot 13 starts.
    expect(slotExpiresAt(10, window)).toBe((14 * 300_000) / 1000);
  });
});
