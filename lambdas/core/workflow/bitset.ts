/** Fixed-size bit set: reachability over 1,000 steps is a million pairs, which plain Sets make slow. */
export class BitSet {
  readonly words: Uint32Array;

  constructor(readonly size: number, words?: Uint32Array) {
    this.words = words ?? new Uint32Array((size + 31) >>> 5);
  }

  static of(size: number, members: Iterable<number>): BitSet {
    const set = new BitSet(size);
    for (const m of members) set.add(m);
    return set;
  }

  clone(): BitSet {
    return new BitSet(this.size, this.words.slice());
  }

  add(i: number): void {
    this.words[i >>> 5] |= 1 << (i & 31);
  }

  delete(i: number): void {
    this.words[i >>> 5] &= ~(1 << (i & 31));
  }

  has(i: number): boolean {
    return (this.words[i >>> 5] & (1 << (i & 31))) !== 0;
  }

  orWith(other: BitSet): void {
    for (let w = 0; w < this.words.length; w++) this.words[w] |= other.words[w];
  }

  /** |this ∩ other| without allocating. */
  intersectionSize(other: BitSet): number {
    let n = 0;
    for (let w = 0; w < this.words.length; w++) n += popcount(this.words[w] & other.words[w]);
    return n;
  }

  /**
   * Moves the members of this set that are in `mask` (or, with `outside`, not in it) to `into`, deleting them
   * here: one breadth-first step of a component search, without allocating a set per visited node.
   */
  takeInto(mask: BitSet, outside: boolean, into: number[]): void {
    for (let w = 0; w < this.words.length; w++) {
      let word = this.words[w] & (outside ? ~mask.words[w] : mask.words[w]);
      if (word === 0) continue;
      this.words[w] &= ~word;
      while (word !== 0) {
        const bit = word & -word;
        into.push((w << 5) + 31 - Math.clz32(bit));
        word ^= bit;
      }
    }
  }

  /** Members in ascending order. */
  toArray(): number[] {
    const out: number[] = [];
    for (let w = 0; w < this.words.length; w++) {
      let word = this.words[w];
      while (word !== 0) {
        const bit = word & -word;
        out.push((w << 5) + 31 - Math.clz32(bit));
        word ^= bit;
      }
    }
    return out;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
