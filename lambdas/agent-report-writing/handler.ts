import { defineAgent } from '../shared/agent-runtime';
import { reportItem } from '../shared/migration/agents';

/** Built-in agent `report-writing` (registry id and skill). Domain logic: lambdas/shared/migration/. */
export const AGENT_ID = 'report-writing';

export const handler = defineAgent({
  agentId: AGENT_ID,
  processItem: (item, ctx) => reportItem(item, ctx),
});
