/**
 * The `diagnostics.delay` agent's logic, free of AWS: wait, then write each item's output, failing the items
 * whose key matches `failPattern`. Lets workflows be exercised and benchmarked before real agents exist.
 */
import { z } from 'zod';

export const DelayConfig = z
  .object({
    delayMs: z.number().int().min(0).max(900_000).default(0),
    failPattern: z.string().max(200).optional(),
    tokensPerItem: z.number().int().min(0).default(0),
  })
  .passthrough();

export const AgentInput = z.object({
  runId: z.string().min(1),
  stepId: z.string().min(1),
  items: z.array(z.object({ key: z.string().min(1) }).passthrough()).max(10_000),
  workspace: z.object({ bucket: z.string().min(1), prefix: z.string().min(1) }),
  parameters: z.record(z.string(), z.unknown()).default({}),
  config: z.record(z.string(), z.unknown()).default({}),
  upstream: z.unknown().optional(),
  attempt: z.number().int().min(0).default(1),
});
export type AgentInput = z.output<typeof AgentInput>;

export interface ItemResult {
  item: { key: string };
  status: 'succeeded' | 'failed';
  outputKey?: string;
  error?: { type: string; message: string };
  metrics: { durationMs: number; tokensUsed: number; costUsd: number; retryCount: number };
}

export interface WorkspaceWriter {
  put(key: string, body: string): Promise<void>;
}

export class WorkspaceViolationError extends Error {
  override readonly name = 'Agentplane.Fatal';
}

/** `runs/<runId>/` is the only prefix an agent may write under. */
export function outputKeyFor(input: AgentInput, itemKey: string): string {
  const expected = `runs/${input.runId}/`;
  if (input.workspace.prefix !== expected) {
    throw new WorkspaceViolationError(`workspace prefix ${input.workspace.prefix} is not the run's prefix ${expected}`);
  }
  const base = itemKey.split('/').filter((p) => p !== '' && p !== '.' && p !== '..').join('/') || 'item';
  return `${expected}outputs/${input.stepId}/${base}.json`;
}

export async function runDelayAgent(
  input: AgentInput,
  writer: WorkspaceWriter,
  sleep: (ms: number) => Promise<void>,
  now: () => number = Date.now,
): Promise<{ results: ItemResult[] }> {
  const config = DelayConfig.parse(input.config);
  const failRegex = config.failPattern ? new RegExp(config.failPattern) : undefined;
  const results: ItemResult[] = [];
  for (const item of input.items) {
    const started = now();
    if (config.delayMs > 0) await sleep(config.delayMs);
    const metrics = { durationMs: 0, tokensUsed: config.tokensPerItem, costUsd: 0, retryCount: Math.max(0, input.attempt - 1) };
    if (failRegex?.test(item.key)) {
      results.push({
        item: { key: item.key },
        status: 'failed',
        error: { type: 'DiagnosticFailure', message: `item ${item.key} matches failPattern ${config.failPattern}` },
        metrics: { ...metrics, durationMs: now() - started },
      });
      continue;
    }
    const outputKey = outputKeyFor(input, item.key);
    await writer.put(outputKey, JSON.stringify({ item, stepId: input.stepId, runId: input.runId, processedAt: new Date(now()).toISOString() }));
    results.push({ item: { key: item.key }, status: 'succeeded', outputKey, metrics: { ...metrics, durationMs: now() - started } });
  }
  return { results };
}
