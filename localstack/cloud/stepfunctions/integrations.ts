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
  type DeleteItemCommandInput,
  type DynamoDBClient,
  type GetItemCommandInput,
  type PutItemCommandInput,
  type QueryCommandInput,
  type ScanCommandInput,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type GetObjectCommandInput,
  type ListObjectsV2CommandInput,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { LambdaInvoker } from '../types';
import { StatesError } from './errors';
import { objectOr, toJson, type JsonObject, type JsonValue } from './json';

function sdkHttpMetadata(requestId: string, contentType: string): JsonObject {
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
export async function callLambda(lambda: LambdaInvoker, functionRef: string, event: JsonValue): Promise<JsonValue> {
  let result;
  try {
    result = await lambda.invoke(functionRef, event);
  } catch (error) {
    const name = (error as Error | undefined)?.name;
    if (name === 'ResourceNotFoundException') {
      throw new StatesError(
        'Lambda.ResourceNotFoundException',
        `Function not found: ${functionRef} (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: ${randomUUID()}; Proxy: null)`,
      );
    }
    // Lambda refused the call (local limits, ../lambda/limits.ts): Step Functions names the SDK exception.
    const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
    if ((name === 'TooManyRequestsException' || name === 'RequestEntityTooLargeException') && typeof status === 'number') {
      throw new StatesError(
        `Lambda.${name}`,
        `${(error as Error).message} (Service: Lambda, Status Code: ${status}, Request ID: ${randomUUID()})`,
      );
    }
    throw new StatesError('Lambda.ServiceException', `${(error as Error | undefined)?.message ?? String(error)} (Service: AWSLambda; Status Code: 500)`);
  }
  if (!result.ok) {
    const errorType = result.errorType || 'Error';
    throw new StatesError(
      errorType,
      JSON.stringify({ errorType, errorMessage: result.errorMessage, ...(result.trace ? { trace: result.trace } : {}) }),
    );
  }
  // The invoker answers the function's response parsed from JSON.
  return result.payload === undefined ? null : (result.payload as JsonValue);
}

/** The output of `arn:aws:states:::lambda:invoke`. */
export function lambdaInvokeOutput(functionRef: string, payload: JsonValue): JsonObject {
  const qualifier = /:function:[^:]+:([^:]+)$/.exec(functionRef)?.[1];
  return {
    ExecutedVersion: qualifier && /^\d+$/.test(qualifier) ? qualifier : '$LATEST',
    Payload: payload,
    ...sdkHttpMetadata(randomUUID(), 'application/json'),
    StatusCode: 200,
  };
}

/** What every SDK output carries besides its fields. */
interface SdkOutput {
  $metadata: { requestId?: string };
}

/**
 * The DynamoDB operations a Task may run. The Task's Parameters are the command input as Step Functions passes
 * them to the SDK; DynamoDB validates them.
 */
const DYNAMODB_COMMANDS: Partial<Record<string, (client: DynamoDBClient, input: JsonObject) => Promise<SdkOutput>>> = {
  getItem: (client, input) => client.send(new GetItemCommand(input as unknown as GetItemCommandInput)),
  putItem: (client, input) => client.send(new PutItemCommand(input as unknown as PutItemCommandInput)),
  updateItem: (client, input) => client.send(new UpdateItemCommand(input as unknown as UpdateItemCommandInput)),
  deleteItem: (client, input) => client.send(new DeleteItemCommand(input as unknown as DeleteItemCommandInput)),
  query: (client, input) => client.send(new QueryCommand(input as unknown as QueryCommandInput)),
  scan: (client, input) => client.send(new ScanCommand(input as unknown as ScanCommandInput)),
};

/** The fields of an SDK output as JSON, without the SDK's response metadata. */
function outputFields(output: SdkOutput, replacer?: (key: string, value: unknown) => unknown): JsonObject {
  const fields: Partial<SdkOutput> = { ...output };
  delete fields.$metadata;
  return objectOr(toJson(fields, replacer));
}

/**
 * `errorPrefix` is `DynamoDB` for the optimized integration (`DynamoDB.ConditionalCheckFailedException`) and
 * `DynamoDb` for the aws-sdk one, as Step Functions names them.
 */
export async function callDynamoDb(client: DynamoDBClient, operation: string, params: JsonValue, errorPrefix: string): Promise<JsonValue> {
  const run = DYNAMODB_COMMANDS[operation];
  if (!run) throw new StatesError('States.Runtime', `Unsupported DynamoDB operation ${operation}`, { retryable: false });
  try {
    const output = await run(client, objectOr(params));
    const out = outputFields(output, binaryToBase64);
    return errorPrefix === 'DynamoDB'
      ? { ...out, ...sdkHttpMetadata(output.$metadata.requestId ?? randomUUID(), 'application/x-amz-json-1.0') }
      : out;
  } catch (error) {
    throw awsError(errorPrefix, 'AmazonDynamoDBv2', error);
  }
}

function binaryToBase64(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;
}

function awsError(prefix: string, service: string, error: unknown): StatesError {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number; requestId?: string } } | undefined;
  let code = e?.name && e.name !== 'Error' ? e.name : 'ServiceException';
  // Step Functions always names SDK errors with the Exception suffix, even where the service does not (S3).
  if (!code.endsWith('Exception')) code = `${code}Exception`;
  const status = e?.$metadata?.httpStatusCode ?? 400;
  return new StatesError(
    `${prefix}.${code}`,
    `${e?.message ?? String(error)} (Service: ${service}; Status Code: ${status}; Error Code: ${e?.name ?? code}; Request ID: ${e?.$metadata?.requestId ?? randomUUID()}; Proxy: null)`,
  );
}

export async function callS3(client: S3Client, operation: string, params: JsonValue): Promise<JsonValue> {
  const input = objectOr(params);
  try {
    if (operation === 'getObject') {
      // The Task's Parameters are the command input (Bucket, Key, …), as Step Functions passes them to the SDK.
      const { Body: stream, ...output } = await client.send(new GetObjectCommand(input as unknown as GetObjectCommandInput));
      const text = stream ? await stream.transformToString() : '';
      return { ...outputFields(output), Body: text };
    }
    if (operation === 'putObject') {
      const body = input.Body;
      const output = await client.send(
        new PutObjectCommand({ ...(input as unknown as PutObjectCommandInput), Body: typeof body === 'string' ? body : JSON.stringify(body ?? '') }),
      );
      return outputFields(output);
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
export async function listObjectItems(client: S3Client, params: JsonObject, maxItems: number): Promise<JsonObject[]> {
  const items: JsonObject[] = [];
  let token: string | undefined;
  do {
    const out = await client.send(new ListObjectsV2Command({ ...(params as unknown as ListObjectsV2CommandInput), ContinuationToken: token }));
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
