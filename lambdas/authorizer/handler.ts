import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';
import { bearerToken, looksLikeToken } from '../core/auth/tokens';
import { TokenStore } from '../aws/token-store';
import { requiredEnv } from '../aws/env';
import { logger } from '../edge/observability/logger';

const tokens = new TokenStore(requiredEnv('TOKENS_TABLE'));

/** REST (TOKEN: `Authorization: Bearer …`) and WebSocket `$connect` (REQUEST: `?token=…`) share this authorizer. */
function tokenOf(event: APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent): string | undefined {
  if (event.type === 'TOKEN') return bearerToken(event.authorizationToken);
  const query = event.queryStringParameters ?? {};
  if (query.token) return query.token;
  const headers = event.headers ?? {};
  const header = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  return bearerToken(header ?? undefined);
}

/**
 * The REST policy covers every method of the stage, because API Gateway caches it per token and reuses it for
 * other routes; tenant and admin checks are made by the handlers from the context.
 */
function resourceFor(methodArn: string, type: string): string {
  if (type !== 'TOKEN') return methodArn;
  // arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path…>
  const [apiArn, stage] = methodArn.split('/');
  return `${apiArn}/${stage}/*`;
}

export const handler = async (
  event: APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent,
): Promise<APIGatewayAuthorizerResult> => {
  const token = tokenOf(event);
  // API Gateway answers 401 for exactly this error message.
  if (!token || !looksLikeToken(token)) throw new Error('Unauthorized');
  const record = await tokens.find(token);
  if (!record) {
    logger.info('unknown token refused');
    throw new Error('Unauthorized');
  }
  return {
    principalId: `${record.tenant}:${record.tokenId}`,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resourceFor(event.methodArn, event.type) }],
    },
    context: { tenant: record.tenant, admin: record.admin ? 'true' : 'false', tokenId: record.tokenId },
  };
};
