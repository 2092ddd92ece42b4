import { describe, expect, it } from 'vitest';
import { dynamoDbPermissions, s3DeleteKeys, s3Permissions, s3RequestFromHttp } from '../../../../localstack/cloud/iam/request-actions';

const LOC = { region: 'eu-west-1', accountId: '111122223333' };
const T = (name: string) => `arn:aws:dynamodb:eu-west-1:111122223333:table/${name}`;

describe('Function: dynamoDbPermissions', () => {
  it('should need the item action on the table for item operations', () => {
    expect(dynamoDbPermissions('GetItem', { TableName: 'Runs', Key: { pk: { S: 'r1' } } }, LOC)).toEqual([{ action: 'dynamodb:GetItem', resource: T('Runs') }]);
    expect(dynamoDbPermissions('PutItem', { TableName: 'Runs', Item: {} }, LOC)).toEqual([{ action: 'dynamodb:PutItem', resource: T('Runs') }]);
    expect(dynamoDbPermissions('UpdateItem', { TableName: T('Runs'), Key: {} }, LOC)).toEqual([{ action: 'dynamodb:UpdateItem', resource: T('Runs') }]);
    expect(dynamoDbPermissions('DeleteItem', { TableName: 'Runs', Key: {} }, { ...LOC, partition: 'aws-cn' })).toEqual([
      { action: 'dynamodb:DeleteItem', resource: 'arn:aws-cn:dynamodb:eu-west-1:111122223333:table/Runs' },
    ]);
    expect(() => dynamoDbPermissions('GetItem', { Key: {} }, LOC)).toThrow(/GetItem without a TableName/);
  });

  it('should give item operations dynamodb:LeadingKeys when the table’s partition key is known', () => {
    const options = { partitionKeyOf: (t: string) => (t === 'Runs' ? 'pk' : undefined) };
    expect(dynamoDbPermissions('GetItem', { TableName: 'Runs', Key: { pk: { S: 'tenant#a' }, sk: { S: 'x' } } }, LOC, options)).toEqual([
      { action: 'dynamodb:GetItem', resource: T('Runs'), context: { 'dynamodb:LeadingKeys': ['tenant#a'] } },
    ]);
    expect(dynamoDbPermissions('PutItem', { TableName: T('Runs'), Item: { pk: { N: '7' } } }, LOC, options)[0].context).toEqual({ 'dynamodb:LeadingKeys': ['7'] });
    expect(dynamoDbPermissions('PutItem', { TableName: 'Other', Item: { pk: { S: 'x' } } }, LOC, options)[0].context).toBeUndefined();
  });

  it('should put Query and Scan on the index when they name one', () => {
    expect(dynamoDbPermissions('Query', { TableName: 'Runs', IndexName: 'byStatus' }, LOC)).toEqual([{ action: 'dynamodb:Query', resource: `${T('Runs')}/index/byStatus` }]);
    expect(dynamoDbPermissions('Scan', { TableName: 'Runs' }, LOC)).toEqual([{ action: 'dynamodb:Scan', resource: T('Runs') }]);
  });

  it('should need the batch action once per table of a batch', () => {
    const options = { partitionKeyOf: () => 'pk' };
    expect(
      dynamoDbPermissions(
        'BatchWriteItem',
        {
          RequestItems: {
            Runs: [{ PutRequest: { Item: { pk: { S: 'a' } } } }, { DeleteRequest: { Key: { pk: { S: 'b' } } } }, { PutRequest: { Item: { pk: { S: 'a' } } } }],
            Events: [{ PutRequest: { Item: { pk: { S: 'e' } } } }],
          },
        },
        LOC,
        options,
      ),
    ).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: T('Runs'), context: { 'dynamodb:LeadingKeys': ['a', 'b'] } },
      { action: 'dynamodb:BatchWriteItem', resource: T('Events'), context: { 'dynamodb:LeadingKeys': ['e'] } },
    ]);
    expect(dynamoDbPermissions('BatchGetItem', { RequestItems: { Runs: { Keys: [{}] }, Workflows: { Keys: [] } } }, LOC)).toEqual([
      { action: 'dynamodb:BatchGetItem', resource: T('Runs') },
      { action: 'dynamodb:BatchGetItem', resource: T('Workflows') },
    ]);
  });

  it('should need each transaction item’s own action on its table', () => {
    expect(
      dynamoDbPermissions(
        'TransactWriteItems',
        {
          TransactItems: [
            { Put: { TableName: 'Runs', Item: {} } },
            { Update: { TableName: 'Semaphore', Key: {} } },
            { Delete: { TableName: 'Events', Key: {} } },
            { ConditionCheck: { TableName: 'Runs', Key: {} } },
          ],
        },
        LOC,
      ),
    ).toEqual([
      { action: 'dynamodb:PutItem', resource: T('Runs') },
      { action: 'dynamodb:UpdateItem', resource: T('Semaphore') },
      { action: 'dynamodb:DeleteItem', resource: T('Events') },
      { action: 'dynamodb:ConditionCheckItem', resource: T('Runs') },
    ]);
    expect(dynamoDbPermissions('TransactGetItems', { TransactItems: [{ Get: { TableName: 'Runs', Key: {} } }] }, LOC)).toEqual([{ action: 'dynamodb:GetItem', resource: T('Runs') }]);
    // An item it cannot read must not slip through unauthorized.
    expect(() => dynamoDbPermissions('TransactWriteItems', { TransactItems: [{ Get: { TableName: 'Runs', Key: {} } }] }, LOC)).toThrow(/TransactWriteItems item Get not understood/);
    expect(() => dynamoDbPermissions('TransactWriteItems', { TransactItems: [{ Put: { Item: {} } }] }, LOC)).toThrow(/item Put not understood/);
  });

  it('should map PartiQL statements to the PartiQL actions on their table or index', () => {
    expect(dynamoDbPermissions('ExecuteStatement', { Statement: 'SELECT * FROM "Runs"."byStatus" WHERE status = ?' }, LOC)).toEqual([
      { action: 'dynamodb:PartiQLSelect', resource: `${T('Runs')}/index/byStatus` },
    ]);
    expect(dynamoDbPermissions('ExecuteStatement', { Statement: "insert into Runs value {'pk': 'a'}" }, LOC)).toEqual([{ action: 'dynamodb:PartiQLInsert', resource: T('Runs') }]);
    expect(
      dynamoDbPermissions('BatchExecuteStatement', { Statements: [{ Statement: 'UPDATE "Runs" SET a = 1 WHERE pk = ?' }, { Statement: 'DELETE FROM Events WHERE pk = ?' }] }, LOC),
    ).toEqual([
      { action: 'dynamodb:PartiQLUpdate', resource: T('Runs') },
      { action: 'dynamodb:PartiQLDelete', resource: T('Events') },
    ]);
    expect(dynamoDbPermissions('ExecuteTransaction', { TransactStatements: [{ Statement: 'SELECT a FROM Runs' }] }, LOC)).toEqual([
      { action: 'dynamodb:PartiQLSelect', resource: T('Runs') },
    ]);
    expect(() => dynamoDbPermissions('ExecuteStatement', { Statement: 'EXPLAIN x' }, LOC)).toThrow(/not understood/);
  });

  it('should put stream reads on the stream ARN, from the request or its shard iterator', () => {
    const stream = `${T('Events')}/stream/2026-01-01T00:00:00.000`;
    expect(dynamoDbPermissions('DescribeStream', { StreamArn: stream }, LOC)).toEqual([{ action: 'dynamodb:DescribeStream', resource: stream }]);
    expect(dynamoDbPermissions('GetShardIterator', { StreamArn: stream, ShardId: 's' }, LOC)).toEqual([{ action: 'dynamodb:GetShardIterator', resource: stream }]);
    expect(dynamoDbPermissions('GetRecords', { ShardIterator: `${stream}|1|AAAAAAAA` }, LOC)).toEqual([{ action: 'dynamodb:GetRecords', resource: stream }]);
    expect(dynamoDbPermissions('ListStreams', { TableName: 'Events' }, LOC)).toEqual([{ action: 'dynamodb:ListStreams', resource: `${T('Events')}/stream/*` }]);
    expect(dynamoDbPermissions('ListStreams', {}, LOC)).toEqual([{ action: 'dynamodb:ListStreams', resource: '*' }]);
    expect(() => dynamoDbPermissions('GetRecords', { ShardIterator: 'opaque' }, LOC)).toThrow(/without a stream ARN/);
  });

  it('should need dynamodb:<operation> on the table for the rest', () => {
    expect(dynamoDbPermissions('DescribeTable', { TableName: 'Runs' }, LOC)).toEqual([{ action: 'dynamodb:DescribeTable', resource: T('Runs') }]);
    expect(dynamoDbPermissions('ListTables', {}, LOC)).toEqual([{ action: 'dynamodb:ListTables', resource: '*' }]);
  });
});

describe('Function: s3Permissions', () => {
  const obj = (key: string, bucket = 'ws') => `arn:aws:s3:::${bucket}/${key}`;

  it('should need the object action on the object ARN', () => {
    expect(s3Permissions({ operation: 'GetObject', bucket: 'ws', key: 'runs/r1/a.cbl' }, LOC)).toEqual([{ action: 's3:GetObject', resource: obj('runs/r1/a.cbl') }]);
    expect(s3Permissions({ operation: 'HeadObject', bucket: 'ws', key: 'k' }, LOC)).toEqual([{ action: 's3:GetObject', resource: obj('k') }]);
    expect(s3Permissions({ operation: 'PutObject', bucket: 'ws', key: 'k' }, LOC)).toEqual([{ action: 's3:PutObject', resource: obj('k') }]);
    expect(s3Permissions({ operation: 'DeleteObject', bucket: 'ws', key: 'k' }, LOC)).toEqual([{ action: 's3:DeleteObject', resource: obj('k') }]);
    expect(() => s3Permissions({ operation: 'GetObject', bucket: 'ws' }, LOC)).toThrow(/without a key/);
  });

  it('should need s3:DeleteObject for every key of a multi-object delete', () => {
    expect(s3Permissions({ operation: 'DeleteObjects', bucket: 'ws', keys: ['runs/a', 'workflows/b'] }, LOC)).toEqual([
      { action: 's3:DeleteObject', resource: obj('runs/a') },
      { action: 's3:DeleteObject', resource: obj('workflows/b') },
    ]);
  });

  it('should list on the bucket with the prefix as s3:prefix', () => {
    expect(s3Permissions({ operation: 'ListObjectsV2', bucket: 'ws', prefix: 'runs/r1/', delimiter: '/' }, LOC)).toEqual([
      { action: 's3:ListBucket', resource: 'arn:aws:s3:::ws', context: { 's3:prefix': 'runs/r1/', 's3:delimiter': '/' } },
    ]);
    expect(s3Permissions({ operation: 'ListObjects', bucket: 'ws' }, LOC)).toEqual([{ action: 's3:ListBucket', resource: 'arn:aws:s3:::ws' }]);
    expect(s3Permissions({ operation: 'ListBuckets' }, LOC)).toEqual([{ action: 's3:ListAllMyBuckets', resource: '*' }]);
  });

  it('should read the source and write the target of a copy', () => {
    expect(s3Permissions({ operation: 'CopyObject', bucket: 'ws', key: 'runs/b', copySource: { bucket: 'other', key: 'a' } }, LOC)).toEqual([
      { action: 's3:GetObject', resource: obj('a', 'other') },
      { action: 's3:PutObject', resource: obj('runs/b') },
    ]);
  });

  it('should map multipart uploads to s3:PutObject, s3:AbortMultipartUpload and s3:ListMultipartUploadParts', () => {
    for (const operation of ['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']) {
      expect(s3Permissions({ operation, bucket: 'ws', key: 'big' }, LOC)).toEqual([{ action: 's3:PutObject', resource: obj('big') }]);
    }
    expect(s3Permissions({ operation: 'AbortMultipartUpload', bucket: 'ws', key: 'big' }, LOC)).toEqual([{ action: 's3:AbortMultipartUpload', resource: obj('big') }]);
    expect(s3Permissions({ operation: 'ListParts', bucket: 'ws', key: 'big' }, LOC)).toEqual([{ action: 's3:ListMultipartUploadParts', resource: obj('big') }]);
    expect(s3Permissions({ operation: 'ListMultipartUploads', bucket: 'ws' }, LOC)).toEqual([{ action: 's3:ListBucketMultipartUploads', resource: 'arn:aws:s3:::ws' }]);
  });
});

describe('Function: s3RequestFromHttp', () => {
  const req = (method: string, key: string | undefined, query = '', headers: Record<string, string> = {}) =>
    s3RequestFromHttp({ method, bucket: 'ws', key, query: new URLSearchParams(query), headers });

  it('should tell the object operations apart by method, sub-resource and copy header', () => {
    expect(req('GET', 'k')).toEqual({ operation: 'GetObject', bucket: 'ws', key: 'k' });
    expect(req('HEAD', 'k').operation).toBe('HeadObject');
    expect(req('PUT', 'k').operation).toBe('PutObject');
    expect(req('DELETE', 'k').operation).toBe('DeleteObject');
    expect(req('POST', 'k', 'uploads').operation).toBe('CreateMultipartUpload');
    expect(req('PUT', 'k', 'partNumber=1&uploadId=u').operation).toBe('UploadPart');
    expect(req('POST', 'k', 'uploadId=u').operation).toBe('CompleteMultipartUpload');
    expect(req('DELETE', 'k', 'uploadId=u').operation).toBe('AbortMultipartUpload');
    expect(req('GET', 'k', 'uploadId=u').operation).toBe('ListParts');
    expect(req('PUT', 'runs/b', '', { 'x-amz-copy-source': '/other/a%20b.txt?versionId=1' })).toEqual({
      operation: 'CopyObject',
      bucket: 'ws',
      key: 'runs/b',
      copySource: { bucket: 'other', key: 'a b.txt' },
    });
    expect(req('PUT', 'k', 'partNumber=2&uploadId=u', { 'x-amz-copy-source': 'other/a' }).operation).toBe('UploadPartCopy');
  });

  it('should tell the bucket operations apart and carry the list parameters', () => {
    expect(req('GET', undefined, 'list-type=2&prefix=runs%2Fr1%2F&delimiter=%2F&max-keys=10')).toEqual({
      operation: 'ListObjectsV2',
      bucket: 'ws',
      prefix: 'runs/r1/',
      delimiter: '/',
      maxKeys: '10',
    });
    expect(req('GET', '').operation).toBe('ListObjects');
    expect(req('POST', undefined, 'delete').operation).toBe('DeleteObjects');
    expect(req('POST', undefined).operation).toBe('PostObject');
    expect(req('GET', undefined, 'uploads').operation).toBe('ListMultipartUploads');
    expect(req('HEAD', undefined).operation).toBe('HeadBucket');
    expect(s3RequestFromHttp({ method: 'GET', query: new URLSearchParams(), headers: {} })).toEqual({ operation: 'ListBuckets' });
  });
});

describe('Function: s3RequestFromHttp and s3Permissions together', () => {
  const permissionsOf = (method: string, key: string | undefined, query: string) =>
    s3Permissions(s3RequestFromHttp({ method, bucket: 'ws', key, query: new URLSearchParams(query), headers: {} }), LOC);

  it('should authorize one version of an object with the …Version actions', () => {
    expect(permissionsOf('GET', 'k', 'versionId=v1')).toEqual([{ action: 's3:GetObjectVersion', resource: 'arn:aws:s3:::ws/k' }]);
    expect(permissionsOf('HEAD', 'k', 'versionId=v1')).toEqual([{ action: 's3:GetObjectVersion', resource: 'arn:aws:s3:::ws/k' }]);
    expect(permissionsOf('DELETE', 'k', 'versionId=v1')).toEqual([{ action: 's3:DeleteObjectVersion', resource: 'arn:aws:s3:::ws/k' }]);
    expect(permissionsOf('PUT', 'k', 'tagging&versionId=v1')).toEqual([{ action: 's3:PutObjectVersionTagging', resource: 'arn:aws:s3:::ws/k' }]);
    expect(permissionsOf('GET', 'k', 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc')).toEqual([{ action: 's3:GetObject', resource: 'arn:aws:s3:::ws/k' }]);
  });

  it('should authorize bucket sub-resources with the IAM action, not the operation’s name', () => {
    expect(permissionsOf('DELETE', undefined, 'cors')).toEqual([{ action: 's3:PutBucketCORS', resource: 'arn:aws:s3:::ws' }]);
    expect(permissionsOf('PUT', undefined, 'lifecycle')).toEqual([{ action: 's3:PutLifecycleConfiguration', resource: 'arn:aws:s3:::ws' }]);
    expect(permissionsOf('GET', undefined, 'policy')).toEqual([{ action: 's3:GetBucketPolicy', resource: 'arn:aws:s3:::ws' }]);
    expect(permissionsOf('GET', undefined, 'location')).toEqual([{ action: 's3:GetBucketLocation', resource: 'arn:aws:s3:::ws' }]);
    expect(permissionsOf('PUT', undefined, '')).toEqual([{ action: 's3:CreateBucket', resource: 'arn:aws:s3:::ws' }]);
  });

  it('should refuse a request it cannot classify rather than guess', () => {
    expect(() => permissionsOf('DELETE', undefined, 'location')).toThrow(/not understood: DELETE ws\?location/);
    expect(() => permissionsOf('POST', 'k', 'select&select-type=2')).toThrow(/not understood: POST ws\/k/);
  });
});

describe('Function: s3DeleteKeys', () => {
  it('should read the keys of a DeleteObjects body, entities decoded', () => {
    const xml = '<?xml version="1.0"?><Delete><Object><Key>runs/a&amp;b</Key></Object><Object><Key>x&#x2F;&lt;y&gt;&#33;</Key><VersionId>1</VersionId></Object><Quiet>true</Quiet></Delete>';
    expect(s3DeleteKeys(xml)).toEqual(['runs/a&b', 'x/<y>!']);
  });
});
