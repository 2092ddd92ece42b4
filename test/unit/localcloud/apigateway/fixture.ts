/**
 * A hand-made resolved template in the shape CDK synthesizes for the project's REST API (RestApi with a TOKEN
 * authorizer, DEFAULT_4XX/5XX gateway responses and CORS preflight) and WebSocket API ($connect with a REQUEST
 * authorizer, $disconnect, a two-way $default). cdk-shape.test.ts checks it against a real synthesized stack.
 * Physical ids imitate API Gateway's (10-character API ids, 6-character resource ids, 7-character v2 ids).
 */
import {
  functionArn,
  functionNameOf,
  ResourceNotFoundError,
  type CloudLogger,
  type LambdaInvoker,
  type LambdaResult,
  type ResolvedResource,
  type ResolvedTemplate,
} from '../../../../localstack/cloud/types';

const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';
export const REST_API_ID = 'k3x9q2w7ab';
export const ROOT_ID = 'r00t1d';
export const WS_API_ID = 'w5s8d1f4gh';
export const FN = { api: 'agentplane-api', auth: 'agentplane-authorizer', connection: 'agentplane-ws-connection', messages: 'agentplane-ws-messages' };

const uri = (fn: string) => `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${functionArn(fn)}/invocations`;

/** The project's gateway response template (lib/control-api.ts). */
export const ERROR_TEMPLATE = '{"error":{"code":"$context.error.responseType","message":$context.error.messageString}}';

function res(logicalId: string, type: string, physicalId: string, properties: Record<string, unknown>, attributes: Record<string, string> = {}): ResolvedResource {
  return { logicalId, type, physicalId, properties, attributes };
}

const proxyMethod = (logicalId: string, physicalId: string, httpMethod: string, resourceId: string, authorized: boolean, fn = FN.api) =>
  res(logicalId, 'AWS::ApiGateway::Method', physicalId, {
    ...(authorized ? { AuthorizationType: 'CUSTOM', AuthorizerId: 'auth01' } : { AuthorizationType: 'NONE' }),
    HttpMethod: httpMethod,
    Integration: { IntegrationHttpMethod: 'POST', Type: 'AWS_PROXY', Uri: uri(fn) },
    ResourceId: resourceId,
    RestApiId: REST_API_ID,
  });

export interface FixtureOptions {
  /** WebSocket $default route (two-way); without it unmatched messages get API Gateway's Forbidden message. */
  defaultRoute?: boolean;
  authorizerTtl?: number;
}

export function makeTemplate(opts: FixtureOptions = {}): ResolvedTemplate {
  const list: ResolvedResource[] = [
    res('ControlApi1B2C3D4E', 'AWS::ApiGateway::RestApi', REST_API_ID, { Description: 'Agentplane control API', Name: 'Api' }, { RootResourceId: ROOT_ID }),
    res('ControlApiDeploymentA1', 'AWS::ApiGateway::Deployment', 'dep123', { Description: 'Automatically created by the RestApi construct', RestApiId: REST_API_ID }),
    res('ControlApiDeploymentStagev1', 'AWS::ApiGateway::Stage', 'v1', { DeploymentId: 'dep123', RestApiId: REST_API_ID, StageName: 'v1', TracingEnabled: true }),
    res('ControlApiTokenAuthorizer', 'AWS::ApiGateway::Authorizer', 'auth01', {
      AuthorizerResultTtlInSeconds: opts.authorizerTtl ?? 60,
      AuthorizerUri: uri(FN.auth),
      IdentitySource: 'method.request.header.Authorization',
      Name: 'StackControlApiTokenAuthorizer',
      RestApiId: REST_API_ID,
      Type: 'TOKEN',
    }),
    res('ControlApiruns', 'AWS::ApiGateway::Resource', 'runs01', { ParentId: ROOT_ID, PathPart: 'runs', RestApiId: REST_API_ID }),
    res('ControlApirunsid', 'AWS::ApiGateway::Resource', 'runid1', { ParentId: 'runs01', PathPart: '{id}', RestApiId: REST_API_ID }),
    res('ControlApihealth', 'AWS::ApiGateway::Resource', 'hlth01', { ParentId: ROOT_ID, PathPart: 'health', RestApiId: REST_API_ID }),
    proxyMethod('ControlApihealthGET', 'm-hg', 'GET', 'hlth01', false),
    proxyMethod('ControlApirunsGET', 'm-rg', 'GET', 'runs01', true),
    proxyMethod('ControlApirunsPOST', 'm-rp', 'POST', 'runs01', true),
    proxyMethod('ControlApirunsidGET', 'm-rig', 'GET', 'runid1', true),
    res('ControlApirunsOPTIONS', 'AWS::ApiGateway::Method', 'm-ro', {
      ApiKeyRequired: false,
      AuthorizationType: 'NONE',
      HttpMethod: 'OPTIONS',
      Integration: {
        IntegrationResponses: [
          {
            ResponseParameters: {
              'method.response.header.Access-Control-Allow-Headers': "'Authorization,Content-Type,Idempotency-Key'",
              'method.response.header.Access-Control-Allow-Origin': "'*'",
              'method.response.header.Access-Control-Allow-Methods': "'OPTIONS,GET,PUT,POST,DELETE,PATCH,HEAD'",
            },
            StatusCode: '204',
          },
        ],
        RequestTemplates: { 'application/json': '{ statusCode: 200 }' },
        Type: 'MOCK',
      },
      MethodResponses: [{ StatusCode: '204' }],
      ResourceId: 'runs01',
      RestApiId: REST_API_ID,
    }),
    ...['DEFAULT_4XX', 'DEFAULT_5XX'].map((type) =>
      res(`ControlApiGateway${type}`, 'AWS::ApiGateway::GatewayResponse', `gr-${type}`, {
        ResponseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'*'" },
        ResponseTemplates: { 'application/json': ERROR_TEMPLATE },
        ResponseType: type,
        RestApiId: REST_API_ID,
      }),
    ),

    res('ProgressSocketApi', 'AWS::ApiGatewayV2::Api', WS_API_ID, { Name: 'Api', ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.type' }),
    res('ProgressSocketAuthorizer', 'AWS::ApiGatewayV2::Authorizer', 'wsauth1', {
      ApiId: WS_API_ID,
      AuthorizerType: 'REQUEST',
      AuthorizerUri: uri(FN.auth),
      IdentitySource: ['route.request.querystring.token'],
      Name: 'TokenAuthorizer',
    }),
    ...(
      [
        ['Connect', '$connect', FN.connection],
        ['Disconnect', '$disconnect', FN.connection],
        ['Default', '$default', FN.messages],
        ['Echo', 'echo', FN.messages],
      ] as const
    ).flatMap(([name, routeKey, fn]) => {
      if (routeKey === '$default' && opts.defaultRoute === false) return [];
      const twoWay = routeKey === '$default' || routeKey === 'echo';
      const out = [
        res(`ProgressSocket${name}Integration`, 'AWS::ApiGatewayV2::Integration', `int${name.slice(0, 4).toLowerCase()}`, {
          ApiId: WS_API_ID,
          IntegrationType: 'AWS_PROXY',
          IntegrationUri: uri(fn),
        }),
        res(`ProgressSocket${name}Route`, 'AWS::ApiGatewayV2::Route', `rt${name.slice(0, 5).toLowerCase()}`, {
          ApiId: WS_API_ID,
          ...(routeKey === '$connect' ? { AuthorizationType: 'CUSTOM', AuthorizerId: 'wsauth1' } : { AuthorizationType: 'NONE' }),
          RouteKey: routeKey,
          ...(twoWay ? { RouteResponseSelectionExpression: '$default' } : {}),
          Target: `integrations/int${name.slice(0, 4).toLowerCase()}`,
        }),
      ];
      if (twoWay) {
        out.push(
          res(`ProgressSocket${name}RouteResponse`, 'AWS::ApiGatewayV2::RouteResponse', `rr${name.slice(0, 5).toLowerCase()}`, {
            ApiId: WS_API_ID,
            RouteId: `rt${name.slice(0, 5).toLowerCase()}`,
            RouteResponseKey: '$default',
          }),
        );
      }
      return out;
    }),
    res('ProgressSocketStage', 'AWS::ApiGatewayV2::Stage', 'v1', { ApiId: WS_API_ID, AutoDeploy: true, StageName: 'v1' }),
  ];
  return {
    stackName: 'Agentplane',
    region: REGION,
    accountId: ACCOUNT,
    resources: new Map(list.map((r) => [r.logicalId, r])),
    outputs: {},
  };
}

export const REST_LOGICAL_ID = 'ControlApi1B2C3D4E';
export const WS_LOGICAL_ID = 'ProgressSocketApi';

/**
 * The events the emulated gateways send to functions, as the tests read them: one shape for the REST proxy, the
 * TOKEN and REQUEST authorizers and the WebSocket routes. A field that some of these events lack is optional.
 */
export interface GatewayEvent {
  type?: string;
  methodArn?: string;
  authorizationToken?: string;
  resource?: string;
  body?: string | null;
  isBase64Encoded?: boolean;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  queryStringParameters?: Record<string, string> | null;
  multiValueQueryStringParameters?: Record<string, string[]> | null;
  pathParameters?: Record<string, string> | null;
  requestContext?: GatewayRequestContext;
}

/** The request context; the fields the tests use as values are typed, the rest they only compare. */
interface GatewayRequestContext {
  /** WebSocket events only. */
  connectionId?: string;
  routeKey?: string;
  eventType?: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
  /** The authorizer's context (REST proxy events of an authorized method). */
  authorizer?: Record<string, unknown>;
  [field: string]: unknown;
}

export type Handler = (event: GatewayEvent) => LambdaResult | Promise<LambdaResult>;

export const ok = (payload: unknown): LambdaResult => ({ ok: true, payload });
export const fail = (errorType: string, errorMessage: string): LambdaResult => ({ ok: false, errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at handler (index.js:1:1)'] });

/** A LambdaInvoker whose functions are test closures; it records every invocation. */
export class FakeLambda implements LambdaInvoker {
  readonly calls: { name: string; event: GatewayEvent }[] = [];
  private readonly handlers = new Map<string, Handler>();

  on(name: string, handler: Handler): this {
    this.handlers.set(name, handler);
    return this;
  }

  has(ref: string): boolean {
    return this.handlers.has(functionNameOf(ref));
  }

  async invoke(ref: string, event: unknown): Promise<LambdaResult> {
    const name = functionNameOf(ref);
    const handler = this.handlers.get(name);
    if (!handler) throw new ResourceNotFoundError(`Function not found: ${ref}`);
    // A structured clone, as a real invoke serialises the event.
    const copy = JSON.parse(JSON.stringify(event)) as GatewayEvent;
    this.calls.push({ name, event: copy });
    return handler(copy);
  }

  callsTo(name: string): GatewayEvent[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.event);
  }
}

export const silentLogger = (): CloudLogger & { lines: { level: string; message: string; extra?: Record<string, unknown> }[] } => {
  const lines: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => void lines.push({ level, message, extra });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
};

/** The authorizer the tests use: a token names its verdict. */
export function policy(effect: 'Allow' | 'Deny', resource: string | string[]) {
  return { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }] };
}

/** A received WebSocket frame as text (ws hands a text frame over as one Buffer). */
export function frameText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString();
  return Buffer.isBuffer(data) ? data.toString() : Buffer.from(data).toString();
}

/** Waits for a condition with a deadline instead of sleeping a fixed time. */
export async function until<T>(probe: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 10));
  }
}
