import { z } from 'zod';

/**
 * WebSocket frames (CONTRACT.md, "WebSocket API"): parsing client requests without ever throwing, and
 * encoding server frames within API Gateway's 32 KB frame limit.
 */

/** API Gateway WebSocket frame limit; a larger client frame is refused, a larger server frame is cut. */
export const MAX_FRAME_BYTES = 32 * 1024;

const nonEmpty = z.string().min(1);
const runId = z.string().min(1).max(256);

const SubscribeParamsSchema = z.object({
  runId,
  afterSeq: z.number().int().nonnegative().optional(),
});
const UnsubscribeParamsSchema = z.object({ runId });
const RunsGetParamsSchema = z.object({ runId });
const RunsCommandParamsSchema = z
  .object({
    runId,
    type: z.enum(['pause', 'resume', 'cancel', 'setConcurrency']),
    maxConcurrency: z.number().int().positive().optional(),
    idempotencyKey: z.string().min(1).max(256).optional(),
  })
  .refine((p) => p.type !== 'setConcurrency' || p.maxConcurrency !== undefined, {
    error: 'setConcurrency needs maxConcurrency',
    path: ['maxConcurrency'],
  });
const PingParamsSchema = z.object({});

const paramsByMethod = {
  subscribe: SubscribeParamsSchema,
  unsubscribe: UnsubscribeParamsSchema,
  'runs.get': RunsGetParamsSchema,
  'runs.command': RunsCommandParamsSchema,
  ping: PingParamsSchema,
} as const;

type Method = keyof typeof paramsByMethod;
const METHODS = Object.keys(paramsByMethod) as Method[];
export type ParamsOf<M extends Method> = z.infer<(typeof paramsByMethod)[M]>;

export type RequestFrame = {
  [M in Method]: { type: 'req'; id: string; method: M; params: ParamsOf<M> };
}[Method];

/** Errors a request can get. The first six come from parsing; the rest from the handlers. */
type FrameErrorCode =
  | 'frame_too_large'
  | 'invalid_json'
  | 'invalid_frame'
  | 'missing_id'
  | 'unknown_method'
  | 'invalid_params'
  | 'not_found'
  | 'forbidden'
  | 'conflict'
  | 'reset'
  | 'rate_limited'
  | 'internal';

export interface FrameError {
  code: FrameErrorCode;
  message: string;
  details?: unknown;
}

export type ParseRequestResult =
  | { ok: true; request: RequestFrame }
  | { ok: false; id?: string; error: FrameError };

const ID_MAX = 128;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(paramsByMethod, name);
}

function usableId(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= ID_MAX ? value : undefined;
}

function fail(error: FrameError, id?: string): ParseRequestResult {
  return id === undefined ? { ok: false, error } : { ok: false, id, error };
}

/** Parses a client frame. Never throws: every problem becomes an error result for an error `res`. */
export function parseRequestFrame(raw: string, maxBytes = MAX_FRAME_BYTES): ParseRequestResult {
  let data: unknown;
  let parsedJson = true;
  try {
    data = JSON.parse(raw);
  } catch {
    parsedJson = false;
  }
  const id = isRecord(data) ? usableId(data.id) : undefined;

  const size = utf8ByteLength(raw);
  if (size > maxBytes) {
    return fail({ code: 'frame_too_large', message: `frame is ${size} bytes, the limit is ${maxBytes}` }, id);
  }
  if (!parsedJson) return fail({ code: 'invalid_json', message: 'frame is not valid JSON' });
  if (!isRecord(data)) return fail({ code: 'invalid_frame', message: 'frame must be a JSON object' });
  if (data.id === undefined || data.id === null || data.id === '') {
    return fail({ code: 'missing_id', message: 'request frame needs an "id"' });
  }
  if (id === undefined) {
    return fail({ code: 'invalid_frame', message: `"id" must be a string of 1 to ${ID_MAX} characters` });
  }
  if (data.type !== 'req') return fail({ code: 'invalid_frame', message: 'request frame needs "type": "req"' }, id);
  if (!isMethod(data.method)) {
    const name = typeof data.method === 'string' ? `"${data.method.slice(0, 64)}"` : 'missing';
    return fail({ code: 'unknown_method', message: `method ${name} is unknown; expected one of ${METHODS.join(', ')}` }, id);
  }
  const params = data.params ?? {};
  const result = paramsByMethod[data.method].safeParse(params);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `params${issue.path.map((p) => `.${String(p)}`).join('')}: ${issue.message}`)
      .join('; ');
    return fail({ code: 'invalid_params', message: `${data.method}: ${problems}` }, id);
  }
  return { ok: true, request: { type: 'req', id, method: data.method, params: result.data } as RequestFrame };
}

export type ResponseFrame =
  | { type: 'res'; id: string | null; ok: true; payload: unknown }
  | { type: 'res'; id: string | null; ok: false; error: FrameError };

/** The run as a `reset` frame carries it, for a client to rebuild its view from (lambdas/aws/run-access.ts). */
export interface RunSnapshot {
  runId: string;
  status: string;
  steps: unknown;
  counts: unknown;
  /** The last seq the run has handed out; events after it are still to come. */
  lastSeq: number;
}

export interface EventFrame {
  type: 'event';
  runId: string;
  seq: number;
  event: string;
  at: string;
  payload: Record<string, unknown>;
}

/** What an event frame is built from: an event envelope (schemas.ts) or anything shaped like one. */
export interface EventLike {
  runId: string;
  seq: number;
  event: string;
  at: string;
  payload: object;
}

export function okResponse(id: string | null, payload: unknown = {}): ResponseFrame {
  return { type: 'res', id, ok: true, payload };
}

export function errorResponse(id: string | null | undefined, error: FrameError): ResponseFrame {
  return { type: 'res', id: id ?? null, ok: false, error };
}

/** The error `res` for a frame that failed to parse (id is null when the frame had none). */
export function responseForParseFailure(result: Extract<ParseRequestResult, { ok: false }>): ResponseFrame {
  return errorResponse(result.id, result.error);
}

function eventFrame(event: EventLike): EventFrame {
  return {
    type: 'event',
    runId: event.runId,
    seq: event.seq,
    event: event.event,
    at: event.at,
    payload: event.payload as Record<string, unknown>,
  };
}

// Client side: the frames a client receives.
const FrameErrorSchema = z.object({ code: nonEmpty, message: z.string(), details: z.unknown().optional() });
const ServerFrameSchema = z.union([
  z.object({ type: z.literal('res'), id: z.string().nullable(), ok: z.literal(true), payload: z.unknown() }),
  z.object({ type: z.literal('res'), id: z.string().nullable(), ok: z.literal(false), error: FrameErrorSchema }),
  z.object({
    type: z.literal('event'),
    runId: nonEmpty,
    seq: z.number().int().positive(),
    event: nonEmpty,
    at: z.string(),
    payload: z.record(z.string(), z.unknown()),
  }),
]);
export type ServerFrame = z.infer<typeof ServerFrameSchema>;

/** Parses a frame received from the server; undefined when it is not one (never throws). */
export function parseServerFrame(raw: string): ServerFrame | undefined {
  try {
    const result = ServerFrameSchema.safeParse(JSON.parse(raw));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

class FrameTooLargeError extends Error {
  override readonly name = 'FrameTooLargeError';
}

export interface EncodeOptions {
  maxBytes?: number;
}

/** REST replay of exactly one event: where a client fetches a payload cut from its frame. */
export function replayPath(runId: string, seq: number): string {
  return `/runs/${encodeURIComponent(runId)}/events?afterSeq=${seq - 1}&limit=1`;
}

/** Payload fields kept in a truncated payload when they fit: they identify what the event is about. */
const SMALL_FIELD_CHARS = 200;

/**
 * Encodes an event frame of at most maxBytes. An oversized payload is replaced by
 * `{truncated: true, originalBytes, replay, ...small top-level fields}`; `replay` is the REST path that
 * returns the full event.
 */
export function encodeEventFrame(event: EventLike, options: EncodeOptions = {}): string {
  const maxBytes = options.maxBytes ?? MAX_FRAME_BYTES;
  const frame = eventFrame(event);
  const full = JSON.stringify(frame);
  const fullBytes = utf8ByteLength(full);
  if (fullBytes <= maxBytes) return full;

  const payloadBytes = utf8ByteLength(JSON.stringify(frame.payload));
  const marker: Record<string, unknown> = {
    truncated: true,
    originalBytes: payloadBytes,
    replay: replayPath(event.runId, event.seq),
  };
  let encoded = JSON.stringify({ ...frame, payload: marker });
  if (utf8ByteLength(encoded) > maxBytes) {
    throw new FrameTooLargeError(`event ${event.runId}#${event.seq} does not fit ${maxBytes} bytes even without payload`);
  }
  for (const [key, value] of Object.entries(frame.payload)) {
    if (key in marker || !isSmallScalar(value)) continue;
    const candidate = JSON.stringify({ ...frame, payload: { ...marker, [key]: value } });
    if (utf8ByteLength(candidate) > maxBytes) continue;
    marker[key] = value;
    encoded = candidate;
  }
  return encoded;
}

function isSmallScalar(value: unknown): boolean {
  if (typeof value === 'string') return value.length <= SMALL_FIELD_CHARS;
  return typeof value === 'number' || typeof value === 'boolean' || value === null;
}

export interface ResponseEncodeOptions extends EncodeOptions {
  /** REST path that returns the full payload of an oversized response (e.g. /runs/{id}). */
  restPath?: string;
}

/** Encodes a response frame of at most maxBytes; an oversized payload is replaced by a pointer to REST. */
export function encodeResponseFrame(response: ResponseFrame, options: ResponseEncodeOptions = {}): string {
  const maxBytes = options.maxBytes ?? MAX_FRAME_BYTES;
  const full = JSON.stringify(response);
  const fullBytes = utf8ByteLength(full);
  if (fullBytes <= maxBytes) return full;
  let cut: ResponseFrame;
  if (response.ok) {
    cut = {
      ...response,
      payload: { truncated: true, originalBytes: fullBytes, ...(options.restPath ? { rest: options.restPath } : {}) },
    };
  } else {
    const budget = Math.max(0, maxBytes - (fullBytes - utf8ByteLength(JSON.stringify(response.error))) - 256);
    cut = {
      ...response,
      error: { code: response.error.code, message: truncateToBytes(response.error.message, budget) },
    };
  }
  const encoded = JSON.stringify(cut);
  if (utf8ByteLength(encoded) > maxBytes) {
    throw new FrameTooLargeError(`response ${String(response.id)} does not fit ${maxBytes} bytes`);
  }
  return encoded;
}

/**
 * Encodes events for PostToConnection, one frame each (the protocol has no multi-event frame), every
 * frame within maxBytes; oversized payloads are cut as in encodeEventFrame.
 */
export function splitForFrameLimit(events: readonly EventLike[], options: EncodeOptions = {}): string[] {
  return events.map((event) => encodeEventFrame(event, options));
}

/** Cuts a string to at most maxBytes of UTF-8, on a code point boundary, marking the cut. */
export function truncateToBytes(text: string, maxBytes: number): string {
  if (utf8ByteLength(text) <= maxBytes) return text;
  const suffix = '…[truncated]';
  const budget = maxBytes - utf8ByteLength(suffix);
  if (budget <= 0) return '';
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = utf8ByteLength(char);
    if (bytes + size > budget) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end) + suffix;
}

/** UTF-8 size without allocating an encoded copy (frames are measured on every send). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
