import { StateMachine } from 'aws-local-stepfunctions';
import type { WorkflowDefinition } from '../../../../lambdas/core/workflow/schema';
import type { AslMachine } from './asl';
import type { RunParameters } from './workflows';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Handler = (input: Json) => Promise<Json>;

export interface Trace {
  /** Global sequence number of each recorded event. */
  events: Array<{ seq: number; kind: 'gate' | 'agent' | 'done' | 'skipped' | 'failed'; stepId: string; items?: string[] }>;
  /** Number of times the driver released the agents blocked at that moment. */
  rounds: number;
  /** Items each fan-out step was given by the (test) gate. */
  itemsOf: Map<string, string[]>;
  output: unknown;
}

export interface HarnessOptions {
  parameters: RunParameters;
  inputs: string[];
}

/**
 * Runs a compiled machine on aws-local-stepfunctions with recording handlers for every engine and agent
 * Task. Agents block until the driver releases them; the driver waits until the interpreter is idle and
 * then releases every blocked agent at once, so each release is one "round" of step units: the number of
 * rounds is the makespan of the machine when every executed step takes one unit.
 */
export async function runCompiled(definition: WorkflowDefinition, asl: AslMachine, options: HarnessOptions): Promise<Trace> {
  const trace: Trace = { events: [], rounds: 0, itemsOf: new Map(), output: undefined };
  let seq = 0;
  let activity = 0;
  const record = (kind: Trace['events'][number]['kind'], stepId: string, items?: string[]) => {
    activity++;
    trace.events.push({ seq: ++seq, kind, stepId, ...(items ? { items } : {}) });
  };
  const blocked: Array<() => void> = [];
  const byId = new Map(definition.steps.map((s) => [s.id, s]));

  const handlers: Record<string, Handler> = {};
  for (const step of definition.steps) {
    const id = step.id;
    handlers[`${id}.gate`] = async (input) => {
      record('gate', id);
      const payload = (input as { Payload: { stepId: string; taskToken: string } }).Payload;
      if (payload.stepId !== id || payload.taskToken !== 'test-task-token') throw new Error(`bad gate payload for ${id}`);
      const result: Record<string, Json> = {
        agent: { agentId: `agent-${id}`, functionArn: `arn:aws:lambda:us-east-1:123456789012:function:agent-${id}` },
        config: {},
        upstream: (step.dependsOn ?? []).map((d) => ({ stepId: d })),
        maxConcurrency: 0,
      };
      if (step.forEach !== undefined) {
        const items = step.forEach === 'inputs' ? options.inputs : (trace.itemsOf.get(step.forEach) ?? []);
        const keys = items.map((k) => `${k}>${id}`);
        trace.itemsOf.set(id, keys);
        const size = step.batchSize ?? 1;
        const batches: Json[] = [];
        for (let i = 0; i < keys.length; i += size) batches.push(keys.slice(i, i + size).map((key) => ({ key })));
        result.itemCount = keys.length;
        result.batches = batches;
      }
      return result;
    };
    const agent: Handler = (input) =>
      new Promise((resolve) => {
        const payload = (input as { Payload: { stepId: string; items: Array<{ key: string }>; attempt: number } }).Payload;
        if (payload.stepId !== id || payload.attempt !== 1) throw new Error(`bad agent payload for ${id}`);
        const keys = payload.items.map((i) => i.key);
        record('agent', id, keys);
        blocked.push(() => { resolve({ Payload: { results: keys.map((key) => ({ item: key, status: 'succeeded', outputKey: `out/${key}`, metrics: {} })) } }); },
        );
      });
    handlers[id] = agent;
    handlers[`${id}.item`] = agent;
    for (const kind of ['done', 'skipped', 'failed'] as const) {
      handlers[`${id}.${kind}`] = async (input) => {
        record(kind, id);
        const payload = (input as { Payload: { stepId: string; status: string } }).Payload;
        const expected = { done: 'succeeded', skipped: 'skipped', failed: 'failed' }[kind];
        if (payload.stepId !== id || payload.status !== expected) throw new Error(`bad reporter payload for ${id}`);
        return { ok: true };
      };
    }
  }
  if (byId.size !== definition.steps.length) throw new Error('duplicate step ids');

  // The caller validates with asl-validator; validating again here would double the cost of every run.
  const machine = new StateMachine(asl as never, { validationOptions: { noValidate: true } });
  const execution = machine.run(
    {
      runId: 'run-1',
      tenant: 'tenant-1',
      workflowId: definition.id,
      parameters: options.parameters,
      workspace: { bucket: 'workspace-bucket', prefix: 'runs/run-1/' },
    },
    {
      overrides: { taskResourceLocalHandlers: handlers },
      context: { Task: { Token: 'test-task-token' }, State: { RetryCount: 0 } },
    },
  );
  let finished = false;
  let failure: unknown;
  execution.result.then(
    (output) => {
      trace.output = output;
      finished = true;
    },
    (error: unknown) => {
      failure = error;
      finished = true;
    },
  );
  // Read through a function: the callbacks above set `finished`, which TypeScript's narrowing does not see.
  const isFinished = () => finished;
  while (!isFinished()) {
    await idle(() => activity);
    if (isFinished()) break;
    if (blocked.length === 0) {
      await new Promise((r) => setTimeout(r, 1));
      continue;
    }
    trace.rounds++;
    for (const release of blocked.splice(0)) release();
  }
  // The interpreter rejects with the execution's error.
  if (failure !== undefined) throw failure as Error;
  return trace;
}

/** Waits until the interpreter has gone several event-loop turns without calling a handler. */
async function idle(activity: () => number): Promise<void> {
  let last = activity();
  let quiet = 0;
  while (quiet < 4) {
    await new Promise((r) => setImmediate(r));
    const now = activity();
    if (now === last) quiet++;
    else {
      quiet = 0;
      last = now;
    }
  }
}
