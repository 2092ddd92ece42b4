import { allSkippedRule, planPath, PLAN_RUN, whenToChoiceRule } from './choice-rules';
import {
  AgentplaneErrorName,
  ENGINE_RETRY,
  LAMBDA_TRANSIENT_ERRORS,
  RETRYABLE_AGENT_ERRORS,
  THROTTLING_ERRORS,
  THROTTLING_RETRY,
  WorkflowCompileError,
} from './errors';
import {
  criticalPath,
  decomposeSeriesParallel,
  findCycles,
  formatCycle,
  spTreeCriticalPath,
  spTreeFirstStep,
  topologicalOrder,
  type Dag,
  type SpNode,
  type Weights,
} from './graph';
import { AGENT_PASSES, HISTORY_EVENT_LIMIT, type MapMode, type StepShape } from './history';
import { planMapModes } from './map-modes';
import { STEP_DEFAULTS, type ParameterSpec, type WorkflowDefinition, type WorkflowStep } from './schema';
import type { Problem } from './validate';
import { lookup, present } from '../invariants';

export interface CompileOptions {
  /**
   * ARNs (or names) of the engine's Lambdas; never hard-coded in the machine. With `itemGate`, every agent
   * invocation (single step, inline item, distributed batch) is bracketed by item admission: `.admit`
   * (waitForTaskToken: a slot of the run's semaphore, or parked while paused or full) and `.release`.
   */
  functions: { gate: string; reporter: string; itemGate?: string };
  /** Workspace bucket; when absent, the machine reads `$.workspace.bucket` from the execution input. */
  workspaceBucket?: string;
  /** Fan-outs expected above this many items run as Distributed Map (default 200). */
  distributedThreshold?: number;
  /** Expected item counts per fan-out step; steps without one are compiled adaptive. */
  expectedItems?: Record<string, number>;
  /** Expected step durations (any unit), used only to choose where non-series-parallel DAGs synchronise. */
  stepWeights?: Record<string, number>;
  /** History events one execution may use (default: the Step Functions limit, 25,000). */
  historyEventLimit?: number;
}

export interface CompileReport {
  seriesParallel: boolean;
  /** Synchronisation points added to make the DAG series-parallel (0 for series-parallel DAGs). */
  addedSyncPoints: number;
  /** Step pairs the machine orders although the DAG does not: the waiting the sync points add. */
  addedOrderings: number;
  /** Longest dependency chain of the DAG, in steps. */
  criticalPathDag: number;
  /** Longest chain the compiled machine imposes, in steps (equal to criticalPathDag for series-parallel DAGs). */
  criticalPathCompiled: number;
  /** Fan-out steps only. `adaptive`: inline up to `inlineMaxItems`, distributed above, chosen at run time. */
  mapModes: Record<string, 'inline' | 'distributed' | 'adaptive'>;
  /** Items an inline or adaptive fan-out may run inline (the gate enforces it). */
  inlineMaxItems: Record<string, number>;
  /** Agent passes each step's batches may make (1 = no fallback); see docs/engine.md, "Fallback". */
  agentPasses: Record<string, number>;
  /** Worst-case history events of one execution (every step run, every retrier exhausted). */
  maxHistoryEvents: number;
  definitionBytes: number;
  /** Limits the machine may hit whatever the compiler chose (history, definition size). */
  warnings: Problem[];
}

export interface CompileResult {
  asl: Record<string, unknown>;
  aslJson: string;
  report: CompileReport;
}

const DEFAULT_DISTRIBUTED_THRESHOLD = 200;
/** Step Functions rejects definitions above 1 MiB. */
const MAX_DEFINITION_BYTES = 1_048_576;

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const S3_GET_OBJECT = 'arn:aws:states:::s3:getObject';
const S3_PUT_OBJECT = 'arn:aws:states:::s3:putObject';
const PLAN_INIT = 'plan(init)';

type State = Record<string, unknown>;
type States = Record<string, State>;

/** State names of one step: the console reads like the workflow. */
const stateNames = (id: string) => ({
  plan: `${id}.plan`,
  planRun: `${id}.plan.run`,
  planCondition: `${id}.plan.condition`,
  planUpstream: `${id}.plan.upstream`,
  when: `${id}.when`,
  gate: `${id}.gate`,
  mode: `${id}.mode`,
  main: id,
  distributed: `${id}.distributed`,
  item: `${id}.item`,
  itemFailed: `${id}.item.failed`,
  batch: `${id}.batch`,
  admit: `${id}.admit`,
  admitFailed: `${id}.admit.failed`,
  release: `${id}.release`,
  releaseFailed: `${id}.release.failed`,
  route: `${id}.route`,
  routeFailed: `${id}.route.failed`,
  fallback: `${id}.fallback`,
  settled: `${id}.settled`,
  batchRoute: `${id}.batch.route`,
  batchDone: `${id}.batch.done`,
  batchFail: `${id}.batch.fail`,
  batchAdmit: `${id}.batch.admit`,
  batchRelease: `${id}.batch.release`,
  batchReleaseFailed: `${id}.batch.release.failed`,
  done: `${id}.done`,
  skipped: `${id}.skipped`,
  failed: `${id}.failed`,
  fail: `${id}.fail`,
});

/** Edges of the definition's DAG: an edge [dep, step] for every dependsOn entry. */
export function workflowDag(definition: WorkflowDefinition): Dag {
  return {
    nodes: definition.steps.map((s) => s.id),
    edges: definition.steps.flatMap((s) => (s.dependsOn ?? []).map((d) => [d, s.id] as const)),
  };
}

/**
 * Steps that may be skipped: those with a condition, and those whose dependencies may all be skipped.
 * The others always run and need no plan entry.
 */
function conditionalSteps(definition: WorkflowDefinition, order: readonly string[]): Set<string> {
  const byId = new Map(definition.steps.map((s) => [s.id, s]));
  const conditional = new Set<string>();
  for (const id of order) {
    const step = lookup(byId, id);
    const deps = step.dependsOn ?? [];
    if (step.when !== undefined || (deps.length > 0 && deps.every((d) => conditional.has(d)))) conditional.add(id);
  }
  return conditional;
}

/**
 * Compiles a validated workflow definition to Amazon States Language. Pure and deterministic: the same
 * definition and options give a byte-identical `aslJson`. See docs/engine.md for the machine's protocol.
 */
export function compileWorkflow(definition: WorkflowDefinition, options: CompileOptions): CompileResult {
  const dag = workflowDag(definition);
  const order = checkedOrder(definition, dag);
  const byId = new Map(definition.steps.map((s) => [s.id, s]));
  const decomposition = decomposeSeriesParallel(dag, options.stepWeights ? { weights: options.stepWeights } : {});
  const conditional = conditionalSteps(definition, order);
  const parallelNames = nameParallels(decomposition.tree);
  const historyEventLimit = options.historyEventLimit ?? HISTORY_EVENT_LIMIT;
  const mapPlan = planMapModes({
    steps: definition.steps,
    conditional,
    parallelStates: parallelNames.size,
    distributedThreshold: options.distributedThreshold ?? DEFAULT_DISTRIBUTED_THRESHOLD,
    expectedItems: options.expectedItems ?? {},
    historyEventLimit,
  });

  const ctx: EmitContext = {
    parameters: definition.parameters ?? {},
    byId,
    conditional,
    shapes: mapPlan.shapes,
    parallelNames,
    options,
  };
  const states: States = {};
  const treeStart = entryOf(decomposition.tree, ctx);
  const planned = order.filter((id) => conditional.has(id));
  if (planned.length > 0) emitPlan(planned, treeStart, ctx, states);
  emitNode(decomposition.tree, undefined, ctx, states);

  const asl: Record<string, unknown> = {
    Comment: comment(definition),
    StartAt: planned.length > 0 ? PLAN_INIT : treeStart,
    States: states,
  };
  const aslJson = JSON.stringify(asl);
  const definitionBytes = Buffer.byteLength(aslJson);

  const unit: Weights = () => 1;
  const mapModes: Record<string, MapMode> = {};
  const inlineMaxItems: Record<string, number> = {};
  const agentPasses: Record<string, number> = {};
  for (const step of definition.steps) {
    const shape = lookup(mapPlan.shapes, step.id);
    agentPasses[step.id] = passesOf(shape);
    if (shape.mode === 'single') continue;
    mapModes[step.id] = shape.mode;
    if (shape.mode !== 'distributed') inlineMaxItems[step.id] = shape.inlineItems;
  }
  const warnings: Problem[] = [];
  if (mapPlan.maxHistoryEvents > historyEventLimit) {
    warnings.push({
      path: '$.steps',
      code: 'history.limit',
      message: `in the worst case (every retry used) one execution records ${mapPlan.maxHistoryEvents} history events, above the limit of ${historyEventLimit}, even with every fan-out distributed`,
    });
  }
  if (definitionBytes > MAX_DEFINITION_BYTES) {
    warnings.push({
      path: '$.steps',
      code: 'definition.size',
      message: `the compiled state machine is ${definitionBytes} bytes; Step Functions accepts at most ${MAX_DEFINITION_BYTES}`,
    });
  }

  return {
    asl,
    aslJson,
    report: {
      seriesParallel: decomposition.seriesParallel,
      addedSyncPoints: decomposition.syncPoints,
      addedOrderings: decomposition.addedOrderings,
      criticalPathDag: criticalPath(dag, unit).length,
      criticalPathCompiled: spTreeCriticalPath(decomposition.tree, unit),
      mapModes,
      inlineMaxItems,
      agentPasses,
      maxHistoryEvents: mapPlan.maxHistoryEvents,
      definitionBytes,
      warnings,
    },
  };
}

function checkedOrder(definition: WorkflowDefinition, dag: Dag): string[] {
  const ids = new Set<string>();
  for (const step of definition.steps) {
    if (ids.has(step.id)) throw new WorkflowCompileError(`duplicate step id "${step.id}"`);
    ids.add(step.id);
  }
  for (const [from, to] of dag.edges) {
    if (!ids.has(from)) throw new WorkflowCompileError(`step "${to}" depends on unknown step "${from}"`);
    if (from === to) throw new WorkflowCompileError(`step "${to}" depends on itself`);
  }
  const order = topologicalOrder(dag);
  if (order === undefined) {
    throw new WorkflowCompileError(`dependency cycle: ${findCycles(dag).map(formatCycle).join('; ')}`);
  }
  return order;
}

function comment(definition: WorkflowDefinition): string {
  const text = definition.description ? `${definition.id}: ${definition.description}` : definition.id;
  return `Agentplane workflow ${text}`.slice(0, 1_000);
}

interface EmitContext {
  parameters: Readonly<Record<string, ParameterSpec>>;
  byId: ReadonlyMap<string, WorkflowStep>;
  conditional: ReadonlySet<string>;
  shapes: ReadonlyMap<string, StepShape>;
  parallelNames: ReadonlyMap<SpNode, string>;
  options: CompileOptions;
}

/**
 * Parallel states are named after the first step of each branch, `par(a|b|c)`: parentheses never occur in step
 * ids, so the names cannot collide with step states.
 */
function nameParallels(tree: SpNode): Map<SpNode, string> {
  const names = new Map<SpNode, string>();
  const used = new Set<string>();
  const visit = (node: SpNode) => {
    if (node.kind === 'step') return;
    if (node.kind === 'parallel') {
      const firsts = node.children.map(spTreeFirstStep);
      let name = `par(${firsts.join('|')})`;
      if (name.length > 80) {
        let shown = '';
        for (const first of firsts) {
          const candidate = shown === '' ? first : `${shown}|${first}`;
          if (candidate.length > 60) break;
          shown = candidate;
        }
        name = `par(${shown}|+${firsts.length - shown.split('|').length})`;
      }
      for (let n = 2; used.has(name); n++) name = `${name.replace(/#\d+$/, '')}#${n}`;
      used.add(name);
      names.set(node, name);
    }
    node.children.forEach(visit);
  };
  visit(tree);
  return names;
}

function entryOf(node: SpNode, ctx: EmitContext): string {
  switch (node.kind) {
    case 'step':
      return ctx.conditional.has(node.id) ? stateNames(node.id).when : stateNames(node.id).gate;
    case 'series':
      return entryOf(node.children[0], ctx);
    case 'parallel':
      return lookup(ctx.parallelNames, node);
  }
}

const transition = (next: string | undefined): State => (next === undefined ? { End: true } : { Next: next });

function emitNode(node: SpNode, next: string | undefined, ctx: EmitContext, states: States): void {
  switch (node.kind) {
    case 'step':
      emitStep(lookup(ctx.byId, node.id), next, ctx, states);
      return;
    case 'series':
      node.children.forEach((child, i) => {
        const following = node.children.at(i + 1);
        emitNode(child, following ? entryOf(following, ctx) : next, ctx, states);
      });
      return;
    case 'parallel':
      states[lookup(ctx.parallelNames, node)] = {
        Type: 'Parallel',
        Branches: node.children.map((child) => {
          const branch: States = {};
          emitNode(child, undefined, ctx, branch);
          return { StartAt: entryOf(child, ctx), States: branch };
        }),
        // Branch outputs are dropped: steps exchange data through the workspace, and the plan is set before.
        ResultPath: null,
        ...transition(next),
      };
      return;
  }
}

/** The condition prelude: every conditional step's plan is settled before the first step starts. */
function emitPlan(planned: readonly string[], treeStart: string, ctx: EmitContext, states: States): void {
  states[PLAN_INIT] = { Type: 'Pass', Result: {}, ResultPath: '$.plan', Next: stateNames(planned[0]).plan };
  planned.forEach((id, i) => {
    const step = lookup(ctx.byId, id);
    const names = stateNames(id);
    const next = i + 1 < planned.length ? stateNames(planned[i + 1]).plan : treeStart;
    const deps = step.dependsOn ?? [];
    const choices: State[] = [];
    if (step.when !== undefined) choices.push({ Not: whenToChoiceRule(step.when, ctx.parameters), Next: names.planCondition });
    if (deps.length > 0 && deps.every((d) => ctx.conditional.has(d))) {
      choices.push({ ...allSkippedRule([...new Set(deps)]), Next: names.planUpstream });
    }
    states[names.plan] = { Type: 'Choice', Choices: choices, Default: names.planRun };
    const setPlan = (value: string): State => ({ Type: 'Pass', Result: value, ResultPath: planPath(id), Next: next });
    if (step.when !== undefined) states[names.planCondition] = setPlan('condition');
    if (choices.some((c) => c.Next === names.planUpstream)) states[names.planUpstream] = setPlan('upstream');
    states[names.planRun] = setPlan(PLAN_RUN);
  });
}

function emitStep(step: WorkflowStep, next: string | undefined, ctx: EmitContext, states: States): void {
  const names = stateNames(step.id);
  const shape = lookup(ctx.shapes, step.id);
  const catchToFailed = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: names.failed }];

  if (ctx.conditional.has(step.id)) {
    states[names.when] = {
      Type: 'Choice',
      Choices: [{ Variable: planPath(step.id), StringEquals: PLAN_RUN, Next: names.gate }],
      Default: names.skipped,
    };
  }
  states[names.gate] = {
    Type: 'Task',
    Resource: LAMBDA_CALLBACK,
    Parameters: { FunctionName: ctx.options.functions.gate, Payload: gatePayload(step, shape) },
    ResultPath: '$.step',
    Retry: engineRetry(),
    Catch: catchToFailed,
    Next: shape.mode === 'adaptive' ? names.mode : shape.mode === 'single' && ctx.options.functions.itemGate !== undefined ? names.admit : names.main,
  };
  if (shape.mode === 'adaptive') {
    states[names.mode] = {
      Type: 'Choice',
      Choices: [{ Variable: '$.step.itemCount', NumericLessThanEquals: shape.inlineItems, Next: names.main }],
      Default: names.distributed,
    };
  }
  switch (shape.mode) {
    case 'single':
      if (ctx.options.functions.itemGate !== undefined) emitAdmittedSingle(step, ctx, catchToFailed, states);
      else states[names.main] = singleTask(step, catchToFailed, names.done);
      break;
    case 'inline':
    case 'adaptive':
      states[names.main] = inlineMap(step, ctx, catchToFailed, names.done);
      if (shape.mode === 'adaptive') states[names.distributed] = distributedMap(step, ctx, catchToFailed, names.done);
      break;
    case 'distributed':
      states[names.main] = distributedMap(step, ctx, catchToFailed, names.done);
      break;
  }
  states[names.done] = reporterTask(ctx, step.id, 'succeeded', {
    mode: shape.mode,
    toleratedFailurePercentage: step.toleratedFailurePercentage ?? STEP_DEFAULTS.toleratedFailurePercentage,
    'agent.$': '$.step.agent',
    'outcome.$': '$.step.outcome',
  }, next, [{ ErrorEquals: [AgentplaneErrorName.StepFailed], ResultPath: '$.error', Next: names.fail }]);
  if (ctx.conditional.has(step.id)) {
    states[names.skipped] = reporterTask(ctx, step.id, 'skipped', { 'reason.$': planPath(step.id) }, next);
  }
  states[names.failed] = reporterTask(ctx, step.id, 'failed', { 'error.$': '$.error' }, names.fail);
  states[names.fail] = {
    Type: 'Fail',
    Error: AgentplaneErrorName.StepFailed,
    Cause: `step "${step.id}" failed; its error is in the run's events`,
  };
}

/** Agent passes of a step's batches: single steps as budgeted; a Map's by where its iterations run. */
function passesOf(shape: StepShape): number {
  if (shape.mode === 'single') return shape.passes ?? AGENT_PASSES.single;
  return shape.mode === 'distributed' ? AGENT_PASSES.distributed : AGENT_PASSES.inline;
}

function gatePayload(step: WorkflowStep, shape: StepShape): State {
  // maxPasses: whether the step's items can fall back at all (the gate sets the route's circuitBreaker from it).
  const spec: State = { capability: step.capability, dependsOn: step.dependsOn ?? [], maxPasses: passesOf(shape) };
  if (step.forEach !== undefined) spec.forEach = step.forEach;
  if (step.config !== undefined) spec.config = step.config;
  if (step.forEach !== undefined) {
    if (step.maxConcurrency !== undefined) spec.maxConcurrency = step.maxConcurrency;
    spec.batchSize = step.batchSize ?? STEP_DEFAULTS.batchSize;
    spec.mode = shape.mode;
    if (shape.mode !== 'distributed') spec.inlineMaxItems = shape.inlineItems;
    if (shape.mode !== 'inline') spec['manifestKey.$'] = workspaceKey(step.id, 'manifest.json');
  }
  return {
    'taskToken.$': '$$.Task.Token',
    'runId.$': '$.runId',
    stepId: step.id,
    step: spec,
    'workspace.$': '$.workspace',
    'parameters.$': '$.parameters',
  };
}

/** `runs/<runId>/state/<stepId>/<rest>`, built at run time from the execution input. */
function workspaceKey(stepId: string, rest: string): string {
  return `States.Format('runs/{}/state/${stepId}/${rest}', $.runId)`;
}

function bucketField(ctx: EmitContext): State {
  return ctx.options.workspaceBucket !== undefined ? { Bucket: ctx.options.workspaceBucket } : { 'Bucket.$': '$.workspace.bucket' };
}

function engineRetry(): State[] {
  return [
    {
      ErrorEquals: [...LAMBDA_TRANSIENT_ERRORS, 'Lambda.TooManyRequestsException'],
      IntervalSeconds: ENGINE_RETRY.intervalSeconds,
      MaxAttempts: ENGINE_RETRY.maxAttempts,
      BackoffRate: ENGINE_RETRY.backoffRate,
      JitterStrategy: 'FULL',
    },
  ];
}

function agentRetry(step: WorkflowStep): State[] {
  const policy = { ...STEP_DEFAULTS.retry, ...step.retry };
  const retriers: State[] = [
    {
      ErrorEquals: [...THROTTLING_ERRORS],
      IntervalSeconds: THROTTLING_RETRY.intervalSeconds,
      MaxAttempts: THROTTLING_RETRY.maxAttempts,
      BackoffRate: THROTTLING_RETRY.backoffRate,
      MaxDelaySeconds: THROTTLING_RETRY.maxDelaySeconds,
      JitterStrategy: 'FULL',
    },
  ];
  if (policy.maxAttempts > 0) {
    retriers.push({
      ErrorEquals: [...RETRYABLE_AGENT_ERRORS],
      IntervalSeconds: policy.intervalSeconds,
      MaxAttempts: policy.maxAttempts,
      BackoffRate: policy.backoffRate,
      ...(policy.maxDelaySeconds !== undefined ? { MaxDelaySeconds: policy.maxDelaySeconds } : {}),
      JitterStrategy: policy.jitter ? 'FULL' : 'NONE',
    });
  }
  return retriers;
}

/**
 * Per-batch context: the Map's items carry only S3 keys, the rest comes from the gate's result. With item
 * admission (`routed`) it carries the agent route (agent, epoch, agents tried), which a fallback replaces.
 */
function batchInput(step: WorkflowStep, routed: boolean): State {
  return {
    'runId.$': '$.runId',
    stepId: step.id,
    ...(routed ? { 'agent.$': '$.step.agent' } : { 'functionArn.$': '$.step.agent.functionArn' }),
    'workspace.$': '$.workspace',
    'parameters.$': '$.parameters',
    'config.$': '$.step.config',
    'upstream.$': '$.step.upstream',
  };
}

const ATTEMPT = 'States.MathAdd($$.State.RetryCount, 1)';

function agentInvocation(step: WorkflowStep, parameters: State): State {
  return {
    Type: 'Task',
    Resource: LAMBDA_INVOKE,
    Parameters: parameters,
    // Only the per-item results move on: outputs themselves stay in the workspace.
    ResultSelector: { 'results.$': '$.Payload.results' },
    TimeoutSeconds: step.timeoutSeconds ?? STEP_DEFAULTS.timeoutSeconds,
    Retry: agentRetry(step),
  };
}

/**
 * What a routed invocation adds to the contract's agent input (lambdas/core/agent-runtime/input.ts): the
 * registry id it was routed to, the pass (epoch: a fallback runs items again), whether to respect the agent's
 * circuit breaker, and the step's retry policy (so the runtime knows its last attempt).
 */
function routeFields(step: WorkflowStep, agentPath: string): State {
  const policy = { ...STEP_DEFAULTS.retry, ...step.retry };
  return {
    'agentId.$': `${agentPath}.agentId`,
    'epoch.$': `${agentPath}.epoch`,
    'circuitBreaker.$': `${agentPath}.circuitBreaker`,
    retry: {
      maxAttempts: policy.maxAttempts,
      intervalSeconds: policy.intervalSeconds,
      backoffRate: policy.backoffRate,
      ...(policy.maxDelaySeconds !== undefined ? { maxDelaySeconds: policy.maxDelaySeconds } : {}),
    },
  };
}

function batchInvocation(step: WorkflowStep, routed: boolean): State {
  return agentInvocation(step, {
    'FunctionName.$': routed ? '$.BatchInput.agent.functionArn' : '$.BatchInput.functionArn',
    Payload: {
      'runId.$': '$.BatchInput.runId',
      'stepId.$': '$.BatchInput.stepId',
      'items.$': '$.Items',
      'workspace.$': '$.BatchInput.workspace',
      'parameters.$': '$.BatchInput.parameters',
      'config.$': '$.BatchInput.config',
      'upstream.$': '$.BatchInput.upstream',
      'attempt.$': ATTEMPT,
      ...(routed ? routeFields(step, '$.BatchInput.agent') : {}),
    },
  });
}

function singleTask(step: WorkflowStep, catchers: State[], next: string, routed = false): State {
  return {
    ...agentInvocation(step, {
      'FunctionName.$': '$.step.agent.functionArn',
      Payload: {
        'runId.$': '$.runId',
        stepId: step.id,
        items: [],
        'workspace.$': '$.workspace',
        'parameters.$': '$.parameters',
        'config.$': '$.step.config',
        'upstream.$': '$.step.upstream',
        'attempt.$': ATTEMPT,
        ...(routed ? routeFields(step, '$.step.agent') : {}),
      },
    }),
    Comment: stepComment(step),
    ResultPath: '$.step.outcome',
    Catch: catchers,
    Next: next,
  };
}

/**
 * Inline Map over the gate's batches. Inline Maps have no failure tolerance of their own, so a batch that
 * fails after its retries is caught and recorded; the reporter applies toleratedFailurePercentage.
 */
function inlineMap(step: WorkflowStep, ctx: EmitContext, catchers: State[], next: string): State {
  const names = stateNames(step.id);
  const itemGate = ctx.options.functions.itemGate;
  const routed = itemGate !== undefined;
  const iteration: States =
    itemGate === undefined
      ? {
          [names.item]: {
            ...batchInvocation(step, false),
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: names.itemFailed }],
            End: true,
          },
          [names.itemFailed]: {
            Type: 'Pass',
            Parameters: { failed: true, 'items.$': '$.Items', 'error.$': '$.error' },
            End: true,
          },
        }
      : {
          [names.admit]: {
            ...admitTask(step, itemGate, '$.BatchInput.runId', '$.Items'),
            ResultPath: '$.admission',
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: names.admitFailed }],
            Next: names.item,
          },
          [names.admitFailed]: {
            Type: 'Pass',
            Parameters: { failed: true, 'items.$': '$.Items', 'error.$': '$.error' },
            End: true,
          },
          [names.item]: {
            ...batchInvocation(step, true),
            ResultPath: '$.outcome',
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: names.releaseFailed }],
            Next: names.release,
          },
          ...routedRelease(step, itemGate, AGENT_PASSES.inline, { release: names.release, releaseFailed: names.releaseFailed, route: names.route }),
          [names.route]: routeChoice('$.fallback', names.admit, [], names.settled),
          [names.settled]: { Type: 'Succeed' },
        };
  return {
    Type: 'Map',
    Comment: stepComment(step),
    ItemsPath: '$.step.batches',
    ItemSelector: { 'Items.$': '$$.Map.Item.Value', BatchInput: batchInput(step, routed) },
    MaxConcurrencyPath: '$.step.maxConcurrency',
    ItemProcessor: {
      ProcessorConfig: { Mode: 'INLINE' },
      StartAt: itemGate === undefined ? names.item : names.admit,
      States: iteration,
    },
    ResultPath: '$.step.outcome',
    Catch: catchers,
    Next: next,
  };
}

/**
 * Item admission (runs issue): the item gate answers the token at once when the run's semaphore has a slot,
 * or parks it on the run while the run is paused or full; a release (or resume) wakes it. Never a poll.
 */
function admitTask(step: WorkflowStep, itemGate: string, runIdPath: string, itemsPath: string | undefined): State {
  return {
    Type: 'Task',
    Resource: LAMBDA_CALLBACK,
    Parameters: {
      FunctionName: itemGate,
      Payload: {
        action: 'admit',
        'taskToken.$': '$$.Task.Token',
        'runId.$': runIdPath,
        stepId: step.id,
        ...(itemsPath ? { 'items.$': itemsPath } : { items: [] }),
        leaseSeconds: leaseSeconds(step),
      },
    },
    Retry: engineRetry(),
  };
}

/**
 * `failed`: the release of an invocation that failed; with its error name, so that a timed-out invocation
 * (whose Lambda may still be running: Step Functions stops waiting, not the function) keeps its slot for one
 * more timeout instead of handing it over at once. `fallback`: the release also decides the items' route
 * (lambdas/core/runs/fallback.ts) and answers with it.
 */
function releaseTask(
  step: WorkflowStep,
  itemGate: string,
  runIdPath: string,
  itemsPath: string | undefined,
  leasePath: string,
  failed = false,
  resultsPath?: string,
  fallback?: State,
): State {
  return {
    Type: 'Task',
    Resource: LAMBDA_INVOKE,
    Parameters: {
      FunctionName: itemGate,
      Payload: {
        action: 'release',
        'runId.$': runIdPath,
        stepId: step.id,
        ...(itemsPath ? { 'items.$': itemsPath } : { items: [] }),
        'leaseId.$': leasePath,
        ...(failed ? { 'error.$': '$.error.Error', 'cause.$': '$.error.Cause', timeoutSeconds: step.timeoutSeconds ?? STEP_DEFAULTS.timeoutSeconds } : {}),
        // The per-item results (statuses and metrics, no content) keep the run's live counts current mid-step.
        ...(resultsPath ? { 'results.$': resultsPath } : {}),
        ...(fallback ? { fallback } : {}),
      },
    },
    Retry: engineRetry(),
  };
}

/** What the release of a batch needs to route its items to another candidate: the capability, the pass budget. */
function fallbackSpec(step: WorkflowStep, maxPasses: number, routePath: { batch: string } | { agent: string }): State {
  return {
    capability: step.capability,
    maxPasses,
    ...('batch' in routePath ? { 'batch.$': routePath.batch } : { 'agent.$': routePath.agent }),
  };
}

/**
 * The two releases of a Map's batch (after a result, after an error). Each answers with what the iteration
 * becomes: `{results}` / `{failed, items, error}` when the batch is settled, or `{fallback, Items, BatchInput}`
 * (the items to send again and their new route), which the route Choice sends back to admission.
 */
function routedRelease(step: WorkflowStep, itemGate: string, maxPasses: number, names: { release: string; releaseFailed: string; route: string }): States {
  const fallback = fallbackSpec(step, maxPasses, { batch: '$.BatchInput' });
  return {
    [names.release]: {
      ...releaseTask(step, itemGate, '$.BatchInput.runId', '$.Items', '$.admission.leaseId', false, '$.outcome.results', fallback),
      OutputPath: '$.Payload',
      Next: names.route,
    },
    [names.releaseFailed]: {
      ...releaseTask(step, itemGate, '$.BatchInput.runId', '$.Items', '$.admission.leaseId', true, undefined, fallback),
      OutputPath: '$.Payload',
      Next: names.route,
    },
  };
}

function routeChoice(fallbackPath: string, again: string, more: State[], otherwise: string): State {
  return {
    Type: 'Choice',
    Choices: [{ Variable: fallbackPath, IsPresent: true, Next: again }, ...more],
    Default: otherwise,
  };
}

/**
 * How long an item's slot is held if its release never comes (its execution was stopped or failed around
 * it): every attempt at the task timeout plus the longest retry delays, so a live item never loses its slot.
 */
export function leaseSeconds(step: WorkflowStep): number {
  const timeout = step.timeoutSeconds ?? STEP_DEFAULTS.timeoutSeconds;
  const policy = { ...STEP_DEFAULTS.retry, ...step.retry };
  const attempts = 1 + policy.maxAttempts + THROTTLING_RETRY.maxAttempts;
  const delays = policy.maxAttempts * (policy.maxDelaySeconds ?? policy.intervalSeconds * policy.backoffRate ** policy.maxAttempts) + THROTTLING_RETRY.maxAttempts * THROTTLING_RETRY.maxDelaySeconds;
  return Math.ceil(attempts * timeout + delays + 30);
}

/**
 * A single step's agent call between admission and release; the release runs on the failure path too, and
 * decides whether the step falls back to another candidate (`<id>.fallback` sets `$.step.agent`, then admission).
 */
function emitAdmittedSingle(step: WorkflowStep, ctx: EmitContext, catchToFailed: State[], states: States): void {
  const names = stateNames(step.id);
  const itemGate = present(ctx.options.functions.itemGate, 'ctx.options.functions.itemGate');
  const fallback = fallbackSpec(step, passesOf(lookup(ctx.shapes, step.id)), { agent: '$.step.agent' });
  const decision = { ResultSelector: { 'decision.$': '$.Payload' }, ResultPath: '$.step.route' };
  states[names.admit] = { ...admitTask(step, itemGate, '$.runId', undefined), ResultPath: '$.step.admission', Catch: catchToFailed, Next: names.main };
  states[names.main] = {
    ...singleTask(step, [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: names.releaseFailed }], names.release, true),
  };
  states[names.release] = { ...releaseTask(step, itemGate, '$.runId', undefined, '$.step.admission.leaseId', false, '$.step.outcome.results', fallback), ...decision, Next: names.route };
  states[names.releaseFailed] = { ...releaseTask(step, itemGate, '$.runId', undefined, '$.step.admission.leaseId', true, undefined, fallback), ...decision, Next: names.routeFailed };
  states[names.route] = routeChoice('$.step.route.decision.fallback', names.fallback, [], names.done);
  states[names.routeFailed] = routeChoice('$.step.route.decision.fallback', names.fallback, [], names.failed);
  states[names.fallback] = { Type: 'Pass', InputPath: '$.step.route.decision.agent', ResultPath: '$.step.agent', Next: names.admit };
}

/** Distributed Map: items from the gate's manifest, results into the workspace, failures within tolerance. */
function distributedMap(step: WorkflowStep, ctx: EmitContext, catchers: State[], next: string): State {
  const names = stateNames(step.id);
  return {
    Type: 'Map',
    Comment: stepComment(step),
    Label: step.id,
    ItemReader: {
      Resource: S3_GET_OBJECT,
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { ...bucketField(ctx), 'Key.$': workspaceKey(step.id, 'manifest.json') },
    },
    ItemBatcher: { MaxItemsPerBatch: step.batchSize ?? STEP_DEFAULTS.batchSize, BatchInput: batchInput(step, ctx.options.functions.itemGate !== undefined) },
    MaxConcurrencyPath: '$.step.maxConcurrency',
    ToleratedFailurePercentage: step.toleratedFailurePercentage ?? STEP_DEFAULTS.toleratedFailurePercentage,
    ItemProcessor: {
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      StartAt: ctx.options.functions.itemGate === undefined ? names.batch : names.batchAdmit,
      States: distributedBatch(step, ctx),
    },
    ResultWriter: {
      Resource: S3_PUT_OBJECT,
      Parameters: { ...bucketField(ctx), 'Prefix.$': workspaceKey(step.id, 'results') },
    },
    ResultPath: '$.step.outcome',
    Catch: catchers,
    Next: next,
  };
}

/**
 * A child execution's states. With admission, a batch that ends failed releases its slot and then fails with the
 * agent's own error (ErrorPath), so tolerance and the ResultWriter see what they would without admission; items
 * that fall back go round again (admission, invocation, release) within the child.
 */
function distributedBatch(step: WorkflowStep, ctx: EmitContext): States {
  const names = stateNames(step.id);
  const itemGate = ctx.options.functions.itemGate;
  if (itemGate === undefined) return { [names.batch]: { ...batchInvocation(step, false), End: true } };
  return {
    [names.batchAdmit]: { ...admitTask(step, itemGate, '$.BatchInput.runId', '$.Items'), ResultPath: '$.admission', Next: names.batch },
    [names.batch]: {
      ...batchInvocation(step, true),
      ResultPath: '$.outcome',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: names.batchReleaseFailed }],
      Next: names.batchRelease,
    },
    ...routedRelease(step, itemGate, AGENT_PASSES.distributed, { release: names.batchRelease, releaseFailed: names.batchReleaseFailed, route: names.batchRoute }),
    [names.batchRoute]: routeChoice('$.fallback', names.batchAdmit, [{ Variable: '$.failed', IsPresent: true, Next: names.batchFail }], names.batchDone),
    [names.batchFail]: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
    [names.batchDone]: { Type: 'Succeed' },
  };
}

function reporterTask(
  ctx: EmitContext,
  stepId: string,
  status: 'succeeded' | 'skipped' | 'failed',
  extra: State,
  next: string | undefined,
  catchers?: State[],
): State {
  return {
    Type: 'Task',
    Resource: LAMBDA_INVOKE,
    Parameters: {
      FunctionName: ctx.options.functions.reporter,
      Payload: { 'runId.$': '$.runId', stepId, status, ...extra },
    },
    // The step's scratch (gate result, batch results) is replaced by a one-line summary to keep payloads small.
    ResultSelector: { stepId, status },
    ResultPath: '$.step',
    Retry: engineRetry(),
    ...(catchers ? { Catch: catchers } : {}),
    ...transition(next),
  };
}

function stepComment(step: WorkflowStep): string {
  const fanOut = step.forEach === undefined ? '' : ` for each item of ${step.forEach}`;
  return `${step.capability.skill}${fanOut}`;
}
