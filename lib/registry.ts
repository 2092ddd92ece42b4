import { CustomResource, Duration, Stack } from 'aws-cdk-lib';
import { arn } from './deployment';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct, type IConstruct } from 'constructs';
import { AgentplaneFunction } from './agentplane-function';
import { acknowledge } from './nag-suppressions';
import type { AgentRegistrationInput } from '../lambdas/core/registry/agent';
import { AGENTS_PROPERTY } from '../lambdas/registry-seeder/seed';

/**
 * The agent registry's deploy-time side:
 * - the built-in agents register themselves through a CloudFormation custom resource (`Custom::AgentRegistration`)
 *   whose service token is the seeder Lambda: Create/Update register them (an unchanged registration is a
 *   no-op), Update drops the ones removed from the stack, Delete unregisters them;
 * - a scheduled health check pings the agents tagged `agentplane:healthcheck`;
 * - `bindAgentRuntime` gives an agent Lambda what the agent runtime needs; `grantInvokeAgents` lets a role
 *   (the workflows' state machine role) invoke only Lambdas tagged as agents.
 */

/** Agents the registry routes to are tagged so the state machine role can be limited to them. */
export const AGENT_TAG = { key: 'agentplane:agent', value: 'true' } as const;

export interface RegistryTables {
  agents: ITableV2;
  events: ITableV2;
  idempotency: ITableV2;
}

/**
 * Registry tuning read at synth time, so every function that reads or writes agent state agrees. Tests
 * start the local cloud with a short cool-down (AGENTPLANE_CIRCUIT_COOL_DOWN_MS); unset, the defaults of
 * lambdas/core/registry/circuit.ts apply.
 */
function registryEnvironment(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  if (env.AGENTPLANE_CIRCUIT_COOL_DOWN_MS) out.CIRCUIT_COOL_DOWN_MS = env.AGENTPLANE_CIRCUIT_COOL_DOWN_MS;
  if (env.AGENTPLANE_CIRCUIT_FAILURE_THRESHOLD) out.CIRCUIT_FAILURE_THRESHOLD = env.AGENTPLANE_CIRCUIT_FAILURE_THRESHOLD;
  return out;
}

function applyRegistryEnvironment(fn: AgentplaneFunction): void {
  for (const [name, value] of Object.entries(registryEnvironment())) fn.bindValue(name, value);
}

/** Tables and settings of the agent runtime (lambdas/core/agent-runtime), for any agent Lambda in this stack. */
export function bindAgentRuntime(fn: AgentplaneFunction, tables: RegistryTables): AgentplaneFunction {
  fn.bindTable(tables.agents, 'AGENTS_TABLE', 'readWrite')
    .bindTable(tables.events, 'EVENTS_TABLE', 'readWrite')
    .bindTable(tables.idempotency, 'IDEMPOTENCY_TABLE', 'readWrite');
  applyRegistryEnvironment(fn);
  return fn;
}

/** Lets the registry's readers (agents API, engine) assess health with the same circuit settings. */
export function bindRegistryReader(fn: AgentplaneFunction): AgentplaneFunction {
  applyRegistryEnvironment(fn);
  return fn;
}

/**
 * Grants `lambda:InvokeFunction` on the functions tagged `agentplane:agent=true` in this account and
 * region, and nothing else: the resource is every function (their names are not known at deploy time,
 * custom agents are registered later), the tag condition is what limits it. Tag a custom agent's
 * function before registering it, or the engine cannot invoke it.
 */
export function grantInvokeAgents(grantee: IGrantable): void {
  const functions = arn.lambdaFunctions();
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['lambda:InvokeFunction'],
      resources: [`${functions}:*`, `${functions}:*:*`],
      conditions: { StringEquals: { [`aws:ResourceTag/${AGENT_TAG.key}`]: AGENT_TAG.value } },
    }),
  );
}

/** The cdk-nag findings grantInvokeAgents raises, acknowledged with their reason on the grantee role. */
export function acknowledgeAgentInvoke(construct: IConstruct): void {
  acknowledge(construct, [
    {
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:*]',
      reason: `Agents are registered at run time by ARN; invocation is limited to functions tagged ${AGENT_TAG.key}=${AGENT_TAG.value} by an aws:ResourceTag condition.`,
    },
    {
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:*:*]',
      reason: `Qualified ARNs (versions, aliases) of the same tag-limited agent functions.`,
    },
  ]);
}

export interface AgentRegistryProps {
  tables: RegistryTables;
  /** Built-in agents to register at deploy (function ARNs may be tokens). */
  builtIns: AgentRegistrationInput[];
  /** How often tagged agents are health-checked (default 5 minutes). */
  healthCheckEvery?: Duration;
}

export class AgentRegistry extends Construct {
  readonly seeder: AgentplaneFunction;
  readonly builtInRegistration: CustomResource;
  readonly healthCheck: AgentplaneFunction;
  readonly healthCheckRule: Rule;

  constructor(scope: Construct, id: string, props: AgentRegistryProps) {
    super(scope, id);
    this.seeder = new AgentplaneFunction(this, 'Seeder', {
      handlerDir: 'registry-seeder',
      description: 'Custom resource: registers the built-in agents at deploy',
      timeout: Duration.minutes(2),
    }).bindTable(props.tables.agents, 'AGENTS_TABLE', 'readWrite');
    bindRegistryReader(this.seeder);

    this.builtInRegistration = new CustomResource(this, 'BuiltInAgents', {
      serviceToken: this.seeder.functionArn,
      resourceType: 'Custom::AgentRegistration',
      properties: { [AGENTS_PROPERTY]: Stack.of(this).toJsonString(props.builtIns) },
    });

    this.healthCheck = new AgentplaneFunction(this, 'HealthCheck', {
      handlerDir: 'agent-health-check',
      description: 'Scheduled health check of the agents tagged agentplane:healthcheck',
      timeout: Duration.minutes(5),
    }).bindTable(props.tables.agents, 'AGENTS_TABLE', 'readWrite');
    bindRegistryReader(this.healthCheck);
    grantInvokeAgents(this.healthCheck);
    acknowledgeAgentInvoke(this.healthCheck.executionRole);

    this.healthCheckRule = new Rule(this, 'HealthCheckSchedule', {
      description: 'Agentplane agent health checks',
      schedule: Schedule.rate(props.healthCheckEvery ?? Duration.minutes(5)),
      targets: [new LambdaFunction(this.healthCheck, { retryAttempts: 0 })],
    });
  }
}
