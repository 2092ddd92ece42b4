import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SeqAllocator,
  SeqReorderBuffer,
  SequenceError,
  blockFromCounter,
  findHoles,
} from '../../../lambdas/core/events/sequence';

describe('Function: blockFromCounter', () => {
  it('should turn the value returned by ADD into the reserved block', () => {
    expect(blockFromCounter(5, 5)).toEqual({ first: 1, last: 5 });
    expect(blockFromCounter(42, 1)).toEqual({ first: 42, last: 42 });
  });

  it('should refuse sizes and counters that cannot be a block', () => {
    expect(() => blockFromCounter(3, 0)).toThrow(SequenceError);
    expect(() => blockFromCounter(2, 3)).toThrow(SequenceError);
  });
});

describe('Class: SeqAllocator', () => {
  it('should hand out numbers across non-contiguous blocks in order', () => {
    const allocator = new SeqAllocator();
    allocator.addBlock({ first: 1, last: 2 });
    allocator.addBlock({ first: 7, last: 9 });
    expect(allocator.available).toBe(5);
    expect(allocator.take(3)).toEqual([1, 2, 7]);
    expect(allocator.take()).toEqual([8]);
    expect(allocator.available).toBe(1);
  });

  it('should say how many more numbers a flush needs', () => {
    const allocator = new SeqAllocator();
    expect(allocator.shortfall(4)).toBe(4);
    allocator.addBlock({ first: 1, last: 3 });
    expect(allocator.shortfall(4)).toBe(1);
    expect(allocator.shortfall(2)).toBe(0);
  });

  it('should refuse to hand out more than was reserved', () => {
    const allocator = new SeqAllocator();
    allocator.addBlock({ first: 1, last: 1 });
    expect(() => allocator.take(2)).toThrow(SequenceError);
  });

  it('should refuse a block that overlaps or precedes the last one', () => {
    const allocator = new SeqAllocator();
    allocator.addBlock({ first: 5, last: 8 });
    expect(() => { allocator.addBlock({ first: 8, last: 9 }); }).toThrow(SequenceError);
    expect(() => { allocator.addBlock({ first: 1, last: 2 }); }).toThrow(SequenceError);
  });

  it('should give back unused numbers for fillers', () => {
    const allocator = new SeqAllocator();
    allocator.addBlock({ first: 10, last: 14 });
    allocator.take(2);
    expect(allocator.drainUnused()).toEqual([12, 13, 14]);
    expect(allocator.available).toBe(0);
    expect(allocator.drainUnused()).toEqual([]);
  });

  it('should leave no hole when concurrent emitters flush, fail and fill', () => {
    // Each step: one emitter reserves a block sized to its flush; it writes all, or fails part-way and
    // writes fillers for the rest, or dies and a reader fills the rest later.
    const step = fc.record({
      emitter: fc.nat({ max: 7 }),
      size: fc.integer({ min: 1, max: 25 }),
      outcome: fc.constantFrom('written', 'failed', 'died'),
      writtenBeforeTrouble: fc.nat({ max: 25 }),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        let counter = 0;
        const log = new Map<number, string>();
        const allocators = new Map<number, SeqAllocator>();
        for (const { emitter, size, outcome, writtenBeforeTrouble } of steps) {
          counter += size;
          const allocator = allocators.get(emitter) ?? new SeqAllocator();
          allocators.set(emitter, allocator);
          allocator.addBlock(blockFromCounter(counter, size));
          const writes = outcome === 'written' ? size : Math.min(size, writtenBeforeTrouble);
          for (const seq of allocator.take(writes)) {
            expect(log.has(seq)).toBe(false);
            log.set(seq, 'event');
          }
          if (outcome === 'failed') for (const seq of allocator.drainUnused()) log.set(seq, 'Noop');
          if (outcome === 'died') allocators.delete(emitter);
        }
        for (const allocator of allocators.values()) for (const seq of allocator.drainUnused()) log.set(seq, 'Noop');
        for (const seq of findHoles(0, counter, log.keys())) log.set(seq, 'Noop');
        expect([...log.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: counter }, (_, i) => i + 1));
      }),
      { numRuns: 200 },
    );
  });
});

describe('Function: findHoles', () => {
  it('should list the missing numbers in the range', () => {
    expect(findHoles(0, 6, [1, 3, 6, 9])).toEqual([2, 4, 5]);
    expect(findHoles(4, 6, [5, 6])).toEqual([]);
  });
});

describe('Class: SeqReorderBuffer', () => {
  it('should hold events until the gap before them fills', () => {
    const buffer = new SeqReorderBuffer<string>();
    expect(buffer.push(2, 'b', 0)).toEqual([]);
    expect(buffer.push(3, 'c', 1)).toEqual([]);
    expect(buffer.push(1, 'a', 2)).toEqual(['a', 'b', 'c']);
    expect(buffer.lastDelivered).toBe(3);
  });

  it('should drop duplicates and events already delivered', () => {
    const buffer = new SeqReorderBuffer<string>(5);
    expect(buffer.push(5, 'old', 0)).toEqual([]);
    expect(buffer.push(7, 'g', 0)).toEqual([]);
    expect(buffer.push(7, 'g again', 0)).toEqual([]);
    expect(buffer.push(6, 'f', 0)).toEqual(['f', 'g']);
  });

  it('should report holes only after the grace period', () => {
    const buffer = new SeqReorderBuffer<string>();
    buffer.push(1, 'a', 0);
    buffer.push(4, 'd', 100);
    expect(buffer.overdueHoles(1_000, 2_000)).toEqual([]);
    expect(buffer.overdueHoles(2_100, 2_000)).toEqual([2, 3]);
    buffer.push(2, 'Noop', 2_200);
    expect(buffer.push(3, 'Noop', 2_200)).toEqual(['Noop', 'd']);
    expect(buffer.overdueHoles(10_000, 2_000)).toEqual([]);
  });

  it('should release every event once, in order, whatever the arrival order and redeliveries', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i + 1), { minLength: n, maxLength: n }),
            fc.array(fc.integer({ min: 1, max: n }), { maxLength: 50 }),
          ),
        ),
        ([n, order, redelivered]) => {
          const buffer = new SeqReorderBuffer<number>();
          const out: number[] = [];
          const arrivals = [...order];
          redelivered.forEach((seq, i) => arrivals.splice((i * 7) % (arrivals.length + 1), 0, seq));
          arrivals.forEach((seq, t) => out.push(...buffer.push(seq, seq, t)));
          expect(out).toEqual(Array.from({ length: n }, (_, i) => i + 1));
          expect(buffer.heldCount).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
