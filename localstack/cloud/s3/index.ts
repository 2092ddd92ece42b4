/** The S3 emulator (s3rver) as a child process, and bucket creation from the template. */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, HeadBucketCommand, PutBucketCorsCommand, S3Client, type CORSRule } from '@aws-sdk/client-s3';
import { waitForPort } from '../dynamodb-local';
import { stopChild } from '../child-process';
import type { ResolvedResource } from '../types';

export interface LocalS3 {
  endpoint: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startLocalS3(options: { port: number; host: string; directory: string }): Promise<LocalS3> {
  mkdirSync(options.directory, { recursive: true });
  const child = fork(fileURLToPath(new URL('./server.mjs', import.meta.url)), [JSON.stringify({ port: options.port, address: options.host, directory: options.directory })], {
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
  try {
    await waitForPort(options.port, options.host, 20_000, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`The S3 emulator did not start on port ${options.port}: ${(error as Error).message}\n${stderr}`, { cause: error });
  }
  return {
    endpoint: `http://${options.host}:${options.port}`,
    process: child,
    stop: () => stopChild(child),
  };
}

export function localS3Client(endpoint: string, region: string): S3Client {
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** A rule of `CorsConfiguration.CorsRules` as CloudFormation spells it (the API's names differ slightly). */
interface CorsRuleProperties {
  AllowedMethods?: string[];
  AllowedOrigins?: string[];
  AllowedHeaders?: string[];
  ExposedHeaders?: string[];
  MaxAge?: number;
}

/** The bucket properties read here. */
interface BucketProperties {
  CorsConfiguration?: { CorsRules?: CorsRuleProperties[] };
}

/** Creates the bucket of an `AWS::S3::Bucket` (idempotent) with its CORS rules; encryption and lifecycle are AWS-side. */
export async function ensureBucket(client: S3Client, resource: ResolvedResource): Promise<void> {
  const Bucket = resource.physicalId;
  try {
    await client.send(new HeadBucketCommand({ Bucket }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket }));
  }
  // The synthesized template, resolved: the CloudFormation schema of the bucket is what types these properties.
  const cors = (resource.properties as BucketProperties).CorsConfiguration?.CorsRules;
  if (Array.isArray(cors) && cors.length > 0) {
    await client.send(
      new PutBucketCorsCommand({
        Bucket,
        CORSConfiguration: {
          CORSRules: cors.map((r): CORSRule => ({
            AllowedMethods: r.AllowedMethods,
            AllowedOrigins: r.AllowedOrigins,
            AllowedHeaders: r.AllowedHeaders,
            ExposeHeaders: r.ExposedHeaders,
            MaxAgeSeconds: r.MaxAge,
          })),
        },
      }),
    );
  }
}
