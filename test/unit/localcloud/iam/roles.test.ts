import { describe, expect, it } from 'vitest';
import { rolePoliciesOf, rolePrincipalsOf } from '../../../../localstack/cloud/iam/roles';
import { resolveTemplate, type RawTemplate } from '../../../../localstack/cloud/template';

const doc = (action: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });
const assume = { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } }] };

function resolve(resources: RawTemplate['Resources']) {
  return resolveTemplate({ directory: '/tmp', stackName: 'S', template: { Resources: resources }, assetDirs: new Map() });
}

describe('Function: rolePoliciesOf', () => {
  const template = resolve({
    FnRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: assume,
        Policies: [{ PolicyName: 'inline', PolicyDocument: doc('sqs:SendMessage') }],
        ManagedPolicyArns: [
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']] },
          { Ref: 'Shared' },
        ],
      },
    },
    OtherRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: assume } },
    FnRoleDefaultPolicy: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'p', PolicyDocument: doc('dynamodb:GetItem'), Roles: [{ Ref: 'FnRole' }, { Ref: 'OtherRole' }] } },
    // Attached through both its Roles and the role's ManagedPolicyArns: one policy.
    Shared: { Type: 'AWS::IAM::ManagedPolicy', Properties: { PolicyDocument: doc('s3:GetObject'), Roles: [{ Ref: 'FnRole' }] } },
    ByArn: { Type: 'AWS::IAM::ManagedPolicy', Properties: { ManagedPolicyName: 'by-arn', PolicyDocument: doc('sqs:ReceiveMessage') } },
    ArnRole: {
      Type: 'AWS::IAM::Role',
      Properties: { AssumeRolePolicyDocument: assume, ManagedPolicyArns: [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/by-arn' }] },
    },
  });
  const roles = rolePoliciesOf(template);

  it('should gather inline, attached and managed policies, each once', () => {
    const fn = roles.get('FnRole')!;
    expect(fn.policies.map((p) => p.name)).toEqual(['FnRole/inline', 'FnRoleDefaultPolicy', 'Shared']);
    expect(fn.policies.map((p) => p.document.statements[0].action)).toEqual([['sqs:SendMessage'], ['dynamodb:GetItem'], ['s3:GetObject']]);
    expect(fn.roleArn).toBe(template.resources.get('FnRole')!.attributes.Arn);
    expect(fn.roleName).toBe(template.resources.get('FnRole')!.physicalId);
    expect(roles.get('OtherRole')!.policies.map((p) => p.name)).toEqual(['FnRoleDefaultPolicy']);
    expect(roles.get('ArnRole')!.policies.map((p) => p.name)).toEqual(['ByArn']);
  });

  it('should list AWS managed policies as unknown instead of guessing their statements', () => {
    expect(roles.get('FnRole')!.unknownManagedPolicies).toEqual(['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']);
    expect(roles.get('OtherRole')!.unknownManagedPolicies).toEqual([]);
  });

  it('should name the resource of a malformed policy', () => {
    const bad = resolve({
      R: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: assume } },
      P: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'p', PolicyDocument: { Statement: [{ Effect: 'Allow' }] }, Roles: [{ Ref: 'R' }] } },
    });
    expect(() => rolePoliciesOf(bad)).toThrow(/P\.PolicyDocument\.Statement\[0\]: needs exactly one of Action and NotAction/);
  });
});

describe('Function: rolePrincipalsOf', () => {
  it('should map each function and state machine to the role it runs as', () => {
    const template = resolve({
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: assume } },
      Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'fn', Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
      Sm: { Type: 'AWS::StepFunctions::StateMachine', Properties: { StateMachineName: 'sm', RoleArn: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
      Foreign: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'foreign', Role: 'arn:aws:iam::444455556666:role/elsewhere' } },
    });
    const roleArn = template.resources.get('Role')!.attributes.Arn;

    expect(rolePrincipalsOf(template)).toEqual([
      { kind: 'function', logicalId: 'Fn', name: 'fn', roleArn, roleLogicalId: 'Role' },
      { kind: 'stateMachine', logicalId: 'Sm', name: 'arn:aws:states:us-east-1:000000000000:stateMachine:sm', roleArn, roleLogicalId: 'Role' },
      { kind: 'function', logicalId: 'Foreign', name: 'foreign', roleArn: 'arn:aws:iam::444455556666:role/elsewhere' },
    ]);
  });
});
