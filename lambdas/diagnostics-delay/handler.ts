import { setTimeout as sleep } from 'node:timers/promises';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { defineAgent } from '../aws/agent-runtime';
import { dynamo } from '../aws/clients';
import { isConditionFailure } from '../aws/conditions';
import { createProvider, llmConfigFromEnv } from '../llm/config';
import type { LlmProvider } from '../llm/types';
import { processDelayItem, type ConcurrencyProbe } from './delay-agent';

export const AGENT_ID = 'diagnostics.delay';

/**
 * `probeConcurrency`: in-flight count and its maximum in one item of the agents table the runtime is bound
 * to anyway (`pk DIAG#<name>`, never read by the registry). ADD is atomic, so the maximum seen is exact.
 */
function dynamoProbe(): ConcurrencyProbe | undefined {
  const table = process.env.AGENTS_TABLE;
  if (!table) return undefined;
  const key = (name: string) => ({ pk: `DIAG#${name}`, sk: 'INFLIGHT' });
  return {
    async enter(name) {
      const { Attributes } = await dynamo().send(
        new UpdateCommand({ TableName: table, Key: key(name), UpdateExpression: 'ADD inFlight :one, entered :one', ExpressionAttributeValues: { ':one': 1 }, ReturnValues: 'UPDATED_NEW' }),
      );
      const now = Number(Attributes?.inFlight ?? 0);
      await dynamo()
        .send(
          new UpdateCommand({
            TableName: table,
            Key: key(name),
            UpdateExpression: 'SET maxInFlight = :n',
            ConditionExpression: 'attribute_not_exists(maxInFlight) OR maxInFlight < :n',
            ExpressionAttributeValues: { ':n': now },
          }),
        )
        .catch((error: unknown) => {
          if (!isConditionFailure(error)) throw error;
        });
    },
    async exit(name) {
      await dynamo().send(new UpdateCommand({ TableName: table, Key: key(name), UpdateExpression: 'ADD inFlight :minus', ExpressionAttributeValues: { ':minus': -1 } }));
    },
  };
}

const probe = dynamoProbe();

/** The function's LLM (AGENTPLANE_LLM_*; offline when unset), built on first use and shared by later invocations. */
let provider: Promise<LlmProvider> | undefined;
const llm = () => {
  provider ??= createProvider(llmConfigFromEnv()).catch((error: unknown) => {
    provider = undefined;
    throw error;
  });
  return provider;
};

export const handler = defineAgent({
  agentId: AGENT_ID,
  processItem: (item, ctx) => processDelayItem(item, ctx, { sleep: (ms) => sleep(ms), llm, ...(probe ? { probe } : {}) }),
});
