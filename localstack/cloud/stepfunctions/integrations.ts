/**
 * The service integrations a Task can call: Lambda (plain ARN and lambda:invoke), DynamoDB (optimized and aws-sdk)
 * and S3 (aws-sdk getObject/putObject), with the output shapes and error names Step Functions produces.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { LambdaInvoker } from '../types';
import { StatesError } from './errors';

type Json = any;

function sdkHttpMetadata(requestId: string, contentType: string): Json {
  const headers = { 'Content-Type': contentType, 'x-amzn-RequestId': requestId };
  return {
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      HttpHeaders: headers,
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
  };
}

/** Invokes a function and returns its payload; a function error becomes a States error named after its errorType. */
export async function callLambda(lambda: LambdaInvoker, functionRef: string, event: Json): Promise<Json> {
  let result;
  try {
    result = await lambda.invoke(functionRef, event);
  } catch (error) {
    const name = (error as Error)?.name;
    if (name === 'ResourceNotFoundException') {
      throw new StatesError(
        'Lambda.ResourceNotFoundException',
        `Function not found: ${functionRef} (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: ${randomUUID()}; Proxy: null)`,
      );
    }
    throw new StatesError('Lambda.ServiceException', `${(error as Error)?.message ?? String(error)} (Service: AWSLambda; Status Code: 500)`);
  }
  if (!result.ok) {
    const errorType = result.errorType || 'Error';
    throw new StatesError(
      errorType,
      JSON.stringify({ errorType, errorMessage: result.errorMessage, ...(result.trace ? { trace: result.trace } : {}) }),
    );
  }
  return result.payload === undefined ? null : result.payload;
}

/** The output of `arn:aws:states:::lambda:invoke`. */
export function lambdaInvokeOutput(functionRef: string, payload: Json): Json {
  const qualifier = /:function:[^:]+:([^:]+)$/.exec(functionRef)?.[1];
  return {
    ExecutedVersion: qualifier && /^\d+$/.test(qualifier) ? qualifier : '$LATEST',
    Payload: payload,
    ...sdkHttpMetadata(randomUUID(), 'application/json'),
    StatusCode: 200,
  };
}

const DYNAMODB_COMMANDS: Record<string, new (input: any) => any> = {
  getItem: GetItemCommand,
  putItem: PutItemCommand,
  updateItem: UpdateItemCommand,
  deleteItem: DeleteItemCommand,
  query: QueryCommand,
  scan: ScanCommand,
};

/**
 * `errorPrefix` is `DynamoDB` for the optimized integration (`DynamoDB.ConditionalCheckFailedException`) and
 * `DynamoDb` for the aws-sdk one, as Step Functions names them.
 */
export async function callDynamoDb(client: DynamoDBClient, operation: string, params: Json, errorPrefix: string): Promise<Json> {
  const Command = DYNAMODB_COMMANDS[operation];
  if (!Command) throw new StatesError('States.Runtime', `Unsupported DynamoDB operation ${operation}`, { retryable: false });
  try {
    const { $metadata, ...rest } = (await client.send(new Command(params ?? {}))) as Json;
    const out = JSON.parse(JSON.stringify(rest, binaryToBase64));
    return errorPrefix === 'DynamoDB'
      ? { ...out, ...sdkHttpMetadata($metadata?.requestId ?? randomUUID(), 'application/x-amz-json-1.0') }
      : out;
  } catch (error) {
    throw awsError(errorPrefix, 'AmazonDynamoDBv2', error);
  }
}

function binaryToBase64(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;
}

function awsError(prefix: string, service: string, error: unknown): StatesError {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
  let code = e?.name && e.name !== 'Error' ? e.name : 'ServiceException';
  // Step Functions always names SDK errors with the Exception suffix, even where the service does not (S3).
  if (!code.endsWith('Exception')) code = `${code}Exception`;
  const status = e?.$metadata?.httpStatusCode ?? 400;
  return new StatesError(
    `${prefix}.${code}`,
    `${e?.message ?? String(error)} (Service: ${service}; Status Code: ${status}; Error Code: ${e?.name ?? code}; Request ID: ${e?.$metadata?.requestId ?? randomUUID()}; Proxy: null)`,
  );
}

export async function callS3(client: S3Client, operation: string, params: Json): Promise<Json> {
  try {
    if (operation === 'getObject') {
      const { $metadata, Body, ...rest } = (await client.send(new GetObjectCommand(params))) as Json;
      const text = Body ? await Body.transformToString() : '';
      return { ...JSON.parse(JSON.stringify(rest)), Body: text };
    }
    if (operation === 'putObject') {
      const body = params?.Body;
      const { $metadata, ...rest } = (await client.send(
        new PutObjectCommand({ ...params, Body: typeof body === 'string' ? body : JSON.stringify(body ?? '') }),
      )) as Json;
      return JSON.parse(JSON.stringify(rest));
    }
  } catch (error) {
    throw awsError('S3', 'Amazon S3', error);
  }
  throw new StatesError('States.Runtime', `Unsupported S3 operation ${operation}`, { retryable: false });
}

export async function getObjectText(client: S3Client, bucket: string, key: string): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body ? await out.Body.transformToString() : '';
}

export async function putObjectText(client: S3Client, bucket: string, key: string, body: string): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
}

/** The items a `s3:listObjectsV2` ItemReader yields, one per object. */
export async function listObjectItems(client: S3Client, params: Json, maxItems: number): Promise<Json[]> {
  const items: Json[] = [];
  let token: string | undefined;
  do {
    const out = await client.send(new ListObjectsV2Command({ ...params, ContinuationToken: token }));
    for (const o of out.Contents ?? []) {
      items.push({
        Etag: o.ETag,
        Key: o.Key,
        LastModified: o.LastModified ? Math.floor(o.LastModified.getTime() / 1000) : undefined,
        Size: o.Size,
        StorageClass: o.StorageClass ?? 'STANDARD',
      });
      if (items.length >= maxItems) return items;
    }
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return items;
}
