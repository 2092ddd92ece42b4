import { reapExpiredLeases } from './semaphore';
import { encodeCursor, parseCursor } from './cursor';
import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { requiredEnv } from './env';
import type { CommandDeps } from '../core/runs/commands';
import { dynamo } from './clients';
import { EventStore } from './event-store';
import { WorkspaceStore } from './workspace-store';
import { StepStateStore } from './step-state';
import { completeRun, type FinalizeDeps } from '../core/runs/finalize';
import { logger } from '../edge/observability/logger';
import { runKey } from './run-access';
import { NotFoundError, ValidationError } from '../core/errors';
import { type RunRecord, type RunStatus, type StepState } from '../core/runs/model';
import { agentsOf, UNLIMITED_SLOTS, type AcquireOutcome, type ControlRecord, type ItemTally, type ParkedToken } from '../core/runs/control-record';
import { isConditionFailure } from './conditions';
import { present } from '../core/invariants';

/**
 * The runs table as the runs issue uses it. One run is several items under `pk = RUN#<runId>`:
 * - `META`: the run record (lambdas/core/runs/model.ts). Only META carries `tenant` and `createdAt`, so only
 *   run records appear in the byTenant index.
 * - `CONTROL`: what item admission decides on, in one item so that one conditional write decides: the run's
 *   semaphore (`leases`: lease id -> expiry, epoch ms), `maxSlots`, `paused`, `closed` (cancelled or ended),
 *   `epoch` (fencing) and `settled` (items whose invocation came back).
 * - `PARK#<time>#<id>`: a parked task token (a step held by the gate, or an item waiting for a slot).
 * - `LIVE#<n>` / `<runId>` (another partition): the index of live runs the reconciliation sweep reads, sharded
 *   so it never needs a Scan and no partition gets hot.
 * Every item carries the run's `expiresAt`; the META item's TTL delete is what triggers the workspace janitor.
 */

const CONTROL_SK = 'CONTROL';
const PARK_PREFIX = 'PARK#';
export const LIVE_SHARDS = 8;
class RunFencedError extends Error {
  override readonly name = 'Agentplane.Cancelled';
}

export const liveShardOf = (runId: string): string => {
  let h = 0;
  for (const c of runId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `LIVE#${h % LIVE_SHARDS}`;
};

;

function decodeCursor(cursor: string | undefined, tenant: string): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  const key = parseCursor(cursor);
  // A cursor is only ever a position in the caller's own tenant partition.
  if (!key || key.tenant !== tenant || typeof key.pk !== 'string' || typeof key.createdAt !== 'string') {
    throw new ValidationError('Invalid cursor', [{ path: '$.query.cursor', message: 'not a cursor this API returned' }]);
  }
  return key;
}

/**
 * A stored run item as the domain's record. Items written by hand or by an older version may lack the maps the
 * runs API writes at creation; they read as empty, so no reader has to guard against their absence.
 */
function runRecordOf(item: Record<string, unknown>): RunRecord {
  const run = item as Partial<RunRecord> & Pick<RunRecord, 'runId' | 'createdAt'>;
  return { ...run, steps: run.steps ?? {}, agents: run.agents ?? {}, limits: run.limits ?? { maxConcurrency: 0 }, updatedAt: run.updatedAt ?? run.createdAt } as RunRecord;
}

export class RunStore {
  readonly tableName: string;
  private readonly client: DynamoDBDocumentClient;
  private readonly clock: () => number;

  get documentClient(): DynamoDBDocumentClient {
    return this.client;
  }

  constructor(options: { tableName: string; client?: DynamoDBDocumentClient; clock?: () => number }) {
    this.tableName = options.tableName;
    this.client = options.client ?? dynamo();
    this.clock = options.clock ?? Date.now;
  }

  // ---------------------------------------------------------------- records

  /** Creates the run record, its control item and its live-index entry at once; false if the run exists. */
  async create(run: RunRecord, maxSlots: number): Promise<boolean> {
    const control = { ...this.controlKey(run.runId), leases: {}, live: {}, maxSlots, paused: false, closed: false, epoch: run.epoch, settled: 0, expiresAt: run.expiresAt };
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: { ...runKey(run.runId), ...run }, ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName: this.tableName, Item: control } },
            { Put: { TableName: this.tableName, Item: { pk: liveShardOf(run.runId), sk: run.runId, runId: run.runId, since: run.createdAt, expiresAt: run.expiresAt } } },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: runKey(runId), ConsistentRead: true }));
    return Item ? runRecordOf(Item) : undefined;
  }

  /** The run if it exists and is the tenant's; another tenant's run is reported as missing. */
  async getForTenant(runId: string, tenant: string): Promise<RunRecord> {
    const run = await this.get(runId);
    if (!run || run.tenant !== tenant) throw new NotFoundError(`Run ${runId} not found`);
    return run;
  }

  /** The tenant's runs, newest first, through the byTenant index; filters are applied while paging. */
  async listForTenant(
    tenant: string,
    options: { limit: number; cursor?: string; status?: string; workflowId?: string },
  ): Promise<{ runs: RunRecord[]; cursor?: string }> {
    const runs: RunRecord[] = [];
    let ExclusiveStartKey = decodeCursor(options.cursor, tenant);
    const filters: string[] = [];
    const values: Record<string, unknown> = { ':t': tenant };
    const names: Record<string, string> = {};
    if (options.status) {
      filters.push('#status = :s');
      names['#status'] = 'status';
      values[':s'] = options.status;
    }
    if (options.workflowId) {
      filters.push('workflowId = :w');
      values[':w'] = options.workflowId;
    }
    let last: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'byTenant',
          KeyConditionExpression: 'tenant = :t',
          ExpressionAttributeValues: values,
          ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
          ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
          ScanIndexForward: false,
          Limit: options.limit - runs.length,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) {
        runs.push(runRecordOf(item));
        last = item;
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey && runs.length < options.limit);
    // The next page starts after the last run returned (a filtered page may stop before its own end).
    const more = ExclusiveStartKey !== undefined || (runs.length >= options.limit && last !== undefined);
    const cursorKey = runs.length >= options.limit && last ? { pk: last.pk, sk: last.sk, tenant: last.tenant, createdAt: last.createdAt } : ExclusiveStartKey;
    return { runs, ...(more && cursorKey ? { cursor: encodeCursor(cursorKey) } : {}) };
  }

  /**
   * Sets `status` (and other fields) if the run is in one of `from`; returns the new record, or undefined when
   * the condition failed (another writer got there first: callers treat that as "already done").
   */
  async transition(runId: string, from: readonly RunStatus[] | 'live', to: RunStatus, fields: Record<string, unknown> = {}): Promise<RunRecord | undefined> {
    const names: Record<string, string> = { '#status': 'status', '#updatedAt': 'updatedAt' };
    const values: Record<string, unknown> = { ':to': to, ':now': new Date(this.clock()).toISOString() };
    const sets = ['#status = :to', '#updatedAt = :now'];
    Object.entries(fields).forEach(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:f${i}`] = v;
      sets.push(`#f${i} = :f${i}`);
    });
    const statuses = from === 'live' ? ['QUEUED', 'STARTING', 'RUNNING', 'PAUSING', 'PAUSED', 'CANCELLING', 'FINALIZING'] : from;
    statuses.forEach((s, i) => (values[`:from${i}`] = s));
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: runKey(runId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND #status IN (${statuses.map((_, i) => `:from${i}`).join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return runRecordOf(present(out.Attributes, 'out.Attributes'));
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Sets fields of a run record that exists, unconditionally otherwise (idempotent bookkeeping). */
  async setFields(runId: string, fields: Record<string, unknown>): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = Object.entries(fields).map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:f${i}`] = v;
      return `#f${i} = :f${i}`;
    });
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: runKey(runId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
  }

  /**
   * Records one step's state on the run (`steps.<stepId>`), fenced on the run's epoch: a writer from before a
   * cancel (older epoch) changes nothing. Returns false when fenced or the run is gone.
   */
  async putStepState(runId: string, stepId: string, state: StepState, epoch: number, agentId?: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: runKey(runId),
          UpdateExpression: `SET steps.#step = :state${agentId ? ', agents.#step = :agent' : ''}`,
          ConditionExpression: 'attribute_exists(pk) AND epoch = :epoch',
          ExpressionAttributeNames: { '#step': stepId },
          ExpressionAttributeValues: { ':state': state, ':epoch': epoch, ...(agentId ? { ':agent': agentId } : {}) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  // ---------------------------------------------------------------- control

  controlKey(runId: string) {
    return { pk: runKey(runId).pk, sk: CONTROL_SK };
  }

  async control(runId: string): Promise<ControlRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: this.controlKey(runId), ConsistentRead: true }));
    return Item ? toControl(Item) : undefined;
  }

  /**
   * Takes a slot of the run's semaphore: one conditional write, so however many items race, at most `maxSlots`
   * leases exist, and none is granted once the run is paused or closed. A full semaphore is checked for leases
   * whose holder died (expired), which are removed (each conditional on the expiry read), then tried again.
   */
  async acquire(runId: string, leaseSeconds: number, leaseId: string = randomUUID()): Promise<AcquireOutcome> {
    for (let round = 0; round < 2; round++) {
      const expiresAt = this.clock() + leaseSeconds * 1000;
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: this.controlKey(runId),
            UpdateExpression: 'SET leases.#id = :exp',
            ConditionExpression: 'attribute_exists(pk) AND size(leases) < maxSlots AND paused = :f AND closed = :f',
            ExpressionAttributeNames: { '#id': leaseId },
            ExpressionAttributeValues: { ':exp': expiresAt, ':f': false },
          }),
        );
        return { ok: true, leaseId };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const control = await this.control(runId);
      if (!control) return { ok: false, reason: 'missing' };
      if (control.closed) return { ok: false, reason: 'closed' };
      if (control.paused) return { ok: false, reason: 'paused' };
      const expired = Object.entries(control.leases).filter(([, exp]) => exp <= this.clock());
      if (expired.length === 0 || round === 1) return { ok: false, reason: 'full' };
      await this.reap(runId, expired);
    }
    return { ok: false, reason: 'full' };
  }

  /**
   * Gives a slot back and counts the items settled (and the step's live tally); returns the control item as it is
   * now. Idempotent: conditional on the lease, so a retried release counts nothing twice.
   */
  async release(runId: string, leaseId: string | undefined, settledItems: number, tally?: { stepId: string } & ItemTally): Promise<ControlRecord | undefined> {
    const counters = tallyUpdate(tally);
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.controlKey(runId),
          UpdateExpression: `${leaseId ? 'REMOVE leases.#id ' : ''}ADD settled :n${counters.set ? ` SET ${counters.set}` : ''}`,
          ConditionExpression: leaseId ? 'attribute_exists(leases.#id)' : 'attribute_exists(pk)',
          ExpressionAttributeNames: { ...(leaseId ? { '#id': leaseId } : {}), ...counters.names },
          ExpressionAttributeValues: { ':n': settledItems, ...counters.values },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toControl(present(out.Attributes, 'out.Attributes'));
    } catch (error) {
      // Released already (a retried release): nothing to count twice.
      if (isConditionFailure(error)) return this.control(runId);
      // A control item from before live counts: count without them.
      if (tally && (error as { name?: string }).name === 'ValidationException') return this.release(runId, leaseId, settledItems);
      throw error;
    }
  }

  /**
   * Keeps a slot held until `expiresAt` (epoch ms) and counts its items settled: a timed-out invocation's
   * Lambda may still be running. Only an existing lease is changed; returns the control item as it is now.
   */
  async holdLease(runId: string, leaseId: string, expiresAt: number, settledItems: number, tally?: { stepId: string } & ItemTally): Promise<ControlRecord | undefined> {
    const counters = tallyUpdate(tally);
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.controlKey(runId),
          UpdateExpression: `SET leases.#id = :exp${counters.set ? `, ${counters.set}` : ''} ADD settled :n`,
          ConditionExpression: 'attribute_exists(leases.#id)',
          ExpressionAttributeNames: { '#id': leaseId, ...counters.names },
          ExpressionAttributeValues: { ':exp': expiresAt, ':n': settledItems, ...counters.values },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toControl(present(out.Attributes, 'out.Attributes'));
    } catch (error) {
      if (isConditionFailure(error)) return this.control(runId);
      throw error;
    }
  }

  /** Sets control flags atomically and returns the control item before and after. */
  async updateControl(
    runId: string,
    change: { paused?: boolean; closed?: boolean; maxSlots?: number; bumpEpoch?: boolean },
  ): Promise<{ before: ControlRecord; after: ControlRecord } | undefined> {
    const sets: string[] = [];
    const values: Record<string, unknown> = {};
    const set = (field: string, placeholder: string, value: unknown) => {
      if (value === undefined) return;
      sets.push(`${field} = ${placeholder}`);
      values[placeholder] = value;
    };
    set('paused', ':p', change.paused);
    set('closed', ':c', change.closed);
    set('maxSlots', ':m', change.maxSlots);
    const add = change.bumpEpoch ? ' ADD epoch :one' : '';
    if (change.bumpEpoch) values[':one'] = 1;
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.controlKey(runId),
          UpdateExpression: `${sets.length ? `SET ${sets.join(', ')}` : ''}${add}`.trim(),
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_OLD',
        }),
      );
      const before = toControl(present(out.Attributes, 'out.Attributes'));
      const after: ControlRecord = {
        ...before,
        ...(change.paused !== undefined ? { paused: change.paused } : {}),
        ...(change.closed !== undefined ? { closed: change.closed } : {}),
        ...(change.maxSlots !== undefined ? { maxSlots: change.maxSlots } : {}),
        epoch: before.epoch + (change.bumpEpoch ? 1 : 0),
      };
      return { before, after };
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Leases whose expiry has not passed. */
  liveLeases(control: ControlRecord): string[] {
    const now = this.clock();
    return Object.entries(control.leases).filter(([, exp]) => exp > now).map(([id]) => id);
  }

  private async reap(runId: string, expired: Array<[string, number]>): Promise<void> {
    await reapExpiredLeases(this.client, this.tableName, this.controlKey(runId), expired);
  }

  /**
   * Fencing for writers outside the state machine (the agent runtime before it writes a result): throws
   * RunFencedError when the run was cancelled or ended, or when `epoch` is older than the run's.
   */
  async assertWritable(runId: string, epoch?: number): Promise<void> {
    const control = await this.control(runId);
    if (!control) throw new RunFencedError(`run ${runId} does not exist`);
    if (control.closed) throw new RunFencedError(`run ${runId} was cancelled or has ended; results are no longer accepted`);
    if (epoch !== undefined && epoch < control.epoch) throw new RunFencedError(`run ${runId} is at epoch ${control.epoch}; this writer is at ${epoch}`);
  }

  // ---------------------------------------------------------------- parked tokens

  async park(token: Omit<ParkedToken, 'sk' | 'parkedAt'>, expiresAt: number): Promise<ParkedToken> {
    const now = this.clock();
    const parked: ParkedToken = { ...token, sk: `${PARK_PREFIX}${now.toString(36).padStart(9, '0')}#${randomUUID()}`, parkedAt: new Date(now).toISOString() };
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { pk: runKey(token.runId).pk, ...parked, expiresAt } }));
    return parked;
  }

  /** Removes a parked token and returns it, or undefined if someone else claimed it first: exactly one waker wins. */
  async claim(runId: string, sk: string): Promise<ParkedToken | undefined> {
    try {
      const out = await this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: { pk: runKey(runId).pk, sk }, ConditionExpression: 'attribute_exists(pk)', ReturnValues: 'ALL_OLD' }),
      );
      return out.Attributes as ParkedToken | undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Parked tokens, oldest first. */
  async parked(runId: string, limit = 1000): Promise<ParkedToken[]> {
    const out: ParkedToken[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': runKey(runId).pk, ':p': PARK_PREFIX },
          ConsistentRead: true,
          Limit: Math.min(100, limit - out.length),
          ExclusiveStartKey,
        }),
      );
      out.push(...((page.Items ?? []) as ParkedToken[]));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey && out.length < limit);
    return out;
  }

  // ---------------------------------------------------------------- live index

  async unlist(runId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: liveShardOf(runId), sk: runId } }));
  }

  /** Live runs of one shard, oldest entries first (the sweep's work list). */
  async liveRuns(shard: number, limit = 200): Promise<Array<{ runId: string; since: string }>> {
    const page = await this.client.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `LIVE#${shard}` }, Limit: limit }),
    );
    return (page.Items ?? []).map((i) => ({ runId: String(i.runId), since: String(i.since) }));
  }
}

/** `SET live.#k = if_not_exists(live.#k, 0) + :v` per counter (ADD works on top-level attributes only). */
function tallyUpdate(tally: ({ stepId: string } & ItemTally) | undefined): { set: string; names: Record<string, string>; values: Record<string, number> } {
  if (!tally) return { set: '', names: {}, values: {} };
  const names: Record<string, string> = { '#live': 'live' };
  const values: Record<string, number> = { ':zero': 0 };
  const sets: string[] = [];
  (['succeeded', 'failed', 'tokens', 'costUsd'] as const).forEach((counter, i) => {
    names[`#t${i}`] = `${tally.stepId}/${counter}`;
    values[`:t${i}`] = tally[counter];
    sets.push(`#live.#t${i} = if_not_exists(#live.#t${i}, :zero) + :t${i}`);
  });
  return { set: sets.join(', '), names, values };
}

function toControl(item: Record<string, unknown>): ControlRecord {
  const leases: Record<string, number> = {};
  for (const [k, v] of Object.entries((item.leases ?? {}) as Record<string, unknown>)) leases[k] = Number(v);
  const live: Record<string, number> = {};
  for (const [k, v] of Object.entries((item.live ?? {}) as Record<string, unknown>)) live[k] = Number(v);
  return {
    leases,
    live,
    maxSlots: Number(item.maxSlots ?? UNLIMITED_SLOTS),
    paused: item.paused === true,
    closed: item.closed === true,
    epoch: Number(item.epoch ?? 0),
    settled: Number(item.settled ?? 0),
  };
}

// ---------------------------------------------------------------- the control plane's AWS side

/**
 * Everything run control needs, from the environment: `RUNS_TABLE`, `EVENTS_TABLE`, `WORKSPACE_BUCKET`.
 * Step Functions and S3 clients are created once per execution environment.
 */
export function runDepsFromEnv(env: { runsTable: string; eventsTable: string; bucket: string; gateFunction?: string }): FinalizeDeps & { runs: RunStore; workspace: WorkspaceStore } {
  const runs = new RunStore({ tableName: env.runsTable });
  const events = new EventStore({ tableName: env.eventsTable, progress: false });
  const workspace = new WorkspaceStore(env.bucket);
  sfnClient ??= new SFNClient({});
  const client = sfnClient;
  const deps: FinalizeDeps & { runs: RunStore; workspace: WorkspaceStore } = {
    runs,
    store: runs,
    workspace,
    events,
    tasks: {
      async success(taskToken, output) {
        await client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
      },
      async failure(taskToken, error, cause) {
        await client.send(new SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 32_000) }));
      },
    },
    async stopExecution(executionArn, cause) {
      await client.send(new StopExecutionCommand({ executionArn, error: 'Agentplane.Cancelled', cause: cause.slice(0, 32_000) })).catch((error: unknown) => {
        if ((error as { name?: string }).name !== 'ExecutionDoesNotExist') throw error;
      });
    },
    complete: async (runId) => {
      await completeRun(deps, runId);
    },
    resumeStep: async (event) => {
      if (!env.gateFunction) throw new Error('GATE_FUNCTION_ARN is not set: a held step cannot be resumed from here');
      await lambda().send(new InvokeCommand({ FunctionName: env.gateFunction, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }));
    },
    refreshConfig: (run) => refreshConfigAgents(workspace, run),
    onStepHeld: async (runId, stepId) => {
      await new StepStateStore(env.runsTable).merge(runId, stepId, { status: 'paused' });
    },
    unlist: (runId) => runs.unlist(runId),
    spend: (runId) => events.spend(runId),
    clock: Date.now,
    log: { warn: (message, extra) => { logger.warn(message, { ...extra }); } },
  };
  return deps;
}

let sfnClient: SFNClient | undefined;
let lambdaClient: LambdaClient | undefined;

function lambda(): LambdaClient {
  lambdaClient ??= new LambdaClient({});
  return lambdaClient;
}

export function sfn(): SFNClient {
  sfnClient ??= new SFNClient({});
  return sfnClient;
}

/** Rewrites config.json's selected agents from the run record's per-step state (the gate records each choice there). */
async function refreshConfigAgents(workspace: WorkspaceStore, run: RunRecord): Promise<void> {
  const agents = agentsOf(run);
  const key = `runs/${run.runId}/config.json`;
  const config = (await workspace.getJson<Record<string, unknown>>(key)) ?? {};
  if (JSON.stringify(config.agents ?? {}) === JSON.stringify(agents)) return;
  await workspace.putJson(key, { ...config, agents });
}

/**
 * What `executeCommand` (lambdas/core/runs/commands.ts) needs, for any transport: the runs API uses it, and the
 * WebSocket's `runs.command` can too (its function must be granted as lib/runs.ts grants command handlers).
 */
export function runCommandDepsFromEnv(): ReturnType<typeof runDepsFromEnv> & CommandDeps {
  const bucket = requiredEnv('WORKSPACE_BUCKET');
  const deps = runDepsFromEnv({
    runsTable: requiredEnv('RUNS_TABLE'),
    eventsTable: requiredEnv('EVENTS_TABLE'),
    bucket,
    ...(process.env.GATE_FUNCTION_ARN ? { gateFunction: process.env.GATE_FUNCTION_ARN } : {}),
  });
  return {
    ...deps,
    bucket,
    async startExecution(input) {
      const out = await sfn().send(new StartExecutionCommand(input));
      return { executionArn: present(out.executionArn, 'out.executionArn'), startDate: (out.startDate ?? new Date()).toISOString() };
    },
  };
}
