/** The progress protocol through the public WebSocket and REST APIs only. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, target } from '../../support/target';
import { apiError, apiProblems } from '../../support/api';
import { isFrame, TestSocket, type ResFrame } from '../../support/ws-client';

let socket: TestSocket;

beforeAll(async () => {
  socket = await TestSocket.open(`${target().wsUrl}?token=${encodeURIComponent(target().token)}`);
});
afterAll(async () => {
  // Unset when beforeAll failed.
  await (socket as TestSocket | undefined)?.close();
});

/** Sends a raw frame and waits for the next error `res` after it. */
async function answerTo(frame: string): Promise<ResFrame> {
  const before = socket.frames.length;
  socket.send(frame);
  return socket.waitFor<ResFrame>((f) => socket.frames.indexOf(f) >= before && isFrame(f) && f.type === 'res' && !f.ok);
}

describe('WebSocket protocol: bad frames get an error res', () => {
  it.each([
    ['not JSON', 'this is not json', 'invalid_json', null],
    ['a JSON array', '[1,2]', 'invalid_frame', null],
    ['no id', JSON.stringify({ type: 'req', method: 'ping' }), 'missing_id', null],
    ['an unknown method', JSON.stringify({ type: 'req', id: 'u1', method: 'runs.delete' }), 'unknown_method', 'u1'],
    ['subscribe without runId', JSON.stringify({ type: 'req', id: 's1', method: 'subscribe', params: { afterSeq: 0 } }), 'invalid_params', 's1'],
    ['a negative afterSeq', JSON.stringify({ type: 'req', id: 's2', method: 'subscribe', params: { runId: 'r', afterSeq: -1 } }), 'invalid_params', 's2'],
    ['an oversized request', JSON.stringify({ type: 'req', id: 'big', method: 'ping', params: { pad: 'x'.repeat(20_000) } }), 'frame_too_large', 'big'],
  ])('should answer %s with an error res and keep the connection', async (_what, frame, code, id) => {
    const res = await answerTo(frame);
    expect(res.error!.code).toBe(code);
    expect(res.id).toBe(id);
    expect(typeof res.error!.message).toBe('string');
    const pong = await socket.request(`p-${code}`, 'ping');
    expect(pong.ok).toBe(true);
  });

  it('should close on a frame above the 32 KB gateway limit with close code 1009 (message too big), not silently', async () => {
    const other = await TestSocket.open(`${target().wsUrl}?token=${encodeURIComponent(target().token)}`);
    const closed = new Promise<number>((resolve) => other.ws.once('close', (code) => { resolve(code); }));
    other.send('x'.repeat(40_000));
    expect(await closed).toBe(1009);
  });

  it('should answer not_found for a run that does not exist', async () => {
    const res = await socket.request('nf', 'subscribe', { runId: 'run-that-does-not-exist', afterSeq: 0 });
    expect(res).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const get = await socket.request('nf2', 'runs.get', { runId: 'run-that-does-not-exist' });
    expect(get.error!.code).toBe('not_found');
  });

  it('should answer ping and an unsubscribe of nothing', async () => {
    expect((await socket.request('p', 'ping')).payload!.pong).toBe(true);
    expect((await socket.request('u', 'unsubscribe', { runId: 'nothing' })).payload).toEqual({ runId: 'nothing', unsubscribed: false });
  });
});

describe('REST: GET /runs/{id}/events', () => {
  it('should answer 400 with the JSON path of each bad query value', async () => {
    const res = await http('GET', '/runs/r-1/events?afterSeq=-3&limit=5000');
    expect(res.status).toBe(400);
    expect(apiError(res).code).toBe('validation_error');
    expect(apiProblems(res).map((p: { path: string }) => p.path).sort()).toEqual(['$.afterSeq', '$.limit']);
    expect((await http('GET', '/runs/r-1/events?afterSeq=abc')).status).toBe(400);
  });

  it('should answer 404 for a run that does not exist and 401 without a token', async () => {
    expect((await http('GET', '/runs/no-such-run/events')).status).toBe(404);
    expect((await http('GET', '/runs/no-such-run/events', { token: null })).status).toBe(401);
  });
});
