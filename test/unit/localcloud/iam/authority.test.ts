import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../../bin/app';
import { ADMIN, accessKeyOf, IamAuthority } from '../../../../localstack/cloud/iam/authority';
import { lambdaInvokePermission, stepFunctionsPermissions } from '../../../../localstack/cloud/iam/service-actions';
import { resolveTemplate, type RawTemplate } from '../../../../localstack/cloud/template';
import type { ResolvedResource, ResolvedTemplate } from '../../../../localstack/cloud/types';

let template: ResolvedTemplate;
let iam: IamAuthority;

beforeAll(() => {
  const { stack } = buildApp({ nag: false, context: { 'aws:cdk:bundling-stacks': [] } });
  const raw = Template.fromStack(stack).toJSON() as RawTemplate;
  template = resolveTemplate({ directory: '/tmp', stackName: stack.stackName, template: raw, assetDirs: new Map() });
  iam = new IamAuthority(template, { enforce: true });
});

function resource(prefix: string, type: string): ResolvedResource {
  const found = [...template.resources.values()].filter((r) => r.type === type && new RegExp(`^${prefix}[0-9A-F]{8}$`).test(r.logicalId));
  expect(found.map((r) => r.logicalId), `${prefix} ${type}`).toHaveLength(1);
  return found[0];
}

const roleArnOf = (fnPrefix: string) => resource(fnPrefix, 'AWS::Lambda::Function').properties.Role as string;

describe('IamAuthority on the stack’s template', () => {
  it('should give each role a key of its own that names it, and treat any other key as the administrator', () => {
    const finalizer = iam.accessKeyFor(roleArnOf('Finalizer'));
    const broadcaster = iam.accessKeyFor(roleArnOf('Broadcaster'));
    expect(finalizer).toMatch(/^ASIALOCAL[0-9A-F]{11}$/);
    expect(broadcaster).not.toBe(finalizer);
    expect(iam.callerForAccessKey(finalizer)).toMatchObject({ kind: 'role', roleArn: roleArnOf('Finalizer') });
    expect(iam.callerForAccessKey('local')).toBe(ADMIN);
    expect(iam.callerForAccessKey(undefined)).toBe(ADMIN);
    expect(iam.accessKeys()).toContain(finalizer);
  });

  it('should read the access key of a SigV4 header and of a presigned URL', () => {
    expect(accessKeyOf('AWS4-HMAC-SHA256 Credential=ASIALOCALABC/20261203/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x')).toBe('ASIALOCALABC');
    expect(accessKeyOf(undefined, new URLSearchParams('X-Amz-Credential=local%2F20261203%2Feu-west-1%2Fs3%2Faws4_request'))).toBe('local');
    expect(accessKeyOf(undefined, new URLSearchParams(''))).toBeUndefined();
  });

  it('should let the state machine role invoke agent functions only, by their agentplane:agent tag', () => {
    const machineRole = resource('WorkflowsStateMachineRole', 'AWS::IAM::Role').attributes.Arn;
    const caller = iam.callerForRole(machineRole);
    const agent = resource('AgentsCobolDiscovery', 'AWS::Lambda::Function');
    const untagged = resource('AdminApi', 'AWS::Lambda::Function');
    expect(iam.resourceTags(agent.attributes.Arn)).toMatchObject({ 'agentplane:agent': 'true' });
    expect(iam.authorize(caller, [lambdaInvokePermission(agent.physicalId, iam.location)])).toEqual({ allowed: true });
    const refused = iam.authorize(caller, [lambdaInvokePermission(untagged.attributes.Arn, iam.location)]);
    expect(refused).toMatchObject({ allowed: false, message: expect.stringContaining('is not authorized to perform: lambda:InvokeFunction') as unknown });
  });

  it('should require iam:PassRole to states.amazonaws.com when the workflows API creates a state machine', () => {
    const caller = iam.callerForRole(roleArnOf('WorkflowsApi'));
    const machineRole = resource('WorkflowsStateMachineRole', 'AWS::IAM::Role').attributes.Arn;
    const create = (roleArn: string) =>
      stepFunctionsPermissions('CreateStateMachine', { name: 'agentplane-demo-v1', roleArn, definition: '{}' }, iam.location);
    expect(iam.authorize(caller, create(machineRole))).toEqual({ allowed: true });
    expect(iam.authorize(caller, create(roleArnOf('AdminApi')))).toMatchObject({ allowed: false, request: { action: 'iam:PassRole' } });
    // A name outside agentplane-* is not the workflows API's to create.
    expect(iam.authorize(caller, stepFunctionsPermissions('CreateStateMachine', { name: 'other', roleArn: machineRole }, iam.location))).toMatchObject({ allowed: false });
  });

  it('should record allowed and refused requests in the ledger, by role', () => {
    const own = new IamAuthority(template, { enforce: true });
    const role = own.callerForRole(roleArnOf('Health'));
    own.authorize(role, [{ action: 'dynamodb:GetItem', resource: 'arn:aws:dynamodb:eu-west-1:000000000000:table/x' }]);
    const ledger = own.ledgerEntries();
    const healthRole = Object.keys(ledger).find((r) => r.startsWith('HealthRole'))!;
    expect(ledger[healthRole]).toEqual({ 'DENIED dynamodb:GetItem': ['arn:aws:dynamodb:eu-west-1:000000000000:table/x'] });
  });

  it('should allow everything when not enforced, and still record what would have been refused', () => {
    const open = new IamAuthority(template, { enforce: false });
    const role = open.callerForRole(roleArnOf('Health'));
    expect(open.authorize(role, [{ action: 's3:PutObject', resource: 'arn:aws:s3:::b/k' }])).toEqual({ allowed: true });
    expect(Object.values(open.ledgerEntries())[0]).toEqual({ 'DENIED s3:PutObject': ['arn:aws:s3:::b/k'] });
  });

  it('should let API Gateway invoke a route’s function only from the source its permission names', () => {
    const health = resource('Health', 'AWS::Lambda::Function');
    const api = resource('ControlApi', 'AWS::ApiGateway::RestApi').physicalId;
    const stage = [...template.resources.values()].find((r) => r.type === 'AWS::ApiGateway::Stage')!.properties.StageName as string;
    const from = (path: string) => ({ principal: 'apigateway.amazonaws.com', sourceArn: `arn:aws:execute-api:${template.region}:${template.accountId}:${api}/${stage}/${path}`, sourceAccount: template.accountId });
    expect(iam.authorizeInvoke(health.attributes.Arn, from('GET/health'))).toEqual({ allowed: true });
    expect(iam.authorizeInvoke(health.attributes.Arn, from('POST/health'))).toMatchObject({ allowed: false });
  });
});

describe('stepFunctionsPermissions', () => {
  const loc = { region: 'eu-west-1', accountId: '123456789012' };
  it('should authorize task responses on the state machine of the token’s execution', () => {
    const token = `AQ${Buffer.from(JSON.stringify({ e: 'arn:aws:states:eu-west-1:123456789012:execution:agentplane-x:run-1', n: 'r' })).toString('base64url')}`;
    expect(stepFunctionsPermissions('SendTaskSuccess', { taskToken: token }, loc)).toEqual([
      { action: 'states:SendTaskSuccess', resource: 'arn:aws:states:eu-west-1:123456789012:stateMachine:agentplane-x' },
    ]);
    expect(stepFunctionsPermissions('SendTaskFailure', { taskToken: 'opaque' }, loc)).toEqual([{ action: 'states:SendTaskFailure', resource: '*' }]);
  });
  it('should authorize execution calls on the execution', () => {
    const executionArn = 'arn:aws:states:eu-west-1:123456789012:execution:agentplane-x:run-1';
    expect(stepFunctionsPermissions('StopExecution', { executionArn }, loc)).toEqual([{ action: 'states:StopExecution', resource: executionArn }]);
  });
});
