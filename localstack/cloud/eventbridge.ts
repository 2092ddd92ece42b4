/**
 * EventBridge rules of the template: event patterns (the subset CDK users write: exact values, prefix, suffix,
 * anything-but, exists, numeric, nested objects) and schedules, delivering to Lambda targets.
 *
 * As on AWS, EventBridge invokes a Lambda target asynchronously: once Lambda has accepted the event, the
 * function's errors are Lambda's business (its EventInvokeConfig: retries, event age, on-failure destination,
 * localstack/cloud/lambda/async-invoker.ts). A target's RetryPolicy covers only failures to hand the event
 * over; a missing function is not retried, as AWS does not retry such errors.
 */
import { randomUUID } from 'node:crypto';
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
  State?: string;
  EventPattern?: Record<string, unknown>;
  ScheduleExpression?: string;
  Targets?: RuleTargetProperties[];
}

interface RuleTargetProperties {
  /** Checked at start-up: anything but a Lambda ARN is refused with a message naming it. */
  Arn?: unknown;
  Input?: string;
  /** A template may write the number as text. */
  RetryPolicy?: { MaximumRetryAttempts?: number | string };
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

interface Rule {
  name: string;
  pattern?: Record<string, unknown>;
  scheduleMs?: number;
  targets: Array<{ arn: string; input?: string; maxAttempts: number }>;
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
    },
  ) {}

  addRule(resource: ResolvedResource): void {
    // The synthesized template, resolved: the CloudFormation schema of the rule is what types these properties.
    const p = resource.properties as RuleProperties;
    if (p.State && p.State !== 'ENABLED') return;
    const targets = (p.Targets ?? []).map((t) => {
      const arn = String(t.Arn);
      if (!arn.includes(':lambda:')) throw new Error(`${resource.logicalId}: only Lambda targets run locally (got ${arn})`);
      // 185 retries is EventBridge's default retry policy.
      return { arn, input: t.Input, maxAttempts: 1 + Number(t.RetryPolicy?.MaximumRetryAttempts ?? 185) };
    });
    const rule: Rule = { name: resource.physicalId, pattern: p.EventPattern, targets };
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

  /** PutEvents: fills the envelope like EventBridge and delivers to every matching rule's targets, in the background. */
  put(event: BusEvent): void {
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
  }

  /** Resolves once every delivery under way has been handed over or given up (tests). */
  async idle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.allSettled([...this.deliveries]);
  }

  private deliver(rule: Rule, event: BusEvent): void {
    for (const target of rule.targets) {
      const delivery: Promise<void> = (async () => {
        const payload: unknown = target.input ? JSON.parse(target.input) : event;
        for (let attempt = 1; attempt <= target.maxAttempts && !this.stopped; attempt++) {
          try {
            this.opts.lambda.invokeAsync(target.arn, payload);
            this.delivered++;
            return;
          } catch (error) {
            if (error instanceof ResourceNotFoundError) {
              this.opts.logger.error('event target not found, event dropped', { rule: rule.name, target: target.arn });
              return;
            }
            this.opts.logger.warn('event delivery failed', { rule: rule.name, target: target.arn, attempt, error: String(error) });
          }
          await new Promise((r) => setTimeout(r, Math.min(30_000, (this.opts.deliveryRetryBaseMs ?? 200) * 2 ** (attempt - 1))));
        }
      })().finally(() => this.deliveries.delete(delivery));
      this.deliveries.add(delivery);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
  }
}
