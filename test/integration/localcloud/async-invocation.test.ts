/**
 * The finalizer's asynchronous invocation configuration (lib/engine.ts: two retries, an SQS on-failure
 * destination) honoured by the local cloud started from the synthesized stack: an Event invocation that makes
 * the function throw is tried three times, then AWS's invocation record lands in the on-failure queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageCommand, GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { target, type Target } from '../../support/target';
import { readAssembly, resolveTemplate, resourcesOfType } from '../../../localstack/cloud/template';
import { functionNameOf, type ResolvedTemplate } from '../../../localstack/cloud/types';
import type { InvocationRecord } from '../../../localstack/cloud/lambda/invocation-record';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The template properties read here, of an EventBridge rule and of a Lambda EventInvokeConfig. */
type RuleProperties = { EventPattern?: { source?: string[] }; Targets: Array<{ Arn: unknown }> };
type InvokeConfigProperties = { DestinationConfig?: { OnFailure?: { Destination?: string } } };

/** The function the execution-status rule targets, and the on-failure queue of its EventInvokeConfig. */
function finalizerWiring(template: ResolvedTemplate): { functionName: string; functionArn: string; retries: number; queueName: string } {
  const rule = resourcesOfType(template, 'AWS::Events::Rule').find((r) => ((r.properties as RuleProperties).EventPattern?.source ?? []).includes('aws.states'));
  if (!rule) throw new Error('no rule on Step Functions status changes in the template');
  const functionArn = String((rule.properties as RuleProperties).Targets[0].Arn);
  const functionName = functionNameOf(functionArn);
  const config = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').find((c) => functionNameOf(String(c.properties.FunctionName)) === functionName);
  if (!config) throw new Error(`no EventInvokeConfig for ${functionName} in the template (lib/engine.ts)`);
  const destination = (config.properties as InvokeConfigProperties).DestinationConfig?.OnFailure?.Destination ?? '';
  return { functionName, functionArn, retries: Number(config.properties.MaximumRetryAttempts ?? 2), queueName: destination.split(':')[5] };
}

describe('Local cloud: asynchronous invocations of the finalizer', () => {
  let t: Target;
  let lambda: LambdaClient;
  let sqs: SQSClient;
  let wiring: ReturnType<typeof finalizerWiring>;
  let queueUrl: string;

  beforeAll(async () => {
    t = target();
    wiring = finalizerWiring(resolveTemplate(readAssembly(t.assemblyDir!, 'Agentplane'), { region: t.region }));
    lambda = new LambdaClient({ endpoint: t.endpoints!.lambda, region: t.region, credentials });
    sqs = new SQSClient({ endpoint: t.endpoints!.sqs, region: t.region, credentials });
    queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: wiring.queueName }))).QueueUrl!;
  });
  afterAll(() => {
    // Unset when beforeAll failed before creating them.
    (lambda as LambdaClient | undefined)?.destroy();
    (sqs as SQSClient | undefined)?.destroy();
  });

  /** Polls the queue until the record of `requestId` arrives (other records stay visible), then deletes it. */
  async function recordOf(requestId: string, timeoutMs = 30_000): Promise<InvocationRecord> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 0 }));
      for (const message of Messages) {
        // Any message of the queue: another test's record, or something that is no record at all.
        const record = JSON.parse(message.Body!) as Partial<InvocationRecord>;
        if (record.requestContext?.requestId !== requestId) continue;
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
        return record as InvocationRecord;
      }
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for the invocation record of ${requestId} in ${wiring.queueName}`);
  }

  it('should retry a throwing finalizer twice, then send the RetriesExhausted record to its on-failure queue', async () => {
    expect(wiring.retries).toBe(2);
    // No `detail`: the handler's destructuring of event.detail throws a TypeError, a real function error.
    const event = { 'detail-type': 'Step Functions Execution Status Change', source: 'aws.states', marker: `async-failure-${Date.now()}` };

    const accepted = await lambda.send(new InvokeCommand({ FunctionName: wiring.functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }));
    expect(accepted.StatusCode).toBe(202);
    const record = await recordOf(accepted.$metadata.requestId!);

    expect(record).toMatchObject({
      version: '1.0',
      requestContext: { requestId: accepted.$metadata.requestId, functionArn: `${wiring.functionArn}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'TypeError' },
    });
    expect(Date.parse(record.timestamp)).not.toBeNaN();
  });
});
