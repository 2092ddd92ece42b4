import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { AgentplaneError, NotImplementedError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../../core/errors';
import { principalFromAuthorizer, type Principal } from '../../core/auth/principal';

export interface ApiRequest {
  method: string;
  /** The API Gateway resource template, e.g. `/runs/{id}`. */
  resource: string;
  // Partial: a name the request did not send reads as undefined.
  pathParameters: Partial<Record<string, string>>;
  query: Partial<Record<string, string>>;
  headers: Partial<Record<string, string>>;
  body: unknown;
  rawBody: string | undefined;
  principal: Principal | undefined;
  requestId: string;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type RouteHandler = (request: ApiRequest) => Promise<ApiResponse>;
export type RouteTable = Record<string, RouteHandler>;

export interface Log {
  error(message: string, ...extra: unknown[]): void;
}

/**
 * A proxy event as it may really arrive: console test events and direct invocations leave out headers, body or
 * the request context that @types/aws-lambda declares always present.
 */
type ProxyEvent = Omit<APIGatewayProxyEvent, 'headers' | 'body' | 'requestContext'> & {
  headers?: APIGatewayProxyEvent['headers'] | null;
  body?: string | null;
  requestContext?: Partial<APIGatewayProxyEvent['requestContext']>;
};

const JSON_HEADERS = { 'content-type': 'application/json' };
const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** A parameter of the route's path template: API Gateway matched the route, so only a wiring mistake leaves it out. */
export function pathParameter(request: Pick<ApiRequest, 'pathParameters'>, name: string): string {
  const value = request.pathParameters[name];
  if (value === undefined) throw new ValidationError(`Missing path parameter ${name}`, [{ path: `$.pathParameters.${name}`, message: 'required by the route' }]);
  return value;
}

export function json(status: number, body?: unknown, headers?: Record<string, string>): ApiResponse {
  return { status, body, headers };
}

/** The single place where errors become HTTP answers. Unknown errors are logged and answered 500, without details. */
function toHttpResponse(error: unknown, log: Log, requestId: string): APIGatewayProxyResult {
  if (error instanceof AgentplaneError) {
    return {
      statusCode: error.status,
      headers: JSON_HEADERS,
      body: JSON.stringify({ error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } }),
    };
  }
  log.error('unhandled error', { error });
  return {
    statusCode: 500,
    headers: JSON_HEADERS,
    body: JSON.stringify({ error: { code: 'internal_error', message: `Internal error (request ${requestId})` } }),
  };
}

function lowerCaseHeaders(headers: ProxyEvent['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

function parseBody(event: ProxyEvent, headers: Record<string, string>): { body: unknown; rawBody: string | undefined } {
  if (event.body === null || event.body === undefined || event.body === '') return { body: undefined, rawBody: undefined };
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(raw) > MAX_JSON_BODY_BYTES) {
    throw new PayloadTooLargeError(`Request body exceeds ${MAX_JSON_BODY_BYTES} bytes`);
  }
  const type = headers['content-type'];
  if (type && !/^application\/(json|[\w.+-]*\+json)\b/i.test(type)) {
    throw new UnsupportedMediaTypeError(`Content-Type must be application/json, got ${type}`);
  }
  try {
    return { body: JSON.parse(raw), rawBody: raw };
  } catch (error) {
    throw new ValidationError('Request body is not valid JSON', [{ path: '$', message: (error as Error).message }]);
  }
}

function toApiRequest(event: ProxyEvent): ApiRequest {
  const headers = lowerCaseHeaders(event.headers);
  const { body, rawBody } = parseBody(event, headers);
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) query[k] = v;
  const pathParameters: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.pathParameters ?? {})) if (v !== undefined) pathParameters[k] = decodeURIComponent(v);
  return {
    method: event.httpMethod.toUpperCase(),
    resource: event.resource,
    pathParameters,
    query,
    headers,
    body,
    rawBody,
    principal: principalFromAuthorizer(event.requestContext?.authorizer ?? undefined),
    requestId: event.requestContext?.requestId ?? 'unknown',
  };
}

/**
 * Builds a Lambda proxy handler from a route table keyed by `METHOD /resource/{template}`. API Gateway has already
 * matched the route; the table only picks the function, so an unknown key is a wiring error (501 says which).
 */
export function apiHandler(routes: RouteTable, log: Log) {
  return async (event: ProxyEvent): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId ?? 'unknown';
    try {
      const request = toApiRequest(event);
      const key = `${request.method} ${request.resource}`;
      const route = Object.hasOwn(routes, key) ? routes[key] : undefined;
      if (!route) {
        return toHttpResponse(new NotImplementedError(`${request.method} ${request.resource} is not implemented`), log, requestId);
      }
      const response = await route(request);
      return {
        statusCode: response.status,
        headers: { ...JSON_HEADERS, ...response.headers },
        body: response.body === undefined ? '' : JSON.stringify(response.body),
      };
    } catch (error) {
      return toHttpResponse(error, log, requestId);
    }
  };
}
