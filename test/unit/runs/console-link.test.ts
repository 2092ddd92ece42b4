import { describe, expect, it } from 'vitest';
import { executionConsoleUrl } from '../../../lambdas/core/runs/console-link';
import { publicView } from '../../../lambdas/runs-api/routes';
import type { RunRecord } from '../../../lambdas/core/runs/model';

const executionArn = 'arn:aws:states:eu-west-1:123456789012:execution:agentplane-acme-wf-1a2b3c4d:r-01J';

describe('Function: executionConsoleUrl', () => {
  it('should link to the execution in the Step Functions console of its own region', () => {
    expect(executionConsoleUrl(executionArn)).toBe(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${encodeURIComponent(executionArn)}`,
    );
  });

  it('should use the partition\'s console domain', () => {
    expect(executionConsoleUrl('arn:aws-cn:states:cn-north-1:1:execution:m:r')).toMatch(/^https:\/\/cn-north-1\.console\.amazonaws\.cn\//);
    expect(executionConsoleUrl('arn:aws-us-gov:states:us-gov-west-1:1:execution:m:r')).toMatch(/^https:\/\/us-gov-west-1\.console\.amazonaws-us-gov\.com\//);
  });

  it('should give nothing for what is not an execution ARN', () => {
    for (const bad of ['', 'r-01J', 'arn:aws:states:eu-west-1:1:stateMachine:m', 'arn:other:states:eu-west-1:1:execution:m:r', 'arn:aws:lambda:eu-west-1:1:execution:m:r']) {
      expect(executionConsoleUrl(bad), bad).toBeUndefined();
    }
  });
});

describe('Function: publicView (links.console)', () => {
  const run = {
    runId: 'r-01J',
    tenant: 'acme',
    workflowId: 'wf',
    workflowVersion: 1,
    status: 'RUNNING',
    priority: 0,
    parameters: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    steps: {},
    limits: { maxConcurrency: 0 },
    inputCount: 0,
    expiresAt: 2_000_000_000,
    executionArn,
  } as unknown as RunRecord;

  it('should give the console link when deployed and the run has an execution', () => {
    expect((publicView(run, Date.now(), undefined, { consoleLinks: true }).links as Record<string, string>).console).toBe(executionConsoleUrl(executionArn));
  });

  it('should give none in the local cloud, nor for a run not started yet', () => {
    expect(publicView(run, Date.now()).links).not.toHaveProperty('console');
    const queued = { ...run, executionArn: undefined } as RunRecord;
    expect(publicView(queued, Date.now(), undefined, { consoleLinks: true }).links).not.toHaveProperty('console');
  });
});
