import { z } from 'zod';

/**
 * The run event model. These zod schemas are the single source for the TypeScript types, for validation
 * at emit time and for the JSON Schema published as docs/events.schema.json (see eventsJsonSchema).
 *
 * Payload objects are not strict: parsing strips unknown keys instead of failing, so a client built
 * against an older schema keeps working when the server adds an optional field.
 */

const nonEmpty = z.string().min(1);
const count = z.number().int().nonnegative();
const money = z.number().nonnegative();
const durationMs = z.number().nonnegative();

const stepId = nonEmpty.describe('Id of the workflow step');
// The item's key relative to the run workspace (an object under inputs/ or an upstream output).
const item = nonEmpty.describe('Key of the item the event is about');

const ErrorInfoSchema = z.object({
  type: nonEmpty.describe('Error class, e.g. RetryableError, FatalError, States.Timeout'),
  message: z.string(),
});

// Which LLM provider (offline | openai | bedrock | …) and model the spend came from; absent when nothing was spent.
const provider = nonEmpty.describe('LLM provider the spend came from: offline, openai, bedrock, …');
const model = nonEmpty.describe('Model id the spend came from');

/**
 * An attempt's figures: tokens and cost are what this attempt spent (a failed or retried attempt too; every
 * attempt's spend counts in the run's totals).
 */
const ItemMetricsSchema = z.object({
  durationMs,
  tokensUsed: count,
  costUsd: money,
  retryCount: count,
  provider: provider.optional(),
  model: model.optional(),
});

const UsageEntrySchema = z.object({
  provider: provider.optional(),
  model: model.optional(),
  tokens: count,
  costUsd: money,
});

const RunSummarySchema = z.object({
  totalItems: count,
  successCount: count,
  failureCount: count,
  totalTokens: count,
  totalCostUsd: money,
  durationMs,
  // Where the spend came from: provider names, and tokens and cost per provider and model. Absent: nothing spent.
  providers: z.array(provider).optional(),
  usage: z.array(UsageEntrySchema).optional(),
});

/** AgentSelected carries at most this many candidates: the event stays small with a large fleet. */
export const MAX_EVENT_CANDIDATES = 10;

const CandidateSchema = z.object({
  agentId: nonEmpty,
  score: z.number(),
  reasons: z.array(z.string()),
});

const payloads = {
  RunQueued: z.object({
    workflowId: nonEmpty,
    version: z.number().int().positive(),
    priority: z.number().int().min(0).max(9).optional(),
  }),
  RunStarted: z.object({
    executionArn: nonEmpty.optional(),
  }),
  RunPaused: z.object({
    reason: z.string().optional(),
  }),
  RunResumed: z.object({}),
  ConcurrencyChanged: z.object({
    maxConcurrency: z.number().int().positive(),
    previous: z.number().int().positive().optional(),
  }),
  RunSucceeded: z.object({
    summary: RunSummarySchema,
  }),
  RunFailed: z.object({
    error: ErrorInfoSchema,
    stepId: stepId.optional(),
    summary: RunSummarySchema.optional(),
  }),
  RunCancelled: z.object({
    reason: z.string().optional(),
    receipt: z.object({
      itemsDone: count,
      itemsAbandoned: count,
    }),
  }),
  AgentSelected: z.object({
    stepId,
    agentId: nonEmpty,
    score: z.number(),
    candidates: z.array(CandidateSchema),
    // Present when an item (or the whole step) moved off an agent whose retries ran out or whose circuit opened.
    fallbackFrom: nonEmpty.optional(),
    item: item.optional(),
    reason: z.string().optional(),
  }),
  StepStarted: z.object({
    stepId,
    skill: nonEmpty,
    agentId: nonEmpty,
    totalItems: count,
  }),
  StepSkipped: z.object({
    stepId,
    reason: z.string(),
  }),
  ItemStarted: z.object({
    stepId,
    item,
    index: count,
    total: count,
    agentId: nonEmpty.optional(),
    attempt: z.number().int().positive().optional(),
  }),
  ItemProgress: z.object({
    stepId,
    item,
    progress: z.number().min(0).max(1),
    tokensUsed: count,
    etaMs: durationMs.optional(),
    // The item's spend so far, when its agent reports it (cumulative, like tokensUsed).
    costUsd: money.optional(),
    provider: provider.optional(),
    model: model.optional(),
  }),
  ItemCompleted: z.object({
    stepId,
    item,
    outputKey: nonEmpty,
    metrics: ItemMetricsSchema,
  }),
  ItemFailed: z.object({
    stepId,
    item,
    error: ErrorInfoSchema,
    retry: z
      .object({
        attempt: z.number().int().positive(),
        nextDelayMs: durationMs,
      })
      .nullable(),
    metrics: ItemMetricsSchema.optional(),
    // The progress the coalescer held back when the item failed (see coalesce.ts): how far it got.
    lastProgress: z
      .object({
        progress: z.number().min(0).max(1),
        tokensUsed: count,
        costUsd: money.optional(),
      })
      .optional(),
  }),
  StepCompleted: z.object({
    stepId,
    summary: RunSummarySchema,
  }),
  // Fills a sequence number that was reserved but whose event was never written (see sequence.ts), so
  // the log stays hole-free. Clients skip it; it exists only to advance their last seen seq.
  Noop: z.object({
    reason: z.string(),
  }),
} as const;

export type EventName = keyof typeof payloads;
export const EVENT_NAMES = Object.keys(payloads) as EventName[];


export type PayloadOf<E extends EventName> = z.infer<(typeof payloads)[E]>;

const envelopeFields = {
  runId: nonEmpty,
  seq: z.number().int().positive().describe('Per-run sequence number, strictly increasing from 1, no holes'),
  at: z.iso.datetime().describe('Emit time, ISO-8601 UTC'),
};

function envelopeFor<E extends EventName>(name: E) {
  return z
    .object({ ...envelopeFields, event: z.literal(name), payload: payloads[name] })
    .meta({ title: name });
}

// Spelled out rather than mapped so that the discriminated union keeps one precise member per event.
const EventEnvelopeSchema = z
  .discriminatedUnion('event', [
    envelopeFor('RunQueued'),
    envelopeFor('RunStarted'),
    envelopeFor('RunPaused'),
    envelopeFor('RunResumed'),
    envelopeFor('ConcurrencyChanged'),
    envelopeFor('RunSucceeded'),
    envelopeFor('RunFailed'),
    envelopeFor('RunCancelled'),
    envelopeFor('AgentSelected'),
    envelopeFor('StepStarted'),
    envelopeFor('StepSkipped'),
    envelopeFor('ItemStarted'),
    envelopeFor('ItemProgress'),
    envelopeFor('ItemCompleted'),
    envelopeFor('ItemFailed'),
    envelopeFor('StepCompleted'),
    envelopeFor('Noop'),
  ])
  .meta({
    title: 'Agentplane run event',
    description: 'One entry of a run event log: REST replay, WebSocket event frames and the events table.',
  });

export type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;
export type EventEnvelopeOf<E extends EventName> = Extract<EventEnvelope, { event: E }>;

export interface ValidationIssue {
  path: string;
  message: string;
}

export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
  constructor(
    message: string,
    readonly issues: ValidationIssue[],
  ) {
    super(message);
  }
}

function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.length === 0 ? '$' : `$.${issue.path.map(String).join('.')}`,
    message: issue.message,
  }));
}

function describeIssues(issues: ValidationIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}

function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(payloads, name);
}

/** Validates an event payload before it is written; throws EventValidationError naming every bad field. */
export function validatePayload<E extends EventName>(eventName: E, payload: unknown): PayloadOf<E> {
  if (!isEventName(eventName)) {
    throw new EventValidationError(`unknown event '${String(eventName)}'`, [
      { path: '$.event', message: 'unknown event' },
    ]);
  }
  const result = payloads[eventName].safeParse(payload);
  if (!result.success) {
    const issues = toIssues(result.error);
    throw new EventValidationError(`invalid ${eventName} payload: ${describeIssues(issues)}`, issues);
  }
  return result.data as PayloadOf<E>;
}

export type ParseEventResult =
  | { ok: true; event: EventEnvelope }
  | { ok: false; error: EventValidationError };

export function safeParseEvent(input: unknown): ParseEventResult {
  const result = EventEnvelopeSchema.safeParse(input);
  if (result.success) return { ok: true, event: result.data };
  const issues = toIssues(result.error);
  return { ok: false, error: new EventValidationError(`invalid event: ${describeIssues(issues)}`, issues) };
}

/** Parses a stored or received event envelope; throws EventValidationError. */
export function parseEvent(input: unknown): EventEnvelope {
  const result = safeParseEvent(input);
  if (!result.ok) throw result.error;
  return result.event;
}

/** Builds a validated envelope; the emitter supplies seq and time. */
export function makeEvent<E extends EventName>(
  runId: string,
  seq: number,
  eventName: E,
  payload: PayloadOf<E>,
  at: Date | string = new Date(),
): EventEnvelopeOf<E> {
  const envelope = { runId, seq, event: eventName, at: typeof at === 'string' ? at : at.toISOString(), payload };
  return parseEvent(envelope) as EventEnvelopeOf<E>;
}

/**
 * The JSON Schema of the event envelope, as published in docs/events.schema.json. Generated in input mode
 * so that it does not forbid additional properties (see the note on strictness above).
 */
export function eventsJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(EventEnvelopeSchema, { io: 'input', target: 'draft-2020-12' });
}
