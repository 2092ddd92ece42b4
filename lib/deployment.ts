import { Aws } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DEFAULT_STATE_MACHINE_PREFIX } from '../lambdas/aws/workflow-store';

/**
 * What one deployment of the stack is called, read from CDK context (`-c agentplane:name=staging`), so several
 * deployments can share an account and region. Without a name, today's names stay (`Agentplane`, `agentplane-…`).
 */
export interface DeploymentNames {
  /** The deployment's name, or undefined for the default deployment. */
  name?: string;
  stackName: string;
  /**
   * What every workflow state machine of this deployment is named with. Named deployments use `agentplane_<name>-`:
   * the default `agentplane-*` grants and the other names' `agentplane_<other>-*` never match it (names have no
   * `-` or `_`), so one deployment's roles and rules never reach another's machines.
   */
  stateMachinePrefix: string;
}

export const NAME_CONTEXT = 'agentplane:name';
const NAME_PATTERN = /^[a-z][a-z0-9]{0,19}$/;

export class DeploymentConfigError extends Error {
  override readonly name = 'DeploymentConfigError';
}

export function deploymentNames(name: string | undefined): DeploymentNames {
  if (name === undefined || name === '') return { stackName: 'Agentplane', stateMachinePrefix: DEFAULT_STATE_MACHINE_PREFIX };
  if (!NAME_PATTERN.test(name)) {
    throw new DeploymentConfigError(`-c ${NAME_CONTEXT}=${name}: a deployment name is 1 to 20 lower-case letters and digits, starting with a letter`);
  }
  return { name, stackName: `Agentplane-${name}`, stateMachinePrefix: `agentplane_${name}-` };
}

export function deploymentNamesOf(scope: Construct): DeploymentNames {
  return deploymentNames(contextText(NAME_CONTEXT, scope.node.tryGetContext(NAME_CONTEXT)));
}

/** A context value as text: `-c` gives strings, cdk.json may give numbers or booleans; anything else is a mistake. */
export function contextText(key: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new DeploymentConfigError(`-c ${key}: expected a string, got ${JSON.stringify(value)}`);
}

/**
 * ARNs of this account and region built from the pseudo parameters, never from `stack.region`/`stack.account`:
 * the CDK CLI always sets a region (and, with credentials, an account), which would turn them into literals, and
 * then neither the template nor the cdk-nag findings would be the same for every account and region.
 */
export const arn = {
  states: (resource: string) => `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`,
  lambdaFunctions: () => `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:${Aws.ACCOUNT_ID}:function`,
  executeApi: (resource: string) => `arn:${Aws.PARTITION}:execute-api:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`,
};

/** The same ARNs as cdk-nag prints them in findings (`<AWS::Region>`…), for acknowledgements. */
const nagArn = {
  states: (resource: string) => `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:${resource}`,
  lambdaFunctions: () => 'arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function',
  executeApi: (resource: string) => `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:${resource}`,
};

/** ARNs and nag findings of this deployment's workflow state machines, their executions and map runs. */
export function stateMachineArns(prefix: string) {
  return {
    /** `arn:…:stateMachine:` — what a machine's name is appended to. */
    machinePrefix: arn.states('stateMachine:'),
    machines: arn.states(`stateMachine:${prefix}*`),
    executions: arn.states(`execution:${prefix}*`),
    mapRuns: arn.states(`mapRun:${prefix}*`),
    nag: {
      machines: nagArn.states(`stateMachine:${prefix}*`),
      executions: nagArn.states(`execution:${prefix}*`),
      mapRuns: nagArn.states(`mapRun:${prefix}*`),
    },
  };
}
