/** ARNs of Step Functions resources, built and parsed in one place. */

export interface ArnScope {
  region: string;
  accountId: string;
}

export function stateMachineArn(scope: ArnScope, name: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:stateMachine:${name}`;
}

export function executionArn(scope: ArnScope, stateMachineName: string, executionName: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:execution:${stateMachineName}:${executionName}`;
}

export function mapRunArn(scope: ArnScope, stateMachineName: string, label: string, id: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:mapRun:${stateMachineName}/${label}:${id}`;
}

export function mapRunChildExecutionArn(scope: ArnScope, stateMachineName: string, label: string, id: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:execution:${stateMachineName}/${label}:${id}`;
}

export interface ParsedStateMachineArn {
  name: string;
  /** The version of a version ARN (`…:stateMachine:name:3`). */
  version?: number;
}

export function parseStateMachineArn(arn: unknown): ParsedStateMachineArn | undefined {
  if (typeof arn !== 'string') return undefined;
  const m = /^arn:aws[\w-]*:states:[^:]*:[^:]*:stateMachine:([^:]+)(?::([^:]+))?$/.exec(arn);
  if (!m) return undefined;
  // The qualifier group is optional: `at` types it as possibly absent, as it is for an unqualified ARN.
  const qualifier = m.at(2);
  if (qualifier === undefined) return { name: m[1] };
  // An alias ARN has a non-numeric qualifier; aliases are not emulated, so report it as unparsable.
  if (!/^\d+$/.test(qualifier)) return undefined;
  return { name: m[1], version: Number(qualifier) };
}

/** `arn:aws:states:::lambda:invoke.waitForTaskToken` → `{resourceType: 'lambda', resource: 'invoke.waitForTaskToken'}`. */
export function splitTaskResource(resource: string): { resourceType: string; resource: string } {
  const sdk = /^arn:aws[\w-]*:states:::aws-sdk:([^:]+):(.+)$/.exec(resource);
  if (sdk) return { resourceType: `aws-sdk:${sdk[1]}`, resource: sdk[2] };
  const integration = /^arn:aws[\w-]*:states:::([^:]+):(.+)$/.exec(resource);
  if (integration) return { resourceType: integration[1], resource: integration[2] };
  const lambda = /^arn:aws[\w-]*:lambda:/.exec(resource);
  if (lambda) return { resourceType: 'lambda', resource };
  return { resourceType: 'unknown', resource };
}
