import { S3Client } from '@aws-sdk/client-s3';

let client: S3Client | undefined;

/** One S3 client per execution environment; the endpoint comes from AWS_ENDPOINT_URL_S3 when set (local cloud). */
export function s3(): S3Client {
  client ??= new S3Client({ forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined });
  return client;
}
