import { compileWorkflow, workflowDag } from '../lambdas/core/workflow/compile';
import { criticalPath, decomposeSeriesParallel, spTreeCriticalPath } from '../lambdas/core/workflow/graph';
import type { WorkflowDefinition, WorkflowStep } from '../lambdas/core/workflow/schema';
import { validateWorkflow } from '../lambdas/core/workflow/validate';
import { seededRandom } from './stats';

export interface BenchMetric {
  name: string;
  value: number;
  unit: string;
}

const FUNCTIONS = {
  gate: 'arn:aws:lambda:us-east-1:123456789012:function:agentplane-gate',
  reporter: 'arn:aws:lambda:us-east-1:123456789012:function:agentplane-reporter',
};


const pick = (rng: () => number, n: number) => Math.floor(rng() * n);

/** Each step depends on up to three of the 20 steps before it: wide, deep and rarely series-parallel. */
function randomDeps(n: number, rng: () => number): number[][] {
  return Array.from({ length: n }, (_, i) => {
    if (i === 0) return [];
    const count = pick(rng, 4);
    const deps = new Set<number>();
    for (let k = 0; k < count; k++) deps.add(Math.max(0, i - 1 - pick(rng, Math.min(i, 20))));
    return [...deps].sort((a, b) => a - b);
  });
}

/** Random series-parallel DAG: nested series / parallel blocks, series joins linking sinks to sources. */
function seriesParallelDeps(n: number, rng: () => number): number[][] {
  const deps: number[][] = [];
  const build = (size: number): { sources: number[]; sinks: number[] } => {
    if (size === 1) {
      deps.push([]);
      return { sources: [deps.length - 1], sinks: [deps.length - 1] };
    }
    const parts = Math.min(size, 2 + pick(rng, 3));
    const sizes = Array.from({ length: parts }, () => 1);
    for (let rest = size - parts; rest > 0; rest--) sizes[pick(rng, parts)]++;
    const built = sizes.map(build);
    if (rng() < 0.5) return { sources: built.flatMap((b) => b.sources), sinks: built.flatMap((b) => b.sinks) };
    for (let i = 1; i < built.length; i++) for (const s of built[i].sources) deps[s] = [...built[i - 1].sinks];
    return { sources: built[0].sources, sinks: built[built.length - 1].sinks };
  };
  build(n);
  return deps;
}

function definitionOf(deps: number[][], rng: () => number): WorkflowDefinition {
  const steps: WorkflowStep[] = deps.map((ds, i) => ({
    id: `s${i}`,
    capability: { skill: `skill-${i % 7}` },
    ...(ds.length > 0 ? { dependsOn: ds.map((d) => `s${d}`) } : {}),
    ...(rng() < 0.2 ? { forEach: 'inputs', batchSize: 10 } : {}),
    ...(rng() < 0.1 ? { when: { param: 'mode', equals: 'full' } } : {}),
  }));
  return { id: 'bench', parameters: { mode: { type: 'string', enum: ['full', 'quick'], default: 'full' } }, steps };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

function compileTime(steps: number, repetitions: number): number {
  const rng = seededRandom(steps);
  const definition = definitionOf(randomDeps(steps, rng), rng);
  const times: number[] = [];
  for (let r = 0; r < repetitions; r++) {
    const started = performance.now();
    const validation = validateWorkflow(definition);
    if (!validation.ok || !validation.definition) throw new Error(`bench definition is invalid: ${JSON.stringify(validation.errors[0])}`);
    compileWorkflow(validation.definition, { functions: FUNCTIONS });
    times.push(performance.now() - started);
  }
  return median(times);
}

interface Ratios {
  unit: number[];
  /** Durations drawn from 1..10, unknown to the compiler (it cuts for unit steps). */
  weightedBlind: number[];
  /** The same durations, given to the compiler as stepWeights. */
  weightedInformed: number[];
  syncPoints: number[];
}

function makespanRatios(count: number, generate: (n: number, rng: () => number) => number[][], seed: number): Ratios {
  const rng = seededRandom(seed);
  const ratios: Ratios = { unit: [], weightedBlind: [], weightedInformed: [], syncPoints: [] };
  for (let g = 0; g < count; g++) {
    const definition = definitionOf(generate(5 + pick(rng, 56), rng), rng);
    const { report } = compileWorkflow(definition, { functions: FUNCTIONS });
    ratios.unit.push(report.criticalPathCompiled / report.criticalPathDag);
    ratios.syncPoints.push(report.addedSyncPoints);
    const dag = workflowDag(definition);
    const weights = Object.fromEntries(definition.steps.map((s) => [s.id, 1 + pick(rng, 10)]));
    const ideal = criticalPath(dag, weights).length;
    ratios.weightedBlind.push(spTreeCriticalPath(decomposeSeriesParallel(dag).tree, weights) / ideal);
    ratios.weightedInformed.push(spTreeCriticalPath(decomposeSeriesParallel(dag, { weights }).tree, weights) / ideal);
  }
  return ratios;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const max = (values: number[]) => Math.max(...values);

/**
 * Validate+compile time for 10-, 100- and 1,000-step DAGs, and the makespan ratio (compiled critical path over
 * the DAG's) over 200 random DAGs and 200 series-parallel ones. In step units the compiler's synchronisation
 * never lengthens the critical path; the weighted ratios show what it costs when steps take unequal time.
 */
export function runWorkflowBench(): BenchMetric[] {
  const metrics: BenchMetric[] = [];
  for (const [steps, repetitions] of [
    [10, 50],
    [100, 10],
    [1000, 3],
  ] as const) {
    metrics.push({ name: `workflow.validate+compile.${steps}-steps`, value: round(compileTime(steps, repetitions)), unit: 'ms' });
  }
  const random200 = makespanRatios(200, randomDeps, 7);
  const sp200 = makespanRatios(200, seriesParallelDeps, 11);
  metrics.push(
    { name: 'workflow.makespan-ratio.random.mean', value: round(mean(random200.unit), 4), unit: 'ratio' },
    { name: 'workflow.makespan-ratio.random.max', value: round(max(random200.unit), 4), unit: 'ratio' },
    { name: 'workflow.makespan-ratio.series-parallel.mean', value: round(mean(sp200.unit), 4), unit: 'ratio' },
    { name: 'workflow.makespan-ratio.series-parallel.max', value: round(max(sp200.unit), 4), unit: 'ratio' },
    { name: 'workflow.makespan-ratio.random.weighted-blind.mean', value: round(mean(random200.weightedBlind), 4), unit: 'ratio' },
    { name: 'workflow.makespan-ratio.random.weighted-blind.max', value: round(max(random200.weightedBlind), 4), unit: 'ratio' },
    { name: 'workflow.makespan-ratio.random.weighted-informed.mean', value: round(mean(random200.weightedInformed), 4), unit: 'ratio' },
    { name: 'workflow.makespan-ratio.random.weighted-informed.max', value: round(max(random200.weightedInformed), 4), unit: 'ratio' },
    { name: 'workflow.makespan-ratio.series-parallel.weighted.max', value: round(max(sp200.weightedBlind), 4), unit: 'ratio' },
    { name: 'workflow.sync-points.random.mean', value: round(mean(random200.syncPoints), 2), unit: 'count' },
  );
  return metrics;
}
