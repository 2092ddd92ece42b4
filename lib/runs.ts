import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AgentplaneFunction } from './agentplane-function';
import { acknowledge, logicalIdOf } from './nag-suppressions';
import { stateMachineArns } from './deployment';
import { grantTaskResponse } from './task-tokens';
import { bindRegistryReader } from './registry';
import { RUN_OBJECTS } from './workspace-bucket';

export interface RunsProps {
  tables: { runs: ITableV2; events: ITableV2; workflows: ITableV2; idempotency: ITableV2; agents: ITableV2 };
  workspace: IBucket;
  runsApi: AgentplaneFunction;
  finalizer: AgentplaneFunction;
  /** The engine's gate: its admission holds steps of paused runs; resume invokes it again. */
  gate: AgentplaneFunction;
  /** Registers workflows: it compiles machines with the item gate. */
  workflowsApi: AgentplaneFunction;
  /** The role the workflow state machines run with: it invokes the item gate. */
  stateMachineRole: IRole;
  /** Other functions that run commands (the WebSocket's `runs.command`): granted what the runs API is. */
  commandHandlers?: AgentplaneFunction[];
  /** This deployment's workflow state machine name prefix (lib/deployment.ts). */
  stateMachinePrefix: string;
  /** How often the reconciliation sweep runs. */
  sweepEvery?: Duration;
}

/**
 * The runs issue's run time: item admission (the item gate every compiled machine calls around each agent
 * invocation), the reconciliation sweep (a schedule), and retention (the runs table's TTL deletes on its
 * stream → the workspace janitor). Every function that answers or stops executions gets the same narrow
 * Step Functions grant, scoped to the agentplane-* machines.
 */
export class Runs extends Construct {
  readonly itemGate: AgentplaneFunction;
  readonly sweeper: AgentplaneFunction;
  readonly janitor: AgentplaneFunction;
  readonly janitorFailures: Queue;
  readonly sweepRule: Rule;

  constructor(scope: Construct, id: string, props: RunsProps) {
    super(scope, id);
    const { tables, workspace } = props;
    const arns = stateMachineArns(props.stateMachinePrefix);
    const { machines, executions } = arns;
    const control = (fn: AgentplaneFunction) => {
      fn.bindTable(tables.runs, 'RUNS_TABLE', 'readWrite').bindTable(tables.events, 'EVENTS_TABLE', 'read').bindBucket(workspace, 'WORKSPACE_BUCKET', 'delete', RUN_OBJECTS);
      // Emitting events: the counter's atomic ADD and conditional Puts; events are never deleted.
      tables.events.grant(fn, 'dynamodb:PutItem', 'dynamodb:UpdateItem');
      grantTaskResponse(fn);
      fn.addToRolePolicy(new PolicyStatement({ actions: ['states:StopExecution', 'states:DescribeExecution'], resources: [`${executions}:*`] }));
      return fn;
    };

    this.itemGate = control(
      new AgentplaneFunction(this, 'ItemGate', {
        handlerDir: 'engine-item-gate',
        description: 'Item admission around each agent invocation: run semaphore, pause, setConcurrency, cancel (waitForTaskToken)',
      }),
    );
    // Items that fall back are routed from a fresh look at the registry (health and circuits as they are now).
    bindRegistryReader(this.itemGate.bindTable(tables.agents, 'AGENTS_TABLE', 'read'));
    this.itemGate.grantInvoke(props.stateMachineRole);
    props.workflowsApi.bindValue('ITEM_GATE_FUNCTION_ARN', this.itemGate.functionArn);

    control(props.finalizer);
    control(props.gate);

    const commanders = [props.runsApi, ...(props.commandHandlers ?? [])];
    for (const fn of commanders) {
      control(fn).bindValue('GATE_FUNCTION_ARN', props.gate.functionArn);
      props.gate.grantInvoke(fn);
      // Runs start on a workflow's published version (`agentplane-x:3`).
      fn.addToRolePolicy(new PolicyStatement({ actions: ['states:StartExecution'], resources: [machines] }));
    }
    props.runsApi.bindTable(tables.workflows, 'WORKFLOWS_TABLE', 'read').bindTable(tables.idempotency, 'IDEMPOTENCY_TABLE', 'readWrite');

    this.sweeper = control(
      new AgentplaneFunction(this, 'Sweeper', {
        handlerDir: 'run-sweeper',
        description: 'Reconciliation sweep: finalizes runs whose execution status event was lost, completes closed runs whose items expired',
        timeout: Duration.minutes(5),
      }),
    );
    this.sweepRule = new Rule(this, 'SweepSchedule', {
      description: 'Agentplane run reconciliation sweep',
      schedule: Schedule.rate(props.sweepEvery ?? Duration.minutes(5)),
      targets: [new LambdaFunction(this.sweeper, { retryAttempts: 2 })],
    });

    this.janitor = new AgentplaneFunction(this, 'WorkspaceJanitor', {
      handlerDir: 'workspace-janitor',
      description: 'Retention: deletes the workspace prefix of a run whose record expired (runs table TTL delete)',
      timeout: Duration.minutes(5),
    }).bindBucket(workspace, 'WORKSPACE_BUCKET', 'delete', RUN_OBJECTS);
    this.janitorFailures = new Queue(this, 'JanitorFailures', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    this.janitor.addEventSource(
      new DynamoEventSource(tables.runs, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 10,
        bisectBatchOnError: true,
        retryAttempts: 10,
        maxRecordAge: Duration.hours(6),
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.janitorFailures),
        // Only the run record's expiry: a REMOVE of a META item by the DynamoDB service itself.
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('REMOVE') as string[],
            userIdentity: { type: FilterRule.isEqual('Service') as string[], principalId: FilterRule.isEqual('dynamodb.amazonaws.com') as string[] },
            dynamodb: { Keys: { sk: { S: FilterRule.isEqual('META') as string[] } } },
          }),
        ],
      }),
    );

    const nag = (rule: string) => `AwsSolutions::AwsSolutions-${rule}`;
    for (const fn of [this.itemGate, this.sweeper, props.finalizer, props.gate, ...commanders]) {
      acknowledge(fn.executionRole, [
        { id: nag(`IAM5[Resource::${arns.nag.executions}:*]`), reason: 'Executions of this deployment\'s workflow state machines are named after run ids, unknown at deploy time.' },
      ]);
    }
    for (const fn of commanders) {
      acknowledge(fn.executionRole, [
        { id: nag(`IAM5[Resource::${arns.nag.machines}]`), reason: 'Runs start executions of this deployment\'s workflow state machines (and their published versions), created at registration time.' },
      ]);
    }
    acknowledge(props.stateMachineRole, [{ id: nag(`IAM5[Resource::<${logicalIdOf(this.itemGate)}.Arn>:*]`), reason: 'Qualified ARNs (versions) of the item gate function itself.' }]);
    for (const fn of commanders) {
      acknowledge(fn.executionRole, [{ id: nag(`IAM5[Resource::<${logicalIdOf(props.gate)}.Arn>:*]`), reason: 'Qualified ARNs (versions) of the engine gate, which resume invokes again for a held step.' }]);
    }
    acknowledge(this.janitorFailures, [{ id: nag('SQS3'), reason: 'This queue is itself the on-failure destination (DLQ) of the workspace janitor stream mapping.' }]);
  }
}
