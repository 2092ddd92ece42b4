import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  criticalPath,
  decomposeSeriesParallel,
  findCycles,
  formatCycle,
  spTreeCriticalPath,
  spTreeSteps,
  topologicalOrder,
  transitiveReduction,
  type Dag,
  type SpNode,
} from '../../../lambdas/core/workflow/graph';
import { dagArb, spDagArb } from './support/workflows';

const dag = (nodes: string, edges: string): Dag => ({
  nodes: nodes.split(' '),
  edges: edges === '' ? [] : edges.split(' ').map((e) => e.split('>') as [string, string]),
});

const fromDeps = (deps: number[][]): Dag => ({
  nodes: deps.map((_, i) => `s${i}`),
  edges: deps.flatMap((ds, i) => ds.map((d) => [`s${d}`, `s${i}`] as const)),
});

/** Ordered pairs (a before b) a tree imposes. */
function treePairs(tree: SpNode): number {
  if (tree.kind === 'step') return 0;
  const inner = tree.children.reduce((sum, c) => sum + treePairs(c), 0);
  if (tree.kind === 'parallel') return inner;
  const sizes = tree.children.map((c) => spTreeSteps(c).length);
  let across = 0;
  let before = 0;
  for (const size of sizes) {
    across += before * size;
    before += size;
  }
  return inner + across;
}

/** Whether the tree runs `from` entirely before `to`. */
function treeOrders(tree: SpNode, from: string, to: string): boolean {
  if (tree.kind === 'step') return false;
  const holder = (id: string) => tree.children.findIndex((c) => spTreeSteps(c).includes(id));
  const i = holder(from);
  const j = holder(to);
  if (i === j) return treeOrders(tree.children[i], from, to);
  return tree.kind === 'series' && i < j;
}

function comparablePairs(graph: Dag): number {
  const succ = new Map(graph.nodes.map((n) => [n, [] as string[]]));
  for (const [a, b] of graph.edges) succ.get(a)!.push(b);
  let pairs = 0;
  for (const start of graph.nodes) {
    const seen = new Set<string>();
    const stack = [...succ.get(start)!];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...succ.get(n)!);
    }
    pairs += seen.size;
  }
  return pairs;
}

describe('Function: topologicalOrder', () => {
  it('should order dependencies first, keeping the list order among independent nodes', () => {
    expect(topologicalOrder(dag('d c b a', 'a>b c>b b>d'))).toEqual(['c', 'a', 'b', 'd']);
  });

  it('should return undefined for a cyclic graph', () => {
    expect(topologicalOrder(dag('a b', 'a>b b>a'))).toBeUndefined();
  });
});

describe('Function: findCycles', () => {
  it('should return one cycle per strongly connected component, self-loops included', () => {
    // Act
    const cycles = findCycles(dag('a b c d e f', 'a>b b>c c>a c>d d>e e>d f>f'));

    // Assert
    expect(cycles.map(formatCycle)).toEqual(['a → b → c → a', 'd → e → d', 'f → f']);
  });

  it('should find nothing in a DAG', () => {
    expect(findCycles(dag('a b c', 'a>b b>c a>c'))).toEqual([]);
  });
});

describe('Function: transitiveReduction', () => {
  it('should drop edges implied by longer paths', () => {
    expect(transitiveReduction(dag('a b c d', 'a>b b>c a>c a>d c>d'))).toEqual([
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
    ]);
  });
});

describe('Function: criticalPath', () => {
  it('should count steps by default and honour weights', () => {
    const graph = dag('a b c d', 'a>b b>d c>d');
    expect(criticalPath(graph)).toEqual({ length: 3, path: ['a', 'b', 'd'] });
    expect(criticalPath(graph, { c: 10 })).toEqual({ length: 11, path: ['c', 'd'] });
  });
});

describe('Function: decomposeSeriesParallel', () => {
  it('should decompose a diamond exactly', () => {
    // Act
    const result = decomposeSeriesParallel(dag('a b c d', 'a>b a>c b>d c>d'));

    // Assert
    expect(result).toEqual({
      tree: {
        kind: 'series',
        children: [
          { kind: 'step', id: 'a' },
          { kind: 'parallel', children: [{ kind: 'step', id: 'b' }, { kind: 'step', id: 'c' }] },
          { kind: 'step', id: 'd' },
        ],
      },
      seriesParallel: true,
      syncPoints: 0,
      addedOrderings: 0,
    });
  });

  it('should see through redundant edges', () => {
    expect(decomposeSeriesParallel(dag('a b c', 'a>b b>c a>c')).seriesParallel).toBe(true);
  });

  it('should add one synchronisation point to an N-shaped DAG without lengthening it in step units', () => {
    // Arrange: a → c ← b → d (d need not wait for a)
    const graph = dag('a b c d', 'a>c b>c b>d');

    // Act
    const result = decomposeSeriesParallel(graph);

    // Assert
    expect(result).toMatchObject({ seriesParallel: false, syncPoints: 1, addedOrderings: 1 });
    expect(spTreeCriticalPath(result.tree)).toBe(criticalPath(graph).length);
  });

  it('should choose the cut that costs least with unequal durations', () => {
    // Arrange
    const graph = dag('a b c d', 'a>c b>c b>d');
    const weights = { a: 5, b: 1, c: 1, d: 5 };

    // Act
    const result = decomposeSeriesParallel(graph, { weights });

    // Assert: 7 against an ideal 6; cutting after {a, b} would cost 10.
    expect(criticalPath(graph, weights).length).toBe(6);
    expect(spTreeCriticalPath(result.tree, weights)).toBe(7);
  });

  it('should keep every DAG ordering, add none to series-parallel DAGs and keep the unit critical path', () => {
    fc.assert(
      fc.property(fc.oneof(dagArb(60), spDagArb(60)), (deps) => {
        // Arrange
        const graph = fromDeps(deps);

        // Act
        const result = decomposeSeriesParallel(graph);

        // Assert
        expect(spTreeSteps(result.tree).sort()).toEqual([...graph.nodes].sort());
        for (const [a, b] of graph.edges) expect(treeOrders(result.tree, a, b)).toBe(true);
        expect(treePairs(result.tree) - comparablePairs(graph)).toBe(result.addedOrderings);
        expect(result.seriesParallel).toBe(result.addedOrderings === 0);
        expect(spTreeCriticalPath(result.tree)).toBe(criticalPath(graph).length);
      }),
      { numRuns: 200 },
    );
  });

  it('should recognise every series-parallel DAG', () => {
    fc.assert(
      fc.property(spDagArb(60), (deps) => {
        expect(decomposeSeriesParallel(fromDeps(deps)).seriesParallel).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
