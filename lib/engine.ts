import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';

import { STATE_MACHINE_PREFIX } from '../lambdas/shared/aws/workflow-store';

export { STATE_MACHINE_PREFIX };

export interface EngineProps {
  finalizer: IFunction;
}

/**
 * How the engine learns that an execution ended, whatever way: Step Functions' execution status change
 * events (Standard workflows) go to the finalizer.
 */
export class Engine extends Construct {
  readonly statusRule: Rule;
  readonly stateMachineArnPrefix: string;

  constructor(scope: Construct, id: string, props: EngineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.stateMachineArnPrefix = `arn:${stack.partition}:states:${stack.region}:${stack.account}:stateMachine:${STATE_MACHINE_PREFIX}`;
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
      targets: [new LambdaFunction(props.finalizer, { retryAttempts: 8 })],
    });
  }
}
