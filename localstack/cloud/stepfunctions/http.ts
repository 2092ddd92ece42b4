/**
 * The AWS JSON 1.0 endpoint: `POST /` with `X-Amz-Target: AWSStepFunctions.<Operation>`, errors as
 * `{"__type": code, "message": …}` (also in `x-amzn-ErrorType`), which is what `@aws-sdk/client-sfn` speaks.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { CloudLogger } from '../types';
import { readBody } from '../http-body';
import { SfnServiceError } from './errors';
import type { AuthorizationResult } from '../iam/authority';

export interface SfnHandler {
  handle(operation: string, body: unknown): Promise<unknown>;
}

function send(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...extraHeaders,
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { __type: code, message }, { 'x-amzn-errortype': code });
}

export async function listen(
  service: SfnHandler,
  port: number,
  host: string,
  logger: CloudLogger,
  /** The local cloud's IAM, when it is enforced: a refused call answers AccessDeniedException and does not run. */
  authorize?: (authorization: string | undefined, operation: string, body: unknown) => AuthorizationResult,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST') { sendError(res, 404, 'UnknownOperationException', 'Only POST / is served.'); return; }
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
      if (!operation) { sendError(res, 400, 'UnknownOperationException', `Missing or unknown X-Amz-Target '${target}'.`); return; }
      let body: unknown;
      try {
        const text = await readBody(req);
        body = text.trim() === '' ? {} : JSON.parse(text);
      } catch {
        sendError(res, 400, 'SerializationException', 'The request body is not valid JSON.'); return;
      }
      const decision = authorize?.(req.headers.authorization, operation, body);
      if (decision && !decision.allowed) { sendError(res, 400, 'AccessDeniedException', decision.message); return; }
      try {
        send(res, 200, (await service.handle(operation, body)) ?? {});
      } catch (error) {
        if (error instanceof SfnServiceError) { sendError(res, error.status, error.code, error.message); return; }
        // Anything may be thrown: a value that is not an Error has no stack or message of its own.
        const thrown = error as Partial<Error> | null | undefined;
        logger.error('step functions: operation failed', { operation, error: String(thrown?.stack ?? error) });
        sendError(res, 500, 'InternalFailure', thrown?.message ?? String(error));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => { reject(error.code === 'EADDRINUSE' ? new Error(`Step Functions: port ${port} on ${host} is already in use`) : error); },
    );
    server.listen(port, host, () => { resolve(); });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => { resolve(); });
        server.closeAllConnections();
      }),
  };
}
