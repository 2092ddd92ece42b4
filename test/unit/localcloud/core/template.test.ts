import { describe, expect, it } from 'vitest';
import { resolveTemplate, type CloudAssembly } from '../../../../localstack/cloud/template';
import { checkSupported } from '../../../../localstack/cloud/local-cloud';
import { UnsupportedResourceError } from '../../../../localstack/cloud/types';

function assembly(resources: CloudAssembly['template']['Resources'], extra: Partial<CloudAssembly['template']> = {}): CloudAssembly {
  return { directory: '/tmp', stackName: 'S', template: { Resources: resources, ...extra }, assetDirs: new Map() };
}

describe('Function: resolveTemplate', () => {
  const base = {
    Table: { Type: 'AWS::DynamoDB::GlobalTable', Properties: { KeySchema: [] } },
    Fn: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Environment: {
          Variables: {
            TABLE: { Ref: 'Table' },
            TABLE_ARN: { 'Fn::GetAtt': ['Table', 'Arn'] },
            JOINED: { 'Fn::Join': ['-', [{ Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }]] },
            SUBBED: { 'Fn::Sub': 'arn:${AWS::Partition}:x:${AWS::Region}:${Table.Arn}:${!Literal}' },
            SUBVARS: { 'Fn::Sub': ['${A}/${AWS::StackName}', { A: { Ref: 'Table' } }] },
            PICKED: { 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] },
            COND: { 'Fn::If': ['IsProd', 'prod', 'dev'] },
            GONE: { Ref: 'AWS::NoValue' },
          },
        },
      },
    },
  };

  it('should resolve Ref, GetAtt, Join, Sub (both forms), Select/Split, If and NoValue', () => {
    const resolved = resolveTemplate(
      assembly(base, { Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] } }, Parameters: { Env: { Default: 'dev' } } }),
      {},
    );
    const table = resolved.resources.get('Table')!;
    const env = (resolved.resources.get('Fn')!.properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.TABLE).toBe(table.physicalId);
    expect(env.TABLE_ARN).toBe(`arn:aws:dynamodb:us-east-1:000000000000:table/${table.physicalId}`);
    expect(env.JOINED).toBe('us-east-1-000000000000');
    expect(env.SUBVARS).toBe(`${table.physicalId}/S`);
    expect(env.SUBBED).toBe(`arn:aws:x:us-east-1:${table.attributes.Arn}:\${Literal}`);
    expect(env.PICKED).toBe('b');
    expect(env.COND).toBe('dev');
    expect('GONE' in env).toBe(false);
  });

  it('should name the resource and intrinsic it cannot resolve', () => {
    expect(() => resolveTemplate(assembly({ Fn: { Type: 'AWS::Lambda::Function', Properties: { X: { Ref: 'Missing' } } } }))).toThrow(
      /Fn\.Properties\.X: Ref to unknown resource Missing/,
    );
    expect(() => resolveTemplate(assembly({ Fn: { Type: 'AWS::Lambda::Function', Properties: { X: { 'Fn::ImportValue': 'x' } } } }))).toThrow(
      /Fn::ImportValue is not supported/,
    );
  });

  it('should give deterministic physical ids, so persisted data matches across starts', () => {
    const a = resolveTemplate(assembly(base, { Conditions: { IsProd: false } }));
    const b = resolveTemplate(assembly(base, { Conditions: { IsProd: false } }));
    expect(a.resources.get('Table')!.physicalId).toBe(b.resources.get('Table')!.physicalId);
  });

  it('should apply overrides and rewrite API Gateway URLs to local ones', () => {
    const resolved = resolveTemplate(
      assembly({
        Api: { Type: 'AWS::ApiGatewayV2::Api', Properties: {} },
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: { URL: { 'Fn::Join': ['', ['https://', { Ref: 'Api' }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/v1']] } },
        },
      }),
      { rewriteString: (s) => s.replace(/^https:\/\/\w+\.execute-api\.[\w-]+\.amazonaws\.com/, 'http://127.0.0.1:9') },
    );
    expect(resolved.resources.get('Fn')!.properties.URL).toBe('http://127.0.0.1:9/v1');
  });
});

describe('Function: checkSupported', () => {
  it('should stop start-up naming a resource type the local cloud cannot stand up', () => {
    expect(() => { checkSupported(assembly({ Vpc: { Type: 'AWS::EC2::VPC', Properties: {} } })); }).toThrow(UnsupportedResourceError);
    expect(() => { checkSupported(assembly({ Vpc: { Type: 'AWS::EC2::VPC', Properties: {} } })); }).toThrow(/Vpc \(AWS::EC2::VPC\)/);
  });

  it('should accept the resource types of the Agentplane stack', () => {
    expect(() => { checkSupported(assembly({ R: { Type: 'AWS::IAM::Role' }, F: { Type: 'AWS::Lambda::Function' } })); }).not.toThrow();
  });
});
