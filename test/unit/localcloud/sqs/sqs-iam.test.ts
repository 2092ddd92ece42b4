/**
 * LocalSqs with an IamAuthority: each request is authorized as the role whose access key signed it (identity
 * policies and queue policies), through the real SDK over HTTP; in-process sends are authorized as the caller
 * they name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { IamAuthority } from '../../../../localstack/cloud/iam/authority';
import { LocalSqs } from '../../../../localstack/cloud/sqs';
import { resolveTemplate, type RawTemplate } from '../../../../localstack/cloud/template';

const PORT = 19812;
const QUEUE_A = 'arn:aws:sqs:us-east-1:000000000000:queue-a';
const QUEUE_B = 'arn:aws:sqs:us-east-1:000000000000:queue-b';

function policy(roles: string[], statements: unknown[]) {
  return { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'p', Roles: roles, PolicyDocument: { Version: '2012-10-17', Statement: statements } } };
}

/** A sender role allowed SendMessage on queue A only; a reader allowed sqs:* but denied ReceiveMessage on A; queue B denies plain HTTP (CDK's enforceSSL). */
const resources: RawTemplate['Resources'] = {
  SenderRole: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'sender' } },
  ReaderRole: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'reader' } },
  QueueA: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'queue-a' } },
  QueueB: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'queue-b' } },
  SenderPolicy: policy(['sender'], [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE_A }]),
  ReaderPolicy: policy(
    ['reader'],
    [
      { Effect: 'Allow', Action: 'sqs:*', Resource: '*' },
      { Effect: 'Deny', Action: 'sqs:ReceiveMessage', Resource: QUEUE_A },
    ],
  ),
  QueueBPolicy: {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [{ Ref: 'QueueB' }],
      PolicyDocument: {
        Statement: [{ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sqs:*', Resource: QUEUE_B, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
      },
    },
  },
};

const template = resolveTemplate({ directory: '/tmp', stackName: 'S', template: { Resources: resources }, assetDirs: new Map() });
const SENDER_ROLE = 'arn:aws:iam::000000000000:role/sender';
const READER_ROLE = 'arn:aws:iam::000000000000:role/reader';

async function failure(promise: Promise<unknown>): Promise<{ name: string; message: string; $metadata: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as { name: string; message: string; $metadata: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

describe('LocalSqs with IAM', () => {
  let dataDir: string;
  let sqs: LocalSqs;
  let iam: IamAuthority;
  let endpoint: string;
  const clients: SQSClient[] = [];
  let queueA: string;
  let queueB: string;

  function clientFor(roleArn: string | undefined): SQSClient {
    const accessKeyId = roleArn === undefined ? 'local' : iam.accessKeyFor(roleArn);
    const client = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey: 'local' } });
    clients.push(client);
    return client;
  }

  async function start(enforce: boolean) {
    iam = new IamAuthority(template, { enforce });
    sqs = new LocalSqs({ region: 'us-east-1', accountId: '000000000000', dataDir, iam });
    endpoint = (await sqs.listen(PORT)).url;
    queueA = sqs.createQueue('queue-a').queueUrl;
    queueB = sqs.createQueue('queue-b').queueUrl;
  }

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-sqs-iam-'));
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await sqs.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('API requests', () => {
    beforeEach(() => start(true));

    it('should let a role send to the queue its policy names and refuse another queue', async () => {
      const sender = clientFor(SENDER_ROLE);

      await sender.send(new SendMessageCommand({ QueueUrl: queueA, MessageBody: 'allowed' }));
      await sender.send(new SendMessageBatchCommand({ QueueUrl: queueA, Entries: [{ Id: '1', MessageBody: 'batched' }] }));
      const refused = await failure(sender.send(new SendMessageCommand({ QueueUrl: queueB, MessageBody: 'refused' })));

      expect(sqs.depth(queueA).visible).toBe(2);
      expect(sqs.depth(queueB).visible).toBe(0);
      expect(refused.name).toBe('AccessDenied');
      expect(refused.$metadata.httpStatusCode).toBe(403);
      expect(refused.message).toBe(
        `User: arn:aws:sts::000000000000:assumed-role/sender/sender is not authorized to perform: sqs:SendMessage on resource: ${QUEUE_B} because no identity-based policy allows the sqs:SendMessage action`,
      );
    });

    it('should refuse what the role is not granted: receiving, listing queues (resource *), getting a queue URL', async () => {
      const sender = clientFor(SENDER_ROLE);
      expect((await failure(sender.send(new ReceiveMessageCommand({ QueueUrl: queueA })))).message).toMatch(/sqs:ReceiveMessage on resource: .*queue-a/);
      expect((await failure(sender.send(new ListQueuesCommand({})))).message).toMatch(/sqs:ListQueues on resource: \* /);
      expect((await failure(sender.send(new GetQueueUrlCommand({ QueueName: 'queue-a' })))).message).toMatch(/sqs:GetQueueUrl on resource: .*queue-a/);
    });

    it('should let an explicit Deny win over an Allow', async () => {
      const reader = clientFor(READER_ROLE);

      const onB = await reader.send(new ReceiveMessageCommand({ QueueUrl: queueB }));
      const onA = await failure(reader.send(new ReceiveMessageCommand({ QueueUrl: queueA })));

      expect(onB.Messages).toBeUndefined();
      expect(onA.name).toBe('AccessDenied');
      expect(onA.message).toMatch(/with an explicit deny in ReaderPolicy$/);
    });

    it('should treat the loopback endpoint as secure transport, so an enforceSSL queue policy does not refuse', async () => {
      await clientFor(READER_ROLE).send(new SendMessageCommand({ QueueUrl: queueB, MessageBody: 'over loopback' }));
      expect(sqs.depth(queueB).visible).toBe(1);
    });

    it('should allow everything to the administrator key', async () => {
      const admin = clientFor(undefined);
      await admin.send(new SendMessageCommand({ QueueUrl: queueB, MessageBody: 'admin' }));
      const listed = await admin.send(new ListQueuesCommand({}));
      expect(listed.QueueUrls).toEqual([queueA, queueB]);
    });

    it('should answer a refusal in AWS’s JSON protocol shape', async () => {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'AmazonSQS.SendMessage',
          authorization: `AWS4-HMAC-SHA256 Credential=${iam.accessKeyFor(SENDER_ROLE)}/20250101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: JSON.stringify({ QueueUrl: queueB, MessageBody: 'x' }),
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('x-amzn-query-error')).toBe('AccessDenied;Sender');
      expect(await response.json()).toEqual({
        __type: 'com.amazon.coral.service#AccessDeniedException',
        Message: expect.stringMatching(/is not authorized to perform: sqs:SendMessage/) as unknown,
      });
    });

    it('should authorize in-process sends that name a caller, and not those that do not', async () => {
      await sqs.sendMessage(QUEUE_A, 'destination record', {}, iam.callerForRole(SENDER_ROLE));
      await sqs.sendMessage(QUEUE_B, 'no caller');

      await expect(sqs.sendMessage(QUEUE_B, 'refused', {}, iam.callerForRole(SENDER_ROLE))).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringMatching(/sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:queue-b/) as unknown,
      });
      expect(sqs.depth(QUEUE_A).visible).toBe(1);
      expect(sqs.depth(QUEUE_B).visible).toBe(1);
    });
  });

  describe('Enforcement off', () => {
    beforeEach(() => start(false));

    it('should allow what the policies refuse', async () => {
      await clientFor(SENDER_ROLE).send(new SendMessageCommand({ QueueUrl: queueB, MessageBody: 'allowed' }));
      await sqs.sendMessage(QUEUE_B, 'in process', {}, iam.callerForRole(SENDER_ROLE));
      expect(sqs.depth(queueB).visible).toBe(2);
    });
  });
});
