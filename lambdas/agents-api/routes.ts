import { z } from 'zod';
import { json, type RouteTable } from '../edge/http/api';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors';
import { parseBody } from '../core/validation';
import { requireAdmin, requirePrincipal } from '../core/auth/principal';
import { AgentIdSchema, CapabilityConstraintsSchema, parseAgentRegistration, SkillSchema } from '../core/registry/agent';
import { selectAgents } from '../core/registry/selection';
import { RegistryConflictError, summaryOf, type RegistryStore, type StoredAgent } from '../aws/registry-store';
import { lookup } from '../core/invariants';

/**
 * The registry routes. The registry is shared by every tenant: any token may read it (list, get,
 * discover, health, metrics), only an admin token may change it (register, unregister), because a
 * registration makes the control plane invoke the given Lambda for everyone's runs.
 */

const DiscoverRequest = z.strictObject({
  requiredSkills: z.array(SkillSchema).min(1).max(20),
  inputType: z.string().min(1).max(64).optional(),
  outputType: z.string().min(1).max(64).optional(),
  constraints: CapabilityConstraintsSchema.optional(),
  items: z.array(z.strictObject({ key: z.string().min(1).max(1024), size: z.number().int().nonnegative() })).max(10_000).optional(),
  /** Matches returned at most (the ranking is over all of them). */
  limit: z.number().int().min(1).max(1000).optional(),
});

const ListQuery = z.object({
  skill: SkillSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: z.string().max(2048).optional(),
});

function agentIdOf(params: Partial<Record<string, string>>): string {
  const parsed = AgentIdSchema.safeParse(params.id);
  // An id that cannot exist is simply not found (no hint about the id syntax needed here).
  if (!parsed.success) throw new NotFoundError(`No agent '${params.id ?? ''}'`);
  return parsed.data;
}

function agentBody(agent: StoredAgent) {
  const { health: _stored, healthAt: _at, ...rest } = agent;
  return rest;
}

export function agentRoutes(store: RegistryStore, clock: () => number = Date.now): RouteTable {
  return {
    'POST /agents': async (req) => {
      const admin = requireAdmin(req.principal);
      if (req.body === undefined) throw new ValidationError('Missing agent registration', [{ path: '$', message: 'A JSON body is required' }]);
      const parsed = parseAgentRegistration(req.body);
      if (!parsed.ok) throw new ValidationError('Invalid agent registration', parsed.issues);
      try {
        const { agent, created, changed } = await store.register(parsed.registration, { registeredBy: admin.tenant });
        return json(changed ? 201 : 200, { agent: agentBody(agent), created, changed });
      } catch (error) {
        if (error instanceof RegistryConflictError) throw new ConflictError(error.message);
        throw error;
      }
    },

    'GET /agents': async (req) => {
      requirePrincipal(req.principal);
      const query = parseBody(ListQuery, req.query, 'query string');
      const page = await store.list({ ...(query.skill ? { skill: query.skill } : {}), ...(query.limit ? { limit: query.limit } : {}), ...(query.cursor ? { cursor: query.cursor } : {}) });
      return json(200, page.cursor ? { agents: page.agents, cursor: page.cursor } : { agents: page.agents });
    },

    'GET /agents/{id}': async (req) => {
      requirePrincipal(req.principal);
      const id = agentIdOf(req.pathParameters);
      const now = clock();
      const state = lookup(await store.loadStates([id], now), id);
      if (!state.record) throw new NotFoundError(`No agent '${id}'`);
      return json(200, { agent: { ...agentBody(state.record), skills: summaryOf(state.record).skills, health: store.healthOf(state, now) } });
    },

    'DELETE /agents/{id}': async (req) => {
      requireAdmin(req.principal);
      const id = agentIdOf(req.pathParameters);
      try {
        if (!(await store.unregister(id))) throw new NotFoundError(`No agent '${id}'`);
      } catch (error) {
        if (error instanceof RegistryConflictError) throw new ConflictError(error.message);
        throw error;
      }
      return json(204);
    },

    'POST /agents/discover': async (req) => {
      requirePrincipal(req.principal);
      const body = parseBody(DiscoverRequest, req.body, 'discovery request');
      const now = clock();
      const views = await store.candidates(body.requiredSkills, now);
      const { requiredSkills, inputType, outputType, constraints, items } = body;
      const result = selectAgents(
        { requiredSkills, ...(inputType ? { inputType } : {}), ...(outputType ? { outputType } : {}), ...(constraints ? { constraints } : {}), ...(items ? { items } : {}) },
        views,
        now,
        { circuit: store.config.circuit },
      );
      const matches = body.limit ? result.matches.slice(0, body.limit) : result.matches;
      return json(200, { matches, rejected: result.rejected, considered: views.length });
    },

    'GET /agents/{id}/health': async (req) => {
      requirePrincipal(req.principal);
      const id = agentIdOf(req.pathParameters);
      const report = await store.health(id);
      if (!report) throw new NotFoundError(`No agent '${id}'`);
      return json(200, report);
    },

    'GET /agents/{id}/metrics': async (req) => {
      requirePrincipal(req.principal);
      const id = agentIdOf(req.pathParameters);
      const metrics = await store.metrics(id);
      if (!metrics) throw new NotFoundError(`No agent '${id}'`);
      return json(200, metrics);
    },
  };
}
