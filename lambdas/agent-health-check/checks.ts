import type { HealthCheckResult } from '../core/registry/health';
import type { AgentSummary } from '../aws/registry-store';

/**
 * Agents opt in to the scheduled health check with this tag: the check sends `{agentplaneHealthCheck: true}`,
 * which the agent runtime answers without running any item; a Lambda not built on the runtime would
 * fail it and read as Unhealthy, so it is never checked unless tagged.
 */
export const HEALTH_CHECK_TAG = 'agentplane:healthcheck';
const CONCURRENCY = 8;

export interface HealthCheckDeps {
  list(cursor?: string): Promise<{ agents: AgentSummary[]; cursor?: string }>;
  invoke(agent: AgentSummary): Promise<{ ok: boolean; error?: string }>;
  record(agentId: string, result: HealthCheckResult): Promise<void>;
  clock(): number;
}

export async function runHealthChecks(deps: HealthCheckDeps): Promise<Array<{ agentId: string; ok: boolean }>> {
  const due: AgentSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.list(cursor);
    due.push(...page.agents.filter((a) => a.status === 'active' && a.tags.includes(HEALTH_CHECK_TAG)));
    cursor = page.cursor;
  } while (cursor);
  const out: Array<{ agentId: string; ok: boolean }> = [];
  let next = 0;
  const worker = async () => {
    while (next < due.length) {
      const agent = due[next++];
      let result: HealthCheckResult;
      try {
        const outcome = await deps.invoke(agent);
        result = { ok: outcome.ok, at: deps.clock(), ...(outcome.error ? { error: outcome.error } : {}) };
      } catch (error) {
        result = { ok: false, at: deps.clock(), error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
      }
      await deps.record(agent.id, result);
      out.push({ agentId: agent.id, ok: result.ok });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, due.length) }, worker));
  return out;
}
