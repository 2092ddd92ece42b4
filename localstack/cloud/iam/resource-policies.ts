/**
 * A function's resource-based policy, as the template's `AWS::Lambda::Permission` resources build it: who may
 * invoke the function (a service principal such as `apigateway.amazonaws.com`, an account, an ARN), with which
 * action, from which source (`SourceArn`, wildcards allowed) and source account. API Gateway, EventBridge and S3
 * invoke a function only when one of these allows it.
 */
import type { ResolvedTemplate } from '../types';
import { actionMatches, arnMatches } from './match';

export interface LambdaPermission {
  logicalId: string;
  /** The function's name, whichever form (name, ARN, partial ARN) the permission used. */
  functionName: string;
  /** Version or alias the permission is on; undefined for the unqualified function. */
  qualifier?: string;
  action: string;
  principal: string;
  sourceArn?: string;
  sourceAccount?: string;
}

/** Who invokes and on behalf of what, as Lambda sees it. */
export interface InvokeCaller {
  /** Service principal (`events.amazonaws.com`), account id, or principal ARN (`arn:aws:iam::123456789012:role/x`). */
  principal: string;
  /** The invoking resource: the rule, the execute-api method ARN, the bucket. */
  sourceArn?: string;
  sourceAccount?: string;
}

export type InvokeDecision = { allowed: true; permission: string } | { allowed: false };

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * `name`, `name:qualifier`, `123456789012:function:name[:qualifier]` or the full ARN → name and qualifier;
 * `$LATEST` is the unqualified function.
 */
function splitFunctionRef(ref: string): { name: string; qualifier?: string } {
  const full = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::([^:]+))?$/.exec(ref);
  const partial = /^\d{12}:function:([^:]+)(?::([^:]+))?$/.exec(ref);
  const short = /^([^:]+)(?::([^:]+))?$/.exec(ref);
  const m = full ?? partial ?? short;
  const name = m ? m[1] : ref;
  const qualifier = m?.[2];
  return qualifier === undefined || qualifier === '$LATEST' ? { name } : { name, qualifier };
}

/** Every `AWS::Lambda::Permission` of the template. */
export function lambdaPermissionsOf(template: ResolvedTemplate): LambdaPermission[] {
  const out: LambdaPermission[] = [];
  for (const r of template.resources.values()) {
    if (r.type !== 'AWS::Lambda::Permission') continue;
    const { FunctionName, Action, Principal, SourceArn, SourceAccount } = r.properties;
    if (typeof FunctionName !== 'string' || typeof Action !== 'string' || typeof Principal !== 'string') {
      throw new Error(`${r.logicalId}: a Lambda permission needs FunctionName, Action and Principal as strings`);
    }
    const { name, qualifier } = splitFunctionRef(FunctionName);
    const sourceArn = optionalString(SourceArn);
    const sourceAccount = optionalString(SourceAccount);
    out.push({
      logicalId: r.logicalId,
      functionName: name,
      ...(qualifier !== undefined && { qualifier }),
      action: Action,
      principal: Principal,
      ...(sourceArn !== undefined && { sourceArn }),
      ...(sourceAccount !== undefined && { sourceAccount }),
    });
  }
  return out;
}

function principalMatches(permission: string, caller: string): boolean {
  if (permission === '*' || permission === caller) return true;
  // An account (or its root ARN) grants every principal of that account.
  const permissionAccount = /^(\d{12})$/.exec(permission)?.[1] ?? /^arn:aws[\w-]*:iam::(\d{12}):root$/.exec(permission)?.[1];
  if (permissionAccount === undefined) return false;
  const callerAccount = /^\d{12}$/.test(caller) ? caller : /^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):/.exec(caller)?.[1];
  return callerAccount === permissionAccount;
}

/**
 * Whether the function's permissions let the caller perform `action` on
 * `functionRef` (name or ARN, qualified or not). A permission with a SourceArn or SourceAccount applies only to a
 * caller that presents a matching one, as the `ArnLike` / `StringEquals` conditions Lambda writes for them do.
 */
export function authorizeInvoke(
  permissions: readonly LambdaPermission[],
  functionRef: string,
  caller: InvokeCaller,
  action = 'lambda:InvokeFunction',
): InvokeDecision {
  const target = splitFunctionRef(functionRef);
  for (const p of permissions) {
    if (p.functionName !== target.name || p.qualifier !== target.qualifier) continue;
    if (!actionMatches(p.action, action)) continue;
    if (!principalMatches(p.principal, caller.principal)) continue;
    if (p.sourceArn !== undefined && (caller.sourceArn === undefined || !arnMatches(p.sourceArn, caller.sourceArn))) continue;
    if (p.sourceAccount !== undefined && caller.sourceAccount !== p.sourceAccount) continue;
    return { allowed: true, permission: p.logicalId };
  }
  return { allowed: false };
}
