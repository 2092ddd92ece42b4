import { BitSet } from './bitset';
import { lookup, present } from '../invariants';

/** A directed graph of named nodes; an edge [from, to] means `to` may start only after `from` ended. */
export interface Dag {
  readonly nodes: readonly string[];
  readonly edges: ReadonlyArray<readonly [string, string]>;
}

/** Node weights (durations); absent nodes weigh 1, so lengths are in step units by default. */
export type Weights = Readonly<Record<string, number>> | ((id: string) => number);

/** Nested series / parallel composition of steps: the shape a Step Functions machine can express. */
export type SpNode =
  | { readonly kind: 'step'; readonly id: string }
  | { readonly kind: 'series'; readonly children: readonly SpNode[] }
  | { readonly kind: 'parallel'; readonly children: readonly SpNode[] };

export interface SpDecomposition {
  readonly tree: SpNode;
  /** True when the DAG's order is series-parallel: the tree imposes no ordering the DAG lacks. */
  readonly seriesParallel: boolean;
  /** Synchronisation points the compiler had to add (one per cut of a non-series-parallel part). */
  readonly syncPoints: number;
  /** Pairs (a, b) the tree orders although the DAG does not: the waiting the sync points add. */
  readonly addedOrderings: number;
}

interface IndexedDag {
  readonly n: number;
  readonly names: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly succs: number[][];
  readonly preds: number[][];
}

function indexDag(dag: Dag): IndexedDag {
  const index = new Map<string, number>();
  dag.nodes.forEach((name, i) => {
    if (index.has(name)) throw new Error(`duplicate node "${name}"`);
    index.set(name, i);
  });
  const n = dag.nodes.length;
  const succs: number[][] = Array.from({ length: n }, () => []);
  const preds: number[][] = Array.from({ length: n }, () => []);
  const seen = new Set<string>();
  for (const [from, to] of dag.edges) {
    const f = index.get(from);
    const t = index.get(to);
    if (f === undefined || t === undefined) throw new Error(`edge ${from} → ${to} names an unknown node`);
    const key = `${f}:${t}`;
    if (seen.has(key)) continue;
    seen.add(key);
    succs[f].push(t);
    preds[t].push(f);
  }
  return { n, names: dag.nodes, index, succs, preds };
}

function weightOf(weights: Weights | undefined): (id: string) => number {
  if (weights === undefined) return () => 1;
  if (typeof weights === 'function') return weights;
  return (id) => weights[id] ?? 1;
}

function topoIndices(g: IndexedDag): number[] | undefined {
  const indegree = g.preds.map((p) => p.length);
  const queue: number[] = [];
  for (let i = 0; i < g.n; i++) if (indegree[i] === 0) queue.push(i);
  const order: number[] = [];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head];
    order.push(v);
    for (const s of g.succs[v]) {
      indegree[s]--;
      if (indegree[s] === 0) queue.push(s);
    }
  }
  return order.length === g.n ? order : undefined;
}

/** Kahn's order, stable with respect to the node list; undefined when the graph has a cycle. */
export function topologicalOrder(dag: Dag): string[] | undefined {
  const g = indexDag(dag);
  return topoIndices(g)?.map((i) => g.names[i]);
}

function suffixMax(values: number[]): number[] {
  const out = new Array<number>(values.length + 1).fill(0);
  for (let i = values.length - 1; i >= 0; i--) out[i] = Math.max(out[i + 1], values[i]);
  return out;
}

function suffixSum(values: number[]): number[] {
  const out = new Array<number>(values.length + 1).fill(0);
  for (let i = values.length - 1; i >= 0; i--) out[i] = out[i + 1] + values[i];
  return out;
}

/**
 * One simple cycle per strongly connected component that has one (self-loops included), each starting at
 * the component's first node in list order and not repeating it at the end.
 */
export function findCycles(dag: Dag): string[][] {
  const g = indexDag(dag);
  const cycles: string[][] = [];
  for (const scc of stronglyConnectedComponents(g)) {
    const start = Math.min(...scc);
    const inScc = new Set(scc);
    if (scc.length === 1 && !g.succs[start].includes(start)) continue;
    cycles.push(shortestCycleThrough(g, start, inScc).map((i) => g.names[i]));
  }
  return cycles.sort((a, b) => lookup(g.index, a[0]) - lookup(g.index, b[0]));
}

/** `a → b → c → a` */
export function formatCycle(cycle: readonly string[]): string {
  return [...cycle, cycle[0]].join(' → ');
}

function stronglyConnectedComponents(g: IndexedDag): number[][] {
  // Iterative Tarjan: a 1,000-step chain would otherwise recurse 1,000 frames deep per call site.
  const index = new Array<number>(g.n).fill(-1);
  const low = new Array<number>(g.n).fill(0);
  const onStack = new Array<boolean>(g.n).fill(false);
  const stack: number[] = [];
  const result: number[][] = [];
  let counter = 0;
  for (let root = 0; root < g.n; root++) {
    if (index[root] !== -1) continue;
    const work: Array<[number, number]> = [[root, 0]];
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [v, i] = frame;
      if (i === 0) {
        index[v] = low[v] = counter++;
        stack.push(v);
        onStack[v] = true;
      }
      const succ = g.succs[v];
      if (i < succ.length) {
        frame[1] = i + 1;
        const w = succ[i];
        if (index[w] === -1) work.push([w, 0]);
        else if (onStack[w]) low[v] = Math.min(low[v], index[w]);
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low[parent] = Math.min(low[parent], low[v]);
      }
      if (low[v] === index[v]) {
        const component: number[] = [];
        let w: number;
        do {
          w = present(stack.pop(), 'the component\'s stack entry');
          onStack[w] = false;
          component.push(w);
        } while (w !== v);
        result.push(component);
      }
    }
  }
  return result;
}

function shortestCycleThrough(g: IndexedDag, start: number, within: ReadonlySet<number>): number[] {
  const parent = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head];
    for (const w of [...g.succs[v]].sort((a, b) => a - b)) {
      if (!within.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[path.length - 1] !== start) path.push(lookup(parent, path[path.length - 1]));
        return path.reverse();
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

interface Closure {
  readonly order: number[];
  readonly position: number[];
  /** descendants[v]: every node reachable from v (v excluded). */
  readonly descendants: BitSet[];
  readonly ancestors: BitSet[];
}

function closureOf(g: IndexedDag): Closure {
  const order = topoIndices(g);
  if (order === undefined) throw new Error('the graph has a cycle');
  const position = new Array<number>(g.n);
  order.forEach((v, p) => (position[v] = p));
  const descendants = Array.from({ length: g.n }, () => new BitSet(g.n));
  const ancestors = Array.from({ length: g.n }, () => new BitSet(g.n));
  for (let p = order.length - 1; p >= 0; p--) {
    const v = order[p];
    for (const s of g.succs[v]) {
      descendants[v].add(s);
      descendants[v].orWith(descendants[s]);
    }
  }
  for (const v of order) {
    for (const q of g.preds[v]) {
      ancestors[v].add(q);
      ancestors[v].orWith(ancestors[q]);
    }
  }
  return { order, position, descendants, ancestors };
}

/** The fewest edges with the same reachability (unique for a DAG). Throws on a cycle. */
export function transitiveReduction(dag: Dag): Array<[string, string]> {
  const g = indexDag(dag);
  const { descendants } = closureOf(g);
  const kept: Array<[string, string]> = [];
  for (let u = 0; u < g.n; u++) {
    for (const v of g.succs[u]) {
      const implied = g.succs[u].some((w) => w !== v && descendants[w].has(v));
      if (!implied) kept.push([g.names[u], g.names[v]]);
    }
  }
  return kept;
}

/** Longest weighted path; `length` is in step units unless weights are given. Throws on a cycle. */
export function criticalPath(dag: Dag, weights?: Weights): { length: number; path: string[] } {
  const g = indexDag(dag);
  const order = topoIndices(g);
  if (order === undefined) throw new Error('the graph has a cycle');
  const w = weightOf(weights);
  const finish = new Array<number>(g.n).fill(0);
  const via = new Array<number>(g.n).fill(-1);
  for (const v of order) {
    let start = 0;
    for (const p of g.preds[v]) {
      if (via[v] === -1 || finish[p] > start) {
        start = finish[p];
        via[v] = p;
      }
    }
    finish[v] = start + w(g.names[v]);
  }
  let end = -1;
  for (const v of order) if (end === -1 || finish[v] > finish[end]) end = v;
  const path: string[] = [];
  for (let v = end; v !== -1; v = via[v]) path.push(g.names[v]);
  return { length: end === -1 ? 0 : finish[end], path: path.reverse() };
}

/** Length of the longest chain a series-parallel tree imposes (series adds, parallel takes the max). */
export function spTreeCriticalPath(tree: SpNode, weights?: Weights): number {
  const w = weightOf(weights);
  const walk = (node: SpNode): number => {
    switch (node.kind) {
      case 'step':
        return w(node.id);
      case 'series':
        return node.children.reduce((sum, c) => sum + walk(c), 0);
      case 'parallel':
        return node.children.reduce((max, c) => Math.max(max, walk(c)), 0);
    }
  };
  return walk(tree);
}

/** The tree's first step in topological order (parallel children are ordered by their first step). */
export function spTreeFirstStep(tree: SpNode): string {
  let node = tree;
  while (node.kind !== 'step') node = present(node.children[0], 'a composite node\'s first child');
  return node.id;
}

/** Steps of a tree in execution-compatible order. */
export function spTreeSteps(tree: SpNode): string[] {
  if (tree.kind === 'step') return [tree.id];
  return tree.children.flatMap(spTreeSteps);
}

/**
 * Decomposes the DAG's order into nested series and parallel parts. Series-parallel orders (no "N" shape)
 * decompose exactly. A part that does not decompose is cut in two at a synchronisation point: every step of
 * the first half ends before any of the second starts. The cut is the one that keeps the weighted critical
 * path shortest, then the one that adds the fewest orderings; with unit weights some cut always keeps the
 * critical path unchanged, so the cost of a non-series-parallel DAG shows only with unequal durations.
 * Throws on a cycle or an empty graph.
 */
export function decomposeSeriesParallel(dag: Dag, options: { weights?: Weights } = {}): SpDecomposition {
  const g = indexDag(dag);
  if (g.n === 0) throw new Error('the graph is empty');
  const closure = closureOf(g);
  const w = weightOf(options.weights);
  const weight = g.names.map((name) => w(name));
  const comparable = closure.descendants.map((d, v) => {
    const c = d.clone();
    c.orWith(closure.ancestors[v]);
    return c;
  });
  let syncPoints = 0;
  let addedOrderings = 0;

  const byPosition = (a: number, b: number) => closure.position[a] - closure.position[b];

  /** Connected components of `set` under "comparable" (parallel parts) or "incomparable" (series parts). */
  const components = (set: BitSet, incomparable: boolean): number[][] => {
    const remaining = set.clone();
    const found: number[][] = [];
    for (const start of set.toArray()) {
      if (!remaining.has(start)) continue;
      remaining.delete(start);
      const members = [start];
      for (let head = 0; head < members.length; head++) remaining.takeInto(comparable[members[head]], incomparable, members);
      found.push(members.sort(byPosition));
    }
    return found.sort((a, b) => byPosition(a[0], b[0]));
  };

  const flattenSeries = (nodes: SpNode[]): SpNode[] =>
    nodes.flatMap((node) => (node.kind === 'series' ? [...node.children] : [node]));

  /** `members` are in topological position order. */
  const decompose = (members: number[]): SpNode => {
    if (members.length === 1) return { kind: 'step', id: g.names[members[0]] };
    const set = BitSet.of(g.n, members);
    const parallelParts = components(set, false);
    if (parallelParts.length > 1) return { kind: 'parallel', children: parallelParts.map(decompose) };
    const seriesParts = components(set, true);
    if (seriesParts.length > 1) return { kind: 'series', children: flattenSeries(seriesParts.map(decompose)) };
    const [first, second, added] = cut(members, set);
    syncPoints++;
    addedOrderings += added;
    return { kind: 'series', children: flattenSeries([decompose(first), decompose(second)]) };
  };

  /** Picks a down-set / up-set split of a part that neither splits into parallel nor series parts. */
  const cut = (ordered: number[], set: BitSet): [number[], number[], number] => {
    const finish = new Map<number, number>();
    for (const v of ordered) {
      let start = 0;
      for (const p of g.preds[v]) if (set.has(p)) start = Math.max(start, lookup(finish, p));
      finish.set(v, start + weight[v]);
    }
    const tail = new Map<number, number>();
    for (let i = ordered.length - 1; i >= 0; i--) {
      const v = ordered[i];
      let rest = 0;
      for (const s of g.succs[v]) if (set.has(s)) rest = Math.max(rest, lookup(tail, s));
      tail.set(v, rest + weight[v]);
    }
    // Orderings a cut adds: |A|·|B| minus the DAG's pairs across it. A is a down-set, so every ancestor within
    // the part of a member of A is in A: the pairs across are Σ over A of (descendants − ancestors) within the part.
    const balance = new Map<number, number>();
    for (const v of ordered) {
      balance.set(v, closure.descendants[v].intersectionSize(set) - closure.ancestors[v].intersectionSize(set));
    }
    const size = ordered.length;
    let best: { first: number[]; cost: number; added: number } | undefined;
    const consider = (first: () => number[], firstSize: number, cost: number, across: number) => {
      const added = firstSize * (size - firstSize) - across;
      if (best === undefined || cost < best.cost - 1e-9 || (cost <= best.cost + 1e-9 && added < best.added)) {
        best = { first: first(), cost, added };
      }
    };
    // Sorted by finish (then position), every prefix is a down-set: an ancestor never finishes later and,
    // when it finishes at the same time (zero weights), comes first in topological position.
    const byFinish = [...ordered].sort((a, b) => lookup(finish, a) - lookup(finish, b) || byPosition(a, b));
    const restTail = suffixMax(byFinish.map((v) => lookup(tail, v)));
    let firstPath = 0;
    let across = 0;
    for (let i = 0; i < size - 1; i++) {
      firstPath = Math.max(firstPath, lookup(finish, byFinish[i]));
      across += lookup(balance, byFinish[i]);
      consider(() => byFinish.slice(0, i + 1), i + 1, firstPath + restTail[i + 1], across);
    }
    // Sorted by tail (then reverse position), every prefix is an up-set: the second half, built from the sinks.
    const byTail = [...ordered].sort((a, b) => lookup(tail, a) - lookup(tail, b) || byPosition(b, a));
    const restFinish = suffixMax(byTail.map((v) => lookup(finish, v)));
    const restBalance = suffixSum(byTail.map((v) => lookup(balance, v)));
    let secondPath = 0;
    for (let i = 0; i < size - 1; i++) {
      secondPath = Math.max(secondPath, lookup(tail, byTail[i]));
      consider(() => byTail.slice(i + 1), size - i - 1, restFinish[i + 1] + secondPath, restBalance[i + 1]);
    }
    if (best === undefined) throw new Error('a part with fewer than two steps cannot be cut');
    const { first, added } = best as { first: number[]; added: number };
    const inFirst = new Set(first);
    return [ordered.filter((v) => inFirst.has(v)), ordered.filter((v) => !inFirst.has(v)), added];
  };

  const tree = decompose([...closure.order]);
  return { tree, seriesParallel: syncPoints === 0, syncPoints, addedOrderings };
}
