import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_FRAME_BYTES,
  type EventLike,
  encodeEventFrame,
  encodeResponseFrame,
  errorResponse,
  okResponse,
  parseRequestFrame,
  parseServerFrame,
  replayPath,
  responseForParseFailure,
  splitForFrameLimit,
  truncateToBytes,
  utf8ByteLength,
} from '../../../lambdas/core/events/frames';

const req = (method: string, params?: unknown, id: unknown = 'c1') => JSON.stringify({ type: 'req', id, method, params });

describe('Function: parseRequestFrame', () => {
  it.each([
    ['subscribe', { runId: 'run-1', afterSeq: 0 }],
    ['subscribe', { runId: 'run-1' }],
    ['unsubscribe', { runId: 'run-1' }],
    ['runs.get', { runId: 'run-1' }],
    ['runs.command', { runId: 'run-1', type: 'setConcurrency', maxConcurrency: 3, idempotencyKey: 'k1' }],
    ['runs.command', { runId: 'run-1', type: 'pause' }],
    ['ping', undefined],
  ])('should accept a %s request', (method, params) => {
    const result = parseRequestFrame(req(method, params));
    expect(result).toEqual({ ok: true, request: { type: 'req', id: 'c1', method, params: params ?? {} } });
  });

  it('should answer invalid_json for a frame that is not JSON', () => {
    expect(parseRequestFrame('{"type":"req",')).toEqual({ ok: false, error: { code: 'invalid_json', message: expect.any(String) as unknown } });
  });

  it('should answer unknown_method with the request id', () => {
    const result = parseRequestFrame(req('runs.delete', { runId: 'r' }, 'c9'));
    expect(result).toMatchObject({ ok: false, id: 'c9', error: { code: 'unknown_method' } });
  });

  it('should answer missing_id for a frame without id', () => {
    const result = parseRequestFrame(JSON.stringify({ type: 'req', method: 'ping' }));
    expect(result).toMatchObject({ ok: false, error: { code: 'missing_id' } });
    expect(result).not.toHaveProperty('id');
  });

  it('should answer frame_too_large for a frame over 32 KB, keeping its id', () => {
    const raw = req('subscribe', { runId: 'run-1', pad: 'x'.repeat(MAX_FRAME_BYTES) }, 'big');
    expect(parseRequestFrame(raw)).toMatchObject({ ok: false, id: 'big', error: { code: 'frame_too_large' } });
  });

  it('should answer invalid_params naming runId for a subscribe without it', () => {
    const result = parseRequestFrame(req('subscribe', { afterSeq: 3 }));
    expect(result).toMatchObject({ ok: false, id: 'c1', error: { code: 'invalid_params', message: expect.stringContaining('params.runId') as unknown } });
  });

  it('should require maxConcurrency for setConcurrency', () => {
    const result = parseRequestFrame(req('runs.command', { runId: 'r', type: 'setConcurrency' }));
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_params', message: expect.stringContaining('maxConcurrency') as unknown } });
  });

  it('should refuse frames that are not request objects', () => {
    expect(parseRequestFrame('[1,2]')).toMatchObject({ ok: false, error: { code: 'invalid_frame' } });
    expect(parseRequestFrame('"ping"')).toMatchObject({ ok: false, error: { code: 'invalid_frame' } });
    expect(parseRequestFrame(JSON.stringify({ type: 'res', id: 'x', method: 'ping' }))).toMatchObject({ ok: false, id: 'x', error: { code: 'invalid_frame' } });
    expect(parseRequestFrame(req('ping', {}, 42))).toMatchObject({ ok: false, error: { code: 'invalid_frame' } });
  });

  it('should never throw, whatever arrives', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ type: 'req', id: 'x', method: 'subscribe', params: v }))), (raw) => {
        const result = parseRequestFrame(raw);
        if (!result.ok) expect(typeof result.error.message).toBe('string');
      }),
      { numRuns: 300 },
    );
  });
});

describe('Function: responseForParseFailure', () => {
  it('should answer with a null id when the frame had none', () => {
    const result = parseRequestFrame('nope');
    if (result.ok) throw new Error('expected a failure');
    expect(responseForParseFailure(result)).toEqual({ type: 'res', id: null, ok: false, error: result.error });
  });
});

const event = (payload: object, seq = 42): EventLike => ({
  runId: 'run-1',
  seq,
  event: 'ItemCompleted',
  at: '2026-03-01T12:00:00.000Z',
  payload,
});

// Multi-byte characters and JSON escapes, cheaper to generate than arbitrary unicode.
const text = fc.array(fc.constantFrom('a', 'é', '€', '😀', '"', '\\', '\n'), { maxLength: 600 }).map((chars) => chars.join(''));

describe('Function: encodeEventFrame', () => {
  it('should encode a small event as is', () => {
    const frame: unknown = JSON.parse(encodeEventFrame(event({ stepId: 's', item: 'i' })));
    expect(frame).toEqual({ type: 'event', ...event({ stepId: 's', item: 'i' }) });
  });

  it('should cut an oversized payload to a marker pointing at the REST replay', () => {
    const raw = encodeEventFrame(event({ stepId: 'analyze', item: 'inputs/A.cbl', blob: 'é'.repeat(40_000) }));
    expect(utf8ByteLength(raw)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    const frame = JSON.parse(raw) as { seq: number; payload: { originalBytes: number } };
    expect(frame.seq).toBe(42);
    expect(frame.payload).toEqual({
      truncated: true,
      originalBytes: expect.any(Number) as unknown,
      replay: '/runs/run-1/events?afterSeq=41&limit=1',
      stepId: 'analyze',
      item: 'inputs/A.cbl',
    });
    expect(frame.payload.originalBytes).toBeGreaterThan(80_000);
  });

  it('should keep every frame within the limit', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 20 }), text, { maxKeys: 20 }), fc.integer({ min: 1024, max: 4096 }), (payload, maxBytes) => {
        const [raw] = splitForFrameLimit([event(payload)], { maxBytes });
        expect(utf8ByteLength(raw)).toBeLessThanOrEqual(maxBytes);
        expect(parseServerFrame(raw)).toMatchObject({ type: 'event', seq: 42 });
      }),
      { numRuns: 100 },
    );
  });
});

describe('Function: encodeResponseFrame', () => {
  it('should replace an oversized payload by a pointer to REST', () => {
    const raw = encodeResponseFrame(okResponse('c1', { steps: 'x'.repeat(50_000) }), { restPath: '/runs/run-1' });
    expect(JSON.parse(raw)).toEqual({ type: 'res', id: 'c1', ok: true, payload: { truncated: true, originalBytes: expect.any(Number) as unknown, rest: '/runs/run-1' } });
  });

  it('should shorten an oversized error message', () => {
    const raw = encodeResponseFrame(errorResponse('c1', { code: 'internal', message: 'm'.repeat(40_000) }));
    expect(utf8ByteLength(raw)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect((JSON.parse(raw) as { error: { code: string } }).error.code).toBe('internal');
  });
});

describe('Function: parseServerFrame', () => {
  it('should recognise responses and events and refuse the rest', () => {
    expect(parseServerFrame(encodeResponseFrame(okResponse('c1', { pong: true })))).toMatchObject({ type: 'res', ok: true });
    expect(parseServerFrame(encodeResponseFrame(errorResponse(undefined, { code: 'not_found', message: 'no run' })))).toMatchObject({ id: null, ok: false });
    expect(parseServerFrame('{"type":"event"}')).toBeUndefined();
    expect(parseServerFrame('not json')).toBeUndefined();
  });
});

describe('Function: utf8ByteLength', () => {
  it('should agree with Buffer.byteLength', () => {
    // Includes lone surrogates, which UTF-8 encoders replace by a 3-byte U+FFFD.
    const unicode = fc.array(fc.constantFrom('a', '\u00e9', '\u20ac', '\u{1F600}', '\ud800', '\udc00', '\u07ff', '\u0800'), { maxLength: 200 }).map((c) => c.join(''));
    fc.assert(fc.property(unicode, (text) => {
      expect(utf8ByteLength(text)).toBe(Buffer.byteLength(text, 'utf8'));
    }));
  });
});

describe('Function: truncateToBytes', () => {
  it('should cut on a code point boundary within the budget', () => {
    const cut = truncateToBytes('😀'.repeat(100), 50);
    expect(utf8ByteLength(cut)).toBeLessThanOrEqual(50);
    expect(cut).toMatch(/^(😀)+…\[truncated\]$/u);
  });

  it('should build replay paths with an encoded run id', () => {
    expect(replayPath('a/b', 1)).toBe('/runs/a%2Fb/events?afterSeq=0&limit=1');
  });
});
