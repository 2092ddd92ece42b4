import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actionMatches, arnMatches, globMatches } from '../../../../localstack/cloud/iam/match';

describe('Function: actionMatches', () => {
  it('should match wildcards and ignore case, as IAM compares actions', () => {
    expect(actionMatches('dynamodb:Get*', 'dynamodb:GetItem')).toBe(true);
    expect(actionMatches('DynamoDB:getitem', 'dynamodb:GetItem')).toBe(true);
    expect(actionMatches('s3:*Object', 's3:DeleteObject')).toBe(true);
    expect(actionMatches('s3:?etObject', 's3:GetObject')).toBe(true);
    expect(actionMatches('*', 'anything:AtAll')).toBe(true);
    expect(actionMatches('dynamodb:Get*', 'dynamodb:BatchGetItem')).toBe(false);
    expect(actionMatches('s3:GetObject', 's3:GetObjectTagging')).toBe(false);
  });

  it('should treat regular expression characters literally', () => {
    expect(actionMatches('a.b:c', 'axb:c')).toBe(false);
    expect(globMatches('runs/(x)+', 'runs/(x)+')).toBe(true);
  });
});

describe('Function: arnMatches', () => {
  const table = 'arn:aws:dynamodb:us-east-1:111122223333:table/Runs';

  it('should match each ARN part on its own, case-sensitively', () => {
    expect(arnMatches('arn:aws:dynamodb:*:111122223333:table/Runs', table)).toBe(true);
    expect(arnMatches('arn:aws:dynamodb:us-east-1:111122223333:table/runs', table)).toBe(false);
    expect(arnMatches('arn:aws:dynamodb:us-east-1:111122223333:table/Runs', `${table}/index/byStatus`)).toBe(false);
    expect(arnMatches('arn:aws:dynamodb:us-east-1:111122223333:table/Runs/index/*', `${table}/index/byStatus`)).toBe(true);
    // A wildcard in the region part cannot swallow the account.
    expect(arnMatches('arn:aws:dynamodb:*:table/Runs', table)).toBe(false);
  });

  it('should let a * that ends a part of the resource run on across colons, and not one inside a part', () => {
    const qualified = 'arn:aws:lambda:us-east-1:111122223333:function:agent:live';
    expect(arnMatches('arn:aws:lambda:us-east-1:111122223333:function:*', qualified)).toBe(true);
    expect(arnMatches('arn:aws:lambda:us-east-1:111122223333:function:a*t', qualified)).toBe(false);
    expect(arnMatches('arn:aws:lambda:us-east-1:111122223333:function:a*t:*', qualified)).toBe(true);
    expect(arnMatches('arn:aws:s3:::bucket/runs/*', 'arn:aws:s3:::bucket/runs/r1/a:b/c')).toBe(true);
    expect(arnMatches('arn:aws:s3:::bucket/runs/*', 'arn:aws:s3:::bucket/workflows/w')).toBe(false);
  });

  it('should match the API Gateway source ARNs CDK writes', () => {
    const base = 'arn:aws:execute-api:us-east-1:111122223333:abc123';
    expect(arnMatches(`${base}/v1/GET/runs/*`, `${base}/v1/GET/runs/r-1`)).toBe(true);
    expect(arnMatches(`${base}/v1/GET/runs/*`, `${base}/v1/POST/runs/r-1`)).toBe(false);
    expect(arnMatches(`${base}/*$connect`, `${base}/prod/$connect`)).toBe(true);
    expect(arnMatches('*', 'not even an arn')).toBe(true);
  });

  it('should match every ARN against itself and against its resource with a trailing *', () => {
    const part = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
    fc.assert(
      fc.property(part, part, fc.stringMatching(/^[A-Za-z0-9/:._-]{1,30}$/), (service, region, resource) => {
        const arn = `arn:aws:${service}:${region}:111122223333:${resource}`;
        expect(arnMatches(arn, arn)).toBe(true);
        expect(arnMatches(`arn:aws:${service}:${region}:111122223333:*`, arn)).toBe(true);
      }),
    );
  });
});
