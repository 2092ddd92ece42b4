import { z } from 'zod';
import { STEP_DEFAULTS } from '../workflow/schema';
import { jsonPath } from '../validation';
import { InvalidAgentInputError } from './errors';

/**
 * The agent input of CONTRACT.md, `{runId, stepId, items, workspace, parameters, config, upstream, attempt}`,
 * plus optional fields the engine may add (all of them optional, so an input built to the contract alone
 * is accepted):
 * - `agentId`: the registry id the engine selected. One Lambda may be registered under several ids (a
 *   built-in reused by a custom registration); metrics, limits and idempotency follow the id.
 * - `epoch`: bumped by the engine when it deliberately re-runs items (fallback to another candidate, a
 *   redrive); retries within an epoch are deduplicated, a new epoch runs again.
 * - `total`: items of the whole step (ItemStarted.total); `items[].index`: the item's index in the step.
 * - `retry`: the step's retry policy, so the runtime knows whether a retryable failure will be retried.
 * - `circuitBreaker`: true when the engine has another candidate for these items: the runtime then refuses
 *   the call while the agent's circuit is open (Agentplane.CircuitOpen) and claims the one probe call after
 *   the cool-down. Absent or false: the call goes through whatever the circuit says (nowhere else to go).
 */
const AgentItemSchema = z
  .object({
    key: z.string().min(1).max(1024),
    index: z.number().int().nonnegative().optional(),
    size: z.number().int().nonnegative().optional(),
  })
  .loose();
export type AgentItem = z.output<typeof AgentItemSchema>;

const RetryPolicySchema = z.object({
  maxAttempts: z.number().int().min(0).max(100),
  intervalSeconds: z.number().nonnegative().default(STEP_DEFAULTS.retry.intervalSeconds),
  backoffRate: z.number().min(1).default(STEP_DEFAULTS.retry.backoffRate),
  maxDelaySeconds: z.number().positive().optional(),
});
export type RetryPolicy = z.output<typeof RetryPolicySchema>;

const AgentInputSchema = z.object({
  runId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, '1 to 128 letters, digits, ".", "_" or "-"'),
  stepId: z.string().min(1).max(128),
  items: z.array(AgentItemSchema).max(10_000),
  workspace: z.object({ bucket: z.string().min(1), prefix: z.string().min(1) }),
  parameters: z.record(z.string(), z.unknown()).default({}),
  config: z.record(z.string(), z.unknown()).default({}),
  upstream: z.unknown().optional(),
  attempt: z.number().int().min(1).default(1),
  agentId: z.string().min(1).max(64).optional(),
  epoch: z.number().int().nonnegative().default(0),
  total: z.number().int().nonnegative().optional(),
  retry: RetryPolicySchema.optional(),
  circuitBreaker: z.boolean().default(false),
});
export type AgentInput = z.output<typeof AgentInputSchema>;

/** A step without forEach runs its agent once, on this one pseudo item (the step itself). */
export const STEP_ITEM_KEY = '@step';

export function parseAgentInput(event: unknown): AgentInput {
  const result = AgentInputSchema.safeParse(event);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({ path: jsonPath(issue.path), message: issue.message }));
  throw new InvalidAgentInputError(`Invalid agent input: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
}

export function runPrefix(runId: string): string {
  return `runs/${runId}/`;
}

/** Whether a retryable failure at this attempt will be retried by the step's policy, and after how long. */
export function nextRetry(attempt: number, policy: RetryPolicy | undefined): { attempt: number; nextDelayMs: number } | null {
  const p = policy ?? { ...STEP_DEFAULTS.retry, maxDelaySeconds: undefined };
  // Step Functions' MaxAttempts counts retries: attempt n (1-based) is followed by another while n <= MaxAttempts.
  if (attempt > p.maxAttempts) return null;
  let delay = p.intervalSeconds * p.backoffRate ** (attempt - 1);
  if (p.maxDelaySeconds !== undefined) delay = Math.min(delay, p.maxDelaySeconds);
  return { attempt: attempt + 1, nextDelayMs: Math.round(delay * 1000) };
}

export function isHealthCheck(event: unknown): boolean {
  return !!event && typeof event === 'object' && (event as Record<string, unknown>).agentplaneHealthCheck === true;
}
