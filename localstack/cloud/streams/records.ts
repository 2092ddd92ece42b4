/**
 * Turns DynamoDB Streams records, as `@aws-sdk/client-dynamodb-streams` returns them, back into the JSON that
 * Lambda hands a function for a DynamoDB event source (the shape of `DynamoDBRecord` in `@types/aws-lambda`).
 */
import type { _Record as SdkStreamRecord, AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb-streams';

/** Attribute values as they travel in JSON: binary as base64, as Lambda delivers them. */
export type WireAttributeValue =
  | { S: string }
  | { N: string }
  | { B: string }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] }
  | { M: Record<string, WireAttributeValue> }
  | { L: WireAttributeValue[] }
  | { NULL: boolean }
  | { BOOL: boolean };

export interface LambdaDynamoDbRecord {
  eventID: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventVersion: string;
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  dynamodb: {
    ApproximateCreationDateTime?: number;
    Keys?: Record<string, WireAttributeValue>;
    NewImage?: Record<string, WireAttributeValue>;
    OldImage?: Record<string, WireAttributeValue>;
    SequenceNumber: string;
    SizeBytes?: number;
    StreamViewType?: string;
  };
  eventSourceARN: string;
  userIdentity?: { type: string; principalId: string };
}

/** What AWS puts on a record deleted by TTL. */
const TTL_USER_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' } as const;

const KNOWN_EVENT_NAMES = new Set(['INSERT', 'MODIFY', 'REMOVE']);

function base64(bytes: Uint8Array | string): string {
  if (typeof bytes === 'string') return bytes;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * An attribute value with every member optional, as the members are tested one by one; `B` may already be base64
 * text, and a map's values may be plain JSON.
 */
interface AttributeValueMembers {
  S?: string;
  N?: string;
  B?: Uint8Array | string;
  SS?: string[];
  NS?: string[];
  BS?: Array<Uint8Array | string>;
  M?: Record<string, SdkAttributeValue | Record<string, unknown>>;
  L?: SdkAttributeValue[];
  NULL?: boolean;
  BOOL?: boolean;
}

export function toWireAttributeValue(value: SdkAttributeValue | Record<string, unknown>): WireAttributeValue {
  const v = value as AttributeValueMembers;
  if (v.S !== undefined) return { S: v.S };
  if (v.N !== undefined) return { N: v.N };
  if (v.B !== undefined) return { B: base64(v.B) };
  if (v.SS !== undefined) return { SS: [...v.SS] };
  if (v.NS !== undefined) return { NS: [...v.NS] };
  if (v.BS !== undefined) return { BS: v.BS.map(base64) };
  if (v.M !== undefined) return { M: toWireImage(v.M) };
  if (v.L !== undefined) return { L: v.L.map(toWireAttributeValue) };
  if (v.NULL !== undefined) return { NULL: v.NULL };
  if (v.BOOL !== undefined) return { BOOL: v.BOOL };
  // The SDK's union deserializer turns `{"M": {}}` into `{}`: an attribute with no member is an empty map.
  if (Object.keys(v).length === 0) return { M: {} };
  throw new Error(`unknown attribute value shape: ${JSON.stringify(Object.keys(v))}`);
}

function toWireImage(image: Record<string, SdkAttributeValue | Record<string, unknown>>): Record<string, WireAttributeValue> {
  const out: Record<string, WireAttributeValue> = {};
  for (const [name, value] of Object.entries(image)) out[name] = toWireAttributeValue(value);
  return out;
}

export interface ToLambdaRecordOptions {
  /** Region Lambda reports (DynamoDB Local says `ddblocal`). */
  region: string;
  /** The mapping's EventSourceArn, which Lambda copies into every record. */
  eventSourceArn: string;
}

/**
 * Builds the Lambda record. An event name the SDK does not know (DynamoDB Local reports TTL deletions as
 * `UNKNOWN_TO_SDK_VERSION`) is a TTL removal: AWS delivers those as `REMOVE` by the DynamoDB service principal.
 */
export function toLambdaRecord(record: SdkStreamRecord, options: ToLambdaRecordOptions): LambdaDynamoDbRecord {
  const stream = record.dynamodb ?? {};
  const rawName: string = record.eventName ?? '';
  const isTtlRemoval = !KNOWN_EVENT_NAMES.has(rawName);
  const dynamodb: LambdaDynamoDbRecord['dynamodb'] = {
    SequenceNumber: stream.SequenceNumber ?? '',
  };
  if (stream.ApproximateCreationDateTime !== undefined) {
    const when = stream.ApproximateCreationDateTime as Date | number | string;
    const ms = when instanceof Date ? when.getTime() : typeof when === 'number' ? when * 1000 : Date.parse(when);
    // Lambda delivers epoch seconds.
    dynamodb.ApproximateCreationDateTime = Math.floor(ms / 1000);
  }
  if (stream.Keys) dynamodb.Keys = toWireImage(stream.Keys);
  if (stream.NewImage) dynamodb.NewImage = toWireImage(stream.NewImage);
  if (stream.OldImage) dynamodb.OldImage = toWireImage(stream.OldImage);
  if (stream.SizeBytes !== undefined) dynamodb.SizeBytes = stream.SizeBytes;
  if (stream.StreamViewType !== undefined) dynamodb.StreamViewType = stream.StreamViewType;
  const out: LambdaDynamoDbRecord = {
    eventID: record.eventID ?? '',
    eventName: isTtlRemoval ? 'REMOVE' : (rawName as LambdaDynamoDbRecord['eventName']),
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: options.region,
    dynamodb,
    eventSourceARN: options.eventSourceArn,
  };
  if (isTtlRemoval) out.userIdentity = { ...TTL_USER_IDENTITY };
  else if (record.userIdentity?.Type && record.userIdentity.PrincipalId) {
    out.userIdentity = { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId };
  }
  return out;
}
