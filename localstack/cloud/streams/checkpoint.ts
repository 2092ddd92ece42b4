/**
 * The poller's position in each shard, kept in one JSON file per mapping. Written with temp file + rename so
 * that a crash leaves either the old or the new checkpoint, never a torn one: a torn file would make the next
 * start replay or skip records.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ShardCheckpoint {
  /** Sequence number of the last record handled (delivered, filtered out or discarded). */
  seq?: string;
  /** The shard is closed and every record in it was handled. */
  done?: boolean;
}

export interface MappingCheckpoint {
  version: 1;
  uuid: string;
  /** The DynamoDB Local stream this checkpoint belongs to; another stream (a recreated table) starts over. */
  streamArn: string;
  /** By shard id; a shard not seen yet has no entry. */
  shards: Partial<Record<string, ShardCheckpoint>>;
  updatedAt: string;
}

export function readCheckpoint(file: string): MappingCheckpoint | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // Any JSON may be in the file (hand-edited, or another tool's): every field is checked before it is trusted.
  const parsed = JSON.parse(text) as Partial<MappingCheckpoint> | null;
  if (parsed?.version !== 1 || typeof parsed.streamArn !== 'string' || typeof parsed.shards !== 'object') {
    throw new Error(`checkpoint file ${file} is not a stream mapping checkpoint`);
  }
  return parsed as MappingCheckpoint;
}

export function writeCheckpoint(file: string, checkpoint: MappingCheckpoint): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...checkpoint, updatedAt: new Date().toISOString() }, null, 1));
  renameSync(tmp, file);
}

/** Stream sequence numbers are decimal strings longer than a double can hold. */
export function compareSequenceNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
