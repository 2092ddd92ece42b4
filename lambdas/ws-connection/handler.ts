import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2WithRequestContext } from 'aws-lambda';
import { ConnectionStore } from '../aws/connections';
import { requiredEnv } from '../aws/env';
import { principalFromAuthorizer } from '../core/auth/principal';
import { logger } from '../edge/observability/logger';

const connections = new ConnectionStore(requiredEnv('CONNECTIONS_TABLE'));

interface ConnectContext {
  connectionId: string;
  eventType: 'CONNECT' | 'DISCONNECT' | 'MESSAGE';
  authorizer?: Record<string, unknown>;
}

/** `$connect` records who is connected (the authorizer already checked the token); `$disconnect` forgets it. */
export const handler = async (
  event: APIGatewayProxyWebsocketEventV2WithRequestContext<ConnectContext>,
): Promise<APIGatewayProxyResult> => {
  const { connectionId, eventType, authorizer } = event.requestContext;
  if (eventType === 'CONNECT') {
    const principal = principalFromAuthorizer(authorizer);
    if (!principal) return { statusCode: 401, body: 'Unauthorized' };
    await connections.put({ connectionId, tenant: principal.tenant, tokenId: principal.tokenId, connectedAt: new Date().toISOString() });
    logger.info('connected', { connectionId, tenant: principal.tenant });
    return { statusCode: 200, body: '' };
  }
  if (eventType === 'DISCONNECT') {
    const removed = await connections.remove(connectionId);
    logger.info('disconnected', { connectionId, removed });
    return { statusCode: 200, body: '' };
  }
  return { statusCode: 400, body: 'unexpected route' };
};
