/**
 * Distributed Map, which the library would run inline: reads the items (ItemReader), applies ItemSelector, batches
 * them (ItemBatcher), runs the ItemProcessor once per batch or item as a child execution with its own history,
 * under MaxConcurrency, stops once the tolerated failures are exceeded, and writes the results to S3 (ResultWriter)
 * in AWS's layout: `<Prefix>/<map run id>/manifest.json` plus `SUCCEEDED_0.json` / `FAILED_0.json`.
 */
import { randomUUID } from 'node:crypto';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { mapRunArn, mapRunChildExecutionArn } from './arns';
import type { DistributedMapSpec } from './definition';
import { executionClosedError, StatesError } from './errors';
import { getObjectText, listObjectItems, putObjectText } from './integrations';
import { objectOr, parseJson, type JsonObject, type JsonValue } from './json';
import { ExecutionRuntime } from './runtime';
import type { ReaderConfig } from './asl';

/** Local ceiling for "MaxConcurrency: 0" (AWS runs up to 10,000 children at once). */
const UNLIMITED_CONCURRENCY = 1000;

type MapRunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

export interface MapRun {
  mapRunArn: string;
  executionArn: string;
  status: MapRunStatus;
  startDate: number;
  stopDate?: number;
  maxConcurrency: number;
  toleratedFailurePercentage: number;
  toleratedFailureCount: number;
  itemCounts: { pending: number; running: number; succeeded: number; failed: number; timedOut: number; aborted: number; total: number; resultsWritten: number };
  executionCounts: { pending: number; running: number; succeeded: number; failed: number; timedOut: number; aborted: number; total: number; resultsWritten: number };
  childExecutionArns: string[];
}

/**
 * What a Distributed Map needs of the engine that runs it (./engine.ts implements it): declared here so the map
 * does not import the engine that imports it.
 */
export interface MapRunHost {
  readonly scope: Parameters<typeof mapRunArn>[0];
  readonly mapRuns: Map<string, MapRun>;
  /** The S3 client that signs as the execution's role. */
  s3For(roleArn: string): Parameters<typeof getObjectText>[0];
  contextOf(execution: ExecutionRuntime): JsonObject;
  addEvent(execution: ExecutionRuntime, type: string, detailsKey?: string, details?: JsonObject): void;
  runChild(child: ExecutionRuntime, input: JsonValue): Promise<unknown>;
  finish(execution: ExecutionRuntime, status: 'ABORTED', result: { error: string; cause: string }): void;
}

/** One child execution's input and the number of items it carries (a batch carries several). */
interface WorkUnit {
  input: JsonValue;
  size: number;
}

export async function runDistributedMap(
  engine: MapRunHost,
  parent: ExecutionRuntime,
  spec: DistributedMapSpec,
  received: JsonValue,
): Promise<JsonValue> {
  // The handler receives the envelope the compiler wrote as the state's Parameters.
  const envelope = objectOr(received);
  const input = envelope.input ?? null;
  let items = spec.readerResource ? await readItems(engine.s3For(parent.record.roleArn), spec, envelope) : (envelope.items ?? input);
  if (!Array.isArray(items)) {
    throw new StatesError('States.Runtime', `The items of Map state '${spec.name}' are not an array.`, { retryable: false, catchable: false });
  }
  if (spec.itemSelector !== undefined) items = await selectItems(spec.itemSelector, input, items, engine.contextOf(parent));
  if (parent.cancelled) throw executionClosedError();

  const units = batch(spec, envelope, items);
  const maxConcurrency = positiveOr(envelope.maxConcurrency, spec.maxConcurrency);
  const pct = numberOrUndefined(envelope.toleratedFailurePercentage) ?? spec.toleratedFailurePercentage;
  const count = numberOrUndefined(envelope.toleratedFailureCount) ?? spec.toleratedFailureCount;
  const id = randomUUID();
  const smName = parent.record.stateMachineArn.split(':stateMachine:')[1].split('/')[0];
  const run: MapRun = {
    mapRunArn: mapRunArn(engine.scope, smName, spec.label, id),
    executionArn: parent.record.executionArn,
    status: 'RUNNING',
    startDate: Date.now(),
    maxConcurrency: maxConcurrency ?? 0,
    toleratedFailurePercentage: pct ?? 0,
    toleratedFailureCount: count ?? 0,
    itemCounts: counts(items.length),
    executionCounts: counts(units.length),
    childExecutionArns: [],
  };
  engine.mapRuns.set(run.mapRunArn, run);
  engine.addEvent(parent, 'MapRunStarted', 'mapRunStartedEventDetails', { mapRunArn: run.mapRunArn });

  const results: Array<{ child: ExecutionRuntime; input: JsonValue } | undefined> = new Array<undefined>(units.length);
  let failedItems = 0;
  // Widened on purpose: the workers set it while this function awaits them, which TypeScript's narrowing cannot see.
  let exceeded = false as boolean;
  const exceeds = () => {
    if (pct === undefined && count === undefined) return failedItems > 0;
    return (pct !== undefined && (failedItems / Math.max(items.length, 1)) * 100 > pct) || (count !== undefined && failedItems > count);
  };
  let next = 0;
  const worker = async () => {
    while (next < units.length && !exceeded && !parent.cancelled) {
      const index = next++;
      const unit = units[index];
      const childId = randomUUID();
      const child = new ExecutionRuntime(
        {
          executionArn: mapRunChildExecutionArn(engine.scope, smName, spec.label, childId),
          stateMachineArn: `${parent.record.stateMachineArn}/${spec.label}`,
          name: childId,
          type: spec.executionType,
          roleArn: parent.record.roleArn,
          status: 'RUNNING',
          input: JSON.stringify(unit.input),
          startDate: Date.now(),
          historyEventCount: 0,
          mapRunArn: run.mapRunArn,
          parentExecutionArn: parent.record.executionArn,
        },
        spec.processor,
        parent,
      );
      run.childExecutionArns.push(child.record.executionArn);
      move(run, unit.size, 'pending', 'running');
      results[index] = { child, input: unit.input };
      await engine.runChild(child, unit.input);
      const status = child.record.status;
      const bucket = status === 'SUCCEEDED' ? 'succeeded' : status === 'TIMED_OUT' ? 'timedOut' : status === 'ABORTED' ? 'aborted' : 'failed';
      move(run, unit.size, 'running', bucket);
      if (status !== 'SUCCEEDED' && !parent.isCancelled()) {
        failedItems += unit.size;
        if (exceeds()) exceeded = true;
      }
    }
  };
  const limit = Math.min(maxConcurrency || UNLIMITED_CONCURRENCY, UNLIMITED_CONCURRENCY, Math.max(units.length, 1));
  await Promise.all(Array.from({ length: limit }, worker));
  if (exceeded) {
    // AWS aborts the children still running once the threshold is crossed.
    for (const r of results) if (r && !r.child.closed) engine.finish(r.child, 'ABORTED', { error: 'States.Aborted', cause: 'The Map Run failed.' });
  }
  if (parent.isCancelled()) {
    run.status = 'ABORTED';
    run.stopDate = Date.now();
    throw executionClosedError();
  }

  let output: JsonValue;
  if (spec.writerResource) {
    output = await writeResults(engine.s3For(parent.record.roleArn), run, objectOr(envelope.writer), id, results);
  } else {
    output = results.filter((r) => r !== undefined).map(({ child }) =>
      child.record.status === 'SUCCEEDED' ? parseJson(child.record.output ?? 'null') : { Error: child.record.error, Cause: child.record.cause },
    );
  }
  run.stopDate = Date.now();
  if (exceeded) {
    run.status = 'FAILED';
    const cause = 'The specified tolerated failure threshold was exceeded';
    engine.addEvent(parent, 'MapRunFailed', 'mapRunFailedEventDetails', { error: 'States.ExceedToleratedFailureThreshold', cause });
    throw new StatesError('States.ExceedToleratedFailureThreshold', cause);
  }
  run.status = 'SUCCEEDED';
  engine.addEvent(parent, 'MapRunSucceeded');
  return output;
}

/** A bucket name or prefix from the ResultWriter's Parameters as text (a non-string is shown as JSON). */
function textOf(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function counts(total: number): MapRun['itemCounts'] {
  return { pending: total, running: 0, succeeded: 0, failed: 0, timedOut: 0, aborted: 0, total, resultsWritten: 0 };
}

function move(run: MapRun, items: number, from: keyof MapRun['itemCounts'], to: keyof MapRun['itemCounts']): void {
  run.itemCounts[from] -= items;
  run.itemCounts[to] += items;
  run.executionCounts[from] -= 1;
  run.executionCounts[to] += 1;
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function positiveOr(value: unknown, fallback: number | undefined): number | undefined {
  const n = numberOrUndefined(value);
  return n !== undefined ? n : fallback;
}

// --- reading ---------------------------------------------------------------------------------------------------

async function readItems(s3: Parameters<typeof getObjectText>[0], spec: DistributedMapSpec, envelope: JsonObject): Promise<JsonValue[]> {
  const params = objectOr(envelope.reader);
  const config = spec.readerConfig ?? {};
  const maxItems = numberOrUndefined(envelope.readerMaxItems) ?? numberOrUndefined(config.MaxItems) ?? Number.POSITIVE_INFINITY;
  try {
    if (spec.readerResource?.endsWith('listObjectsV2')) return await listObjectItems(s3, params, maxItems);
    // S3 checks the bucket and key as it would for the real ItemReader.
    const bucket = params.Bucket as string;
    const key = params.Key as string;
    const text = await getObjectText(s3, bucket, key);
    const type = (config.InputType ?? 'JSON').toUpperCase();
    let items: JsonValue[];
    if (type === 'JSON') {
      const parsed = parseJson(text);
      if (!Array.isArray(parsed)) throw new Error(`s3://${bucket}/${key} does not contain a JSON array`);
      items = parsed;
    } else if (type === 'JSONL') {
      items = text.split(/\r?\n/).filter((line) => line.trim() !== '').map((line) => parseJson(line));
    } else if (type === 'CSV') {
      items = parseCsv(text, config);
    } else {
      throw new Error(`ReaderConfig InputType ${type} is not supported by the local cloud`);
    }
    return Number.isFinite(maxItems) ? items.slice(0, maxItems) : items;
  } catch (error) {
    throw new StatesError('States.ItemReaderFailed', `Reading items failed: ${(error as Error).message}`);
  }
}

const CSV_DELIMITERS: Partial<Record<string, string>> = { COMMA: ',', PIPE: '|', SEMICOLON: ';', SPACE: ' ', TAB: '\t' };

function parseCsv(text: string, config: ReaderConfig): JsonObject[] {
  const delimiter = CSV_DELIMITERS[config.CSVDelimiter ?? 'COMMA'] ?? ',';
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  const given = config.CSVHeaderLocation === 'GIVEN';
  const headers: string[] = given ? (config.CSVHeaders ?? []) : (rows.shift() ?? []);
  return rows.map((r) => Object.fromEntries(headers.map((h, i) => [h, r[i] ?? ''])));
}

/**
 * ItemSelector needs JSONPath, intrinsics and `$$.Map.Item` exactly as the library evaluates them, so it is
 * evaluated by the library itself: an inline Map of Pass states over the items, passed through the Context Object.
 */
async function selectItems(selector: JsonValue, input: JsonValue, items: JsonValue[], context: JsonObject): Promise<JsonValue[]> {
  const machine = new StateMachine(
    {
      StartAt: 'Select',
      States: {
        Select: {
          Type: 'Map',
          ItemsPath: '$$.LocalItems',
          ItemSelector: selector,
          ItemProcessor: { StartAt: 'Item', States: { Item: { Type: 'Pass', End: true } } },
          End: true,
        },
      },
    } as never,
    { validationOptions: { noValidate: true } },
  );
  // The library's JSON type is ours without `undefined` fields, which parsed JSON never has.
  const run = machine.run(input as never, { context: { ...context, LocalItems: items } });
  void (async () => {
    for await (const _event of run.eventLogs) {
      // Drained only so the library does not queue an event per item in memory.
    }
  })();
  try {
    // The Map over the items answers one selected value per item.
    return (await run.result) as JsonValue[];
  } catch (error) {
    const cause = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : (error as Error);
    throw new StatesError(cause.name, cause.message, { retryable: false });
  }
}

function batch(spec: DistributedMapSpec, envelope: JsonObject, items: JsonValue[]): WorkUnit[] {
  if (!spec.batcher) return items.map((item) => ({ input: item, size: 1 }));
  const maxItems = numberOrUndefined(envelope.maxItemsPerBatch) ?? spec.batcher.maxItemsPerBatch ?? Number.POSITIVE_INFINITY;
  const maxBytes = numberOrUndefined(envelope.maxInputBytesPerBatch) ?? spec.batcher.maxInputBytesPerBatch ?? 262_144;
  const batchInput = envelope.batchInput;
  const units: WorkUnit[] = [];
  let current: JsonValue[] = [];
  let bytes = 0;
  const flush = () => {
    if (current.length === 0) return;
    units.push({ input: { Items: current, ...(batchInput !== undefined ? { BatchInput: batchInput } : {}) }, size: current.length });
    current = [];
    bytes = 0;
  };
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item));
    if (current.length > 0 && (current.length >= maxItems || bytes + size > maxBytes)) flush();
    current.push(item);
    bytes += size;
  }
  flush();
  return units;
}

// --- writing ---------------------------------------------------------------------------------------------------

async function writeResults(
  s3: Parameters<typeof getObjectText>[0],
  run: MapRun,
  params: JsonObject,
  id: string,
  results: Array<{ child: ExecutionRuntime; input: JsonValue } | undefined>,
): Promise<JsonValue> {
  const bucket = textOf(params.Bucket);
  const prefix = [textOf(params.Prefix).replace(/\/+$/, ''), id].filter((p) => p !== '').join('/');
  const byStatus: Record<'SUCCEEDED' | 'FAILED' | 'PENDING', JsonObject[]> = { SUCCEEDED: [], FAILED: [], PENDING: [] };
  for (const r of results) {
    if (!r) continue;
    const rec = r.child.record;
    const entry: JsonObject = {
      ExecutionArn: rec.executionArn,
      Input: rec.input,
      InputDetails: { Included: true },
      Name: rec.name,
      ...(rec.status === 'SUCCEEDED' ? { Output: rec.output, OutputDetails: { Included: true } } : { Error: rec.error, Cause: rec.cause }),
      RedriveCount: 0,
      RedriveStatus: 'NOT_REDRIVABLE',
      RedriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
      StartDate: new Date(rec.startDate).toISOString(),
      StateMachineArn: rec.stateMachineArn,
      Status: rec.status,
      StopDate: rec.stopDate ? new Date(rec.stopDate).toISOString() : undefined,
    };
    if (rec.status !== 'SUCCEEDED') entry.RedriveStatusReason = 'Execution is not redrivable locally';
    byStatus[rec.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED'].push(entry);
  }
  const resultFiles: Record<'FAILED' | 'PENDING' | 'SUCCEEDED', JsonObject[]> = { FAILED: [], PENDING: [], SUCCEEDED: [] };
  const manifest: JsonObject = { DestinationBucket: bucket, MapRunArn: run.mapRunArn, ResultFiles: resultFiles };
  try {
    for (const status of ['SUCCEEDED', 'FAILED'] as const) {
      if (byStatus[status].length === 0) continue;
      const key = `${prefix}/${status}_0.json`;
      const body = JSON.stringify(byStatus[status]);
      await putObjectText(s3, bucket, key, body);
      resultFiles[status].push({ Key: key, Size: Buffer.byteLength(body) });
    }
    const manifestKey = `${prefix}/manifest.json`;
    await putObjectText(s3, bucket, manifestKey, JSON.stringify(manifest));
    run.itemCounts.resultsWritten = run.itemCounts.succeeded + run.itemCounts.failed + run.itemCounts.timedOut + run.itemCounts.aborted;
    run.executionCounts.resultsWritten = byStatus.SUCCEEDED.length + byStatus.FAILED.length;
    return { MapRunArn: run.mapRunArn, ResultWriterDetails: { Bucket: bucket, Key: manifestKey } };
  } catch (error) {
    throw new StatesError('States.ResultWriterFailed', `Writing results failed: ${(error as Error).message}`);
  }
}
