import { describe, expect, it } from 'vitest';
import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { interpretBatchItemFailures, readyShards, toLambdaRecord } from '../../../../localstack/cloud/streams';

const options = { region: 'eu-west-1', eventSourceArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/events/stream/2026-01-01T00:00:00.000' };

describe('Function: toLambdaRecord', () => {
  it('should build the record Lambda delivers, with binary values in base64 and epoch seconds', () => {
    // Arrange
    const sdkRecord = {
      eventID: 'e-1',
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'ddblocal',
      dynamodb: {
        ApproximateCreationDateTime: new Date('2026-03-01T10:20:00.000Z'),
        Keys: { pk: { S: 'run-1' }, sk: { N: '7' } },
        NewImage: {
          pk: { S: 'run-1' },
          blob: { B: new Uint8Array([104, 105]) },
          blobs: { BS: [new Uint8Array([1]), new Uint8Array([2])] },
          nested: { M: { list: { L: [{ N: '1' }, { NULL: true }, { BOOL: true }, { SS: ['x'] }, { NS: ['2'] }] } } },
        },
        OldImage: { pk: { S: 'run-1' } },
        SequenceNumber: '000000000000000000042',
        SizeBytes: 99,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    } as unknown as _Record;

    // Act
    const record = toLambdaRecord(sdkRecord, options);

    // Assert
    expect(record).toEqual({
      eventID: 'e-1',
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      eventSourceARN: options.eventSourceArn,
      dynamodb: {
        ApproximateCreationDateTime: Date.parse('2026-03-01T10:20:00.000Z') / 1000,
        Keys: { pk: { S: 'run-1' }, sk: { N: '7' } },
        NewImage: {
          pk: { S: 'run-1' },
          blob: { B: 'aGk=' },
          blobs: { BS: ['AQ==', 'Ag=='] },
          nested: { M: { list: { L: [{ N: '1' }, { NULL: true }, { BOOL: true }, { SS: ['x'] }, { NS: ['2'] }] } } },
        },
        OldImage: { pk: { S: 'run-1' } },
        SequenceNumber: '000000000000000000042',
        SizeBytes: 99,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });

  it('should map a TTL deletion (an event name unknown to the SDK) to REMOVE by the DynamoDB service', () => {
    const ttl = {
      eventID: 'e-2',
      eventName: 'UNKNOWN_TO_SDK_VERSION',
      dynamodb: { Keys: { pk: { S: 'conn-1' } }, OldImage: { pk: { S: 'conn-1' } }, SequenceNumber: '5', SizeBytes: 10 },
    } as unknown as _Record;

    const record = toLambdaRecord(ttl, options);

    expect(record.eventName).toBe('REMOVE');
    expect(record.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
    expect(record.dynamodb.OldImage).toEqual({ pk: { S: 'conn-1' } });
  });

  it('should keep the user identity DynamoDB reports and add none to ordinary records', () => {
    const withIdentity = { eventName: 'REMOVE', userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' }, dynamodb: { SequenceNumber: '1' } } as _Record;
    const plain = { eventName: 'INSERT', dynamodb: { SequenceNumber: '2' } } as _Record;

    expect(toLambdaRecord(withIdentity, options).userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
    expect(toLambdaRecord(plain, options).userIdentity).toBeUndefined();
  });
});

describe('Function: interpretBatchItemFailures', () => {
  const seqs = ['10', '11', '12', '13'];

  it('should treat no response, no list and an empty list as success', () => {
    expect(interpretBatchItemFailures(null, seqs)).toEqual({ kind: 'success' });
    expect(interpretBatchItemFailures(undefined, seqs)).toEqual({ kind: 'success' });
    expect(interpretBatchItemFailures({}, seqs)).toEqual({ kind: 'success' });
    expect(interpretBatchItemFailures({ batchItemFailures: null }, seqs)).toEqual({ kind: 'success' });
    expect(interpretBatchItemFailures({ batchItemFailures: [] }, seqs)).toEqual({ kind: 'success' });
    expect(interpretBatchItemFailures('{"batchItemFailures":[]}', seqs)).toEqual({ kind: 'success' });
  });

  it('should resume from the lowest failed record', () => {
    const payload = { batchItemFailures: [{ itemIdentifier: '13' }, { itemIdentifier: '11' }] };
    expect(interpretBatchItemFailures(payload, seqs)).toEqual({ kind: 'partial', firstFailedIndex: 1 });
    expect(interpretBatchItemFailures(JSON.stringify(payload), seqs)).toEqual({ kind: 'partial', firstFailedIndex: 1 });
  });

  it('should fail the whole batch for missing, empty or unknown identifiers', () => {
    expect(interpretBatchItemFailures({ batchItemFailures: [{ itemIdentifier: '' }] }, seqs).kind).toBe('failure');
    expect(interpretBatchItemFailures({ batchItemFailures: [{ itemIdentifier: null }] }, seqs).kind).toBe('failure');
    expect(interpretBatchItemFailures({ batchItemFailures: [{ id: '11' }] }, seqs).kind).toBe('failure');
    expect(interpretBatchItemFailures({ batchItemFailures: [{ itemIdentifier: '99' }] }, seqs).kind).toBe('failure');
    expect(interpretBatchItemFailures({ batchItemFailures: 'all' }, seqs).kind).toBe('failure');
  });
});

describe('Function: readyShards', () => {
  const shards = [
    { ShardId: 'a' },
    { ShardId: 'b', ParentShardId: 'a' },
    { ShardId: 'c', ParentShardId: 'b' },
    { ShardId: 'd', ParentShardId: 'trimmed' },
  ];

  it('should hold children back until their parent is drained', () => {
    expect(readyShards(shards, () => false)).toEqual(['a', 'd']);
    expect(readyShards(shards, (id) => id === 'a')).toEqual(['b', 'd']);
    expect(readyShards(shards, (id) => id === 'a' || id === 'b' || id === 'd')).toEqual(['c']);
  });
});

describe('Function: toWireAttributeValue (empty maps)', () => {
  it('should read an attribute with no member, as the SDK gives an empty map, as {M: {}}', async () => {
    const { toWireAttributeValue } = await import('../../../../localstack/cloud/streams/records');
    expect(toWireAttributeValue({ M: { payload: {} as never } })).toEqual({ M: { payload: { M: {} } } });
  });
});
