/**
 * Item layout of the agents table (pk/sk, GSI bySkill on skill + agentId). One partition per agent holds
 * everything about it, so an agent's reads are single-partition and deleting it never touches another.
 *
 * | sk               | what                                                                     |
 * | ---------------- | ------------------------------------------------------------------------ |
 * | RECORD           | the current agent record (registration, status, circuit, health check)   |
 * | SKILL#<skill>    | skill-index entry (GSI bySkill): capabilities and status, for discovery   |
 * | SKILL##all       | catalogue entry (GSI bySkill, skill "#all"): `GET /agents` without a Scan |
 * | REV#<revision>   | every registration ever made (a run pins agentId + revision)             |
 * | DELETED          | tombstone of an unregistered agent (in-flight runs still resolve it)     |
 * | METRICS          | all-time counters and latency histogram (ADD only)                       |
 * | METRICS#<slot>   | counters of one recent-window slot (ADD only, TTL)                        |
 * | LEASES           | concurrency semaphore: leaseId → expiry (epoch ms)                       |
 */
export const agentPk = (agentId: string) => `AGENT#${agentId}`;
export const RECORD_SK = 'RECORD';
export const DELETED_SK = 'DELETED';
export const METRICS_SK = 'METRICS';
export const LEASES_SK = 'LEASES';
export const skillSk = (skill: string) => `SKILL#${skill}`;
export const revisionSk = (revision: number) => `REV#${String(revision).padStart(10, '0')}`;
export const slotSk = (slot: number) => `METRICS#${slot}`;

/** Not a valid skill name (skills start with [a-z0-9]), so it can never collide with a real one. */
export const ALL_AGENTS_SKILL = '#all';
export const SKILL_INDEX = 'bySkill';

/** Names of the env variables the registry and the runtime read. */
export const ENV = {
  agentsTable: 'AGENTS_TABLE',
  eventsTable: 'EVENTS_TABLE',
  idempotencyTable: 'IDEMPOTENCY_TABLE',
  coolDownMs: 'CIRCUIT_COOL_DOWN_MS',
  failureThreshold: 'CIRCUIT_FAILURE_THRESHOLD',
} as const;
