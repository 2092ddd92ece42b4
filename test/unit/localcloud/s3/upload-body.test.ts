import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checksumOf, hasherFor } from '../../../../localstack/cloud/s3/checksums';
import { S3Error } from '../../../../localstack/cloud/s3/errors';
import { AwsChunkedParser, UploadBody, uploadChecksOf } from '../../../../localstack/cloud/s3/upload-body';

function decode(framed: Buffer, pieceSize: number): { data: Buffer; parser: AwsChunkedParser } {
  const parser = new AwsChunkedParser();
  const out: Buffer[] = [];
  for (let i = 0; i < framed.length; i += pieceSize) parser.write(framed.subarray(i, i + pieceSize), (d) => out.push(Buffer.from(d)));
  parser.end();
  return { data: Buffer.concat(out), parser };
}

async function run(body: UploadBody, input: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of Readable.from([input]).pipe(body)) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

describe('checksums', () => {
  it('should compute the standard check values of "123456789"', () => {
    const data = Buffer.from('123456789');
    const hex = (alg: 'crc32' | 'crc32c' | 'crc64nvme') => {
      const h = hasherFor(alg);
      h.update(data.subarray(0, 4));
      h.update(data.subarray(4));
      return h.digest().toString('hex');
    };
    expect(hex('crc32')).toBe('cbf43926');
    expect(hex('crc32c')).toBe('e3069283');
    expect(hex('crc64nvme')).toBe('ae8b14860a799888');
    expect(checksumOf('crc32', Buffer.alloc(0))).toBe('AAAAAA==');
  });
});

describe('AwsChunkedParser', () => {
  const framed = Buffer.from('6;chunk-signature=abc\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n');

  it('should decode the payload and read the trailer, however the body is split', () => {
    for (const size of [1, 2, 3, 7, framed.length]) {
      const { data, parser } = decode(framed, size);
      expect(data.toString()).toBe('hello world');
      expect(parser.trailers).toEqual({ 'x-amz-checksum-crc32': 'DUoRhQ==' });
      expect(parser.decodedLength).toBe(11);
    }
  });

  it('should refuse a malformed or truncated body', () => {
    expect(() => decode(Buffer.from('zz\r\nhello\r\n'), 4)).toThrow(S3Error);
    expect(() => decode(Buffer.from('5\r\nhelloXX0\r\n\r\n'), 4)).toThrow(S3Error);
    expect(() => decode(Buffer.from('5\r\nhel'), 4)).toThrow(S3Error);
  });
});

describe('UploadBody', () => {
  it('should pass a plain body through and verify its header checksum', async () => {
    const body = new UploadBody(uploadChecksOf({ 'x-amz-checksum-crc32': checksumOf('crc32', Buffer.from('data')) }));
    expect((await run(body, Buffer.from('data'))).toString()).toBe('data');
    expect(body.verified).toEqual({ algorithm: 'crc32', value: checksumOf('crc32', Buffer.from('data')) });
  });

  it('should decode an aws-chunked body and verify its trailing checksum', async () => {
    const headers = { 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-decoded-content-length': '11' };
    const body = new UploadBody(uploadChecksOf(headers));
    const framed = Buffer.from('6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n');
    expect((await run(body, framed)).toString()).toBe('hello world');
    expect(body.verified?.value).toBe('DUoRhQ==');
  });

  it('should fail with BadDigest, withholding the last piece, when the checksum differs', async () => {
    const body = new UploadBody(uploadChecksOf({ 'x-amz-checksum-sha256': checksumOf('sha256', Buffer.from('other')) }));
    const seen: Buffer[] = [];
    body.on('data', (c: Buffer) => seen.push(c));
    const error = await new Promise<unknown>((resolve) => {
      body.on('error', resolve);
      body.end(Buffer.from('data'));
    });
    expect(error).toMatchObject({ code: 'BadDigest', status: 400 });
    expect(seen).toEqual([]);
  });

  it('should check Content-MD5 and the decoded length', async () => {
    await expect(run(new UploadBody(uploadChecksOf({ 'content-md5': checksumOf('md5', Buffer.from('x')) })), Buffer.from('y'))).rejects.toMatchObject({ code: 'BadDigest' });
    const short = uploadChecksOf({ 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '9' });
    await expect(run(new UploadBody(short), Buffer.from('2\r\nhi\r\n0\r\n\r\n'))).rejects.toMatchObject({ code: 'IncompleteBody' });
  });

  it('should refuse malformed checksum headers', () => {
    expect(() => uploadChecksOf({ 'x-amz-checksum-crc32': 'nope' })).toThrow(/x-amz-checksum-crc32 header is invalid/);
    expect(() => uploadChecksOf({ 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-checksum-sha1': checksumOf('sha1', Buffer.from('')) })).toThrow(/single x-amz-checksum/);
    expect(() => uploadChecksOf({ 'x-amz-trailer': 'x-amz-checksum-md7', 'content-encoding': 'aws-chunked' })).toThrow(/x-amz-trailer/);
  });
});
