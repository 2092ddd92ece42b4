import { lookup } from '../invariants';
/**
 * Hole-free per-run sequence numbers, pure part.
 *
 * The scheme (the AWS adapter implements the I/O):
 * 1. Each run has a counter item. An emitter reserves a block of n numbers with one atomic
 *    `ADD next :n` (ReturnValues UPDATED_NEW); the block is [next - n + 1, next] (blockFromCounter).
 * 2. Blocks are sized to the flush being written: the emitter gathers the events emitted while a flush
 *    is pending (one tick, or up to a size cap, or the end of an invocation) and reserves exactly that
 *    many. It does not reserve ahead: a reserved number that is not written yet holds back the live
 *    delivery of every later seq (subscribers get events in seq order with no gap), so a reserved
 *    number must be written within milliseconds. Writes per event are 1 + 1/n: one conditional Put
 *    per event plus one counter ADD per flush (n = events in the flush; the agent runtime and the
 *    coalescer flush several events at once, a lone control-API event costs 2).
 * 3. Every event Put is conditional on `attribute_not_exists(seq)`. Numbers are never handed out twice
 *    (the ADD is atomic), so the condition only fails when a filler took the number first (step 4); the
 *    emitter then re-emits that event under a new number rather than overwrite what subscribers saw.
 * 4. Holes can only come from an emitter that reserved and then failed to write. An emitter that fails
 *    writes a `Noop` filler for each number it still holds (SeqAllocator.drainUnused). An emitter that
 *    died cannot, so the reader side (broadcaster, replay) fills a number that stayed missing below a
 *    later seq for longer than a grace period (SeqReorderBuffer.overdueHoles), with the same
 *    conditional Put. Either way every number in 1..counter ends up holding exactly one event.
 */

export interface SeqBlock {
  /** First number of the block, inclusive. */
  readonly first: number;
  /** Last number of the block, inclusive. */
  readonly last: number;
}

export class SequenceError extends Error {
  override readonly name = 'SequenceError';
}

/** The block reserved by an atomic ADD of `size`, given the counter value the ADD returned. */
export function blockFromCounter(counterAfterAdd: number, size: number): SeqBlock {
  if (!Number.isSafeInteger(size) || size < 1) throw new SequenceError(`block size must be a positive integer, got ${size}`);
  if (!Number.isSafeInteger(counterAfterAdd) || counterAfterAdd < size) {
    throw new SequenceError(`counter ${counterAfterAdd} cannot hold a block of ${size}`);
  }
  return { first: counterAfterAdd - size + 1, last: counterAfterAdd };
}

function blockSize(block: SeqBlock): number {
  return block.last - block.first + 1;
}

/**
 * Hands out numbers from the blocks an emitter reserved, lowest first. Blocks of one emitter need not be
 * contiguous: other emitters reserve in between.
 */
export class SeqAllocator {
  private readonly blocks: SeqBlock[] = [];
  private nextInHead = 0;

  /** Numbers reserved and not handed out yet. */
  get available(): number {
    let total = 0;
    for (let i = 0; i < this.blocks.length; i++) {
      total += blockSize(this.blocks[i]) - (i === 0 ? this.nextInHead : 0);
    }
    return total;
  }

  /** How many numbers to reserve (one ADD) before `pending` events can be numbered. */
  shortfall(pending: number): number {
    return Math.max(0, pending - this.available);
  }

  addBlock(block: SeqBlock): void {
    if (block.first < 1 || block.last < block.first) throw new SequenceError(`bad block ${block.first}..${block.last}`);
    const tail = this.blocks.at(-1);
    if (tail && block.first <= tail.last) {
      throw new SequenceError(`block ${block.first}..${block.last} overlaps or precedes ${tail.first}..${tail.last}`);
    }
    if (this.blocks.length === 0) this.nextInHead = 0;
    this.blocks.push(block);
  }

  /** Takes the next `n` numbers, in increasing order; throws when fewer are reserved. */
  take(n = 1): number[] {
    if (n > this.available) throw new SequenceError(`need ${n} numbers, ${this.available} reserved`);
    const out: number[] = [];
    while (out.length < n) {
      const head = this.blocks[0];
      out.push(head.first + this.nextInHead);
      this.nextInHead++;
      if (head.first + this.nextInHead > head.last) {
        this.blocks.shift();
        this.nextInHead = 0;
      }
    }
    return out;
  }

  /**
   * Gives up every reserved number not handed out. The caller must write a `Noop` filler for each, or the
   * log keeps a hole until a reader fills it after the grace period.
   */
  drainUnused(): number[] {
    return this.available === 0 ? [] : this.take(this.available);
  }
}

/** Numbers in (afterSeq, upTo] that are absent from `present`, ascending. */
export function findHoles(afterSeq: number, upTo: number, present: Iterable<number>): number[] {
  const seen = new Set<number>();
  for (const s of present) if (s > afterSeq && s <= upTo) seen.add(s);
  const holes: number[] = [];
  for (let s = afterSeq + 1; s <= upTo; s++) if (!seen.has(s)) holes.push(s);
  return holes;
}

/**
 * Reorders events that arrive out of seq order (two emitters' Puts commit in either order; a stream
 * batch may be redelivered) into a gap-free, duplicate-free sequence. Time is injected.
 */
export class SeqReorderBuffer<T> {
  private readonly held = new Map<number, T>();
  private nextSeq: number;
  /** When the current hole at nextSeq was first noticed (a later seq arrived before it). */
  private holeSince: number | undefined;
  private highest: number;

  constructor(afterSeq = 0) {
    this.nextSeq = afterSeq + 1;
    this.highest = afterSeq;
  }

  /** The last seq released in order. */
  get lastDelivered(): number {
    return this.nextSeq - 1;
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** Accepts one event; returns the events now deliverable, in seq order. Duplicates are dropped. */
  push(seq: number, value: T, now: number): T[] {
    if (seq < this.nextSeq || this.held.has(seq)) return [];
    this.held.set(seq, value);
    if (seq > this.highest) this.highest = seq;
    const ready: T[] = [];
    while (this.held.has(this.nextSeq)) {
      ready.push(lookup(this.held, this.nextSeq));
      this.held.delete(this.nextSeq);
      this.nextSeq++;
      this.holeSince = undefined;
    }
    if (this.held.size > 0 && this.holeSince === undefined) this.holeSince = now;
    return ready;
  }

  /**
   * Missing numbers below the highest seq seen once the gap has lasted `graceMs`: their emitter is
   * presumed dead, and the caller writes a conditional `Noop` filler for each (then pushes it here).
   */
  overdueHoles(now: number, graceMs: number): number[] {
    if (this.holeSince === undefined || now - this.holeSince < graceMs) return [];
    return findHoles(this.lastDelivered, this.highest, this.held.keys());
  }
}
