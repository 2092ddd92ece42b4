import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProgressCoalescer, type ProgressUpdate, progressKey } from '../../../lambdas/core/events/coalesce';

const p = (progress: number, tokensUsed = 0): ProgressUpdate => ({ progress, tokensUsed });

describe('Class: ProgressCoalescer', () => {
  describe('Method: offer', () => {
    it('should let K updates per window through and hold the next', () => {
      const coalescer = new ProgressCoalescer({ maxPerWindow: 2, windowMs: 1000 });
      expect(coalescer.offer('a', p(0.1), 0)).toEqual(p(0.1));
      expect(coalescer.offer('a', p(0.2), 100)).toEqual(p(0.2));
      expect(coalescer.offer('a', p(0.3), 200)).toBeUndefined();
      expect(coalescer.offer('b', p(0.3), 200)).toEqual(p(0.3));
    });

    it('should let an update through once the window slid past the oldest release', () => {
      const coalescer = new ProgressCoalescer({ maxPerWindow: 1, windowMs: 1000 });
      coalescer.offer('a', p(0.1), 0);
      expect(coalescer.offer('a', p(0.2), 999)).toBeUndefined();
      expect(coalescer.offer('a', p(0.3), 1000)).toEqual(p(0.3));
      expect(coalescer.flushDue(5000)).toEqual([]);
    });

    it('should ignore an update that says nothing new', () => {
      const coalescer = new ProgressCoalescer({ maxPerWindow: 5 });
      coalescer.offer('a', p(0.5, 10), 0);
      expect(coalescer.offer('a', p(0.5, 10), 10)).toBeUndefined();
    });
  });

  describe('Method: flushDue', () => {
    it('should release the latest held update when the window has room', () => {
      const coalescer = new ProgressCoalescer({ maxPerWindow: 1, windowMs: 1000 });
      coalescer.offer('a', p(0.1), 0);
      coalescer.offer('a', p(0.2), 300);
      coalescer.offer('a', p(0.4, 40), 600);
      expect(coalescer.nextDueAt()).toBe(1000);
      expect(coalescer.flushDue(900)).toEqual([]);
      expect(coalescer.flushDue(1000)).toEqual([{ key: 'a', update: p(0.4, 40) }]);
      expect(coalescer.nextDueAt()).toBeUndefined();
    });

    it('should forget items with nothing held and nothing in the window', () => {
      const coalescer = new ProgressCoalescer({ maxPerWindow: 1, windowMs: 1000 });
      coalescer.offer('a', p(0.1), 0);
      coalescer.flushDue(2000);
      expect(coalescer.trackedItems).toBe(0);
    });
  });

  describe('Method: settle', () => {
    it('should drop the held update when the item completed', () => {
      const coalescer = new ProgressCoalescer({ maxPerWindow: 1 });
      coalescer.offer('a', p(0.1), 0);
      coalescer.offer('a', p(0.9, 90), 10);
      expect(coalescer.settle('a', 'completed')).toBeUndefined();
      expect(coalescer.flushDue(10_000)).toEqual([]);
    });

    it('should return the held update when the item failed', () => {
      const coalescer = new ProgressCoalescer({ maxPerWindow: 1 });
      coalescer.offer('a', p(0.1), 0);
      coalescer.offer('a', p(0.7, 70), 10);
      expect(coalescer.settle('a', 'failed')).toEqual(p(0.7, 70));
      expect(coalescer.trackedItems).toBe(0);
    });
  });

  describe('Method: drain', () => {
    it('should hand back every held update and forget all items', () => {
      const coalescer = new ProgressCoalescer({ maxPerWindow: 1 });
      coalescer.offer('a', p(0.1), 0);
      coalescer.offer('a', p(0.2), 1);
      coalescer.offer('b', p(0.1), 0);
      expect(coalescer.drain()).toEqual([{ key: 'a', update: p(0.2) }]);
      expect(coalescer.trackedItems).toBe(0);
    });
  });

  it('should keep every item under K per window and never lose the last update', () => {
    const offer = fc.record({ item: fc.constantFrom('a', 'b', 'c'), gap: fc.nat({ max: 400 }), tokens: fc.nat({ max: 5 }) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(offer, { minLength: 1, maxLength: 150 }), (k, offers) => {
        const windowMs = 1000;
        const coalescer = new ProgressCoalescer({ maxPerWindow: k, windowMs });
        const released = new Map<string, Array<{ at: number; update: ProgressUpdate }>>();
        const last = new Map<string, ProgressUpdate>();
        const record = (key: string, update: ProgressUpdate, at: number) => {
          const list = released.get(key) ?? [];
          list.push({ at, update });
          released.set(key, list);
        };
        let now = 0;
        let tokens = 0;
        for (const { item, gap, tokens: more } of offers) {
          now += gap;
          tokens += more;
          for (const { key, update } of coalescer.flushDue(now)) record(key, update, now);
          const update = p(Math.min(1, tokens / 500), tokens);
          last.set(item, update);
          const out = coalescer.offer(item, update, now);
          if (out) record(item, out, now);
        }
        // Quiet time: everything held comes out on the caller's timer.
        while (coalescer.nextDueAt() !== undefined) {
          now = Math.max(now, coalescer.nextDueAt()!);
          for (const { key, update } of coalescer.flushDue(now)) record(key, update, now);
        }
        for (const [item, list] of released) {
          for (let i = k; i < list.length; i++) expect(list[i].at - list[i - k].at).toBeGreaterThanOrEqual(windowMs);
          expect(list.at(-1)!.update).toEqual(last.get(item));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('Function: progressKey', () => {
  it('should not confuse items whose parts contain the separator', () => {
    expect(progressKey('r', 's/a', 'b')).not.toBe(progressKey('r', 's', 'a/b'));
    expect(progressKey('r', 's', 'i')).toBe(progressKey('r', 's', 'i'));
  });
});
