import { describe, expect, it } from 'vitest';
import { compileFilterCriteria, FilterPatternError } from '../../../../localstack/cloud/streams';

const record = {
  eventName: 'MODIFY',
  eventSource: 'aws:dynamodb',
  dynamodb: {
    Keys: { runId: { S: 'run-123' } },
    NewImage: {
      runId: { S: 'run-123' },
      status: { S: 'RUNNING' },
      seq: { N: '42' },
      tags: { SS: ['a', 'b'] },
      done: { BOOL: false },
    },
    OldImage: { runId: { S: 'run-123' }, status: { S: 'PENDING' } },
  },
};

const matches = (...patterns: object[]) =>
  compileFilterCriteria({ Filters: patterns.map((p) => ({ Pattern: JSON.stringify(p) })) })(record);

describe('Function: compileFilterCriteria', () => {
  it('should let everything through without filters', () => {
    expect(compileFilterCriteria(undefined)(record)).toBe(true);
    expect(compileFilterCriteria({ Filters: [] })(record)).toBe(true);
  });

  it('should match exact values, including values inside DynamoDB attribute maps', () => {
    expect(matches({ eventName: ['MODIFY'] })).toBe(true);
    expect(matches({ eventName: ['INSERT', 'MODIFY'] })).toBe(true);
    expect(matches({ eventName: ['INSERT'] })).toBe(false);
    expect(matches({ dynamodb: { NewImage: { status: { S: ['RUNNING'] } } } })).toBe(true);
    expect(matches({ dynamodb: { NewImage: { done: { BOOL: [false] } } } })).toBe(true);
    expect(matches({ dynamodb: { NewImage: { tags: { SS: ['b'] } } } })).toBe(true);
  });

  it('should AND the fields of one pattern and OR the filters', () => {
    expect(matches({ eventName: ['MODIFY'], dynamodb: { NewImage: { status: { S: ['DONE'] } } } })).toBe(false);
    expect(matches({ eventName: ['INSERT'] }, { dynamodb: { Keys: { runId: { S: ['run-123'] } } } })).toBe(true);
  });

  it('should support prefix, suffix and equals-ignore-case', () => {
    expect(matches({ dynamodb: { Keys: { runId: { S: [{ prefix: 'run-' }] } } } })).toBe(true);
    expect(matches({ dynamodb: { Keys: { runId: { S: [{ prefix: 'job-' }] } } } })).toBe(false);
    expect(matches({ dynamodb: { Keys: { runId: { S: [{ suffix: '123' }] } } } })).toBe(true);
    expect(matches({ dynamodb: { NewImage: { status: { S: [{ 'equals-ignore-case': 'running' }] } } } })).toBe(true);
  });

  it('should support exists true and false, including a missing parent', () => {
    expect(matches({ dynamodb: { OldImage: { status: [{ exists: true }] } } })).toBe(true);
    expect(matches({ dynamodb: { NewImage: { error: [{ exists: true }] } } })).toBe(false);
    expect(matches({ dynamodb: { NewImage: { error: [{ exists: false }] } } })).toBe(true);
    expect(matches({ userIdentity: { type: [{ exists: false }] } })).toBe(true);
  });

  it('should compare numbers, including the numeric strings of N attributes', () => {
    expect(matches({ dynamodb: { NewImage: { seq: { N: [{ numeric: ['>', 40, '<=', 42] }] } } } })).toBe(true);
    expect(matches({ dynamodb: { NewImage: { seq: { N: [{ numeric: ['<', 10] }] } } } })).toBe(false);
    expect(matches({ dynamodb: { NewImage: { seq: { N: [{ numeric: ['=', 42] }] } } } })).toBe(true);
  });

  it('should support anything-but with values, lists and prefixes, never matching a missing field', () => {
    expect(matches({ eventName: [{ 'anything-but': 'REMOVE' }] })).toBe(true);
    expect(matches({ eventName: [{ 'anything-but': ['MODIFY', 'REMOVE'] }] })).toBe(false);
    expect(matches({ dynamodb: { NewImage: { status: { S: [{ 'anything-but': { prefix: 'RUN' } }] } } } })).toBe(false);
    expect(matches({ dynamodb: { NewImage: { missing: { S: [{ 'anything-but': 'x' }] } } } })).toBe(false);
  });

  it('should support $or', () => {
    expect(matches({ $or: [{ eventName: ['INSERT'] }, { dynamodb: { NewImage: { status: { S: ['RUNNING'] } } } }] })).toBe(true);
    expect(matches({ $or: [{ eventName: ['INSERT'] }, { eventName: ['REMOVE'] }] })).toBe(false);
  });

  it('should match null and empty values', () => {
    const withNulls = compileFilterCriteria({ Filters: [{ Pattern: JSON.stringify({ a: [null], b: [''] }) }] });
    expect(withNulls({ a: null, b: '' })).toBe(true);
    expect(withNulls({ b: '' })).toBe(false);
  });

  it('should reject unsupported operators and malformed patterns clearly', () => {
    const compile = (pattern: string) => () => compileFilterCriteria({ Filters: [{ Pattern: pattern }] });
    expect(compile('{"eventName": [{"wildcard": "MOD*"}]}')).toThrow(/"wildcard" operator is not supported/);
    expect(compile('{"eventName": [{"cidr": "10.0.0.0/24"}]}')).toThrow(FilterPatternError);
    expect(compile('{"eventName": [{"regex": "x"}]}')).toThrow(/unknown filter operator "regex"/);
    expect(compile('{"eventName": "INSERT"}')).toThrow(/arrays of matchers/);
    expect(compile('{"eventName": []}')).toThrow(/empty array/);
    expect(compile('not json')).toThrow(/not valid JSON/);
    expect(compile('{"n": [{"numeric": [">", "5"]}]}')).toThrow(/numeric operators/);
  });

  it('should refuse more than five filters', () => {
    const filters = Array.from({ length: 6 }, () => ({ Pattern: '{"eventName": ["INSERT"]}' }));
    expect(() => compileFilterCriteria({ Filters: filters })).toThrow(/at most 5 filters/);
  });
});
