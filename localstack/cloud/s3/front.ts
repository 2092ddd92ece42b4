/**
 * The authorizing front of the local S3: an HTTP proxy on the public S3 port that authorizes every request with
 * the template's IAM policies (localstack/cloud/iam) before it reaches the S3 emulator (s3rver) on its backend
 * port, and makes the emulator accept what S3 accepts from the default SDK:
 * - `aws-chunked` uploads (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, signed chunks too) are decoded as they stream;
 *   the checksum sent in a header or trailer, and Content-MD5, are verified (BadDigest otherwise) and the
 *   checksum is stored with the object, returned on PutObject and on GetObject/HeadObject with checksum mode;
 * - checksums in a presigned URL's query string are ignored, as S3 ignores them;
 * - POST uploads are checked against their policy (expiration, conditions, `content-length-range`);
 * - conditional writes (`If-None-Match: *`, `If-Match`) on PutObject and CompleteMultipartUpload.
 * s3rver never checks SigV4 signatures (only that the access key exists), so forwarding a decoded body with
 * rewritten framing headers is safe; the Host header is forwarded as the client sent it so s3rver routes
 * virtual-host requests as the client meant them.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { hostname as osHostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { accessKeyOf, type IamAuthority } from '../iam/authority';
import { s3DeleteKeys, s3Permissions, s3RequestFromHttp, type AwsLocation, type S3Request } from '../iam/request-actions';
import type { CloudLogger } from '../types';
import { checksumAlgorithmOfHeader, checksumOf } from './checksums';
import { S3Error, accessDenied, invalidArgument, invalidRequest, s3ErrorXml } from './errors';
import { MultipartScanner, checkPostPolicy, formBoundary, postObjectKey } from './post-form';
import { UploadBody, uploadChecksOf } from './upload-body';

export interface S3FrontOptions {
  port: number;
  host: string;
  /** The S3 emulator, e.g. `http://127.0.0.1:4519`. */
  backendEndpoint: string;
  authority: IamAuthority;
  logger: CloudLogger;
  region: string;
  accountId: string;
}

export interface S3Front {
  endpoint: string;
  close(): Promise<void>;
}

/** DeleteObjects bodies list at most 1,000 keys of at most 1,024 bytes. */
const MAX_XML_BODY = 2 * 1024 * 1024;
const MAX_POST_BODY = 5 * 1024 * 1024 * 1024;
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authorization', 'expect'];
const SDK_CHECKSUM_PARAMETER = /^x-amz-(checksum-[a-z0-9]+|sdk-checksum-algorithm)$/i;

/** Bucket and key of a request, path-style (`/bucket/key`) or virtual-host style, as s3rver routes them. */
export function s3Target(host: string | undefined, rawPath: string): { bucket?: string; key?: string } {
  const name = (host ?? '').replace(/^\[([^\]]+)\](?::\d+)?$/, '$1').replace(/^([^:]+):\d+$/, '$1').toLowerCase();
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.", { URI: rawPath });
    }
  };
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  const aws = /^(?:(.+)\.)?s3(?:-website)?(?:[-.].+)?\.amazonaws\.com$/.exec(name);
  const vhostBucket = aws ? aws[1] : name !== '' && isIP(name) === 0 && name !== 'localhost' && name !== osHostname().toLowerCase() ? name : undefined;
  if (vhostBucket !== undefined) return { bucket: vhostBucket, key: decode(path) };
  if (path === '') return {};
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: decode(path) };
  return { bucket: decode(path.slice(0, slash)), key: decode(path.slice(slash + 1)) };
}

function headerText(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = Array.isArray(value) ? value.join(',') : value;
  return out;
}

/** The request's headers for the backend: hop-by-hop ones dropped, and the SDK's checksum headers (verified here, stored by trailer). */
function forwardedHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.includes(name) || SDK_CHECKSUM_PARAMETER.test(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The query string without the checksum parameters a presigned URL carries (S3 ignores them; s3rver would take them as headers). */
function forwardedQuery(rawQuery: string): string {
  const kept = rawQuery.split('&').filter((part) => {
    if (part === '') return false;
    const name = part.split('=')[0] ?? '';
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // An undecodable name is kept as it came.
    }
    return !SDK_CHECKSUM_PARAMETER.test(decoded);
  });
  return kept.length > 0 ? `?${kept.join('&')}` : '';
}

function readSmallBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        reject(new S3Error(400, 'MalformedXML', 'The XML you provided was too large.'));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => { resolve(Buffer.concat(chunks)); });
    req.once('error', reject);
  });
}

function requestIdOf(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** Strips the quotes and a weak prefix of an ETag for comparison. */
function etagValue(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

function preconditionFailed(condition: string): S3Error {
  return new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: condition });
}

export async function startS3Front(options: S3FrontOptions): Promise<S3Front> {
  const backend = new URL(options.backendEndpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const location: AwsLocation = { region: options.region, accountId: options.accountId };
  const { authority, logger } = options;
  /** Conditional writes of one object run one at a time, so the check and the write are one step. */
  const locks = new Map<string, Promise<unknown>>();

  async function withLock<T>(id: string, run: () => Promise<T>): Promise<T> {
    const previous = locks.get(id) ?? Promise.resolve();
    const current = previous.then(run);
    const settled = current.then(
      () => undefined,
      () => undefined,
    );
    locks.set(id, settled);
    try {
      return await current;
    } finally {
      if (locks.get(id) === settled) locks.delete(id);
    }
  }

  /** Opens a request to the backend; the response promise rejects when the backend cannot be reached. */
  function openBackend(method: string, path: string, headers: OutgoingHttpHeaders): { outgoing: ReturnType<typeof httpRequest>; response: Promise<IncomingMessage> } {
    const outgoing = httpRequest({ protocol: backend.protocol, hostname: backend.hostname, port: backend.port, method, path, headers, agent });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      outgoing.once('response', resolve);
      outgoing.once('error', reject);
    });
    return { outgoing, response };
  }

  /** Writes a body to the backend with back-pressure, then its trailers; a failing body destroys the backend request. */
  async function writeBody(outgoing: ReturnType<typeof httpRequest>, body: Readable, trailers?: () => Record<string, string>): Promise<void> {
    for await (const chunk of body) {
      if (!outgoing.write(chunk as Buffer)) await once(outgoing, 'drain');
    }
    const extra = trailers?.();
    if (extra && Object.keys(extra).length > 0) outgoing.addTrailers(extra);
    outgoing.end();
  }

  /** Sends a request to the backend and waits for its response; a body error wins over the backend's. */
  async function exchange(method: string, path: string, headers: OutgoingHttpHeaders, body?: Readable | Buffer, trailers?: () => Record<string, string>): Promise<IncomingMessage> {
    const { outgoing, response } = openBackend(method, path, headers);
    let bodyError: Error | undefined;
    if (body === undefined) outgoing.end();
    else if (Buffer.isBuffer(body)) outgoing.end(body);
    else {
      writeBody(outgoing, body, trailers).catch((error: unknown) => {
        bodyError = error instanceof Error ? error : new Error(String(error));
        outgoing.destroy();
      });
    }
    try {
      return await response;
    } catch (error) {
      // Let a failing body's own error (its checksum, its framing) surface rather than the reset it caused.
      await new Promise((resolve) => setImmediate(resolve));
      if (bodyError !== undefined) throw bodyError;
      throw new S3Error(503, 'ServiceUnavailable', `The S3 emulator did not answer: ${(error as Error).message}`);
    }
  }

  function relay(res: ServerResponse, backendResponse: IncomingMessage, requestId: string, edit?: (headers: OutgoingHttpHeaders, status: number) => void): Promise<void> {
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(backendResponse.headers)) if (value !== undefined && !HOP_BY_HOP.includes(name)) headers[name] = value;
    headers['x-amz-request-id'] ??= requestId;
    const status = backendResponse.statusCode ?? 500;
    edit?.(headers, status);
    res.writeHead(status, headers);
    return new Promise((resolve) => {
      backendResponse.pipe(res);
      res.once('close', resolve);
      backendResponse.once('error', () => {
        res.destroy();
        resolve();
      });
    });
  }

  function authorizeOrThrow(caller: ReturnType<IamAuthority['callerForAccessKey']>, request: S3Request): void {
    let permissions;
    try {
      permissions = s3Permissions(request, location);
    } catch (error) {
      throw invalidRequest((error as Error).message);
    }
    const result = authority.authorize(caller, permissions);
    if (!result.allowed) {
      logger.warn(`S3 ${request.operation} refused: ${result.message}`);
      throw accessDenied(result.message);
    }
  }

  async function objectEtag(bucket: string, key: string): Promise<string | undefined> {
    const path = `/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const response = await exchange('HEAD', path, { host: backend.host });
    response.resume();
    if (response.statusCode === 404) return undefined;
    const etag = response.headers.etag;
    if (response.statusCode !== 200 || etag === undefined) throw new S3Error(503, 'ServiceUnavailable', `The S3 emulator answered HEAD ${path} with ${String(response.statusCode)}`);
    return etag;
  }

  /** `If-None-Match: *` and `If-Match: <etag>` of a write, as S3 evaluates them against the current object. */
  async function checkWriteConditions(bucket: string, key: string, headers: Record<string, string | undefined>): Promise<void> {
    const ifNoneMatch = headers['if-none-match'];
    const ifMatch = headers['if-match'];
    if (ifNoneMatch === undefined && ifMatch === undefined) return;
    if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
      throw new S3Error(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: 'If-None-Match' });
    }
    const etag = await objectEtag(bucket, key);
    if (ifNoneMatch !== undefined && etag !== undefined) throw preconditionFailed('If-None-Match');
    if (ifMatch !== undefined) {
      if (etag === undefined) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
      if (ifMatch.trim() !== '*' && etagValue(ifMatch) !== etagValue(etag)) throw preconditionFailed('If-Match');
    }
  }

  async function handlePost(req: IncomingMessage, res: ServerResponse, bucket: string, path: string, requestId: string): Promise<void> {
    const boundary = formBoundary(req.headers['content-type']);
    if (boundary === undefined) {
      const message = 'Bucket POST must be of the enclosure-type multipart/form-data';
      throw new S3Error(412, 'PreconditionFailed', message, { Condition: message });
    }
    const directory = await mkdtemp(join(tmpdir(), 'agentplane-s3-post-'));
    try {
      // The raw form is spooled to disk while it is read (S3 checks the file's size against the policy before
      // storing anything), then sent to the emulator unchanged.
      const spool = join(directory, 'form');
      const out = createWriteStream(spool);
      const scanner = new MultipartScanner(boundary);
      let size = 0;
      const source = req.pipe(new PassThrough());
      try {
        for await (const chunk of source) {
          const data = chunk as Buffer;
          size += data.length;
          if (size > MAX_POST_BODY) throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
          scanner.write(data);
          if (!out.write(data)) await once(out, 'drain');
        }
        scanner.end();
      } finally {
        await new Promise((resolve) => out.end(resolve));
      }
      const { file, fields } = scanner;
      if (file === undefined) throw invalidArgument('POST requires exactly one file upload per request.', { ArgumentName: 'file', ArgumentValue: '0' });
      checkPostPolicy({ fields, bucket, file });
      const key = postObjectKey(fields, file);
      const credential = fields.get('x-amz-credential');
      const accessKey = credential === undefined ? fields.get('awsaccesskeyid') : accessKeyOf(undefined, new URLSearchParams({ 'X-Amz-Credential': credential }));
      authorizeOrThrow(authority.callerForAccessKey(accessKey), { operation: 'PostObject', bucket, key });
      const headers = forwardedHeaders(req.headers);
      headers['content-length'] = String(size);
      const response = await exchange('POST', path, headers, createReadStream(spool));
      await relay(res, response, requestId);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
    const rawQuery = queryAt < 0 ? '' : url.slice(queryAt + 1);
    const path = rawPath + forwardedQuery(rawQuery);
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = headerText(req.headers);
    // CORS preflights carry no credentials: S3 answers them from the bucket's CORS rules alone.
    if (method === 'OPTIONS') {
      await relay(res, await exchange(method, path, forwardedHeaders(req.headers), req.pipe(new PassThrough())), requestId);
      return;
    }
    const target = s3Target(req.headers.host, rawPath);
    const query = new URLSearchParams(rawQuery);
    let request: S3Request;
    try {
      request = s3RequestFromHttp({ method, ...(target.bucket !== undefined && { bucket: target.bucket }), ...(target.key !== undefined && { key: target.key }), query, headers });
    } catch (error) {
      throw invalidRequest((error as Error).message);
    }
    if (request.operation === 'PostObject' && request.bucket !== undefined) {
      await handlePost(req, res, request.bucket, path, requestId);
      return;
    }
    const caller = authority.callerForAccessKey(accessKeyOf(headers.authorization, query));
    const { operation, bucket, key } = request;

    if (operation === 'DeleteObjects') {
      const checks = uploadChecksOf(req.headers);
      if (checks.checksum === undefined && checks.contentMd5 === undefined) throw invalidRequest('Missing required header for this request: Content-MD5');
      const body = await readSmallBody(req, MAX_XML_BODY);
      if (checks.checksum?.value !== undefined && checksumOf(checks.checksum.algorithm, body) !== checks.checksum.value) {
        throw new S3Error(400, 'BadDigest', `The ${checks.checksum.algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
      }
      if (checks.contentMd5 !== undefined && checksumOf('md5', body) !== checks.contentMd5) throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
      authorizeOrThrow(caller, { ...request, keys: s3DeleteKeys(body.toString('utf8')) });
      const forwarded = forwardedHeaders(req.headers);
      forwarded['content-length'] = String(body.length);
      await relay(res, await exchange(method, path, forwarded, body), requestId);
      return;
    }

    authorizeOrThrow(caller, request);

    if ((operation === 'PutObject' || operation === 'UploadPart') && bucket !== undefined && key !== undefined) {
      const checks = uploadChecksOf(req.headers);
      const upload = async (): Promise<{ response: IncomingMessage; body: UploadBody }> => {
        if (operation === 'PutObject') await checkWriteConditions(bucket, key, headers);
        const body = new UploadBody(checks);
        req.pipe(body);
        const forwarded = forwardedHeaders(req.headers);
        for (const name of ['content-length', 'content-md5', 'x-amz-decoded-content-length']) Reflect.deleteProperty(forwarded, name);
        const encodings = (headers['content-encoding'] ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '' && e.toLowerCase() !== 'aws-chunked');
        if (encodings.length > 0) forwarded['content-encoding'] = encodings.join(',');
        else Reflect.deleteProperty(forwarded, 'content-encoding');
        if (checks.awsChunked) forwarded['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        // The decoded payload goes chunked, its verified checksum in the trailer the emulator stores with the object.
        const response = await exchange(method, path, forwarded, body, () => (body.verified ? { [`x-amz-checksum-${body.verified.algorithm}`]: body.verified.value } : {}));
        return { response, body };
      };
      const conditional = operation === 'PutObject' && (headers['if-none-match'] !== undefined || headers['if-match'] !== undefined);
      const { response, body } = conditional ? await withLock(`${bucket}/${key}`, upload) : await upload();
      await relay(res, response, requestId, (out, status) => {
        if (status === 200 && body.verified) {
          out[`x-amz-checksum-${body.verified.algorithm}`] = body.verified.value;
          if (operation === 'PutObject') out['x-amz-checksum-type'] = 'FULL_OBJECT';
        }
      });
      return;
    }

    if (operation === 'CompleteMultipartUpload' && bucket !== undefined && key !== undefined && (headers['if-none-match'] !== undefined || headers['if-match'] !== undefined)) {
      const response = await withLock(`${bucket}/${key}`, async () => {
        await checkWriteConditions(bucket, key, headers);
        return exchange(method, path, forwardedHeaders(req.headers), req.pipe(new PassThrough()));
      });
      await relay(res, response, requestId);
      return;
    }

    const response = await exchange(method, path, forwardedHeaders(req.headers), method === 'GET' || method === 'HEAD' ? undefined : req.pipe(new PassThrough()));
    if (method === 'GET' || method === 'HEAD') req.resume();
    const checksumMode = (headers['x-amz-checksum-mode'] ?? '').toUpperCase() === 'ENABLED';
    await relay(res, response, requestId, (out, status) => {
      // The emulator keeps an object's checksum with its metadata; S3 shows it only when asked, on the whole object.
      let found = false;
      for (const name of Object.keys(out)) {
        if (checksumAlgorithmOfHeader(name) === undefined) continue;
        if (checksumMode && status === 200) found = true;
        else Reflect.deleteProperty(out, name);
      }
      if (found) out['x-amz-checksum-type'] = 'FULL_OBJECT';
    });
  }

  const server = createServer((req, res) => {
    const requestId = requestIdOf();
    handle(req, res, requestId).catch((error: unknown) => {
      const s3Error = error instanceof S3Error ? error : new S3Error(500, 'InternalError', `We encountered an internal error: ${(error as Error).message}`);
      if (!(error instanceof S3Error)) logger.error('S3 front failed on a request', { method: req.method, url: req.url, error: (error as Error).stack });
      // The rest of a refused request's body is read and dropped, so the client reads the answer.
      req.unpipe();
      req.resume();
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const body = req.method === 'HEAD' ? '' : s3ErrorXml(s3Error, requestId);
      res.writeHead(s3Error.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': requestId });
      res.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    endpoint: `http://${options.host}:${options.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => { resolve(); });
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
