import { AgentplaneError, AgentplaneErrorName } from '../core/workflow/errors';
import type { CapabilityConstraints } from '../core/registry/agent';
import {
  explainNoCandidate,
  nextCandidate,
  selectAgents,
  type Match,
  type Rejection,
  type SelectionItem,
  type SelectionRequest,
} from '../core/registry/selection';
import type { PayloadOf } from '../core/events/schemas';
import type { CandidateChoice } from '../core/runs/fallback';
import { RegistryStore, type CandidateView } from './registry-store';
import { lookup } from '../core/invariants';

/**
 * Selection at run time, for the engine (the gate before each step, the item gate when items fall back). It reads the registry and decides;
 * it stores nothing: emitting AgentSelected and pinning the choice in the run's config.json is the
 * caller's, with the helpers below building both from the result.
 */

/** A step's capability as written in the workflow definition. */
export interface StepCapability {
  skill: string;
  input?: string;
  output?: string;
  constraints?: CapabilityConstraints;
}

/** What a run pins for a step: enough to invoke the agent even if it is unregistered meanwhile. */
interface ChosenAgent {
  agentId: string;
  functionArn: string;
  revision: number;
  version: string;
  score: number;
  /** The agent is on circuit probation: claim the probe (RegistryStore.claimProbe) before calling it. */
  probe: boolean;
  maxConcurrency?: number;
}

export interface StepSelection {
  request: SelectionRequest;
  chosen: ChosenAgent;
  /** Every match, ranked, with score and reasons (what AgentSelected.candidates carries). */
  candidates: Match[];
  rejected: Rejection[];
  /** Why the chosen agent won, for logs and events. */
  reasons: string[];
  /** The agents that were considered, by id (function ARNs of the fallbacks). */
  agents: Map<string, CandidateView>;
}

/** No agent can serve the step; the message names the capability and why each agent was rejected. */
class NoAgentError extends AgentplaneError {
  constructor(
    message: string,
    readonly rejected: Rejection[],
  ) {
    super(AgentplaneErrorName.NoAgent, message);
  }
}

function selectionRequestFor(capability: StepCapability, items: readonly SelectionItem[] = []): SelectionRequest {
  return {
    requiredSkills: [capability.skill],
    ...(capability.input !== undefined ? { inputType: capability.input } : {}),
    ...(capability.output !== undefined ? { outputType: capability.output } : {}),
    ...(capability.constraints !== undefined ? { constraints: capability.constraints } : {}),
    ...(items.length > 0 ? { items } : {}),
  };
}

function chosenOf(match: Match, view: CandidateView): ChosenAgent {
  return {
    agentId: match.agentId,
    functionArn: view.record.functionArn,
    revision: view.record.revision,
    version: view.record.version,
    score: match.score,
    probe: match.probe,
    ...(view.record.maxConcurrency !== undefined ? { maxConcurrency: view.record.maxConcurrency } : {}),
  };
}

let defaultStore: RegistryStore | undefined;

/**
 * Picks the agent for a step: the best ranked match for the capability, checked against the step's
 * items (key and size). Throws NoAgentError (Agentplane.NoAgent) when none fits.
 */
export async function selectForStep(
  capability: StepCapability,
  items: readonly SelectionItem[] = [],
  options: { store?: RegistryStore; now?: number } = {},
): Promise<StepSelection> {
  const store = options.store ?? (defaultStore ??= new RegistryStore({ tableName: process.env.AGENTS_TABLE ?? '' }));
  const now = options.now ?? Date.now();
  const request = selectionRequestFor(capability, items);
  const views = await store.candidates(request.requiredSkills, now);
  const result = selectAgents(request, views, now, { circuit: store.config.circuit });
  const agents = new Map(views.map((v) => [v.id, v]));
  const best = nextCandidate(result.matches, []);
  if (!best) throw new NoAgentError(explainNoCandidate(request, result), result.rejected);
  return { request, chosen: chosenOf(best, lookup(agents, best.agentId)), candidates: result.matches, rejected: result.rejected, reasons: best.reasons, agents };
}

/**
 * The candidate items fall back to (per-item fallback, lambdas/core/runs/fallback.ts): the best ranked
 * match outside `exclude` (the agents they already failed on), with the number of untried candidates left
 * after it. Undefined when none is left.
 */
export function fallbackCandidate(selection: Pick<StepSelection, 'candidates' | 'agents'>, exclude: Iterable<string>): CandidateChoice | undefined {
  const excluded = new Set(exclude);
  const next = nextCandidate(selection.candidates, excluded);
  if (!next) return undefined;
  const view = lookup(selection.agents, next.agentId);
  return {
    agentId: next.agentId,
    functionArn: view.record.functionArn,
    score: next.score,
    alternatives: selection.candidates.filter((m) => m.agentId !== next.agentId && !excluded.has(m.agentId)).length,
    candidates: candidatesOf(selection.candidates),
  };
}

/** The fallback candidate from a fresh look at the registry: health and circuits as they are now. */
export async function chooseFallback(
  capability: StepCapability,
  items: readonly SelectionItem[],
  exclude: readonly string[],
  options: { store?: RegistryStore; now?: number } = {},
): Promise<CandidateChoice | undefined> {
  try {
    return fallbackCandidate(await selectForStep(capability, items, options), exclude);
  } catch (error) {
    if (error instanceof NoAgentError) return undefined;
    throw error;
  }
}

function candidatesOf(matches: readonly Match[]): PayloadOf<'AgentSelected'>['candidates'] {
  return matches.map((m) => ({ agentId: m.agentId, score: m.score, reasons: m.reasons }));
}

/** The AgentSelected payload for a step's selection. */
export function agentSelectedPayload(stepId: string, selection: Pick<StepSelection, 'chosen' | 'candidates'>): PayloadOf<'AgentSelected'> {
  return { stepId, agentId: selection.chosen.agentId, score: selection.chosen.score, candidates: candidatesOf(selection.candidates) };
}

