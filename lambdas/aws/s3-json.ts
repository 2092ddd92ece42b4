import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3 } from './s3';
import { present } from '../core/invariants';

/** A JSON object of the workspace, or undefined when there is none (a missing key is an answer, not an error). */
export async function readJson(bucket: string, key: string): Promise<unknown> {
  try {
    const out = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await present(out.Body, 'out.Body').transformToString());
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

export async function writeJson(bucket: string, key: string, value: unknown): Promise<void> {
  await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(value), ContentType: 'application/json' }));
}
