import { defineAgent } from '../../../aws/agent-runtime';
import { analysisItem } from '../../agents/agents';

/** Built-in agent `cobol-analysis` (registry id and skill). Domain logic: lambdas/migration/agents/. */
export const AGENT_ID = 'cobol-analysis';

export const handler = defineAgent({
  agentId: AGENT_ID,
  processItem: (item, ctx) => analysisItem(item, ctx),
});
