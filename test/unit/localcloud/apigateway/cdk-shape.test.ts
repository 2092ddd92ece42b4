/**
 * Keeps the hand-made fixture honest: synthesizes, with aws-cdk-lib, a stack built the way lib/control-api.ts
 * and lib/progress-socket.ts build theirs, resolves its intrinsics with a small resolver of its own, and checks
 * that the fixture has the same shape and that the emulators serve the synthesized template itself.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AuthorizationType, Cors, LambdaIntegration, ResponseType, RestApi, TokenAuthorizer } from 'aws-cdk-lib/aws-apigateway';
import { WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startRestApi, startWebSocketApi } from '../../../../localstack/cloud/apigateway';
import { functionArn, type ResolvedResource, type ResolvedTemplate } from '../../../../localstack/cloud/types';
import { ERROR_TEMPLATE, FN, FakeLambda, fail, frameText, makeTemplate, ok, policy, silentLogger } from './fixture';

/** The synthesized template, as the resolver reads it. */
interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

function synthesize(): CfnTemplate {
  const app = new App();
  const stack = new Stack(app, 'Agentplane', { env: { account: '000000000000', region: 'us-east-1' } });
  const fn = (id: string, functionName: string) =>
    new LambdaFunction(stack, id, { functionName, runtime: Runtime.NODEJS_22_X, handler: 'index.handler', code: Code.fromInline('exports.handler=async()=>({})') });
  const apiFn = fn('ApiFn', FN.api);
  const authFn = fn('AuthFn', FN.auth);
  const connFn = fn('ConnFn', FN.connection);
  const msgFn = fn('MsgFn', FN.messages);

  const rest = new RestApi(stack, 'ControlApi', {
    deployOptions: { stageName: 'v1' },
    defaultCorsPreflightOptions: { allowOrigins: Cors.ALL_ORIGINS, allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'] },
  });
  const authorizer = new TokenAuthorizer(stack, 'TokenAuthorizer', {
    handler: authFn,
    identitySource: 'method.request.header.Authorization',
    resultsCacheTtl: Duration.seconds(60),
  });
  for (const type of [ResponseType.DEFAULT_4XX, ResponseType.DEFAULT_5XX]) {
    rest.addGatewayResponse(`Gateway${type.responseType}`, {
      type,
      templates: { 'application/json': ERROR_TEMPLATE },
      responseHeaders: { 'Access-Control-Allow-Origin': "'*'" },
    });
  }
  const integ = new LambdaIntegration(apiFn);
  rest.root.addResource('health').addMethod('GET', integ, { authorizationType: AuthorizationType.NONE });
  const runs = rest.root.addResource('runs');
  runs.addMethod('GET', integ, { authorizer, authorizationType: AuthorizationType.CUSTOM });
  runs.addMethod('POST', integ, { authorizer, authorizationType: AuthorizationType.CUSTOM });
  runs.addResource('{id}').addMethod('GET', integ, { authorizer, authorizationType: AuthorizationType.CUSTOM });

  const ws = new WebSocketApi(stack, 'ProgressSocket', {
    routeSelectionExpression: '$request.body.type',
    connectRouteOptions: {
      integration: new WebSocketLambdaIntegration('ConnectIntegration', connFn),
      authorizer: new WebSocketLambdaAuthorizer('TokenAuthorizer', authFn, { identitySource: ['route.request.querystring.token'] }),
    },
    disconnectRouteOptions: { integration: new WebSocketLambdaIntegration('DisconnectIntegration', connFn) },
    defaultRouteOptions: { integration: new WebSocketLambdaIntegration('DefaultIntegration', msgFn), returnResponse: true },
  });
  ws.addRoute('echo', { integration: new WebSocketLambdaIntegration('EchoIntegration', msgFn), returnResponse: true });
  new WebSocketStage(stack, 'ProgressSocketStage', { webSocketApi: ws, stageName: 'v1', autoDeploy: true });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

/** Just enough of the CloudFormation intrinsics CDK emits for these constructs. */
function resolve(cfn: CfnTemplate): ResolvedTemplate {
  const region = 'us-east-1';
  const accountId = '000000000000';
  let counter = 0;
  const ids = new Map<string, { physicalId: string; attributes: Record<string, string> }>();
  for (const [logicalId, r] of Object.entries(cfn.Resources)) {
    const n = (counter++).toString(36).padStart(4, '0');
    if (r.Type === 'AWS::Lambda::Function') {
      const name = (r.Properties!.FunctionName as string | undefined) ?? logicalId;
      ids.set(logicalId, { physicalId: name, attributes: { Arn: functionArn(name) } });
    } else if (r.Type === 'AWS::ApiGateway::RestApi') ids.set(logicalId, { physicalId: `rest${n}xy`, attributes: { RootResourceId: `root${n}` } });
    else if (r.Type === 'AWS::ApiGateway::Stage' || r.Type === 'AWS::ApiGatewayV2::Stage') ids.set(logicalId, { physicalId: r.Properties!.StageName as string, attributes: {} });
    else ids.set(logicalId, { physicalId: `id${n}`, attributes: { Arn: `arn:aws:local:${region}:${accountId}:${logicalId}` } });
  }
  const pseudo: Partial<Record<string, string>> = {
    'AWS::Partition': 'aws',
    'AWS::Region': region,
    'AWS::AccountId': accountId,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'Agentplane',
  };
  // The arguments of an intrinsic are as CloudFormation defines them; the casts say which one each takes.
  const r = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(r);
    if (!v || typeof v !== 'object') return v;
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 1) {
      const [[k, a]] = entries as [[string, unknown]];
      if (k === 'Ref') return pseudo[a as string] ?? ids.get(a as string)!.physicalId;
      if (k === 'Fn::GetAtt') {
        const [id, attr] = typeof a === 'string' ? a.split('.') : (a as [string, string]);
        return ids.get(id)!.attributes[attr];
      }
      if (k === 'Fn::Join') return (r((a as [string, unknown])[1]) as string[]).join((a as [string, unknown])[0]);
      if (k === 'Fn::Select') return (r((a as [number | string, unknown])[1]) as unknown[])[Number((a as [number | string, unknown])[0])];
      if (k === 'Fn::Split') return String(r((a as [string, unknown])[1])).split((a as [string, unknown])[0]);
    }
    return Object.fromEntries(entries.map(([key, val]) => [key, r(val)]));
  };
  const resources = new Map<string, ResolvedResource>();
  for (const [logicalId, res] of Object.entries(cfn.Resources)) {
    resources.set(logicalId, { logicalId, type: res.Type, properties: r(res.Properties ?? {}) as Record<string, unknown>, ...ids.get(logicalId)! });
  }
  return { stackName: 'Agentplane', region, accountId, resources, outputs: {} };
}

const byType = (resources: Iterable<ResolvedResource>, type: string) => [...resources].filter((r) => r.type === type);

/** Property names of every resource of a type, with nested Integration keys, minus settings the emulator ignores. */
function keysOf(resources: { properties: Record<string, unknown> }[]): string[] {
  const ignored = new Set(['Name', 'Description', 'MethodResponses', 'ApiKeyRequired', 'TracingEnabled', 'AutoDeploy', 'Metadata']);
  const keys = new Set<string>();
  for (const r of resources) {
    for (const [k, v] of Object.entries(r.properties)) {
      if (ignored.has(k)) continue;
      keys.add(k);
      if (k === 'Integration') for (const ik of Object.keys(v as object)) keys.add(`Integration.${ik}`);
    }
  }
  return [...keys].sort();
}

const logicalIdOf = (t: ResolvedTemplate, type: string) => byType(t.resources.values(), type)[0].logicalId;

describe('Fixture: CDK-synthesized API Gateway resources', () => {
  let synthesized: ResolvedTemplate;
  beforeAll(() => {
    synthesized = resolve(synthesize());
  });

  it('should have the fixture declare the same resource types and properties as CDK emits', () => {
    const fixture = makeTemplate();
    const types = [
      'AWS::ApiGateway::RestApi',
      'AWS::ApiGateway::Resource',
      'AWS::ApiGateway::Method',
      'AWS::ApiGateway::Authorizer',
      'AWS::ApiGateway::GatewayResponse',
      'AWS::ApiGateway::Stage',
      'AWS::ApiGateway::Deployment',
      'AWS::ApiGatewayV2::Api',
      'AWS::ApiGatewayV2::Route',
      'AWS::ApiGatewayV2::Integration',
      'AWS::ApiGatewayV2::Authorizer',
      'AWS::ApiGatewayV2::RouteResponse',
      'AWS::ApiGatewayV2::Stage',
    ];
    for (const type of types) {
      const mine = byType(fixture.resources.values(), type);
      const cdk = byType(synthesized.resources.values(), type);
      expect(mine.length, type).toBeGreaterThan(0);
      expect({ type, keys: keysOf(mine) }).toEqual({ type, keys: keysOf(cdk) });
    }
    const routeKeys = (t: ResolvedTemplate) => byType(t.resources.values(), 'AWS::ApiGatewayV2::Route').map((r) => r.properties.RouteKey as string).sort();
    expect(routeKeys(fixture)).toEqual(routeKeys(synthesized));
    const paths = (t: ResolvedTemplate) => byType(t.resources.values(), 'AWS::ApiGateway::Resource').map((r) => r.properties.PathPart as string).sort();
    expect(paths(fixture)).toEqual(paths(synthesized));
  });

  it('should have the fixture resolve references the way the resolver does (ids, URIs, targets)', () => {
    const cdkMethod = byType(synthesized.resources.values(), 'AWS::ApiGateway::Method').find((m) => m.properties.HttpMethod === 'GET' && m.properties.AuthorizationType === 'CUSTOM')!;
    const fixtureMethod = makeTemplate().resources.get('ControlApirunsGET')!;
    const uriOf = (m: ResolvedResource) => (m.properties.Integration as { Uri: string }).Uri;
    expect(uriOf(cdkMethod)).toBe(uriOf(fixtureMethod));
    const cdkAuth = byType(synthesized.resources.values(), 'AWS::ApiGateway::Authorizer')[0];
    expect(cdkAuth.properties.AuthorizerUri).toMatch(/^arn:aws:apigateway:us-east-1:lambda:path\/2015-03-31\/functions\/arn:aws:lambda:us-east-1:000000000000:function:agentplane-authorizer\/invocations$/);
    const route = byType(synthesized.resources.values(), 'AWS::ApiGatewayV2::Route').find((x) => x.properties.RouteKey === '$default')!;
    expect(route.properties.Target).toMatch(/^integrations\/id\w+$/);
    expect(route.properties.RouteResponseSelectionExpression).toBe('$default');
  });

  it('should serve the synthesized REST and WebSocket APIs', async () => {
    const lambda = new FakeLambda()
      .on(FN.api, (e) => ok({ statusCode: 200, body: JSON.stringify({ resource: e.resource, tenant: e.requestContext!.authorizer?.tenant ?? null }) }))
      .on(FN.auth, (e) =>
        (e.authorizationToken ?? e.queryStringParameters?.token ?? '').endsWith('good')
          ? ok({ principalId: 'p', policyDocument: policy('Allow', '*'), context: { tenant: 't1' } })
          : fail('Error', 'Unauthorized'),
      )
      .on(FN.connection, () => ok({ statusCode: 200 }))
      .on(FN.messages, (e) => ok({ statusCode: 200, body: `route:${e.requestContext!.routeKey!}` }));
    const logger = silentLogger();
    const rest = await startRestApi({ template: synthesized, restApiLogicalId: logicalIdOf(synthesized, 'AWS::ApiGateway::RestApi'), port: 0, lambda, logger });
    const ws = await startWebSocketApi({ template: synthesized, apiLogicalId: logicalIdOf(synthesized, 'AWS::ApiGatewayV2::Api'), port: 0, lambda, logger });
    try {
      expect(await (await fetch(`${rest.url}/health`)).json()).toEqual({ resource: '/health', tenant: null });
      const unauthorized = await fetch(`${rest.url}/runs/r1`);
      expect([unauthorized.status, await unauthorized.json()]).toEqual([401, { error: { code: 'UNAUTHORIZED', message: 'Unauthorized' } }]);
      const run = await fetch(`${rest.url}/runs/r1`, { headers: { Authorization: 'Bearer good' } });
      expect(await run.json()).toEqual({ resource: '/runs/{id}', tenant: 't1' });
      const preflight = await fetch(`${rest.url}/runs/r1`, { method: 'OPTIONS' });
      expect([preflight.status, preflight.headers.get('access-control-allow-origin')]).toEqual([204, '*']);

      const client = new WebSocket(`${ws.url}?token=good`);
      const replies: string[] = [];
      client.on('message', (d) => replies.push(frameText(d)));
      await new Promise((res, rej) => client.once('open', res).once('error', rej));
      client.send('{"type":"echo"}');
      client.send('{"type":"other"}');
      await new Promise<void>((res) => {
        const check = setInterval(() => {
          if (replies.length === 2) {
            clearInterval(check);
            res();
          }
        }, 10);
      });
      expect(replies.sort()).toEqual(['route:$default', 'route:echo']);
      client.close();
    } finally {
      await ws.close();
      await rest.close();
    }
  });
});
