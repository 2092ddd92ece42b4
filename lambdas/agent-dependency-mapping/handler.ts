import { defineAgent } from '../shared/agent-runtime';
import { dependencyItem } from '../shared/migration/agents';

/** Built-in agent `dependency-mapping` (registry id and skill). Domain logic: lambdas/shared/migration/. */
export const AGENT_ID = 'dependency-mapping';

export const handler = defineAgent({
  agentId: AGENT_ID,
  processItem: (item, ctx) => dependencyItem(item, ctx),
});
