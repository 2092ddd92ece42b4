import { describe, expect, it } from 'vitest';
import { MultipartScanner, checkPostPolicy, formBoundary, postObjectKey } from '../../../../localstack/cloud/s3/post-form';

function form(boundary: string, fields: Record<string, string>, file: string, after: Record<string, string> = {}): Buffer {
  const part = (name: string, value: string, filename?: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename === undefined ? '' : `; filename="${filename}"`}\r\n\r\n${value}\r\n`;
  return Buffer.from(
    Object.entries(fields).map(([k, v]) => part(k, v)).join('') + part('file', file, 'a.txt') + Object.entries(after).map(([k, v]) => part(k, v)).join('') + `--${boundary}--\r\n`,
  );
}

function scan(body: Buffer, boundary: string, pieceSize: number): MultipartScanner {
  const scanner = new MultipartScanner(boundary);
  for (let i = 0; i < body.length; i += pieceSize) scanner.write(body.subarray(i, i + pieceSize));
  scanner.end();
  return scanner;
}

const policy = (conditions: unknown[], expiration = new Date(Date.now() + 60_000).toISOString()) => Buffer.from(JSON.stringify({ expiration, conditions })).toString('base64');

describe('MultipartScanner', () => {
  it('should read the fields before the file and the file size, however the body is split', () => {
    const body = form('XyZ', { key: 'runs/${filename}', 'X-Amz-Credential': 'AKID/20260101/us-east-1/s3/aws4_request' }, 'file\r\n--XyQ not a boundary', { ignored: 'x' });
    for (const size of [1, 5, 64, body.length]) {
      const scanner = scan(body, 'XyZ', size);
      expect(Object.fromEntries(scanner.fields)).toEqual({ key: 'runs/${filename}', 'x-amz-credential': 'AKID/20260101/us-east-1/s3/aws4_request' });
      expect(scanner.file).toEqual({ filename: 'a.txt', size: 'file\r\n--XyQ not a boundary'.length });
      expect(postObjectKey(scanner.fields, scanner.file)).toBe('runs/a.txt');
    }
  });

  it('should refuse a form that never closes, and too much data before the file', () => {
    expect(() => scan(Buffer.from('--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nk'), 'b', 4)).toThrow(/not well-formed/);
    expect(() => scan(form('b', { big: 'x'.repeat(30_000) }, 'f'), 'b', 1000)).toThrow(/preceeding the upload file was too large/);
  });

  it('should read the boundary of a multipart content type', () => {
    expect(formBoundary('multipart/form-data; boundary=----abc')).toBe('----abc');
    expect(formBoundary('multipart/form-data; boundary="q u"')).toBe('q u');
    expect(formBoundary('application/json')).toBeUndefined();
  });
});

describe('checkPostPolicy', () => {
  const file = { filename: 'a.txt', size: 5 };
  const fields = (conditions: unknown[], extra: Record<string, string> = {}) => new Map(Object.entries({ key: 'runs/a', policy: policy(conditions), 'x-amz-signature': 's', ...extra }));

  it('should accept a form meeting every condition', () => {
    expect(() => { checkPostPolicy({ bucket: 'b', file, fields: fields([{ bucket: 'b' }, ['starts-with', '$key', 'runs/'], ['content-length-range', 1, 10]]) }); }).not.toThrow();
  });

  it('should answer EntityTooLarge / EntityTooSmall outside content-length-range', () => {
    const conditions = [['starts-with', '$key', ''], ['content-length-range', 6, 10]];
    expect(() => { checkPostPolicy({ bucket: 'b', file, fields: fields(conditions) }); }).toThrow(expect.objectContaining({ code: 'EntityTooSmall', status: 400 }) as Error);
    expect(() => { checkPostPolicy({ bucket: 'b', file: { ...file, size: 11 }, fields: fields(conditions) }); }).toThrow(expect.objectContaining({ code: 'EntityTooLarge', details: { ProposedSize: '11', MaxSizeAllowed: '10' } }) as Error);
  });

  it('should refuse an expired policy, a failed condition and a field the policy does not name, with AccessDenied', () => {
    const expired = new Map([['key', 'k'], ['policy', policy([], '2000-01-01T00:00:00Z')]]);
    expect(() => { checkPostPolicy({ bucket: 'b', file, fields: expired }); }).toThrow(/Policy expired/);
    expect(() => { checkPostPolicy({ bucket: 'b', file, fields: fields([{ key: 'other' }]) }); }).toThrow(/Policy Condition failed: \["eq","\$key","other"\]/);
    expect(() => { checkPostPolicy({ bucket: 'b', file, fields: fields([{ bucket: 'c' }, { key: 'runs/a' }]) }); }).toThrow(expect.objectContaining({ code: 'AccessDenied', status: 403 }) as Error);
    expect(() => { checkPostPolicy({ bucket: 'b', file, fields: fields([{ key: 'runs/a' }], { 'content-type': 'text/plain' }) }); }).toThrow(/Extra input fields: content-type/);
    expect(() => { checkPostPolicy({ bucket: 'b', file, fields: fields([{ key: 'runs/a' }], { 'x-ignore-me': '1' }) }); }).not.toThrow();
  });

  it('should refuse a policy that is not base64 JSON with InvalidPolicyDocument', () => {
    expect(() => { checkPostPolicy({ bucket: 'b', file, fields: new Map([['key', 'k'], ['policy', '!!!']]) }); }).toThrow(expect.objectContaining({ code: 'InvalidPolicyDocument' }) as Error);
  });
});
