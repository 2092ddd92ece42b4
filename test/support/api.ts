/**
 * The bodies of the public API as the cloud tests read them: `http<T>` (target.ts) takes one of these, so a test
 * reads typed fields instead of `any`. They follow what the handlers answer (lambdas/runs-api, agents-api,
 * workflows-api, admin-api) and reuse the product's own types where it exports them. A test that expects an
 * error answer reads it with `apiError`, whatever body type the call was given.
 */
import type { ProblemDetail } from '../../lambdas/core/errors';
import type { EventEnvelope, EventEnvelopeOf, EventName } from '../../lambdas/core/events/schemas';
import type { RunRecord } from '../../lambdas/core/runs/model';
import type { AgentHealthReport, AgentMetrics, AgentSummary } from '../../lambdas/aws/registry-store';
import type { Match, Rejection } from '../../lambdas/core/registry/selection';

/** An error answer (lambdas/edge/http/api.ts): validation errors name each problem in `details.problems`. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: { problems: ProblemDetail[] } };
}

/** The `error` of an answer the test expects to be an error; a body without one fails as reading `.error` did. */
export function apiError(res: { body: unknown }): ApiErrorBody['error'] {
  return (res.body as ApiErrorBody).error;
}

/** The problems of a validation error answer (400), each with its JSON path. */
export function apiProblems(res: { body: unknown }): ProblemDetail[] {
  return apiError(res).details!.problems;
}

/** `GET /runs/{id}` (runs-api publicView): the run record's public fields, the items in flight and its links. */
export interface RunBody
  extends Pick<
    RunRecord,
    | 'runId'
    | 'tenant'
    | 'workflowId'
    | 'workflowVersion'
    | 'status'
    | 'priority'
    | 'parameters'
    | 'createdAt'
    | 'updatedAt'
    | 'startedAt'
    | 'endedAt'
    | 'steps'
    | 'summary'
    | 'agents'
    | 'limits'
    | 'inputCount'
    | 'executionArn'
    | 'cancel'
    | 'error'
  > {
  inFlight: number;
  expiresAt: string;
  links: Record<string, string>;
}

/** `POST /runs` (202). */
export interface RunCreatedBody {
  runId: string;
  status: string;
  workflowId: string;
  workflowVersion: number;
  links: Record<string, string>;
  next?: string;
}

/** `GET /runs`: each run's list view. */
export interface RunListBody {
  runs: Array<Pick<RunRecord, 'runId' | 'workflowId' | 'workflowVersion' | 'status' | 'priority' | 'createdAt' | 'startedAt' | 'endedAt' | 'summary'>>;
  cursor: string | null;
}

/** `POST /runs/{id}/commands` (202): the run's status after the command, and what the command reports. */
export interface CommandBody {
  runId: string;
  status: string;
  maxConcurrency?: number;
  inFlight?: number;
}

/** `POST /runs/{id}/uploads`: a presigned PUT per file. */
export interface UploadsBody {
  runId: string;
  uploads: Array<{ key: string; url: string; headers: Record<string, string> }>;
}

/** `GET /runs/{id}/workspace`. */
export interface WorkspaceBody {
  objects: Array<{ key: string; size: number; url: string }>;
}

/** `GET /runs/{id}/events`: a page of the event log. */
export interface EventsPageBody {
  events: EventEnvelope[];
  nextAfterSeq: number;
  firstAvailableSeq?: number;
}

/** Narrows an event of the log to the one named `name`, so its payload has that event's fields. */
export const isEvent =
  <E extends EventName>(name: E) =>
  (e: EventEnvelope): e is EventEnvelopeOf<E> =>
    e.event === name;

/** `POST /tokens` (201): the token, shown once. */
export interface TokenBody {
  token: string;
  tenant: string;
  admin: boolean;
  tokenId: string;
  name?: string;
}

/** `POST /workflows` (201). */
export interface WorkflowCreatedBody {
  id: string;
  version: number;
  stateMachineArn: string;
  stateMachineVersionArn: string;
  warnings: ProblemDetail[];
}

/** `GET /workflows/{id}`: the version asked for (the latest by default), its compiled machine and report. */
export interface WorkflowBody extends WorkflowCreatedBody {
  latestVersion: number;
  versions: Array<{ version: number }>;
  createdAt: string;
  definition: { steps: unknown[] } & Record<string, unknown>;
  asl: { StartAt: string; States: Record<string, unknown> };
  report: Record<string, unknown> & { definitionBytes: number };
}

/** `POST /workflows/validate`. */
export interface WorkflowValidationBody {
  valid: boolean;
  errors: ProblemDetail[];
  warnings: ProblemDetail[];
  report?: Record<string, unknown>;
  asl?: { StartAt: string; States: Record<string, unknown> };
}

/** `GET /workflows`. */
export interface WorkflowListBody {
  workflows: Array<{ id: string }>;
  cursor?: string;
}

/** `POST /agents` and `GET /agents/{id}`: the agent (the registration plus what the registry keeps). */
export interface AgentBody {
  agent: AgentSummary & { health?: { status: string } };
  created?: boolean;
  changed?: boolean;
}

/** `GET /agents`. */
export interface AgentListBody {
  agents: AgentSummary[];
  cursor?: string;
}

/** `POST /agents/discover`. */
export interface DiscoverBody {
  matches: Match[];
  rejected: Rejection[];
  considered: number;
}

/** `GET /agents/{id}/health` (registry-store AgentHealthReport, its Health union read as one shape). */
export interface HealthBody {
  agentId: string;
  status: 'Healthy' | 'Degraded' | 'Unhealthy';
  reason?: string;
  error?: string;
  circuit: AgentHealthReport['circuit'];
}

/** `GET /agents/{id}/metrics`. */
export type MetricsBody = AgentMetrics;
