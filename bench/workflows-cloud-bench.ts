/**
 * Registration latency through the REST API of a running cloud: `POST /workflows` = validate + compile +
 * Create/UpdateStateMachine with a published version + store, for 10- and 100-step workflows. New ids take
 * the create path, repeated ids the update path; both are measured. Figures, never assertions.
 */
import { randomUUID } from 'node:crypto';
import { mean, percentile } from './stats';

export interface WorkflowsCloudBenchTarget {
  restUrl: string;
  token: string;
  endpoints?: unknown;
  resources?: unknown;
}

/** A layered DAG: `width` parallel fan-out steps per layer, each depending on the whole previous layer. */
function layeredWorkflow(id: string, steps: number, width = 5) {
  return {
    id,
    description: `bench ${steps} steps`,
    parameters: { mode: { type: 'string', enum: ['a', 'b'], default: 'a' } },
    steps: Array.from({ length: steps }, (_, i) => {
      const layer = Math.floor(i / width);
      const dependsOn = layer === 0 ? [] : Array.from({ length: Math.min(width, steps) }, (_, j) => `s${(layer - 1) * width + j}`).filter((d) => Number(d.slice(1)) < i);
      return {
        id: `s${i}`,
        capability: { skill: 'diagnostics.delay' },
        ...(dependsOn.length > 0 ? { dependsOn } : {}),
        ...(i % 3 === 0 ? { forEach: 'inputs', batchSize: 10 } : {}),
        ...(i % 7 === 0 ? { when: { param: 'mode', equals: 'a' } } : {}),
        config: { delayMs: 0, label: '${params.mode}' },
      };
    }),
  };
}

async function timedRegister(target: WorkflowsCloudBenchTarget, body: unknown): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${target.restUrl}/workflows`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const elapsed = performance.now() - started;
  if (res.status !== 201) throw new Error(`POST /workflows: ${res.status} ${text.slice(0, 500)}`);
  return elapsed;
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

export async function runWorkflowsCloudBench(cloud: WorkflowsCloudBenchTarget, options: { repetitions?: number } = {}): Promise<Array<{ name: string; value: number; unit: string }>> {
  const repetitions = options.repetitions ?? 8;
  const rows: Array<{ name: string; value: number; unit: string }> = [];
  for (const steps of [10, 100]) {
    const created: number[] = [];
    const updated: number[] = [];
    const id = `bench-${steps}-${randomUUID().slice(0, 8)}`;
    // Warm-up: the first call pays the function's cold start, which is not what is measured.
    await timedRegister(cloud, layeredWorkflow(`bench-warm-${randomUUID().slice(0, 8)}`, steps));
    for (let i = 0; i < repetitions; i++) {
      created.push(await timedRegister(cloud, layeredWorkflow(`${id}-${i}`, steps)));
      // A changed description is a new workflow version and a new state machine version.
      updated.push(await timedRegister(cloud, { ...layeredWorkflow(`${id}-${i}`, steps), description: `bench update ${i}` }));
    }
    rows.push(
      { name: `workflows.register.create.${steps}-steps.p50`, value: round(percentile(created, 50)), unit: 'ms' },
      { name: `workflows.register.create.${steps}-steps.mean`, value: round(mean(created)), unit: 'ms' },
      { name: `workflows.register.update.${steps}-steps.p50`, value: round(percentile(updated, 50)), unit: 'ms' },
      { name: `workflows.register.update.${steps}-steps.max`, value: round(Math.max(...updated)), unit: 'ms' },
    );
  }
  return rows;
}
