import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { encodeResponseFrame, errorResponse, parseRequestFrame, responseForParseFailure, type ResponseFrame } from '../core/events/frames';
import { encodeEventFrame } from '../core/events/frames';
import { requiredEnv } from '../aws/env';
import { ConnectionStore } from '../aws/connections';
import { EventStore } from '../aws/event-store';
import { SubscriptionStore } from '../aws/events-subscriptions';
import { managementPoster } from '../aws/events-poster';
import { RunAccess } from '../aws/run-access';
import { principalFromAuthorizer } from '../core/auth/principal';
import { logger } from '../edge/observability/logger';
import { dispatch, type MethodDeps } from './methods';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../aws/clients';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { runCommandDepsFromEnv } from '../aws/run-store';
import { executeCommand } from '../core/runs/commands';
import { CommandSchema } from '../core/runs/model';
import { powertoolsIdempotency } from '../aws/idempotency';
import { json } from '../edge/http/api';
import { parseBody } from '../core/validation';

/**
 * Requests are small; a larger frame gets a `frame_too_large` answer. (Above 32 KB API Gateway itself closes the
 * connection with 1009 "Message too big" before any function runs.)
 */
export const MAX_REQUEST_BYTES = 16 * 1024;

const connectionsTable = requiredEnv('CONNECTIONS_TABLE');
const control = runCommandDepsFromEnv();
const idempotent = powertoolsIdempotency<{ tenant: string; idempotencyKey: string; route: string }>({ tableName: requiredEnv('IDEMPOTENCY_TABLE'), keyPrefix: 'runs-api', client: new DynamoDBClient({}) });
const connections = new ConnectionStore(connectionsTable);
const deps: MethodDeps = {
  store: new EventStore({ tableName: requiredEnv('EVENTS_TABLE') }),
  subscriptions: new SubscriptionStore(connectionsTable),
  runs: new RunAccess(requiredEnv('RUNS_TABLE')),
  poster: managementPoster(requiredEnv('WEBSOCKET_CALLBACK_URL')),
  encode: (event) => encodeEventFrame(event),
  onGone: async (connectionId) => {
    await connections.remove(connectionId);
  },
  replayBudgetMs: 20_000,
  maxReplayEvents: 5_000,
  maxSubscriptionsPerConnection: 100,
  async command(tenant, runId, input, idempotencyKey) {
    const command = parseBody(CommandSchema, input, 'command');
    const run = async () => json(202, await executeCommand(control, tenant, runId, command));
    // The same key space as POST /runs/{id}/commands: a retry over either transport is recognised.
    const answer = idempotencyKey ? await idempotent({ tenant, idempotencyKey, route: `POST /runs/${runId}/commands` }, input, run) : await run();
    return answer.body;
  },
};

/**
 * API Gateway hands the `$connect` authorizer's context to every message of the connection; the connection
 * record (written at `$connect`) is the fallback.
 */
async function principalOf(event: APIGatewayProxyWebsocketEventV2): Promise<{ tenant: string } | undefined> {
  const fromAuthorizer = principalFromAuthorizer((event.requestContext as { authorizer?: Record<string, unknown> }).authorizer);
  if (fromAuthorizer) return fromAuthorizer;
  const { Item } = await dynamo().send(
    new GetCommand({ TableName: connectionsTable, Key: { pk: `CONN#${event.requestContext.connectionId}`, sk: 'META' } }),
  );
  return typeof Item?.tenant === 'string' ? { tenant: Item.tenant } : undefined;
}

/**
 * `$default` route with a route response: the returned body is the `res` frame the client receives. Every
 * problem, including a bug, becomes an error `res`; the function never fails (that would close nothing but
 * leave the client without an answer).
 */
export const handler = async (event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResult> => {
  const body = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : (event.body ?? '');
  const parsed = parseRequestFrame(body, MAX_REQUEST_BYTES);
  let response: ResponseFrame;
  if (!parsed.ok) {
    response = responseForParseFailure(parsed);
  } else {
    const { request } = parsed;
    try {
      const principal = await principalOf(event);
      if (!principal) {
        response = errorResponse(request.id, { code: 'forbidden', message: 'the connection has no principal' });
      } else {
        response = await dispatch(deps, { connectionId: event.requestContext.connectionId, tenant: principal.tenant, now: Date.now }, request);
      }
    } catch (error) {
      logger.error('method failed', { method: request.method, error: error as Error });
      response = errorResponse(request.id, { code: 'internal', message: `internal error (request ${event.requestContext.requestId})` });
    }
  }
  return { statusCode: 200, body: encodeResponseFrame(response) };
};
