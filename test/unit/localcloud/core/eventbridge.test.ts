import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../../../localstack/cloud/eventbridge';

const event = {
  source: 'aws.states',
  'detail-type': 'Step Functions Execution Status Change',
  detail: { status: 'FAILED', stateMachineArn: 'arn:aws:states:us-east-1:0:stateMachine:agentplane-x', attempts: 3 },
};

describe('Function: matchesPattern', () => {
  it('should match exact values, prefixes and nested fields', () => {
    expect(
      matchesPattern(
        { source: ['aws.states'], detail: { status: ['SUCCEEDED', 'FAILED'], stateMachineArn: [{ prefix: 'arn:aws:states:us-east-1:0:stateMachine:agentplane-' }] } },
        event,
      ),
    ).toBe(true);
  });

  it('should not match other values or prefixes', () => {
    expect(matchesPattern({ detail: { status: ['SUCCEEDED'] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { stateMachineArn: [{ prefix: 'arn:aws:states:us-east-1:0:stateMachine:other-' }] } }, event)).toBe(false);
  });

  it('should support anything-but, exists and numeric', () => {
    expect(matchesPattern({ detail: { status: [{ 'anything-but': ['RUNNING'] }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { error: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { attempts: [{ numeric: ['>', 2, '<=', 3] }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { attempts: [{ numeric: ['>', 3] }] } }, event)).toBe(false);
  });
});
