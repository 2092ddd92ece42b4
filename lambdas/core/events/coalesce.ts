/**
 * ItemProgress coalescing, pure: the caller passes the clock and decides when to call `flushDue`
 * (before each emit, on its own timer using `nextDueAt`, or at the end of an invocation).
 *
 * Per item, at most `maxPerWindow` progress events are released in any `windowMs` (sliding window over
 * the release times). A progress offered while the item is over its rate is held; a later one replaces
 * it (progress and tokensUsed are cumulative, so the latest says everything the earlier said). A held
 * progress is released by `flushDue` once the window has room.
 *
 * At the end of an item (`settle`):
 * - completed: the held progress is dropped. ItemCompleted implies progress 1 and carries the final
 *   tokens in its metrics, so nothing is lost.
 * - failed: the held progress is returned, for the caller to fold into ItemFailed.lastProgress. It says
 *   how far the item got and how many tokens it burnt, which ItemFailed does not otherwise carry.
 *   Folding keeps the rate bound strict (no extra event right before the failure).
 */

/** The coalescing key of an item: progress is rate-limited per item of a step of a run. */
export function progressKey(runId: string, stepId: string, item: string): string {
  return JSON.stringify([runId, stepId, item]);
}

export interface ProgressUpdate {
  progress: number;
  tokensUsed: number;
  etaMs?: number;
  /** The item's spend so far (cumulative, like tokensUsed), when its agent reports it. */
  costUsd?: number;
}

export interface CoalescerOptions {
  /** K: progress events released per item per window. */
  maxPerWindow?: number;
  windowMs?: number;
}

interface ItemState<T> {
  /** Release times inside the current window, oldest first; length <= maxPerWindow. */
  releases: number[];
  held: T | undefined;
  lastReleased: T | undefined;
}

export interface Released<T> {
  key: string;
  update: T;
}

export class ProgressCoalescer<T extends ProgressUpdate = ProgressUpdate> {
  private readonly maxPerWindow: number;
  private readonly windowMs: number;
  private readonly items = new Map<string, ItemState<T>>();

  constructor(options: CoalescerOptions = {}) {
    this.maxPerWindow = options.maxPerWindow ?? 2;
    this.windowMs = options.windowMs ?? 1000;
    if (!Number.isInteger(this.maxPerWindow) || this.maxPerWindow < 1) throw new RangeError('maxPerWindow must be a positive integer');
    if (!(this.windowMs > 0)) throw new RangeError('windowMs must be positive');
  }

  /** Items with state (in-flight or with recent releases). */
  get trackedItems(): number {
    return this.items.size;
  }

  /**
   * Offers a progress update for an item (key: run, step and item). Returns the update if it may be
   * emitted now, undefined if it is held (or is no news).
   */
  offer(key: string, update: T, now: number): T | undefined {
    let state = this.items.get(key);
    if (!state) {
      state = { releases: [], held: undefined, lastReleased: undefined };
      this.items.set(key, state);
    }
    const reference = state.held ?? state.lastReleased;
    if (reference && sameProgress(reference, update)) return undefined;
    this.expire(state, now);
    if (state.releases.length < this.maxPerWindow) {
      state.held = undefined;
      return this.release(state, update, now);
    }
    state.held = update;
    return undefined;
  }

  /** Releases held updates whose item has room in its window again. */
  flushDue(now: number): Released<T>[] {
    const out: Released<T>[] = [];
    for (const [key, state] of this.items) {
      this.expire(state, now);
      if (state.held && state.releases.length < this.maxPerWindow) {
        const update = state.held;
        state.held = undefined;
        out.push({ key, update: this.release(state, update, now) });
      } else if (!state.held && state.releases.length === 0) {
        // Nothing held and nothing in the window: forget the item so abandoned items do not pile up.
        this.items.delete(key);
      }
    }
    return out;
  }

  /** The earliest time a held update can be released, for the caller's timer. */
  nextDueAt(): number | undefined {
    let due: number | undefined;
    for (const state of this.items.values()) {
      // An update is only held while its window is full, so the oldest release says when room opens.
      if (!state.held) continue;
      const at = state.releases[0] + this.windowMs;
      if (due === undefined || at < due) due = at;
    }
    return due;
  }

  /**
   * Ends an item. For 'failed', returns the held progress to fold into ItemFailed.lastProgress; for
   * 'completed' the held progress is superseded and dropped.
   */
  settle(key: string, outcome: 'completed' | 'failed'): T | undefined {
    const state = this.items.get(key);
    this.items.delete(key);
    if (!state || outcome === 'completed') return undefined;
    return state.held;
  }

  /**
   * Releases every held update regardless of rate and forgets all items: for an invocation that ends
   * with items unsettled (timeout, cancel). The one place the rate bound may be exceeded, by at most one
   * event per item, once.
   */
  drain(): Released<T>[] {
    const out: Released<T>[] = [];
    for (const [key, state] of this.items) if (state.held) out.push({ key, update: state.held });
    this.items.clear();
    return out;
  }

  private release(state: ItemState<T>, update: T, now: number): T {
    state.releases.push(now);
    state.lastReleased = update;
    return update;
  }

  private expire(state: ItemState<T>, now: number): void {
    while (state.releases.length > 0 && state.releases[0] <= now - this.windowMs) state.releases.shift();
  }
}

function sameProgress(a: ProgressUpdate, b: ProgressUpdate): boolean {
  return a.progress === b.progress && a.tokensUsed === b.tokensUsed && a.costUsd === b.costUsd;
}
