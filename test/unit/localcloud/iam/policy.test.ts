import { describe, expect, it } from 'vitest';
import { parsePolicyDocument, PolicyParseError } from '../../../../localstack/cloud/iam/policy';

describe('Function: parsePolicyDocument', () => {
  it('should normalise a single statement and string fields to arrays', () => {
    const doc = parsePolicyDocument({
      Version: '2012-10-17',
      Statement: { Sid: 'One', Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: 'arn:aws:dynamodb:us-east-1:111122223333:table/T' },
    });

    expect(doc).toEqual({
      version: '2012-10-17',
      statements: [{ sid: 'One', effect: 'Allow', action: ['dynamodb:GetItem'], resource: ['arn:aws:dynamodb:us-east-1:111122223333:table/T'] }],
    });
  });

  it('should read NotAction, NotResource, Principal and Condition, turning booleans into the text IAM compares', () => {
    const doc = parsePolicyDocument({
      Statement: [
        {
          Effect: 'Deny',
          NotAction: ['iam:*', 'sts:*'],
          NotResource: 'arn:aws:s3:::b/*',
          Principal: { AWS: '*', Service: ['events.amazonaws.com'] },
          Condition: { Bool: { 'aws:SecureTransport': false }, StringEquals: { 'aws:SourceAccount': ['1', '2'] } },
        },
        { Effect: 'Allow', Action: '*', Resource: '*', Principal: '*' },
      ],
    });

    expect(doc.statements[0]).toEqual({
      effect: 'Deny',
      notAction: ['iam:*', 'sts:*'],
      notResource: ['arn:aws:s3:::b/*'],
      principal: { AWS: ['*'], Service: ['events.amazonaws.com'] },
      condition: { Bool: { 'aws:SecureTransport': ['false'] }, StringEquals: { 'aws:SourceAccount': ['1', '2'] } },
    });
    expect(doc.statements[1].principal).toBe('*');
  });

  it('should name the place of a malformed element', () => {
    expect(() => parsePolicyDocument({ Statement: [{ Effect: 'Allow', Action: 'x:Y' }, { Effect: 'Permit', Action: 'x:Y' }] }, 'Pol')).toThrow(
      /Pol\.Statement\[1\]\.Effect: expected Allow or Deny/,
    );
    expect(() => parsePolicyDocument({ Statement: { Effect: 'Allow', Resource: '*' } }, 'Pol')).toThrow(/Pol\.Statement: needs exactly one of Action and NotAction/);
    expect(() => parsePolicyDocument({ Statement: { Effect: 'Allow', Action: ['a:B', { Ref: 'X' }] } }, 'Pol')).toThrow(
      /Pol\.Statement\.Action\[1\]: expected a string, got \{"Ref":"X"\}/,
    );
    expect(() => parsePolicyDocument({ Statement: { Effect: 'Allow', Action: 'a:B', Resource: '*', NotResource: '*' } })).toThrow(PolicyParseError);
    expect(() => parsePolicyDocument({ Version: '2012-10-17' })).toThrow(/has no Statement/);
  });
});
