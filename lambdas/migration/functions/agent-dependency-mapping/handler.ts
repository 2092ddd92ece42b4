import { defineAgent } from '../../../aws/agent-runtime';
import { dependencyItem } from '../../agents/agents';

/** Built-in agent `dependency-mapping` (registry id and skill). Domain logic: lambdas/migration/agents/. */
export const AGENT_ID = 'dependency-mapping';

export const handler = defineAgent({
  agentId: AGENT_ID,
  processItem: (item, ctx) => dependencyItem(item, ctx),
});
