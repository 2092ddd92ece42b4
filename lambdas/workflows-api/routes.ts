import type { IdempotentRunner as SharedIdempotentRunner } from '../aws/idempotency';
import { z } from 'zod';
import { json, type ApiResponse, type RouteTable } from '../edge/http/api';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors';
import { parseBody } from '../core/validation';
import { requirePrincipal } from '../core/auth/principal';
import { WORKFLOW_ID_PATTERN, WORKFLOW_LIMITS } from '../core/workflow/schema';
import { InvalidCursorError, VersionConflictError, type WorkflowStore } from '../aws/workflow-store';
import type { CompileOptions } from '../core/workflow/compile';
import { prepareWorkflow, skillsIn, stateMachineName, unwrapBody, type Prepared } from './registration';
import { DefinitionRejectedError, type StateMachines } from './state-machines';
import { present } from '../core/invariants';

/**
 * The workflow routes. Registration validates and compiles (pure), creates or updates the workflow's
 * state machine with a published version, then stores the version; a failure before the store leaves at
 * most an unreferenced state machine version, never a stored version without its machine.
 */

export interface KnownSkills {
  /** The subset of `skills` that at least one registered agent serves. */
  known(skills: readonly string[]): Promise<Set<string>>;
}

/** Wraps the registration so a retry with the same Idempotency-Key answers the first answer. */
type IdempotentRunner = SharedIdempotentRunner<{ tenant: string; idempotencyKey: string }>;

export interface WorkflowRoutesDeps {
  store: WorkflowStore;
  stateMachines: StateMachines;
  skills: KnownSkills;
  functions: CompileOptions['functions'];
  workspaceBucket?: string;
  idempotent?: IdempotentRunner;
  /** This deployment's state machine name prefix and name (lib/deployment.ts); defaults: `agentplane-`, unnamed. */
  deployment?: { stateMachinePrefix?: string; name?: string };
}

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(2048).optional(),
});

const GetQuery = z.object({ version: z.coerce.number().int().min(1).optional() });

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function workflowIdOf(params: Partial<Record<string, string>>): string {
  const id = params.id ?? '';
  // An id that cannot exist is simply not found.
  if (id.length > WORKFLOW_LIMITS.workflowIdMaxLength || !WORKFLOW_ID_PATTERN.test(id)) throw new NotFoundError(`No workflow '${id}'`);
  return id;
}

function problems(list: Prepared['errors']) {
  return list.map((p) => ({ path: p.path, code: p.code, message: p.message }));
}

/** Tags that make a run's machine findable in the Step Functions console (and in cost allocation reports). */
function stateMachineTags(tenant: string, workflowId: string, deployment: string | undefined): Record<string, string> {
  return { 'agentplane:tenant': tenant, 'agentplane:workflow': workflowId, 'agentplane:deployment': deployment ?? 'default' };
}

export function workflowRoutes(deps: WorkflowRoutesDeps): RouteTable {
  const prepare = async (definition: unknown, strict: boolean): Promise<Prepared> => {
    const knownSkills = await deps.skills.known(skillsIn(definition));
    return prepareWorkflow(definition, {
      strict,
      knownSkills,
      functions: deps.functions,
      ...(deps.workspaceBucket ? { workspaceBucket: deps.workspaceBucket } : {}),
    });
  };

  const register = async (tenant: string, definitionInput: unknown, strict: boolean): Promise<ApiResponse> => {
    const prepared = await prepare(definitionInput, strict);
    if (!prepared.valid) {
      const count = prepared.errors.length;
      throw new ValidationError(`The workflow definition has ${count} problem${count === 1 ? '' : 's'}`, problems(prepared.errors));
    }
    const definition = present(prepared.definition, 'prepared.definition');
    let deployment;
    try {
      deployment = await deps.stateMachines.deploy({
        name: stateMachineName(tenant, definition.id, deps.deployment?.stateMachinePrefix),
        definition: present(prepared.aslJson, 'prepared.aslJson'),
        tags: stateMachineTags(tenant, definition.id, deps.deployment?.name),
        description: `${definition.id}: ${definition.description ?? ''}`.trim(),
        exists: (await deps.store.latestVersion(tenant, definition.id)) > 0,
      });
    } catch (error) {
      if (error instanceof DefinitionRejectedError) throw new ValidationError(error.message, [{ path: '$', code: 'definition.rejected', message: error.message }]);
      throw error;
    }
    try {
      const stored = await deps.store.addVersion({
        tenant,
        workflowId: definition.id,
        definition,
        aslJson: present(prepared.aslJson, 'prepared.aslJson'),
        stateMachineArn: deployment.stateMachineArn,
        stateMachineVersionArn: deployment.stateMachineVersionArn,
        report: present(prepared.report, 'prepared.report'),
        warnings: problems(prepared.warnings),
      });
      return json(201, {
        id: stored.workflowId,
        version: stored.version,
        stateMachineArn: stored.stateMachineArn,
        stateMachineVersionArn: stored.stateMachineVersionArn,
        warnings: stored.warnings,
      });
    } catch (error) {
      if (error instanceof VersionConflictError) throw new ConflictError(error.message);
      throw error;
    }
  };

  return {
    'POST /workflows': async (req) => {
      const { tenant } = requirePrincipal(req.principal);
      if (req.body === undefined) throw new ValidationError('Missing workflow definition', [{ path: '$', message: 'A JSON body is required' }]);
      const { definition, strict } = unwrapBody(req.body, req.query);
      const idempotencyKey = req.headers['idempotency-key'];
      if (idempotencyKey === undefined || !deps.idempotent) return register(tenant, definition, strict);
      if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
        throw new ValidationError('Invalid Idempotency-Key', [{ path: 'headers.Idempotency-Key', message: '1 to 255 printable ASCII characters' }]);
      }
      return deps.idempotent({ tenant, idempotencyKey }, { body: req.body, strict }, () => register(tenant, definition, strict));
    },

    'POST /workflows/validate': async (req) => {
      requirePrincipal(req.principal);
      if (req.body === undefined) throw new ValidationError('Missing workflow definition', [{ path: '$', message: 'A JSON body is required' }]);
      const { definition, strict } = unwrapBody(req.body, req.query);
      const prepared = await prepare(definition, strict);
      return json(200, {
        valid: prepared.valid,
        errors: problems(prepared.errors),
        warnings: problems(prepared.warnings),
        ...(prepared.report ? { report: prepared.report } : {}),
        ...(prepared.asl ? { asl: prepared.asl } : {}),
      });
    },

    'GET /workflows': async (req) => {
      const { tenant } = requirePrincipal(req.principal);
      const query = parseBody(ListQuery, req.query, 'query string');
      try {
        const page = await deps.store.list(tenant, { ...(query.limit ? { limit: query.limit } : {}), ...(query.cursor ? { cursor: query.cursor } : {}) });
        return json(200, page);
      } catch (error) {
        if (error instanceof InvalidCursorError) throw new ValidationError('Invalid cursor', [{ path: 'query.cursor', message: error.message }]);
        throw error;
      }
    },

    'GET /workflows/{id}': async (req) => {
      const { tenant } = requirePrincipal(req.principal);
      const id = workflowIdOf(req.pathParameters);
      const query = parseBody(GetQuery, req.query, 'query string');
      const found = await deps.store.getVersion(tenant, id, query.version);
      if (!found) {
        throw new NotFoundError(query.version !== undefined ? `No version ${query.version} of workflow '${id}'` : `No workflow '${id}'`);
      }
      const versions = await deps.store.listVersions(tenant, id);
      return json(200, {
        id,
        version: found.version,
        latestVersion: versions.at(-1)?.version ?? found.version,
        versions,
        stateMachineArn: found.stateMachineArn,
        stateMachineVersionArn: found.stateMachineVersionArn,
        createdAt: found.createdAt,
        definition: found.definition,
        asl: found.asl,
        report: found.report,
        warnings: found.warnings,
      });
    },
  };
}
