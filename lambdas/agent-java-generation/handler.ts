import { defineAgent } from '../shared/agent-runtime';
import { generationItem } from '../shared/migration/agents';

/** Built-in agent `java-generation` (registry id and skill). Domain logic: lambdas/shared/migration/. */
export const AGENT_ID = 'java-generation';

export const handler = defineAgent({
  agentId: AGENT_ID,
  processItem: (item, ctx) => generationItem(item, ctx),
});
