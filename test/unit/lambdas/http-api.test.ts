import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { apiHandler, json } from '../../../lambdas/edge/http/api';
import { ConflictError, NotFoundError } from '../../../lambdas/core/errors';
import { parseBody, jsonPath } from '../../../lambdas/core/validation';

/** The error body every route answers a failure with. */
interface ErrorBody {
  error: { code: string; message: string };
}

const silent = { error: () => {} };
const event = (over: Record<string, unknown> = {}) =>
  ({
    httpMethod: 'POST',
    resource: '/things/{id}',
    path: '/things/1',
    headers: { 'Content-Type': 'application/json' },
    pathParameters: { id: '1' },
    queryStringParameters: null,
    body: '{"name":"x"}',
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', authorizer: { tenant: 'acme', admin: 'false', tokenId: 't' } },
    ...over,
  }) as never;

describe('Function: apiHandler', () => {
  it('should route by method and resource and pass the principal', async () => {
    const handler = apiHandler({ 'POST /things/{id}': async (req) => json(201, { id: req.pathParameters.id, tenant: req.principal?.tenant, body: req.body }) }, silent);
    const res = await handler(event());
    expect(res.statusCode).toBe(201);
    expect(JSON.parse(res.body)).toEqual({ id: '1', tenant: 'acme', body: { name: 'x' } });
  });

  it('should map typed errors to their status codes in one place', async () => {
    const handler = apiHandler(
      { 'POST /things/{id}': async () => { throw new NotFoundError('no such thing'); }, 'GET /things/{id}': async () => { throw new ConflictError('busy'); } },
      silent,
    );
    expect((await handler(event())).statusCode).toBe(404);
    const conflict = await handler(event({ httpMethod: 'GET', body: null }));
    expect(conflict.statusCode).toBe(409);
    expect(JSON.parse(conflict.body)).toEqual({ error: { code: 'conflict', message: 'busy' } });
  });

  it('should hide unexpected errors behind a 500 without a stack trace', async () => {
    const handler = apiHandler({ 'POST /things/{id}': async () => { throw new Error('secret detail at /var/task/index.mjs:1'); } }, silent);
    const res = await handler(event());
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret');
    expect((JSON.parse(res.body) as ErrorBody).error.code).toBe('internal_error');
  });

  it('should answer 400 for a body that is not JSON, 415 for another media type, 413 for an oversized body', async () => {
    const handler = apiHandler({ 'POST /things/{id}': async () => json(200, {}) }, silent);
    expect((await handler(event({ body: '{nope' }))).statusCode).toBe(400);
    expect((await handler(event({ headers: { 'content-type': 'text/plain' } }))).statusCode).toBe(415);
    expect((await handler(event({ body: JSON.stringify({ a: 'x'.repeat(1_100_000) }) }))).statusCode).toBe(413);
  });

  it('should answer 501 naming a route the table does not know', async () => {
    const res = await apiHandler({}, silent)(event());
    expect(res.statusCode).toBe(501);
    expect((JSON.parse(res.body) as ErrorBody).error.message).toContain('POST /things/{id}');
  });
});

describe('Function: parseBody', () => {
  it('should report every problem with its JSON path', () => {
    const schema = z.object({ steps: z.array(z.object({ id: z.string() })), n: z.number() });
    try {
      parseBody(schema, { steps: [{ id: 1 }, {}], n: 'x' });
      expect.unreachable();
    } catch (error) {
      expect((error as { problems: Array<{ path: string }> }).problems.map((p) => p.path).sort()).toEqual(['$.n', '$.steps[0].id', '$.steps[1].id']);
    }
  });

  it('should quote keys that are not identifiers', () => {
    expect(jsonPath(['a-b', 0, 'c'])).toBe('$["a-b"][0].c');
  });
});
