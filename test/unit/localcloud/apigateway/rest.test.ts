import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRestApi, type RestApiHandle } from '../../../../localstack/cloud/apigateway';
import { UnsupportedResourceError, type ResolvedTemplate } from '../../../../localstack/cloud/types';
import { ACCOUNT, FN, FakeLambda, REST_API_ID, REST_LOGICAL_ID, ROOT_ID, fail, makeTemplate, ok, policy, silentLogger, type FixtureOptions, type GatewayEvent, type Handler } from './fixture';

const ARN_PREFIX = `arn:aws:execute-api:us-east-1:${ACCOUNT}:${REST_API_ID}/v1`;

/** Tokens name the authorizer's verdict, so each test picks its behaviour through the request alone. */
function authorizer(event: GatewayEvent) {
  const token = (event.authorizationToken ?? '').replace(/^Bearer /, '');
  if (token.startsWith('good')) {
    return ok({ principalId: 'tenant-a:tok1', policyDocument: policy('Allow', `${ARN_PREFIX}/*`), context: { tenant: 'tenant-a', admin: true, quota: 3 } });
  }
  if (token === 'deny') return ok({ principalId: 'x', policyDocument: policy('Deny', `${ARN_PREFIX}/*`) });
  // Allows only the exact route it was first asked for, the classic mistake with a cached policy.
  if (token === 'narrow') return ok({ principalId: 'n', policyDocument: policy('Allow', event.methodArn!) });
  if (token === 'nocontext') return ok({ principalId: 'p', policyDocument: policy('Allow', '*'), context: { nested: { a: 1 } } });
  if (token === 'crash') return fail('TypeError', 'Cannot read properties of undefined');
  return fail('Error', 'Unauthorized');
}

let api: RestApiHandle | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function start(
  apiHandler: Handler = () => ok({ statusCode: 200, body: '{"ok":true}' }),
  opts: { template?: ResolvedTemplate; maxBodyBytes?: number; fixture?: FixtureOptions } = {},
) {
  const lambda = new FakeLambda().on(FN.api, apiHandler).on(FN.auth, authorizer);
  const logger = silentLogger();
  api = await startRestApi({
    template: opts.template ?? makeTemplate(opts.fixture),
    restApiLogicalId: REST_LOGICAL_ID,
    port: 0,
    lambda,
    logger,
    maxBodyBytes: opts.maxBodyBytes,
  });
  return { lambda, logger, url: api.url };
}

describe('Function: startRestApi', () => {
  describe('Feature: routing and the Lambda proxy event', () => {
    it('should serve the stage under its name and answer a route without authorizer', async () => {
      const { lambda, url } = await start();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      const res = await fetch(`${url}/health`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
      expect(await res.json()).toEqual({ ok: true });
      expect(lambda.callsTo(FN.auth)).toHaveLength(0);
    });

    it('should build the exact v1 proxy event with path parameters, query strings and the authorizer context', async () => {
      const { lambda, url } = await start();
      const before = Date.now();
      const res = await fetch(`${url}/runs/run%201?tag=a&tag=b&limit=5`, {
        headers: { Authorization: 'Bearer good-1', 'X-Custom': 'one', 'User-Agent': 'test-agent/1.0' },
      });
      expect(res.status).toBe(200);
      const [event] = lambda.callsTo(FN.api);
      expect(Object.keys(event).sort()).toEqual(
        [
          'body',
          'headers',
          'httpMethod',
          'isBase64Encoded',
          'multiValueHeaders',
          'multiValueQueryStringParameters',
          'path',
          'pathParameters',
          'queryStringParameters',
          'requestContext',
          'resource',
          'stageVariables',
        ].sort(),
      );
      expect(event).toMatchObject({
        resource: '/runs/{id}',
        path: '/runs/run%201',
        httpMethod: 'GET',
        queryStringParameters: { tag: 'b', limit: '5' },
        multiValueQueryStringParameters: { tag: ['a', 'b'], limit: ['5'] },
        pathParameters: { id: 'run 1' },
        stageVariables: null,
        body: null,
        isBase64Encoded: false,
      });
      expect(event.headers).toMatchObject({ Authorization: 'Bearer good-1', 'X-Custom': 'one', 'User-Agent': 'test-agent/1.0', 'X-Forwarded-Proto': 'http' });
      expect(event.headers!['X-Amzn-Trace-Id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
      expect(event.multiValueHeaders!['X-Custom']).toEqual(['one']);
      const rc = event.requestContext!;
      expect(rc).toMatchObject({
        accountId: ACCOUNT,
        apiId: REST_API_ID,
        resourceId: 'runid1',
        resourcePath: '/runs/{id}',
        httpMethod: 'GET',
        path: '/v1/runs/run%201',
        stage: 'v1',
        protocol: 'HTTP/1.1',
        deploymentId: 'dep123',
        identity: { sourceIp: '127.0.0.1', userAgent: 'test-agent/1.0', accessKey: null, caller: null, user: null, userArn: null },
        authorizer: { principalId: 'tenant-a:tok1', tenant: 'tenant-a', admin: 'true', quota: '3' },
      });
      expect(typeof rc.authorizer!.integrationLatency).toBe('number');
      expect(rc.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(rc.requestTimeEpoch).toBeGreaterThanOrEqual(before);
      expect(rc.requestTime).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    });

    it('should pass a POST body as text and null maps when there is no query string or path parameter', async () => {
      const { lambda, url } = await start();
      await fetch(`${url}/runs`, { method: 'POST', headers: { Authorization: 'Bearer good', 'Content-Type': 'application/json' }, body: '{"workflowId":"w"}' });
      const [event] = lambda.callsTo(FN.api);
      expect(event).toMatchObject({ resource: '/runs', path: '/runs', httpMethod: 'POST', body: '{"workflowId":"w"}', isBase64Encoded: false });
      expect(event.queryStringParameters).toBeNull();
      expect(event.multiValueQueryStringParameters).toBeNull();
      expect(event.pathParameters).toBeNull();
    });

    it('should map statusCode, headers, multiValueHeaders and a base64 body to the HTTP response', async () => {
      const { url } = await start(() =>
        ok({
          statusCode: 201,
          headers: { 'Content-Type': 'application/octet-stream', 'X-Single': 'a', 'X-Both': 'from-headers', 'X-Num': 7 },
          multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'], 'X-Both': ['m1', 'm2'] },
          body: Buffer.from([0, 1, 2, 255]).toString('base64'),
          isBase64Encoded: true,
        }),
      );
      const res = await fetch(`${url}/health`);
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('x-single')).toBe('a');
      expect(res.headers.get('x-num')).toBe('7');
      expect(res.headers.get('x-both')).toBe('m1, m2');
      expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
      expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([0, 1, 2, 255]);
    });

    it('should answer the CORS preflight from the MOCK integration without invoking anything', async () => {
      const { lambda, url } = await start();
      const res = await fetch(`${url}/runs`, { method: 'OPTIONS', headers: { Origin: 'http://localhost:5173' } });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-headers')).toBe('Authorization,Content-Type,Idempotency-Key');
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(lambda.calls).toHaveLength(0);
    });

    it('should answer 403 Missing Authentication Token through the DEFAULT_4XX gateway response for unknown paths and methods', async () => {
      const { lambda, url } = await start();
      for (const [method, path] of [
        ['GET', '/nope'],
        ['DELETE', '/runs'],
        ['GET', '/runs/1/extra'],
      ] as const) {
        const res = await fetch(`${url}${path}`, { method });
        expect(res.status).toBe(403);
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
        expect(await res.json()).toEqual({ error: { code: 'MISSING_AUTHENTICATION_TOKEN', message: 'Missing Authentication Token' } });
      }
      expect(lambda.calls).toHaveLength(0);
    });

    it('should answer 403 Forbidden for a stage that is not deployed', async () => {
      const { url } = await start();
      const res = await fetch(url.replace(/\/v1$/, '/prod/health'));
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ message: 'Forbidden' });
    });
  });

  describe('Feature: Lambda authorizer', () => {
    it('should answer 401 without invoking the authorizer when the Authorization header is missing', async () => {
      const { lambda, url } = await start();
      const res = await fetch(`${url}/runs`);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'Unauthorized' } });
      expect(lambda.calls).toHaveLength(0);
    });

    it('should invoke a TOKEN authorizer with type, token and method ARN, and answer 401 when it fails with Unauthorized', async () => {
      const { lambda, url } = await start();
      const res = await fetch(`${url}/runs/r1`, { headers: { Authorization: 'Bearer nope' } });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'Unauthorized' } });
      expect(lambda.callsTo(FN.auth)).toEqual([{ type: 'TOKEN', authorizationToken: 'Bearer nope', methodArn: `${ARN_PREFIX}/GET/runs/r1` }]);
      expect(lambda.callsTo(FN.api)).toHaveLength(0);
    });

    it('should answer 403 ACCESS_DENIED on an explicit Deny', async () => {
      const { lambda, url } = await start();
      const res = await fetch(`${url}/runs`, { headers: { Authorization: 'Bearer deny' } });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({
        error: { code: 'ACCESS_DENIED', message: 'User is not authorized to access this resource with an explicit deny' },
      });
      expect(lambda.callsTo(FN.api)).toHaveLength(0);
    });

    it('should cache the policy per token and evaluate it against each method ARN', async () => {
      const { lambda, url } = await start();
      const headers = { Authorization: 'Bearer narrow' };
      expect((await fetch(`${url}/runs`, { headers })).status).toBe(200);
      expect((await fetch(`${url}/runs`, { headers })).status).toBe(200);
      const denied = await fetch(`${url}/runs`, { method: 'POST', headers, body: '{}' });
      expect(denied.status).toBe(403);
      expect(await denied.json()).toEqual({ error: { code: 'ACCESS_DENIED', message: 'User is not authorized to access this resource' } });
      expect(lambda.callsTo(FN.auth)).toHaveLength(1);
      expect((await fetch(`${url}/runs`, { headers: { Authorization: 'Bearer good-2' } })).status).toBe(200);
      expect(lambda.callsTo(FN.auth)).toHaveLength(2);
    });

    it('should invoke the authorizer on every request when AuthorizerResultTtlInSeconds is 0', async () => {
      const { lambda, url } = await start(undefined, { fixture: { authorizerTtl: 0 } });
      const headers = { Authorization: 'Bearer good' };
      await fetch(`${url}/runs`, { headers });
      await fetch(`${url}/runs`, { headers });
      expect(lambda.callsTo(FN.auth)).toHaveLength(2);
    });

    it('should answer 500 through DEFAULT_5XX when the authorizer crashes or returns an invalid context', async () => {
      const { lambda, url } = await start();
      for (const token of ['crash', 'nocontext']) {
        const res = await fetch(`${url}/runs`, { headers: { Authorization: `Bearer ${token}` } });
        expect(res.status).toBe(500);
        const body = (await res.json()) as { error: { code: string; message: unknown } };
        expect(body.error.code).toMatch(/^AUTHORIZER_(FAILURE|CONFIGURATION_ERROR)$/);
        expect(body.error.message).toBeNull();
      }
      expect(lambda.callsTo(FN.api)).toHaveLength(0);
    });
  });

  describe('Feature: gateway errors', () => {
    it('should answer 502 Internal server error, with no stack trace, when the function fails', async () => {
      const { url, logger } = await start(() => fail('Error', 'boom at secret place'));
      const res = await fetch(`${url}/health`);
      expect(res.status).toBe(502);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: { code: 'DEFAULT_5XX', message: 'Internal server error' } });
      expect(text).not.toContain('boom');
      expect(logger.lines.some((l) => l.level === 'warn' && l.extra?.errorMessage === 'boom at secret place')).toBe(true);
    });

    it('should answer 502 for a malformed proxy result', async () => {
      for (const payload of [{ body: 'no status' }, { statusCode: 200, body: { not: 'a string' } }, { statusCode: 200, extra: 1 }, 'text', null]) {
        const { url } = await start(() => ok(payload));
        const res = await fetch(`${url}/health`);
        expect(res.status).toBe(502);
        await api!.close();
        api = undefined;
      }
    });

    it('should answer 413 REQUEST_TOO_LARGE for a body over the limit without invoking anything', async () => {
      const { lambda, url } = await start(undefined, { maxBodyBytes: 1024 });
      const res = await fetch(`${url}/runs`, { method: 'POST', headers: { Authorization: 'Bearer good' }, body: 'x'.repeat(2048) });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: { code: 'REQUEST_TOO_LARGE', message: 'Request Too Long' } });
      expect(lambda.calls).toHaveLength(0);
      const small = await fetch(`${url}/runs`, { method: 'POST', headers: { Authorization: 'Bearer good' }, body: 'x'.repeat(1024) });
      expect(small.status).toBe(200);
    });

    it("should use API Gateway's default bodies when the template declares no gateway responses", async () => {
      const template = makeTemplate();
      for (const [id, r] of template.resources) if (r.type === 'AWS::ApiGateway::GatewayResponse') template.resources.delete(id);
      const { url } = await start(() => fail('Error', 'x'), { template });
      const missing = await fetch(`${url}/nope`);
      expect([missing.status, await missing.json()]).toEqual([403, { message: 'Missing Authentication Token' }]);
      expect(missing.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
      const unauthorized = await fetch(`${url}/runs`);
      expect([unauthorized.status, await unauthorized.json()]).toEqual([401, { message: 'Unauthorized' }]);
      const denied = await fetch(`${url}/runs`, { headers: { Authorization: 'deny' } });
      expect([denied.status, await denied.json()]).toEqual([403, { Message: 'User is not authorized to access this resource with an explicit deny' }]);
      const failed = await fetch(`${url}/health`);
      expect([failed.status, await failed.json()]).toEqual([502, { message: 'Internal server error' }]);
    });

    it('should apply a specific gateway response (status, template with context variables, header mappings) before DEFAULT_4XX', async () => {
      const template = makeTemplate();
      template.resources.set('Unauthorized', {
        logicalId: 'Unauthorized',
        type: 'AWS::ApiGateway::GatewayResponse',
        physicalId: 'gr-u',
        attributes: {},
        properties: {
          RestApiId: REST_API_ID,
          ResponseType: 'UNAUTHORIZED',
          StatusCode: '401',
          ResponseTemplates: { 'application/json': '{"code":"AUTH","request":"$context.requestId","stage":"${context.stage}"}' },
          ResponseParameters: { 'gatewayresponse.header.WWW-Authenticate': "'Bearer'", 'gatewayresponse.header.X-Echo': 'method.request.header.X-Trace' },
        },
      });
      const { url } = await start(undefined, { template });
      const res = await fetch(`${url}/runs`, { headers: { 'X-Trace': 't-1' } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.headers.get('x-echo')).toBe('t-1');
      const body = await res.json();
      expect(body).toEqual({ code: 'AUTH', request: res.headers.get('x-amzn-requestid'), stage: 'v1' });
    });
  });

  describe('Feature: start-up', () => {
    it('should refuse an integration type it cannot emulate, naming the method', async () => {
      const template = makeTemplate();
      template.resources.get('ControlApihealthGET')!.properties.Integration = { Type: 'HTTP_PROXY', Uri: 'https://example.com' };
      await expect(start(undefined, { template })).rejects.toThrow(UnsupportedResourceError);
      await expect(start(undefined, { template })).rejects.toThrow(/ControlApihealthGET.*HTTP_PROXY/);
    });

    it('should report a port in use clearly', async () => {
      const blocker = createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
      const port = (blocker.address() as { port: number }).port;
      try {
        await expect(
          startRestApi({ template: makeTemplate(), restApiLogicalId: REST_LOGICAL_ID, port, lambda: new FakeLambda(), logger: silentLogger() }),
        ).rejects.toThrow(new RegExp(`port ${port} .*already in use`));
      } finally {
        blocker.close();
      }
    });

    it('should match {proxy+} greedily and prefer static path parts', async () => {
      const template = makeTemplate();
      const add = (logicalId: string, physicalId: string, props: Record<string, unknown>, type = 'AWS::ApiGateway::Resource') =>
        template.resources.set(logicalId, { logicalId, physicalId, type, attributes: {}, properties: { RestApiId: REST_API_ID, ...props } });
      add('Files', 'files1', { ParentId: ROOT_ID, PathPart: 'files' });
      add('FilesProxy', 'fprox1', { ParentId: 'files1', PathPart: '{proxy+}' });
      add('FilesLatest', 'flat01', { ParentId: 'files1', PathPart: 'latest' });
      const method = (resourceId: string) => ({
        AuthorizationType: 'NONE',
        HttpMethod: 'ANY',
        ResourceId: resourceId,
        Integration: { Type: 'AWS_PROXY', Uri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:${FN.api}/invocations` },
      });
      add('FilesProxyANY', 'm-fp', method('fprox1'), 'AWS::ApiGateway::Method');
      add('FilesLatestANY', 'm-fl', method('flat01'), 'AWS::ApiGateway::Method');
      const { lambda, url } = await start(undefined, { template });
      await fetch(`${url}/files/a/b/c.txt`, { method: 'PUT', body: 'x' });
      await fetch(`${url}/files/latest`);
      const [proxied, latest] = lambda.callsTo(FN.api);
      expect(proxied).toMatchObject({ resource: '/files/{proxy+}', path: '/files/a/b/c.txt', httpMethod: 'PUT', pathParameters: { proxy: 'a/b/c.txt' } });
      expect(latest).toMatchObject({ resource: '/files/latest', pathParameters: null });
    });
  });
});
