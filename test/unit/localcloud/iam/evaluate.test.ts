import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPolicy, combineDecisions, evaluateIdentityPolicies, evaluateResourcePolicy } from '../../../../localstack/cloud/iam/evaluate';
import { parsePolicyDocument, type NamedPolicy } from '../../../../localstack/cloud/iam/policy';

const ACCOUNT = '111122223333';
const RUNS = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/Runs`;
const BUCKET = 'arn:aws:s3:::workspace';

function policy(name: string, statements: unknown[]): NamedPolicy {
  return { name, document: parsePolicyDocument({ Version: '2012-10-17', Statement: statements }, name) };
}

describe('Function: evaluateIdentityPolicies', () => {
  const grants = policy('Grants', [
    { Sid: 'Tables', Effect: 'Allow', Action: ['dynamodb:Get*', 'dynamodb:Query'], Resource: [RUNS, `${RUNS}/index/*`] },
    { Effect: 'Allow', Action: 's3:*', Resource: `${BUCKET}/runs/*` },
  ]);

  it('should allow what a statement allows and name that statement', () => {
    expect(evaluateIdentityPolicies([grants], { action: 'dynamodb:GetItem', resource: RUNS })).toEqual({
      decision: 'Allow',
      statement: { policy: 'Grants', index: 0, sid: 'Tables' },
    });
    expect(evaluateIdentityPolicies([grants], { action: 'dynamodb:Query', resource: `${RUNS}/index/byStatus` }).decision).toBe('Allow');
    expect(evaluateIdentityPolicies([grants], { action: 's3:DeleteObject', resource: `${BUCKET}/runs/r1/x` })).toEqual({
      decision: 'Allow',
      statement: { policy: 'Grants', index: 1 },
    });
  });

  it('should deny implicitly what no statement allows', () => {
    expect(evaluateIdentityPolicies([grants], { action: 'dynamodb:PutItem', resource: RUNS })).toEqual({ decision: 'ImplicitDeny' });
    expect(evaluateIdentityPolicies([grants], { action: 's3:GetObject', resource: `${BUCKET}/workflows/w` })).toEqual({ decision: 'ImplicitDeny' });
    expect(evaluateIdentityPolicies([], { action: 's3:GetObject', resource: `${BUCKET}/runs/x` })).toEqual({ decision: 'ImplicitDeny' });
  });

  it('should let an explicit Deny in any policy win over every Allow', () => {
    const deny = policy('Guard', [{ Sid: 'NoDeletes', Effect: 'Deny', Action: 's3:Delete*', Resource: '*' }]);
    expect(evaluateIdentityPolicies([grants, deny], { action: 's3:DeleteObject', resource: `${BUCKET}/runs/r1/x` })).toEqual({
      decision: 'ExplicitDeny',
      statement: { policy: 'Guard', index: 0, sid: 'NoDeletes' },
    });
    expect(evaluateIdentityPolicies([grants, deny], { action: 's3:PutObject', resource: `${BUCKET}/runs/r1/x` }).decision).toBe('Allow');
  });

  it('should read NotAction and NotResource as everything but the listed ones', () => {
    const p = policy('Not', [
      { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:*', NotResource: [`${BUCKET}/runs/*`] },
    ]);
    expect(evaluateIdentityPolicies([p], { action: 'iam:PassRole', resource: '*' }).decision).toBe('ImplicitDeny');
    expect(evaluateIdentityPolicies([p], { action: 's3:GetObject', resource: `${BUCKET}/runs/r/x` }).decision).toBe('Allow');
    expect(evaluateIdentityPolicies([p], { action: 's3:GetObject', resource: `${BUCKET}/workflows/x` }).decision).toBe('ExplicitDeny');
  });

  it('should apply a statement only when its condition holds', () => {
    const pass = policy('Pass', [
      { Effect: 'Allow', Action: 'iam:PassRole', Resource: `arn:aws:iam::${ACCOUNT}:role/Sm`, Condition: { StringEquals: { 'iam:PassedToService': 'states.amazonaws.com' } } },
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:*`,
        Condition: { StringEquals: { 'aws:ResourceTag/agentplane:agent': 'true' } },
      },
    ]);
    const role = `arn:aws:iam::${ACCOUNT}:role/Sm`;
    expect(evaluateIdentityPolicies([pass], { action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': 'states.amazonaws.com' } }).decision).toBe('Allow');
    expect(evaluateIdentityPolicies([pass], { action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } }).decision).toBe(
      'ImplicitDeny',
    );
    const agent = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:cobol-analysis`;
    expect(evaluateIdentityPolicies([pass], { action: 'lambda:InvokeFunction', resource: agent, context: { 'aws:ResourceTag/agentplane:agent': 'true' } }).decision).toBe(
      'Allow',
    );
    expect(evaluateIdentityPolicies([pass], { action: 'lambda:InvokeFunction', resource: agent }).decision).toBe('ImplicitDeny');
  });

  it('should deny whenever a matching Deny exists, whatever the Allows', () => {
    const action = fc.constantFrom('s3:GetObject', 's3:PutObject', 'dynamodb:PutItem', 'lambda:InvokeFunction');
    const pattern = fc.constantFrom('*', 's3:*', 'dynamodb:*', 's3:Get*', 'lambda:Invoke*', 'sqs:SendMessage');
    const resource = fc.constantFrom(RUNS, `${BUCKET}/runs/a`, `${BUCKET}/x`, `arn:aws:lambda:us-east-1:${ACCOUNT}:function:f`);
    const allow = fc.record({ Effect: fc.constant('Allow'), Action: fc.array(pattern, { minLength: 1 }), Resource: fc.constantFrom('*', RUNS, `${BUCKET}/*`) });
    fc.assert(
      fc.property(fc.array(allow, { maxLength: 5 }), action, resource, fc.nat(5), (allows, act, res, at) => {
        const statements: unknown[] = [...allows];
        statements.splice(Math.min(at, statements.length), 0, { Effect: 'Deny', Action: act, Resource: res });
        expect(evaluateIdentityPolicies([policy('P', statements)], { action: act, resource: res }).decision).toBe('ExplicitDeny');
      }),
    );
  });

  it('should allow exactly when some Allow applies and no Deny does', () => {
    const pattern = fc.constantFrom('*', 's3:*', 's3:Get*', 'dynamodb:*', 'dynamodb:Query');
    const statement = fc.record({ Effect: fc.constantFrom('Allow', 'Deny'), Action: pattern, Resource: fc.constantFrom('*', RUNS, `${BUCKET}/runs/*`) });
    const request = fc.record({ action: fc.constantFrom('s3:GetObject', 'dynamodb:Query', 'sqs:SendMessage'), resource: fc.constantFrom(RUNS, `${BUCKET}/runs/r/x`) });
    fc.assert(
      fc.property(fc.array(statement, { maxLength: 6 }), request, (statements, req) => {
        const decision = evaluateIdentityPolicies([policy('P', statements)], req).decision;
        const applies = statements.map((s) => evaluateIdentityPolicies([policy('One', [{ ...s, Effect: 'Allow' }])], req).decision === 'Allow');
        const denied = statements.some((s, i) => s.Effect === 'Deny' && applies[i]);
        const allowed = statements.some((s, i) => s.Effect === 'Allow' && applies[i]);
        expect(decision).toBe(denied ? 'ExplicitDeny' : allowed ? 'Allow' : 'ImplicitDeny');
      }),
    );
  });
});

describe('Function: evaluateResourcePolicy', () => {
  // The shape of the workspace bucket policy CDK writes for enforceSSL, plus the access-log delivery grant.
  const bucketPolicy = policy('BucketPolicy', [
    { Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: [BUCKET, `${BUCKET}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    {
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: `${BUCKET}/logs/*`,
      Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::source' }, StringEquals: { 'aws:SourceAccount': ACCOUNT } },
    },
  ]);
  const role = { arn: `arn:aws:iam::${ACCOUNT}:role/RunsApi`, accountId: ACCOUNT };

  it('should deny any principal over plain HTTP and say nothing over TLS', () => {
    const put = { action: 's3:PutObject', resource: `${BUCKET}/runs/x` };
    expect(evaluateResourcePolicy(bucketPolicy, role, { ...put, context: { 'aws:SecureTransport': false } }).decision).toBe('ExplicitDeny');
    expect(evaluateResourcePolicy(bucketPolicy, role, { ...put, context: { 'aws:SecureTransport': true } }).decision).toBe('ImplicitDeny');
  });

  it('should apply a statement only to the principals it names', () => {
    const delivery = { action: 's3:PutObject', resource: `${BUCKET}/logs/a`, context: { 'aws:SecureTransport': true, 'aws:SourceArn': 'arn:aws:s3:::source', 'aws:SourceAccount': ACCOUNT } };
    expect(evaluateResourcePolicy(bucketPolicy, { service: 'logging.s3.amazonaws.com' }, delivery).decision).toBe('Allow');
    expect(evaluateResourcePolicy(bucketPolicy, { service: 'events.amazonaws.com' }, delivery).decision).toBe('ImplicitDeny');
    expect(evaluateResourcePolicy(bucketPolicy, role, delivery).decision).toBe('ImplicitDeny');
    const byAccount = policy('Acct', [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 's3:GetObject', Resource: `${BUCKET}/*` }]);
    expect(evaluateResourcePolicy(byAccount, role, { action: 's3:GetObject', resource: `${BUCKET}/k` }).decision).toBe('Allow');
    expect(evaluateResourcePolicy(byAccount, { arn: 'arn:aws:iam::444455556666:role/X', accountId: '444455556666' }, { action: 's3:GetObject', resource: `${BUCKET}/k` }).decision).toBe(
      'ImplicitDeny',
    );
  });
});

describe('Function: combineDecisions', () => {
  const deny = { decision: 'ExplicitDeny', statement: { policy: 'B', index: 0 } } as const;
  const allow = { decision: 'Allow', statement: { policy: 'I', index: 2 } } as const;
  const implicit = { decision: 'ImplicitDeny' } as const;

  it('should let an explicit Deny of either policy win, then an Allow of either', () => {
    expect(combineDecisions(allow, deny)).toBe(deny);
    expect(combineDecisions(deny, allow)).toBe(deny);
    expect(combineDecisions(implicit, allow)).toBe(allow);
    expect(combineDecisions(allow, implicit)).toBe(allow);
    expect(combineDecisions(implicit, implicit)).toEqual(implicit);
    expect(combineDecisions()).toEqual(implicit);
  });
});

describe('Function: checkPolicy', () => {
  it('should name the policy and statement of a condition it cannot evaluate', () => {
    const p = policy('Ip', [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }]);
    expect(() => {
      checkPolicy(p.name, p.document);
    }).toThrow(/Ip Statement\[1\]: Condition operator NotIpAddress is not supported/);
  });
});
