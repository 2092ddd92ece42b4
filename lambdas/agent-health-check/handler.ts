import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { requiredEnv } from '../aws/env';
import { RegistryStore, type AgentSummary } from '../aws/registry-store';
import { logger } from '../edge/observability/logger';
import { HEALTH_CHECK_TAG, runHealthChecks } from './checks';

const store = new RegistryStore({ tableName: requiredEnv('AGENTS_TABLE') });
const lambda = new LambdaClient({});

/** Scheduled (EventBridge rate rule): pings every agent tagged for health checks and records the result. */
export const handler = async () => {
  const results = await runHealthChecks({
    list: async (cursor) => store.list({ limit: 500, ...(cursor ? { cursor } : {}) }),
    invoke: async (agent: AgentSummary) => {
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: agent.functionArn, Payload: Buffer.from(JSON.stringify({ agentplaneHealthCheck: true, agentId: agent.id })) }),
      );
      const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
      if (out.FunctionError) return { ok: false, error: `${out.FunctionError}: ${text.slice(0, 500)}` };
      const body = (text ? JSON.parse(text) : {}) as { healthy?: unknown; error?: unknown } | null;
      if (body?.healthy === true) return { ok: true };
      return { ok: false, error: typeof body?.error === 'string' ? body.error : 'agent did not report healthy' };
    },
    record: (agentId, result) => store.recordHealthCheck(agentId, result),
    clock: Date.now,
  });
  logger.info('health checks', { checked: results.length, failed: results.filter((r) => !r.ok).map((r) => r.agentId) });
  return { checked: results.length, failed: results.filter((r) => !r.ok).length, tag: HEALTH_CHECK_TAG };
};
