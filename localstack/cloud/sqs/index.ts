/**
 * A minimal local SQS (standard queues only) speaking the AWS JSON 1.0 protocol that `@aws-sdk/client-sqs`
 * uses, so functions and tests talk to it through the real SDK. It exists for the on-failure destinations of
 * stream mappings and for anything else in the template that declares an `AWS::SQS::Queue`.
 *
 * Messages live in memory and are written through to one JSON file per queue (temp file + rename), so a
 * restart of the local cloud keeps them, in-flight state included.
 *
 * Limits and semantics follow the SQS API reference of the SDK this project uses (`@aws-sdk/client-sqs`): a
 * message of at most 1 MiB (`MaximumMessageSize` 1,024–1,048,576, default 1,048,576; AWS raised it from 256 KiB
 * in 2025) counted as body plus every attribute's name, type and value; batches of 1–10 entries with distinct
 * ids and at most 1 MiB in all; `RedrivePolicy` moving a message to its dead-letter queue once received more
 * than `maxReceiveCount` times. With an `IamAuthority`, every request is authorized as AWS does it: the caller
 * from the SigV4 access key, `sqs:<Action>` on the queue ARN, identity and queue policies.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type {
  BatchResultErrorEntry,
  DeleteMessageBatchResultEntry,
  ReceiveMessageRequest,
  SendMessageBatchResultEntry,
} from '@aws-sdk/client-sqs';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, type CloudLogger } from '../types';
import { readBody } from '../http-body';
import { fieldText, isJsonObject, objectOr, parseJson, type JsonObject, type JsonValue } from '../stepfunctions/json';
import { accessKeyOf, type Caller, type IamAuthority } from '../iam/authority';
import type { AuthorizationRequest } from '../iam/evaluate';

export interface LocalSqsOptions {
  region?: string;
  accountId?: string;
  /** Directory holding one `<queue>.json` per queue; created when missing. */
  dataDir: string;
  logger?: CloudLogger;
  /**
   * Port that queue URLs advertise before `listen()` is called (for example when queues are created from the
   * template before the server binds). `listen()` replaces it with the bound port.
   */
  port?: number;
  /** Authorizes every API request (and in-process sends that name a caller); without it, everything is allowed. */
  iam?: IamAuthority;
}

export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  /** Base64, as on the wire. */
  BinaryValue?: string;
}

export interface SendMessageOptions {
  messageAttributes?: Record<string, MessageAttributeValue>;
  delaySeconds?: number;
}

export interface SentMessage {
  messageId: string;
  md5OfMessageBody: string;
  md5OfMessageAttributes?: string;
}

export interface ListeningSqs {
  url: string;
  close(): Promise<void>;
}

/**
 * The SQS model's errors (`__type` `com.amazonaws.sqs#<Type>`): the code the query protocol used, which SDKs read
 * from `x-amzn-query-error`, and the HTTP status, as the model gives them.
 */
const MODELED_ERRORS: Record<string, { queryCode: string; status: number } | undefined> = {
  BatchEntryIdsNotDistinct: { queryCode: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', status: 400 },
  BatchRequestTooLong: { queryCode: 'AWS.SimpleQueueService.BatchRequestTooLong', status: 400 },
  EmptyBatchRequest: { queryCode: 'AWS.SimpleQueueService.EmptyBatchRequest', status: 400 },
  InvalidAttributeName: { queryCode: 'InvalidAttributeName', status: 400 },
  InvalidAttributeValue: { queryCode: 'InvalidAttributeValue', status: 400 },
  InvalidBatchEntryId: { queryCode: 'AWS.SimpleQueueService.InvalidBatchEntryId', status: 400 },
  InvalidMessageContents: { queryCode: 'InvalidMessageContents', status: 400 },
  MessageNotInflight: { queryCode: 'AWS.SimpleQueueService.MessageNotInflight', status: 400 },
  QueueDoesNotExist: { queryCode: 'AWS.SimpleQueueService.NonExistentQueue', status: 400 },
  QueueNameExists: { queryCode: 'QueueAlreadyExists', status: 400 },
  ReceiptHandleIsInvalid: { queryCode: 'ReceiptHandleIsInvalid', status: 404 },
  TooManyEntriesInBatchRequest: { queryCode: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', status: 400 },
  UnsupportedOperation: { queryCode: 'AWS.SimpleQueueService.UnsupportedOperation', status: 400 },
};

/**
 * An SQS error as the JSON protocol answers it. Errors outside the SQS model (`InvalidParameterValue`,
 * `MissingParameter`, `AccessDenied`) come from AWS's service framework: `__type`
 * `com.amazon.coral.service#<Code>Exception`, the code in `x-amzn-query-error`; a refused authorization is HTTP 403.
 */
class SqsError extends Error {
  readonly queryCode: string;
  readonly wireType: string;
  readonly status: number;
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    const modeled = MODELED_ERRORS[type];
    this.name = modeled ? type : `${type}Exception`;
    this.queryCode = modeled?.queryCode ?? type;
    this.wireType = modeled ? `com.amazonaws.sqs#${type}` : `com.amazon.coral.service#${type}Exception`;
    this.status = modeled?.status ?? (type === 'AccessDenied' ? 403 : 400);
  }
}

interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  md5OfMessageAttributes?: string;
  sentTimestamp: number;
  /** Epoch ms before which the message is invisible (delay or visibility timeout). */
  visibleAt: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** Changes at every receive, so a handle names one receipt. */
  receiptNonce?: string;
}

interface QueueState {
  name: string;
  attributes: Record<string, string>;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  messages: StoredMessage[];
}

interface Queue extends QueueState {
  waiters: Set<() => void>;
}

const DEFAULT_ATTRIBUTES: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
};

/** Attributes a caller may set; the others are computed. */
const SETTABLE_ATTRIBUTES = new Set([
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'Policy',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
]);

const NUMERIC_LIMITS: Partial<Record<string, [number, number]>> = {
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, 1_048_576],
  MessageRetentionPeriod: [60, 1209600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43200],
};

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
/** What a batch may carry in all (the sum of its messages' sizes), as for one message. */
const MAX_BATCH_BYTES = 1_048_576;
const MAX_MESSAGE_ATTRIBUTES = 10;
/** The characters a message may hold (W3C XML): anything else is refused with InvalidMessageContents. */
const INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
/** The IAM action of each batch operation: its single-message counterpart (Service Authorization Reference). */
const BATCH_ACTIONS: Record<string, string | undefined> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};
const noopLogger: CloudLogger = { info() {}, warn() {}, error() {}, debug() {} };

function md5Hex(data: string | Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** MD5 of message attributes as SQS computes it (names sorted; length-prefixed name, type, transport, value). */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string {
  const hash = createHash('md5');
  const lengthPrefixed = (bytes: Uint8Array) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    hash.update(len);
    hash.update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name];
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(value.DataType, 'utf8'));
    if (value.BinaryValue !== undefined) {
      hash.update(Buffer.from([2]));
      lengthPrefixed(Buffer.from(value.BinaryValue, 'base64'));
    } else {
      hash.update(Buffer.from([1]));
      lengthPrefixed(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return hash.digest('hex');
}

/**
 * A message's size as SQS counts it against `MaximumMessageSize`: the body's UTF-8 bytes plus, for every message
 * attribute, its name, its data type and its value (a binary value's decoded bytes).
 */
export function messageSize(body: string, attributes: Record<string, MessageAttributeValue> = {}): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType, 'utf8');
    size += value.BinaryValue !== undefined ? Buffer.from(value.BinaryValue, 'base64').length : Buffer.byteLength(value.StringValue ?? '', 'utf8');
  }
  return size;
}

/** The queue attributes an `AWS::SQS::Queue`'s properties set (a RedrivePolicy object as SQS's JSON text). */
export function queueAttributesOf(properties: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (key === 'QueueName' || key === 'Tags') continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
    else if (typeof value === 'object' && value !== null) out[key] = JSON.stringify(value);
  }
  return out;
}

/** The queue name in a queue URL (any host), an ARN or a bare name. */
function queueNameOf(ref: string): string {
  if (ref.startsWith('arn:')) return ref.split(':')[5] ?? '';
  if (/^https?:\/\//.test(ref)) {
    try {
      return new URL(ref).pathname.split('/').filter(Boolean).at(-1) ?? '';
    } catch {
      return '';
    }
  }
  return ref;
}

export class LocalSqs {
  readonly region: string;
  readonly accountId: string;
  private readonly dataDir: string;
  private readonly logger: CloudLogger;
  private iam: IamAuthority | undefined;
  private readonly queues = new Map<string, Queue>();
  private server?: Server;
  private port?: number;
  private stopped = false;

  constructor(options: LocalSqsOptions) {
    this.region = options.region ?? LOCAL_REGION;
    this.accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
    this.dataDir = options.dataDir;
    this.logger = options.logger ?? noopLogger;
    this.port = options.port;
    this.iam = options.iam;
    mkdirSync(this.dataDir, { recursive: true });
    this.load();
  }

  /**
   * Starts authorizing with `iam`: the local cloud creates its queues before the template (and so its IAM) is
   * resolved, since the template names their URLs and ARNs.
   */
  authorizeWith(iam: IamAuthority): void {
    this.iam = iam;
  }

  // ---------------------------------------------------------------- programmatic API

  /**
   * Creates the queue, or updates the attributes of an existing one: the local cloud re-applies the template
   * at every start, and an edited template must win over what was persisted.
   */
  createQueue(name: string, attributes: Record<string, string> = {}): { queueUrl: string; queueArn: string } {
    const existing = this.queues.get(name);
    if (existing) {
      const validated = this.validateAttributes(attributes);
      Object.assign(existing.attributes, validated);
      existing.lastModifiedTimestamp = Date.now();
      this.persist(existing);
    } else {
      this.create(name, attributes);
    }
    return { queueUrl: this.queueUrl(name), queueArn: this.queueArn(name) };
  }

  queueUrl(name: string): string {
    return `http://127.0.0.1:${this.port ?? 0}/${this.accountId}/${name}`;
  }

  queueArn(name: string): string {
    return `arn:aws:sqs:${this.region}:${this.accountId}:${name}`;
  }

  /**
   * Sends to a queue named by ARN, URL or name, as a destination or an event source target would. With a
   * `caller` (the sending function's role, as AWS delivers destination records with the execution role) and an
   * `IamAuthority`, `sqs:SendMessage` on the queue is authorized first: a refusal rejects with an
   * `AccessDeniedException`.
   */
  sendMessage(queueArnOrUrl: string, body: string, options: SendMessageOptions = {}, caller?: Caller): Promise<SentMessage> {
    // As with the SQS client, an unknown queue or a refused message rejects the promise rather than throwing.
    try {
      if (caller) this.authorize(caller, { action: 'sqs:SendMessage', resource: this.queueArn(queueNameOf(queueArnOrUrl)) });
      const queue = this.resolve(queueArnOrUrl);
      return Promise.resolve(this.enqueue(queue, body, options.messageAttributes, options.delaySeconds));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Number of messages in a queue, visible or not; for tests and diagnostics. */
  depth(queueArnOrUrl: string): { visible: number; inFlight: number; delayed: number } {
    const queue = this.resolve(queueArnOrUrl);
    return this.counts(queue);
  }

  async listen(port: number, host = '127.0.0.1'): Promise<ListeningSqs> {
    if (this.server) throw new Error('LocalSqs is already listening');
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'EADDRINUSE'
            ? new Error(`Local SQS cannot listen on ${host}:${port}: the port is in use`)
            : error,
        );
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.server = server;
    this.stopped = false;
    this.port = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${this.port}`;
    this.logger.info('local SQS listening', { url });
    return { url, close: () => this.closeServer() };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const queue of this.queues.values()) this.wake(queue);
    await this.closeServer();
  }

  // ---------------------------------------------------------------- queues and messages

  private create(name: string, attributes: Readonly<Record<string, unknown>>): Queue {
    if (!QUEUE_NAME.test(name)) {
      if (name.endsWith('.fifo')) {
        throw new SqsError('UnsupportedOperation', `FIFO queues are not supported by the local SQS: ${name}`);
      }
      throw new SqsError(
        'InvalidParameterValue',
        `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length: ${name}`,
      );
    }
    const now = Date.now();
    const queue: Queue = {
      name,
      attributes: { ...DEFAULT_ATTRIBUTES, ...this.validateAttributes(attributes) },
      createdTimestamp: now,
      lastModifiedTimestamp: now,
      messages: [],
      waiters: new Set(),
    };
    this.queues.set(name, queue);
    this.persist(queue);
    return queue;
  }

  /** Attributes as sent: a request may give a number where SQS documents a string. */
  private validateAttributes(attributes: Readonly<Record<string, unknown>>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, raw] of Object.entries(attributes)) {
      const value = String(raw);
      if (key === 'FifoQueue' || key === 'ContentBasedDeduplication') {
        if (value === 'false') continue;
        throw new SqsError('UnsupportedOperation', `FIFO queues are not supported by the local SQS (${key})`);
      }
      if (!SETTABLE_ATTRIBUTES.has(key)) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${key}.`);
      if (key === 'RedrivePolicy' && value !== '') checkRedrivePolicy(value);
      const limits = NUMERIC_LIMITS[key];
      if (limits) {
        const n = Number(value);
        if (!Number.isInteger(n) || n < limits[0] || n > limits[1]) {
          throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${key}.`);
        }
      }
      out[key] = value;
    }
    return out;
  }

  /** Accepts a queue URL (any host), an ARN or a bare name. */
  private resolve(ref: string): Queue {
    const queue = this.queues.get(queueNameOf(ref));
    if (!queue) {
      throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    }
    return queue;
  }

  // ---------------------------------------------------------------- IAM

  /** Throws AccessDenied when the authority refuses the request; allows everything without an authority. */
  private authorize(caller: Caller, request: AuthorizationRequest): void {
    if (!this.iam) return;
    const result = this.iam.authorize(caller, [request]);
    if (!result.allowed) throw new SqsError('AccessDenied', result.message);
  }

  /**
   * The permission an API request needs, as the Service Authorization Reference lists it: `sqs:<Operation>` on
   * the queue's ARN (a batch needs its single-message action), `sqs:ListQueues` on `*`. A request without its
   * queue parameter needs none here: the operation answers MissingParameter.
   */
  private permissionFor(operation: string, input: JsonObject): AuthorizationRequest | undefined {
    if (operation === 'ListQueues') return { action: 'sqs:ListQueues', resource: '*' };
    const ref = operation === 'CreateQueue' || operation === 'GetQueueUrl' ? input.QueueName : input.QueueUrl;
    if (typeof ref !== 'string' || ref.length === 0) return undefined;
    return { action: `sqs:${BATCH_ACTIONS[operation] ?? operation}`, resource: this.queueArn(queueNameOf(ref)) };
  }

  private enqueue(
    queue: Queue,
    /** Checked here: a request may send anything, or nothing, as MessageBody. */
    body: unknown,
    messageAttributes?: Record<string, MessageAttributeValue> | null,
    delaySeconds?: number,
  ): SentMessage {
    if (typeof body !== 'string' || body.length === 0) {
      throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    }
    checkMessageAttributes(messageAttributes ?? {});
    checkContents(body, 'message body');
    const maxSize = Number(queue.attributes.MaximumMessageSize);
    if (messageSize(body, messageAttributes ?? {}) > maxSize) {
      throw new SqsError('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${String(maxSize)} bytes.`);
    }
    const delay = delaySeconds ?? Number(queue.attributes.DelaySeconds);
    if (!Number.isInteger(delay) || delay < 0 || delay > 900) {
      throw new SqsError('InvalidParameterValue', 'Value for parameter DelaySeconds is invalid. Reason: must be between 0 and 900.');
    }
    const now = Date.now();
    const hasAttributes = messageAttributes && Object.keys(messageAttributes).length > 0;
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5Hex(body),
      sentTimestamp: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
      ...(hasAttributes
        ? { messageAttributes, md5OfMessageAttributes: md5OfMessageAttributes(messageAttributes) }
        : {}),
    };
    queue.messages.push(message);
    this.persist(queue);
    this.wake(queue);
    return {
      messageId: message.messageId,
      md5OfMessageBody: message.md5OfBody,
      ...(message.md5OfMessageAttributes ? { md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    };
  }

  private expire(queue: Queue, now: number): void {
    const retentionMs = Number(queue.attributes.MessageRetentionPeriod) * 1000;
    const before = queue.messages.length;
    queue.messages = queue.messages.filter((m) => m.sentTimestamp + retentionMs > now);
    if (queue.messages.length !== before) this.persist(queue);
  }

  private counts(queue: Queue): { visible: number; inFlight: number; delayed: number } {
    const now = Date.now();
    this.expire(queue, now);
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of queue.messages) {
      if (m.visibleAt <= now) visible++;
      else if (m.receiveCount > 0) inFlight++;
      else delayed++;
    }
    return { visible, inFlight, delayed };
  }

  private takeVisible(queue: Queue, max: number, visibilityTimeout: number): StoredMessage[] {
    const now = Date.now();
    this.expire(queue, now);
    const redrive = this.deadLetterQueueOf(queue);
    const taken: StoredMessage[] = [];
    for (const m of [...queue.messages]) {
      if (taken.length >= max) break;
      if (m.visibleAt > now) continue;
      if (redrive && m.receiveCount >= redrive.maxReceiveCount) {
        this.moveToDeadLetterQueue(queue, m, redrive.queue, now);
        continue;
      }
      m.receiveCount++;
      m.firstReceiveTimestamp ??= now;
      m.receiptNonce = randomUUID();
      m.visibleAt = now + visibilityTimeout * 1000;
      taken.push(m);
    }
    if (taken.length > 0) this.persist(queue);
    return taken;
  }

  /** The dead-letter queue of the queue's RedrivePolicy, when it has one that names an existing queue. */
  private deadLetterQueueOf(queue: Queue): { queue: Queue; maxReceiveCount: number } | undefined {
    const text = queue.attributes.RedrivePolicy;
    if (!text) return undefined;
    const policy = checkRedrivePolicy(text);
    const target = this.queues.get(queueNameOf(policy.deadLetterTargetArn));
    if (!target) {
      this.logger.warn('local SQS: the dead-letter queue of a redrive policy does not exist; messages stay', {
        queue: queue.name,
        deadLetterTargetArn: policy.deadLetterTargetArn,
      });
      return undefined;
    }
    return { queue: target, maxReceiveCount: policy.maxReceiveCount };
  }

  /**
   * Moves a message received more than `maxReceiveCount` times to the dead-letter queue, as SQS does when a receive
   * would exceed it: same id, body and attributes, its original sent time (retention counts from it), visible.
   */
  private moveToDeadLetterQueue(queue: Queue, message: StoredMessage, deadLetters: Queue, now: number): void {
    queue.messages = queue.messages.filter((m) => m !== message);
    deadLetters.messages.push({
      messageId: message.messageId,
      body: message.body,
      md5OfBody: message.md5OfBody,
      ...(message.messageAttributes ? { messageAttributes: message.messageAttributes, md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
      sentTimestamp: message.sentTimestamp,
      visibleAt: now,
      receiveCount: 0,
    });
    this.persist(queue);
    this.persist(deadLetters);
    this.wake(deadLetters);
  }

  /** Long poll: waits for a send, a visibility change or the deadline, never by polling. */
  private async receive(
    queue: Queue,
    max: number,
    visibilityTimeout: number,
    waitSeconds: number,
    cancelled: () => boolean,
    onCancel: (fn: () => void) => void,
  ): Promise<StoredMessage[]> {
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      const messages = this.takeVisible(queue, max, visibilityTimeout);
      const now = Date.now();
      if (messages.length > 0 || now >= deadline || this.stopped || cancelled()) return messages;
      const nextVisible = queue.messages.reduce((min, m) => Math.min(min, m.visibleAt), Infinity);
      const waitMs = Math.max(1, Math.min(deadline, nextVisible) - now);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          queue.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        queue.waiters.add(done);
        onCancel(done);
      });
    }
  }

  private wake(queue: Queue): void {
    for (const waiter of [...queue.waiters]) waiter();
  }

  private decodeReceipt(handle: unknown): { messageId: string; nonce: string } {
    if (typeof handle !== 'string' || handle.length === 0) {
      throw new SqsError('MissingParameter', 'The request must contain the parameter ReceiptHandle.');
    }
    const decoded = Buffer.from(handle, 'base64url').toString('utf8');
    const [messageId, nonce] = decoded.split('#');
    if (!messageId || !nonce) {
      throw new SqsError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`);
    }
    return { messageId, nonce };
  }

  private receiptHandle(m: StoredMessage): string {
    return Buffer.from(`${m.messageId}#${String(m.receiptNonce)}`, 'utf8').toString('base64url');
  }

  // ---------------------------------------------------------------- persistence

  private fileOf(name: string): string {
    return join(this.dataDir, `${name}.json`);
  }

  private persist(queue: Queue): void {
    const state: QueueState = {
      name: queue.name,
      attributes: queue.attributes,
      createdTimestamp: queue.createdTimestamp,
      lastModifiedTimestamp: queue.lastModifiedTimestamp,
      messages: queue.messages,
    };
    const file = this.fileOf(queue.name);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, file);
  }

  private load(): void {
    for (const entry of readdirSync(this.dataDir)) {
      if (!entry.endsWith('.json')) continue;
      try {
        const state = JSON.parse(readFileSync(join(this.dataDir, entry), 'utf8')) as QueueState;
        if (!state.name || !Array.isArray(state.messages)) throw new Error('not a queue file');
        this.queues.set(state.name, { ...state, waiters: new Set() });
      } catch (error) {
        this.logger.warn('local SQS skipped an unreadable queue file', { file: entry, error: String(error) });
      }
    }
  }

  // ---------------------------------------------------------------- HTTP / JSON 1.0 protocol

  private async closeServer(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => { resolve(); });
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    let closed = false;
    const cancelHooks: Array<() => void> = [];
    // A long poll whose client went away must release its waiter rather than hold the queue's messages.
    res.on('close', () => {
      closed = true;
      for (const hook of cancelHooks) hook();
    });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (closed) return;
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': Buffer.byteLength(text),
        'x-amzn-requestid': requestId,
        ...headers,
      });
      res.end(text);
    };
    try {
      const raw = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || !target.startsWith('AmazonSQS.')) {
        throw new SqsError(
          'UnsupportedOperation',
          'The local SQS speaks only the AWS JSON 1.0 protocol (POST with X-Amz-Target: AmazonSQS.<Operation>).',
        );
      }
      let body: JsonValue;
      try {
        body = raw.length > 0 ? parseJson(raw) : {};
      } catch {
        throw new SqsError('InvalidParameterValue', 'The request body is not valid JSON.');
      }
      const operation = target.slice('AmazonSQS.'.length);
      // A body that is not an object (`null`, a string) carries no parameters.
      const input = objectOr(body);
      const permission = this.iam ? this.permissionFor(operation, input) : undefined;
      if (this.iam && permission) this.authorize(this.iam.callerForAccessKey(accessKeyOf(req.headers.authorization)), permission);
      const output = await this.dispatch(operation, input, () => closed, (fn) => cancelHooks.push(fn));
      send(200, output);
    } catch (error) {
      if (error instanceof SqsError) {
        // AWS's framework errors spell the member `Message`, the SQS model's `message`; the SDK reads either.
        const messageKey = error.wireType.startsWith('com.amazonaws.sqs#') ? 'message' : 'Message';
        send(error.status, { __type: error.wireType, [messageKey]: error.message }, {
          'x-amzn-query-error': `${error.queryCode};Sender`,
        });
      } else {
        this.logger.error('local SQS request failed', { error: String(error) });
        send(500, { __type: 'com.amazonaws.sqs#InternalError', message: error instanceof Error ? error.message : String(error) }, {
          'x-amzn-query-error': 'InternalError;Receiver',
        });
      }
    }
  }

  private async dispatch(
    operation: string,
    input: JsonObject,
    cancelled: () => boolean,
    onCancel: (fn: () => void) => void,
  ): Promise<Record<string, unknown>> {
    switch (operation) {
      case 'CreateQueue': {
        const name = requireString(input, 'QueueName');
        const attributes = mapField(input.Attributes);
        const existing = this.queues.get(name);
        if (existing) {
          const requested = this.validateAttributes(attributes);
          for (const [key, value] of Object.entries(requested)) {
            if (existing.attributes[key] !== value) {
              throw new SqsError(
                'QueueNameExists',
                `A queue already exists with the same name and a different value for attribute ${key}`,
              );
            }
          }
        } else {
          this.create(name, attributes);
        }
        return { QueueUrl: this.queueUrl(name) };
      }
      case 'GetQueueUrl': {
        const name = requireString(input, 'QueueName');
        const queue = this.resolve(name);
        return { QueueUrl: this.queueUrl(queue.name) };
      }
      case 'ListQueues': {
        const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : '';
        const names = [...this.queues.keys()].filter((n) => n.startsWith(prefix)).sort();
        const max = input.MaxResults === undefined ? undefined : Number(input.MaxResults);
        if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > 1000)) {
          throw new SqsError('InvalidParameterValue', 'Value for parameter MaxResults is invalid. Reason: must be between 1 and 1000.');
        }
        const start = input.NextToken ? Number(Buffer.from(fieldText(input.NextToken), 'base64url').toString()) || 0 : 0;
        const end = max === undefined ? names.length : Math.min(names.length, start + max);
        const page = names.slice(start, max === undefined ? undefined : end);
        const out: Record<string, unknown> = {};
        if (page.length > 0) out.QueueUrls = page.map((n) => this.queueUrl(n));
        if (max !== undefined && end < names.length) out.NextToken = Buffer.from(String(end)).toString('base64url');
        return out;
      }
      case 'DeleteQueue': {
        const queue = this.resolve(requireString(input, 'QueueUrl'));
        this.queues.delete(queue.name);
        rmSync(this.fileOf(queue.name), { force: true });
        this.wake(queue);
        return {};
      }
      case 'GetQueueAttributes': {
        const queue = this.resolve(requireString(input, 'QueueUrl'));
        const wanted = (input.AttributeNames as string[] | undefined) ?? [];
        return { Attributes: this.attributesOf(queue, wanted) };
      }
      case 'SetQueueAttributes': {
        const queue = this.resolve(requireString(input, 'QueueUrl'));
        Object.assign(queue.attributes, this.validateAttributes(mapField(input.Attributes)));
        queue.lastModifiedTimestamp = Date.now();
        this.persist(queue);
        return {};
      }
      case 'PurgeQueue': {
        const queue = this.resolve(requireString(input, 'QueueUrl'));
        queue.messages = [];
        this.persist(queue);
        return {};
      }
      case 'SendMessage': {
        const queue = this.resolve(requireString(input, 'QueueUrl'));
        const sent = this.enqueue(queue, input.MessageBody, messageAttributesField(input.MessageAttributes), optionalInt(input, 'DelaySeconds'));
        return {
          MessageId: sent.messageId,
          MD5OfMessageBody: sent.md5OfMessageBody,
          ...(sent.md5OfMessageAttributes ? { MD5OfMessageAttributes: sent.md5OfMessageAttributes } : {}),
        };
      }
      case 'SendMessageBatch': {
        const queue = this.resolve(requireString(input, 'QueueUrl'));
        const entries = checkBatch(input.Entries, 'SendMessageBatchRequestEntry');
        const total = entries.reduce(
          (sum, entry) => sum + (typeof entry.MessageBody === 'string' ? messageSize(entry.MessageBody, messageAttributesField(entry.MessageAttributes) ?? {}) : 0),
          0,
        );
        if (total > MAX_BATCH_BYTES) {
          throw new SqsError('BatchRequestTooLong', `Batch requests cannot be longer than ${String(MAX_BATCH_BYTES)} bytes. You have sent ${String(total)} bytes.`);
        }
        const Successful: SendMessageBatchResultEntry[] = [];
        const Failed: BatchResultErrorEntry[] = [];
        for (const entry of entries) {
          try {
            const sent = this.enqueue(queue, entry.MessageBody, messageAttributesField(entry.MessageAttributes), optionalInt(entry, 'DelaySeconds'));
            Successful.push({
              Id: entry.Id,
              MessageId: sent.messageId,
              MD5OfMessageBody: sent.md5OfMessageBody,
              ...(sent.md5OfMessageAttributes ? { MD5OfMessageAttributes: sent.md5OfMessageAttributes } : {}),
            });
          } catch (error) {
            if (!(error instanceof SqsError)) throw error;
            Failed.push({ Id: entry.Id, SenderFault: true, Code: error.queryCode, Message: error.message });
          }
        }
        return { Successful, Failed };
      }
      case 'ReceiveMessage': {
        const queue = this.resolve(requireString(input, 'QueueUrl'));
        const max = optionalInt(input, 'MaxNumberOfMessages') ?? 1;
        if (max < 1 || max > 10) {
          throw new SqsError('InvalidParameterValue', 'Value for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10.');
        }
        const visibility = optionalInt(input, 'VisibilityTimeout') ?? Number(queue.attributes.VisibilityTimeout);
        if (visibility < 0 || visibility > 43200) {
          throw new SqsError('InvalidParameterValue', 'Value for parameter VisibilityTimeout is invalid.');
        }
        const wait = optionalInt(input, 'WaitTimeSeconds') ?? Number(queue.attributes.ReceiveMessageWaitTimeSeconds);
        if (wait < 0 || wait > 20) {
          throw new SqsError('InvalidParameterValue', 'Value for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20.');
        }
        const messages = await this.receive(queue, max, visibility, wait, cancelled, onCancel);
        if (messages.length === 0) return {};
        // Name lists as the SDK sends them; AttributeNames is what older SDKs call MessageSystemAttributeNames.
        const names = input as Pick<ReceiveMessageRequest, 'MessageSystemAttributeNames' | 'MessageAttributeNames'> & { AttributeNames?: string[] };
        const systemNames: string[] = [...(names.AttributeNames ?? []), ...(names.MessageSystemAttributeNames ?? [])];
        const attributeNames: string[] = names.MessageAttributeNames ?? [];
        return { Messages: messages.map((m) => this.wireMessage(m, systemNames, attributeNames)) };
      }
      case 'DeleteMessage': {
        const queue = this.resolve(requireString(input, 'QueueUrl'));
        this.deleteByReceipt(queue, input.ReceiptHandle);
        return {};
      }
      case 'DeleteMessageBatch': {
        const queue = this.resolve(requireString(input, 'QueueUrl'));
        const entries = checkBatch(input.Entries, 'DeleteMessageBatchRequestEntry');
        const Successful: DeleteMessageBatchResultEntry[] = [];
        const Failed: BatchResultErrorEntry[] = [];
        for (const entry of entries) {
          try {
            this.deleteByReceipt(queue, entry.ReceiptHandle);
            Successful.push({ Id: entry.Id });
          } catch (error) {
            if (!(error instanceof SqsError)) throw error;
            Failed.push({ Id: entry.Id, SenderFault: true, Code: error.queryCode, Message: error.message });
          }
        }
        return { Successful, Failed };
      }
      case 'ChangeMessageVisibility': {
        const queue = this.resolve(requireString(input, 'QueueUrl'));
        this.changeVisibility(queue, input.ReceiptHandle, optionalInt(input, 'VisibilityTimeout'));
        return {};
      }
      case 'ChangeMessageVisibilityBatch': {
        const queue = this.resolve(requireString(input, 'QueueUrl'));
        const entries = checkBatch(input.Entries, 'ChangeMessageVisibilityBatchRequestEntry');
        const Successful: Array<{ Id: string }> = [];
        const Failed: BatchResultErrorEntry[] = [];
        for (const entry of entries) {
          try {
            this.changeVisibility(queue, entry.ReceiptHandle, optionalInt(entry, 'VisibilityTimeout'));
            Successful.push({ Id: entry.Id });
          } catch (error) {
            if (!(error instanceof SqsError)) throw error;
            Failed.push({ Id: entry.Id, SenderFault: true, Code: error.queryCode, Message: error.message });
          }
        }
        return { Successful, Failed };
      }
      default:
        throw new SqsError(
          'UnsupportedOperation',
          `The local SQS does not implement ${operation}.`,
        );
    }
  }

  /** Makes an in-flight message visible again after `timeout` seconds (0: now). */
  private changeVisibility(queue: Queue, handle: unknown, timeout: number | undefined): void {
    const { messageId, nonce } = this.decodeReceipt(handle);
    if (timeout === undefined || timeout < 0 || timeout > 43200) {
      throw new SqsError('InvalidParameterValue', 'Value for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.');
    }
    const m = queue.messages.find((x) => x.messageId === messageId);
    if (!m || m.receiptNonce !== nonce || m.visibleAt <= Date.now()) {
      throw new SqsError('MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.');
    }
    m.visibleAt = Date.now() + timeout * 1000;
    this.persist(queue);
    this.wake(queue);
  }

  /** AWS accepts an outdated receipt handle of an existing message and deletes it; so do we. */
  private deleteByReceipt(queue: Queue, handle: unknown): void {
    const { messageId } = this.decodeReceipt(handle);
    const index = queue.messages.findIndex((m) => m.messageId === messageId);
    if (index >= 0) {
      queue.messages.splice(index, 1);
      this.persist(queue);
    }
  }

  private attributesOf(queue: Queue, wanted: string[]): Record<string, string> {
    const { visible, inFlight, delayed } = this.counts(queue);
    const all: Record<string, string> = {
      ...queue.attributes,
      QueueArn: this.queueArn(queue.name),
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
      CreatedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.lastModifiedTimestamp / 1000)),
    };
    if (wanted.includes('All')) return all;
    const out: Record<string, string> = {};
    for (const name of wanted) {
      if (!(name in all) && !SETTABLE_ATTRIBUTES.has(name)) {
        throw new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      }
      if (name in all) out[name] = all[name];
    }
    return out;
  }

  private wireMessage(m: StoredMessage, systemNames: string[], attributeNames: string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {
      MessageId: m.messageId,
      ReceiptHandle: this.receiptHandle(m),
      MD5OfBody: m.md5OfBody,
      Body: m.body,
    };
    const system: Record<string, string> = {
      SenderId: this.accountId,
      SentTimestamp: String(m.sentTimestamp),
      ApproximateReceiveCount: String(m.receiveCount),
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? m.sentTimestamp),
    };
    const wantAll = systemNames.includes('All');
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(system)) if (wantAll || systemNames.includes(k)) attributes[k] = v;
    if (Object.keys(attributes).length > 0) out.Attributes = attributes;
    if (m.messageAttributes && attributeNames.length > 0) {
      const selected: Record<string, MessageAttributeValue> = {};
      for (const [name, value] of Object.entries(m.messageAttributes)) {
        const wanted = attributeNames.some(
          (pattern) =>
            pattern === 'All' || pattern === '.*' || pattern === name || (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))),
        );
        if (wanted) selected[name] = value;
      }
      if (Object.keys(selected).length > 0) {
        out.MessageAttributes = selected;
        out.MD5OfMessageAttributes = md5OfMessageAttributes(selected);
      }
    }
    return out;
  }
}

/**
 * A map parameter (Attributes) as sent, read by `Object.entries`: anything but an object yields no names, or
 * (a string) names that are refused as unknown.
 */
function mapField(value: JsonValue | undefined): Readonly<Record<string, unknown>> {
  return (value ?? {}) as Readonly<Record<string, unknown>>;
}

/** MessageAttributes as the SDK sends them (binary values in base64); `enqueue` treats null as none. */
function messageAttributesField(value: JsonValue | undefined): Record<string, MessageAttributeValue> | null | undefined {
  return value as Record<string, MessageAttributeValue> | null | undefined;
}

function requireString(input: JsonObject, key: string): string {
  const value = input[key];
  if (typeof value !== 'string' || value.length === 0) {
    throw new SqsError('MissingParameter', `The request must contain the parameter ${key}.`);
  }
  return value;
}

function optionalInt(input: JsonObject, key: string): number | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new SqsError('InvalidParameterValue', `Value for parameter ${key} is invalid.`);
  return n;
}

/** A batch entry whose Id was checked. */
type BatchEntry = JsonObject & { Id: string };

function hasValidBatchId(entry: unknown): entry is BatchEntry {
  return isJsonObject(entry) && typeof entry.Id === 'string' && /^[A-Za-z0-9_-]{1,80}$/.test(entry.Id);
}

function checkBatch(entries: unknown, entryType: string): BatchEntry[] {
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new SqsError('EmptyBatchRequest', `There should be at least one ${entryType} in the request.`);
  }
  if (entries.length > 10) {
    throw new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${String(entries.length)}.`);
  }
  const ids = new Set<string>();
  const checked: BatchEntry[] = [];
  for (const entry of entries as unknown[]) {
    if (!hasValidBatchId(entry)) {
      throw new SqsError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores.');
    }
    if (ids.has(entry.Id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${entry.Id} repeated.`);
    ids.add(entry.Id);
    checked.push(entry);
  }
  return checked;
}

/** A RedrivePolicy as SQS validates it: JSON naming the dead-letter queue's ARN and a maxReceiveCount of 1–1000. */
function checkRedrivePolicy(text: string): { deadLetterTargetArn: string; maxReceiveCount: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SqsError('InvalidAttributeValue', 'Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.');
  }
  const policy = isJsonObject(parsed) ? parsed : {};
  const arn = policy.deadLetterTargetArn;
  const count = Number(policy.maxReceiveCount);
  if (typeof arn !== 'string' || !arn.startsWith('arn:') || !Number.isInteger(count) || count < 1 || count > 1000) {
    throw new SqsError(
      'InvalidAttributeValue',
      'Invalid value for the parameter RedrivePolicy. Reason: Redrive policy needs a deadLetterTargetArn and a maxReceiveCount between 1 and 1000.',
    );
  }
  return { deadLetterTargetArn: arn, maxReceiveCount: count };
}

/** At most 10 attributes, each of a known data type with the value that type needs. */
function checkMessageAttributes(attributes: Readonly<Record<string, MessageAttributeValue>>): void {
  const names = Object.keys(attributes);
  if (names.length > MAX_MESSAGE_ATTRIBUTES) {
    throw new SqsError(
      'InvalidParameterValue',
      `Number of message attributes [${String(names.length)}] exceeds the allowed maximum [${String(MAX_MESSAGE_ATTRIBUTES)}].`,
    );
  }
  for (const name of names) {
    const value: Partial<MessageAttributeValue> = attributes[name];
    const type = typeof value.DataType === 'string' ? value.DataType : '';
    const base = /^(String|Number|Binary)(\.|$)/.exec(type)?.[1];
    if (base === undefined) {
      throw new SqsError('InvalidParameterValue', `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`);
    }
    const present = base === 'Binary' ? typeof value.BinaryValue === 'string' && value.BinaryValue.length > 0 : typeof value.StringValue === 'string' && value.StringValue.length > 0;
    if (!present) {
      throw new SqsError('InvalidParameterValue', `Message (user) attribute '${name}' must contain a non-empty value of type '${base}'.`);
    }
    if (base !== 'Binary') checkContents(value.StringValue ?? '', `message attribute '${name}'`);
  }
}

/** Refuses characters outside the set SQS accepts (the W3C XML characters). */
function checkContents(text: string, what: string): void {
  const invalid = INVALID_CHARACTER.exec(text)?.[0];
  if (invalid === undefined) return;
  const code = invalid.codePointAt(0) ?? 0;
  throw new SqsError(
    'InvalidMessageContents',
    `Invalid binary character '#x${code.toString(16).toUpperCase()}' was found in the ${what}, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
  );
}
