import { Duration } from 'aws-cdk-lib';
import { CfnStage, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { FilterCriteria, FilterRule, StartingPosition, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { AgentplaneFunction } from './agentplane-function';
import { arn } from './deployment';

export interface ProgressSocketProps {
  authorizer: IFunction;
  connection: AgentplaneFunction;
  messages: AgentplaneFunction;
  broadcaster: AgentplaneFunction;
  events: ITableV2;
  stageName?: string;
}

/**
 * The WebSocket API clients subscribe to, and the broadcaster that feeds it from the events table's stream.
 * The stream mapping never retries forever: bounded retries, bisect on error, a maximum record age and an
 * on-failure queue, with per-record failures reported so one bad record does not replay its batch.
 */
export class ProgressSocket extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;
  readonly failures: Queue;

  constructor(scope: Construct, id: string, props: ProgressSocketProps) {
    super(scope, id);
    const authorizer = new WebSocketLambdaAuthorizer('TokenAuthorizer', props.authorizer, {
      identitySource: ['route.request.querystring.token'],
    });
    this.api = new WebSocketApi(this, 'Api', {
      description: 'Agentplane progress stream',
      routeSelectionExpression: '$request.body.type',
      connectRouteOptions: { integration: new WebSocketLambdaIntegration('ConnectIntegration', props.connection), authorizer },
      disconnectRouteOptions: { integration: new WebSocketLambdaIntegration('DisconnectIntegration', props.connection) },
      defaultRouteOptions: { integration: new WebSocketLambdaIntegration('DefaultIntegration', props.messages), returnResponse: true },
    });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName ?? 'v1',
      autoDeploy: true,
      throttle: { rateLimit: 500, burstLimit: 1000 },
    });
    // The L2 stage has no access-log option yet; set it on the L1 resource.
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    (this.stage.node.defaultChild as CfnStage).accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        connectionId: '$context.connectionId',
        routeKey: '$context.routeKey',
        eventType: '$context.eventType',
        status: '$context.status',
        requestTime: '$context.requestTime',
        error: '$context.error.message',
      }),
    };

    this.failures = new Queue(this, 'BroadcastFailures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    props.broadcaster.bindValue('WEBSOCKET_CALLBACK_URL', this.stage.callbackUrl);
    // As stage.grantManagementApiAccess, but with the region and account as pseudo parameters (lib/deployment.ts).
    const connections = arn.executeApi(`${this.api.apiId}/${this.stage.stageName}/*/@connections/*`);
    for (const fn of [props.broadcaster, props.messages]) {
      fn.addToRolePolicy(new PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: [connections] }));
    }
    props.messages.bindValue('WEBSOCKET_CALLBACK_URL', this.stage.callbackUrl);
    props.broadcaster.addEventSource(
      new DynamoEventSource(props.events, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.millis(0),
        bisectBatchOnError: true,
        retryAttempts: 10,
        maxRecordAge: Duration.hours(1),
        reportBatchItemFailures: true,
        parallelizationFactor: 1,
        onFailure: new SqsDlq(this.failures),
        // Only new events: not the per-run counter item (seq 0, see lambdas/aws/event-store.ts), nor TTL removes.
        filters: [FilterCriteria.filter({ eventName: FilterRule.isEqual('INSERT') as string[], dynamodb: { Keys: { seq: { N: FilterRule.notEquals('0') as object[] } } } })],
      }),
    );
  }
}
