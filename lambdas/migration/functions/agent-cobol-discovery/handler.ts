import { defineAgent } from '../../../aws/agent-runtime';
import { discoveryItem } from '../../agents/agents';

/** Built-in agent `cobol-discovery` (registry id and skill). Domain logic: lambdas/migration/agents/. */
export const AGENT_ID = 'cobol-discovery';

export const handler = defineAgent({
  agentId: AGENT_ID,
  processItem: (item, ctx) => discoveryItem(item, ctx),
});
