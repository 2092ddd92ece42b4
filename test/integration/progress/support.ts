/**
 * Runs simulated on the local cloud: a run record in the runs table and events emitted through the production
 * emitter (EventStore), as the engine will once the runs issue drives real executions.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { http, target, type Target } from '../../support/target';
import { isFrame, TestSocket } from '../../support/ws-client';
import type { EventsPageBody, TokenBody } from '../../support/api';
import type { EventFrame } from '../../../lambdas/core/events/frames';
import { EventStore, type EventStoreOptions } from '../../../lambdas/aws/event-store';
import type { PayloadOf } from '../../../lambdas/core/events/schemas';

export function cloud(): Required<Pick<Target, 'restUrl' | 'wsUrl' | 'token' | 'region'>> & Target {
  return target();
}

export function tableName(logicalPrefix: string): string {
  const tables = cloud().resources!.tables;
  const key = Object.keys(tables).find((k) => k.startsWith(logicalPrefix));
  if (!key) throw new Error(`no table ${logicalPrefix} in local.json`);
  return tables[key];
}

/** A fresh DynamoDB client, as a separate emitter process would have. */
export function docClient(): DynamoDBDocumentClient {
  const t = cloud();
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: t.endpoints!.dynamodb, region: t.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}

export function emitter(options: Partial<EventStoreOptions> = {}): EventStore {
  return new EventStore({ tableName: tableName('TablesEvents'), client: docClient(), ...options });
}

/** Writes a run record as the runs API will (only the fields this issue reads). */
export async function createRun(tenant = 'dev', extra: Record<string, unknown> = {}): Promise<string> {
  const runId = `run-${randomUUID()}`;
  await docClient().send(
    new PutCommand({
      TableName: tableName('TablesRuns'),
      Item: { pk: `RUN#${runId}`, sk: 'META', runId, tenant, status: 'RUNNING', createdAt: new Date().toISOString(), ...extra },
    }),
  );
  return runId;
}

export function itemEvent(i: number): { event: 'ItemStarted'; payload: PayloadOf<'ItemStarted'> } {
  return { event: 'ItemStarted', payload: { stepId: 'analyze', item: `inputs/file-${i}.cbl`, index: i, total: 100_000 } };
}

export async function tokenFor(tenant: string): Promise<string> {
  const res = await http<TokenBody>('POST', '/tokens', { body: { tenant, name: 'progress-tests' } });
  if (res.status !== 201) throw new Error(`token for ${tenant}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

export async function openSocket(token = cloud().token): Promise<TestSocket> {
  return TestSocket.open(`${cloud().wsUrl}?token=${encodeURIComponent(token)}`);
}

function eventsOf(socket: TestSocket, runId: string): EventFrame[] {
  return socket.frames.filter((f): f is EventFrame => isFrame(f) && f.type === 'event' && f.runId === runId);
}

/** Waits until `socket` holds `count` event frames of the run (with a deadline), returns them. */
export async function waitForEvents(socket: TestSocket, runId: string, count: number, timeoutMs = 60_000): Promise<EventFrame[]> {
  await socket.waitFor(() => eventsOf(socket, runId).length >= count, timeoutMs);
  return eventsOf(socket, runId);
}

/** The whole log through the REST API, paged. */
export async function restReplay(runId: string, pageSize = 200, token?: string): Promise<EventsPageBody['events']> {
  const out: EventsPageBody['events'] = [];
  let afterSeq = 0;
  for (;;) {
    const res = await http<EventsPageBody>('GET', `/runs/${encodeURIComponent(runId)}/events?afterSeq=${afterSeq}&limit=${pageSize}`, { token });
    if (res.status !== 200) throw new Error(`GET events: ${res.status} ${JSON.stringify(res.body)}`);
    out.push(...res.body.events);
    if (res.body.events.length === 0) return out;
    afterSeq = res.body.nextAfterSeq;
  }
}

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Polls `check` until it returns a value or the deadline passes. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
