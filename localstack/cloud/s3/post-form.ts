/**
 * Browser POST uploads (`multipart/form-data`, the form `createPresignedPost` gives): the form's fields and the
 * file's size, read as the body streams past, and the checks S3 makes of the form against its POST policy
 * (expiration, conditions, `content-length-range`).
 */
import { S3Error, accessDenied, invalidArgument } from './errors';

/** S3 refuses a form whose fields before the file exceed 20 KB. */
const MAX_PRE_DATA = 20 * 1024;

export interface FormFile {
  /** The file part's `filename`, for `${filename}` in the key. */
  filename: string;
  size: number;
}

/** The boundary of a `multipart/form-data` content type, or undefined. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/**
 * Reads a multipart form as it streams: the text fields before the part named `file` (lower-case names, the
 * first value of each; S3 ignores what follows the file) and the file's size, holding only the fields in memory.
 */
export class MultipartScanner {
  readonly fields = new Map<string, string>();
  file: FormFile | undefined;
  private readonly delimiter: Buffer;
  // The body is read as if it began with CRLF, so the first boundary line looks like every other one.
  private pending: Buffer = Buffer.from('\r\n');
  private state: 'preamble' | 'after-delimiter' | 'headers' | 'field' | 'file' | 'ignored' | 'done' = 'preamble';
  private part: { name: string; filename?: string } | undefined;
  private fieldBytes: Buffer[] = [];
  private preData = 0;

  constructor(boundary: string) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  write(chunk: Buffer): void {
    let buf = Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.state === 'done') {
        buf = Buffer.alloc(0);
        break;
      }
      if (this.state === 'after-delimiter') {
        if (buf.length < 2) break;
        const next = buf.subarray(0, 2).toString('latin1');
        buf = buf.subarray(2);
        this.state = next === '--' ? 'done' : 'headers';
        if (next !== '--' && next !== '\r\n') throw malformedPost();
        continue;
      }
      if (this.state === 'headers') {
        const end = buf.indexOf('\r\n\r\n');
        const head = end < 0 ? buf : buf.subarray(0, end);
        this.count(end < 0 ? 0 : end + 4);
        if (end < 0) {
          if (buf.length > MAX_PRE_DATA) throw malformedPost();
          break;
        }
        this.startPart(head.toString('utf8'));
        buf = buf.subarray(end + 4);
        continue;
      }
      // In a part's content (or the preamble): up to the next delimiter, keeping a tail that may begin one.
      const at = buf.indexOf(this.delimiter);
      const content = at < 0 ? buf.subarray(0, Math.max(0, buf.length - this.delimiter.length + 1)) : buf.subarray(0, at);
      this.content(content);
      buf = buf.subarray(content.length);
      if (at < 0) break;
      this.endPart();
      buf = buf.subarray(this.delimiter.length);
      this.state = 'after-delimiter';
    }
    this.pending = Buffer.from(buf);
  }

  /** Throws unless the form ended with its closing boundary (or once its file was read whole). */
  end(): void {
    if (this.state !== 'done') throw malformedPost();
  }

  private count(bytes: number): void {
    if (this.file !== undefined) return;
    this.preData += bytes;
    if (this.preData > MAX_PRE_DATA) {
      throw new S3Error(400, 'MaxPostPreDataLengthExceeded', 'Your POST request fields preceeding the upload file was too large.', { MaxPostPreDataLength: String(MAX_PRE_DATA) });
    }
  }

  private startPart(head: string): void {
    const disposition = head.split('\r\n').find((line) => /^content-disposition\s*:/i.test(line)) ?? '';
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw malformedPost();
    this.part = { name, ...(filename !== undefined && { filename }) };
    const lower = name.toLowerCase();
    if (this.file !== undefined) this.state = 'ignored';
    else if (lower === 'file') {
      this.file = { filename: filename ?? '', size: 0 };
      this.state = 'file';
    } else this.state = 'field';
    this.fieldBytes = [];
  }

  private content(data: Buffer): void {
    if (data.length === 0) return;
    if (this.state === 'file' && this.file) this.file.size += data.length;
    else if (this.state === 'field') {
      this.count(data.length);
      this.fieldBytes.push(data);
    }
  }

  private endPart(): void {
    if (this.state === 'field' && this.part) {
      const name = this.part.name.toLowerCase();
      if (!this.fields.has(name)) this.fields.set(name, Buffer.concat(this.fieldBytes).toString('utf8'));
    }
    this.part = undefined;
    this.fieldBytes = [];
  }
}

function malformedPost(): S3Error {
  return new S3Error(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
}

/** The object key of a POST form: its `key` field with `${filename}` replaced by the file's name. */
export function postObjectKey(fields: ReadonlyMap<string, string>, file: FormFile | undefined): string {
  const key = fields.get('key');
  if (key === undefined) throw invalidArgument("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", { ArgumentName: 'key', ArgumentValue: '' });
  const resolved = key.replaceAll('${filename}', file?.filename ?? '');
  if (resolved === '') throw invalidArgument('User key must have a length greater than 0.', { ArgumentName: 'key', ArgumentValue: '' });
  return resolved;
}

/** Fields a POST policy need not name (AWS: the signature, the file, the policy itself and `x-ignore-` fields). */
const EXEMPT_FIELDS = new Set(['policy', 'x-amz-signature', 'file', 'awsaccesskeyid', 'signature']);

function policyFailure(message: string): S3Error {
  return accessDenied(`Invalid according to Policy: ${message}`);
}

function invalidPolicy(message: string): S3Error {
  return new S3Error(400, 'InvalidPolicyDocument', `Invalid Policy: ${message}`);
}

export interface PostPolicyInput {
  /** The form's fields, lower-case names. */
  fields: ReadonlyMap<string, string>;
  /** The bucket of the request (a form's `bucket` field, when any, must name it). */
  bucket: string;
  file: FormFile;
  now?: Date;
}

type Condition = { field: string; kind: 'eq' | 'starts-with'; value: string; text: string } | { kind: 'content-length-range'; min: number; max: number };

function parseCondition(raw: unknown): Condition {
  const text = JSON.stringify(raw);
  if (Array.isArray(raw)) {
    const [op, a, b] = raw as unknown[];
    if (typeof op !== 'string') throw invalidPolicy(`Invalid Condition: ${text}`);
    if (op.toLowerCase() === 'content-length-range') {
      const min = Number(a);
      const max = Number(b);
      if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min) throw invalidPolicy(`Invalid content-length-range: ${text}`);
      return { kind: 'content-length-range', min, max };
    }
    const kind = op.toLowerCase();
    if ((kind !== 'eq' && kind !== 'starts-with') || typeof a !== 'string' || !a.startsWith('$') || typeof b !== 'string') throw invalidPolicy(`Invalid Condition: ${text}`);
    return { kind, field: a.slice(1).toLowerCase(), value: b, text };
  }
  if (typeof raw === 'object' && raw !== null) {
    const entries = Object.entries(raw as Record<string, unknown>);
    const entry = entries.at(0);
    if (entries.length !== 1 || entry === undefined || typeof entry[1] !== 'string') throw invalidPolicy(`Invalid Simple-Condition: ${text}`);
    return { kind: 'eq', field: entry[0].toLowerCase(), value: entry[1], text: JSON.stringify(['eq', `$${entry[0]}`, entry[1]]) };
  }
  throw invalidPolicy(`Invalid Condition: ${text}`);
}

/**
 * Checks a POST form against its policy as S3 does: the policy must not have expired, every condition must hold
 * (`bucket` against the request's bucket, `key` with `${filename}` resolved), every field but the exempt ones
 * must be named by a condition, and the file's size must lie in `content-length-range` (EntityTooSmall /
 * EntityTooLarge otherwise). A form with no policy is an anonymous upload and is not checked here.
 */
export function checkPostPolicy(input: PostPolicyInput): void {
  const { fields, file } = input;
  const encoded = fields.get('policy');
  if (encoded === undefined) {
    if (fields.has('x-amz-credential') || fields.has('awsaccesskeyid')) throw invalidArgument("Bucket POST must contain a field named 'policy'.", { ArgumentName: 'policy', ArgumentValue: '' });
    return;
  }
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Could not parse the policy: it is not base64-encoded JSON.');
  }
  if (typeof document !== 'object' || document === null) throw invalidPolicy('The policy is not a JSON object.');
  const { expiration, conditions } = document as { expiration?: unknown; conditions?: unknown };
  const expires = typeof expiration === 'string' ? Date.parse(expiration) : NaN;
  if (Number.isNaN(expires)) throw invalidPolicy("Invalid 'expiration' value.");
  if ((input.now ?? new Date()).getTime() > expires) throw policyFailure('Policy expired.');
  if (!Array.isArray(conditions)) throw invalidPolicy("Missing required field 'conditions'.");
  const parsed = (conditions as unknown[]).map(parseCondition);
  const valueOf = (field: string): string | undefined => {
    if (field === 'bucket') return input.bucket;
    if (field === 'key') return postObjectKey(fields, file);
    return fields.get(field);
  };
  const named = new Set<string>();
  for (const condition of parsed) {
    if (condition.kind === 'content-length-range') continue;
    named.add(condition.field);
    const value = valueOf(condition.field) ?? '';
    const holds = condition.kind === 'eq' ? value === condition.value : value.startsWith(condition.value);
    if (!holds) throw policyFailure(`Policy Condition failed: ${condition.text}`);
  }
  const extra = [...fields.keys()].filter((f) => !EXEMPT_FIELDS.has(f) && !f.startsWith('x-ignore-') && !named.has(f));
  if (extra.length > 0) throw policyFailure(`Extra input fields: ${extra.join(', ')}`);
  for (const condition of parsed) {
    if (condition.kind !== 'content-length-range') continue;
    if (file.size > condition.max) {
      throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: String(file.size), MaxSizeAllowed: String(condition.max) });
    }
    if (file.size < condition.min) {
      throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { ProposedSize: String(file.size), MinSizeAllowed: String(condition.min) });
    }
  }
}
