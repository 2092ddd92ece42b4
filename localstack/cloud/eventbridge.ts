/**
 * EventBridge rules of the template: event patterns (the subset CDK users write: exact values, prefix, suffix,
 * anything-but, exists, numeric, nested objects) and schedules, delivering to Lambda targets.
 *
 * As on AWS, EventBridge invokes a Lambda target asynchronously: once Lambda has accepted the event, the
 * function's errors are Lambda's business (its EventInvokeConfig: retries, event age, on-failure destination,
 * localstack/cloud/lambda/async-invoker.ts). A target's RetryPolicy (MaximumRetryAttempts, default 185, and
 * MaximumEventAgeInSeconds, default 86400) covers only failures to hand the event over. A missing function, or
 * one whose resource policy (`AWS::Lambda::Permission`) does not let `events.amazonaws.com` invoke it for this
 * rule, is not retried: as on AWS, the event goes straight to the target's dead-letter queue
 * (`DeadLetterConfig`), or is dropped without one. An event that exhausted its retries goes there too.
 *
 * `putEvents` is the PutEvents API with its documented limits: 1–10 entries, at most 256 KB in all as
 * EventBridge computes an entry's size, each entry with Source, DetailType and a JSON object as Detail.
 */
import { randomUUID } from 'node:crypto';
import type { IamAuthority } from './iam/authority';
import type { SendMessageOptions } from './sqs';
import { ResourceNotFoundError, type AsyncLambdaInvoker, type CloudLogger, type ResolvedResource } from './types';

export interface BusEvent {
  version?: string;
  id?: string;
  'detail-type': string;
  source: string;
  account?: string;
  time?: string;
  region?: string;
  resources?: string[];
  detail: unknown;
}

/** The rule properties read here, as CloudFormation spells them (the pattern is an object, not text). */
interface RuleProperties {
  Name?: string;
  State?: string;
  EventPattern?: Record<string, unknown>;
  ScheduleExpression?: string;
  Targets?: RuleTargetProperties[];
}

interface RuleTargetProperties {
  /** Checked at start-up: anything but a Lambda ARN is refused with a message naming it. */
  Arn?: unknown;
  Input?: string;
  /** A template may write the numbers as text. */
  RetryPolicy?: { MaximumRetryAttempts?: number | string; MaximumEventAgeInSeconds?: number | string };
  DeadLetterConfig?: { Arn?: unknown };
}

/** An entry of PutEvents, as the SDK's `PutEventsRequestEntry` has it. */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  /** A JSON object, as text. */
  Detail?: string;
  Resources?: string[];
  Time?: Date;
  EventBusName?: string;
}

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: Array<{ EventId: string } | { ErrorCode: string; ErrorMessage: string }>;
}

/** A PutEvents request refused as a whole (`ValidationException`), as the API answers it. */
export class EventBridgeValidationError extends Error {
  override readonly name = 'ValidationException';
}

/** PutEvents' limits: 10 entries, and 256 KB for the entries together. */
const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = 262_144;

/**
 * An entry's size as EventBridge documents its computation: 14 bytes for a Time, the UTF-8 bytes of Source,
 * DetailType, Detail and of each resource.
 */
export function putEventsEntrySize(entry: PutEventsEntry): number {
  const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));
  let size = entry.Time === undefined ? 0 : 14;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  for (const resource of entry.Resources ?? []) size += bytes(resource);
  return size;
}

/** Sends a dead-letter record: `LocalSqs.sendMessage` fits. */
export interface DeadLetterSender {
  sendMessage(queueArn: string, body: string, options?: SendMessageOptions): Promise<unknown>;
}

function matchValue(rule: unknown, value: unknown): boolean {
  if (rule === null || typeof rule !== 'object') return value === rule;
  const r = rule as Record<string, unknown>;
  if ('prefix' in r) return typeof value === 'string' && value.startsWith(String(r.prefix));
  if ('suffix' in r) return typeof value === 'string' && value.endsWith(String(r.suffix));
  if ('exists' in r) return r.exists ? value !== undefined : value === undefined;
  if ('anything-but' in r) {
    const not = r['anything-but'];
    if (Array.isArray(not)) return value !== undefined && !not.includes(value);
    if (not && typeof not === 'object') return !matchValue(not, value);
    return value !== undefined && value !== not;
  }
  if ('numeric' in r) {
    if (typeof value !== 'number') return false;
    const ops = r.numeric as Array<string | number>;
    for (let i = 0; i < ops.length; i += 2) {
      const op = ops[i];
      const n = Number(ops[i + 1]);
      const ok = op === '=' ? value === n : op === '<' ? value < n : op === '<=' ? value <= n : op === '>' ? value > n : op === '>=' ? value >= n : false;
      if (!ok) return false;
    }
    return true;
  }
  if ('equals-ignore-case' in r) return typeof value === 'string' && value.toLowerCase() === String(r['equals-ignore-case']).toLowerCase();
  throw new Error(`Unsupported event pattern operator ${Object.keys(r).join(',')}`);
}

export function matchesPattern(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    const value = event[key];
    if (Array.isArray(rule)) {
      const values = Array.isArray(value) ? value : [value];
      const existsRule: unknown = rule.find((x) => x && typeof x === 'object' && 'exists' in x);
      if (existsRule && !matchValue(existsRule, value)) return false;
      if (!rule.some((x) => values.some((v) => matchValue(x, v)))) return false;
    } else if (rule && typeof rule === 'object') {
      if (!value || typeof value !== 'object') return false;
      if (!matchesPattern(rule as Record<string, unknown>, value as Record<string, unknown>)) return false;
    } else return false;
  }
  return true;
}

interface Target {
  arn: string;
  input?: string;
  /** 1 + MaximumRetryAttempts. */
  maxAttempts: number;
  maxEventAgeMs: number;
  deadLetterArn?: string;
}

interface Rule {
  name: string;
  arn: string;
  pattern?: Record<string, unknown>;
  scheduleMs?: number;
  targets: Target[];
}

/** Why a delivery failed for good: the DLQ record's ERROR_CODE and ERROR_MESSAGE, and how many retries were made. */
interface DeliveryFailure {
  code: string;
  message: string;
  retries: number;
  exhausted?: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds';
}

function retryPolicyValue(logicalId: string, name: string, raw: number | string | undefined, fallback: number, [min, max]: [number, number]): number {
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${logicalId}: RetryPolicy.${name} must be an integer from ${String(min)} to ${String(max)} (got ${String(raw)})`);
  }
  return value;
}

function scheduleToMs(expression: string): number {
  const m = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!m) throw new Error(`Schedule ${expression}: only rate() expressions run locally`);
  const n = Number(m[1]);
  const unit = m[2].startsWith('minute') ? 60_000 : m[2].startsWith('hour') ? 3_600_000 : 86_400_000;
  return n * unit;
}

export class LocalEventBridge {
  private rules: Rule[] = [];
  private timers: NodeJS.Timeout[] = [];
  delivered = 0;
  /** Deliveries that failed for good (AWS's FailedInvocations): refused, target missing, retries exhausted. */
  failedInvocations = 0;

  private stopped = false;
  private readonly deliveries = new Set<Promise<void>>();

  constructor(
    private readonly opts: {
      region: string;
      accountId: string;
      lambda: AsyncLambdaInvoker;
      logger: CloudLogger;
      scheduleScale?: number;
      /** First wait before a delivery retry (doubling, at most 30 s). */
      deliveryRetryBaseMs?: number;
      /** Checks each Lambda target's resource policy before invoking it; without it, every invocation is allowed. */
      iam?: IamAuthority;
      /** Where the dead-letter records of targets with a `DeadLetterConfig` go (the local SQS). */
      deadLetters?: DeadLetterSender;
      /** The clock event ages are measured with (tests). */
      now?: () => number;
    },
  ) {}

  addRule(resource: ResolvedResource): void {
    // The synthesized template, resolved: the CloudFormation schema of the rule is what types these properties.
    const p = resource.properties as RuleProperties;
    if (p.State && p.State !== 'ENABLED') return;
    const targets = (p.Targets ?? []).map((t): Target => {
      const arn = String(t.Arn);
      if (!arn.includes(':lambda:')) throw new Error(`${resource.logicalId}: only Lambda targets run locally (got ${arn})`);
      const deadLetterArn = t.DeadLetterConfig?.Arn;
      if (deadLetterArn !== undefined && (typeof deadLetterArn !== 'string' || !deadLetterArn.includes(':sqs:'))) {
        throw new Error(`${resource.logicalId}: a target's DeadLetterConfig must name an SQS queue (got ${JSON.stringify(deadLetterArn)})`);
      }
      // EventBridge's default retry policy: 185 retries, for at most 24 hours.
      const retries = retryPolicyValue(resource.logicalId, 'MaximumRetryAttempts', t.RetryPolicy?.MaximumRetryAttempts, 185, [0, 185]);
      const maxAge = retryPolicyValue(resource.logicalId, 'MaximumEventAgeInSeconds', t.RetryPolicy?.MaximumEventAgeInSeconds, 86_400, [60, 86_400]);
      return { arn, input: t.Input, maxAttempts: 1 + retries, maxEventAgeMs: maxAge * 1000, ...(deadLetterArn !== undefined && { deadLetterArn }) };
    });
    const ruleArn = Object.hasOwn(resource.attributes, 'Arn')
      ? resource.attributes.Arn
      : `arn:aws:events:${this.opts.region}:${this.opts.accountId}:rule/${resource.physicalId}`;
    const rule: Rule = { name: resource.physicalId, arn: ruleArn, pattern: p.EventPattern, targets };
    if (p.ScheduleExpression) {
      rule.scheduleMs = scheduleToMs(p.ScheduleExpression) * (this.opts.scheduleScale ?? 1);
      const timer = setInterval(() => { this.deliver(rule, this.scheduledEvent(resource)); }, rule.scheduleMs);
      timer.unref();
      this.timers.push(timer);
    }
    this.rules.push(rule);
  }

  private scheduledEvent(resource: ResolvedResource): BusEvent {
    return { 'detail-type': 'Scheduled Event', source: 'aws.events', resources: [resource.attributes.Arn], detail: {} };
  }

  /**
   * An event from an AWS service (Step Functions' status changes): fills the envelope like EventBridge and
   * delivers to every matching rule's targets, in the background. Returns the event's id.
   */
  put(event: BusEvent): string {
    const full = {
      version: '0',
      id: randomUUID(),
      account: this.opts.accountId,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.opts.region,
      resources: [],
      ...event,
    };
    for (const rule of this.rules) {
      if (rule.pattern && matchesPattern(rule.pattern, full)) this.deliver(rule, full);
    }
    return full.id;
  }

  /**
   * PutEvents on the default bus: refuses the request (`ValidationException`) with no entry or more than 10, or
   * entries over 256 KB together; refuses an entry without Source, DetailType or Detail (`InvalidArgument`) or
   * whose Detail is not a JSON object (`MalformedDetail`), and puts the others.
   */
  putEvents(entries: readonly PutEventsEntry[]): PutEventsResult {
    if (entries.length < 1 || entries.length > PUT_EVENTS_MAX_ENTRIES) {
      throw new EventBridgeValidationError(
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${String(PUT_EVENTS_MAX_ENTRIES)} and greater than or equal to 1`,
      );
    }
    const total = entries.reduce((sum, entry) => sum + putEventsEntrySize(entry), 0);
    if (total > PUT_EVENTS_MAX_BYTES) throw new EventBridgeValidationError('Total size of the entries in the request is over the limit.');
    const results: PutEventsResult['Entries'] = entries.map((entry) => {
      for (const [field, value] of [['Source', entry.Source], ['DetailType', entry.DetailType], ['Detail', entry.Detail]] as const) {
        if (value === undefined || value === '') {
          return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` };
        }
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail ?? '');
      } catch {
        detail = undefined;
      }
      if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      const EventId = this.put({
        source: entry.Source ?? '',
        'detail-type': entry.DetailType ?? '',
        detail,
        resources: entry.Resources ?? [],
        ...(entry.Time && { time: entry.Time.toISOString().replace(/\.\d{3}Z$/, 'Z') }),
      });
      return { EventId };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** Resolves once every delivery under way has been handed over or given up (tests). */
  async idle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.allSettled([...this.deliveries]);
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private deliver(rule: Rule, event: BusEvent): void {
    const acceptedAt = this.now();
    for (const target of rule.targets) {
      const delivery: Promise<void> = (async () => {
        const failure = await this.handOver(rule, target, event, acceptedAt);
        if (failure) await this.failed(rule, target, event, failure);
      })().finally(() => this.deliveries.delete(delivery));
      this.deliveries.add(delivery);
    }
  }

  /** Hands the event to Lambda, retrying within the target's RetryPolicy; undefined once accepted (or stopped). */
  private async handOver(rule: Rule, target: Target, event: BusEvent, acceptedAt: number): Promise<DeliveryFailure | undefined> {
    const permission = this.opts.iam?.authorizeInvoke(target.arn, { principal: 'events.amazonaws.com', sourceArn: rule.arn, sourceAccount: this.opts.accountId });
    if (permission && !permission.allowed) return { code: 'NO_PERMISSIONS', message: permission.message, retries: 0 };
    const payload: unknown = target.input ? JSON.parse(target.input) : event;
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        this.opts.lambda.invokeAsync(target.arn, payload);
        this.delivered++;
        return undefined;
      } catch (error) {
        if (error instanceof ResourceNotFoundError) return { code: 'NO_RESOURCE', message: error.message, retries: attempt - 1 };
        this.opts.logger.warn('event delivery failed', { rule: rule.name, target: target.arn, attempt, error: String(error) });
        const code = error instanceof Error && error.name === 'TooManyRequestsException' ? 'THROTTLING' : 'SDK_CLIENT_ERROR';
        const message = error instanceof Error ? error.message : String(error);
        if (attempt >= target.maxAttempts) return { code, message, retries: attempt - 1, exhausted: 'MaximumRetryAttempts' };
        await new Promise((r) => setTimeout(r, Math.min(30_000, (this.opts.deliveryRetryBaseMs ?? 200) * 2 ** (attempt - 1))));
        if (this.now() - acceptedAt >= target.maxEventAgeMs) return { code, message, retries: attempt - 1, exhausted: 'MaximumEventAgeInSeconds' };
      }
    }
    return undefined;
  }

  /** A failed invocation: to the target's dead-letter queue with EventBridge's attributes, or dropped. */
  private async failed(rule: Rule, target: Target, event: BusEvent, failure: DeliveryFailure): Promise<void> {
    this.failedInvocations++;
    const context = { rule: rule.name, target: target.arn, errorCode: failure.code, error: failure.message };
    if (failure.code === 'NO_RESOURCE' && !target.deadLetterArn) {
      this.opts.logger.error('event target not found, event dropped', context);
      return;
    }
    if (failure.code === 'NO_PERMISSIONS') this.opts.logger.warn('event target refused: the function\'s resource policy does not allow this rule', context);
    if (!target.deadLetterArn || !this.opts.deadLetters) {
      if (failure.code !== 'NO_PERMISSIONS') this.opts.logger.warn('event delivery failed for good, event dropped', context);
      return;
    }
    const attributes: Record<string, string> = {
      RULE_ARN: rule.arn,
      TARGET_ARN: target.arn,
      ERROR_CODE: failure.code,
      ERROR_MESSAGE: failure.message,
      ...(failure.exhausted && { EXHAUSTED_RETRY_CONDITION: failure.exhausted, RETRY_ATTEMPTS: String(failure.retries) }),
    };
    const messageAttributes = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]));
    try {
      await this.opts.deadLetters.sendMessage(target.deadLetterArn, JSON.stringify(event), { messageAttributes });
    } catch (error) {
      this.opts.logger.error('event could not be sent to the target\'s dead-letter queue', { ...context, deadLetterQueue: target.deadLetterArn, sendError: String(error) });
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
  }
}
