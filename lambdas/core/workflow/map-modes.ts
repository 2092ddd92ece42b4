import {
  AGENT_PASSES,
  HISTORY_EVENTS,
  inlineItemsWithin,
  inlineMapEvents,
  planEvents,
  stepEvents,
  type StepShape,
} from './history';
import type { WorkflowStep } from './schema';
import { lookup } from '../invariants';

export interface MapPlanInput {
  steps: readonly WorkflowStep[];
  conditional: ReadonlySet<string>;
  parallelStates: number;
  distributedThreshold: number;
  expectedItems: Readonly<Record<string, number>>;
  historyEventLimit: number;
}

export interface MapPlan {
  shapes: Map<string, StepShape>;
  /** Worst-case events of the whole execution with the chosen modes; above the limit only when even a
   * fully distributed machine is. */
  maxHistoryEvents: number;
}

/**
 * Chooses inline, distributed or adaptive for each fan-out step, so that the execution's worst-case history
 * stays within the limit:
 * - `distributed: true`, and expected counts above the threshold, go distributed;
 * - fan-outs with a known count are placed inline, cheapest first, while their worst case fits what the rest
 *   of the machine leaves; those that do not fit go distributed;
 * - what is left is shared equally by the inline fan-outs (raising the item count each accepts, up to the
 *   threshold) and by the fan-outs of unknown count, which become adaptive (inline up to their allowance,
 *   distributed above it, chosen at run time on the gate's item count) or distributed when the share does not
 *   buy a single item.
 */
export function planMapModes(input: MapPlanInput): MapPlan {
  const expected = expectedCounts(input.steps, input.expectedItems);
  const shapes = new Map<string, StepShape>();
  const known: WorkflowStep[] = [];
  let unknown: WorkflowStep[] = [];
  for (const step of input.steps) {
    const conditional = input.conditional.has(step.id);
    if (step.forEach === undefined) {
      shapes.set(step.id, { conditional, mode: 'single', inlineItems: 0 });
      continue;
    }
    const count = expected.get(step.id);
    const forced = step.distributed === true || (count !== undefined && count > input.distributedThreshold);
    shapes.set(step.id, { conditional, mode: forced ? 'distributed' : count === undefined ? 'adaptive' : 'inline', inlineItems: 0 });
    if (forced) continue;
    if (count === undefined) unknown.push(step);
    else known.push(step);
  }
  const shapeOf = (step: WorkflowStep) => lookup(shapes, step.id);
  const demote = (step: WorkflowStep) => {
    shapeOf(step).mode = 'distributed';
    shapeOf(step).inlineItems = 0;
  };
  const total = () =>
    HISTORY_EVENTS.execution +
    planEvents(input.conditional.size) +
    input.parallelStates * HISTORY_EVENTS.parallel +
    input.steps.reduce((sum, step) => sum + stepEvents(step, shapeOf(step)), 0);

  // Fallback passes of single steps first, as many as fit with every fan-out at its cheapest.
  const singles = [...shapes.values()].filter((shape) => shape.mode === 'single');
  for (let passes: number = AGENT_PASSES.single; passes >= 1; passes--) {
    for (const shape of singles) shape.passes = passes;
    if (total() <= input.historyEventLimit) break;
  }

  const cost = (step: WorkflowStep) => inlineMapEvents(step, lookup(expected, step.id));
  const inline: WorkflowStep[] = [];
  for (const step of [...known].sort((a, b) => cost(a) - cost(b))) {
    shapeOf(step).inlineItems = lookup(expected, step.id);
    if (total() <= input.historyEventLimit) inline.push(step);
    else demote(step);
  }

  for (;;) {
    for (const step of inline) shapeOf(step).inlineItems = lookup(expected, step.id);
    for (const step of unknown) shapeOf(step).inlineItems = 0;
    const pool = inline.length + unknown.length;
    const share = pool === 0 ? 0 : Math.max(0, input.historyEventLimit - total()) / pool;
    const starved = unknown.filter((step) => inlineItemsWithin(step, share + HISTORY_EVENTS.inlineMap) < 1);
    if (starved.length > 0) {
      starved.forEach(demote);
      unknown = unknown.filter((step) => !starved.includes(step));
      continue;
    }
    for (const step of unknown) {
      shapeOf(step).inlineItems = Math.min(input.distributedThreshold, inlineItemsWithin(step, share + HISTORY_EVENTS.inlineMap));
    }
    for (const step of inline) {
      const raised = inlineItemsWithin(step, cost(step) + share);
      shapeOf(step).inlineItems = Math.max(lookup(expected, step.id), Math.min(input.distributedThreshold, raised));
    }
    break;
  }

  return { shapes, maxHistoryEvents: total() };
}

/** A step iterating an upstream fan-out expects as many items as that step, unless told otherwise. */
function expectedCounts(steps: readonly WorkflowStep[], given: Readonly<Record<string, number>>): Map<string, number> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const out = new Map<string, number>();
  const resolve = (step: WorkflowStep, seen: Set<string>): number | undefined => {
    if (out.has(step.id)) return out.get(step.id);
    const own = Object.hasOwn(given, step.id) ? given[step.id] : undefined;
    let count = own;
    if (count === undefined && step.forEach !== undefined && step.forEach !== 'inputs' && !seen.has(step.id)) {
      const source = byId.get(step.forEach);
      if (source) count = resolve(source, new Set([...seen, step.id]));
    }
    if (count !== undefined) out.set(step.id, count);
    return count;
  };
  for (const step of steps) resolve(step, new Set());
  return out;
}
