import { defineAgent } from '../../../aws/agent-runtime';
import { validationItem } from '../../agents/agents';

/** Built-in agent `java-validation` (registry id and skill). Domain logic: lambdas/migration/agents/. */
export const AGENT_ID = 'java-validation';

export const handler = defineAgent({
  agentId: AGENT_ID,
  processItem: (item, ctx) => validationItem(item, ctx),
});
