/**
 * The `diagnostics.delay` agent's logic, free of AWS: wait, then write each item's output, failing the items
 * whose key matches `failPattern`. Lets workflows be exercised and benchmarked before real agents exist.
 *
 * Diagnostic knobs (all in the step's `config`):
 * - `delayMs`, `failPattern`, `tokensPerItem`: as above; `retryablePattern`: fail matching items with a
 *   retryable error instead (exercises retries and fallback);
 * - `retryableAttempts`: fail every item with a retryable error on attempts 1..n, then run normally (an agent
 *   that fails twice then succeeds; exercises the attempt number the workflow derives from Step Functions'
 *   `$$.State.RetryCount`);
 * - `onlyOnAgent`: a pattern of agent ids; when set, `failPattern` and `retryablePattern` apply only on the
 *   agents it matches (one function registered under several ids: a failing agent beside a healthy one);
 * - `writeKey`: write every item to this workspace key instead (exercises the runtime's prefix confinement);
 * - `probeConcurrency`: a name; the agent counts its own invocations in flight under it in a shared place
 *   and records the highest count seen (checks the runtime's concurrency limit from the agent's side);
 * - `llmPrompt` (+ `llmMaxTokens`): before the patterns apply, make one call per item to the LLM provider the
 *   function is configured with (AGENTPLANE_LLM_*, offline when unset; lib/agents.ts fills them from
 *   AGENTPLANE_DIAGNOSTICS_LLM_* at synth), and report its real usage, cost, provider and model, on success and
 *   on failure alike (exercises the accounting of failed and retried items).
 */
import { z } from 'zod';
import type { ItemContext, ItemOutput } from '../core/agent-runtime/runtime';
import type { AgentItem } from '../core/agent-runtime/input';
import { FatalAgentError, RetryableAgentError } from '../core/agent-runtime/errors';
import type { LlmProvider } from '../llm/types';

const DelayConfig = z
  .object({
    delayMs: z.number().int().min(0).max(900_000).default(0),
    failPattern: z.string().max(200).optional(),
    retryablePattern: z.string().max(200).optional(),
    retryableAttempts: z.number().int().min(0).max(100).default(0),
    onlyOnAgent: z.string().max(200).optional(),
    tokensPerItem: z.number().int().min(0).default(0),
    writeKey: z.string().max(1024).optional(),
    probeConcurrency: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
    llmPrompt: z.string().min(1).max(8_000).optional(),
    llmMaxTokens: z.number().int().min(1).max(4_096).default(64),
  })
  .loose();
type DelayConfig = z.output<typeof DelayConfig>;

/** Counts invocations in flight under a name, in a place every execution environment shares. */
export interface ConcurrencyProbe {
  enter(name: string): Promise<void>;
  exit(name: string): Promise<void>;
}

export interface DelayDeps {
  sleep(ms: number): Promise<void>;
  probe?: ConcurrencyProbe;
  now?: () => number;
  /** The function's LLM provider (one per execution environment), for `llmPrompt`. */
  llm?: () => Promise<LlmProvider>;
}

/**
 * The one LLM call of `llmPrompt`. The run, step, item and attempt are in the prompt so a test server can tell
 * whose calls it answered. Its spend is reported through progress at once, so an item failing right after still
 * carries it in ItemFailed (and the run's totals count it).
 */
async function callLlm(item: AgentItem, ctx: ItemContext, prompt: string, config: DelayConfig, deps: DelayDeps): Promise<ItemOutput> {
  if (!deps.llm) throw new FatalAgentError('llmPrompt is set but this agent has no LLM provider');
  const llm = await deps.llm();
  const { runId, stepId, attempt } = ctx.input;
  const response = await llm.complete({
    system: 'Agentplane diagnostics agent: answer in one short sentence.',
    messages: [{ role: 'user', content: `${prompt}\n\nrun ${runId} step ${stepId} item ${item.key} attempt ${attempt}` }],
    maxTokens: config.llmMaxTokens,
    temperature: 0,
  });
  const spent = { tokensUsed: response.usage.totalTokens, costUsd: response.costUsd, provider: llm.name, model: llm.model };
  await ctx.progress(0.5, spent);
  return spent;
}

class DiagnosticFailure extends Error {
  override readonly name = 'DiagnosticFailure';
}

/** One item, on the agent runtime: the runtime supplies the confined workspace and emits the events. */
export async function processDelayItem(item: AgentItem, ctx: ItemContext, deps: DelayDeps): Promise<ItemOutput> {
  const config = DelayConfig.parse(ctx.input.config);
  const now = deps.now ?? Date.now;
  if (config.probeConcurrency && deps.probe) await deps.probe.enter(config.probeConcurrency);
  try {
    if (config.delayMs > 0) {
      await ctx.progress(0, { tokensUsed: 0, etaMs: config.delayMs });
      await deps.sleep(config.delayMs);
    }
    const spent = config.llmPrompt ? await callLlm(item, ctx, config.llmPrompt, config, deps) : undefined;
    const failing = config.onlyOnAgent === undefined || new RegExp(config.onlyOnAgent).test(ctx.agentId);
    if (failing && ctx.input.attempt <= config.retryableAttempts) {
      throw new RetryableAgentError(`item ${item.key} fails at attempt ${ctx.input.attempt} of the first ${config.retryableAttempts} (retryableAttempts)`);
    }
    if (failing && config.retryablePattern && new RegExp(config.retryablePattern).test(item.key)) {
      throw new RetryableAgentError(`item ${item.key} matches retryablePattern ${config.retryablePattern}`);
    }
    if (failing && config.failPattern && new RegExp(config.failPattern).test(item.key)) {
      throw new DiagnosticFailure(`item ${item.key} matches failPattern ${config.failPattern}`);
    }
    const key = config.writeKey ?? outputKeyFor(ctx.input, item.key);
    const outputKey = await ctx.workspace.putJson(key, {
      item: { key: item.key },
      stepId: ctx.input.stepId,
      runId: ctx.input.runId,
      agentId: ctx.agentId,
      processedAt: new Date(now()).toISOString(),
    });
    // tokensPerItem is synthetic (no provider); an LLM call adds its real usage and cost.
    return spent ? { ...spent, outputKey, tokensUsed: config.tokensPerItem + (spent.tokensUsed ?? 0) } : { outputKey, tokensUsed: config.tokensPerItem, costUsd: 0 };
  } finally {
    if (config.probeConcurrency && deps.probe) await deps.probe.exit(config.probeConcurrency);
  }
}

export class WorkspaceViolationError extends Error {
  override readonly name = 'Agentplane.Fatal';
}

/** `runs/<runId>/outputs/<stepId>/<item key>.json`, dot segments dropped. */
export function outputKeyFor(input: { runId: string; stepId: string; workspace: { prefix: string } }, itemKey: string): string {
  const expected = `runs/${input.runId}/`;
  if (input.workspace.prefix !== expected) {
    throw new WorkspaceViolationError(`workspace prefix ${input.workspace.prefix} is not the run's prefix ${expected}`);
  }
  const base = itemKey.split('/').filter((p) => p !== '' && p !== '.' && p !== '..').join('/') || 'item';
  return `${expected}outputs/${input.stepId}/${base}.json`;
}
