/**
 * WebSocket API (API Gateway v2, ProtocolType WEBSOCKET) emulation from the resolved template: `$connect` with
 * its Lambda authorizer and integration decided before the upgrade completes, route selection on message
 * bodies, two-way routes, `$disconnect`, the idle and maximum-duration limits, and the `@connections`
 * management API on the same port (what `@aws-sdk/client-apigatewaymanagementapi` calls).
 */
import { isUtf8 } from 'node:buffer';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { UnsupportedResourceError, type CloudLogger, type LambdaInvoker, type ResolvedResource, type ResolvedTemplate } from '../types';
import { fieldText } from '../stepfunctions/json';
import { AuthorizerRunner, parseWebSocketAuthorizer, type AuthorizerDef } from './authorizer';
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
import { accessKeyOf, type IamAuthority } from '../iam/authority';
import { manageConnectionsPermission } from '../iam/service-actions';

export interface StartWebSocketApiOptions {
  template: ResolvedTemplate;
  apiLogicalId: string;
  port: number;
  host?: string;
  lambda: LambdaInvoker;
  logger: CloudLogger;
  /**
   * When given, integrations and authorizers are invoked only as their `AWS::Lambda::Permission`s allow, and
   * `@connections` calls need `execute-api:ManageConnections` for the caller's role.
   */
  iam?: IamAuthority;
  /** API Gateway closes a connection with no client traffic for 10 minutes. */
  idleTimeoutMs?: number;
  /** API Gateway closes every connection after 2 hours. */
  maxConnectionMs?: number;
}

export interface WebSocketApiHandle {
  /** `ws://127.0.0.1:PORT/<stageName>` */
  url: string;
  /** `http://127.0.0.1:PORT/<stageName>`, the endpoint for ApiGatewayManagementApiClient. */
  callbackUrl: string;
  stageName: string;
  close(): Promise<void>;
}

/** API Gateway's frame limit; `ws` enforces it per message, which equals per frame for unfragmented messages. */
const MAX_FRAME_BYTES = 32 * 1024;
/** API Gateway's message limit, which is what PostToConnection accepts. */
const MAX_MESSAGE_BYTES = 128 * 1024;

interface WsIntegration {
  logicalId: string;
  functionRef: string;
  timeoutMs: number;
}

interface WsRoute {
  logicalId: string;
  routeKey: string;
  authorizer?: AuthorizerDef;
  integration?: WsIntegration;
  twoWay: boolean;
}

interface WsModel {
  apiId: string;
  logicalId: string;
  selectionPath: string[];
  routes: Map<string, WsRoute>;
  stages: Map<string, { name: string; variables: Record<string, string> | null }>;
}

interface Connection {
  id: string;
  ws: WebSocket;
  stage: string;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string;
  domainName: string;
  authorizer?: Record<string, unknown>;
  idleTimer?: NodeJS.Timeout;
  maxTimer?: NodeJS.Timeout;
  /** Set when the gateway itself closes the connection, so `$disconnect` reports why. */
  closedBy?: { code: number; reason: string };
}

/** `$request.body.a.b` or `${request.body.a.b}` → `['a', 'b']`. */
function parseSelectionExpression(expr: unknown, api: ResolvedResource): string[] {
  const m = /^\$\{?request\.body\.([A-Za-z0-9_$.-]+?)\}?$/.exec(fieldText(expr ?? ''));
  if (!m) {
    throw new UnsupportedResourceError(
      `${api.logicalId} (AWS::ApiGatewayV2::Api): RouteSelectionExpression ${String(expr)} is not supported locally (only $request.body.<path>)`,
    );
  }
  return m[1].split('.');
}

/** Route key of a message: the selection expression evaluated on a JSON body, `$default` when it yields nothing. */
export function selectRouteKey(path: string[], body: string | undefined): string {
  if (body === undefined) return '$default';
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return '$default';
  }
  for (const k of path) {
    if (!v || typeof v !== 'object') return '$default';
    v = (v as Record<string, unknown>)[k];
  }
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '$default';
}

function buildModel(template: ResolvedTemplate, logicalId: string, lambda: LambdaInvoker, logger: CloudLogger): WsModel {
  const api = template.resources.get(logicalId);
  if (!api || api.type !== 'AWS::ApiGatewayV2::Api') {
    throw new UnsupportedResourceError(`${logicalId}: no AWS::ApiGatewayV2::Api with this logical id in the template`);
  }
  if (String(api.properties.ProtocolType).toUpperCase() !== 'WEBSOCKET') {
    throw new UnsupportedResourceError(`${logicalId} (AWS::ApiGatewayV2::Api): ProtocolType ${String(api.properties.ProtocolType)} is not a WebSocket API`);
  }
  const apiId = api.physicalId;
  const mine = (r: ResolvedResource) => r.properties.ApiId === apiId;

  const integrations = new Map<string, WsIntegration>();
  for (const i of resourcesOfType(template, 'AWS::ApiGatewayV2::Integration').filter(mine)) {
    if (String(i.properties.IntegrationType).toUpperCase() !== 'AWS_PROXY') {
      throw new UnsupportedResourceError(
        `${i.logicalId} (AWS::ApiGatewayV2::Integration): IntegrationType ${String(i.properties.IntegrationType)} is not supported locally (only AWS_PROXY)`,
      );
    }
    const functionRef = functionRefFromUri(i.properties.IntegrationUri, i);
    let known = false;
    try {
      known = lambda.has(functionRef);
    } catch {
      /* reported below */
    }
    if (!known) logger.warn(`${i.logicalId}: integration function ${functionRef} is not a function of the local cloud`);
    integrations.set(i.physicalId, {
      logicalId: i.logicalId,
      functionRef,
      timeoutMs: i.properties.TimeoutInMillis === undefined ? 29_000 : Number(i.properties.TimeoutInMillis),
    });
  }

  const authorizers = new Map<string, AuthorizerDef>();
  for (const a of resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer').filter(mine)) authorizers.set(a.physicalId, parseWebSocketAuthorizer(a));

  const routes = new Map<string, WsRoute>();
  for (const r of resourcesOfType(template, 'AWS::ApiGatewayV2::Route').filter(mine)) {
    const p = r.properties;
    const authType = fieldText(p.AuthorizationType ?? 'NONE').toUpperCase();
    let authorizer: AuthorizerDef | undefined;
    if (authType === 'CUSTOM') {
      authorizer = authorizers.get(String(p.AuthorizerId));
      if (!authorizer) throw new UnsupportedResourceError(`${r.logicalId} (AWS::ApiGatewayV2::Route): authorizer ${String(p.AuthorizerId)} is not defined`);
      if (p.RouteKey !== '$connect') logger.warn(`${r.logicalId}: API Gateway only runs authorizers on $connect; ignored on ${String(p.RouteKey)}`);
    } else if (authType !== 'NONE') {
      throw new UnsupportedResourceError(`${r.logicalId} (AWS::ApiGatewayV2::Route): AuthorizationType ${authType} is not supported locally`);
    }
    let integration: WsIntegration | undefined;
    if (p.Target !== undefined) {
      const m = /^integrations\/(.+)$/.exec(fieldText(p.Target));
      integration = m ? integrations.get(m[1]) : undefined;
      if (!integration) throw new UnsupportedResourceError(`${r.logicalId} (AWS::ApiGatewayV2::Route): target ${fieldText(p.Target)} is not an integration of ${logicalId}`);
    }
    routes.set(String(p.RouteKey), {
      logicalId: r.logicalId,
      routeKey: String(p.RouteKey),
      authorizer: p.RouteKey === '$connect' ? authorizer : undefined,
      integration,
      twoWay: p.RouteResponseSelectionExpression !== undefined && p.RouteResponseSelectionExpression !== null,
    });
  }

  const stages = new Map<string, { name: string; variables: Record<string, string> | null }>();
  for (const s of resourcesOfType(template, 'AWS::ApiGatewayV2::Stage').filter(mine)) {
    const vars = s.properties.StageVariables as Record<string, string> | undefined;
    stages.set(String(s.properties.StageName), {
      name: String(s.properties.StageName),
      variables: vars && Object.keys(vars).length > 0 ? { ...vars } : null,
    });
  }
  if (stages.size === 0) throw new UnsupportedResourceError(`${logicalId} (AWS::ApiGatewayV2::Api): no stage is defined`);

  return { apiId, logicalId, selectionPath: parseSelectionExpression(api.properties.RouteSelectionExpression, api), routes, stages };
}

function rejectUpgrade(socket: Duplex, status: number, message: string, errorType?: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      (errorType ? `x-amzn-ErrorType: ${errorType}\r\n` : '') +
      'Connection: close\r\n\r\n' +
      body,
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...(text ? { 'Content-Type': 'application/json' } : {}), 'x-amzn-RequestId': newRequestId(), ...headers });
  res.end(text);
}

export async function startWebSocketApi(opts: StartWebSocketApiOptions): Promise<WebSocketApiHandle> {
  const { template, lambda, logger } = opts;
  const host = opts.host ?? '127.0.0.1';
  const idleMs = opts.idleTimeoutMs ?? 10 * 60_000;
  const maxMs = opts.maxConnectionMs ?? 2 * 60 * 60_000;
  const model = buildModel(template, opts.apiLogicalId, lambda, logger);
  const stageName = [...model.stages.keys()][0];
  const what = `WebSocket API ${opts.apiLogicalId}`;
  const authRunner = new AuthorizerRunner(lambda, logger, (auth) => {
    checkInvokePermission(opts.iam, template, auth.functionRef, `arn:aws:execute-api:${template.region}:${template.accountId}:${model.apiId}/authorizers/${auth.id}`);
  });
  const connections = new Map<string, Connection>();
  const pending = new Set<Promise<unknown>>();
  const chosenProtocol = new WeakMap<IncomingMessage, string>();
  let closing = false;
  // Read through a function after an await: TypeScript would keep a narrowing from before it, but close() may have run.
  const isClosing = () => closing;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    // API Gateway completes a subprotocol handshake only when the $connect integration returns the header.
    handleProtocols: (_protocols, req) => chosenProtocol.get(req) ?? false,
  });

  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  };

  const baseContext = (conn: Pick<Connection, 'id' | 'stage' | 'connectedAt' | 'sourceIp' | 'userAgent' | 'domainName'>, routeKey: string, eventType: string) => {
    const now = Date.now();
    return {
      routeKey,
      eventType,
      extendedRequestId: shortId(),
      requestTime: clfTime(now),
      messageDirection: 'IN',
      stage: conn.stage,
      connectedAt: conn.connectedAt,
      requestTimeEpoch: now,
      identity: { userAgent: conn.userAgent, sourceIp: conn.sourceIp },
      requestId: shortId(),
      domainName: conn.domainName,
      connectionId: conn.id,
      apiId: model.apiId,
    };
  };

  /** Invokes a route's integration; `undefined` for a route without one, `null` on any failure (logged). */
  async function invokeRoute(route: WsRoute, event: unknown, stage: string): Promise<{ payload: unknown } | null | undefined> {
    if (!route.integration) return undefined;
    const integ = route.integration;
    try {
      checkInvokePermission(opts.iam, template, integ.functionRef, `arn:aws:execute-api:${template.region}:${template.accountId}:${model.apiId}/${stage}/${route.routeKey}`);
      const outcome = await withTimeout(lambda.invoke(integ.functionRef, event), integ.timeoutMs);
      if (outcome.timedOut) {
        logger.warn(`${what}: ${route.routeKey} integration timed out after ${integ.timeoutMs} ms`);
        return null;
      }
      if (!outcome.value.ok) {
        logger.warn(`${what}: ${route.routeKey} function error`, { errorType: outcome.value.errorType, errorMessage: outcome.value.errorMessage });
        return null;
      }
      return { payload: outcome.value.payload };
    } catch (err) {
      logger.error(`${what}: ${route.routeKey} could not invoke ${integ.functionRef}`, { error: String(err) });
      return null;
    }
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const segments = (q < 0 ? rawUrl : rawUrl.slice(0, q)).split('/').filter(Boolean);
    const stage = segments.length === 1 ? model.stages.get(decodeURIComponent(segments[0])) : undefined;
    if (closing || !stage) {
      rejectUpgrade(socket, 403, 'Forbidden', 'ForbiddenException');
      logger.info(`${what}: upgrade ${rawUrl} refused (unknown stage)`);
      return;
    }
    const connectedAt = Date.now();
    const sourceIp = sourceIpOf(req);
    const { headers, multiValueHeaders } = headerMaps(req, {
      'X-Amzn-Trace-Id': traceId(connectedAt),
      'X-Forwarded-For': sourceIp,
      'X-Forwarded-Port': String(req.socket.localPort ?? ''),
      'X-Forwarded-Proto': 'http',
    });
    const query = queryMaps(q < 0 ? '' : rawUrl.slice(q + 1));
    const conn = {
      id: shortId(),
      stage: stage.name,
      connectedAt,
      sourceIp,
      userAgent: headerValue(headers, 'user-agent') ?? '',
      domainName: headerValue(headers, 'host') ?? `${model.apiId}.execute-api.${template.region}.amazonaws.com`,
    };
    const connectRoute = model.routes.get('$connect');
    const context = baseContext(conn, '$connect', 'CONNECT');
    let authorizer: Record<string, unknown> | undefined;

    if (connectRoute?.authorizer) {
      const methodArn = `arn:aws:execute-api:${template.region}:${template.accountId}:${model.apiId}/${stage.name}/$connect`;
      const outcome = await authRunner.authorize(
        connectRoute.authorizer,
        { headers, query: query.queryStringParameters, stageVariables: stage.variables, context },
        methodArn,
        () => ({
          type: 'REQUEST',
          methodArn,
          headers,
          multiValueHeaders,
          queryStringParameters: query.queryStringParameters ?? {},
          multiValueQueryStringParameters: query.multiValueQueryStringParameters ?? {},
          stageVariables: stage.variables ?? {},
          requestContext: context,
        }),
      );
      if (outcome.kind !== 'allow') {
        const [status, message, type] =
          outcome.kind === 'unauthorized'
            ? [401, 'Unauthorized', 'UnauthorizedException']
            : outcome.kind === 'deny'
              ? [403, 'Forbidden', 'AccessDeniedException']
              : [500, 'Internal server error', 'AuthorizerConfigurationException'];
        rejectUpgrade(socket, status, message, type);
        logger.info(`${what}: connect refused by authorizer → ${status}`, { connectionId: conn.id, outcome: outcome.kind });
        return;
      }
      authorizer = { ...outcome.context, principalId: outcome.principalId, integrationLatency: outcome.integrationLatency };
    }

    if (connectRoute?.integration) {
      const event = {
        headers,
        multiValueHeaders,
        ...(query.queryStringParameters
          ? { queryStringParameters: query.queryStringParameters, multiValueQueryStringParameters: query.multiValueQueryStringParameters }
          : {}),
        requestContext: { ...context, ...(authorizer ? { authorizer } : {}) },
        isBase64Encoded: false,
      };
      const result = await invokeRoute(connectRoute, event, conn.stage);
      if (result === null) {
        rejectUpgrade(socket, 502, 'Internal server error', 'InternalServerErrorException');
        logger.info(`${what}: connect refused (integration failed) → 502`, { connectionId: conn.id });
        return;
      }
      const payload = (result?.payload ?? null) as Record<string, unknown> | null;
      const status = payload && typeof payload === 'object' ? Number(payload.statusCode ?? 200) : 200;
      if (!(status >= 200 && status < 300)) {
        rejectUpgrade(socket, Number.isInteger(status) && status >= 400 && status < 600 ? status : 502, STATUS_CODES[status] ?? 'Error');
        logger.info(`${what}: connect refused by $connect integration → ${status}`, { connectionId: conn.id });
        return;
      }
      const resultHeaders = payload && typeof payload.headers === 'object' && payload.headers ? (payload.headers as Record<string, unknown>) : {};
      const protocol = Object.entries(resultHeaders).find(([k]) => k.toLowerCase() === 'sec-websocket-protocol')?.[1];
      if (protocol !== undefined) chosenProtocol.set(req, fieldText(protocol));
    }

    if (socket.destroyed || isClosing()) {
      logger.info(`${what}: client went away during $connect`, { connectionId: conn.id });
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => { register({ ...conn, ws, lastActiveAt: Date.now(), authorizer }); });
  }

  function register(conn: Connection): void {
    connections.set(conn.id, conn);
    logger.info(`${what}: connected`, { connectionId: conn.id });
    const touch = () => {
      conn.lastActiveAt = Date.now();
      if (conn.idleTimer) clearTimeout(conn.idleTimer);
      conn.idleTimer = setTimeout(() => { gatewayClose(conn, 1001, 'Going away', 'idle timeout'); }, idleMs);
    };
    touch();
    conn.maxTimer = setTimeout(() => { gatewayClose(conn, 1001, 'Going away', 'maximum connection duration'); }, maxMs);
    conn.ws.on('message', (data: RawData, isBinary: boolean) => {
      touch();
      void track(onMessage(conn, toBuffer(data), isBinary));
    });
    conn.ws.on('ping', touch);
    conn.ws.on('error', (err: Error & { code?: string }) => {
      // ws closes with 1009 itself but never hears the client's answer, so its close event would say 1006.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') conn.closedBy ??= { code: 1009, reason: 'Message too big' };
      logger.debug(`${what}: connection error`, { connectionId: conn.id, error: err.message });
    });
    conn.ws.on('close', (code: number, reason: Buffer) => void track(onClose(conn, code, reason.toString('utf8'))));
  }

  function gatewayClose(conn: Connection, code: number, reason: string, why: string): void {
    if (conn.closedBy || !connections.has(conn.id)) return;
    conn.closedBy = { code, reason };
    logger.info(`${what}: closing connection (${why})`, { connectionId: conn.id });
    conn.ws.close(code, reason);
    // Do not wait the ws library's 30 s for a client that never answers the close frame.
    setTimeout(() => { conn.ws.terminate(); }, 1000).unref();
  }

  async function onMessage(conn: Connection, data: Buffer, isBinary: boolean): Promise<void> {
    const text = isBinary ? undefined : data.toString('utf8');
    const key = selectRouteKey(model.selectionPath, text);
    const route = model.routes.get(key) ?? model.routes.get('$default');
    const context = { ...baseContext(conn, route?.routeKey ?? key, 'MESSAGE'), messageId: shortId() };
    if (!route) {
      send(conn, `{"message": "Forbidden", "connectionId":"${conn.id}", "requestId":"${context.requestId}"}`);
      return;
    }
    const event = {
      requestContext: { ...context, ...(conn.authorizer ? { authorizer: conn.authorizer } : {}) },
      body: isBinary ? data.toString('base64') : text,
      isBase64Encoded: isBinary,
    };
    const result = await invokeRoute(route, event, conn.stage);
    if (result === null) {
      send(conn, `{"message": "Internal server error", "connectionId":"${conn.id}", "requestId":"${context.requestId}"}`);
      return;
    }
    if (route.twoWay && result && result.payload && typeof result.payload === 'object') {
      const body = (result.payload as Record<string, unknown>).body;
      if (typeof body === 'string') send(conn, body);
      else if (body !== undefined && body !== null) send(conn, JSON.stringify(body));
    }
  }

  function send(conn: Connection, data: string | Buffer): void {
    if (!connections.has(conn.id) || conn.closedBy) return;
    conn.ws.send(data, { binary: typeof data !== 'string' && !isUtf8(data) });
  }

  async function onClose(conn: Connection, clientCode: number, clientReason: string): Promise<void> {
    if (!connections.delete(conn.id)) return;
    clearTimeout(conn.idleTimer);
    clearTimeout(conn.maxTimer);
    const code = conn.closedBy?.code ?? clientCode;
    const reason = conn.closedBy?.reason ?? (clientReason || (clientCode === 1005 ? 'Client-side close frame status not set' : ''));
    logger.info(`${what}: disconnected`, { connectionId: conn.id, code });
    const route = model.routes.get('$disconnect');
    if (!route) return;
    const headers = { Host: conn.domainName, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' };
    await invokeRoute(route, {
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      requestContext: {
        ...baseContext(conn, '$disconnect', 'DISCONNECT'),
        disconnectStatusCode: code,
        disconnectReason: reason,
        ...(conn.authorizer ? { authorizer: conn.authorizer } : {}),
      },
      isBase64Encoded: false,
    }, conn.stage);
  }

  async function onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawPath = (req.url ?? '/').split('?')[0];
    // The SDK sends `<endpoint path>/@connections/<id>`; the endpoint is the callback URL, so the stage leads.
    const m = /^(?:\/([^/]+))?\/@connections\/([^/]+)\/?$/.exec(rawPath);
    const stage = m?.[1] === undefined ? stageName : decodeURIComponent(m[1]);
    if (!m || !model.stages.has(stage)) {
      req.resume();
      const upgradeOnly = !m && model.stages.has(decodeURIComponent(rawPath.split('/').filter(Boolean)[0] ?? ''));
      if (upgradeOnly) sendJson(res, 426, { message: 'Upgrade Required' });
      else sendJson(res, 403, { message: 'Forbidden' }, { 'x-amzn-ErrorType': 'ForbiddenException' });
      return;
    }
    const id = decodeURIComponent(m[2]);
    if (opts.iam) {
      const caller = opts.iam.callerForAccessKey(accessKeyOf(req.headers.authorization));
      const decision = opts.iam.authorize(caller, [
        manageConnectionsPermission(model.apiId, stage, req.method ?? 'GET', id, { region: template.region, accountId: template.accountId }),
      ]);
      if (!decision.allowed) {
        req.resume();
        sendJson(res, 403, { message: decision.message }, { 'x-amzn-ErrorType': 'AccessDeniedException' });
        return;
      }
    }
    const conn = connections.get(id);
    // A connection the client is already closing is as gone as a closed one for API Gateway.
    const live = conn && !conn.closedBy && conn.stage === stage && conn.ws.readyState === conn.ws.OPEN ? conn : undefined;
    const gone = () => { sendJson(res, 410, { message: `Connection ${id} is gone` }, { 'x-amzn-ErrorType': 'GoneException' }); };
    const method = (req.method ?? 'GET').toUpperCase();

    if (method === 'POST') {
      let body: Buffer;
      try {
        body = await readBody(req, MAX_MESSAGE_BYTES);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          sendJson(res, 413, { message: 'Message too long' }, { 'x-amzn-ErrorType': 'PayloadTooLargeException' });
          return;
        }
        throw err;
      }
      if (!live) { gone(); return; }
      send(live, isUtf8(body) ? body.toString('utf8') : body);
      sendJson(res, 200, undefined);
      return;
    }
    req.resume();
    if (method === 'GET') {
      if (!live) { gone(); return; }
      sendJson(res, 200, {
        connectedAt: new Date(live.connectedAt).toISOString(),
        identity: { sourceIp: live.sourceIp, userAgent: live.userAgent },
        lastActiveAt: new Date(live.lastActiveAt).toISOString(),
      });
      return;
    }
    if (method === 'DELETE') {
      if (!live) { gone(); return; }
      gatewayClose(live, 1000, '', 'DeleteConnection');
      sendJson(res, 204, undefined);
      return;
    }
    sendJson(res, 403, { message: 'Forbidden' }, { 'x-amzn-ErrorType': 'ForbiddenException' });
  }

  const listening = await listen(what, opts.port, host, (req, res) => {
    onHttp(req, res).catch((err: unknown) => {
      logger.error(`${what}: management API error`, { error: String((err as Error | null | undefined)?.stack ?? err) });
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal server error' });
      else res.destroy();
    });
  });
  listening.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    onUpgrade(req, socket, head).catch((err: unknown) => {
      logger.error(`${what}: connect failed`, { error: String((err as Error | null | undefined)?.stack ?? err) });
      rejectUpgrade(socket, 500, 'Internal server error');
    });
  });

  const base = `${urlHost(host)}:${listening.port}/${stageName}`;
  logger.info(`${what} listening on ws://${base}`, { stages: [...model.stages.keys()] });
  return {
    url: `ws://${base}`,
    callbackUrl: `http://${base}`,
    stageName,
    close: async () => {
      closing = true;
      for (const conn of connections.values()) gatewayClose(conn, 1001, 'Going away', 'shutting down');
      // Give $disconnect handlers a bounded chance to run, as they would when API Gateway drops connections.
      const deadline = Date.now() + 3000;
      // A timer per round (not a bare promise race) so that socket events get a turn of the event loop.
      while ((connections.size > 0 || pending.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const conn of connections.values()) conn.ws.terminate();
      wss.close();
      await listening.close();
    },
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
