import { defineAgent } from '../shared/agent-runtime';
import { analysisItem } from '../shared/migration/agents';

/** Built-in agent `cobol-analysis` (registry id and skill). Domain logic: lambdas/shared/migration/. */
export const AGENT_ID = 'cobol-analysis';

export const handler = defineAgent({
  agentId: AGENT_ID,
  processItem: (item, ctx) => analysisItem(item, ctx),
});
