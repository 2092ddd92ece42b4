/**
 * Each role's identity policies, read from the resolved template: the role's inline `Policies`, every
 * `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy` whose `Roles` lists it, and the template's managed policies
 * its `ManagedPolicyArns` names. AWS managed policies (`arn:aws:iam::aws:policy/…`) cannot be read here: they are
 * listed as unknown rather than guessed. Also which function or state machine runs as which role.
 */
import type { ResolvedResource, ResolvedTemplate } from '../types';
import { parsePolicyDocument, type NamedPolicy } from './policy';

export interface RolePolicies {
  logicalId: string;
  roleName: string;
  roleArn: string;
  policies: NamedPolicy[];
  /** ManagedPolicyArns that are not policies of this template (AWS managed ones): not evaluated locally. */
  unknownManagedPolicies: string[];
}

export interface RolePrincipal {
  kind: 'function' | 'stateMachine';
  /** Logical id of the function or state machine. */
  logicalId: string;
  /** Function name, or state machine ARN. */
  name: string;
  roleArn: string;
  /** Logical id of the role when the template defines it. */
  roleLogicalId?: string;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? (value as unknown[]).filter((v): v is string => typeof v === 'string') : [];
}

function managedPolicyMatches(policy: ResolvedResource, arn: string): boolean {
  if (arn === policy.physicalId || arn === policy.attributes.Arn) return true;
  const name = typeof policy.properties.ManagedPolicyName === 'string' ? policy.properties.ManagedPolicyName : policy.physicalId;
  return /^arn:aws[\w-]*:iam::\d{12}:policy\//.test(arn) && arn.endsWith(`/${name}`);
}

/** Identity policies of every `AWS::IAM::Role` of the template, by the role's logical id. */
export function rolePoliciesOf(template: ResolvedTemplate): Map<string, RolePolicies> {
  const resources = [...template.resources.values()];
  const roles = new Map<string, RolePolicies>();
  const byName = new Map<string, RolePolicies>();
  for (const role of resources.filter((r) => r.type === 'AWS::IAM::Role')) {
    const entry: RolePolicies = {
      logicalId: role.logicalId,
      roleName: role.physicalId,
      roleArn: Object.hasOwn(role.attributes, 'Arn') ? role.attributes.Arn : `arn:aws:iam::${template.accountId}:role/${role.physicalId}`,
      policies: [],
      unknownManagedPolicies: [],
    };
    const inline = Array.isArray(role.properties.Policies) ? (role.properties.Policies as { PolicyName?: unknown; PolicyDocument?: unknown }[]) : [];
    for (const [i, p] of inline.entries()) {
      const name = `${role.logicalId}/${typeof p.PolicyName === 'string' ? p.PolicyName : String(i)}`;
      entry.policies.push({ name, document: parsePolicyDocument(p.PolicyDocument, `${role.logicalId}.Policies[${i}].PolicyDocument`) });
    }
    roles.set(role.logicalId, entry);
    byName.set(role.physicalId, entry);
  }
  const managed = resources.filter((r) => r.type === 'AWS::IAM::ManagedPolicy');
  for (const policy of resources.filter((r) => r.type === 'AWS::IAM::Policy' || r.type === 'AWS::IAM::ManagedPolicy')) {
    const named: NamedPolicy = { name: policy.logicalId, document: parsePolicyDocument(policy.properties.PolicyDocument, `${policy.logicalId}.PolicyDocument`) };
    for (const roleName of stringArray(policy.properties.Roles)) byName.get(roleName)?.policies.push(named);
  }
  for (const role of resources.filter((r) => r.type === 'AWS::IAM::Role')) {
    const entry = roles.get(role.logicalId);
    if (!entry) continue;
    for (const arn of stringArray(role.properties.ManagedPolicyArns)) {
      const policy = managed.find((m) => managedPolicyMatches(m, arn));
      if (!policy) {
        entry.unknownManagedPolicies.push(arn);
        continue;
      }
      // Attached both ways (Roles and ManagedPolicyArns) is still one policy.
      if (!entry.policies.some((p) => p.name === policy.logicalId)) {
        entry.policies.push({ name: policy.logicalId, document: parsePolicyDocument(policy.properties.PolicyDocument, `${policy.logicalId}.PolicyDocument`) });
      }
    }
  }
  return roles;
}

/** Which role each function (`Role`) and state machine (`RoleArn`) of the template runs as. */
export function rolePrincipalsOf(template: ResolvedTemplate): RolePrincipal[] {
  const roleByArn = new Map<string, string>();
  for (const r of template.resources.values()) if (r.type === 'AWS::IAM::Role' && r.attributes.Arn) roleByArn.set(r.attributes.Arn, r.logicalId);
  const out: RolePrincipal[] = [];
  for (const r of template.resources.values()) {
    const kind = r.type === 'AWS::Lambda::Function' ? 'function' : r.type === 'AWS::StepFunctions::StateMachine' ? 'stateMachine' : undefined;
    if (!kind) continue;
    const roleArn = kind === 'function' ? r.properties.Role : r.properties.RoleArn;
    if (typeof roleArn !== 'string') continue;
    const roleLogicalId = roleByArn.get(roleArn);
    out.push({ kind, logicalId: r.logicalId, name: r.physicalId, roleArn, ...(roleLogicalId !== undefined && { roleLogicalId }) });
  }
  return out;
}
