import { defineAgent } from '../shared/agent-runtime';
import { discoveryItem } from '../shared/migration/agents';

/** Built-in agent `cobol-discovery` (registry id and skill). Domain logic: lambdas/shared/migration/. */
export const AGENT_ID = 'cobol-discovery';

export const handler = defineAgent({
  agentId: AGENT_ID,
  processItem: (item, ctx) => discoveryItem(item, ctx),
});
