import { describe, expect, it } from 'vitest';
import { s3Target } from '../../../../localstack/cloud/s3/front';

describe('s3Target', () => {
  it('should read path-style requests on a loopback host', () => {
    expect(s3Target('127.0.0.1:4513', '/bucket/runs/a%20b.txt')).toEqual({ bucket: 'bucket', key: 'runs/a b.txt' });
    expect(s3Target('localhost:4513', '/bucket')).toEqual({ bucket: 'bucket' });
    expect(s3Target('[::1]:4513', '/')).toEqual({});
  });

  it('should read virtual-host requests as s3rver routes them', () => {
    expect(s3Target('bucket.s3.us-east-1.amazonaws.com', '/runs/a.txt')).toEqual({ bucket: 'bucket', key: 'runs/a.txt' });
    expect(s3Target('my.bucket:4513', '/k')).toEqual({ bucket: 'my.bucket', key: 'k' });
  });

  it('should refuse a path it cannot decode with InvalidURI', () => {
    expect(() => s3Target('127.0.0.1', '/bucket/%E0%A4%A')).toThrow(expect.objectContaining({ code: 'InvalidURI', status: 400 }) as Error);
  });
});
