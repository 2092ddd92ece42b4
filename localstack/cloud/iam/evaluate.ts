/**
 * Policy evaluation as IAM documents it for one account: an explicit Deny in any statement that applies wins;
 * otherwise an Allow that applies allows; otherwise the request is implicitly denied. The decision names the
 * statement that made it, for the refusal's message and for the least-privilege ledger.
 */
import { conditionHolds, checkCondition, type ConditionContext } from './conditions';
import { actionMatches, arnMatches } from './match';
import type { NamedPolicy, PolicyDocument, Principal, Statement } from './policy';

export interface AuthorizationRequest {
  /** `service:Action`, e.g. `dynamodb:PutItem`. */
  action: string;
  /** The resource ARN the action is on (`*` for actions without a resource, like `xray:PutTraceSegments`). */
  resource: string;
  context?: ConditionContext;
}

interface StatementRef {
  /** NamedPolicy.name of the policy the statement is in. */
  policy: string;
  /** Its index in the policy's Statement list. */
  index: number;
  sid?: string;
}

export type Decision =
  | { decision: 'Allow'; statement: StatementRef }
  | { decision: 'ExplicitDeny'; statement: StatementRef }
  | { decision: 'ImplicitDeny' };

function actionApplies(statement: Statement, action: string): boolean {
  if (statement.notAction) return !statement.notAction.some((p) => actionMatches(p, action));
  return (statement.action ?? []).some((p) => actionMatches(p, action));
}

function resourceApplies(statement: Statement, resource: string): boolean {
  if (statement.notResource) return !statement.notResource.some((p) => arnMatches(p, resource));
  // A resource-based policy may leave Resource out: it then means the resource the policy is attached to.
  if (!statement.resource) return true;
  return statement.resource.some((p) => arnMatches(p, resource));
}

/** True when the statement's action, resource and condition all match the request (its Principal is not looked at). */
function statementApplies(statement: Statement, request: AuthorizationRequest): boolean {
  return actionApplies(statement, request.action) && resourceApplies(statement, request.resource) && conditionHolds(statement.condition, request.context ?? {});
}

function ref(policy: NamedPolicy, index: number, statement: Statement): StatementRef {
  return { policy: policy.name, index, ...(statement.sid !== undefined && { sid: statement.sid }) };
}

function decide(policies: readonly NamedPolicy[], request: AuthorizationRequest, applies: (s: Statement) => boolean): Decision {
  let allow: StatementRef | undefined;
  for (const policy of policies) {
    for (const [index, statement] of policy.document.statements.entries()) {
      if (!applies(statement) || !statementApplies(statement, request)) continue;
      if (statement.effect === 'Deny') return { decision: 'ExplicitDeny', statement: ref(policy, index, statement) };
      allow ??= ref(policy, index, statement);
    }
  }
  return allow ? { decision: 'Allow', statement: allow } : { decision: 'ImplicitDeny' };
}

/** Evaluates a principal's identity-based policies (a role's inline, attached and managed policies). */
export function evaluateIdentityPolicies(policies: readonly NamedPolicy[], request: AuthorizationRequest): Decision {
  return decide(policies, request, () => true);
}

/** Who is calling, as a resource-based policy's Principal element sees it. */
export type CallerPrincipal = { service: string } | { arn: string; accountId: string };

function principalListed(principal: Principal, caller: CallerPrincipal): boolean {
  if (principal === '*') return true;
  const listed = (kind: string): readonly string[] => (Object.hasOwn(principal, kind) ? principal[kind] : []);
  if ('service' in caller) return listed('Service').includes(caller.service);
  return listed('AWS').some(
    (p) => p === '*' || p === caller.arn || p === caller.accountId || p === `arn:aws:iam::${caller.accountId}:root`,
  );
}

function principalApplies(statement: Statement, caller: CallerPrincipal): boolean {
  if (statement.notPrincipal) return !principalListed(statement.notPrincipal, caller);
  return statement.principal !== undefined && principalListed(statement.principal, caller);
}

/**
 * Evaluates a resource-based policy (a bucket or queue policy) for a caller: only statements whose Principal
 * names the caller apply. Within one account, IAM allows a request when either the identity or the resource
 * policy allows it and neither denies it explicitly; combining the two is the caller's job.
 */
export function evaluateResourcePolicy(policy: NamedPolicy, caller: CallerPrincipal, request: AuthorizationRequest): Decision {
  return decide([policy], request, (s) => principalApplies(s, caller));
}

/** Throws for a statement this evaluator cannot decide (an unknown condition operator), naming the policy. */
export function checkPolicy(name: string, document: PolicyDocument): void {
  for (const [index, statement] of document.statements.entries()) {
    try {
      if (statement.condition) checkCondition(statement.condition);
    } catch (error) {
      throw new Error(`${name} Statement[${index}]: ${(error as Error).message}`, { cause: error });
    }
  }
}

/**
 * Identity-based and resource-based decisions for one request within one account: an explicit Deny in either
 * wins, then an Allow in either (IAM's same-account rule), else the request is implicitly denied.
 */
export function combineDecisions(...decisions: readonly Decision[]): Decision {
  return (
    decisions.find((d) => d.decision === 'ExplicitDeny') ?? decisions.find((d) => d.decision === 'Allow') ?? { decision: 'ImplicitDeny' }
  );
}
