/** The request frames of the WebSocket protocol (CONTRACT.md): `{type:'req', id, method, params}`. */
export const MAX_FRAME_BYTES = 32 * 1024;

export interface RequestFrame {
  type: 'req';
  id: string;
  method: string;
  params: Record<string, unknown>;
}

export interface ResponseFrame {
  type: 'res';
  id: string | null;
  ok: boolean;
  payload?: unknown;
  error?: { code: string; message: string };
}

export type ParsedFrame = { ok: true; frame: RequestFrame } | { ok: false; response: ResponseFrame };

const fail = (id: string | null, code: string, message: string): ParsedFrame => ({
  ok: false,
  response: { type: 'res', id, ok: false, error: { code, message } },
});

export function parseRequestFrame(raw: string | undefined | null): ParsedFrame {
  if (raw === undefined || raw === null || raw === '') return fail(null, 'bad_request', 'Empty frame');
  if (Buffer.byteLength(raw) > MAX_FRAME_BYTES) return fail(null, 'frame_too_large', `Frames are limited to ${MAX_FRAME_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail(null, 'bad_request', 'Frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(null, 'bad_request', 'Frame must be a JSON object');
  const frame = value as Record<string, unknown>;
  const id = typeof frame.id === 'string' && frame.id.length > 0 && frame.id.length <= 128 ? frame.id : null;
  if (frame.type !== 'req') return fail(id, 'bad_request', 'Frame type must be "req"');
  if (!id) return fail(null, 'bad_request', 'Frame id must be a non-empty string of at most 128 characters');
  if (typeof frame.method !== 'string') return fail(id, 'bad_request', 'Frame method must be a string');
  const params = frame.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return fail(id, 'bad_request', 'Frame params must be an object');
  return { ok: true, frame: { type: 'req', id, method: frame.method, params: params as Record<string, unknown> } };
}

export const ok = (id: string, payload: unknown): ResponseFrame => ({ type: 'res', id, ok: true, payload });
export const error = (id: string | null, code: string, message: string): ResponseFrame => ({ type: 'res', id, ok: false, error: { code, message } });
