/**
 * The local cloud's IAM: who a caller is (from the access key it signs with, or the principal an in-process
 * service carries), whether the template's policies let it make a request, and the least-privilege ledger of
 * what each role was allowed. Each function and state machine role gets an access key of its own, so a
 * function's SDK calls name its role as they do in AWS; every other key (`local` for tests, the CLI and the
 * operator) is the administrator, as a developer's own credentials would be.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ResolvedTemplate } from '../types';
import { combineDecisions, evaluateIdentityPolicies, evaluateResourcePolicy, type AuthorizationRequest, type CallerPrincipal, type Decision } from './evaluate';
import { arnMatches } from './match';
import { parsePolicyDocument, type NamedPolicy } from './policy';
import { authorizeInvoke, lambdaPermissionsOf, type InvokeCaller, type LambdaPermission } from './resource-policies';
import { rolePoliciesOf, rolePrincipalsOf, type RolePolicies } from './roles';
import type { AwsLocation } from './request-actions';

/** A caller of a local AWS API. */
export type Caller =
  | { kind: 'admin' }
  | {
      kind: 'role';
      roleLogicalId: string;
      roleArn: string;
      /** The assumed-role session name AWS would show: the function's name, or the state machine's. */
      session: string;
    };

export const ADMIN: Caller = { kind: 'admin' };

export type AuthorizationResult = { allowed: true } | { allowed: false; request: AuthorizationRequest; message: string };

/** What the ledger keeps of one role: each allowed action with the resources it was allowed on. */
export type LedgerEntries = Record<string, Record<string, string[]>>;

interface ResourcePolicy {
  /** ARN patterns the policy is attached to (a bucket and its objects, a queue). */
  attachedTo: string[];
  policy: NamedPolicy;
}

const ACCESS_KEY_PREFIX = 'ASIALOCAL';

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? (value as unknown[]).filter((v): v is string => typeof v === 'string') : [];
}

export interface IamAuthorityOptions {
  /** False turns enforcement off (`npm start -- --no-iam`): every request is allowed, the ledger still records. */
  enforce: boolean;
  /** Where the ledger is written (JSON, role logical id → action → resources, refusals as `DENIED action`); kept in memory without it. */
  ledgerFile?: string;
}

export class IamAuthority {
  readonly enforce: boolean;
  private readonly roles: Map<string, RolePolicies>;
  private readonly roleByArn = new Map<string, RolePolicies>();
  private readonly keys = new Map<string, Caller>();
  private readonly keyByRoleArn = new Map<string, string>();
  private readonly sessionByRoleArn = new Map<string, string>();
  private readonly permissions: LambdaPermission[];
  private readonly resourcePolicies: ResourcePolicy[] = [];
  private readonly tags = new Map<string, Record<string, string>>();
  private readonly ledger = new Map<string, Map<string, Set<string>>>();
  private readonly ledgerFile: string | undefined;
  private ledgerDirty = false;
  private readonly accountId: string;
  /** The region and account ARNs are built for. */
  readonly location: AwsLocation;

  constructor(template: ResolvedTemplate, options: IamAuthorityOptions) {
    this.enforce = options.enforce;
    this.location = { region: template.region, accountId: template.accountId };
    this.ledgerFile = options.ledgerFile;
    this.accountId = template.accountId;
    this.roles = rolePoliciesOf(template);
    for (const role of this.roles.values()) this.roleByArn.set(role.roleArn, role);
    for (const principal of rolePrincipalsOf(template)) {
      // A role shared by several principals keeps the first one's name as its session.
      if (!this.sessionByRoleArn.has(principal.roleArn)) this.sessionByRoleArn.set(principal.roleArn, principal.name.split(':').at(-1) ?? principal.name);
    }
    this.permissions = lambdaPermissionsOf(template);
    for (const r of template.resources.values()) {
      if (r.type === 'AWS::S3::BucketPolicy' && typeof r.properties.Bucket === 'string') {
        const bucketArn = `arn:aws:s3:::${r.properties.Bucket}`;
        this.resourcePolicies.push({
          attachedTo: [bucketArn, `${bucketArn}/*`],
          policy: { name: r.logicalId, document: parsePolicyDocument(r.properties.PolicyDocument, `${r.logicalId}.PolicyDocument`) },
        });
      }
      if (r.type === 'AWS::SQS::QueuePolicy') {
        const document = parsePolicyDocument(r.properties.PolicyDocument, `${r.logicalId}.PolicyDocument`);
        const queues = stringList(r.properties.Queues);
        const arns = [...template.resources.values()]
          .filter((q) => q.type === 'AWS::SQS::Queue' && (queues.includes(q.physicalId) || (Object.hasOwn(q.attributes, 'QueueUrl') && queues.includes(q.attributes.QueueUrl))))
          .map((q) => q.attributes.Arn)
          .filter((arn): arn is string => typeof arn === 'string');
        this.resourcePolicies.push({ attachedTo: arns, policy: { name: r.logicalId, document } });
      }
      const tags = r.properties.Tags;
      const arn = r.type === 'AWS::Lambda::Function' ? r.attributes.Arn : r.type === 'AWS::StepFunctions::StateMachine' ? r.physicalId : r.attributes.Arn;
      if (Array.isArray(tags) && typeof arn === 'string') {
        const byKey: Record<string, string> = {};
        for (const tag of tags as { Key?: unknown; Value?: unknown }[]) if (typeof tag.Key === 'string' && typeof tag.Value === 'string') byKey[tag.Key] = tag.Value;
        this.tags.set(arn, byKey);
      }
    }
    // Every role's key exists from the start, so a signature-checking backend can be told them all at once.
    for (const role of this.roles.values()) this.accessKeyFor(role.roleArn);
  }

  /** The access key a function or state machine running as `roleArn` signs with; `local` (admin) for a role the template lacks. */
  accessKeyFor(roleArn: string): string {
    const known = this.keyByRoleArn.get(roleArn);
    if (known !== undefined) return known;
    const caller = this.callerForRole(roleArn);
    if (caller.kind === 'admin') return 'local';
    const key = `${ACCESS_KEY_PREFIX}${createHash('sha256').update(roleArn).digest('hex').slice(0, 11).toUpperCase()}`;
    this.keyByRoleArn.set(roleArn, key);
    this.keys.set(key, caller);
    return key;
  }

  /** Every role's access key (a backend that checks signatures, like the S3 emulator, must accept them). */
  accessKeys(): string[] {
    return [...this.keys.keys()];
  }

  /** The caller a request signed with `accessKeyId` comes from: a role's key names the role, any other key is the administrator. */
  callerForAccessKey(accessKeyId: string | undefined): Caller {
    return (accessKeyId !== undefined && this.keys.get(accessKeyId)) || ADMIN;
  }

  /** The caller for an in-process service acting with a role (a state machine's task, a stream mapping's reads). */
  callerForRole(roleArn: string): Caller {
    const role = this.roleByArn.get(roleArn);
    if (!role) return ADMIN;
    return { kind: 'role', roleLogicalId: role.logicalId, roleArn: role.roleArn, session: this.sessionByRoleArn.get(roleArn) ?? role.roleName };
  }

  /** The resource's tags, as `aws:ResourceTag/…` condition keys see them. */
  resourceTags(arn: string): Record<string, string> {
    const unqualified = /^(arn:[^:]+:lambda:[^:]+:\d+:function:[^:]+)(?::[^:]+)?$/.exec(arn)?.[1] ?? arn;
    return this.tags.get(unqualified) ?? {};
  }

  /**
   * Authorizes every permission a request needs, in order, and stops at the first refused. The administrator is
   * allowed everything. Request-wide keys (`aws:SecureTransport`, which loopback satisfies, the principal's ARN
   * and account, and the resource's tags) are added to each permission's context here.
   */
  authorize(caller: Caller, requests: readonly AuthorizationRequest[]): AuthorizationResult {
    if (caller.kind === 'admin') return { allowed: true };
    const role = this.roles.get(caller.roleLogicalId);
    for (const request of requests) {
      const context = {
        'aws:SecureTransport': true,
        'aws:PrincipalArn': caller.roleArn,
        'aws:PrincipalAccount': this.accountId,
        ...Object.fromEntries(Object.entries(this.resourceTags(request.resource)).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
        ...request.context,
      };
      const full: AuthorizationRequest = { ...request, context };
      const identity = evaluateIdentityPolicies(role?.policies ?? [], full);
      const principal: CallerPrincipal = { arn: caller.roleArn, accountId: this.accountId };
      const resource = this.resourcePolicies
        .filter((p) => p.attachedTo.some((pattern) => arnMatches(pattern, request.resource)))
        .map((p) => evaluateResourcePolicy(p.policy, principal, full));
      const decision = combineDecisions(identity, ...resource);
      if (decision.decision !== 'Allow') {
        this.record(caller, request, false);
        if (!this.enforce) continue;
        return { allowed: false, request, message: this.denialMessage(caller, request, decision) };
      }
      this.record(caller, request, true);
    }
    return { allowed: true };
  }

  /**
   * Whether a service (API Gateway, EventBridge, a stream mapping's poller) may invoke the function, by its
   * `AWS::Lambda::Permission`s. Event source mappings invoke with the function's own role and need none.
   */
  authorizeInvoke(functionRef: string, caller: InvokeCaller): AuthorizationResult {
    const decision = authorizeInvoke(this.permissions, functionRef, caller);
    if (decision.allowed || !this.enforce) return { allowed: true };
    return {
      allowed: false,
      request: { action: 'lambda:InvokeFunction', resource: functionRef },
      message: `The resource policy of ${functionRef} does not allow ${caller.principal}${caller.sourceArn === undefined ? '' : ` (source ${caller.sourceArn})`} to perform lambda:InvokeFunction`,
    };
  }

  private denialMessage(caller: Caller & { kind: 'role' }, request: AuthorizationRequest, decision: Decision): string {
    const who = `arn:aws:sts::${this.accountId}:assumed-role/${this.roles.get(caller.roleLogicalId)?.roleName ?? caller.roleLogicalId}/${caller.session}`;
    const why =
      decision.decision === 'ExplicitDeny'
        ? `with an explicit deny in ${decision.statement.policy}`
        : `because no identity-based policy allows the ${request.action} action`;
    return `User: ${who} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`;
  }

  private record(caller: Caller & { kind: 'role' }, request: AuthorizationRequest, allowed: boolean): void {
    const key = allowed ? request.action : `DENIED ${request.action}`;
    let actions = this.ledger.get(caller.roleLogicalId);
    if (!actions) this.ledger.set(caller.roleLogicalId, (actions = new Map<string, Set<string>>()));
    let resources = actions.get(key);
    if (!resources) actions.set(key, (resources = new Set()));
    if (!resources.has(request.resource)) {
      resources.add(request.resource);
      this.ledgerDirty = true;
    }
  }

  /** The ledger so far: role logical id → action → resources (sorted, for a stable file). */
  ledgerEntries(): LedgerEntries {
    const out: LedgerEntries = {};
    for (const role of [...this.ledger.keys()].sort()) {
      const actions = this.ledger.get(role) ?? new Map<string, Set<string>>();
      out[role] = Object.fromEntries([...actions.keys()].sort().map((a) => [a, [...(actions.get(a) ?? [])].sort()]));
    }
    return out;
  }

  /** Writes the ledger when it changed since the last write. */
  flushLedger(): void {
    if (!this.ledgerFile || !this.ledgerDirty) return;
    this.ledgerDirty = false;
    mkdirSync(dirname(this.ledgerFile), { recursive: true });
    writeFileSync(this.ledgerFile, JSON.stringify(this.ledgerEntries(), null, 2) + '\n');
  }
}

/** The access key id of a SigV4 request: from its Authorization header, or a presigned URL's `X-Amz-Credential`. */
export function accessKeyOf(authorization: string | undefined, query?: URLSearchParams): string | undefined {
  const header = authorization === undefined ? undefined : /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
  if (header !== undefined) return header;
  return query?.get('X-Amz-Credential')?.split('/')[0] ?? undefined;
}
