/**
 * LocalEventBridge's delivery as AWS documents it: the target function's resource policy checked before each
 * invocation, failed invocations (refused, missing target, retries or event age exhausted) sent to the target's
 * dead-letter queue with EventBridge's attributes, and PutEvents' entry and size limits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EventBridgeValidationError,
  LocalEventBridge,
  PUT_EVENTS_MAX_BYTES,
  putEventsEntrySize,
  type DeadLetterSender,
} from '../../../../localstack/cloud/eventbridge';
import { IamAuthority } from '../../../../localstack/cloud/iam/authority';
import { LocalSqs, type SendMessageOptions } from '../../../../localstack/cloud/sqs';
import { resolveTemplate, type RawTemplate } from '../../../../localstack/cloud/template';
import { ResourceNotFoundError, type AsyncLambdaInvoker, type ResolvedResource } from '../../../../localstack/cloud/types';
import { recordingLogger } from '../lambda/helpers';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:finalizer';
const DLQ_ARN = 'arn:aws:sqs:us-east-1:000000000000:events-dlq';
const statusChange = { source: 'aws.states', 'detail-type': 'Step Functions Execution Status Change', detail: { status: 'FAILED' } };

/** Lambda's async Invoke as EventBridge sees it: accepted or refused. */
class FakeAsyncLambda implements AsyncLambdaInvoker {
  readonly accepted: Array<{ functionRef: string; event: unknown }> = [];
  attempts = 0;
  constructor(private readonly refuse: (attempt: number) => Error | undefined = () => undefined) {}

  invokeAsync(functionRef: string, event: unknown): { requestId: string } {
    this.attempts++;
    const error = this.refuse(this.attempts);
    if (error) throw error;
    this.accepted.push({ functionRef, event });
    return { requestId: `r-${String(this.attempts)}` };
  }
}

class RecordingDeadLetters implements DeadLetterSender {
  readonly sent: Array<{ queueArn: string; event: unknown; attributes: Record<string, string | undefined> }> = [];
  sendMessage(queueArn: string, body: string, options: SendMessageOptions = {}): Promise<unknown> {
    const attributes = Object.fromEntries(Object.entries(options.messageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]));
    this.sent.push({ queueArn, event: JSON.parse(body), attributes });
    return Promise.resolve({});
  }
}

function rule(name: string, target: Record<string, unknown> = {}) {
  return {
    Type: 'AWS::Events::Rule',
    Properties: {
      Name: name,
      State: 'ENABLED',
      EventPattern: { source: ['aws.states'] },
      Targets: [{ Id: 'Target0', Arn: { 'Fn::GetAtt': ['Finalizer', 'Arn'] }, DeadLetterConfig: { Arn: DLQ_ARN }, ...target }],
    },
  };
}

/** A function EventBridge may invoke from the rule `permitted` only, as CDK's LambdaFunction target grants it. */
const resources: RawTemplate['Resources'] = {
  Finalizer: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'finalizer' } },
  Permitted: rule('permitted'),
  Unpermitted: rule('unpermitted'),
  UnpermittedNoDlq: { ...rule('unpermitted-no-dlq'), Properties: { ...rule('x').Properties, Name: 'unpermitted-no-dlq', Targets: [{ Id: 'T', Arn: FUNCTION_ARN }] } },
  Permission: {
    Type: 'AWS::Lambda::Permission',
    Properties: {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': ['Finalizer', 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': ['Permitted', 'Arn'] },
    },
  },
};
const template = resolveTemplate({ directory: '/tmp', stackName: 'S', template: { Resources: resources }, assetDirs: new Map() });
const resource = (logicalId: string): ResolvedResource => {
  const found = template.resources.get(logicalId);
  if (!found) throw new Error(`no ${logicalId}`);
  return found;
};

/** A rule resource built by hand, for retry policies. */
function handRule(target: Record<string, unknown>): ResolvedResource {
  return {
    logicalId: 'StatusRule',
    type: 'AWS::Events::Rule',
    properties: { EventPattern: { source: ['aws.states'] }, Targets: [{ Id: 'Target0', Arn: FUNCTION_ARN, DeadLetterConfig: { Arn: DLQ_ARN }, ...target }] },
    physicalId: 'status-rule',
    attributes: { Arn: 'arn:aws:events:us-east-1:000000000000:rule/status-rule' },
  };
}

describe('Class: LocalEventBridge', () => {
  let bus: LocalEventBridge | undefined;
  afterEach(() => bus?.stop());

  function start(lambda: AsyncLambdaInvoker, extra: { iam?: IamAuthority; now?: () => number } = {}) {
    const logger = recordingLogger();
    const deadLetters = new RecordingDeadLetters();
    bus = new LocalEventBridge({ region: 'us-east-1', accountId: '000000000000', lambda, logger, deliveryRetryBaseMs: 1, deadLetters, ...extra });
    return { bus, logger, deadLetters };
  }

  describe('IAM: the target function’s resource policy', () => {
    it('should invoke a function whose Lambda::Permission names the rule', async () => {
      const lambda = new FakeAsyncLambda();
      const { bus, deadLetters } = start(lambda, { iam: new IamAuthority(template, { enforce: true }) });
      bus.addRule(resource('Permitted'));

      bus.put(statusChange);
      await bus.idle();

      expect(lambda.accepted.map((a) => a.functionRef)).toEqual([FUNCTION_ARN]);
      expect(deadLetters.sent).toEqual([]);
    });

    it('should not invoke it for a rule no permission names: a failed invocation, sent to the target’s DLQ at once', async () => {
      const lambda = new FakeAsyncLambda();
      const { bus, logger, deadLetters } = start(lambda, { iam: new IamAuthority(template, { enforce: true }) });
      bus.addRule(resource('Unpermitted'));

      bus.put(statusChange);
      await bus.idle();

      expect(lambda.attempts).toBe(0);
      expect(bus.failedInvocations).toBe(1);
      const warning = logger.lines.find((l) => l.level === 'warn');
      expect(warning?.extra?.error).toBe(
        `The resource policy of ${FUNCTION_ARN} does not allow events.amazonaws.com (source arn:aws:events:us-east-1:000000000000:rule/unpermitted) to perform lambda:InvokeFunction`,
      );
      expect(deadLetters.sent).toEqual([
        {
          queueArn: DLQ_ARN,
          event: expect.objectContaining({ source: 'aws.states', 'detail-type': 'Step Functions Execution Status Change' }) as unknown,
          attributes: {
            RULE_ARN: 'arn:aws:events:us-east-1:000000000000:rule/unpermitted',
            TARGET_ARN: FUNCTION_ARN,
            ERROR_CODE: 'NO_PERMISSIONS',
            ERROR_MESSAGE: warning?.extra?.error,
          },
        },
      ]);
    });

    it('should drop a refused event when the target has no DLQ', async () => {
      const lambda = new FakeAsyncLambda();
      const { bus, logger, deadLetters } = start(lambda, { iam: new IamAuthority(template, { enforce: true }) });
      bus.addRule(resource('UnpermittedNoDlq'));

      bus.put(statusChange);
      await bus.idle();

      expect(lambda.attempts).toBe(0);
      expect(deadLetters.sent).toEqual([]);
      expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
        'event target refused: the function\'s resource policy does not allow this rule',
      ]);
    });

    it('should invoke without a matching permission when enforcement is off', async () => {
      const lambda = new FakeAsyncLambda();
      const { bus } = start(lambda, { iam: new IamAuthority(template, { enforce: false }) });
      bus.addRule(resource('Unpermitted'));

      bus.put(statusChange);
      await bus.idle();

      expect(lambda.attempts).toBe(1);
    });

    it('should send the record to the local SQS as a dead-letter queue', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'eventbridge-dlq-'));
      try {
        const sqs = new LocalSqs({ region: 'us-east-1', accountId: '000000000000', dataDir });
        sqs.createQueue('events-dlq');
        bus = new LocalEventBridge({
          region: 'us-east-1',
          accountId: '000000000000',
          lambda: new FakeAsyncLambda(),
          logger: recordingLogger(),
          iam: new IamAuthority(template, { enforce: true }),
          deadLetters: sqs,
        });
        bus.addRule(resource('Unpermitted'));

        bus.put(statusChange);
        await bus.idle();

        expect(sqs.depth(DLQ_ARN).visible).toBe(1);
        await sqs.stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('Retry policy and dead-letter queue', () => {
    it('should send an event whose hand-over kept failing to the DLQ once MaximumRetryAttempts are used', async () => {
      const lambda = new FakeAsyncLambda(() => Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
      const { bus, deadLetters } = start(lambda);
      bus.addRule(handRule({ RetryPolicy: { MaximumRetryAttempts: 2 } }));

      bus.put(statusChange);
      await bus.idle();

      expect(lambda.attempts).toBe(3);
      expect(deadLetters.sent.map((s) => s.attributes)).toEqual([
        {
          RULE_ARN: 'arn:aws:events:us-east-1:000000000000:rule/status-rule',
          TARGET_ARN: FUNCTION_ARN,
          ERROR_CODE: 'THROTTLING',
          ERROR_MESSAGE: 'Rate exceeded',
          EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
          RETRY_ATTEMPTS: '2',
        },
      ]);
    });

    it('should stop retrying once the event is older than MaximumEventAgeInSeconds', async () => {
      let clock = 1_000_000;
      const lambda = new FakeAsyncLambda(() => {
        clock += 61_000;
        return new Error('ServiceException');
      });
      const { bus, deadLetters } = start(lambda, { now: () => clock });
      bus.addRule(handRule({ RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 60 } }));

      bus.put(statusChange);
      await bus.idle();

      expect(lambda.attempts).toBe(1);
      expect(deadLetters.sent[0].attributes).toMatchObject({ ERROR_CODE: 'SDK_CLIENT_ERROR', EXHAUSTED_RETRY_CONDITION: 'MaximumEventAgeInSeconds', RETRY_ATTEMPTS: '0' });
    });

    it('should send an event for a missing function to the DLQ without retrying', async () => {
      const lambda = new FakeAsyncLambda(() => new ResourceNotFoundError('Function not found: finalizer'));
      const { bus, deadLetters } = start(lambda);
      bus.addRule(handRule({ RetryPolicy: { MaximumRetryAttempts: 5 } }));

      bus.put(statusChange);
      await bus.idle();

      expect(lambda.attempts).toBe(1);
      expect(deadLetters.sent[0].attributes).toMatchObject({ ERROR_CODE: 'NO_RESOURCE', ERROR_MESSAGE: 'Function not found: finalizer' });
    });

    it('should refuse a retry policy outside AWS’s ranges, and a DLQ that is not a queue', () => {
      const { bus } = start(new FakeAsyncLambda());
      expect(() => { bus.addRule(handRule({ RetryPolicy: { MaximumRetryAttempts: 186 } })); }).toThrow(/StatusRule: RetryPolicy.MaximumRetryAttempts must be an integer from 0 to 185/);
      expect(() => { bus.addRule(handRule({ RetryPolicy: { MaximumEventAgeInSeconds: 59 } })); }).toThrow(/MaximumEventAgeInSeconds must be an integer from 60 to 86400/);
      expect(() => { bus.addRule(handRule({ DeadLetterConfig: { Arn: FUNCTION_ARN } })); }).toThrow(/DeadLetterConfig must name an SQS queue/);
    });
  });

  describe('Method: putEvents', () => {
    const entry = { Source: 'agentplane.test', DetailType: 'Thing Happened', Detail: '{"a":1}' };

    it('should compute an entry’s size as EventBridge documents it', () => {
      expect(putEventsEntrySize(entry)).toBe(15 + 14 + 7);
      expect(putEventsEntrySize({ ...entry, Time: new Date(), Resources: ['arn:x', 'é'] })).toBe(36 + 14 + 5 + 2);
    });

    it('should put valid entries to matching rules and report each invalid one', async () => {
      const lambda = new FakeAsyncLambda();
      const { bus } = start(lambda);
      bus.addRule({ ...handRule({}), properties: { EventPattern: { source: ['agentplane.test'] }, Targets: [{ Id: 'T', Arn: FUNCTION_ARN }] } });

      const result = bus.putEvents([entry, { ...entry, Detail: '[1]' }, { ...entry, Source: undefined }, { ...entry, Time: new Date('2025-01-02T03:04:05.678Z') }]);
      await bus.idle();

      expect(result.FailedEntryCount).toBe(2);
      expect(result.Entries[1]).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
      expect(result.Entries[2]).toEqual({ ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' });
      expect(lambda.accepted.map((a) => a.event)).toEqual([
        expect.objectContaining({ source: 'agentplane.test', 'detail-type': 'Thing Happened', detail: { a: 1 } }),
        expect.objectContaining({ time: '2025-01-02T03:04:05Z' }),
      ]);
      expect(lambda.accepted.map((a) => (a.event as { id: string }).id)).toEqual([
        (result.Entries[0] as { EventId: string }).EventId,
        (result.Entries[3] as { EventId: string }).EventId,
      ]);
    });

    it('should refuse more than 10 entries, none, or more than 256 KB in all', () => {
      const { bus } = start(new FakeAsyncLambda());
      expect(() => bus.putEvents(Array.from({ length: 11 }, () => entry))).toThrow(EventBridgeValidationError);
      expect(() => bus.putEvents([])).toThrow(/Member must have length less than or equal to 10/);

      const overhead = putEventsEntrySize({ ...entry, Detail: '{"p":""}' });
      const detail = (n: number) => `{"p":"${'x'.repeat(n)}"}`;
      expect(bus.putEvents([{ ...entry, Detail: detail(PUT_EVENTS_MAX_BYTES - overhead) }]).FailedEntryCount).toBe(0);
      expect(() => bus.putEvents([{ ...entry, Detail: detail(PUT_EVENTS_MAX_BYTES - overhead + 1) }])).toThrow('Total size of the entries in the request is over the limit.');
      const half = detail(PUT_EVENTS_MAX_BYTES / 2 - overhead + 1);
      expect(() => bus.putEvents([{ ...entry, Detail: half }, { ...entry, Detail: half }])).toThrow(/over the limit/);
    });
  });
});
