/**
 * Gateway responses: the errors API Gateway produces itself (no route, authorizer verdicts, oversized body,
 * failed integration), rendered with the AWS defaults or with the template's AWS::ApiGateway::GatewayResponse
 * overrides (specific type first, then DEFAULT_4XX / DEFAULT_5XX).
 */
import type { ResolvedResource } from '../types';
import { fieldText } from '../stepfunctions/json';

type ResponseType =
  | 'ACCESS_DENIED'
  | 'API_CONFIGURATION_ERROR'
  | 'AUTHORIZER_CONFIGURATION_ERROR'
  | 'AUTHORIZER_FAILURE'
  | 'BAD_REQUEST_PARAMETERS'
  | 'BAD_REQUEST_BODY'
  | 'DEFAULT_4XX'
  | 'DEFAULT_5XX'
  | 'EXPIRED_TOKEN'
  | 'INTEGRATION_FAILURE'
  | 'INTEGRATION_TIMEOUT'
  | 'INVALID_API_KEY'
  | 'INVALID_SIGNATURE'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'QUOTA_EXCEEDED'
  | 'REQUEST_TOO_LARGE'
  | 'RESOURCE_NOT_FOUND'
  | 'THROTTLED'
  | 'UNAUTHORIZED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'WAF_FILTERED';

const DEFAULT_STATUS: Record<ResponseType, number> = {
  ACCESS_DENIED: 403,
  API_CONFIGURATION_ERROR: 500,
  AUTHORIZER_CONFIGURATION_ERROR: 500,
  AUTHORIZER_FAILURE: 500,
  BAD_REQUEST_PARAMETERS: 400,
  BAD_REQUEST_BODY: 400,
  DEFAULT_4XX: 400,
  DEFAULT_5XX: 500,
  EXPIRED_TOKEN: 403,
  INTEGRATION_FAILURE: 504,
  INTEGRATION_TIMEOUT: 504,
  INVALID_API_KEY: 403,
  INVALID_SIGNATURE: 403,
  MISSING_AUTHENTICATION_TOKEN: 403,
  QUOTA_EXCEEDED: 429,
  REQUEST_TOO_LARGE: 413,
  RESOURCE_NOT_FOUND: 404,
  THROTTLED: 429,
  UNAUTHORIZED: 401,
  UNSUPPORTED_MEDIA_TYPE: 415,
  WAF_FILTERED: 403,
};

/** The `x-amzn-ErrorType` API Gateway sends with each kind of error. */
const ERROR_TYPE: Partial<Record<ResponseType, string>> = {
  ACCESS_DENIED: 'AccessDeniedException',
  AUTHORIZER_CONFIGURATION_ERROR: 'AuthorizerConfigurationException',
  AUTHORIZER_FAILURE: 'AuthorizerConfigurationException',
  MISSING_AUTHENTICATION_TOKEN: 'MissingAuthenticationTokenException',
  UNAUTHORIZED: 'UnauthorizedException',
  REQUEST_TOO_LARGE: 'RequestTooLargeException',
};

/** An error produced by the gateway. `status` stands in for the type's default (a Lambda failure is a 502 DEFAULT_5XX). */
export interface GatewayError {
  type: ResponseType;
  message: string | null;
  status?: number;
}

export interface GatewayResponseDef {
  statusCode?: number;
  templates: Partial<Record<string, string>>;
  parameters: Record<string, string>;
}

/**
 * `ResponseParameters` of a template (mapping expressions by header) as text: CloudFormation documents strings, and
 * whatever else a template holds is read as `String()` reads it.
 */
export function responseParameters(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, expr] of Object.entries(value ?? {})) out[key] = fieldText(expr);
  return out;
}

export function parseGatewayResponses(resources: ResolvedResource[]): Map<string, GatewayResponseDef> {
  const out = new Map<string, GatewayResponseDef>();
  for (const r of resources) {
    const p = r.properties;
    out.set(String(p.ResponseType), {
      statusCode: p.StatusCode === undefined ? undefined : Number(p.StatusCode),
      templates: p.ResponseTemplates ?? {},
      parameters: responseParameters(p.ResponseParameters),
    });
  }
  return out;
}

/** Everything a gateway response template or parameter may refer to. */
export interface RenderContext {
  context: Record<string, unknown>;
  stageVariables: Record<string, string> | null;
  headers: Record<string, string>;
  query: Record<string, string> | null;
  pathParameters: Record<string, string> | null;
}

function lookup(root: unknown, path: string[]): unknown {
  let v = root;
  for (const k of path) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/**
 * Substitutes `$context.…`, `${context.…}` and `$stageVariables.…` references, which is all the VTL that
 * gateway response templates use in practice. Directives (`#set`, `#if`) are not interpreted.
 */
export function renderTemplate(template: string, rc: RenderContext): string {
  const value = (root: string, dotted: string): string => {
    const path = dotted.split('.').filter(Boolean);
    const v = root === 'context' ? lookup(rc.context, path) : lookup(rc.stageVariables ?? {}, path);
    return v === undefined || v === null ? '' : fieldText(v);
  };
  return template
    .replace(/\$!?\{(context|stageVariables)((?:\.[A-Za-z0-9_-]+)+)\}/g, (_m, root: string, dotted: string) => value(root, dotted))
    .replace(/\$!?(context|stageVariables)((?:\.[A-Za-z0-9_]+)+)/g, (_m, root: string, dotted: string) => value(root, dotted));
}

/** Value of a `ResponseParameters` mapping expression: `'literal'`, `method.request.header.X`, `context.X`, … */
export function mappingValue(expr: string, rc: RenderContext): string | undefined {
  const literal = /^'(.*)'$/s.exec(expr);
  if (literal) return literal[1];
  const m = /^method\.request\.(header|querystring|path)\.(.+)$/.exec(expr);
  if (m) {
    const [, where, name] = m;
    if (where === 'header') {
      const lower = name.toLowerCase();
      return Object.entries(rc.headers).find(([k]) => k.toLowerCase() === lower)?.[1];
    }
    return (where === 'querystring' ? rc.query : rc.pathParameters)?.[name];
  }
  if (expr.startsWith('stageVariables.')) return rc.stageVariables?.[expr.slice('stageVariables.'.length)];
  if (expr.startsWith('context.')) {
    const v = lookup(rc.context, expr.slice('context.'.length).split('.'));
    return v === undefined || v === null ? undefined : fieldText(v);
  }
  return undefined;
}

export interface RenderedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function renderGatewayResponse(
  err: GatewayError,
  overrides: Map<string, GatewayResponseDef>,
  rc: Omit<RenderContext, 'context'> & { context: Record<string, unknown> },
): RenderedResponse {
  const builtInStatus = err.status ?? DEFAULT_STATUS[err.type];
  const family = builtInStatus >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX';
  const def = overrides.get(err.type) ?? overrides.get(family);
  const status = def?.statusCode ?? builtInStatus;
  const context = {
    ...rc.context,
    error: {
      message: err.message === null ? '' : err.message,
      messageString: JSON.stringify(err.message),
      responseType: err.type,
      validationErrorString: '',
    },
  };
  const full: RenderContext = { ...rc, context };
  // API Gateway's own template for ACCESS_DENIED is the one with a capital M.
  const defaultTemplate = err.type === 'ACCESS_DENIED' ? '{"Message":$context.error.messageString}' : '{"message":$context.error.messageString}';
  const template = def?.templates['application/json'] ?? Object.values(def?.templates ?? {})[0] ?? defaultTemplate;
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'x-amzn-RequestId': fieldText(rc.context.requestId ?? ''),
    'x-amzn-ErrorType': ERROR_TYPE[err.type] ?? (status >= 500 ? 'InternalServerErrorException' : 'BadRequestException'),
  };
  for (const [key, expr] of Object.entries(def?.parameters ?? {})) {
    const m = /^gatewayresponse\.header\.(.+)$/.exec(key);
    if (!m) continue;
    const v = mappingValue(expr, full);
    if (v !== undefined) headers[m[1]] = v;
  }
  return { status, headers, body: renderTemplate(template, full) };
}
