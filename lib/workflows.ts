import { Duration } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AgentplaneFunction } from './agentplane-function';
import { acknowledgeAgentInvoke, bindRegistryReader, grantInvokeAgents } from './registry';
import { acknowledge, logicalIdOf } from './nag-suppressions';
import { stateMachineArns, type DeploymentNames } from './deployment';
import { BODY_PREFIX } from '../lambdas/aws/workflow-store';

export interface WorkflowEngineProps {
  tables: { runs: ITableV2; events: ITableV2; agents: ITableV2; workflows: ITableV2; idempotency: ITableV2 };
  workspace: IBucket;
  /** The workflows API function: registers state machines with the role below. */
  workflowsApi: AgentplaneFunction;
  /** This deployment's names: its state machine prefix scopes every grant below. */
  names: DeploymentNames;
}

/** Step Functions delivers execution logs through CloudWatch Logs' vended-log API, which has no resource scope. */
const LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];

/**
 * The workflow engine's run-time side: the engine Lambdas every compiled machine calls (gate before each
 * step, reporter after it), the role the workflows' state machines run with, and the workflows API's right
 * to create those machines. State machines themselves are created at registration time (one per workflow,
 * a published version per workflow version), named `agentplane-…` so every grant here is scoped by name.
 */
export class WorkflowEngine extends Construct {
  readonly gate: AgentplaneFunction;
  readonly reporter: AgentplaneFunction;
  readonly stateMachineRole: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: WorkflowEngineProps) {
    super(scope, id);
    const { tables, workspace, workflowsApi, names } = props;
    const prefix = names.stateMachinePrefix;
    const arns = stateMachineArns(prefix);
    const { machines, executions } = arns;

    this.gate = new AgentplaneFunction(this, 'Gate', {
      handlerDir: 'engine-gate',
      description: 'Workflow engine gate before each step: admission, agent selection, items, manifest (waitForTaskToken)',
      // Listing 10,000 inputs and writing their manifest takes seconds, not minutes.
      timeout: Duration.minutes(2),
    })
      .bindTable(tables.runs, 'RUNS_TABLE', 'readWrite')
      .bindTable(tables.events, 'EVENTS_TABLE', 'readWrite')
      .bindTable(tables.agents, 'AGENTS_TABLE', 'read');
    bindRegistryReader(this.gate);
    workspace.grantReadWrite(this.gate, 'runs/*');
    this.gate.bindValue('WORKSPACE_BUCKET', workspace.bucketName);
    // Its task-token grant comes with the run control every engine function gets (lib/runs.ts).

    this.reporter = new AgentplaneFunction(this, 'Reporter', {
      handlerDir: 'engine-reporter',
      description: 'Workflow engine reporter after each step: counts, tokens, cost, step state, StepCompleted/StepSkipped',
      timeout: Duration.minutes(2),
    })
      .bindTable(tables.runs, 'RUNS_TABLE', 'readWrite')
      .bindTable(tables.events, 'EVENTS_TABLE', 'readWrite');
    workspace.grantReadWrite(this.reporter, 'runs/*');
    this.reporter.bindValue('WORKSPACE_BUCKET', workspace.bucketName);

    this.logGroup = new LogGroup(this, 'ExecutionLogs', { retention: RetentionDays.ONE_MONTH });

    this.stateMachineRole = new Role(this, 'StateMachineRole', {
      assumedBy: new ServicePrincipal('states.amazonaws.com'),
      description: 'Runs the compiled workflow state machines (agentplane-*): engine Lambdas, tagged agents, runs/ workspace',
    });
    const role = this.stateMachineRole;
    this.gate.grantInvoke(role);
    this.reporter.grantInvoke(role);
    grantInvokeAgents(role);
    // ItemReader (manifest) and ResultWriter (results) of Distributed Maps, inside the run's area only.
    workspace.grantReadWrite(role, 'runs/*');
    // A Distributed Map runs its batches as child executions of the same machine, and stops them on failure.
    role.addToPolicy(new PolicyStatement({ actions: ['states:StartExecution'], resources: [machines] }));
    role.addToPolicy(new PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [`${executions}:*`, `${executions}/*`] }));
    role.addToPolicy(new PolicyStatement({ actions: ['states:DescribeMapRun', 'states:ListMapRuns', 'states:UpdateMapRun'], resources: [arns.mapRuns] }));
    role.addToPolicy(new PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'], resources: ['*'] }));
    role.addToPolicy(new PolicyStatement({ actions: LOG_DELIVERY_ACTIONS, resources: ['*'] }));
    acknowledgeAgentInvoke(role);

    workflowsApi
      .bindTable(tables.agents, 'AGENTS_TABLE', 'read')
      .bindTable(tables.idempotency, 'IDEMPOTENCY_TABLE', 'readWrite')
      .bindValue('GATE_FUNCTION_ARN', this.gate.functionArn)
      .bindValue('REPORTER_FUNCTION_ARN', this.reporter.functionArn)
      .bindValue('STATE_MACHINE_ROLE_ARN', role.roleArn)
      .bindValue('STATE_MACHINE_ARN_PREFIX', arns.machinePrefix)
      .bindValue('STATE_MACHINE_NAME_PREFIX', prefix)
      .bindValue('DEPLOYMENT_NAME', names.name ?? '')
      .bindValue('WORKFLOW_LOG_GROUP_ARN', this.logGroup.logGroupArn)
      .bindValue('WORKSPACE_BUCKET', workspace.bucketName);
    // Bodies too large for a DynamoDB item (definition + ASL) live under workflows/ only.
    workspace.grantReadWrite(workflowsApi, `${BODY_PREFIX}*`);
    workflowsApi.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'states:CreateStateMachine',
          'states:UpdateStateMachine',
          'states:PublishStateMachineVersion',
          'states:DescribeStateMachine',
          'states:ListStateMachineVersions',
          'states:TagResource',
        ],
        resources: [machines],
      }),
    );
    workflowsApi.addToRolePolicy(
      new PolicyStatement({ actions: ['iam:PassRole'], resources: [role.roleArn], conditions: { StringEquals: { 'iam:PassedToService': 'states.amazonaws.com' } } }),
    );
    // Creating a machine with logging on needs the caller to set up the log delivery too.
    workflowsApi.addToRolePolicy(new PolicyStatement({ actions: LOG_DELIVERY_ACTIONS, resources: ['*'] }));

    const bucketId = logicalIdOf(workspace);
    const nag = (rule: string) => `AwsSolutions::AwsSolutions-${rule}`;
    const machinesFinding = arns.nag.machines;
    acknowledge(role, [
      { id: nag(`IAM5[Resource::<${logicalIdOf(this.gate)}.Arn>:*]`), reason: 'Qualified ARNs (versions) of the engine gate function itself.' },
      { id: nag(`IAM5[Resource::<${logicalIdOf(this.reporter)}.Arn>:*]`), reason: 'Qualified ARNs (versions) of the engine reporter function itself.' },
      { id: nag(`IAM5[Resource::${machinesFinding}]`), reason: 'Workflow state machines are created at registration time; all and only they are named agentplane-*. Distributed Map children are executions of the same machine.' },
      { id: nag(`IAM5[Resource::${arns.nag.executions}:*]`), reason: 'Executions (and Distributed Map child executions) of the agentplane-* workflow state machines, whose names are run ids.' },
      { id: nag(`IAM5[Resource::${arns.nag.executions}/*]`), reason: 'Distributed Map child executions (`<machine>/<label>:<id>`) of the agentplane-* workflow state machines.' },
      { id: nag(`IAM5[Resource::${arns.nag.mapRuns}]`), reason: 'Map runs of the agentplane-* workflow state machines, created at run time.' },
      { id: nag(`IAM5[Resource::<${bucketId}.Arn>/runs/*]`), reason: 'Distributed Map ItemReader/ResultWriter inside the runs/ area; run ids are unknown at deploy time.' },
      { id: nag('IAM5[Resource::*]'), reason: 'X-Ray tracing and CloudWatch Logs vended log delivery (Step Functions logging) support no resource-level permissions.' },
    ]);
    acknowledge(workflowsApi.executionRole, [
      { id: nag(`IAM5[Resource::${machinesFinding}]`), reason: 'The workflows API creates and versions the workflow state machines at registration; all and only they are named agentplane-*.' },
      { id: nag(`IAM5[Resource::<${bucketId}.Arn>/${BODY_PREFIX}*]`), reason: 'Workflow bodies too large for a DynamoDB item, keyed by tenant, workflow and content hash (unknown at deploy time).' },
      { id: nag('IAM5[Resource::*]'), reason: 'CloudWatch Logs vended log delivery, needed to create state machines with logging on, supports no resource-level permissions.' },
    ]);
  }
}
