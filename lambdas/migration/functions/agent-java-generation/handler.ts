import { defineAgent } from '../../../aws/agent-runtime';
import { generationItem } from '../../agents/agents';

/** Built-in agent `java-generation` (registry id and skill). Domain logic: lambdas/migration/agents/. */
export const AGENT_ID = 'java-generation';

export const handler = defineAgent({
  agentId: AGENT_ID,
  processItem: (item, ctx) => generationItem(item, ctx),
});
