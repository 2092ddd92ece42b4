import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWebSocketApi, type WebSocketApiHandle } from '../../../../localstack/cloud/apigateway';
import type { LambdaResult } from '../../../../localstack/cloud/types';
import { ACCOUNT, FN, FakeLambda, WS_API_ID, WS_LOGICAL_ID, fail, makeTemplate, ok, policy, silentLogger, until, frameText, type FixtureOptions, type GatewayEvent, type Handler } from './fixture';

function authorizer(event: GatewayEvent) {
  const token = event.queryStringParameters?.token;
  if (token === 'good') return ok({ principalId: 'tenant-a:t1', policyDocument: policy('Allow', event.methodArn!), context: { tenant: 'tenant-a', admin: false } });
  if (token === 'deny') return ok({ principalId: 'x', policyDocument: policy('Deny', event.methodArn!) });
  return fail('Error', 'Unauthorized');
}

let api: WebSocketApiHandle | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await api?.close();
  api = undefined;
});

interface Started {
  lambda: FakeLambda;
  url: string;
  callbackUrl: string;
  client: ApiGatewayManagementApiClient;
}

async function start(
  opts: { fixture?: FixtureOptions; idleTimeoutMs?: number; maxConnectionMs?: number; connect?: Handler; messages?: Handler } = {},
): Promise<Started> {
  const lambda = new FakeLambda()
    .on(FN.auth, authorizer)
    .on(FN.connection, opts.connect ?? (() => ok({ statusCode: 200 })))
    .on(FN.messages, opts.messages ?? ((e) => ok({ statusCode: 200, body: JSON.stringify({ echo: e.body }) })));
  api = await startWebSocketApi({
    template: makeTemplate(opts.fixture),
    apiLogicalId: WS_LOGICAL_ID,
    port: 0,
    lambda,
    logger: silentLogger(),
    idleTimeoutMs: opts.idleTimeoutMs,
    maxConnectionMs: opts.maxConnectionMs,
  });
  const client = new ApiGatewayManagementApiClient({
    endpoint: api.callbackUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { lambda, url: api.url, callbackUrl: api.callbackUrl, client };
}

/** Opens a client; resolves with the open socket, or with the HTTP status the upgrade was refused with. */
function connect(url: string, headers: Record<string, string> = {}): Promise<{ ws?: WebSocket; status?: number; messages: string[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    sockets.push(ws);
    const messages: string[] = [];
    ws.on('message', (d) => messages.push(frameText(d)));
    ws.once('open', () => { resolve({ ws, messages }); });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode, messages });
      ws.terminate();
    });
    ws.once('error', (err) => {
      if (ws.readyState !== WebSocket.CLOSED) reject(err);
    });
  });
}

const closed = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => { r({ code, reason: reason.toString() }); }));

describe('Function: startWebSocketApi', () => {
  describe('Feature: $connect', () => {
    it('should refuse the upgrade with 401 for a bad token and without one, invoking the authorizer only when a token is present', async () => {
      const { lambda, url } = await start();
      expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v1$/);
      expect((await connect(`${url}?token=bad`)).status).toBe(401);
      expect(lambda.callsTo(FN.auth)).toHaveLength(1);
      expect((await connect(url)).status).toBe(401);
      expect(lambda.callsTo(FN.auth)).toHaveLength(1);
      expect(lambda.callsTo(FN.connection)).toHaveLength(0);
    });

    it('should refuse the upgrade with 403 when the authorizer denies', async () => {
      const { lambda, url } = await start();
      expect((await connect(`${url}?token=deny`)).status).toBe(403);
      expect(lambda.callsTo(FN.connection)).toHaveLength(0);
    });

    it('should accept a good token and pass the authorizer and $connect events in the shapes API Gateway sends', async () => {
      const { lambda, url } = await start();
      const { ws } = await connect(`${url}?token=good&x=1`, { 'User-Agent': 'ws-test/1', 'X-Client': 'cli' });
      expect(ws?.readyState).toBe(WebSocket.OPEN);

      const [authEvent] = lambda.callsTo(FN.auth);
      expect(authEvent).toMatchObject({
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:us-east-1:${ACCOUNT}:${WS_API_ID}/v1/$connect`,
        queryStringParameters: { token: 'good', x: '1' },
        multiValueQueryStringParameters: { token: ['good'], x: ['1'] },
        stageVariables: {},
        requestContext: { routeKey: '$connect', eventType: 'CONNECT', apiId: WS_API_ID, stage: 'v1' },
      });
      expect(authEvent.headers!['X-Client']).toBe('cli');

      const [connectEvent] = lambda.callsTo(FN.connection);
      expect(Object.keys(connectEvent).sort()).toEqual(
        ['headers', 'isBase64Encoded', 'multiValueHeaders', 'multiValueQueryStringParameters', 'queryStringParameters', 'requestContext'].sort(),
      );
      expect(connectEvent.queryStringParameters).toEqual({ token: 'good', x: '1' });
      expect(connectEvent.headers).toMatchObject({ 'User-Agent': 'ws-test/1', 'X-Client': 'cli', 'Sec-WebSocket-Version': '13' });
      const rc = connectEvent.requestContext!;
      expect(rc).toMatchObject({
        routeKey: '$connect',
        eventType: 'CONNECT',
        messageDirection: 'IN',
        stage: 'v1',
        apiId: WS_API_ID,
        identity: { sourceIp: '127.0.0.1', userAgent: 'ws-test/1' },
        authorizer: { principalId: 'tenant-a:t1', tenant: 'tenant-a', admin: 'false' },
      });
      expect(rc.connectionId).toMatch(/^[A-Za-z0-9]{15}=$/);
      expect(rc.connectionId).toBe(authEvent.requestContext!.connectionId);
      expect(rc.domainName).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(rc.requestTime).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
      expect(typeof rc.connectedAt).toBe('number');
      expect(typeof rc.requestTimeEpoch).toBe('number');
      expect(typeof rc.extendedRequestId).toBe('string');
      expect(typeof rc.requestId).toBe('string');
    });

    it('should refuse the upgrade with the status a $connect integration returns, and with 502 when it fails', async () => {
      let answer: LambdaResult = ok({ statusCode: 403, body: 'no' });
      const { url } = await start({ connect: () => answer });
      expect((await connect(`${url}?token=good`)).status).toBe(403);
      answer = fail('Error', 'db down');
      expect((await connect(`${url}?token=good`)).status).toBe(502);
    });

    it('should complete a subprotocol handshake only when the $connect integration returns the header', async () => {
      let protocol: string | undefined = 'agentplane.v1';
      const { url } = await start({ connect: () => ok({ statusCode: 200, ...(protocol ? { headers: { 'Sec-WebSocket-Protocol': protocol } } : {}) }) });
      const accepted = new WebSocket(`${url}?token=good`, ['agentplane.v1']);
      sockets.push(accepted);
      await new Promise((r, j) => accepted.once('open', r).once('error', j));
      expect(accepted.protocol).toBe('agentplane.v1');
      protocol = undefined;
      const refused = new WebSocket(`${url}?token=good`, ['agentplane.v1']);
      sockets.push(refused);
      await expect(new Promise((r, j) => refused.once('open', r).once('error', j))).rejects.toThrow(/subprotocol/);
    });

    it('should refuse an unknown stage with 403', async () => {
      const { url } = await start();
      expect((await connect(`${url.replace(/\/v1$/, '/prod')}?token=good`)).status).toBe(403);
    });
  });

  describe('Feature: messages', () => {
    it('should route on $request.body.type, fall back to $default, and send two-way responses back', async () => {
      const { lambda, url } = await start();
      const { ws, messages } = await connect(`${url}?token=good`);
      ws!.send(JSON.stringify({ type: 'echo', n: 1 }));
      ws!.send(JSON.stringify({ type: 'subscribe', n: 2 }));
      ws!.send('not json');
      await until(() => messages.length === 3);
      const events = lambda.callsTo(FN.messages);
      const byBody = (b: string) => events.find((e) => e.body === b)!;
      expect(byBody('{"type":"echo","n":1}').requestContext!.routeKey).toBe('echo');
      expect(byBody('{"type":"subscribe","n":2}').requestContext!.routeKey).toBe('$default');
      expect(byBody('not json').requestContext!.routeKey).toBe('$default');
      expect(messages.map((m) => (JSON.parse(m) as { echo: string }).echo).sort()).toEqual(['not json', '{"type":"echo","n":1}', '{"type":"subscribe","n":2}'].sort());

      const e = byBody('{"type":"echo","n":1}');
      expect(Object.keys(e).sort()).toEqual(['body', 'isBase64Encoded', 'requestContext']);
      expect(e.isBase64Encoded).toBe(false);
      expect(e.requestContext).toMatchObject({
        eventType: 'MESSAGE',
        messageDirection: 'IN',
        stage: 'v1',
        apiId: WS_API_ID,
        authorizer: { principalId: 'tenant-a:t1', tenant: 'tenant-a' },
      });
      expect(typeof e.requestContext!.messageId).toBe('string');
      expect(e.requestContext!.connectionId).toBe(lambda.callsTo(FN.connection)[0].requestContext!.connectionId);
    });

    it("should send API Gateway's Forbidden message when no route matches and there is no $default", async () => {
      const { lambda, url } = await start({ fixture: { defaultRoute: false } });
      const { ws, messages } = await connect(`${url}?token=good`);
      ws!.send(JSON.stringify({ type: 'unknown' }));
      await until(() => messages.length === 1);
      const msg: unknown = JSON.parse(messages[0]);
      expect(msg).toEqual({ message: 'Forbidden', connectionId: lambda.callsTo(FN.connection)[0].requestContext!.connectionId, requestId: expect.any(String) as unknown });
      expect(lambda.callsTo(FN.messages)).toHaveLength(0);
    });

    it('should send Internal server error when the route integration fails, never the error itself', async () => {
      const { url } = await start({ messages: () => fail('Error', 'secret detail') });
      const { ws, messages } = await connect(`${url}?token=good`);
      ws!.send('{"type":"echo"}');
      await until(() => messages.length === 1);
      expect(JSON.parse(messages[0])).toMatchObject({ message: 'Internal server error' });
      expect(messages[0]).not.toContain('secret');
    });

    it('should pass binary frames base64-encoded', async () => {
      const { lambda, url } = await start();
      const { ws } = await connect(`${url}?token=good`);
      ws!.send(Buffer.from([1, 2, 3]), { binary: true });
      const e = await until(() => lambda.callsTo(FN.messages)[0]);
      expect(e).toMatchObject({ body: 'AQID', isBase64Encoded: true });
      expect(e.requestContext!.routeKey).toBe('$default');
    });

    it('should close the connection with 1009 for a frame over 32 KB and invoke $disconnect', async () => {
      const { lambda, url } = await start();
      const { ws } = await connect(`${url}?token=good`);
      const done = closed(ws!);
      ws!.send('x'.repeat(32 * 1024 + 1));
      expect((await done).code).toBe(1009);
      const disconnect = await until(() => lambda.callsTo(FN.connection).find((e) => e.requestContext?.eventType === 'DISCONNECT'));
      expect(disconnect.requestContext!.disconnectStatusCode).toBe(1009);
      expect(lambda.callsTo(FN.messages)).toHaveLength(0);
    });
  });

  describe('Feature: @connections management API', () => {
    it('should post to, describe and refuse oversized posts through the real SDK client', async () => {
      const { client, lambda, url } = await start();
      const { messages } = await connect(`${url}?token=good`, { 'User-Agent': 'sdk-test' });
      const id = lambda.callsTo(FN.connection)[0].requestContext!.connectionId!;
      await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('{"type":"event","seq":1}') }));
      await until(() => messages.length === 1);
      expect(messages[0]).toBe('{"type":"event","seq":1}');

      const info = await client.send(new GetConnectionCommand({ ConnectionId: id }));
      expect(info.ConnectedAt).toBeInstanceOf(Date);
      expect(info.LastActiveAt).toBeInstanceOf(Date);
      expect(info.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'sdk-test' });

      const big = client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.alloc(128 * 1024 + 1, 97) }));
      await expect(big).rejects.toBeInstanceOf(PayloadTooLargeException);
      const ok128 = await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.alloc(128 * 1024, 98) }));
      expect(ok128.$metadata.httpStatusCode).toBe(200);
    });

    it('should answer 410 GoneException after the client closed, and invoke $disconnect', async () => {
      const { lambda, client, callbackUrl, url } = await start();
      const { ws } = await connect(`${url}?token=good`);
      const id = lambda.callsTo(FN.connection)[0].requestContext!.connectionId!;
      ws!.close(1000, 'bye');
      const disconnect = await until(() => lambda.callsTo(FN.connection).find((e) => e.requestContext?.eventType === 'DISCONNECT'));
      expect(disconnect.requestContext).toMatchObject({
        routeKey: '$disconnect',
        eventType: 'DISCONNECT',
        connectionId: id,
        disconnectStatusCode: 1000,
        disconnectReason: 'bye',
        authorizer: { principalId: 'tenant-a:t1' },
      });
      expect(disconnect.headers).toHaveProperty('Host');
      expect(disconnect.isBase64Encoded).toBe(false);

      const post = client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('late') }));
      await expect(post).rejects.toBeInstanceOf(GoneException);
      await expect(client.send(new GetConnectionCommand({ ConnectionId: id }))).rejects.toBeInstanceOf(GoneException);
      const raw = await fetch(`${callbackUrl}/@connections/${encodeURIComponent(id)}`, { method: 'POST', body: 'x' });
      expect(raw.status).toBe(410);
      expect(raw.headers.get('x-amzn-errortype')).toBe('GoneException');
      expect(await raw.json()).toHaveProperty('message');
    });

    it('should close the connection on DeleteConnection and invoke $disconnect', async () => {
      const { lambda, client, url } = await start();
      const { ws } = await connect(`${url}?token=good`);
      const id = lambda.callsTo(FN.connection)[0].requestContext!.connectionId!;
      const done = closed(ws!);
      await client.send(new DeleteConnectionCommand({ ConnectionId: id }));
      await done;
      await until(() => lambda.callsTo(FN.connection).find((e) => e.requestContext?.eventType === 'DISCONNECT'));
      await expect(client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('x') }))).rejects.toBeInstanceOf(GoneException);
    });
  });

  describe('Feature: connection limits', () => {
    it('should close an idle connection and invoke $disconnect, while traffic keeps a connection open', async () => {
      const { lambda, url } = await start({ idleTimeoutMs: 300 });
      const idle = await connect(`${url}?token=good`);
      const busy = await connect(`${url}?token=good`);
      const idleClosed = closed(idle.ws!);
      const timer = setInterval(() => { busy.ws!.send('{"type":"keepalive"}'); }, 100);
      try {
        expect((await idleClosed).code).toBe(1001);
        await until(() => lambda.callsTo(FN.connection).some((e) => e.requestContext?.eventType === 'DISCONNECT'));
        await new Promise((r) => setTimeout(r, 200));
        expect(busy.ws!.readyState).toBe(WebSocket.OPEN);
      } finally {
        clearInterval(timer);
      }
    });

    it('should close a connection at the maximum duration even when it is active', async () => {
      const { lambda, url } = await start({ maxConnectionMs: 300 });
      const { ws } = await connect(`${url}?token=good`);
      const done = closed(ws!);
      const timer = setInterval(() => { ws!.send('{"type":"keepalive"}'); }, 50);
      try {
        expect((await done).code).toBe(1001);
      } finally {
        clearInterval(timer);
      }
      const disconnect = await until(() => lambda.callsTo(FN.connection).find((e) => e.requestContext?.eventType === 'DISCONNECT'));
      expect(disconnect.requestContext!.disconnectStatusCode).toBe(1001);
    });
  });
});
