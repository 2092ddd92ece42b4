import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCondition, conditionHolds, UnsupportedConditionError } from '../../../../localstack/cloud/iam/conditions';

describe('Function: conditionHolds', () => {
  describe('String operators', () => {
    it('should OR the values of one key and honour case as each operator says', () => {
      const cond = { StringEquals: { 'aws:PrincipalTag/job-category': ['iamuser-admin', 'auditor'] } };
      expect(conditionHolds(cond, { 'aws:PrincipalTag/job-category': 'auditor' })).toBe(true);
      expect(conditionHolds(cond, { 'aws:PrincipalTag/job-category': 'Auditor' })).toBe(false);
      expect(conditionHolds({ StringEqualsIgnoreCase: { k: ['Auditor'] } }, { k: 'aUDITOR' })).toBe(true);
      expect(conditionHolds({ StringLike: { 's3:prefix': ['runs/*', 'home/?/x'] } }, { 's3:prefix': 'home/a/x' })).toBe(true);
      expect(conditionHolds({ StringLike: { 's3:prefix': ['runs/*'] } }, { 's3:prefix': 'workflows/' })).toBe(false);
    });

    it('should AND the values of a negated operator: the key must match none of them', () => {
      const cond = { StringNotEquals: { 'aws:PrincipalTag/role': ['audit', 'security'] } };
      expect(conditionHolds(cond, { 'aws:PrincipalTag/role': 'audit' })).toBe(false);
      expect(conditionHolds(cond, { 'aws:PrincipalTag/role': 'security' })).toBe(false);
      expect(conditionHolds(cond, { 'aws:PrincipalTag/role': 'dev' })).toBe(true);
      expect(conditionHolds({ StringNotLike: { k: ['a*', 'b*'] } }, { k: 'bee' })).toBe(false);
      expect(conditionHolds({ StringNotEqualsIgnoreCase: { k: ['ABC'] } }, { k: 'abc' })).toBe(false);
    });

    it('should find context keys whatever their case, as IAM does', () => {
      expect(conditionHolds({ StringEquals: { 'AWS:SourceAccount': ['111122223333'] } }, { 'aws:sourceaccount': '111122223333' })).toBe(true);
    });
  });

  describe('a key missing from the request', () => {
    it('should make a positive operator false and a negated one true', () => {
      expect(conditionHolds({ StringEquals: { 'aws:SourceAccount': ['1'] } }, {})).toBe(false);
      expect(conditionHolds({ ArnLike: { 'aws:SourceArn': ['arn:aws:events:*:*:rule/*'] } }, {})).toBe(false);
      expect(conditionHolds({ StringNotLike: { 'aws:SourceArn': ['x*'] } }, {})).toBe(true);
      expect(conditionHolds({ ArnNotEquals: { 'aws:SourceArn': ['arn:aws:sqs:us-east-1:1:q'] } }, {})).toBe(true);
      expect(conditionHolds({ Bool: { 'aws:SecureTransport': ['false'] } }, {})).toBe(false);
    });

    it('should make …IfExists true, and check the key as usual when it is there', () => {
      const cond = { StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } };
      expect(conditionHolds(cond, {})).toBe(true);
      expect(conditionHolds(cond, { 'ec2:InstanceType': 't2.micro' })).toBe(true);
      expect(conditionHolds(cond, { 'ec2:InstanceType': 'p3.8xlarge' })).toBe(false);
    });

    it('should be what Null tests', () => {
      expect(conditionHolds({ Null: { 'aws:TokenIssueTime': ['true'] } }, {})).toBe(true);
      expect(conditionHolds({ Null: { 'aws:TokenIssueTime': ['true'] } }, { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' })).toBe(false);
      expect(conditionHolds({ Null: { 'aws:TokenIssueTime': ['false'] } }, { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' })).toBe(true);
    });
  });

  describe('set operators', () => {
    // IAM's documented table for this Deny condition (multivalued context key examples).
    const cond = { 'ForAllValues:StringNotLike': { 'aws:TagKeys': ['key1*'] } };

    it('should hold ForAllValues when every request value matches, or when the key is missing', () => {
      expect(conditionHolds(cond, { 'aws:TagKeys': ['key1:legal'] })).toBe(false);
      expect(conditionHolds(cond, { 'aws:TagKeys': ['key1:hr', 'key1:personnel'] })).toBe(false);
      expect(conditionHolds(cond, { 'aws:TagKeys': ['key2:audit'] })).toBe(true);
      expect(conditionHolds(cond, {})).toBe(true);
      expect(conditionHolds({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a', 'b'] } }, { 'aws:TagKeys': ['a', 'c'] })).toBe(false);
      expect(conditionHolds({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a', 'b'] } }, { 'aws:TagKeys': ['b', 'a'] })).toBe(true);
    });

    it('should hold ForAnyValue when one request value matches, and not when the key is missing', () => {
      const any = { 'ForAnyValue:StringEquals': { 'dynamodb:LeadingKeys': ['tenant-a', 'tenant-b'] } };
      expect(conditionHolds(any, { 'dynamodb:LeadingKeys': ['tenant-z', 'tenant-b'] })).toBe(true);
      expect(conditionHolds(any, { 'dynamodb:LeadingKeys': ['tenant-z'] })).toBe(false);
      expect(conditionHolds(any, {})).toBe(false);
      expect(conditionHolds({ 'ForAnyValue:StringEqualsIfExists': { k: ['x'] } }, {})).toBe(true);
    });
  });

  describe('other operators', () => {
    it('should compare Bool, numbers, dates and ARNs', () => {
      expect(conditionHolds({ Bool: { 'aws:SecureTransport': ['false'] } }, { 'aws:SecureTransport': false })).toBe(true);
      expect(conditionHolds({ Bool: { 'aws:SecureTransport': ['false'] } }, { 'aws:SecureTransport': true })).toBe(false);
      expect(conditionHolds({ NumericLessThanEquals: { 's3:max-keys': ['10'] } }, { 's3:max-keys': '10' })).toBe(true);
      expect(conditionHolds({ NumericLessThanEquals: { 's3:max-keys': ['10'] } }, { 's3:max-keys': 11 })).toBe(false);
      expect(conditionHolds({ NumericGreaterThan: { n: ['1.5'] } }, { n: 'not a number' })).toBe(false);
      expect(conditionHolds({ NumericNotEquals: { n: ['1', '2'] } }, { n: 3 })).toBe(true);
      expect(conditionHolds({ DateLessThan: { 'aws:CurrentTime': ['2026-06-30T00:00:00Z'] } }, { 'aws:CurrentTime': '2026-01-01T00:00:00Z' })).toBe(true);
      expect(conditionHolds({ DateGreaterThan: { 'aws:EpochTime': ['1700000000'] } }, { 'aws:EpochTime': '1600000000' })).toBe(false);
      const rule = 'arn:aws:events:us-east-1:111122223333:rule/sweep';
      expect(conditionHolds({ ArnLike: { 'aws:SourceArn': ['arn:aws:events:*:111122223333:rule/*'] } }, { 'aws:SourceArn': rule })).toBe(true);
      expect(conditionHolds({ ArnEquals: { 'aws:SourceArn': [rule] } }, { 'aws:SourceArn': rule })).toBe(true);
      expect(conditionHolds({ ArnNotLike: { 'aws:SourceArn': ['arn:aws:events:*:*:rule/s*'] } }, { 'aws:SourceArn': rule })).toBe(false);
    });

    it('should AND every operator and every key of the block', () => {
      const cond = { ArnLike: { 'aws:SourceArn': ['arn:aws:s3:::bucket'] }, StringEquals: { 'aws:SourceAccount': ['111122223333'] } };
      expect(conditionHolds(cond, { 'aws:SourceArn': 'arn:aws:s3:::bucket', 'aws:SourceAccount': '111122223333' })).toBe(true);
      expect(conditionHolds(cond, { 'aws:SourceArn': 'arn:aws:s3:::bucket', 'aws:SourceAccount': '444455556666' })).toBe(false);
      expect(conditionHolds({ StringEquals: { a: ['1'], b: ['2'] } }, { a: '1' })).toBe(false);
      expect(conditionHolds(undefined, {})).toBe(true);
    });

    it('should hold a negated operator exactly when its positive one does not (the key being present)', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 6 }), fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 4 }), (value, values) => {
          for (const [positive, negative] of [['StringEquals', 'StringNotEquals'], ['StringLike', 'StringNotLike'], ['ArnLike', 'ArnNotLike']]) {
            expect(conditionHolds({ [negative]: { k: values } }, { k: value })).toBe(!conditionHolds({ [positive]: { k: values } }, { k: value }));
          }
        }),
      );
    });
  });
});

describe('Function: checkCondition', () => {
  const checking = (condition: Parameters<typeof checkCondition>[0]) => () => {
    checkCondition(condition);
  };

  it('should refuse an operator it cannot evaluate, including names of object properties', () => {
    expect(checking({ IpAddress: { 'aws:SourceIp': ['10.0.0.0/8'] } })).toThrow(UnsupportedConditionError);
    expect(checking({ constructor: { k: ['v'] } })).toThrow(/constructor is not supported/);
    expect(checking({ 'ForAnyValue:Null': { k: ['true'] } })).toThrow(/not valid/);
    expect(checking({ 'ForAllValues:StringLikeIfExists': { k: ['v'] }, NullIfExists: {} })).toThrow(/NullIfExists/);
    expect(checking({ 'ForAllValues:StringLikeIfExists': { k: ['v'] }, ArnNotEqualsIfExists: {} })).not.toThrow();
  });
});
