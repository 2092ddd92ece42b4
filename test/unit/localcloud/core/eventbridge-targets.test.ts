import { afterEach, describe, expect, it } from 'vitest';
import { LocalEventBridge } from '../../../../localstack/cloud/eventbridge';
import { ResourceNotFoundError, type AsyncLambdaInvoker, type ResolvedResource } from '../../../../localstack/cloud/types';
import { FUNCTION_ARN, recordingLogger } from '../lambda/helpers';

/** Lambda's async Invoke as EventBridge sees it: accepted (or refused), never the function's outcome. */
class FakeAsyncLambda implements AsyncLambdaInvoker {
  readonly accepted: Array<{ functionRef: string; event: unknown }> = [];
  attempts = 0;
  constructor(private readonly refuse: (attempt: number) => Error | undefined = () => undefined) {}

  invokeAsync(functionRef: string, event: unknown): { requestId: string } {
    this.attempts++;
    const error = this.refuse(this.attempts);
    if (error) throw error;
    this.accepted.push({ functionRef, event });
    return { requestId: `r-${this.attempts}` };
  }
}

function rule(target: Record<string, unknown>): ResolvedResource {
  return {
    logicalId: 'StatusRule',
    type: 'AWS::Events::Rule',
    properties: { EventPattern: { source: ['aws.states'] }, Targets: [{ Id: 'Target0', Arn: FUNCTION_ARN, ...target }] },
    physicalId: 'status-rule',
    attributes: { Arn: 'arn:aws:events:us-east-1:000000000000:rule/status-rule' },
  };
}

const statusChange = { source: 'aws.states', 'detail-type': 'Step Functions Execution Status Change', detail: { name: 'run-1', status: 'FAILED' } };

describe('Class: LocalEventBridge', () => {
  let bus: LocalEventBridge | undefined;
  afterEach(() => bus?.stop());

  function start(lambda: AsyncLambdaInvoker, target: Record<string, unknown> = {}) {
    const logger = recordingLogger();
    bus = new LocalEventBridge({ region: 'us-east-1', accountId: '000000000000', lambda, logger, deliveryRetryBaseMs: 1 });
    bus.addRule(rule(target));
    return { bus, logger };
  }

  describe('Method: put', () => {
    it('should hand a matching event to Lambda asynchronously, once: function errors are Lambda’s to retry', async () => {
      const lambda = new FakeAsyncLambda();
      const { bus } = start(lambda, { RetryPolicy: { MaximumRetryAttempts: 8 } });

      bus.put(statusChange);
      await bus.idle();
      expect(bus.delivered).toBe(1);

      expect(lambda.accepted).toHaveLength(1);
      expect(lambda.accepted[0]).toMatchObject({ functionRef: FUNCTION_ARN, event: { ...statusChange, version: '0', account: '000000000000', region: 'us-east-1' } });
    });

    it('should deliver the target’s Input instead of the event when it has one', async () => {
      const lambda = new FakeAsyncLambda();
      const { bus } = start(lambda, { Input: '{"fixed":true}' });

      bus.put(statusChange);
      await bus.idle();
      expect(bus.delivered).toBe(1);

      expect(lambda.accepted[0].event).toEqual({ fixed: true });
    });

    it('should retry a failed hand-over within the target’s RetryPolicy, then give up', async () => {
      const lambda = new FakeAsyncLambda(() => new Error('TooManyRequestsException'));
      const { bus, logger } = start(lambda, { RetryPolicy: { MaximumRetryAttempts: 2 } });

      bus.put(statusChange);
      await bus.idle();

      expect(lambda.attempts).toBe(3);
      expect(bus.delivered).toBe(0);
      expect(logger.lines.filter((l) => l.message === 'event delivery failed')).toHaveLength(3);
    });

    it('should succeed on a later hand-over attempt', async () => {
      const lambda = new FakeAsyncLambda((attempt) => (attempt === 1 ? new Error('ServiceException') : undefined));
      const { bus } = start(lambda);

      bus.put(statusChange);
      await bus.idle();
      expect(bus.delivered).toBe(1);

      expect(lambda.attempts).toBe(2);
    });

    it('should not retry a target function that does not exist', async () => {
      const lambda = new FakeAsyncLambda(() => new ResourceNotFoundError('Function not found'));
      const { bus, logger } = start(lambda, { RetryPolicy: { MaximumRetryAttempts: 5 } });

      bus.put(statusChange);
      await bus.idle();

      expect(lambda.attempts).toBe(1);
      expect(logger.lines.some((l) => l.level === 'error' && l.message === 'event target not found, event dropped')).toBe(true);
    });
  });
});
