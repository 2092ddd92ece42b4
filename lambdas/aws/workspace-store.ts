import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3 } from './s3';
import { runPrefix, type WorkspaceArea } from '../core/runs/keys';
import { present } from '../core/invariants';

/**
 * A run's workspace in S3, `runs/<runId>/{inputs,state,reports,outputs,temp}/` plus `config.json`. Every key
 * this class builds starts with the run's prefix; callers pass keys already normalised (lambdas/core/runs/keys.ts).
 */
export class WorkspaceStore {
  private readonly client: S3Client;

  constructor(
    readonly bucket: string,
    client?: S3Client,
  ) {
    this.client = client ?? s3();
  }

  /**
   * S3 has no folders: an empty object per area makes the layout visible in the console and in listings, and
   * costs nothing to delete with the rest of the prefix.
   */
  async createLayout(runId: string, config: unknown): Promise<void> {
    const prefix = runPrefix(runId);
    const areas: WorkspaceArea[] = ['inputs', 'state', 'reports', 'outputs', 'temp'];
    await Promise.all([
      ...areas.map((area) => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: `${prefix}${area}/`, Body: '' }))),
      this.putJson(`${prefix}config.json`, config),
    ]);
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(value, null, 2), ContentType: 'application/json' }));
  }

  async put(key: string, body: string, contentType = 'application/octet-stream'): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return JSON.parse(await present(out.Body, 'out.Body').transformToString()) as T;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  /** Copies an input from another S3 location (the caller's role must be able to read it). */
  async copyIn(source: { bucket: string; key: string }, key: string): Promise<void> {
    await this.client.send(
      new CopyObjectCommand({ Bucket: this.bucket, Key: key, CopySource: `${source.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}` }),
    );
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return false;
      throw error;
    }
  }

  /** Objects under a prefix, folder markers excluded. */
  async list(prefix: string, limit = 10_000): Promise<Array<{ key: string; size: number; lastModified?: string }>> {
    const out: Array<{ key: string; size: number; lastModified?: string }> = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken }));
      for (const o of page.Contents ?? []) {
        if (present(o.Key, 'o.Key').endsWith('/')) continue;
        out.push({ key: present(o.Key, 'o.Key'), size: o.Size ?? 0, ...(o.LastModified ? { lastModified: o.LastModified.toISOString() } : {}) });
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken && out.length < limit);
    return out.slice(0, limit);
  }

  /** Deletes every object under a prefix (folder markers included), 1,000 keys per request. Idempotent. */
  async deletePrefix(prefix: string): Promise<number> {
    if (!/^runs\/[^/]+\//.test(prefix)) throw new Error(`refusing to delete outside a run prefix: ${prefix}`);
    let deleted = 0;
    for (;;) {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 1000 }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: present(o.Key, 'o.Key') }));
      if (keys.length === 0) return deleted;
      const out = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }));
      if (out.Errors && out.Errors.length > 0) throw new Error(`could not delete ${out.Errors.length} objects under ${prefix}: ${out.Errors[0].Code ?? 'error'} ${out.Errors[0].Message ?? ''}`);
      deleted += keys.length;
      if (!page.IsTruncated) return deleted;
    }
  }

  async presignPut(key: string, expiresIn: number, contentType?: string): Promise<string> {
    return getSignedUrl(this.client, new PutObjectCommand({ Bucket: this.bucket, Key: key, ...(contentType ? { ContentType: contentType } : {}) }), { expiresIn });
  }

  async presignGet(key: string, expiresIn: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn });
  }
}
