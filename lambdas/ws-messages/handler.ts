import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { error, ok, parseRequestFrame, type RequestFrame, type ResponseFrame } from './protocol';
import { logger } from '../shared/observability/logger';

type MethodHandler = (frame: RequestFrame, connectionId: string) => Promise<ResponseFrame>;

const methods: Record<string, MethodHandler> = {
  ping: async (frame) => ok(frame.id, { pong: true, at: new Date().toISOString() }),
};

const notYetBuilt = new Set(['subscribe', 'unsubscribe', 'runs.get', 'runs.command']);

/** `$default` route with a route response: the returned body is the `res` frame the client receives. */
export const handler = async (event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResult> => {
  const parsed = parseRequestFrame(event.body);
  let response: ResponseFrame;
  if (!parsed.ok) {
    response = parsed.response;
  } else {
    const { frame } = parsed;
    const method = methods[frame.method];
    try {
      if (method) response = await method(frame, event.requestContext.connectionId);
      else if (notYetBuilt.has(frame.method)) response = error(frame.id, 'not_implemented', `${frame.method} is not built yet`);
      else response = error(frame.id, 'unknown_method', `Unknown method ${frame.method}`);
    } catch (err) {
      logger.error('method failed', { method: frame.method, error: err as Error });
      response = error(frame.id, 'internal_error', 'Internal error');
    }
  }
  return { statusCode: 200, body: JSON.stringify(response) };
};
