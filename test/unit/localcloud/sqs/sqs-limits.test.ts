/**
 * LocalSqs against the limits and delivery semantics the SQS API reference documents (message and batch sizes,
 * batch rules, parameter ranges, visibility and receive counts, redrive, retention, error shapes), through the
 * real SDK over HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { LocalSqs, messageSize, queueAttributesOf } from '../../../../localstack/cloud/sqs';

const PORT = 19811;
const MIB = 1_048_576;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The error a rejected SDK call threw. */
async function failure(promise: Promise<unknown>): Promise<{ name: string; message: string; $metadata: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as { name: string; message: string; $metadata: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

describe('LocalSqs limits and semantics', () => {
  let dataDir: string;
  let sqs: LocalSqs;
  let client: SQSClient;
  let endpoint: string;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-sqs-limits-'));
    sqs = new LocalSqs({ region: 'us-east-1', accountId: '000000000000', dataDir });
    endpoint = (await sqs.listen(PORT)).url;
    client = new SQSClient({ endpoint, region: 'us-east-1', credentials });
  });

  afterEach(async () => {
    vi.useRealTimers();
    client.destroy();
    await sqs.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const createQueue = async (name: string, attributes: Record<string, string> = {}) =>
    (await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl ?? '';

  describe('Message size', () => {
    it('should default MaximumMessageSize to 1 MiB and refuse a larger value', async () => {
      const queueUrl = await createQueue('sized');
      const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MaximumMessageSize'] }));
      expect(Attributes?.MaximumMessageSize).toBe(String(MIB));

      const error = await failure(createQueue('too-big', { MaximumMessageSize: String(MIB + 1) }));
      expect(error.name).toBe('InvalidAttributeValue');
    });

    it('should count the body and every attribute name, type and value against the limit', async () => {
      const queueUrl = await createQueue('counted');
      const attributes: Record<string, MessageAttributeValue> = {
        k: { DataType: 'String', StringValue: 'v' },
        bin: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
      };
      // k + String + v = 8 bytes; bin + Binary + 3 bytes = 12 bytes.
      expect(messageSize('', { k: { DataType: 'String', StringValue: 'v' }, bin: { DataType: 'Binary', BinaryValue: 'AQID' } })).toBe(20);

      const fits = await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x'.repeat(MIB - 20), MessageAttributes: attributes }));
      const error = await failure(client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x'.repeat(MIB - 19), MessageAttributes: attributes })));

      expect(fits.MessageId).toBeDefined();
      expect(error.name).toBe('InvalidParameterValue');
      expect(error.message).toBe(`One or more parameters are invalid. Reason: Message must be shorter than ${String(MIB)} bytes.`);
      expect(error.$metadata.httpStatusCode).toBe(400);
    });

    it('should count multi-byte characters by their UTF-8 bytes and honour a smaller MaximumMessageSize', async () => {
      const queueUrl = await createQueue('small', { MaximumMessageSize: '1024' });
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'é'.repeat(512) }));
      const error = await failure(client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `${'é'.repeat(512)}x` })));
      expect(error.name).toBe('InvalidParameterValue');
    });

    it('should answer in the JSON protocol shape AWS uses for a framework error', async () => {
      const queueUrl = await createQueue('raw');
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
        body: JSON.stringify({ QueueUrl: queueUrl, MessageBody: 'x'.repeat(MIB + 1) }),
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('x-amzn-query-error')).toBe('InvalidParameterValue;Sender');
      expect(await response.json()).toMatchObject({ __type: 'com.amazon.coral.service#InvalidParameterValueException' });
    });

    it('should refuse characters outside the allowed set, and more than 10 message attributes', async () => {
      const queueUrl = await createQueue('contents');
      const invalid = await failure(client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'a\u0000b' })));
      const many = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${String(i)}`, { DataType: 'String', StringValue: 'v' }]));
      const tooMany = await failure(client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'b', MessageAttributes: many })));
      const badType = await failure(
        client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'b', MessageAttributes: { a: { DataType: 'Text', StringValue: 'v' } } })),
      );

      expect(invalid.name).toBe('InvalidMessageContents');
      expect(invalid.message).toMatch(/Invalid binary character '#x0'/);
      expect(tooMany.message).toBe('Number of message attributes [11] exceeds the allowed maximum [10].');
      expect(badType.name).toBe('InvalidParameterValue');
      expect(sqs.depth(queueUrl).visible).toBe(0);
    });
  });

  describe('Batches', () => {
    it('should refuse a batch over 1 MiB in all, sending none of it', async () => {
      const queueUrl = await createQueue('batch-size');
      const entries = [0, 1].map((i) => ({ Id: `m${String(i)}`, MessageBody: 'x'.repeat(600_000) }));

      const error = await failure(client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })));

      expect(error.name).toBe('BatchRequestTooLong');
      expect(error.message).toBe(`Batch requests cannot be longer than ${String(MIB)} bytes. You have sent 1200000 bytes.`);
      expect(sqs.depth(queueUrl).visible).toBe(0);
    });

    it('should refuse more than 10 entries, no entry, and repeated ids', async () => {
      const queueUrl = await createQueue('batch-rules');
      const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: `m${String(i)}`, MessageBody: 'x' }));

      expect((await failure(client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: eleven })))).name).toBe('TooManyEntriesInBatchRequest');
      expect((await failure(client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [] })))).name).toBe('EmptyBatchRequest');
      const repeated = [{ Id: 'same', MessageBody: 'a' }, { Id: 'same', MessageBody: 'b' }];
      expect((await failure(client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: repeated })))).name).toBe('BatchEntryIdsNotDistinct');
      const badId = [{ Id: 'not ok!', MessageBody: 'a' }];
      expect((await failure(client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: badId })))).name).toBe('InvalidBatchEntryId');
      expect((await failure(client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: [] })))).name).toBe('EmptyBatchRequest');
      expect(sqs.depth(queueUrl).visible).toBe(0);
    });

    it('should report an entry over the queue limit as failed and send the others', async () => {
      const queueUrl = await createQueue('batch-partial', { MaximumMessageSize: '1024' });
      const result = await client.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: 'ok', MessageBody: 'x' }, { Id: 'big', MessageBody: 'x'.repeat(1025) }] }),
      );
      expect(result.Successful?.map((s) => s.Id)).toEqual(['ok']);
      expect(result.Failed).toEqual([expect.objectContaining({ Id: 'big', Code: 'InvalidParameterValue', SenderFault: true })]);
    });
  });

  describe('Receiving', () => {
    it('should refuse MaxNumberOfMessages outside 1–10, WaitTimeSeconds over 20 and DelaySeconds over 900', async () => {
      const queueUrl = await createQueue('ranges');
      for (const MaxNumberOfMessages of [0, 11]) {
        expect((await failure(client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages })))).name).toBe('InvalidParameterValue');
      }
      expect((await failure(client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 21 })))).name).toBe('InvalidParameterValue');
      expect((await failure(client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x', DelaySeconds: 901 })))).name).toBe('InvalidParameterValue');
      expect((await failure(createQueue('bad-delay', { DelaySeconds: '901' }))).name).toBe('InvalidAttributeValue');
    });

    it('should count receives and change visibility in batches, reporting a stale receipt as failed', async () => {
      const queueUrl = await createQueue('visibility', { VisibilityTimeout: '60' });
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'a' }));
      const first = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
      const handle = first.Messages?.[0].ReceiptHandle ?? '';

      const changed = await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: [{ Id: 'now', ReceiptHandle: handle, VisibilityTimeout: 0 }],
        }),
      );
      const second = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
      const stale = await client.send(
        new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: 'old', ReceiptHandle: handle, VisibilityTimeout: 0 }] }),
      );

      expect(first.Messages?.[0].Attributes?.ApproximateReceiveCount).toBe('1');
      expect(changed.Successful).toEqual([{ Id: 'now' }]);
      expect(second.Messages?.[0].Attributes?.ApproximateReceiveCount).toBe('2');
      expect(stale.Failed).toEqual([expect.objectContaining({ Id: 'old', Code: 'AWS.SimpleQueueService.MessageNotInflight', SenderFault: true })]);
    });

    it('should move a message received more than maxReceiveCount times to the dead-letter queue', async () => {
      const dlqUrl = await createQueue('work-dlq');
      const deadLetterTargetArn = 'arn:aws:sqs:us-east-1:000000000000:work-dlq';
      const queueUrl = await createQueue('work', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn, maxReceiveCount: 2 }), VisibilityTimeout: '0' });
      const { MessageId } = await client.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'poison', MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } } }),
      );

      const receives = [];
      for (let i = 0; i < 3; i++) receives.push((await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }))).Messages?.length ?? 0);
      const dead = await client.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageAttributeNames: ['All'] }));

      expect(receives).toEqual([1, 1, 0]);
      expect(dead.Messages?.map((m) => [m.MessageId, m.Body, m.MessageAttributes?.kind.StringValue])).toEqual([[MessageId, 'poison', 'test']]);
      expect(sqs.depth(queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it('should refuse a malformed RedrivePolicy', async () => {
      const error = await failure(createQueue('bad-redrive', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'x', maxReceiveCount: 0 }) }));
      expect(error.name).toBe('InvalidAttributeValue');
    });

    it('should drop messages older than MessageRetentionPeriod, counted from their sending', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const { queueArn } = sqs.createQueue('retained', { MessageRetentionPeriod: '60' });
      await sqs.sendMessage(queueArn, 'old');
      vi.setSystemTime(Date.now() + 30_000);
      await sqs.sendMessage(queueArn, 'new');
      expect(sqs.depth(queueArn).visible).toBe(2);

      vi.setSystemTime(Date.now() + 31_000);

      expect(sqs.depth(queueArn).visible).toBe(1);
    });
  });

  describe('Function: queueAttributesOf', () => {
    it('should turn an AWS::SQS::Queue’s properties into the attributes CreateQueue takes', () => {
      expect(
        queueAttributesOf({
          QueueName: 'q',
          MessageRetentionPeriod: 1209600,
          SqsManagedSseEnabled: true,
          RedrivePolicy: { deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:dlq', maxReceiveCount: 3 },
          Tags: [{ Key: 'a', Value: 'b' }],
        }),
      ).toEqual({
        MessageRetentionPeriod: '1209600',
        SqsManagedSseEnabled: 'true',
        RedrivePolicy: '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3}',
      });
    });
  });
});
