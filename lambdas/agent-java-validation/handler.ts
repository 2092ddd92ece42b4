import { defineAgent } from '../shared/agent-runtime';
import { validationItem } from '../shared/migration/agents';

/** Built-in agent `java-validation` (registry id and skill). Domain logic: lambdas/shared/migration/. */
export const AGENT_ID = 'java-validation';

export const handler = defineAgent({
  agentId: AGENT_ID,
  processItem: (item, ctx) => validationItem(item, ctx),
});
