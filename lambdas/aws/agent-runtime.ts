import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { s3 } from './s3';
import { requiredEnv } from './env';
import { EventStore } from './event-store';
import { RegistryStore } from './registry-store';
import { MetricsRecorder } from './registry-metrics';
import { LeaseSemaphore } from './semaphore';
import { registryConfigFromEnv, type RegistryConfig } from './registry-config';
import { agentPk, ENV, LEASES_SK } from './registry-keys';
import type { RuntimeAgentRecord, RuntimeDeps } from '../core/agent-runtime/runtime';
import { defineAgent as defineAgentWith, type AgentDefinition } from '../core/agent-runtime';
import type { ObjectStore } from '../core/agent-runtime/workspace';
import { logger } from '../edge/observability/logger';
import { present } from '../core/invariants';

/**
 * The agent runtime's AWS side: DynamoDB (registry, events, leases, idempotency) and S3 (workspace).
 * Everything is created once per execution environment, at the first invocation.
 */

export interface AgentRuntimeAwsOptions {
  agentsTable: string;
  eventsTable: string;
  /** Without it, items are not deduplicated across retries (a warning is logged once). */
  idempotencyTable?: string;
  /** Document client for every DynamoDB call but idempotency's (tests and the bench count requests on it). */
  documentClient?: DynamoDBDocumentClient;
  dynamoClient?: DynamoDBClient;
  s3Client?: S3Client;
  config?: RegistryConfig;
  /** How long the agent record (limits, circuit hint) is cached per environment. */
  recordCacheMs?: number;
  /** Idempotency records outlive any retry of a run's step; a redrive after this re-runs items. */
  idempotencyTtlSeconds?: number;
  clock?: () => number;
}

function s3ObjectStore(client: S3Client): ObjectStore {
  return {
    async put(bucket, key, body, contentType) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(contentType ? { ContentType: contentType } : {}) }));
    },
    async get(bucket, key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await present(out.Body, 'out.Body').transformToByteArray();
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    async list(bucket, prefix) {
      const out: Array<{ key: string; size: number }> = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
        for (const o of page.Contents ?? []) out.push({ key: present(o.Key, 'o.Key'), size: o.Size ?? 0 });
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return out;
    },
  };
}

export function agentRuntimeDeps(options: AgentRuntimeAwsOptions): RuntimeDeps {
  const dynamoClient = options.dynamoClient ?? new DynamoDBClient({});
  const documentClient =
    options.documentClient ?? DynamoDBDocumentClient.from(dynamoClient, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } });
  const config = options.config ?? registryConfigFromEnv();
  const clock = options.clock ?? Date.now;
  const registry = new RegistryStore({ tableName: options.agentsTable, client: documentClient, config, clock });
  const recorder = new MetricsRecorder(documentClient, options.agentsTable, config.window);
  const semaphore = new LeaseSemaphore({ client: documentClient, tableName: options.agentsTable, clock });
  const events = new EventStore({ tableName: options.eventsTable, client: documentClient, clock });
  const cacheMs = options.recordCacheMs ?? 5_000;
  const cache = new Map<string, { at: number; record: RuntimeAgentRecord | undefined }>();

  const persistenceStore = options.idempotencyTable
    ? new DynamoDBPersistenceLayer({ tableName: options.idempotencyTable, awsSdkV3Client: dynamoClient })
    : undefined;
  let warned = false;

  return {
    events: {
      emit: (runId, event, payload) => events.emit(runId, event, payload),
      drainProgress: async () => {
        await events.drainProgress();
        await events.close();
      },
    },
    objects: s3ObjectStore(options.s3Client ?? s3()),
    async agent(agentId, { fresh = false } = {}) {
      const hit = cache.get(agentId);
      if (!fresh && hit && clock() - hit.at < cacheMs) return hit.record;
      const stored = await registry.resolve(agentId);
      const record: RuntimeAgentRecord | undefined = stored
        ? { id: stored.id, ...(stored.maxConcurrency !== undefined ? { maxConcurrency: stored.maxConcurrency } : {}), circuit: stored.circuit }
        : undefined;
      cache.set(agentId, { at: clock(), record });
      return record;
    },
    recordMetrics: (agentId, outcomes, now) => recorder.record(agentId, outcomes, now),
    async updateCircuit(agentId, apply, hint) {
      const transition = await registry.updateCircuit(agentId, apply, hint);
      // Keep the cached hint current, so the next invocation's first conditional write usually succeeds.
      const hit = cache.get(agentId);
      if (transition && hit?.record) hit.record.circuit = transition.state;
      return transition;
    },
    async claimProbe(agentId) {
      const won = await registry.claimProbe(agentId);
      // The cached circuit is stale either way; the next look reads it again.
      cache.delete(agentId);
      return won;
    },
    acquireLease: (agentId, max, ttlMs) => semaphore.acquire({ pk: agentPk(agentId), sk: LEASES_SK }, max, ttlMs),
    releaseLease: (agentId, leaseId) => semaphore.release({ pk: agentPk(agentId), sk: LEASES_SK }, leaseId),
    async idempotent<R>(agentId: string, key: object, fn: () => Promise<R>, context?: Context): Promise<R> {
      if (!persistenceStore) {
        if (!warned) logger.warn(`${ENV.idempotencyTable} is not set: retried items are not deduplicated`);
        warned = true;
        return fn();
      }
      const config = new IdempotencyConfig({ expiresAfterSeconds: options.idempotencyTtlSeconds ?? 7 * 24 * 3600 });
      if (context) config.registerLambdaContext(context);
      const wrapped = makeIdempotent((_key: object) => fn(), {
        persistenceStore,
        config,
        // Per agent id: a fallback to another agent (or the same Lambda under another id) is a new execution.
        keyPrefix: `agentplane.agent.${agentId}`,
        dataIndexArgument: 0,
      });
      return (await wrapped(key));
    },
    circuitConfig: config.circuit,
    clock,
    log: { warn: (m, e) => { logger.warn(m, { ...e }); }, error: (m, e) => { logger.error(m, { ...e }); } },
  };
}

/** The runtime's dependencies from the function's environment (set by lib/registry.ts bindAgentRuntime). */
function runtimeDepsFromEnv(): RuntimeDeps {
  return agentRuntimeDeps({
    agentsTable: requiredEnv(ENV.agentsTable),
    eventsTable: requiredEnv(ENV.eventsTable),
    ...(process.env[ENV.idempotencyTable] ? { idempotencyTable: process.env[ENV.idempotencyTable] } : {}),
    recordCacheMs: Number(process.env.AGENT_RECORD_CACHE_MS ?? 5_000),
  });
}

/**
 * An agent Lambda's handler on the agent runtime, its dependencies built from the function's environment on the
 * first invocation (AGENTS_TABLE, EVENTS_TABLE, IDEMPOTENCY_TABLE, WORKSPACE_BUCKET): what every agent handler
 * exports. Tests and other hosts give `deps` themselves (core's defineAgent).
 */
export function defineAgent(definition: Omit<AgentDefinition, 'deps'> & Partial<Pick<AgentDefinition, 'deps'>>) {
  return defineAgentWith({ ...definition, deps: definition.deps ?? runtimeDepsFromEnv });
}
