/**
 * REST API (API Gateway v1) emulation from the resolved template: the Resource tree, Methods with Lambda proxy
 * (AWS_PROXY) or MOCK integrations, Lambda authorizers and gateway responses, served on one loopback port
 * under `/<stageName>`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UnsupportedResourceError, type CloudLogger, type LambdaInvoker, type ResolvedResource, type ResolvedTemplate } from '../types';
import { fieldText } from '../stepfunctions/json';
import { AuthorizerRunner, parseRestAuthorizer, type AuthOutcome, type AuthorizerDef } from './authorizer';
import {
  BodyTooLargeError,
  checkInvokePermission,
  clfTime,
  functionRefFromUri,
  headerMaps,
  headerValue,
  listen,
  queryMaps,
  readBody,
  requestId as newRequestId,
  resourcesOfType,
  shortId,
  sourceIpOf,
  traceId,
  urlHost,
  withTimeout,
} from './common';
import type { IamAuthority } from '../iam/authority';
import {
  mappingValue,
  responseParameters,
  parseGatewayResponses,
  renderGatewayResponse,
  renderTemplate,
  type GatewayError,
  type GatewayResponseDef,
  type RenderContext,
} from './gateway-responses';

export interface StartRestApiOptions {
  template: ResolvedTemplate;
  restApiLogicalId: string;
  port: number;
  host?: string;
  lambda: LambdaInvoker;
  logger: CloudLogger;
  /** When given, integrations and authorizers are invoked only as their `AWS::Lambda::Permission`s allow. */
  iam?: IamAuthority;
  /** Largest request body accepted; API Gateway's payload limit is 10 MB. */
  maxBodyBytes?: number;
}

export interface RestApiHandle {
  /** `http://127.0.0.1:PORT/<stageName>` */
  url: string;
  stageName: string;
  close(): Promise<void>;
}

type Integration =
  | { kind: 'proxy'; functionRef: string; timeoutMs: number }
  | { kind: 'mock'; requestTemplate: string; responses: MockResponse[] };

interface MockResponse {
  selectionPattern?: RegExp;
  statusCode: number;
  parameters: Record<string, string>;
  templates: Partial<Record<string, string>>;
}

interface MethodDef {
  logicalId: string;
  httpMethod: string;
  authorizer?: AuthorizerDef;
  integration: Integration;
}

interface ResourceNode {
  id: string;
  logicalId: string;
  pathPart: string;
  path: string;
  children: ResourceNode[];
  methods: Map<string, MethodDef>;
}

interface StageDef {
  name: string;
  variables: Record<string, string> | null;
  deploymentId: string;
}

interface RestModel {
  apiId: string;
  logicalId: string;
  root: ResourceNode;
  stages: Map<string, StageDef>;
  gatewayResponses: Map<string, GatewayResponseDef>;
  binaryMediaTypes: string[];
}

/** The fields of an `AWS::ApiGateway::Method` Integration the local REST API reads, as CloudFormation documents them. */
interface IntegrationProperties {
  Type?: unknown;
  Uri?: unknown;
  TimeoutInMillis?: unknown;
  RequestTemplates?: Partial<Record<string, string>>;
  IntegrationResponses?: Array<{
    SelectionPattern?: string;
    StatusCode?: unknown;
    ResponseParameters?: unknown;
    ResponseTemplates?: Partial<Record<string, string>>;
  }>;
}

const belongsTo = (apiId: string) => (r: ResolvedResource) => r.properties.RestApiId === apiId;

function parseIntegration(method: ResolvedResource): Integration {
  const integ = (method.properties.Integration ?? {}) as IntegrationProperties;
  const type = fieldText(integ.Type ?? '').toUpperCase();
  if (type === 'AWS_PROXY') {
    return {
      kind: 'proxy',
      functionRef: functionRefFromUri(integ.Uri, method),
      timeoutMs: integ.TimeoutInMillis === undefined ? 29_000 : Number(integ.TimeoutInMillis),
    };
  }
  if (type === 'MOCK') {
    const templates = integ.RequestTemplates ?? {};
    return {
      kind: 'mock',
      requestTemplate: templates['application/json'] ?? Object.values(templates)[0] ?? '{"statusCode": 200}',
      responses: (integ.IntegrationResponses ?? []).map((r) => ({
        selectionPattern: r.SelectionPattern ? new RegExp(`^(?:${r.SelectionPattern})$`) : undefined,
        statusCode: Number(r.StatusCode ?? 200),
        parameters: responseParameters(r.ResponseParameters),
        templates: r.ResponseTemplates ?? {},
      })),
    };
  }
  throw new UnsupportedResourceError(
    `${method.logicalId} (AWS::ApiGateway::Method ${String(method.properties.HttpMethod)}): integration type ${String(integ.Type)} is not supported locally (only AWS_PROXY and MOCK)`,
  );
}

function buildModel(template: ResolvedTemplate, logicalId: string, lambda: LambdaInvoker, logger: CloudLogger): RestModel {
  const api = template.resources.get(logicalId);
  if (!api || api.type !== 'AWS::ApiGateway::RestApi') {
    throw new UnsupportedResourceError(`${logicalId}: no AWS::ApiGateway::RestApi with this logical id in the template`);
  }
  if (api.properties.Body || api.properties.BodyS3Location) {
    throw new UnsupportedResourceError(`${logicalId} (AWS::ApiGateway::RestApi): APIs defined by an OpenAPI body are not supported locally`);
  }
  const apiId = api.physicalId;
  const mine = belongsTo(apiId);
  const resources = resourcesOfType(template, 'AWS::ApiGateway::Resource').filter(mine);
  const resourceIds = new Set(resources.map((r) => r.physicalId));
  let rootId = api.attributes.RootResourceId;
  if (!rootId) {
    const parents = new Set(resources.map((r) => String(r.properties.ParentId)).filter((p) => !resourceIds.has(p)));
    if (parents.size > 1) throw new UnsupportedResourceError(`${logicalId} (AWS::ApiGateway::RestApi): RootResourceId is not resolved`);
    rootId = [...parents][0] ?? `${apiId}-root`;
  }

  const root: ResourceNode = { id: rootId, logicalId, pathPart: '', path: '/', children: [], methods: new Map() };
  const nodes = new Map<string, ResourceNode>([[rootId, root]]);
  const resourceNodes = resources.map((r) => {
    const node: ResourceNode = { id: r.physicalId, logicalId: r.logicalId, pathPart: String(r.properties.PathPart), path: '', children: [], methods: new Map() };
    nodes.set(r.physicalId, node);
    return { r, node };
  });
  for (const { r, node } of resourceNodes) {
    const parent = nodes.get(String(r.properties.ParentId));
    if (!parent) throw new UnsupportedResourceError(`${r.logicalId} (AWS::ApiGateway::Resource): parent ${String(r.properties.ParentId)} is not a resource of ${logicalId}`);
    parent.children.push(node);
  }
  const setPaths = (n: ResourceNode) => {
    for (const c of n.children) {
      c.path = n.path === '/' ? `/${c.pathPart}` : `${n.path}/${c.pathPart}`;
      setPaths(c);
    }
  };
  setPaths(root);

  const authorizers = new Map<string, AuthorizerDef>();
  for (const a of resourcesOfType(template, 'AWS::ApiGateway::Authorizer').filter(mine)) authorizers.set(a.physicalId, parseRestAuthorizer(a));

  for (const m of resourcesOfType(template, 'AWS::ApiGateway::Method').filter(mine)) {
    const p = m.properties;
    const node = nodes.get(String(p.ResourceId));
    if (!node) throw new UnsupportedResourceError(`${m.logicalId} (AWS::ApiGateway::Method): resource ${String(p.ResourceId)} is not part of ${logicalId}`);
    const authType = fieldText(p.AuthorizationType ?? 'NONE').toUpperCase();
    let authorizer: AuthorizerDef | undefined;
    if (authType === 'CUSTOM') {
      authorizer = authorizers.get(String(p.AuthorizerId));
      if (!authorizer) throw new UnsupportedResourceError(`${m.logicalId} (AWS::ApiGateway::Method): authorizer ${String(p.AuthorizerId)} is not defined`);
    } else if (authType !== 'NONE') {
      throw new UnsupportedResourceError(
        `${m.logicalId} (AWS::ApiGateway::Method): AuthorizationType ${authType} is not supported locally (only NONE and CUSTOM Lambda authorizers)`,
      );
    }
    if (p.ApiKeyRequired === true) logger.warn(`${m.logicalId}: API keys are not enforced by the local REST API`);
    const integration = parseIntegration(m);
    if (integration.kind === 'proxy' && !safeHas(integration.functionRef)) {
      logger.warn(`${m.logicalId}: integration function ${integration.functionRef} is not a function of the local cloud (calls will answer 500)`);
    }
    node.methods.set(String(p.HttpMethod).toUpperCase(), { logicalId: m.logicalId, httpMethod: String(p.HttpMethod).toUpperCase(), authorizer, integration });
  }

  const stages = new Map<string, StageDef>();
  for (const s of resourcesOfType(template, 'AWS::ApiGateway::Stage').filter(mine)) {
    const vars = s.properties.Variables as Record<string, string> | undefined;
    stages.set(String(s.properties.StageName), {
      name: String(s.properties.StageName),
      variables: vars && Object.keys(vars).length > 0 ? { ...vars } : null,
      deploymentId: fieldText(s.properties.DeploymentId ?? ''),
    });
  }
  // A Deployment may create its stage itself (StageName on the Deployment, without an AWS::ApiGateway::Stage).
  for (const d of resourcesOfType(template, 'AWS::ApiGateway::Deployment').filter(mine)) {
    const name = d.properties.StageName;
    if (name && !stages.has(fieldText(name))) stages.set(fieldText(name), { name: fieldText(name), variables: null, deploymentId: d.physicalId });
  }
  if (stages.size === 0) throw new UnsupportedResourceError(`${logicalId} (AWS::ApiGateway::RestApi): no stage is deployed`);

  return {
    apiId,
    logicalId,
    root,
    stages,
    gatewayResponses: parseGatewayResponses(resourcesOfType(template, 'AWS::ApiGateway::GatewayResponse').filter(mine)),
    binaryMediaTypes: ((api.properties.BinaryMediaTypes ?? []) as unknown[]).map((t) => String(t).replace(/~1/g, '/')),
  };

  function safeHas(ref: string): boolean {
    try {
      return lambda.has(ref);
    } catch {
      return false;
    }
  }
}

/**
 * Matches path segments against the tree: a static PathPart before `{param}`, before a greedy `{param+}`, with
 * backtracking, which is the precedence API Gateway documents.
 */
function matchResource(
  node: ResourceNode,
  segments: string[],
  i: number,
  params: Record<string, string>,
): { node: ResourceNode; params: Record<string, string> } | undefined {
  if (i === segments.length) return { node, params };
  const seg = segments[i];
  for (const c of node.children) {
    if (!c.pathPart.startsWith('{') && c.pathPart === seg) {
      const found = matchResource(c, segments, i + 1, params);
      if (found) return found;
    }
  }
  for (const c of node.children) {
    const m = /^\{([^}+]+)\}$/.exec(c.pathPart);
    if (m) {
      const found = matchResource(c, segments, i + 1, { ...params, [m[1]]: seg });
      if (found) return found;
    }
  }
  for (const c of node.children) {
    const m = /^\{([^}]+)\+\}$/.exec(c.pathPart);
    if (m) return { node: c, params: { ...params, [m[1]]: segments.slice(i).join('/') } };
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function isBinary(contentType: string | undefined, binaryTypes: string[]): boolean {
  if (!contentType || binaryTypes.length === 0) return false;
  const ct = contentType.split(';')[0].trim().toLowerCase();
  return binaryTypes.some((t) => {
    const b = t.toLowerCase();
    if (b === '*/*') return true;
    if (b.endsWith('/*')) return ct.startsWith(b.slice(0, -1));
    return ct === b;
  });
}

const PROXY_RESULT_KEYS = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded']);
const HOP_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection']);

/** Maps a Lambda proxy result to an HTTP response, or explains why API Gateway would call it malformed. */
export function mapProxyResult(payload: unknown): { status: number; headers: Map<string, { name: string; values: string[] }>; body: Buffer } | string {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return 'result is not a JSON object';
  const p = payload as Record<string, unknown>;
  const extra = Object.keys(p).filter((k) => !PROXY_RESULT_KEYS.has(k));
  if (extra.length > 0) return `result has keys API Gateway does not accept: ${extra.join(', ')}`;
  const status = typeof p.statusCode === 'string' && /^\d+$/.test(p.statusCode) ? Number(p.statusCode) : p.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) return 'statusCode is missing or not an HTTP status';
  if (p.body !== undefined && p.body !== null && typeof p.body !== 'string') return 'body is not a string';
  const headers = new Map<string, { name: string; values: string[] }>();
  const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  if (p.headers !== undefined && p.headers !== null) {
    if (typeof p.headers !== 'object' || Array.isArray(p.headers)) return 'headers is not an object';
    for (const [k, v] of Object.entries(p.headers)) {
      if (!scalar(v)) return `header ${k} is not a string`;
      if (v !== null) headers.set(k.toLowerCase(), { name: k, values: [String(v)] });
    }
  }
  if (p.multiValueHeaders !== undefined && p.multiValueHeaders !== null) {
    if (typeof p.multiValueHeaders !== 'object' || Array.isArray(p.multiValueHeaders)) return 'multiValueHeaders is not an object';
    for (const [k, v] of Object.entries(p.multiValueHeaders)) {
      if (!Array.isArray(v) || !v.every(scalar)) return `multiValueHeaders.${k} is not a list of strings`;
      // API Gateway keeps only the multi-value list when a header is in both maps.
      headers.set(k.toLowerCase(), { name: k, values: v.filter((x) => x !== null).map(String) });
    }
  }
  const raw = typeof p.body === 'string' ? p.body : '';
  const body = p.isBase64Encoded === true ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  return { status, headers, body };
}

export async function startRestApi(opts: StartRestApiOptions): Promise<RestApiHandle> {
  const { template, lambda, logger } = opts;
  const host = opts.host ?? '127.0.0.1';
  const maxBody = opts.maxBodyBytes ?? 10 * 1024 * 1024;
  const model = buildModel(template, opts.restApiLogicalId, lambda, logger);
  const authRunner = new AuthorizerRunner(lambda, logger, (auth) => {
    checkInvokePermission(opts.iam, template, auth.functionRef, `arn:aws:execute-api:${template.region}:${template.accountId}:${model.apiId}/authorizers/${auth.id}`);
  });
  const stageName = [...model.stages.keys()][0];
  const what = `REST API ${opts.restApiLogicalId}`;

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      logger.error(`${what}: unexpected error`, { error: String((err as Error | null | undefined)?.stack ?? err) });
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end('{"message": "Internal server error"}');
      } else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const reqId = newRequestId();
    const extendedRequestId = shortId();
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const search = q < 0 ? '' : rawUrl.slice(q + 1);
    const rawSegments = rawPath.split('/').filter(Boolean);
    const stage = model.stages.get(safeDecode(rawSegments[0] ?? ''));
    const finish = (status: number, extra: Record<string, unknown> = {}) => { logger.info(`${what}: ${method} ${rawUrl} → ${status}`, { requestId: reqId, ms: Date.now() - started, ...extra }); };

    if (!stage) {
      req.resume();
      res.writeHead(403, { 'Content-Type': 'application/json', 'x-amzn-RequestId': reqId, 'x-amzn-ErrorType': 'ForbiddenException' });
      res.end('{"message":"Forbidden"}');
      finish(403, { reason: 'unknown stage' });
      return;
    }

    // The path after the stage, still percent-encoded, is what API Gateway puts in `path` and the method ARN.
    const path = rawPath.slice(rawPath.indexOf(rawSegments[0]) + rawSegments[0].length) || '/';
    const sourceIp = sourceIpOf(req);
    const { headers, multiValueHeaders } = headerMaps(req, {
      'X-Amzn-Trace-Id': traceId(started),
      'X-Forwarded-For': sourceIp,
      'X-Forwarded-Port': String(req.socket.localPort ?? ''),
      'X-Forwarded-Proto': 'http',
    });
    const query = queryMaps(search);
    const domainName = headerValue(headers, 'host') ?? `${model.apiId}.execute-api.${template.region}.amazonaws.com`;
    const userAgent = headerValue(headers, 'user-agent') ?? null;
    const context: Record<string, unknown> = {
      accountId: template.accountId,
      apiId: model.apiId,
      domainName,
      domainPrefix: domainName.split('.')[0],
      extendedRequestId,
      httpMethod: method,
      path: `/${stage.name}${path === '/' ? '/' : path}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId: reqId,
      requestTime: clfTime(started),
      requestTimeEpoch: started,
      stage: stage.name,
      identity: { sourceIp, userAgent },
    };
    let pathParameters: Record<string, string> | null = null;
    const renderCtx = (): RenderContext => ({
      context,
      stageVariables: stage.variables,
      headers,
      query: query.queryStringParameters,
      pathParameters,
    });
    const sendGatewayError = (err: GatewayError, reason?: string) => {
      const r = renderGatewayResponse(err, model.gatewayResponses, renderCtx());
      res.writeHead(r.status, r.headers);
      res.end(method === 'HEAD' ? undefined : r.body);
      finish(r.status, { responseType: err.type, ...(reason ? { reason } : {}) });
    };

    let body: Buffer;
    try {
      body = await readBody(req, maxBody);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        sendGatewayError({ type: 'REQUEST_TOO_LARGE', message: 'Request Too Long' }, err.message);
        return;
      }
      throw err;
    }

    const segments = rawSegments.slice(1).map(safeDecode);
    const matched = matchResource(model.root, segments, 0, {});
    const methodDef = matched && (matched.node.methods.get(method) ?? matched.node.methods.get('ANY'));
    if (!matched || !methodDef) {
      sendGatewayError({ type: 'MISSING_AUTHENTICATION_TOKEN', message: 'Missing Authentication Token' }, 'no such resource or method');
      return;
    }
    const resource = matched.node;
    pathParameters = Object.keys(matched.params).length > 0 ? matched.params : null;
    Object.assign(context, { resourceId: resource.id, resourcePath: resource.path });

    const methodArn = `arn:aws:execute-api:${template.region}:${template.accountId}:${model.apiId}/${stage.name}/${method}/${path.replace(/^\//, '')}`;

    if (methodDef.authorizer) {
      const auth = methodDef.authorizer;
      const outcome: AuthOutcome = await authRunner.authorize(
        auth,
        { headers, query: query.queryStringParameters, pathParameters, stageVariables: stage.variables, context },
        methodArn,
        (token) =>
          auth.type === 'TOKEN'
            ? { type: 'TOKEN', authorizationToken: token, methodArn }
            : {
                type: 'REQUEST',
                methodArn,
                resource: resource.path,
                path,
                httpMethod: method,
                headers,
                multiValueHeaders,
                queryStringParameters: query.queryStringParameters ?? {},
                multiValueQueryStringParameters: query.multiValueQueryStringParameters ?? {},
                pathParameters: pathParameters ?? {},
                stageVariables: stage.variables ?? {},
                requestContext: { ...context },
              },
        auth.type === 'TOKEN' || auth.ttlSeconds > 0,
      );
      if (outcome.kind === 'unauthorized') {
        sendGatewayError({ type: 'UNAUTHORIZED', message: 'Unauthorized' }, outcome.invoked ? 'authorizer said Unauthorized' : 'identity source missing');
        return;
      }
      if (outcome.kind === 'deny') {
        sendGatewayError({
          type: 'ACCESS_DENIED',
          message: outcome.explicit
            ? 'User is not authorized to access this resource with an explicit deny'
            : 'User is not authorized to access this resource',
        });
        return;
      }
      if (outcome.kind === 'error') {
        sendGatewayError({ type: outcome.responseType, message: null }, outcome.reason);
        return;
      }
      context.authorizer = { ...outcome.context, principalId: outcome.principalId, integrationLatency: outcome.integrationLatency };
    }

    const integ = methodDef.integration;
    if (integ.kind === 'mock') {
      sendMock(integ, req, res, renderCtx(), method);
      finish(res.statusCode, { integration: 'MOCK' });
      return;
    }

    const binary = isBinary(headerValue(headers, 'content-type'), model.binaryMediaTypes);
    const event = {
      resource: resource.path,
      path,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: query.queryStringParameters,
      multiValueQueryStringParameters: query.multiValueQueryStringParameters,
      pathParameters,
      stageVariables: stage.variables,
      requestContext: { ...context, deploymentId: stage.deploymentId, identity: fullIdentity(sourceIp, userAgent) },
      body: body.length === 0 ? null : binary ? body.toString('base64') : body.toString('utf8'),
      isBase64Encoded: binary && body.length > 0,
    };

    let outcome;
    try {
      checkInvokePermission(opts.iam, template, integ.functionRef, methodArn);
      outcome = await withTimeout(lambda.invoke(integ.functionRef, event), integ.timeoutMs);
    } catch (err) {
      logger.error(`${what}: ${methodDef.logicalId} could not invoke ${integ.functionRef}`, { error: String(err) });
      sendGatewayError({ type: 'API_CONFIGURATION_ERROR', message: 'Internal server error' }, 'invoke failed');
      return;
    }
    if (outcome.timedOut) {
      sendGatewayError({ type: 'INTEGRATION_TIMEOUT', message: 'Endpoint request timed out' }, `no answer within ${integ.timeoutMs} ms`);
      return;
    }
    const result = outcome.value;
    if (!result.ok) {
      logger.warn(`${what}: ${methodDef.logicalId} function error`, { errorType: result.errorType, errorMessage: result.errorMessage });
      sendGatewayError({ type: 'DEFAULT_5XX', message: 'Internal server error', status: 502 }, `function error ${result.errorType}`);
      return;
    }
    const mapped = mapProxyResult(result.payload);
    if (typeof mapped === 'string') {
      logger.warn(`${what}: ${methodDef.logicalId} returned a malformed Lambda proxy response`, { problem: mapped });
      sendGatewayError({ type: 'DEFAULT_5XX', message: 'Internal server error', status: 502 }, `malformed proxy response: ${mapped}`);
      return;
    }
    const out: Record<string, string | string[]> = {};
    for (const { name, values } of mapped.headers.values()) {
      if (HOP_HEADERS.has(name.toLowerCase())) continue;
      out[name] = values.length === 1 ? values[0] : values;
    }
    if (!mapped.headers.has('content-type')) out['Content-Type'] = 'application/json';
    out['x-amzn-RequestId'] = reqId;
    out['x-amz-apigw-id'] = extendedRequestId;
    // headerMaps added a trace id when the client sent none, so the fallback is never taken.
    out['X-Amzn-Trace-Id'] = headerValue(headers, 'x-amzn-trace-id') ?? traceId(started);
    res.writeHead(mapped.status, out);
    res.end(method === 'HEAD' ? undefined : mapped.body);
    finish(mapped.status);
  }

  const listening = await listen(what, opts.port, host, handler);
  const url = `http://${urlHost(host)}:${listening.port}/${stageName}`;
  logger.info(`${what} listening on ${url}`, { stages: [...model.stages.keys()] });
  return {
    url,
    stageName,
    close: async () => {
      await listening.close();
      authRunner.clear();
    },
  };
}

function fullIdentity(sourceIp: string, userAgent: string | null): Record<string, unknown> {
  return {
    cognitoIdentityPoolId: null,
    accountId: null,
    cognitoIdentityId: null,
    caller: null,
    sourceIp,
    principalOrgId: null,
    accessKey: null,
    cognitoAuthenticationType: null,
    cognitoAuthenticationProvider: null,
    userArn: null,
    userAgent,
    user: null,
  };
}

/**
 * MOCK integrations, which is what CDK emits for CORS preflight (`defaultCorsPreflightOptions`). The request
 * template's `statusCode` selects the integration response; its static header mappings are sent, and the VTL
 * CDK writes to echo one of several allowed origins is recognised.
 */
function sendMock(
  integ: Extract<Integration, { kind: 'mock' }>,
  req: IncomingMessage,
  res: ServerResponse,
  rc: RenderContext,
  method: string,
): void {
  const selector = /statusCode["']?\s*:\s*(\d{3})/.exec(integ.requestTemplate)?.[1] ?? '200';
  const chosen =
    integ.responses.find((r) => r.selectionPattern?.test(selector)) ??
    integ.responses.find((r) => !r.selectionPattern) ?? { statusCode: Number(selector), parameters: {}, templates: {} };
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'x-amzn-RequestId': String(rc.context.requestId) };
  for (const [key, expr] of Object.entries(chosen.parameters)) {
    const m = /^method\.response\.header\.(.+)$/.exec(key);
    if (!m) continue;
    const v = mappingValue(expr, rc);
    if (v !== undefined) headers[m[1]] = v;
  }
  const template = chosen.templates['application/json'] ?? Object.values(chosen.templates)[0] ?? '';
  let body = '';
  if (/^\s*#/m.test(template)) {
    const origin = req.headers.origin;
    for (const m of template.matchAll(/#if\(\$origin == "([^"]*)"\)\s*#set\(\$context\.responseOverride\.header\.([A-Za-z0-9-]+) = \$origin\)/g)) {
      if (origin === m[1]) headers[m[2]] = origin;
    }
  } else body = renderTemplate(template, rc);
  res.writeHead(chosen.statusCode, headers);
  res.end(method === 'HEAD' || chosen.statusCode === 204 ? undefined : body);
}
