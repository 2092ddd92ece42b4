/**
 * What an API request needs from IAM: each action and resource ARN it is authorized on, with the request's
 * condition keys. Pure: the authorizing proxies in front of DynamoDB Local and the S3 emulator parse the request
 * and ask here. Batch and transactional requests need one permission per table or item, as AWS checks them.
 */
import type { AuthorizationRequest } from './evaluate';

export interface AwsLocation {
  region: string;
  accountId: string;
  /** `aws` unless told otherwise. */
  partition?: string;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A table's entry for a name the request chose (so `constructor` is no entry). */
function entryOf(table: Readonly<Record<string, string>>, name: string): string | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

function records(value: unknown): Json[] {
  return Array.isArray(value) ? (value as unknown[]).filter(isRecord) : [];
}

// ---------------------------------------------------------------------------------------------------------------
// DynamoDB

export interface DynamoDbOptions {
  /** The partition key attribute of a table, to give item operations the `dynamodb:LeadingKeys` condition key. */
  partitionKeyOf?: (tableName: string) => string | undefined;
}

function tableArn(table: string, loc: AwsLocation): string {
  // Every operation that names a table also accepts its ARN.
  if (table.startsWith('arn:')) return table;
  return `arn:${loc.partition ?? 'aws'}:dynamodb:${loc.region}:${loc.accountId}:table/${table}`;
}

function tableNameOf(table: string): string {
  return /:table\/([^/]+)/.exec(table)?.[1] ?? table;
}

/** A DynamoDB attribute value (`{S: 'x'}`, `{N: '1'}`, `{B: '…'}`) as the text IAM compares. */
function scalarText(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  for (const type of ['S', 'N', 'B'] as const) if (typeof value[type] === 'string') return value[type];
  return undefined;
}

function leadingKeys(table: string, items: unknown[], options: DynamoDbOptions): AuthorizationRequest['context'] {
  const pk = options.partitionKeyOf?.(tableNameOf(table));
  if (pk === undefined) return undefined;
  const keys = [...new Set(items.map((item) => (isRecord(item) ? scalarText(item[pk]) : undefined)).filter((k): k is string => k !== undefined))];
  return keys.length > 0 ? { 'dynamodb:LeadingKeys': keys } : undefined;
}

function permission(action: string, resource: string, context?: AuthorizationRequest['context']): AuthorizationRequest {
  return context ? { action, resource, context } : { action, resource };
}

const PARTIQL: Record<string, string> = { SELECT: 'PartiQLSelect', INSERT: 'PartiQLInsert', UPDATE: 'PartiQLUpdate', DELETE: 'PartiQLDelete' };

/** `SELECT … FROM "t"."i"`, `INSERT INTO t`, `UPDATE "t"`, `DELETE FROM t` → action, table and index. */
function partiqlTarget(statement: string): { action: string; table: string; index?: string } {
  const verb = /^\s*(\w+)/.exec(statement)?.[1]?.toUpperCase() ?? '';
  const action = entryOf(PARTIQL, verb);
  if (action === undefined) throw new Error(`PartiQL statement not understood: ${statement.slice(0, 80)}`);
  const ident = String.raw`(?:"((?:[^"]|"")+)"|([A-Za-z0-9_.-]+?))`;
  const lead = verb === 'SELECT' || verb === 'DELETE' ? String.raw`\bFROM\s+` : verb === 'INSERT' ? String.raw`^\s*INSERT\s+INTO\s+` : String.raw`^\s*UPDATE\s+`;
  const m = new RegExp(`${lead}${ident}(?:\\.${ident})?(?=[\\s;]|$)`, 'is').exec(statement);
  if (!m) throw new Error(`PartiQL statement names no table: ${statement.slice(0, 80)}`);
  const table = m.at(1)?.replace(/""/g, '"') ?? m[2];
  const index = m.at(3)?.replace(/""/g, '"') ?? m.at(4);
  return index === undefined ? { action: `dynamodb:${action}`, table } : { action: `dynamodb:${action}`, table, index };
}

function partiqlPermission(statement: unknown, loc: AwsLocation): AuthorizationRequest {
  if (typeof statement !== 'string') throw new Error('PartiQL request without a Statement');
  const target = partiqlTarget(statement);
  const arn = tableArn(target.table, loc);
  return permission(target.action, target.index === undefined ? arn : `${arn}/index/${target.index}`);
}

const TRANSACT_WRITE: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/** A stream ARN, given directly or at the start of a shard iterator (which is how DynamoDB spells one). */
function streamArnOf(input: Json): string | undefined {
  if (typeof input.StreamArn === 'string') return input.StreamArn;
  if (typeof input.ShardIterator === 'string') return /^arn:[^|]*?:table\/[^/]+\/stream\/[^|/]+/.exec(input.ShardIterator)?.[0];
  return undefined;
}

/**
 * The permissions a DynamoDB request needs: `operation` is the `X-Amz-Target` operation (`GetItem`,
 * `BatchWriteItem`, …) and `input` its JSON body. An operation not listed here needs `dynamodb:<operation>` on its
 * table (or `*` without one), which is how AWS names all the rest. Throws for a request it cannot read; an empty
 * list comes only from an empty batch, which DynamoDB itself refuses as invalid.
 */
export function dynamoDbPermissions(operation: string, input: Json, loc: AwsLocation, options: DynamoDbOptions = {}): AuthorizationRequest[] {
  const table = typeof input.TableName === 'string' ? input.TableName : undefined;
  switch (operation) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
      return [permission(`dynamodb:${operation}`, tableArn(requireTable(table, operation), loc), leadingKeys(requireTable(table, operation), [input.Key], options))];
    case 'PutItem':
      return [permission('dynamodb:PutItem', tableArn(requireTable(table, operation), loc), leadingKeys(requireTable(table, operation), [input.Item], options))];
    case 'Query':
    case 'Scan': {
      const arn = tableArn(requireTable(table, operation), loc);
      return [permission(`dynamodb:${operation}`, typeof input.IndexName === 'string' ? `${arn}/index/${input.IndexName}` : arn)];
    }
    case 'BatchGetItem': {
      const items = isRecord(input.RequestItems) ? input.RequestItems : {};
      return Object.entries(items).map(([t, request]) =>
        permission('dynamodb:BatchGetItem', tableArn(t, loc), leadingKeys(t, isRecord(request) && Array.isArray(request.Keys) ? (request.Keys as unknown[]) : [], options)),
      );
    }
    case 'BatchWriteItem': {
      // AWS authorizes the batch per table with dynamodb:BatchWriteItem (not PutItem / DeleteItem per request).
      const items = isRecord(input.RequestItems) ? input.RequestItems : {};
      return Object.entries(items).map(([t, requests]) => {
        const keys = records(requests).map((r) => (isRecord(r.PutRequest) ? r.PutRequest.Item : isRecord(r.DeleteRequest) ? r.DeleteRequest.Key : undefined));
        return permission('dynamodb:BatchWriteItem', tableArn(t, loc), leadingKeys(t, keys, options));
      });
    }
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return records(input.TransactItems).flatMap((item) =>
        Object.entries(item).flatMap(([kind, spec]) => {
          const action = operation === 'TransactGetItems' ? (kind === 'Get' ? 'dynamodb:GetItem' : undefined) : entryOf(TRANSACT_WRITE, kind);
          // An item this cannot read would otherwise go unauthorized: refuse it instead.
          if (action === undefined || !isRecord(spec) || typeof spec.TableName !== 'string') throw new Error(`${operation} item ${kind} not understood`);
          return [permission(action, tableArn(spec.TableName, loc), leadingKeys(spec.TableName, [kind === 'Put' ? spec.Item : spec.Key], options))];
        }),
      );
    case 'ExecuteStatement':
      return [partiqlPermission(input.Statement, loc)];
    case 'BatchExecuteStatement':
    case 'ExecuteTransaction':
      return records(operation === 'BatchExecuteStatement' ? input.Statements : input.TransactStatements).map((s) => partiqlPermission(s.Statement, loc));
    case 'DescribeStream':
    case 'GetShardIterator':
    case 'GetRecords': {
      const stream = streamArnOf(input);
      if (stream === undefined) throw new Error(`${operation} without a stream ARN`);
      return [permission(`dynamodb:${operation}`, stream)];
    }
    case 'ListStreams':
      return [permission('dynamodb:ListStreams', table === undefined ? '*' : `${tableArn(table, loc)}/stream/*`)];
    default:
      return [permission(`dynamodb:${operation}`, table === undefined ? '*' : tableArn(table, loc))];
  }
}

function requireTable(table: string | undefined, operation: string): string {
  if (table === undefined) throw new Error(`${operation} without a TableName`);
  return table;
}

// ---------------------------------------------------------------------------------------------------------------
// S3

export interface S3Request {
  /** The S3 API operation, e.g. `GetObject`, `ListObjectsV2`, `UploadPart`; `PostObject` for a browser POST upload. */
  operation: string;
  bucket?: string;
  key?: string;
  /** GetObject / HeadObject / DeleteObject of one version, which IAM authorizes as `s3:…ObjectVersion`. */
  versionId?: string;
  /** DeleteObjects: the keys of its body. */
  keys?: readonly string[];
  /** CopyObject / UploadPartCopy: the `x-amz-copy-source`. */
  copySource?: { bucket: string; key: string };
  /** ListObjects(V2): the request's `prefix`, `delimiter` and `max-keys`, which policies test as `s3:prefix` etc. */
  prefix?: string;
  delimiter?: string;
  maxKeys?: string;
}

function bucketArn(bucket: string, loc: AwsLocation): string {
  return `arn:${loc.partition ?? 'aws'}:s3:::${bucket}`;
}

function objectArn(bucket: string, key: string, loc: AwsLocation): string {
  return `${bucketArn(bucket, loc)}/${key}`;
}

const OBJECT_ACTIONS: Record<string, string> = {
  GetObject: 's3:GetObject',
  HeadObject: 's3:GetObject',
  PutObject: 's3:PutObject',
  PostObject: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  ListParts: 's3:ListMultipartUploadParts',
  DeleteObject: 's3:DeleteObject',
  GetObjectTagging: 's3:GetObjectTagging',
  PutObjectTagging: 's3:PutObjectTagging',
  DeleteObjectTagging: 's3:DeleteObjectTagging',
  GetObjectAttributes: 's3:GetObjectAttributes',
  GetObjectAcl: 's3:GetObjectAcl',
  PutObjectAcl: 's3:PutObjectAcl',
};

/** The versioned form of an object action, when IAM has one. */
const VERSION_ACTIONS: Record<string, string> = {
  's3:GetObject': 's3:GetObjectVersion',
  's3:DeleteObject': 's3:DeleteObjectVersion',
  's3:GetObjectTagging': 's3:GetObjectVersionTagging',
  's3:PutObjectTagging': 's3:PutObjectVersionTagging',
  's3:DeleteObjectTagging': 's3:DeleteObjectVersionTagging',
  's3:GetObjectAcl': 's3:GetObjectVersionAcl',
  's3:PutObjectAcl': 's3:PutObjectVersionAcl',
  's3:GetObjectAttributes': 's3:GetObjectVersionAttributes',
};

const BUCKET_ACTIONS: Record<string, string> = {
  ListObjects: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  HeadBucket: 's3:ListBucket',
  ListObjectVersions: 's3:ListBucketVersions',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
  GetBucketLocation: 's3:GetBucketLocation',
  CreateBucket: 's3:CreateBucket',
  DeleteBucket: 's3:DeleteBucket',
};

/**
 * Bucket sub-resources (`?policy`, `?cors`, …) by method: the operation and the IAM action, which is not always
 * the operation's name (DeleteBucketCors needs s3:PutBucketCORS, the lifecycle ones s3:…LifecycleConfiguration).
 */
const BUCKET_SUBRESOURCES: Record<string, Partial<Record<'GET' | 'PUT' | 'DELETE', readonly [string, string]>>> = {
  policy: { GET: ['GetBucketPolicy', 's3:GetBucketPolicy'], PUT: ['PutBucketPolicy', 's3:PutBucketPolicy'], DELETE: ['DeleteBucketPolicy', 's3:DeleteBucketPolicy'] },
  cors: { GET: ['GetBucketCors', 's3:GetBucketCORS'], PUT: ['PutBucketCors', 's3:PutBucketCORS'], DELETE: ['DeleteBucketCors', 's3:PutBucketCORS'] },
  versioning: { GET: ['GetBucketVersioning', 's3:GetBucketVersioning'], PUT: ['PutBucketVersioning', 's3:PutBucketVersioning'] },
  tagging: { GET: ['GetBucketTagging', 's3:GetBucketTagging'], PUT: ['PutBucketTagging', 's3:PutBucketTagging'], DELETE: ['DeleteBucketTagging', 's3:PutBucketTagging'] },
  lifecycle: {
    GET: ['GetBucketLifecycleConfiguration', 's3:GetLifecycleConfiguration'],
    PUT: ['PutBucketLifecycleConfiguration', 's3:PutLifecycleConfiguration'],
    DELETE: ['DeleteBucketLifecycle', 's3:PutLifecycleConfiguration'],
  },
  encryption: {
    GET: ['GetBucketEncryption', 's3:GetEncryptionConfiguration'],
    PUT: ['PutBucketEncryption', 's3:PutEncryptionConfiguration'],
    DELETE: ['DeleteBucketEncryption', 's3:PutEncryptionConfiguration'],
  },
  notification: { GET: ['GetBucketNotificationConfiguration', 's3:GetBucketNotification'], PUT: ['PutBucketNotificationConfiguration', 's3:PutBucketNotification'] },
  acl: { GET: ['GetBucketAcl', 's3:GetBucketAcl'], PUT: ['PutBucketAcl', 's3:PutBucketAcl'] },
  location: { GET: ['GetBucketLocation', 's3:GetBucketLocation'] },
};

const SUBRESOURCE_ACTIONS: Record<string, string> = Object.fromEntries(
  Object.values(BUCKET_SUBRESOURCES).flatMap((byMethod) => Object.values(byMethod)),
);

/** The permissions an S3 request needs (`aws:SecureTransport` and other request-wide keys are the caller's to add). */
export function s3Permissions(request: S3Request, loc: AwsLocation): AuthorizationRequest[] {
  const { operation, bucket, key } = request;
  if (operation === 'ListBuckets') return [permission('s3:ListAllMyBuckets', '*')];
  if (bucket === undefined) throw new Error(`S3 ${operation} without a bucket`);
  if (operation === 'CopyObject' || operation === 'UploadPartCopy') {
    if (key === undefined || !request.copySource) throw new Error(`S3 ${operation} needs a key and a copy source`);
    return [permission('s3:GetObject', objectArn(request.copySource.bucket, request.copySource.key, loc)), permission('s3:PutObject', objectArn(bucket, key, loc))];
  }
  if (operation === 'DeleteObjects') return (request.keys ?? []).map((k) => permission('s3:DeleteObject', objectArn(bucket, k, loc)));
  const objectAction = entryOf(OBJECT_ACTIONS, operation);
  if (objectAction !== undefined) {
    if (key === undefined) throw new Error(`S3 ${operation} without a key`);
    const action = request.versionId === undefined ? objectAction : (entryOf(VERSION_ACTIONS, objectAction) ?? objectAction);
    return [permission(action, objectArn(bucket, key, loc))];
  }
  const bucketAction = entryOf(BUCKET_ACTIONS, operation) ?? entryOf(SUBRESOURCE_ACTIONS, operation);
  if (bucketAction === 's3:ListBucket') {
    const context: Record<string, string> = {};
    if (request.prefix !== undefined) context['s3:prefix'] = request.prefix;
    if (request.delimiter !== undefined) context['s3:delimiter'] = request.delimiter;
    if (request.maxKeys !== undefined) context['s3:max-keys'] = request.maxKeys;
    return [permission(bucketAction, bucketArn(bucket, loc), Object.keys(context).length > 0 ? context : undefined)];
  }
  if (bucketAction !== undefined) return [permission(bucketAction, bucketArn(bucket, loc))];
  return [permission(`s3:${operation}`, key === undefined ? bucketArn(bucket, loc) : objectArn(bucket, key, loc))];
}

export interface S3HttpRequest {
  method: string;
  /** Undefined for the service endpoint itself (ListBuckets). */
  bucket?: string;
  /** The decoded object key; undefined or empty for a bucket request. */
  key?: string;
  query: URLSearchParams;
  /** Header values by lower-case name. */
  headers: Readonly<Record<string, string | undefined>>;
}

/** `/bucket/key?versionId=…` (URL-encoded, leading slash optional) → bucket and key. */
function parseCopySource(value: string): { bucket: string; key: string } {
  const path = decodeURIComponent(value.split('?')[0]).replace(/^\//, '');
  const slash = path.indexOf('/');
  if (slash <= 0) throw new Error(`x-amz-copy-source not understood: ${value}`);
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}

/**
 * The S3 operation of a REST request, from its method, sub-resource and headers, as S3 routes it. DeleteObjects'
 * keys come from its XML body (`s3DeleteKeys`) and a POST upload's key from its form: the caller adds them.
 */
export function s3RequestFromHttp(http: S3HttpRequest): S3Request {
  const { bucket, query, headers } = http;
  const key = http.key === '' ? undefined : http.key;
  const method = http.method.toUpperCase();
  const base = { ...(bucket !== undefined && { bucket }), ...(key !== undefined && { key }) };
  if (bucket === undefined) return { operation: 'ListBuckets' };
  if (key === undefined) {
    for (const [name, byMethod] of Object.entries(BUCKET_SUBRESOURCES)) {
      if (!query.has(name)) continue;
      const found = method === 'GET' || method === 'PUT' || method === 'DELETE' ? byMethod[method] : undefined;
      if (!found) throw new Error(`S3 request not understood: ${method} ${bucket}?${name}`);
      return { ...base, operation: found[0] };
    }
    if (method === 'POST') return { ...base, operation: query.has('delete') ? 'DeleteObjects' : 'PostObject' };
    if (method === 'PUT') return { ...base, operation: 'CreateBucket' };
    if (method === 'DELETE') return { ...base, operation: 'DeleteBucket' };
    if (method === 'HEAD') return { ...base, operation: 'HeadBucket' };
    if (query.has('uploads')) return { ...base, operation: 'ListMultipartUploads' };
    if (query.has('versions')) return { ...base, operation: 'ListObjectVersions' };
    const list = { prefix: query.get('prefix'), delimiter: query.get('delimiter'), maxKeys: query.get('max-keys') };
    return {
      ...base,
      operation: query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects',
      ...(list.prefix !== null && { prefix: list.prefix }),
      ...(list.delimiter !== null && { delimiter: list.delimiter }),
      ...(list.maxKeys !== null && { maxKeys: list.maxKeys }),
    };
  }
  const copy = headers['x-amz-copy-source'];
  const upload = query.has('uploadId');
  const versionId = query.get('versionId');
  const version = versionId === null ? {} : { versionId };
  switch (method) {
    case 'GET':
      if (upload) return { ...base, operation: 'ListParts' };
      if (query.has('tagging')) return { ...base, ...version, operation: 'GetObjectTagging' };
      if (query.has('acl')) return { ...base, ...version, operation: 'GetObjectAcl' };
      if (query.has('attributes')) return { ...base, ...version, operation: 'GetObjectAttributes' };
      return { ...base, ...version, operation: 'GetObject' };
    case 'HEAD':
      return { ...base, ...version, operation: 'HeadObject' };
    case 'PUT':
      if (copy !== undefined) return { ...base, operation: upload ? 'UploadPartCopy' : 'CopyObject', copySource: parseCopySource(copy) };
      if (upload) return { ...base, operation: 'UploadPart' };
      if (query.has('tagging')) return { ...base, ...version, operation: 'PutObjectTagging' };
      if (query.has('acl')) return { ...base, ...version, operation: 'PutObjectAcl' };
      return { ...base, operation: 'PutObject' };
    case 'POST':
      if (query.has('uploads')) return { ...base, operation: 'CreateMultipartUpload' };
      if (upload) return { ...base, operation: 'CompleteMultipartUpload' };
      throw new Error(`S3 request not understood: POST ${bucket}/${key}?${query.toString()}`);
    case 'DELETE':
      if (upload) return { ...base, operation: 'AbortMultipartUpload' };
      if (query.has('tagging')) return { ...base, ...version, operation: 'DeleteObjectTagging' };
      return { ...base, ...version, operation: 'DeleteObject' };
    default:
      throw new Error(`S3 request not understood: ${method} ${bucket}/${key}`);
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The object keys of a DeleteObjects body (`<Delete><Object><Key>…</Key></Object>…</Delete>`). */
export function s3DeleteKeys(xml: string): string[] {
  return [...xml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) =>
    m[1].replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, entity: string) => {
      if (entity.startsWith('#x') || entity.startsWith('#X')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
      if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
      return entryOf(ENTITIES, entity) ?? whole;
    }),
  );
}
