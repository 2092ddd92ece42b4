import { encodeCursor, parseCursor } from './cursor';
import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { BatchWriteCommandInput, TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './clients';
import { newAgentRecord, skillsOf, type AgentRecord, type AgentRegistration, type Capability } from '../core/registry/agent';
import { beginProbe, effectiveState, admit, type CircuitState, type Transition } from '../core/registry/circuit';
import { assessHealth, type Health, type HealthCheckResult } from '../core/registry/health';
import type { AgentView } from '../core/registry/selection';
import { summarizeSnapshot } from '../core/registry/histogram';
import { registryConfigFromEnv, type RegistryConfig } from './registry-config';
import { counterSetOf, mergeCounterSets, metricsView, recentSlotKeys, type CounterSet, type MetricsView } from './registry-metrics';
import {
  agentPk,
  ALL_AGENTS_SKILL,
  DELETED_SK,
  METRICS_SK,
  RECORD_SK,
  revisionSk,
  SKILL_INDEX,
  skillSk,
} from './registry-keys';
import { isCommitRefused } from './conditions';
import { lookup } from '../core/invariants';

/**
 * The agent registry on DynamoDB (item layout in registry-keys.ts). Every request path is a GetItem,
 * BatchGetItem, Query on the table or on GSI bySkill, or a (conditional) write: never a Scan.
 */

export interface StoredAgent extends AgentRecord {
  /** Registry revision: +1 on every registration that changed something. A run pins agentId + revision. */
  revision: number;
  /** The last scheduled health-check result. */
  healthCheck?: HealthCheckResult;
  deletedAt?: string;
}

/** What `GET /agents` lists: one entry per agent, from the skill index. */
export interface AgentSummary {
  id: string;
  name: string;
  version: string;
  description: string;
  tags: string[];
  builtIn: boolean;
  status: string;
  revision: number;
  functionArn: string;
  capabilities: Capability[];
  skills: string[];
  maxConcurrency?: number;
  updatedAt: string;
}

export interface AgentState {
  record: StoredAgent | undefined;
  allTime: CounterSet;
  recent: CounterSet;
}

export interface CandidateView extends AgentView {
  record: StoredAgent;
}

export interface RegisterResult {
  agent: StoredAgent;
  created: boolean;
  changed: boolean;
}

export class RegistryConflictError extends Error {
  override readonly name = 'RegistryConflictError';
}

export interface RegistryStoreOptions {
  tableName: string;
  client?: DynamoDBDocumentClient;
  clock?: () => number;
  config?: RegistryConfig;
}

/** Tombstones outlive the longest run we expect to still reference the agent. */
const TOMBSTONE_TTL_SECONDS = 30 * 24 * 3600;
const TRANSACTION_LIMIT = 100;
const BATCH_GET_LIMIT = 100;

/** Key-order independent JSON, so two equal registrations compare equal whatever the client's field order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const REGISTRATION_FIELDS = ['id', 'name', 'version', 'description', 'author', 'functionArn', 'capabilities', 'tags', 'configSchema', 'maxConcurrency'] as const;

function registrationOf(record: Partial<AgentRecord>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of REGISTRATION_FIELDS) if (record[field] !== undefined) out[field] = record[field];
  return out;
}

export function summaryOf(record: StoredAgent): AgentSummary {
  const summary: AgentSummary = {
    id: record.id,
    name: record.name,
    version: record.version,
    description: record.description,
    tags: record.tags,
    builtIn: record.builtIn,
    status: record.status,
    revision: record.revision,
    functionArn: record.functionArn,
    capabilities: record.capabilities,
    skills: skillsOf(record),
    updatedAt: record.updatedAt,
  };
  if (record.maxConcurrency !== undefined) summary.maxConcurrency = record.maxConcurrency;
  return summary;
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

/** The item's own fields, without the table's keys and index attributes. */
function stripKeys(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _pk, sk: _sk, skill: _skill, agentId: _agentId, expiresAt: _exp, ...rest } = item;
  return rest;
}

;

function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  return cursor ? parseCursor(cursor) : undefined;
}

export class RegistryStore {
  readonly tableName: string;
  readonly config: RegistryConfig;
  private readonly client: DynamoDBDocumentClient;
  private readonly clock: () => number;

  constructor(options: RegistryStoreOptions) {
    this.tableName = options.tableName;
    this.client = options.client ?? dynamo();
    this.clock = options.clock ?? Date.now;
    this.config = options.config ?? registryConfigFromEnv();
  }

  // ------------------------------------------------------------------ registration

  /**
   * Registers or re-registers an agent. A registration equal to the current one changes nothing (so the
   * deploy-time seeder and client retries are idempotent); a different one becomes a new revision, keeping
   * the agent's history, health and circuit. Optimistic: the write is conditional on the revision and
   * circuit version read, and is retried on a race.
   */
  async register(registration: AgentRegistration, options: { builtIn?: boolean; registeredBy?: string } = {}): Promise<RegisterResult> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const [current, tombstone] = await Promise.all([this.getItem(registration.id, RECORD_SK), this.getItem(registration.id, DELETED_SK)]);
      const builtIn = options.builtIn ?? current?.builtIn ?? false;
      if (current && canonical(registrationOf(current)) === canonical(registrationOf(registration)) && current.builtIn === builtIn) {
        return { agent: current, created: false, changed: false };
      }
      const now = new Date(this.clock());
      const record = newAgentRecord(registration, now, { builtIn, registeredBy: options.registeredBy, previous: current });
      const revision = Math.max(current?.revision ?? 0, tombstone?.revision ?? 0) + 1;
      const stored: StoredAgent = { ...record, revision };
      if (current?.healthCheck) stored.healthCheck = current.healthCheck;
      try {
        await this.writeRegistration(stored, current, tombstone !== undefined);
        return { agent: stored, created: !current, changed: true };
      } catch (error) {
        if (!isCommitRefused(error)) throw error;
      }
    }
    throw new RegistryConflictError(`agent ${registration.id} is being changed concurrently; try again`);
  }

  private async writeRegistration(stored: StoredAgent, current: StoredAgent | undefined, hadTombstone: boolean): Promise<void> {
    const pk = agentPk(stored.id);
    const summary = summaryOf(stored);
    const skills = skillsOf(stored);
    const stale = current ? skillsOf(current).filter((s) => !skills.includes(s)) : [];
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: { pk, sk: RECORD_SK, ...stored },
          ...(current
            ? {
                ConditionExpression: 'revision = :rev AND circuit.version = :cv',
                ExpressionAttributeValues: { ':rev': current.revision, ':cv': current.circuit.version },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        },
      },
      { Put: { TableName: this.tableName, Item: { pk, sk: revisionSk(stored.revision), ...registrationOf(stored), revision: stored.revision, builtIn: stored.builtIn, registeredAt: stored.updatedAt } } },
      { Put: { TableName: this.tableName, Item: { pk, sk: skillSk(ALL_AGENTS_SKILL), skill: ALL_AGENTS_SKILL, agentId: stored.id, ...summary } } },
      ...skills.map((skill) => ({ Put: { TableName: this.tableName, Item: { pk, sk: skillSk(skill), skill, agentId: stored.id, ...summary } } })),
    ];
    if (hadTombstone) items.push({ Delete: { TableName: this.tableName, Key: { pk, sk: DELETED_SK } } });
    const deletes = stale.map((skill) => ({ Delete: { TableName: this.tableName, Key: { pk, sk: skillSk(skill) } } }));
    // Skill entries an agent no longer has go in the same transaction when they fit, else right after it.
    const inline = items.length + deletes.length <= TRANSACTION_LIMIT;
    await this.client.send(new TransactWriteCommand({ TransactItems: inline ? [...items, ...deletes] : items }));
    if (!inline) await this.batchDelete(stale.map((skill) => ({ pk, sk: skillSk(skill) })));
  }

  /**
   * Unregisters: the agent leaves discovery and listings at once, while a tombstone keeps what runs in
   * flight need (function ARN, revision) until it expires. Returns false when there was no such agent.
   */
  async unregister(agentId: string): Promise<boolean> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const current = await this.getItem(agentId, RECORD_SK);
      if (!current) return false;
      const pk = agentPk(agentId);
      const deletedAt = new Date(this.clock()).toISOString();
      const expiresAt = Math.floor(this.clock() / 1000) + TOMBSTONE_TTL_SECONDS;
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Delete: {
                  TableName: this.tableName,
                  Key: { pk, sk: RECORD_SK },
                  ConditionExpression: 'revision = :rev',
                  ExpressionAttributeValues: { ':rev': current.revision },
                },
              },
              { Put: { TableName: this.tableName, Item: { pk, sk: DELETED_SK, ...current, deletedAt, expiresAt } } },
              { Delete: { TableName: this.tableName, Key: { pk, sk: skillSk(ALL_AGENTS_SKILL) } } },
              ...skillsOf(current).map((skill) => ({ Delete: { TableName: this.tableName, Key: { pk, sk: skillSk(skill) } } })),
            ],
          }),
        );
        return true;
      } catch (error) {
        if (!isCommitRefused(error)) throw error;
      }
    }
    throw new RegistryConflictError(`agent ${agentId} is being changed concurrently; try again`);
  }

  // ------------------------------------------------------------------ reads

  async get(agentId: string, consistent = false): Promise<StoredAgent | undefined> {
    return this.getItem(agentId, RECORD_SK, consistent);
  }

  /** The agent as a run in flight sees it: the current record, else its tombstone (unregistered since). */
  async resolve(agentId: string): Promise<StoredAgent | undefined> {
    return (await this.getItem(agentId, RECORD_SK)) ?? (await this.getItem(agentId, DELETED_SK));
  }

  private async getItem(agentId: string, sk: string, consistent = true): Promise<StoredAgent | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: agentPk(agentId), sk }, ConsistentRead: consistent }));
    return Item ? (stripKeys(Item) as unknown as StoredAgent) : undefined;
  }

  /** One page of agents, all or those with a skill, ordered by id. */
  async list(options: { skill?: string; limit?: number; cursor?: string } = {}): Promise<{ agents: AgentSummary[]; cursor?: string }> {
    const { Items, LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: SKILL_INDEX,
        KeyConditionExpression: 'skill = :skill',
        ExpressionAttributeValues: { ':skill': options.skill ?? ALL_AGENTS_SKILL },
        Limit: Math.min(Math.max(options.limit ?? 100, 1), 1000),
        ExclusiveStartKey: decodeCursor(options.cursor),
      }),
    );
    const agents = (Items ?? []).map((item) => stripKeys(item) as unknown as AgentSummary);
    const cursor = encodeCursor(LastEvaluatedKey);
    return cursor ? { agents, cursor } : { agents };
  }

  /** Every agent id indexed under a skill (all pages). */
  async agentIdsWithSkill(skill: string): Promise<string[]> {
    const ids: string[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: SKILL_INDEX,
          KeyConditionExpression: 'skill = :skill',
          ExpressionAttributeValues: { ':skill': skill },
          ProjectionExpression: 'agentId',
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) ids.push(String(item.agentId));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return ids;
  }

  /** Record, all-time and recent counters of each agent, in BatchGetItems of 100 keys issued together. */
  async loadStates(agentIds: readonly string[], now = this.clock()): Promise<Map<string, AgentState>> {
    const slots = recentSlotKeys(now, this.config.window);
    const keys = agentIds.flatMap((id) => [RECORD_SK, METRICS_SK, ...slots].map((sk) => ({ pk: agentPk(id), sk })));
    const items = await this.batchGet(keys);
    const byPk = new Map<string, Map<string, Record<string, unknown>>>();
    for (const item of items) {
      let m = byPk.get(String(item.pk));
      if (!m) byPk.set(String(item.pk), (m = new Map<string, Record<string, unknown>>()));
      m.set(String(item.sk), item);
    }
    const nowSec = Math.floor(now / 1000);
    const states = new Map<string, AgentState>();
    for (const id of agentIds) {
      const m = byPk.get(agentPk(id));
      const record = m?.get(RECORD_SK);
      states.set(id, {
        record: record ? (stripKeys(record) as unknown as StoredAgent) : undefined,
        allTime: counterSetOf(m?.get(METRICS_SK)),
        // A slot past its TTL may linger until DynamoDB deletes it; it is not part of the window any more.
        recent: mergeCounterSets(
          slots.map((sk) => m?.get(sk)).filter((i) => i && !(typeof i.expiresAt === 'number' && i.expiresAt <= nowSec)).map(counterSetOf),
        ),
      });
    }
    return states;
  }

  private async batchGet(keys: Array<{ pk: string; sk: string }>): Promise<Array<Record<string, unknown>>> {
    const chunks: Array<Array<{ pk: string; sk: string }>> = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) chunks.push(keys.slice(i, i + BATCH_GET_LIMIT));
    const pages = await Promise.all(
      chunks.map(async (chunk) => {
        const out: Array<Record<string, unknown>> = [];
        let pending: Array<Record<string, unknown>> = chunk;
        for (let round = 0; pending.length > 0; round++) {
          if (round > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** round)));
          const result = await this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }));
          out.push(...(result.Responses?.[this.tableName] ?? []));
          pending = (result.UnprocessedKeys?.[this.tableName]?.Keys as Array<Record<string, unknown>> | undefined) ?? [];
          if (round > 8 && pending.length > 0) throw new Error(`BatchGetItem left ${pending.length} keys unprocessed`);
        }
        return out;
      }),
    );
    return pages.flat();
  }

  private async batchDelete(keys: Array<{ pk: string; sk: string }>): Promise<void> {
    for (let i = 0; i < keys.length; i += 25) {
      let pending: WriteRequest[] = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      while (pending.length > 0) {
        const result = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = result.UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }

  /** Live health: assessed at read time from the recent window, the circuit and the last health check. */
  healthOf(state: AgentState, now = this.clock()): Health {
    return assessHealth(
      {
        recent: {
          invocations: state.recent.invocations,
          successes: state.recent.successes,
          failures: state.recent.failures,
          ...(state.recent.lastError !== undefined ? { lastError: state.recent.lastError } : {}),
          p95Ms: summarizeSnapshot(state.recent.histogram).p95,
        },
        ...(state.record?.healthCheck ? { healthCheck: state.record.healthCheck } : {}),
        ...(state.record?.circuit ? { circuit: state.record.circuit } : {}),
        now,
      },
      this.config.health,
      this.config.circuit,
    );
  }

  /** What selection needs about every agent serving any of the skills. */
  async candidates(skills: readonly string[], now = this.clock()): Promise<CandidateView[]> {
    const ids = [...new Set((await Promise.all([...new Set(skills)].map((s) => this.agentIdsWithSkill(s)))).flat())].sort();
    const states = await this.loadStates(ids, now);
    const views: CandidateView[] = [];
    for (const id of ids) {
      const state = lookup(states, id);
      // The index entry can outlive its record by an instant (unregistered meanwhile): not a candidate.
      if (!state.record) continue;
      views.push(this.viewOf(state as AgentState & { record: StoredAgent }, now));
    }
    return views;
  }

  viewOf(state: AgentState & { record: StoredAgent }, now = this.clock()): CandidateView {
    const recent = summarizeSnapshot(state.recent.histogram);
    const allTime = summarizeSnapshot(state.allTime.histogram);
    return {
      id: state.record.id,
      status: state.record.status,
      capabilities: state.record.capabilities,
      health: this.healthOf(state, now),
      circuit: state.record.circuit,
      recent: { invocations: state.recent.invocations, successes: state.recent.successes, failures: state.recent.failures, p50Ms: recent.p50, p95Ms: recent.p95 },
      allTime: { invocations: state.allTime.invocations, successes: state.allTime.successes, failures: state.allTime.failures, p50Ms: allTime.p50, p95Ms: allTime.p95 },
      record: state.record,
    };
  }

  /** `GET /agents/{id}/metrics`; undefined for an unknown agent. */
  async metrics(agentId: string): Promise<AgentMetrics | undefined> {
    const now = this.clock();
    const state = lookup(await this.loadStates([agentId], now), agentId);
    if (!state.record) return undefined;
    const allTime = metricsView(state.allTime);
    return {
      agentId,
      invocations: allTime.invocations,
      successes: allTime.successes,
      failures: allTime.failures,
      lastInvocationAt: state.allTime.lastInvocationAt ?? null,
      ...(state.allTime.lastError !== undefined ? { lastError: { message: state.allTime.lastError, at: state.allTime.lastErrorAt ?? null } } : {}),
      allTime,
      recent: { ...metricsView(state.recent), windowMs: this.config.window.slotMs * this.config.window.keepSlots },
    };
  }

  /** `GET /agents/{id}/health`; undefined for an unknown agent. */
  async health(agentId: string): Promise<AgentHealthReport | undefined> {
    const now = this.clock();
    const state = lookup(await this.loadStates([agentId], now), agentId);
    if (!state.record) return undefined;
    const health = this.healthOf(state, now);
    const circuit = state.record.circuit;
    const admission = admit(circuit, now, this.config.circuit);
    return {
      agentId,
      ...health,
      circuit: {
        state: effectiveState(circuit, now, this.config.circuit),
        consecutiveFailures: circuit.consecutiveFailures,
        ...(circuit.openedAt !== undefined ? { openedAt: new Date(circuit.openedAt).toISOString() } : {}),
        ...(!admission.allowed ? { retryAt: new Date(admission.retryAt).toISOString() } : {}),
        coolDownMs: this.config.circuit.coolDownMs,
      },
      recent: metricsView(state.recent),
      ...(state.record.healthCheck
        ? { healthCheck: { ok: state.record.healthCheck.ok, at: new Date(state.record.healthCheck.at).toISOString(), ...(state.record.healthCheck.error ? { error: state.record.healthCheck.error } : {}) } }
        : {}),
      assessedAt: new Date(now).toISOString(),
    };
  }

  // ------------------------------------------------------------------ circuit and health check

  /**
   * Applies a circuit transition with a write conditional on the version it was computed from; on a race,
   * re-reads and re-applies, so concurrent outcomes are never lost. `hint` (e.g. a cached record's circuit)
   * saves the first read; a stale hint costs one failed condition. Undefined when the agent is gone.
   */
  async updateCircuit(agentId: string, apply: (circuit: CircuitState) => Transition, hint?: CircuitState): Promise<Transition | undefined> {
    let circuit = hint;
    for (let attempt = 0; attempt < 8; attempt++) {
      if (!circuit) {
        const { Item } = await this.client.send(
          new GetCommand({ TableName: this.tableName, Key: { pk: agentPk(agentId), sk: RECORD_SK }, ConsistentRead: true, ProjectionExpression: 'circuit' }),
        );
        if (!Item?.circuit) return undefined;
        circuit = Item.circuit as CircuitState;
      }
      const transition = apply(circuit);
      if (!transition.changed) return transition;
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: agentPk(agentId), sk: RECORD_SK },
            UpdateExpression: 'SET circuit = :next',
            ConditionExpression: 'circuit.version = :v',
            ExpressionAttributeValues: { ':next': transition.state, ':v': circuit.version },
          }),
        );
        return transition;
      } catch (error) {
        if (!isCommitRefused(error)) throw error;
        circuit = undefined;
      }
    }
    throw new RegistryConflictError(`circuit of agent ${agentId} is contended; outcome not recorded`);
  }

  /**
   * Claims the one probe call an agent whose cool-down elapsed may receive. True only for the caller that
   * won the conditional write; everyone else must pick another candidate.
   */
  async claimProbe(agentId: string): Promise<boolean> {
    const now = this.clock();
    const transition = await this.updateCircuit(agentId, (c) => beginProbe(c, now, this.config.circuit));
    return !!transition?.changed && transition.state.state === 'half-open' && transition.state.probeStartedAt === now;
  }

  async recordHealthCheck(agentId: string, result: HealthCheckResult): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: agentPk(agentId), sk: RECORD_SK },
          UpdateExpression: 'SET healthCheck = :r',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':r': result },
        }),
      );
    } catch (error) {
      if (!isCommitRefused(error)) throw error;
    }
  }
}

export interface AgentMetrics {
  agentId: string;
  invocations: number;
  successes: number;
  failures: number;
  lastInvocationAt: string | null;
  lastError?: { message: string; at: string | null };
  allTime: MetricsView;
  recent: MetricsView & { windowMs: number };
}

export type AgentHealthReport = Health & {
  agentId: string;
  circuit: { state: string; consecutiveFailures: number; openedAt?: string; retryAt?: string; coolDownMs: number };
  recent: MetricsView;
  healthCheck?: { ok: boolean; at: string; error?: string };
  assessedAt: string;
};
