import { describe, expect, it } from 'vitest';
import { authorizeInvoke, lambdaPermissionsOf } from '../../../../localstack/cloud/iam/resource-policies';
import { resolveTemplate, type RawTemplate } from '../../../../localstack/cloud/template';

const API = 'arn:aws:execute-api:us-east-1:000000000000:abc123';

function permissionsOf(resources: RawTemplate['Resources']) {
  return lambdaPermissionsOf(resolveTemplate({ directory: '/tmp', stackName: 'S', template: { Resources: resources }, assetDirs: new Map() }));
}

describe('Function: lambdaPermissionsOf', () => {
  it('should read each permission with its function by name and qualifier', () => {
    const permissions = permissionsOf({
      Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'runs-api' } },
      ByArn: {
        Type: 'AWS::Lambda::Permission',
        Properties: { FunctionName: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com', SourceArn: `${API}/v1/POST/runs` },
      },
      ByName: { Type: 'AWS::Lambda::Permission', Properties: { FunctionName: 'runs-api:live', Action: 'lambda:InvokeFunction', Principal: '111122223333', SourceAccount: '111122223333' } },
    });

    expect(permissions).toEqual([
      { logicalId: 'ByArn', functionName: 'runs-api', action: 'lambda:InvokeFunction', principal: 'apigateway.amazonaws.com', sourceArn: `${API}/v1/POST/runs` },
      { logicalId: 'ByName', functionName: 'runs-api', qualifier: 'live', action: 'lambda:InvokeFunction', principal: '111122223333', sourceAccount: '111122223333' },
    ]);
  });

  it('should refuse a permission it cannot read', () => {
    expect(() => permissionsOf({ P: { Type: 'AWS::Lambda::Permission', Properties: { FunctionName: 'f', Action: 'lambda:InvokeFunction' } } })).toThrow(
      /P: a Lambda permission needs FunctionName, Action and Principal/,
    );
  });
});

describe('Function: authorizeInvoke', () => {
  const permissions = [
    { logicalId: 'Runs', functionName: 'runs-api', action: 'lambda:InvokeFunction', principal: 'apigateway.amazonaws.com', sourceArn: `${API}/v1/GET/runs/*` },
    { logicalId: 'Rule', functionName: 'finalizer', action: 'lambda:InvokeFunction', principal: 'events.amazonaws.com', sourceArn: 'arn:aws:events:us-east-1:000000000000:rule/status' },
    { logicalId: 'Account', functionName: 'agent', qualifier: 'live', action: 'lambda:*', principal: 'arn:aws:iam::111122223333:root' },
    { logicalId: 'FromAccount', functionName: 'logs', action: 'lambda:InvokeFunction', principal: 's3.amazonaws.com', sourceAccount: '000000000000' },
  ];

  it('should allow the service from the source the permission names, whatever form the function is named in', () => {
    const gateway = { principal: 'apigateway.amazonaws.com', sourceArn: `${API}/v1/GET/runs/r-1` };
    expect(authorizeInvoke(permissions, 'runs-api', gateway)).toEqual({ allowed: true, permission: 'Runs' });
    expect(authorizeInvoke(permissions, 'arn:aws:lambda:us-east-1:000000000000:function:runs-api', gateway).allowed).toBe(true);
    expect(authorizeInvoke(permissions, 'arn:aws:lambda:us-east-1:000000000000:function:runs-api:$LATEST', gateway).allowed).toBe(true);
    expect(authorizeInvoke(permissions, '000000000000:function:runs-api', gateway).allowed).toBe(true);
    expect(authorizeInvoke(permissions, 'finalizer', { principal: 'events.amazonaws.com', sourceArn: 'arn:aws:events:us-east-1:000000000000:rule/status' }).allowed).toBe(true);
  });

  it('should refuse another source, another service, a missing source or another function', () => {
    expect(authorizeInvoke(permissions, 'runs-api', { principal: 'apigateway.amazonaws.com', sourceArn: `${API}/v1/POST/runs` })).toEqual({ allowed: false });
    expect(authorizeInvoke(permissions, 'runs-api', { principal: 'apigateway.amazonaws.com' }).allowed).toBe(false);
    expect(authorizeInvoke(permissions, 'runs-api', { principal: 'events.amazonaws.com', sourceArn: `${API}/v1/GET/runs/r-1` }).allowed).toBe(false);
    expect(authorizeInvoke(permissions, 'finalizer', { principal: 'events.amazonaws.com', sourceArn: 'arn:aws:events:us-east-1:000000000000:rule/other' }).allowed).toBe(false);
    expect(authorizeInvoke(permissions, 'runs-api', { principal: 'apigateway.amazonaws.com', sourceArn: `${API}/v1/GET/runs/r-1` }, 'lambda:GetFunction').allowed).toBe(false);
  });

  it('should grant an account to every principal of it, on the qualifier the permission names only', () => {
    expect(authorizeInvoke(permissions, 'agent:live', { principal: 'arn:aws:iam::111122223333:role/caller' })).toEqual({ allowed: true, permission: 'Account' });
    expect(authorizeInvoke(permissions, 'agent:live', { principal: '111122223333' }).allowed).toBe(true);
    expect(authorizeInvoke(permissions, 'agent', { principal: 'arn:aws:iam::111122223333:role/caller' }).allowed).toBe(false);
    expect(authorizeInvoke(permissions, 'agent:live', { principal: 'arn:aws:iam::444455556666:role/caller' }).allowed).toBe(false);
  });

  it('should check SourceAccount when the permission sets one', () => {
    expect(authorizeInvoke(permissions, 'logs', { principal: 's3.amazonaws.com', sourceAccount: '000000000000' }).allowed).toBe(true);
    expect(authorizeInvoke(permissions, 'logs', { principal: 's3.amazonaws.com', sourceAccount: '444455556666' }).allowed).toBe(false);
    expect(authorizeInvoke(permissions, 'logs', { principal: 's3.amazonaws.com' }).allowed).toBe(false);
  });
});
