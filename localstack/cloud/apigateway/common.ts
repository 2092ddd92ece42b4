/**
 * Pieces shared by the REST (v1) and WebSocket (v2) emulators: ids and timestamps in API Gateway's formats,
 * request parsing, Lambda ARNs out of integration URIs, and starting an HTTP server on a fixed port.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { UnsupportedResourceError, type ResolvedResource, type ResolvedTemplate } from '../types';
import type { IamAuthority } from '../iam/authority';

export const requestId = (): string => randomUUID();

/** API Gateway's extended request ids and connection ids look like 11 random bytes in base64 (`L0SM9cOFvHcCIhw=`). */
export function shortId(): string {
  // `+` and `/` are swapped out so ids stay usable in URLs typed by hand; the trailing `=` is kept so that
  // clients still have to encode the id (as the SDK does) to reach `@connections/<id>`.
  return randomBytes(11)
    .toString('base64')
    .replace(/\+/g, 'A')
    .replace(/\//g, 'B');
}

export function traceId(now = Date.now()): string {
  return `Root=1-${Math.floor(now / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `09/Apr/2015:12:34:56 +0000`, the CLF format of `requestContext.requestTime`. */
export function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
  );
}

export function sourceIpOf(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '127.0.0.1';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

export interface HeaderMaps {
  /** Last value wins, original casing of the first occurrence, as API Gateway v1 builds `headers`. */
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
}

/** Builds the event header maps from the raw headers, keeping the client's casing like API Gateway does. */
export function headerMaps(req: IncomingMessage, extra: Record<string, string> = {}): HeaderMaps {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const keyOf = new Map<string, string>();
  const add = (name: string, value: string) => {
    const lower = name.toLowerCase();
    const key = keyOf.get(lower) ?? name;
    keyOf.set(lower, key);
    headers[key] = value;
    (multiValueHeaders[key] ??= []).push(value);
  };
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) add(raw[i], raw[i + 1]);
  for (const [name, value] of Object.entries(extra)) if (!keyOf.has(name.toLowerCase())) add(name, value);
  return { headers, multiValueHeaders };
}

export interface QueryMaps {
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
}

/** `null` (not `{}`) when there is no query string, as in API Gateway's proxy events. */
export function queryMaps(search: string): QueryMaps {
  const params = new URLSearchParams(search);
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  let any = false;
  for (const [k, v] of params) {
    any = true;
    single[k] = v;
    (multi[k] ??= []).push(v);
  }
  return any
    ? { queryStringParameters: single, multiValueQueryStringParameters: multi }
    : { queryStringParameters: null, multiValueQueryStringParameters: null };
}

/** Case-insensitive header lookup on an event header map. */
export function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations` → the function ARN.
 * A bare function ARN (allowed by API Gateway v2) is returned as is.
 */
export function functionRefFromUri(uri: unknown, resource: ResolvedResource): string {
  if (typeof uri !== 'string' || uri === '') {
    throw new UnsupportedResourceError(`${resource.logicalId} (${resource.type}): integration URI is missing or not resolved`);
  }
  const m = /:lambda:path\/[^/]+\/functions\/(.+?)\/invocations$/.exec(uri);
  if (m) return m[1];
  if (/^arn:aws[\w-]*:lambda:/.test(uri)) return uri;
  throw new UnsupportedResourceError(
    `${resource.logicalId} (${resource.type}): integration URI ${uri} does not name a Lambda function`,
  );
}

export function resourcesOfType(template: ResolvedTemplate, type: string): ResolvedResource[] {
  return [...template.resources.values()].filter((r) => r.type === type);
}

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** Reads a request body, giving up (after draining) once it exceeds `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      // Draining keeps the client from seeing a reset before it reads our 413.
      req.resume();
      reject(new BodyTooLargeError(`body of ${declared} bytes exceeds ${limit}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) reject(new BodyTooLargeError(`body exceeds ${limit} bytes`));
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

export interface Listening {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Listens on host:port; a port in use is reported with a message naming it rather than a bare EADDRINUSE. */
export function listen(
  what: string,
  port: number,
  host: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Listening> {
  const server = createServer(handler);
  // Upgrade sockets leave the HTTP server's books, so they are tracked here for close().
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`${what}: port ${port} on ${host} is already in use (choose another port)`)
          : err,
      );
    });
    server.listen(port, host, () => {
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      resolve({
        server,
        port: actual,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => { done(); });
            server.closeAllConnections();
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}

/** The host to put in URLs handed to clients: a wildcard bind address is not something one can connect to. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** `p`'s value, or `timedOut` once `ms` pass first; a rejection of `p` is passed on as it is. */
export async function withTimeout<T>(p: Promise<T>, ms: number): Promise<{ timedOut: true } | { timedOut: false; value: T }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ timedOut: true }>((resolve) => {
    timer = setTimeout(() => { resolve({ timedOut: true }); }, ms);
    timer.unref();
  });
  try {
    return await Promise.race([p.then((value) => ({ timedOut: false as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** API Gateway may not invoke the function: no `AWS::Lambda::Permission` lets it from this source. */
class InvokeNotPermittedError extends Error {
  override readonly name = 'AccessDeniedException';
}

/**
 * Throws InvokeNotPermittedError unless the function's resource policy lets `apigateway.amazonaws.com` invoke it
 * from `sourceArn` (the method ARN, `…/authorizers/<id>`, or a WebSocket route's `…/<stage>/<routeKey>`).
 */
export function checkInvokePermission(iam: IamAuthority | undefined, template: ResolvedTemplate, functionRef: string, sourceArn: string): void {
  if (!iam) return;
  const decision = iam.authorizeInvoke(functionRef, { principal: 'apigateway.amazonaws.com', sourceArn, sourceAccount: template.accountId });
  if (!decision.allowed) throw new InvokeNotPermittedError(decision.message);
}
