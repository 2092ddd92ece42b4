import { ENGINE_RETRY, THROTTLING_RETRY } from './errors';
import { STEP_DEFAULTS, type WorkflowStep } from './schema';

/** Step Functions Standard workflows fail an execution whose history passes this many events. */
export const HISTORY_EVENT_LIMIT = 25_000;

/**
 * Events each state adds to the parent execution's history (Standard workflows). A Task that is retried
 * adds a failed / scheduled / started triple per attempt. Distributed Map children keep their own history,
 * so a Distributed Map costs the parent a constant.
 */
export const HISTORY_EVENTS = {
  execution: 2,
  pass: 2,
  choice: 2,
  fail: 2,
  parallel: 4,
  task: 5,
  callbackTask: 6,
  retryAttempt: 3,
  inlineMap: 4,
  iteration: 2,
  distributedMap: 5,
} as const;

export type MapMode = 'inline' | 'distributed' | 'adaptive';

const H = HISTORY_EVENTS;

function agentAttempts(step: WorkflowStep): number {
  return (step.retry?.maxAttempts ?? STEP_DEFAULTS.retry.maxAttempts) + THROTTLING_RETRY.maxAttempts;
}

/** One agent invocation with every retrier exhausted. */
function agentTaskEvents(step: WorkflowStep): number {
  return H.task + H.retryAttempt * agentAttempts(step);
}

const ENGINE_TASK_EVENTS = H.task + H.retryAttempt * ENGINE_RETRY.maxAttempts;
const GATE_EVENTS = H.callbackTask + H.retryAttempt * ENGINE_RETRY.maxAttempts;

/**
 * Item admission around an agent invocation (compile option `functions.itemGate`): the `.admit` callback
 * and the `.release` task. Budgets always count it, so a machine compiled with or without admission has
 * the same inline limits and never passes the history limit either way.
 */
const ADMISSION_EVENTS = GATE_EVENTS + ENGINE_TASK_EVENTS;

/**
 * Agent passes one batch may make: its step's agent, then fallbacks to other candidates (docs/engine.md,
 * "Fallback"). Bounded because every pass adds to the history; an inline Map's iterations share the parent's,
 * so it allows one fallback, while a distributed child has a history of its own. Single steps get what the
 * machine's budget leaves, up to `single` (a long chain of steps may get fewer, or none).
 */
export const AGENT_PASSES = { single: 3, inline: 2, distributed: 3 } as const;

/** One pass: admission, the invocation and release, and the Choice that routes to a fallback or ends. */
function passEvents(step: WorkflowStep): number {
  return ADMISSION_EVENTS + agentTaskEvents(step) + H.choice;
}

/** One inline Map iteration (a batch): the iteration markers, every pass, and the state that ends it. */
function iterationEvents(step: WorkflowStep): number {
  return H.iteration + AGENT_PASSES.inline * passEvents(step) + H.pass;
}

export function inlineMapEvents(step: WorkflowStep, items: number): number {
  const batch = step.batchSize ?? STEP_DEFAULTS.batchSize;
  return H.inlineMap + Math.ceil(items / batch) * iterationEvents(step);
}

/** How many items an inline Map can take within a budget of events. */
export function inlineItemsWithin(step: WorkflowStep, budget: number): number {
  const batch = step.batchSize ?? STEP_DEFAULTS.batchSize;
  const iterations = Math.floor((budget - H.inlineMap) / iterationEvents(step));
  return Math.max(0, iterations) * batch;
}

export interface StepShape {
  conditional: boolean;
  mode: MapMode | 'single';
  /** Items an inline or adaptive Map may run inline. */
  inlineItems: number;
  /** Agent passes of a single step (its agent, then fallbacks): what the budget leaves, at most AGENT_PASSES.single. */
  passes?: number;
}

/** Worst case of one step: the longer of its skip path and its run path (which may end in failure). */
export function stepEvents(step: WorkflowStep, shape: StepShape): number {
  let main: number;
  switch (shape.mode) {
    case 'single':
      // Each pass after the first also sets the fallback agent (a Pass).
      main = (shape.passes ?? AGENT_PASSES.single) * (passEvents(step) + H.pass);
      break;
    case 'inline':
      main = inlineMapEvents(step, shape.inlineItems);
      break;
    case 'distributed':
      main = H.distributedMap;
      break;
    case 'adaptive':
      main = H.choice + Math.max(inlineMapEvents(step, shape.inlineItems), H.distributedMap);
      break;
  }
  const run = GATE_EVENTS + main + ENGINE_TASK_EVENTS + H.fail;
  const skip = shape.conditional ? ENGINE_TASK_EVENTS : 0;
  return (shape.conditional ? H.choice : 0) + Math.max(run, skip);
}

/** Events of the condition prelude: an initial Pass, then a Choice and a Pass per conditional step. */
export function planEvents(conditionalSteps: number): number {
  return conditionalSteps === 0 ? 0 : H.pass + conditionalSteps * (H.choice + H.pass);
}
