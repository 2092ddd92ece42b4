import { defineAgent } from '../../../aws/agent-runtime';
import { reportItem } from '../../agents/agents';

/** Built-in agent `report-writing` (registry id and skill). Domain logic: lambdas/migration/agents/. */
export const AGENT_ID = 'report-writing';

export const handler = defineAgent({
  agentId: AGENT_ID,
  processItem: (item, ctx) => reportItem(item, ctx),
});
