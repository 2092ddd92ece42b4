import { Duration } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AgentplaneFunction } from './agentplane-function';
import { acknowledge } from './nag-suppressions';
import { stateMachineArns } from './deployment';

export interface EngineProps {
  finalizer: AgentplaneFunction;
  /** This deployment's workflow state machine name prefix (lib/deployment.ts). */
  stateMachinePrefix: string;
}

/**
 * How the engine learns that an execution ended, whatever way: Step Functions' execution status change
 * events (Standard workflows) go to the finalizer.
 */
export class Engine extends Construct {
  readonly statusRule: Rule;
  readonly stateMachineArnPrefix: string;
  /** Status changes the finalizer failed on after its asynchronous retries: kept 14 days for the sweep and for people. */
  readonly finalizerFailures: Queue;

  constructor(scope: Construct, id: string, props: EngineProps) {
    super(scope, id);
    this.stateMachineArnPrefix = `${stateMachineArns(props.stateMachinePrefix).machinePrefix}${props.stateMachinePrefix}`;
    this.statusRule = new Rule(this, 'ExecutionStatusChange', {
      description: 'Agentplane workflow executions that ended',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [{ prefix: this.stateMachineArnPrefix }],
        },
      },
      // The rule's retry policy covers delivery to Lambda only (throttling, service errors), not the function's
      // own errors: those are retried by the asynchronous invocation configuration below.
      targets: [new LambdaFunction(props.finalizer, { retryAttempts: 8 })],
    });
    this.finalizerFailures = new Queue(this, 'FinalizerFailures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    props.finalizer.configureAsyncInvoke({
      retryAttempts: 2,
      // Status events are worth finalizing for as long as the sweep would not have done it anyway.
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.finalizerFailures),
    });
    acknowledge(this.finalizerFailures, [
      { id: 'AwsSolutions::AwsSolutions-SQS3', reason: 'This queue is itself the on-failure destination of the finalizer\'s asynchronous invocations.' },
    ]);
  }
}
