/**
 * The Lambda service endpoint (Invoke), so `@aws-sdk/client-lambda` pointed at AWS_ENDPOINT_URL_LAMBDA reaches
 * the local functions, plus `GET /_local/functions` for tests and tools to see what runs and from which bundle.
 * An `Event` invocation goes to the asynchronous queue (./async-invoker.ts), which owns its retries.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { LambdaRuntime } from './runtime';
import { readBody } from '../http-body';
import type { AsyncLambdaInvoker, CloudLogger } from '../types';
import { errorPayloadOf } from './invocation-record';
import { checkRequestSize, RequestTooLargeError, TooManyRequestsError } from './limits';
import { accessKeyOf, type IamAuthority } from '../iam/authority';
import { lambdaInvokePermission } from '../iam/service-actions';

/** The Invoke API's answer to a refused invocation (payload too large, throttled), or false for any other error. */
function sendRefusal(res: ServerResponse, error: unknown): boolean {
  if (error instanceof RequestTooLargeError) {
    send(res, 413, { Type: 'User', message: error.message }, { 'x-amzn-errortype': error.name });
    return true;
  }
  if (error instanceof TooManyRequestsError) {
    send(res, 429, { Type: 'User', message: error.message, Reason: error.reason }, { 'x-amzn-errortype': error.name });
    return true;
  }
  return false;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

export function startLambdaApi(
  runtime: Pick<LambdaRuntime, 'has' | 'invoke' | 'functions'>,
  asyncInvoker: AsyncLambdaInvoker,
  port: number,
  host: string,
  logger: CloudLogger,
  /** The local cloud's IAM: an Invoke needs `lambda:InvokeFunction` on the function for the caller's role. */
  iam?: IamAuthority,
) {
  // Never rejects: every error is answered with a 500.
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'GET' && url.pathname === '/_local/functions') { send(res, 200, { functions: runtime.functions() }); return; }
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
      if (req.method === 'POST' && m) {
        const name = decodeURIComponent(m[1]);
        if (!runtime.has(name)) {
          send(res, 404, { Type: 'User', message: `Function not found: ${name}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' }); return;
        }
        const raw = await readBody(req);
        if (iam) {
          const decision = iam.authorize(iam.callerForAccessKey(accessKeyOf(req.headers.authorization)), [lambdaInvokePermission(name, iam.location)]);
          if (!decision.allowed) {
            send(res, 403, { Type: 'User', Message: decision.message, message: decision.message }, { 'x-amzn-errortype': 'AccessDeniedException' });
            return;
          }
        }
        const invocationType = req.headers['x-amz-invocation-type'] === 'Event' ? 'Event' : 'RequestResponse';
        // Measured on the bytes received, before parsing, as Lambda refuses the request before any function runs.
        checkRequestSize(Buffer.byteLength(raw, 'utf8'), invocationType);
        let event: unknown = {};
        try {
          event = raw ? JSON.parse(raw) : {};
        } catch {
          send(res, 400, { Type: 'User', message: 'Could not parse request body into json' }, { 'x-amzn-errortype': 'InvalidRequestContentException' }); return;
        }
        if (invocationType === 'Event') {
          const { requestId } = asyncInvoker.invokeAsync(name, event);
          res.writeHead(202, { 'x-amzn-requestid': requestId });
          res.end();
          return;
        }
        const result = await runtime.invoke(name, event, Buffer.byteLength(raw, 'utf8'));
        if (result.ok) { send(res, 200, JSON.stringify(result.payload ?? null), { 'x-amz-executed-version': '$LATEST' }); return; }
        send(
          res,
          200,
          errorPayloadOf(result),
          { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' },
        ); return;
      }
      send(res, 404, { message: `No route ${String(req.method)} ${url.pathname}` });
    } catch (error) {
      if (sendRefusal(res, error)) return;
      logger.error('lambda api error', { error: String(error) });
      send(res, 500, { message: 'Internal error' });
    }
  };
  const server = createServer((req, res) => { void handle(req, res); });
  return new Promise<{ url: string; close(): Promise<void> }>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { resolve({ url: `http://${host}:${port}`, close: () => new Promise((r) => server.close(() => { r(); })) }); },
    );
  });
}
