import { afterEach, describe, expect, it } from 'vitest';
import { evaluatePolicy, mapProxyResult, selectRouteKey, startRestApi, type RestApiHandle } from '../../../../localstack/cloud/apigateway';
import { FN, FakeLambda, REST_API_ID, REST_LOGICAL_ID, fail, makeTemplate, ok, policy, silentLogger } from './fixture';

const ARN = `arn:aws:execute-api:us-east-1:000000000000:${REST_API_ID}/v1`;

describe('Function: evaluatePolicy', () => {
  it('should match method ARNs with * and ? wildcards, * spanning slashes', () => {
    expect(evaluatePolicy(policy('Allow', `${ARN}/*`), `${ARN}/GET/runs/1`)).toBe('allow');
    expect(evaluatePolicy(policy('Allow', `${ARN}/GET/runs/*`), `${ARN}/GET/runs/1/items`)).toBe('allow');
    expect(evaluatePolicy(policy('Allow', `${ARN}/GET/runs/?`), `${ARN}/GET/runs/1`)).toBe('allow');
    expect(evaluatePolicy(policy('Allow', `${ARN}/GET/runs/?`), `${ARN}/GET/runs/12`)).toBe('implicit-deny');
    expect(evaluatePolicy(policy('Allow', `${ARN}/POST/*`), `${ARN}/GET/runs`)).toBe('implicit-deny');
    // Four path parts after the API id need a slash the method ARN of `GET /runs` does not have.
    expect(evaluatePolicy(policy('Allow', `${ARN}/GET/*/*`), `${ARN}/GET/runs`)).toBe('implicit-deny');
  });

  it('should let an explicit Deny win over an Allow, and accept lists and action wildcards', () => {
    const doc = {
      Version: '2012-10-17',
      Statement: [
        { Action: ['execute-api:*'], Effect: 'Allow', Resource: ['*'] },
        { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: `${ARN}/DELETE/*` },
      ],
    };
    expect(evaluatePolicy(doc, `${ARN}/GET/runs`)).toBe('allow');
    expect(evaluatePolicy(doc, `${ARN}/DELETE/agents/a`)).toBe('deny');
    expect(evaluatePolicy({ Statement: { Action: '*', Effect: 'Allow', Resource: '*' } }, `${ARN}/GET/`)).toBe('allow');
  });

  it('should reject malformed policies', () => {
    expect(() => evaluatePolicy(undefined, ARN)).toThrow();
    expect(() => evaluatePolicy({ Statement: [] }, ARN)).toThrow();
    expect(() => evaluatePolicy({ Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] }, ARN)).toThrow();
  });
});

describe('Function: selectRouteKey', () => {
  it('should evaluate the selection path on JSON bodies and fall back to $default', () => {
    expect(selectRouteKey(['type'], '{"type":"req"}')).toBe('req');
    expect(selectRouteKey(['meta', 'action'], '{"meta":{"action":"sub"}}')).toBe('sub');
    expect(selectRouteKey(['type'], '{"type":{"x":1}}')).toBe('$default');
    expect(selectRouteKey(['type'], '{"other":1}')).toBe('$default');
    expect(selectRouteKey(['type'], '[1,2]')).toBe('$default');
    expect(selectRouteKey(['type'], 'plain text')).toBe('$default');
    expect(selectRouteKey(['type'], undefined)).toBe('$default');
  });
});

describe('Function: mapProxyResult', () => {
  it('should accept a numeric string statusCode and null headers', () => {
    const r = mapProxyResult({ statusCode: '204', headers: null, body: null });
    expect(typeof r === 'object' && r.status).toBe(204);
  });

  it('should name the problem of a malformed result', () => {
    expect(mapProxyResult({ statusCode: 200, body: 1 })).toMatch(/body/);
    expect(mapProxyResult({ statusCode: 99 })).toMatch(/statusCode/);
    expect(mapProxyResult({ statusCode: 200, headers: { a: { b: 1 } } })).toMatch(/header a/);
    expect(mapProxyResult({ statusCode: 200, cookies: [] })).toMatch(/cookies/);
  });
});

describe('Function: startRestApi with a REQUEST authorizer', () => {
  let api: RestApiHandle | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('should pass the request to the authorizer, require its identity sources and cache by them', async () => {
    const template = makeTemplate();
    Object.assign(template.resources.get('ControlApiTokenAuthorizer')!.properties, {
      Type: 'REQUEST',
      IdentitySource: 'method.request.querystring.token, method.request.header.X-Tenant',
    });
    const lambda = new FakeLambda()
      .on(FN.api, () => ok({ statusCode: 200, body: '' }))
      .on(FN.auth, (e) => (e.queryStringParameters!.token === 'good' ? ok({ principalId: 'p', policyDocument: policy('Allow', '*') }) : fail('Error', 'Unauthorized')));
    api = await startRestApi({ template, restApiLogicalId: REST_LOGICAL_ID, port: 0, lambda, logger: silentLogger() });

    expect((await fetch(`${api.url}/runs/7?token=good`)).status).toBe(401);
    expect(lambda.callsTo(FN.auth)).toHaveLength(0);

    const headers = { 'X-Tenant': 'acme' };
    expect((await fetch(`${api.url}/runs/7?token=good`, { headers })).status).toBe(200);
    expect((await fetch(`${api.url}/runs/8?token=good`, { headers })).status).toBe(200);
    expect((await fetch(`${api.url}/runs/7?token=bad`, { headers })).status).toBe(401);
    const events = lambda.callsTo(FN.auth);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      type: 'REQUEST',
      methodArn: `${ARN}/GET/runs/7`,
      resource: '/runs/{id}',
      path: '/runs/7',
      httpMethod: 'GET',
      queryStringParameters: { token: 'good' },
      pathParameters: { id: '7' },
      requestContext: { resourcePath: '/runs/{id}', stage: 'v1', apiId: REST_API_ID },
    });
    expect(events[0].headers!['X-Tenant']).toBe('acme');
  });

  it('should warn at start-up about an integration naming an unknown function and answer 500 when it is called', async () => {
    const logger = silentLogger();
    const lambda = new FakeLambda().on(FN.auth, () => ok({ principalId: 'p', policyDocument: policy('Allow', '*') }));
    api = await startRestApi({ template: makeTemplate(), restApiLogicalId: REST_LOGICAL_ID, port: 0, lambda, logger });
    expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes(FN.api))).toBe(true);
    const res = await fetch(`${api.url}/health`);
    expect([res.status, await res.json()]).toEqual([500, { error: { code: 'API_CONFIGURATION_ERROR', message: 'Internal server error' } }]);
  });
});
