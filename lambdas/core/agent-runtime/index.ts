import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { agentRuntime, type AgentOutput, type AgentRuntimeOptions, type ItemFunction } from './runtime';
import { FatalAgentError } from './errors';

export * from './errors';
export * from './input';
export * from './runtime';
export * from './workspace';
// What an agent declares of itself to the registry (the custom resource and POST /agents take it as is).
export type { AgentRegistrationInput } from '../registry/agent';

export interface AgentDefinition extends AgentRuntimeOptions {
  /** The agent's work on one item; throw RetryableAgentError for transient trouble, anything else is fatal. */
  processItem: ItemFunction;
}

/**
 * The usual way to write an agent: the item function, wrapped in the runtime.
 *
 * ```ts
 * // In Lambda, lambdas/aws/agent-runtime.ts's defineAgent builds `deps` from the function's environment.
 * export const handler = defineAgent({
 *   agentId: 'my.agent',
 *   processItem: async (item, { workspace, progress }) => {
 *     await progress(0.5, { tokensUsed: 120 });
 *     return { outputKey: await workspace.putJson(`outputs/${item.key}.json`, { ok: true }), tokensUsed: 240 };
 *   },
 * });
 * ```
 * An agent needing the whole batch at once uses `middy(handler).use(agentRuntime(...))` and calls
 * `context.agentplane.runItems(fn)` itself.
 */
export function defineAgent(definition: AgentDefinition) {
  const { processItem, ...options } = definition;
  return middy(async (_event: unknown, context: Context): Promise<AgentOutput> => {
    if (!context.agentplane) throw new FatalAgentError('agent runtime middleware did not run');
    return context.agentplane.runItems(processItem);
  }).use(agentRuntime(options));
}
