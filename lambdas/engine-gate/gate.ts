import { resolveConfig } from '../core/workflow/params';
import { AgentplaneErrorName } from '../core/workflow/errors';
import type { ScalarValue } from '../core/workflow/schema';
import { MAX_EVENT_CANDIDATES, type EventName } from '../core/events/schemas';
import type { SelectionItem } from '../core/registry/selection';
import { OUTPUTS_FILE, stepStateKey, type StepState } from '../aws/step-state';
import type { AgentRoute } from '../core/runs/fallback';

/**
 * The gate before each step (docs/engine.md, "Gate"): asks admission, lists the step's items, selects
 * the agent, writes the manifest (distributed) or the batches (inline), records the step as running, emits
 * AgentSelected and StepStarted, and answers the task token. No AWS here: the handler supplies the deps.
 */

interface GateStepSpec {
  capability: { skill: string; input?: string; output?: string; constraints?: Record<string, unknown> };
  dependsOn: string[];
  forEach?: string;
  config?: Record<string, unknown>;
  maxConcurrency?: number;
  batchSize?: number;
  mode?: 'inline' | 'distributed' | 'adaptive';
  inlineMaxItems?: number;
  manifestKey?: string;
  /** Agent passes the step's batches may make (1: its items cannot fall back). */
  maxPasses?: number;
}

/** When a step may start: the gate asks before doing any work for it (./admission.ts has the run-control policy). */
type Admission =
  | { admit: true; /** Overrides the step's maxConcurrency (0 = no limit). */ maxConcurrency?: number }
  | { admit: false; reason: string };

export interface AdmissionPolicy {
  decide(event: GateEvent): Promise<Admission>;
}

export interface GateEvent {
  taskToken: string;
  runId: string;
  stepId: string;
  step: GateStepSpec;
  workspace: { bucket: string; prefix: string };
  parameters: Record<string, ScalarValue | undefined>;
}

interface GateItem {
  key: string;
  index: number;
  size?: number;
  /** For items that are an upstream step's outputs: the item that output was made from. */
  source?: string;
}

interface UpstreamRef {
  stepId: string;
  status: string;
  prefix: string;
}

interface GateOutput {
  /** The step's agent, and where its items start their fallback route (lambdas/core/runs/fallback.ts). */
  agent: AgentRoute;
  config: Record<string, unknown>;
  upstream: UpstreamRef[];
  maxConcurrency?: number;
  itemCount?: number;
  batches?: Array<Array<Omit<GateItem, 'source'> & { source?: string }>>;
}

interface SelectedAgent {
  chosen: { agentId: string; functionArn: string; revision: number; score: number };
  /** Other candidates the step's items could fall back to. */
  alternatives: number;
  /** AgentSelected payload, built by the registry's helper. */
  event: { stepId: string; agentId: string; score: number; candidates: Array<{ agentId: string; score: number; reasons: string[] }> };
}

export interface GateDeps {
  admission: AdmissionPolicy;
  listObjects(bucket: string, prefix: string): Promise<Array<{ key: string; size: number }>>;
  readJson(bucket: string, key: string): Promise<unknown>;
  writeJson(bucket: string, key: string, value: unknown): Promise<void>;
  /** Throws an error named Agentplane.NoAgent when nothing serves the capability. */
  select(stepId: string, capability: GateStepSpec['capability'], items: readonly SelectionItem[]): Promise<SelectedAgent>;
  steps: {
    merge(runId: string, stepId: string, fields: StepState): Promise<void>;
    steps(runId: string): Promise<Record<string, StepState> | undefined>;
  };
  emit(runId: string, events: Array<{ event: EventName; payload: unknown }>): Promise<void>;
  sendSuccess(taskToken: string, output: GateOutput): Promise<void>;
  sendFailure(taskToken: string, error: string, cause: string): Promise<void>;
  clock(): number;
  log: { warn(message: string, extra?: object): void; error(message: string, extra?: object): void };
}

/** Failures the gate reports on the token, by error name (Step Functions' Catch routes them to `<id>.failed`). */
class GateFailure extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
    this.name = errorName;
  }
}

/** Step Functions caps a cause at 32,768 characters. */
const MAX_CAUSE = 32_000;

export type GateResult = { outcome: 'admitted'; output: GateOutput } | { outcome: 'held'; reason: string } | { outcome: 'failed'; error: string; cause: string };

export async function runGate(event: GateEvent, deps: GateDeps): Promise<GateResult> {
  let admission: Admission;
  try {
    admission = await deps.admission.decide(event);
    if (!admission.admit) return { outcome: 'held', reason: admission.reason };
    const output = await prepareStep(event, deps, admission.maxConcurrency);
    await deps.sendSuccess(event.taskToken, output);
    return { outcome: 'admitted', output };
  } catch (error) {
    const name = error instanceof GateFailure || isAgentplaneName(error) ? (error as Error).name : 'Agentplane.GateFailed';
    const cause = (error instanceof Error ? error.message : String(error)).slice(0, MAX_CAUSE);
    if (name === 'Agentplane.GateFailed') deps.log.error('gate failed', { runId: event.runId, stepId: event.stepId, error: String(error) });
    // If this throws too, the invocation fails and Step Functions fails (or retries) the task itself.
    await deps.sendFailure(event.taskToken, name, cause);
    return { outcome: 'failed', error: name, cause };
  }
}

function isAgentplaneName(error: unknown): boolean {
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' && name.startsWith('Agentplane.');
}

function checkEvent(event: GateEvent): void {
  const expected = `runs/${event.runId}/`;
  // The event is the state machine's input: checked, not trusted.
  const prefix = (event as { workspace?: { prefix?: unknown } }).workspace?.prefix;
  if (prefix !== expected) {
    throw new GateFailure('Agentplane.Fatal', `workspace prefix ${JSON.stringify(prefix)} is not the run's prefix ${expected}`);
  }
}

async function listItems(event: GateEvent, deps: GateDeps): Promise<GateItem[] | undefined> {
  const forEach = event.step.forEach;
  if (forEach === undefined) return undefined;
  const { bucket } = event.workspace;
  if (forEach === 'inputs') {
    const objects = await deps.listObjects(bucket, `${event.workspace.prefix}inputs/`);
    // Folder markers (keys ending in "/") are not items.
    return objects.filter((o) => !o.key.endsWith('/')).map((o, index) => ({ key: o.key, size: o.size, index }));
  }
  const recorded = await deps.readJson(bucket, stepStateKey(event.runId, forEach, OUTPUTS_FILE));
  if (recorded === undefined) return [];
  if (!Array.isArray(recorded)) throw new GateFailure('Agentplane.Fatal', `the recorded outputs of step "${forEach}" are not a list`);
  return recorded
    .filter((o: unknown): o is { key: string; source?: string } => typeof (o as { key?: unknown } | null)?.key === 'string')
    .map((o, index) => ({ key: o.key, index, ...(typeof o.source === 'string' ? { source: o.source } : {}) }));
}

/** Everything but the token answer: exported for the runs issue's resume path and for tests. */
async function prepareStep(event: GateEvent, deps: GateDeps, maxConcurrencyOverride?: number): Promise<GateOutput> {
  checkEvent(event);
  const { step, runId, stepId } = event;
  const [items, recorded] = await Promise.all([listItems(event, deps), deps.steps.steps(runId)]);
  if (recorded === undefined) throw new GateFailure('Agentplane.RunNotFound', `run ${runId} has no run record`);

  const selectionItems = (items ?? []).map((i) => ({ key: i.key, size: i.size ?? 0 }));
  const selected = await deps.select(stepId, step.capability, selectionItems);

  const output: GateOutput = {
    agent: {
      agentId: selected.chosen.agentId,
      functionArn: selected.chosen.functionArn,
      epoch: 0,
      tried: [],
      // Refusing calls on an open circuit only helps when the items can go elsewhere.
      circuitBreaker: selected.alternatives > 0 && (step.maxPasses ?? 1) > 1,
    },
    config: resolveConfig(step.config ?? {}, event.parameters),
    upstream: step.dependsOn.map((dep) => ({
      stepId: dep,
      status: (recorded[dep] as StepState | undefined)?.status ?? 'unknown',
      prefix: `${event.workspace.prefix}state/${dep}/`,
    })),
  };

  let mode: string = 'single';
  if (items !== undefined) {
    const itemCount = items.length;
    output.itemCount = itemCount;
    output.maxConcurrency = maxConcurrencyOverride ?? step.maxConcurrency ?? 0;
    const inlineMax = step.inlineMaxItems ?? 0;
    const inline = step.mode === 'inline' || (step.mode === 'adaptive' && itemCount <= inlineMax);
    if (step.mode === 'inline' && itemCount > inlineMax) {
      throw new GateFailure(
        AgentplaneErrorName.TooManyItems,
        `step "${stepId}" has ${itemCount} items; its inline Map was compiled for at most ${inlineMax} (mark the step distributed: true)`,
      );
    }
    if (inline) {
      const size = Math.max(1, step.batchSize ?? 1);
      const batches: NonNullable<GateOutput['batches']> = [];
      for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
      output.batches = batches;
      mode = 'inline';
    } else {
      if (!step.manifestKey) throw new GateFailure('Agentplane.Fatal', `step "${stepId}" runs distributed but its manifest key is missing`);
      await deps.writeJson(event.workspace.bucket, step.manifestKey, items);
      mode = 'distributed';
    }
  }

  const totalItems = items?.length ?? 1;
  const startedAt = new Date(deps.clock()).toISOString();
  await deps.steps.merge(runId, stepId, {
    status: 'running',
    agentId: selected.chosen.agentId,
    agentRevision: selected.chosen.revision,
    skill: step.capability.skill,
    totalItems,
    succeeded: 0,
    failed: 0,
    tokens: 0,
    costUsd: 0,
    startedAt,
    mode,
  });
  await deps.emit(runId, [
    { event: 'AgentSelected', payload: { ...selected.event, candidates: selected.event.candidates.slice(0, MAX_EVENT_CANDIDATES) } },
    { event: 'StepStarted', payload: { stepId, skill: step.capability.skill, agentId: selected.chosen.agentId, totalItems } },
  ]);
  return output;
}
