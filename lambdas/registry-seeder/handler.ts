import { requiredEnv } from '../aws/env';
import { RegistryStore } from '../aws/registry-store';
import { logger } from '../edge/observability/logger';
import { PHYSICAL_ID, planFor, type CustomResourceEvent } from './seed';

const store = new RegistryStore({ tableName: requiredEnv('AGENTS_TABLE') });

/**
 * Service token of the built-in agents custom resource: registers them at deploy (idempotent: an unchanged
 * registration is a no-op) and answers CloudFormation on the pre-signed ResponseURL itself. It always
 * answers, FAILED with the reason when something went wrong, so a deploy never hangs for an hour.
 */
export const handler = async (event: CustomResourceEvent) => {
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason = '';
  const data: Record<string, string> = {};
  try {
    const plan = planFor(event);
    const registered: string[] = [];
    for (const registration of plan.register) {
      const { agent, changed } = await store.register(registration, { builtIn: true, registeredBy: 'system' });
      registered.push(`${agent.id}@${agent.revision}${changed ? '' : ' (unchanged)'}`);
    }
    for (const id of plan.unregister) await store.unregister(id);
    data.Registered = plan.register.map((r) => r.id).join(',');
    logger.info('built-in agents', { requestType: event.RequestType, registered, unregistered: plan.unregister });
  } catch (error) {
    status = 'FAILED';
    reason = error instanceof Error ? error.message : String(error);
    logger.error('built-in agent registration failed', { error });
  }
  await respond(event, status, reason, data);
  return { status, reason };
};

async function respond(event: CustomResourceEvent, status: 'SUCCESS' | 'FAILED', reason: string, data: Record<string, string>) {
  const body = Buffer.from(
    JSON.stringify({
      Status: status,
      Reason: reason || `See the logs of ${process.env.AWS_LAMBDA_LOG_GROUP_NAME ?? 'the seeder function'}`,
      PhysicalResourceId: event.PhysicalResourceId ?? PHYSICAL_ID,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      Data: data,
    }),
  );
  // A bytes body gets no Content-Type: the pre-signed URL is signed without one.
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(event.ResponseURL, { method: 'PUT', body, headers: { 'content-length': String(body.length) } });
      if (response.ok) return;
      throw new Error(`ResponseURL answered ${response.status}`);
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}
