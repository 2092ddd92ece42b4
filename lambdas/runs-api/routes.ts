import { executionConsoleUrl } from '../core/runs/console-link';
import type { IdempotentRunner as SharedIdempotentRunner } from '../aws/idempotency';
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { json, type ApiResponse, type RouteTable, pathParameter } from '../edge/http/api';
import { ConflictError, NotFoundError, PayloadTooLargeError, ValidationError, type ProblemDetail } from '../core/errors';
import { parseBody, problemsOf } from '../core/validation';
import { requirePrincipal } from '../core/auth/principal';
import { executeCommand, startRun, type CommandDeps } from '../core/runs/commands';
import { CommandSchema, emptySummary, isLiveStep, newRunId, overlaySpend, RUN_STATUSES, summarize, type RunRecord } from '../core/runs/model';
import type { RunSpend } from '../core/runs/spend';
import { inputObjectKey, normaliseInputKey, parseS3Uri, runPrefix, WORKSPACE_AREAS } from '../core/runs/keys';
import { resolveParameters } from '../core/runs/params';
import { type RunStore } from '../aws/run-store';
import { UNLIMITED_SLOTS, agentsOf, liveTally, type ControlRecord } from '../core/runs/control-record';
import type { WorkflowVersion } from '../aws/workflow-store';
import { lookup, present } from '../core/invariants';

/**
 * The runs routes (CONTRACT.md, docs/api.md "Runs"). Starting a run: validate, create the record and the
 * workspace, copy the inputs, then start the execution named after the run. Reads come from the run record,
 * which the engine keeps current; nothing here scans events.
 */

type IdempotentRunner = SharedIdempotentRunner<{ tenant: string; idempotencyKey: string; route: string }>;

interface WorkspacePort {
  createLayout(runId: string, config: unknown): Promise<void>;
  put(key: string, body: string, contentType?: string): Promise<void>;
  copyIn(source: { bucket: string; key: string }, key: string): Promise<void>;
  list(prefix: string, limit?: number): Promise<Array<{ key: string; size: number; lastModified?: string }>>;
  presignPut(key: string, expiresIn: number, contentType?: string): Promise<string>;
  presignGet(key: string, expiresIn: number): Promise<string>;
}

export interface RunsRoutesDeps extends CommandDeps {
  runs: Pick<RunStore, 'create' | 'get' | 'listForTenant'>;
  workflows: { getVersion(tenant: string, workflowId: string, version?: number): Promise<WorkflowVersion | undefined> };
  workspace: WorkspacePort;
  idempotent?: IdempotentRunner;
  retentionDays: number;
  random?: () => string;
  /** Presigned URL lifetimes, seconds. */
  uploadUrlSeconds?: number;
  downloadUrlSeconds?: number;
  /** Link runs to the Step Functions console (`links.console`): deployed to AWS, not in the local cloud. */
  consoleLinks?: boolean;
  /** The run's spend ledger (lambdas/core/runs/spend.ts); absent: the steps' recorded figures. */
  spend?(runId: string): Promise<RunSpend>;
}

const MAX_INPUTS = 1_000;
const MAX_UPLOADS_PER_REQUEST = 100;
/** Inline contents together; larger inputs go through presigned uploads (the body limit is 1 MiB anyway). */
const MAX_INLINE_BYTES = 768 * 1024;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const InputSchema = z.strictObject({
  key: z.string(),
  content: z.string().optional(),
  s3Uri: z.string().max(2048).optional(),
  contentType: z.string().max(255).optional(),
});

const CreateSchema = z.strictObject({
  workflowId: z.string().min(1).max(64),
  version: z.number().int().min(1).optional(),
  parameters: z.unknown().optional(),
  inputs: z.array(InputSchema).max(MAX_INPUTS).optional(),
  priority: z.number().int().min(0).max(9).optional(),
  start: z.boolean().optional(),
  maxConcurrency: z.number().int().min(1).max(1000).optional(),
  retentionDays: z.number().int().min(1).max(3650).optional(),
});

const UploadsSchema = z.strictObject({
  files: z.array(z.strictObject({ key: z.string(), contentType: z.string().max(255).optional() })).min(1).max(MAX_UPLOADS_PER_REQUEST),
});

const ListQuery = z.object({
  status: z.enum(RUN_STATUSES).optional(),
  workflowId: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
});

const WorkspaceQuery = z.object({
  area: z.enum([...WORKSPACE_AREAS, 'all']).default('all'),
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
});

function links(runId: string, consoleUrl?: string): Record<string, string> {
  const self = `/runs/${runId}`;
  return { self, events: `${self}/events`, commands: `${self}/commands`, workspace: `${self}/workspace`, uploads: `${self}/uploads`, ...(consoleUrl ? { console: consoleUrl } : {}) };
}

/**
 * The run as clients see it: status, per-step state, summary (from the step state, live), selected agents.
 * Tokens and cost come from the run's spend ledger (`options.ledger`: every attempt, counted as it is emitted).
 */
export function publicView(run: RunRecord, now: number, control?: ControlRecord, options: { consoleLinks?: boolean; ledger?: RunSpend } = {}): Record<string, unknown> {
  // A running step's counts so far come from the item releases; the reporter's replace them at the step's end.
  const counted: RunRecord['steps'] = {};
  for (const [stepId, step] of Object.entries(run.steps)) {
    const live = isLiveStep(step) ? liveTally(control, stepId) : undefined;
    counted[stepId] = live ? { ...step, succeeded: live.succeeded, failed: live.failed } : step;
  }
  // The releases' tokens and cost are those of results the ledger does not have yet (agents off the runtime).
  const steps = overlaySpend(counted, options.ledger, (stepId, step) => {
    const live = isLiveStep(step) ? liveTally(control, stepId) : undefined;
    return live ? { tokens: live.tokens, costUsd: live.costUsd } : undefined;
  });
  const inFlight = control ? Object.values(control.leases).filter((exp) => exp > now).length : 0;
  return {
    runId: run.runId,
    tenant: run.tenant,
    workflowId: run.workflowId,
    workflowVersion: run.workflowVersion,
    status: run.status,
    priority: run.priority,
    parameters: run.parameters,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    ...(run.startedAt ? { startedAt: run.startedAt } : {}),
    ...(run.endedAt ? { endedAt: run.endedAt } : {}),
    steps,
    summary: run.endedAt ? run.summary : summarize({ ...run, steps }, now),
    inFlight,
    agents: agentsOf(run),
    limits: run.limits,
    inputCount: run.inputCount,
    ...(run.executionArn ? { executionArn: run.executionArn } : {}),
    ...(run.cancel ? { cancel: run.cancel } : {}),
    ...(run.error ? { error: run.error } : {}),
    expiresAt: new Date(run.expiresAt * 1000).toISOString(),
    links: links(run.runId, options.consoleLinks && run.executionArn ? executionConsoleUrl(run.executionArn) : undefined),
  };
}

/** A run in a listing: its summary is final once the run ended, else computed from the steps settled so far. */
function listView(run: RunRecord, now: number): Record<string, unknown> {
  return {
    runId: run.runId,
    workflowId: run.workflowId,
    workflowVersion: run.workflowVersion,
    status: run.status,
    priority: run.priority,
    createdAt: run.createdAt,
    ...(run.startedAt ? { startedAt: run.startedAt } : {}),
    ...(run.endedAt ? { endedAt: run.endedAt } : {}),
    summary: run.endedAt ? run.summary : summarize(run, now),
  };
}

function idempotencyKeyOf(headers: Partial<Record<string, string>>): string | undefined {
  const key = headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) throw new ValidationError('Invalid Idempotency-Key', [{ path: '$.headers.Idempotency-Key', message: '1 to 255 printable ASCII characters' }]);
  return key;
}

export function runsRoutes(deps: RunsRoutesDeps): RouteTable {
  const clock = () => deps.clock();
  const random = deps.random ?? (() => randomBytes(10).toString('hex'));

  const withIdempotency = async (tenant: string, route: string, headers: Partial<Record<string, string>>, body: unknown, run: () => Promise<ApiResponse>) => {
    const key = idempotencyKeyOf(headers);
    if (key === undefined || !deps.idempotent) return run();
    return deps.idempotent({ tenant, idempotencyKey: key, route }, body ?? null, run);
  };

  const createRun = async (tenant: string, body: z.output<typeof CreateSchema>): Promise<ApiResponse> => {
    const problems: ProblemDetail[] = [];
    const inputs: Array<{ key: string; content?: string; source?: { bucket: string; key: string }; contentType?: string }> = [];
    const seen = new Map<string, number>();
    let inlineBytes = 0;
    (body.inputs ?? []).forEach((input, i) => {
      const at = `$.inputs[${i}]`;
      const normalised = normaliseInputKey(input.key, `${at}.key`);
      if ('problem' in normalised) return void problems.push(normalised.problem);
      const previous = seen.get(normalised.key);
      if (previous !== undefined) return void problems.push({ path: `${at}.key`, code: 'key.duplicate', message: `same key as $.inputs[${previous}] once normalised: ${normalised.key}` });
      seen.set(normalised.key, i);
      if ((input.content === undefined) === (input.s3Uri === undefined)) {
        return void problems.push({ path: at, code: 'input.source', message: 'give exactly one of content and s3Uri' });
      }
      if (input.s3Uri === undefined) {
        const content = present(input.content, 'the input\'s content');
        inlineBytes += Buffer.byteLength(content);
        inputs.push({ key: normalised.key, content, ...(input.contentType ? { contentType: input.contentType } : {}) });
        return;
      }
      const source = parseS3Uri(input.s3Uri);
      if (!source) return void problems.push({ path: `${at}.s3Uri`, code: 's3Uri.invalid', message: 'expected s3://bucket/key' });
      // The workspace bucket holds every tenant's runs: an input may be copied from it only from the runs/ area,
      // and only from a run of the same tenant (checked below).
      if (source.bucket === deps.bucket && !/^runs\/[^/]+\/[^/]/.test(source.key)) {
        return void problems.push({ path: `${at}.s3Uri`, code: 's3Uri.forbidden', message: 'only objects of your own runs may be copied from the workspace bucket' });
      }
      inputs.push({ key: normalised.key, source });
    });
    if (inlineBytes > MAX_INLINE_BYTES) throw new PayloadTooLargeError(`Inline input contents total ${inlineBytes} bytes; at most ${MAX_INLINE_BYTES} (use start: false and POST /runs/{id}/uploads)`);

    const workflow = await deps.workflows.getVersion(tenant, body.workflowId, body.version);
    if (!workflow) {
      throw new NotFoundError(body.version ? `No version ${body.version} of workflow '${body.workflowId}'` : `No workflow '${body.workflowId}'`, {
        problems: [{ path: body.version ? '$.version' : '$.workflowId', code: 'workflow.unknown', message: 'no such workflow (or version) for this tenant' }],
      });
    }
    const resolved = resolveParameters(workflow.definition.parameters, body.parameters);
    problems.push(...resolved.problems);
    for (const input of inputs) {
      if (!input.source || input.source.bucket !== deps.bucket) continue;
      const sourceRunId = input.source.key.split('/')[1];
      const owner = await deps.runs.get(sourceRunId);
      if (!owner || owner.tenant !== tenant) {
        const i = lookup(seen, input.key);
        problems.push({ path: `$.inputs[${i}].s3Uri`, code: 's3Uri.forbidden', message: 'only objects of your own runs may be copied from the workspace bucket' });
      }
    }
    if (problems.length > 0) throw new ValidationError('Invalid run request', problems);

    const now = clock();
    const runId = newRunId(now, random);
    const createdAt = new Date(now).toISOString();
    const start = body.start ?? true;
    const aslSha256 = createHash('sha256').update(JSON.stringify(workflow.asl)).digest('hex');
    const limits = { maxConcurrency: body.maxConcurrency ?? 0 };
    const retentionDays = body.retentionDays ?? deps.retentionDays;
    const run: RunRecord = {
      runId,
      tenant,
      workflowId: workflow.workflowId,
      workflowVersion: workflow.version,
      stateMachineArn: workflow.stateMachineArn,
      stateMachineVersionArn: workflow.stateMachineVersionArn,
      aslSha256,
      status: 'QUEUED',
      priority: body.priority ?? 5,
      parameters: resolved.parameters,
      createdAt,
      updatedAt: createdAt,
      epoch: 0,
      steps: {},
      summary: emptySummary(),
      agents: {},
      limits,
      inputCount: inputs.length,
      expiresAt: Math.floor(now / 1000) + retentionDays * 86_400,
    };
    // The workspace first: a run record never names a workspace that is not there.
    await deps.workspace.createLayout(runId, {
      runId,
      workflowId: run.workflowId,
      workflowVersion: run.workflowVersion,
      stateMachineVersionArn: run.stateMachineVersionArn,
      aslSha256,
      parameters: run.parameters,
      limits: { ...limits, retentionDays },
      priority: run.priority,
      agents: {},
      createdAt,
    });
    await Promise.all(
      inputs.map((input) =>
        input.content !== undefined
          ? deps.workspace.put(inputObjectKey(runId, input.key), input.content, input.contentType ?? 'application/octet-stream')
          : deps.workspace.copyIn(present(input.source, 'input.source'), inputObjectKey(runId, input.key)).catch((error: unknown) => {
              const i = lookup(seen, input.key);
              throw new ValidationError('An input could not be copied', [{ path: `$.inputs[${i}].s3Uri`, code: 's3Uri.unreadable', message: `${(error as Error).name}: ${(error as Error).message}` }]);
            }),
      ),
    );
    await deps.runs.create(run, limits.maxConcurrency > 0 ? limits.maxConcurrency : UNLIMITED_SLOTS);
    await deps.events.emit(runId, 'RunQueued', { workflowId: run.workflowId, version: run.workflowVersion, priority: run.priority });
    let status: string = run.status;
    if (start) status = (await startRun(deps, run)).status;
    return json(202, {
      runId,
      status,
      workflowId: run.workflowId,
      workflowVersion: run.workflowVersion,
      links: links(runId),
      ...(start ? {} : { next: `POST /runs/${runId}/uploads for large inputs, then POST /runs/${runId}/commands {"type":"start"}` }),
    });
  };

  return {
    'POST /runs': async (request) => {
      const principal = requirePrincipal(request.principal);
      const body = parseBody(CreateSchema, request.body);
      return withIdempotency(principal.tenant, 'POST /runs', request.headers, request.body, () => createRun(principal.tenant, body));
    },

    'GET /runs': async (request) => {
      const principal = requirePrincipal(request.principal);
      const parsed = ListQuery.safeParse(request.query);
      if (!parsed.success) throw new ValidationError('Invalid query parameters', problemsOf(parsed.error).map((p) => ({ ...p, path: p.path.replace('$', '$.query') })));
      const { runs, cursor } = await deps.runs.listForTenant(principal.tenant, {
        limit: parsed.data.limit,
        ...(parsed.data.cursor ? { cursor: parsed.data.cursor } : {}),
        ...(parsed.data.status ? { status: parsed.data.status } : {}),
        ...(parsed.data.workflowId ? { workflowId: parsed.data.workflowId } : {}),
      });
      const now = clock();
      return json(200, { runs: runs.map((run) => listView(run, now)), cursor: cursor ?? null });
    },

    'GET /runs/{id}': async (request) => {
      const principal = requirePrincipal(request.principal);
      const run = await getOwned(deps, pathParameter(request, 'id'), principal.tenant);
      const [control, ledger] = await Promise.all([deps.store.control(run.runId), deps.spend?.(run.runId)]);
      return json(200, publicView(run, clock(), control, { consoleLinks: deps.consoleLinks ?? false, ...(ledger ? { ledger } : {}) }));
    },

    'POST /runs/{id}/uploads': async (request) => {
      const principal = requirePrincipal(request.principal);
      const body = parseBody(UploadsSchema, request.body);
      const run = await getOwned(deps, pathParameter(request, 'id'), principal.tenant);
      if (run.status !== 'QUEUED') {
        throw new ConflictError(`Run ${run.runId} is ${run.status}; uploads are for runs created with start: false, before start`);
      }
      const problems: ProblemDetail[] = [];
      const keys: Array<{ key: string; contentType?: string }> = [];
      body.files.forEach((file, i) => {
        const normalised = normaliseInputKey(file.key, `$.files[${i}].key`);
        if ('problem' in normalised) problems.push(normalised.problem);
        else keys.push({ key: normalised.key, ...(file.contentType ? { contentType: file.contentType } : {}) });
      });
      if (problems.length > 0) throw new ValidationError('Invalid upload request', problems);
      const expiresIn = deps.uploadUrlSeconds ?? 900;
      const expiresAt = new Date(clock() + expiresIn * 1000).toISOString();
      const uploads = await Promise.all(
        keys.map(async ({ key, contentType }) => ({
          key: `inputs/${key}`,
          method: 'PUT',
          url: await deps.workspace.presignPut(inputObjectKey(run.runId, key), expiresIn, contentType),
          headers: contentType ? { 'content-type': contentType } : {},
          expiresAt,
        })),
      );
      return json(200, { runId: run.runId, uploads, start: `POST /runs/${run.runId}/commands {"type":"start"}` });
    },

    'POST /runs/{id}/commands': async (request) => {
      const principal = requirePrincipal(request.principal);
      const command = parseBody(CommandSchema, request.body);
      const runId = pathParameter(request, 'id');
      return withIdempotency(principal.tenant, `POST /runs/${runId}/commands`, request.headers, request.body, async () =>
        json(202, await executeCommand(deps, principal.tenant, runId, command)),
      );
    },

    'GET /runs/{id}/workspace': async (request) => {
      const principal = requirePrincipal(request.principal);
      const parsed = WorkspaceQuery.safeParse(request.query);
      if (!parsed.success) throw new ValidationError('Invalid query parameters', problemsOf(parsed.error).map((p) => ({ ...p, path: p.path.replace('$', '$.query') })));
      const run = await getOwned(deps, pathParameter(request, 'id'), principal.tenant);
      const prefix = parsed.data.area === 'all' ? runPrefix(run.runId) : `${runPrefix(run.runId)}${parsed.data.area}/`;
      const objects = await deps.workspace.list(prefix, parsed.data.limit);
      const expiresIn = deps.downloadUrlSeconds ?? 900;
      return json(200, {
        runId: run.runId,
        area: parsed.data.area,
        objects: await Promise.all(
          objects.map(async (o) => ({
            key: o.key.slice(runPrefix(run.runId).length),
            size: o.size,
            ...(o.lastModified ? { lastModified: o.lastModified } : {}),
            url: await deps.workspace.presignGet(o.key, expiresIn),
          })),
        ),
        expiresAt: new Date(clock() + expiresIn * 1000).toISOString(),
      });
    },
  };
}

async function getOwned(deps: RunsRoutesDeps, runId: string, tenant: string): Promise<RunRecord> {
  const run = await deps.runs.get(runId);
  if (!run || run.tenant !== tenant) throw new NotFoundError(`Run ${runId} not found`);
  return run;
}
