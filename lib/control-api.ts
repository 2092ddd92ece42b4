import { Duration } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  Cors,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
  TokenAuthorizer,
  type IResource,
} from 'aws-cdk-lib/aws-apigateway';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface ControlApiProps {
  authorizer: IFunction;
  health: IFunction;
  /** The function behind each route, keyed `METHOD /path/{param}` as in CONTRACT.md. */
  routes: Record<string, IFunction>;
  stageName?: string;
}

/** API Gateway's own errors (401, 403, 404, 413, 5xx…) in the same JSON shape as the handlers' errors. */
const ERROR_TEMPLATE = '{"error":{"code":"$context.error.responseType","message":$context.error.messageString}}';

/**
 * The public REST API. API Gateway routes each method to its domain function (one Lambda per capability);
 * every route but `GET /health` needs a bearer token checked by the Lambda authorizer.
 */
export class ControlApi extends Construct {
  readonly api: RestApi;

  constructor(scope: Construct, id: string, props: ControlApiProps) {
    super(scope, id);
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    this.api = new RestApi(this, 'Api', {
      description: 'Agentplane control API',
      cloudWatchRole: true,
      deployOptions: {
        stageName: props.stageName ?? 'v1',
        tracingEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        throttlingRateLimit: 200,
        throttlingBurstLimit: 400,
      },
      defaultCorsPreflightOptions: {
        allowOrigins: Cors.ALL_ORIGINS,
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
      },
    });
    const authorizer = new TokenAuthorizer(this, 'TokenAuthorizer', {
      handler: props.authorizer,
      identitySource: 'method.request.header.Authorization',
      resultsCacheTtl: Duration.seconds(60),
    });

    for (const type of [ResponseType.DEFAULT_4XX, ResponseType.DEFAULT_5XX]) {
      this.api.addGatewayResponse(`Gateway${type.responseType}`, {
        type,
        templates: { 'application/json': ERROR_TEMPLATE },
        responseHeaders: { 'Access-Control-Allow-Origin': "'*'" },
      });
    }

    const integrations = new Map<IFunction, LambdaIntegration>();
    const integrationFor = (fn: IFunction) => {
      let integration = integrations.get(fn);
      if (!integration) integrations.set(fn, (integration = new LambdaIntegration(fn)));
      return integration;
    };

    this.resourceAt('/health').addMethod('GET', integrationFor(props.health), { authorizationType: AuthorizationType.NONE });
    for (const [key, fn] of Object.entries(props.routes)) {
      const [method, path] = key.split(' ');
      this.resourceAt(path).addMethod(method, integrationFor(fn), { authorizer, authorizationType: AuthorizationType.CUSTOM });
    }
  }

  private resourceAt(path: string): IResource {
    let resource: IResource = this.api.root;
    for (const part of path.split('/').filter(Boolean)) resource = resource.getResource(part) ?? resource.addResource(part);
    return resource;
  }
}
