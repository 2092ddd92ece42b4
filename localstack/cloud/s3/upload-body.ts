/**
 * An upload's body as S3 reads it: `aws-chunked` framing decoded (the default SDK streams uploads as
 * `Content-Encoding: aws-chunked` with a trailing `x-amz-checksum-crc32`), and the checksum or Content-MD5 sent
 * with it verified, all while it streams. A mismatch fails the stream at its end, before the last byte reaches
 * the backend, so the object is never written.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { assertChecksumValue, badDigest, checksumAlgorithmOfHeader, hasherFor, type ChecksumAlgorithm, type Hasher } from './checksums';
import { S3Error, invalidRequest } from './errors';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** What an upload's headers ask of its body. */
export interface UploadChecks {
  /** The body is `aws-chunked` framed (SigV4 streaming, signed or unsigned, with or without trailer). */
  awsChunked: boolean;
  /** `x-amz-decoded-content-length`: the payload's length once the framing is removed. */
  decodedLength?: number;
  /** The checksum the payload must match: its value from a header, or none when a trailer brings it. */
  checksum?: { algorithm: ChecksumAlgorithm; value?: string };
  /** `Content-MD5` (base64). */
  contentMd5?: string;
}

const MAX_LINE = 8 * 1024;

/** Reads S3's checks from request headers (lower-case names); throws S3's error for malformed ones. */
export function uploadChecksOf(headers: Headers): UploadChecks {
  const encodings = (header(headers, 'content-encoding') ?? '').split(',').map((e) => e.trim().toLowerCase());
  const awsChunked = encodings.includes('aws-chunked') || (header(headers, 'x-amz-content-sha256') ?? '').startsWith('STREAMING-');
  const checks: UploadChecks = { awsChunked };
  const decoded = header(headers, 'x-amz-decoded-content-length');
  if (awsChunked && decoded !== undefined) {
    if (!/^\d+$/.test(decoded)) throw invalidArgument('x-amz-decoded-content-length', decoded);
    checks.decodedLength = Number(decoded);
  }
  const declared = Object.keys(headers)
    .map((name) => ({ name, algorithm: checksumAlgorithmOfHeader(name) }))
    .filter((h): h is { name: string; algorithm: ChecksumAlgorithm } => h.algorithm !== undefined);
  if (declared.length > 1) throw invalidRequest('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const trailer = header(headers, 'x-amz-trailer');
  if (trailer !== undefined) {
    const algorithm = checksumAlgorithmOfHeader(trailer.trim());
    if (algorithm === undefined) throw invalidRequest(`The value specified in the x-amz-trailer header is not supported: ${trailer}`);
    if (!awsChunked) throw invalidRequest('The x-amz-trailer header requires an aws-chunked body.');
    if (declared.length > 0) throw invalidRequest('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    checks.checksum = { algorithm };
  } else if (declared.length === 1) {
    const { name, algorithm } = declared[0];
    const value = header(headers, name) ?? '';
    assertChecksumValue(algorithm, value);
    checks.checksum = { algorithm, value };
  }
  const md5 = header(headers, 'content-md5');
  if (md5 !== undefined) {
    assertChecksumValue('md5', md5);
    checks.contentMd5 = md5;
  }
  return checks;
}

function invalidArgument(name: string, value: string): S3Error {
  return new S3Error(400, 'InvalidArgument', `Invalid ${name}: ${value}`, { ArgumentName: name, ArgumentValue: value });
}

function malformedChunk(): S3Error {
  return new S3Error(400, 'IncompleteBody', 'The request body is not valid aws-chunked encoding.');
}

/**
 * The `aws-chunked` framing: `<hex size>[;chunk-signature=…]\r\n<data>\r\n` … `0[;…]\r\n`, then trailer lines
 * `name:value\r\n` and an empty line. Fed in pieces; emits the payload's pieces.
 */
export class AwsChunkedParser {
  /** The trailers (lower-case names), once the last chunk was read. */
  readonly trailers: Record<string, string> = {};
  decodedLength = 0;
  private pending: Buffer = Buffer.alloc(0);
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  private remaining = 0;

  write(chunk: Buffer, emit: (data: Buffer) => void): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      if (this.state === 'data') {
        if (buf.length === 0) break;
        const n = Math.min(this.remaining, buf.length);
        emit(buf.subarray(0, n));
        buf = buf.subarray(n);
        this.remaining -= n;
        this.decodedLength += n;
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      if (this.state === 'data-end') {
        if (buf.length < 2) break;
        if (buf[0] !== 0x0d || buf[1] !== 0x0a) throw malformedChunk();
        buf = buf.subarray(2);
        this.state = 'size';
        continue;
      }
      if (this.state === 'done') {
        // Nothing may follow the trailer's empty line but more line ends.
        if (buf.some((b) => b !== 0x0d && b !== 0x0a)) throw malformedChunk();
        buf = Buffer.alloc(0);
        break;
      }
      const end = buf.indexOf('\r\n');
      if (end < 0) {
        if (buf.length > MAX_LINE) throw malformedChunk();
        break;
      }
      const line = buf.subarray(0, end).toString('latin1');
      buf = buf.subarray(end + 2);
      if (this.state === 'size') {
        const size = (line.split(';')[0] ?? '').trim();
        if (!/^[0-9a-fA-F]{1,16}$/.test(size)) throw malformedChunk();
        this.remaining = parseInt(size, 16);
        this.state = this.remaining === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        this.state = 'done';
      } else {
        const colon = line.indexOf(':');
        if (colon <= 0) throw malformedChunk();
        this.trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
    }
    this.pending = Buffer.from(buf);
  }

  /** Throws unless the body ended after its last chunk (the final empty line may be missing). */
  end(): void {
    const complete = this.state === 'done' || (this.state === 'trailer' && this.pending.length === 0);
    if (!complete) throw malformedChunk();
  }
}

/**
 * The upload's payload: decoded when aws-chunked, checked against its checksum and Content-MD5. The last piece
 * is held back until the checks pass, so a backend that commits on the body's last byte never sees a bad one.
 * `verified` is the checksum (algorithm and base64 value) once the stream ended well.
 */
export class UploadBody extends Transform {
  verified: { algorithm: ChecksumAlgorithm; value: string } | undefined;
  private readonly parser: AwsChunkedParser | undefined;
  private readonly hasher: Hasher | undefined;
  private readonly md5: Hasher | undefined;
  private held: Buffer | undefined;
  private length = 0;

  constructor(private readonly checks: UploadChecks) {
    super();
    this.parser = checks.awsChunked ? new AwsChunkedParser() : undefined;
    this.hasher = checks.checksum ? hasherFor(checks.checksum.algorithm) : undefined;
    this.md5 = checks.contentMd5 === undefined ? undefined : hasherFor('md5');
  }

  private accept(data: Buffer): void {
    if (data.length === 0) return;
    this.hasher?.update(data);
    this.md5?.update(data);
    this.length += data.length;
    if (this.held) this.push(this.held);
    this.held = data;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      if (this.parser) this.parser.write(chunk, (data) => { this.accept(data); });
      else this.accept(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.parser?.end();
      const { checks } = this;
      if (checks.decodedLength !== undefined && checks.decodedLength !== this.length) {
        throw new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the x-amz-decoded-content-length header.');
      }
      if (checks.checksum && this.hasher) {
        const { algorithm } = checks.checksum;
        const expected = checks.checksum.value ?? this.parser?.trailers[`x-amz-checksum-${algorithm}`];
        if (expected === undefined) throw new S3Error(400, 'MalformedTrailerError', `The request's trailer did not contain x-amz-checksum-${algorithm}.`);
        assertChecksumValue(algorithm, expected);
        const actual = this.hasher.digest().toString('base64');
        if (actual !== expected) throw badDigest(algorithm);
        this.verified = { algorithm, value: actual };
      }
      if (checks.contentMd5 !== undefined && this.md5 && this.md5.digest().toString('base64') !== checks.contentMd5) throw badDigest('md5');
      if (this.held) this.push(this.held);
      this.held = undefined;
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}
