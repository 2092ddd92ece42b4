/**
 * The permissions of requests to the endpoints the local cloud serves itself: Step Functions, Lambda's Invoke and
 * API Gateway's connection management. Pure, like ./request-actions.ts.
 */
import type { AuthorizationRequest } from './evaluate';
import type { AwsLocation } from './request-actions';

type Json = Record<string, unknown>;

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function prefix(service: string, loc: AwsLocation): string {
  return `arn:${loc.partition ?? 'aws'}:${service}:${loc.region}:${loc.accountId}`;
}

/** `arn:…:execution:<machine>[/<map run>]:<name>` (or `express:`) → the state machine's ARN. */
function stateMachineOfExecution(executionArn: string): string | undefined {
  const m = /^(arn:[^:]+:states:[^:]+:\d+):(?:execution|express|mapRun):([^:/]+)/.exec(executionArn);
  return m ? `${m[1]}:stateMachine:${m[2]}` : undefined;
}

/** Step Functions task tokens minted locally name their execution (./stepfunctions/engine.ts); AWS's do not say. */
function executionOfToken(token: unknown): string | undefined {
  if (typeof token !== 'string' || !token.startsWith('AQ')) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token.slice(2), 'base64url').toString('utf8')) as { e?: unknown };
    return text(parsed.e);
  } catch {
    return undefined;
  }
}

/**
 * The permissions a Step Functions API call needs: `states:<Operation>` on the state machine, execution or map run
 * it names, and `iam:PassRole` (to `states.amazonaws.com`) on the role a create or update hands over. Task
 * responses are authorized on the state machine of the token's execution, as CDK's `grantTaskResponse` grants.
 */
export function stepFunctionsPermissions(operation: string, input: Json, loc: AwsLocation): AuthorizationRequest[] {
  const action = `states:${operation}`;
  const base = prefix('states', loc);
  const passRole = (roleArn: unknown): AuthorizationRequest[] =>
    typeof roleArn === 'string' ? [{ action: 'iam:PassRole', resource: roleArn, context: { 'iam:PassedToService': 'states.amazonaws.com' } }] : [];
  switch (operation) {
    case 'CreateStateMachine': {
      const machine = `${base}:stateMachine:${text(input.name) ?? ''}`;
      const tags = Array.isArray(input.tags) && input.tags.length > 0 ? [{ action: 'states:TagResource', resource: machine }] : [];
      return [{ action, resource: machine }, ...tags, ...passRole(input.roleArn)];
    }
    case 'UpdateStateMachine':
      return [{ action, resource: text(input.stateMachineArn) ?? '*' }, ...passRole(input.roleArn)];
    case 'SendTaskSuccess':
    case 'SendTaskFailure':
    case 'SendTaskHeartbeat': {
      const execution = executionOfToken(input.taskToken);
      return [{ action, resource: (execution === undefined ? undefined : stateMachineOfExecution(execution)) ?? '*' }];
    }
    case 'ListStateMachines':
    case 'ListActivities':
      return [{ action, resource: '*' }];
    default: {
      const resource =
        text(input.stateMachineArn) ?? text(input.executionArn) ?? text(input.mapRunArn) ?? text(input.resourceArn) ?? text(input.stateMachineVersionArn) ?? '*';
      return [{ action, resource }];
    }
  }
}

/** A function name, partial or full ARN (qualified or not) → its unqualified ARN, which Lambda authorizes. */
function functionArnOf(ref: string, loc: AwsLocation): string {
  const full = /^(arn:[^:]+:lambda:[^:]+:\d+:function:[^:]+)/.exec(ref)?.[1];
  if (full !== undefined) return full;
  const partial = /^(\d{12}):function:([^:]+)/.exec(ref);
  if (partial) return `arn:${loc.partition ?? 'aws'}:lambda:${loc.region}:${partial[1]}:function:${partial[2]}`;
  return `${prefix('lambda', loc)}:function:${ref.split(':')[0]}`;
}

export function lambdaInvokePermission(functionRef: string, loc: AwsLocation): AuthorizationRequest {
  return { action: 'lambda:InvokeFunction', resource: functionArnOf(functionRef, loc) };
}

/** `POST|GET|DELETE /@connections/{id}` of a WebSocket API stage → `execute-api:ManageConnections` on it. */
export function manageConnectionsPermission(apiId: string, stage: string, method: string, connectionId: string, loc: AwsLocation): AuthorizationRequest {
  return { action: 'execute-api:ManageConnections', resource: `${prefix('execute-api', loc)}:${apiId}/${stage}/${method.toUpperCase()}/@connections/${connectionId}` };
}
