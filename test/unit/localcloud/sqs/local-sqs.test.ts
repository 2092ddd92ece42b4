import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { LocalSqs, md5OfMessageAttributes } from '../../../../localstack/cloud/sqs';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('Class: LocalSqs', () => {
  let dataDir: string;
  let sqs: LocalSqs;
  let client: SQSClient;
  let endpoint: string;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-sqs-'));
    sqs = new LocalSqs({ region: 'us-east-1', accountId: '000000000000', dataDir });
    const listening = await sqs.listen(0);
    endpoint = listening.url;
    client = new SQSClient({ endpoint, region: 'us-east-1', credentials });
  });

  afterEach(async () => {
    client.destroy();
    await sqs.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const attributes = async (queueUrl: string) =>
    (await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))).Attributes!;

  describe('Method: createQueue', () => {
    it('should return the URL and ARN of the queue, reachable through the SDK', async () => {
      // Act
      const { queueUrl, queueArn } = sqs.createQueue('failures', { VisibilityTimeout: '45' });
      const found = await client.send(new GetQueueUrlCommand({ QueueName: 'failures' }));

      // Assert
      expect(queueUrl).toBe(`${endpoint}/000000000000/failures`);
      expect(queueArn).toBe('arn:aws:sqs:us-east-1:000000000000:failures');
      expect(found.QueueUrl).toBe(queueUrl);
      expect((await attributes(queueUrl)).VisibilityTimeout).toBe('45');
    });

    it('should refuse FIFO queues with a clear error', () => {
      expect(() => sqs.createQueue('jobs.fifo', { FifoQueue: 'true' })).toThrow(/FIFO queues are not supported/);
    });
  });

  describe('Operation: CreateQueue / GetQueueUrl / ListQueues', () => {
    it('should create queues idempotently and list them by prefix', async () => {
      // Arrange
      const first = await client.send(new CreateQueueCommand({ QueueName: 'alpha-1' }));
      const again = await client.send(new CreateQueueCommand({ QueueName: 'alpha-1' }));
      await client.send(new CreateQueueCommand({ QueueName: 'alpha-2' }));
      await client.send(new CreateQueueCommand({ QueueName: 'beta' }));

      // Act
      const alpha = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'alpha' }));
      const paged = await client.send(new ListQueuesCommand({ MaxResults: 2 }));
      const rest = await client.send(new ListQueuesCommand({ MaxResults: 2, NextToken: paged.NextToken }));

      // Assert
      expect(again.QueueUrl).toBe(first.QueueUrl);
      expect(alpha.QueueUrls).toEqual([`${endpoint}/000000000000/alpha-1`, `${endpoint}/000000000000/alpha-2`]);
      expect(paged.QueueUrls).toHaveLength(2);
      expect(rest.QueueUrls).toEqual([`${endpoint}/000000000000/beta`]);
      expect(rest.NextToken).toBeUndefined();
    });

    it('should reject a second CreateQueue with different attributes', async () => {
      await client.send(new CreateQueueCommand({ QueueName: 'q', Attributes: { VisibilityTimeout: '10' } }));
      await expect(
        client.send(new CreateQueueCommand({ QueueName: 'q', Attributes: { VisibilityTimeout: '20' } })),
      ).rejects.toMatchObject({ name: 'QueueNameExists' });
    });

    it('should answer QueueDoesNotExist for an unknown queue', async () => {
      const error = await client.send(new GetQueueUrlCommand({ QueueName: 'nope' })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueueDoesNotExist);
      expect((error as QueueDoesNotExist).$metadata.httpStatusCode).toBe(400);
    });
  });

  describe('Operation: SendMessage / ReceiveMessage / DeleteMessage', () => {
    it('should round-trip bodies and message attributes with valid MD5s', async () => {
      // Arrange
      const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'round-trip' }));
      const messageAttributes = {
        kind: { DataType: 'String', StringValue: 'test' },
        blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
      };

      // Act
      const sent = await client.send(
        new SendMessageCommand({ QueueUrl, MessageBody: '{"hello":"wörld"}', MessageAttributes: messageAttributes }),
      );
      const received = await client.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );

      // Assert
      expect(sent.MessageId).toBeTruthy();
      expect(sent.MD5OfMessageAttributes).toBe(
        md5OfMessageAttributes({
          kind: { DataType: 'String', StringValue: 'test' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]).toString('base64') },
        }),
      );
      expect(received.Messages).toHaveLength(1);
      const message = received.Messages![0];
      expect(message.Body).toBe('{"hello":"wörld"}');
      expect(message.MessageId).toBe(sent.MessageId);
      expect(message.Attributes?.ApproximateReceiveCount).toBe('1');
      // An attribute the message lacks is absent from the map: say so in the type.
      const attributes: Partial<Record<string, MessageAttributeValue>> = message.MessageAttributes ?? {};
      expect(attributes.kind?.StringValue).toBe('test');
      expect([...(attributes.blob?.BinaryValue ?? [])]).toEqual([1, 2, 3]);
      expect(message.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    });

    it('should hide a received message for its visibility timeout and delete it by receipt handle', async () => {
      // Arrange
      const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'visibility' }));
      await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'one' }));

      // Act
      const first = await client.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 1 }));
      const whileHidden = await client.send(new ReceiveMessageCommand({ QueueUrl }));
      const hiddenCounts = await attributes(QueueUrl!);
      const again = await client.send(
        new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5, MessageSystemAttributeNames: ['All'] }),
      );
      await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: again.Messages![0].ReceiptHandle }));
      const afterDelete = await attributes(QueueUrl!);

      // Assert
      expect(first.Messages).toHaveLength(1);
      expect(whileHidden.Messages).toBeUndefined();
      expect(hiddenCounts.ApproximateNumberOfMessages).toBe('0');
      expect(hiddenCounts.ApproximateNumberOfMessagesNotVisible).toBe('1');
      expect(again.Messages?.[0]?.Body).toBe('one');
      expect(again.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
      expect(afterDelete.ApproximateNumberOfMessages).toBe('0');
      expect(afterDelete.ApproximateNumberOfMessagesNotVisible).toBe('0');
    });

    it('should make a message visible again with ChangeMessageVisibility', async () => {
      const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'change-vis' }));
      await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' }));
      const first = await client.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 300 }));

      await client.send(
        new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: first.Messages![0].ReceiptHandle, VisibilityTimeout: 0 }),
      );
      const again = await client.send(new ReceiveMessageCommand({ QueueUrl }));

      expect(again.Messages?.[0]?.Body).toBe('x');
    });

    it('should send batches and honour MaxNumberOfMessages', async () => {
      const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'batch' }));
      const sent = await client.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: Array.from({ length: 5 }, (_, i) => ({ Id: `m${i}`, MessageBody: `body-${i}` })),
        }),
      );

      const received = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 3 }));

      expect(sent.Successful).toHaveLength(5);
      expect(received.Messages?.map((m) => m.Body)).toEqual(['body-0', 'body-1', 'body-2']);
      expect((await attributes(QueueUrl!)).ApproximateNumberOfMessages).toBe('2');
    });
  });

  describe('Operation: ReceiveMessage with WaitTimeSeconds', () => {
    it('should return as soon as a message arrives during a long poll', async () => {
      // Arrange
      const { queueUrl, queueArn } = sqs.createQueue('long-poll');
      const started = Date.now();
      const polling = client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 10 }));

      // Act
      setTimeout(() => void sqs.sendMessage(queueArn, 'late'), 300);
      const received = await polling;

      // Assert
      const elapsed = Date.now() - started;
      expect(received.Messages?.[0]?.Body).toBe('late');
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(3000);
    });

    it('should answer empty at the end of the wait', async () => {
      const { queueUrl } = sqs.createQueue('empty-poll');
      const started = Date.now();

      const received = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));

      expect(received.Messages).toBeUndefined();
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    });
  });

  describe('Operation: PurgeQueue', () => {
    it('should remove every message', async () => {
      const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'purge' }));
      for (let i = 0; i < 3; i++) await client.send(new SendMessageCommand({ QueueUrl, MessageBody: `m${i}` }));

      await client.send(new PurgeQueueCommand({ QueueUrl }));

      expect((await attributes(QueueUrl!)).ApproximateNumberOfMessages).toBe('0');
    });
  });

  describe('Method: sendMessage', () => {
    it('should accept a queue ARN or URL and count the message in ApproximateNumberOfMessages', async () => {
      const { queueUrl, queueArn } = sqs.createQueue('programmatic');

      await sqs.sendMessage(queueArn, 'by-arn');
      await sqs.sendMessage(queueUrl, 'by-url');
      const attrs = (
        await client.send(
          new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'QueueArn'] }),
        )
      ).Attributes!;

      expect(attrs).toEqual({ ApproximateNumberOfMessages: '2', QueueArn: queueArn });
    });

    it('should reject an unknown queue', async () => {
      await expect(sqs.sendMessage('arn:aws:sqs:us-east-1:000000000000:missing', 'x')).rejects.toMatchObject({
        name: 'QueueDoesNotExist',
      });
    });
  });

  describe('Persistence', () => {
    it('should keep queues and messages across a restart', async () => {
      // Arrange
      const { queueArn } = sqs.createQueue('durable', { MessageRetentionPeriod: '600' });
      await sqs.sendMessage(queueArn, 'kept-1');
      await sqs.sendMessage(queueArn, 'kept-2');
      await sqs.stop();

      // Act
      sqs = new LocalSqs({ region: 'us-east-1', accountId: '000000000000', dataDir });
      const listening = await sqs.listen(0);
      client.destroy();
      client = new SQSClient({ endpoint: listening.url, region: 'us-east-1', credentials });
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: 'durable' }));
      const received = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));

      // Assert
      expect(received.Messages?.map((m) => m.Body)).toEqual(['kept-1', 'kept-2']);
      expect((await attributes(QueueUrl!)).MessageRetentionPeriod).toBe('600');
    });
  });

  describe('Method: listen', () => {
    it('should report a port in use clearly', async () => {
      const other = new LocalSqs({ dataDir: join(dataDir, 'other') });
      const port = Number(new URL(endpoint).port);
      await expect(other.listen(port)).rejects.toThrow(/port is in use/);
      await other.stop();
    });
  });
});
