import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../../bin/app';
import { checkPolicy, evaluateIdentityPolicies, evaluateResourcePolicy, type AuthorizationRequest } from '../../../../localstack/cloud/iam/evaluate';
import { parsePolicyDocument } from '../../../../localstack/cloud/iam/policy';
import { authorizeInvoke, lambdaPermissionsOf } from '../../../../localstack/cloud/iam/resource-policies';
import { rolePoliciesOf, rolePrincipalsOf, type RolePolicies } from '../../../../localstack/cloud/iam/roles';
import { resolveTemplate, type RawTemplate } from '../../../../localstack/cloud/template';
import type { ResolvedResource, ResolvedTemplate } from '../../../../localstack/cloud/types';

// The stack's own template, resolved as the local cloud resolves it; bundling is skipped (only IAM is read).
let template: ResolvedTemplate;
let roles: Map<string, RolePolicies>;

beforeAll(() => {
  const { stack } = buildApp({ nag: false, context: { 'aws:cdk:bundling-stacks': [] } });
  const raw = Template.fromStack(stack).toJSON() as RawTemplate;
  template = resolveTemplate({ directory: '/tmp', stackName: stack.stackName, template: raw, assetDirs: new Map() });
  roles = rolePoliciesOf(template);
});

/** The one resource of a type whose logical id is `prefix` plus CDK's 8-hex-digit hash. */
function resource(prefix: string, type: string): ResolvedResource {
  const found = [...template.resources.values()].filter((r) => r.type === type && new RegExp(`^${prefix}[0-9A-F]{8}$`).test(r.logicalId));
  expect(found.map((r) => r.logicalId), `${prefix} ${type}`).toHaveLength(1);
  return found[0];
}

function decide(rolePrefix: string, request: AuthorizationRequest): string {
  const role = roles.get(resource(rolePrefix, 'AWS::IAM::Role').logicalId)!;
  return evaluateIdentityPolicies(role.policies, request).decision;
}

describe('Stack: the synthesized template’s IAM', () => {
  it('should parse every role’s policies, with every condition operator known', () => {
    expect(roles.size).toBe([...template.resources.values()].filter((r) => r.type === 'AWS::IAM::Role').length);
    for (const role of roles.values()) for (const policy of role.policies) checkPolicy(policy.name, policy.document);
    // Every role that runs code has a policy; the API Gateway logging role has only its AWS managed policy.
    const withoutPolicies = [...roles.values()].filter((r) => r.policies.length === 0).map((r) => r.logicalId);
    expect(withoutPolicies).toEqual([resource('ControlApiCloudWatchRole', 'AWS::IAM::Role').logicalId]);
    expect([...roles.values()].flatMap((r) => r.unknownManagedPolicies)).toEqual(['arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs']);
  });

  it('should resolve every statement’s resources and condition values to plain strings', () => {
    const unresolved = /\$\{|Token\[|\[object |undefined|Fn::|"Ref"/;
    for (const role of roles.values()) {
      for (const policy of role.policies) {
        for (const [i, s] of policy.document.statements.entries()) {
          const texts = [...(s.resource ?? []), ...(s.notResource ?? []), ...Object.values(s.condition ?? {}).flatMap((keys) => Object.values(keys).flat())];
          expect(texts.length, `${policy.name} Statement[${i}]`).toBeGreaterThan(0);
          for (const text of texts) expect(text, `${policy.name} Statement[${i}]`).not.toMatch(unresolved);
          for (const arn of s.resource ?? []) expect(arn, `${policy.name} Statement[${i}]`).toMatch(/^(\*|arn:aws:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+)$/);
        }
      }
    }
  });

  it('should run every function as a role of the template', () => {
    const principals = rolePrincipalsOf(template);
    expect(principals.filter((p) => p.kind === 'function')).toHaveLength([...template.resources.values()].filter((r) => r.type === 'AWS::Lambda::Function').length);
    for (const p of principals) expect(roles.has(p.roleLogicalId ?? ''), p.logicalId).toBe(true);
    const runsApi = principals.find((p) => p.logicalId === resource('RunsApi', 'AWS::Lambda::Function').logicalId)!;
    expect(runsApi.roleLogicalId).toBe(resource('RunsApiRole', 'AWS::IAM::Role').logicalId);
  });

  it('should let the runs API write runs and delete workspace objects under runs/ only', () => {
    const runs = resource('TablesRuns', 'AWS::DynamoDB::GlobalTable').attributes.Arn;
    const bucket = resource('WorkspaceBucket', 'AWS::S3::Bucket').attributes.Arn;
    const agents = resource('TablesAgents', 'AWS::DynamoDB::GlobalTable').attributes.Arn;
    expect(decide('RunsApiRole', { action: 'dynamodb:PutItem', resource: runs })).toBe('Allow');
    expect(decide('RunsApiRole', { action: 'dynamodb:Query', resource: `${runs}/index/byTenant` })).toBe('Allow');
    expect(decide('RunsApiRole', { action: 'dynamodb:PutItem', resource: agents })).toBe('ImplicitDeny');
    expect(decide('RunsApiRole', { action: 's3:DeleteObject', resource: `${bucket}/runs/r-1/inputs/a.cbl` })).toBe('Allow');
    expect(decide('RunsApiRole', { action: 's3:DeleteObject', resource: `${bucket}/workflows/w-1.json` })).toBe('ImplicitDeny');
    expect(decide('RunsApiRole', { action: 's3:GetObject', resource: `${bucket}/workflows/w-1.json` })).toBe('Allow');
    expect(decide('RunsApiRole', { action: 's3:PutObject', resource: `${bucket}/workflows/w-1.json` })).toBe('ImplicitDeny');
  });

  it('should let the workflows API pass the state machine role to Step Functions only', () => {
    const smRole = resource('WorkflowsStateMachineRole', 'AWS::IAM::Role').attributes.Arn;
    expect(decide('WorkflowsApiRole', { action: 'iam:PassRole', resource: smRole, context: { 'iam:PassedToService': 'states.amazonaws.com' } })).toBe('Allow');
    expect(decide('WorkflowsApiRole', { action: 'iam:PassRole', resource: smRole, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } })).toBe('ImplicitDeny');
  });

  it('should let the state machines invoke tagged agents and not untagged functions', () => {
    const fn = `arn:aws:lambda:${template.region}:${template.accountId}:function:not-an-agent`;
    expect(decide('WorkflowsStateMachineRole', { action: 'lambda:InvokeFunction', resource: fn, context: { 'aws:ResourceTag/agentplane:agent': 'true' } })).toBe('Allow');
    expect(decide('WorkflowsStateMachineRole', { action: 'lambda:InvokeFunction', resource: `${fn}:live`, context: { 'aws:ResourceTag/agentplane:agent': 'true' } })).toBe(
      'Allow',
    );
    expect(decide('WorkflowsStateMachineRole', { action: 'lambda:InvokeFunction', resource: fn })).toBe('ImplicitDeny');
  });

  it('should let API Gateway invoke the runs API from POST /runs of its stage and not from another route', () => {
    const permissions = lambdaPermissionsOf(template);
    const fn = resource('RunsApi', 'AWS::Lambda::Function').physicalId;
    const api = resource('ControlApi', 'AWS::ApiGateway::RestApi').physicalId;
    const source = (route: string) => ({ principal: 'apigateway.amazonaws.com', sourceArn: `arn:aws:execute-api:${template.region}:${template.accountId}:${api}/v1/${route}` });
    expect(authorizeInvoke(permissions, fn, source('POST/runs')).allowed).toBe(true);
    expect(authorizeInvoke(permissions, fn, source('GET/runs/r-1/events')).allowed).toBe(true);
    expect(authorizeInvoke(permissions, fn, source('DELETE/runs')).allowed).toBe(false);
    expect(authorizeInvoke(permissions, fn, { principal: 'events.amazonaws.com', sourceArn: source('POST/runs').sourceArn }).allowed).toBe(false);
  });

  it('should deny the workspace bucket over plain HTTP to every principal, as its policy says', () => {
    const policy = resource('WorkspaceBucketPolicy', 'AWS::S3::BucketPolicy');
    const named = { name: policy.logicalId, document: parsePolicyDocument(policy.properties.PolicyDocument, policy.logicalId) };
    const bucket = resource('WorkspaceBucket', 'AWS::S3::Bucket').attributes.Arn;
    const caller = { arn: roles.get(resource('RunsApiRole', 'AWS::IAM::Role').logicalId)!.roleArn, accountId: template.accountId };
    const get = { action: 's3:GetObject', resource: `${bucket}/runs/r-1/x` };
    expect(evaluateResourcePolicy(named, caller, { ...get, context: { 'aws:SecureTransport': false } }).decision).toBe('ExplicitDeny');
    expect(evaluateResourcePolicy(named, caller, { ...get, context: { 'aws:SecureTransport': true } }).decision).toBe('ImplicitDeny');
  });
});
