/**
 * The authorizing S3 front (localstack/cloud/s3/front.ts) before a real s3rver, with an IAM authority built from
 * a small hand-made template: role keys are authorized by the role's policies (a Deny wins), the `local` key is
 * the administrator, and the default SDK configuration works (flexible checksums, aws-chunked uploads, presigned
 * PUT and POST), with S3's answers to checksum mismatches, POST policy violations and conditional writes.
 * Stands up only the two servers it exercises (no local cloud).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { IamAuthority } from '../../../localstack/cloud/iam/authority';
import { startS3Front, type S3Front } from '../../../localstack/cloud/s3/front';
import { startLocalS3, type LocalS3 } from '../../../localstack/cloud/s3/index';
import { checksumOf } from '../../../localstack/cloud/s3/checksums';
import { resolveTemplate } from '../../../localstack/cloud/template';
import { recordingLogger } from '../../unit/localcloud/lambda/helpers';

const HOST = '127.0.0.1';
const FRONT_PORT = 19740;
const BACKEND_PORT = 19741;
const REGION = 'us-east-1';
const BUCKET = 'bucket';

const template = resolveTemplate({
  directory: '/tmp',
  stackName: 'S3Front',
  assetDirs: new Map(),
  template: {
    Resources: {
      WriterRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } }] },
          Policies: [
            {
              PolicyName: 'runs',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], Resource: `arn:aws:s3:::${BUCKET}/runs/*` },
                  { Effect: 'Deny', Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/runs/secret/*` },
                ],
              },
            },
          ],
        },
      },
    },
  },
});

let directory: string;
let backend: LocalS3;
let front: S3Front;
let admin: S3Client;
let role: S3Client;
const logger = recordingLogger();

function client(accessKeyId: string): S3Client {
  // The SDK's default configuration: flexible checksums on every upload, response checksums validated.
  return new S3Client({ endpoint: front.endpoint, region: REGION, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey: 'local' } });
}

async function text(s3: S3Client, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await object.Body?.transformToString()) ?? '';
}

async function failure(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as { name: string; message: string; $metadata?: { httpStatusCode?: number } },
  );
  if (!error) throw new Error('expected the request to fail');
  return { name: error.name, status: error.$metadata?.httpStatusCode, message: error.message };
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 's3-front-'));
  backend = await startLocalS3({ port: BACKEND_PORT, host: HOST, directory });
  const authority = new IamAuthority(template, { enforce: true });
  front = await startS3Front({ port: FRONT_PORT, host: HOST, backendEndpoint: backend.endpoint, authority, logger, region: REGION, accountId: template.accountId });
  admin = client('local');
  const roleArn = template.resources.get('WriterRole')?.attributes.Arn;
  if (roleArn === undefined) throw new Error('no role ARN');
  role = client(authority.accessKeyFor(roleArn));
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  admin.destroy();
  role.destroy();
  await front.close();
  await backend.stop();
  rmSync(directory, { recursive: true, force: true });
});

describe('S3 front: IAM', () => {
  it('should let a role put where its policy allows and answer AccessDenied 403 elsewhere', async () => {
    await role.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/a.txt', Body: 'allowed' }));
    expect(await text(role, 'runs/a.txt')).toBe('allowed');

    const denied = await failure(role.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'other/a.txt', Body: 'no' })));
    expect(denied).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(denied.message).toMatch(/is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::bucket\/other\/a.txt/);
    expect(await failure(role.send(new ListObjectsV2Command({ Bucket: BUCKET })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(await failure(admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'other/a.txt' })))).toMatchObject({ status: 404 });
    expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes('s3:PutObject'))).toBe(true);
  });

  it('should let a Deny statement win over an Allow', async () => {
    const denied = await failure(role.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/secret/x', Body: 'no' })));
    expect(denied).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(denied.message).toMatch(/explicit deny/);
  });

  it('should let the administrator key `local` do anything', async () => {
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'other/admin.txt', Body: 'admin' }));
    expect(await text(admin, 'other/admin.txt')).toBe('admin');
    const buckets = await admin.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((b) => b.Name)).toContain(BUCKET);
    await admin.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'other/admin.txt' }] } }));
    expect(await failure(admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'other/admin.txt' })))).toMatchObject({ status: 404 });
  });

  it('should refuse a DeleteObjects with one forbidden key, deleting nothing', async () => {
    await role.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/keep.txt', Body: 'keep' }));
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'other/keep.txt', Body: 'keep' }));
    const denied = await failure(role.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'runs/keep.txt' }, { Key: 'other/keep.txt' }] } })));
    expect(denied).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(denied.message).toMatch(/s3:DeleteObject on resource: arn:aws:s3:::bucket\/other\/keep.txt/);
    expect(await text(admin, 'runs/keep.txt')).toBe('keep');

    await role.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'runs/keep.txt' }] } }));
    expect(await failure(admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'runs/keep.txt' })))).toMatchObject({ status: 404 });
  });

  it('should answer an S3 XML error, not crash, for a request it cannot map', async () => {
    const response = await fetch(`${front.endpoint}/${BUCKET}/some/key`, { method: 'POST' });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/<Error><Code>InvalidRequest<\/Code><Message>S3 request not understood[^<]*<\/Message><RequestId>\w+<\/RequestId><\/Error>/);
    expect((await admin.send(new ListBucketsCommand({}))).Buckets?.length).toBeGreaterThan(0);
  });
});

describe('S3 front: the default SDK configuration', () => {
  it('should upload through a presigned PUT URL and read the object back equal', async () => {
    const url = await getSignedUrl(role, new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/presigned.bin' }), { expiresIn: 60 });
    // The SDK signs the CRC32 of an empty body into the URL; S3 ignores checksums in a query string.
    expect(url).toContain('x-amz-checksum-crc32=');
    const body = Buffer.from('presigned upload '.repeat(1000));
    const response = await fetch(url, { method: 'PUT', body });
    expect(response.status).toBe(200);
    const object = await role.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'runs/presigned.bin' }));
    expect(Buffer.from((await object.Body?.transformToByteArray()) ?? [])).toEqual(body);

    const elsewhere = await getSignedUrl(role, new PutObjectCommand({ Bucket: BUCKET, Key: 'other/presigned.bin' }), { expiresIn: 60 });
    const denied = await fetch(elsewhere, { method: 'PUT', body });
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('should round-trip objects with flexible checksums, streamed (aws-chunked) or not, and return the checksum', async () => {
    const small = await role.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/small.txt', Body: 'hello' }));
    expect(small.ChecksumCRC32).toBe(checksumOf('crc32', Buffer.from('hello')));

    const payload = Buffer.alloc(3 * 1024 * 1024 + 17, 'abcdefgh');
    const chunks = [payload.subarray(0, 1_000_000), payload.subarray(1_000_000, 2_500_000), payload.subarray(2_500_000)];
    const streamed = await role.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/streamed.bin', Body: Readable.from(chunks), ContentLength: payload.length }));
    expect(streamed.ChecksumCRC32).toBe(checksumOf('crc32', payload));

    const read = await role.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'runs/streamed.bin', ChecksumMode: 'ENABLED' }));
    expect(read.ChecksumCRC32).toBe(checksumOf('crc32', payload));
    expect(read.ContentLength).toBe(payload.length);
    expect(read.ContentEncoding).toBeUndefined();
    expect(Buffer.from((await read.Body?.transformToByteArray()) ?? []).equals(payload)).toBe(true);

    const sha = await role.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/sha.txt', Body: 'sha', ChecksumAlgorithm: 'SHA256' }));
    expect(sha.ChecksumSHA256).toBe(checksumOf('sha256', Buffer.from('sha')));
    expect((await role.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'runs/sha.txt', ChecksumMode: 'ENABLED' }))).ChecksumSHA256).toBe(sha.ChecksumSHA256);
  });

  it('should refuse a body that does not match its checksum with BadDigest, keeping the previous object', async () => {
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/digest.txt', Body: 'before' }));
    const response = await fetch(`${front.endpoint}/${BUCKET}/runs/digest.txt`, {
      method: 'PUT',
      body: 'after',
      headers: { 'x-amz-checksum-crc32': checksumOf('crc32', Buffer.from('other')) },
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<Code>BadDigest</Code>');

    const chunked = await fetch(`${front.endpoint}/${BUCKET}/runs/digest.txt`, {
      method: 'PUT',
      body: `5\r\nafter\r\n0\r\nx-amz-checksum-crc32:${checksumOf('crc32', Buffer.from('other'))}\r\n\r\n`,
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-decoded-content-length': '5' },
    });
    expect(chunked.status).toBe(400);
    expect(await chunked.text()).toContain('<Code>BadDigest</Code>');
    expect(await text(admin, 'runs/digest.txt')).toBe('before');
  });

  it('should complete a multipart upload whose parts carry checksums', async () => {
    const { UploadId } = await role.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'runs/multi.bin' }));
    const parts = [Buffer.alloc(5 * 1024 * 1024, 'a'), Buffer.from('tail')];
    const etags = [];
    for (const [i, part] of parts.entries()) {
      const uploaded = await role.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'runs/multi.bin', UploadId, PartNumber: i + 1, Body: part }));
      expect(uploaded.ChecksumCRC32).toBe(checksumOf('crc32', part));
      etags.push({ PartNumber: i + 1, ETag: uploaded.ETag });
    }
    await role.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'runs/multi.bin', UploadId, MultipartUpload: { Parts: etags } }));
    const read = await role.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'runs/multi.bin' }));
    expect(Buffer.from((await read.Body?.transformToByteArray()) ?? []).equals(Buffer.concat(parts))).toBe(true);
  });
});

describe('S3 front: presigned POST', () => {
  async function post(s3: S3Client, key: string, size: number, options: { expires?: number; fields?: Record<string, string> } = {}) {
    const { url, fields } = await createPresignedPost(s3, { Bucket: BUCKET, Key: key, Conditions: [['content-length-range', 1, 10]], Expires: options.expires ?? 60 });
    const form = new FormData();
    for (const [name, value] of Object.entries({ ...fields, ...options.fields })) form.append(name, value);
    form.append('file', new Blob([Buffer.alloc(size, 'p')]), 'upload.txt');
    const response = await fetch(url, { method: 'POST', body: form });
    return { status: response.status, body: await response.text() };
  }

  it('should accept an upload within content-length-range', async () => {
    expect((await post(role, 'runs/post.txt', 5)).status).toBe(204);
    expect(await text(role, 'runs/post.txt')).toBe('ppppp');
  });

  it('should refuse an upload outside content-length-range with EntityTooLarge / EntityTooSmall', async () => {
    const large = await post(role, 'runs/large.txt', 11);
    expect(large.status).toBe(400);
    expect(large.body).toContain('<Code>EntityTooLarge</Code>');
    const small = await post(role, 'runs/empty.txt', 0);
    expect(small.status).toBe(400);
    expect(small.body).toContain('<Code>EntityTooSmall</Code>');
    expect(await failure(admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'runs/large.txt' })))).toMatchObject({ status: 404 });
  });

  it('should refuse an expired policy, an unmet condition, and a key the credential may not write', async () => {
    const expired = await post(role, 'runs/expired.txt', 5, { expires: -5 });
    expect(expired.status).toBe(403);
    expect(expired.body).toMatch(/<Code>AccessDenied<\/Code><Message>Invalid according to Policy: Policy expired/);
    const unmet = await post(role, 'runs/one.txt', 5, { fields: { key: 'runs/two.txt' } });
    expect(unmet.status).toBe(403);
    expect(unmet.body).toContain('Policy Condition failed');
    const forbidden = await post(role, 'other/post.txt', 5);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toContain('s3:PutObject on resource: arn:aws:s3:::bucket/other/post.txt');
  });
});

describe('S3 front: conditional writes', () => {
  it('should answer 412 PreconditionFailed to If-None-Match: * when the key exists', async () => {
    await role.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/once.txt', Body: 'first', IfNoneMatch: '*' }));
    const second = await failure(role.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/once.txt', Body: 'second', IfNoneMatch: '*' })));
    expect(second).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(await text(role, 'runs/once.txt')).toBe('first');
  });

  it('should let only one of two concurrent If-None-Match: * writes win', async () => {
    const results = await Promise.allSettled(['a', 'b'].map((body) => role.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/race.txt', Body: body, IfNoneMatch: '*' }))));
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('should check If-Match against the current ETag', async () => {
    const { ETag } = await role.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/match.txt', Body: 'v1' }));
    await role.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/match.txt', Body: 'v2', IfMatch: ETag }));
    expect(await failure(role.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/match.txt', Body: 'v3', IfMatch: ETag })))).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(await text(role, 'runs/match.txt')).toBe('v2');
  });
});
