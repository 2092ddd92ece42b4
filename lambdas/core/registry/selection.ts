import { ANY_TYPE, type AgentStatus, type Capability, type CapabilityConstraints, DEFAULT_PRIORITY } from './agent';
import { type CircuitConfig, type CircuitState, DEFAULT_CIRCUIT_CONFIG, admit } from './circuit';
import type { Health, HealthStatus } from './health';
import { present } from '../invariants';

/**
 * Capability routing: which agents can serve a step, ranked, with the reasons for every candidate.
 * Pure and deterministic: the same request, agents and clock give the same answer, ties broken by id.
 *
 * Filters: the skill, input/output types ("*" or absent accepts any), the capability's constraints
 * checked against the step's items, the step's own constraint requirements, status, health and circuit.
 * Ranking: score = 0.4·priority + 0.35·success rate + 0.15·latency + 0.1·type fit, in [0, 1];
 * ×0.8 when Degraded, ×0.5 for a circuit probe, so a probing agent ranks behind healthy peers of equal
 * standing and is tried when they fail or when the caller sends it its probe on purpose.
 */

interface AgentStats {
  invocations: number;
  successes: number;
  failures: number;
  p50Ms?: number | null;
  p95Ms?: number | null;
}

/** What selection needs to know about an agent (the stored record plus its metrics). */
export interface AgentView {
  id: string;
  status?: AgentStatus;
  capabilities: readonly Capability[];
  /** Health assessed at read time (health.ts); absent counts as Healthy. */
  health?: Health;
  circuit?: CircuitState;
  /** Counters of the recent window; preferred over allTime when it has invocations. */
  recent?: AgentStats;
  allTime?: AgentStats;
}

export interface SelectionItem {
  key: string;
  size: number;
}

export interface SelectionRequest {
  requiredSkills: readonly string[];
  inputType?: string;
  outputType?: string;
  /** Requirements of the step: e.g. maxFileSizeBytes = the agent must accept files at least that large. */
  constraints?: CapabilityConstraints;
  items?: readonly SelectionItem[];
}

export interface Match {
  agentId: string;
  score: number;
  matched: string[];
  reasons: string[];
  health: HealthStatus;
  /** The circuit lets exactly one trial call through (claim it with circuit.beginProbe before calling). */
  probe: boolean;
}

export interface Rejection {
  agentId: string;
  reasons: string[];
}

export interface SelectionResult {
  matches: Match[];
  rejected: Rejection[];
}

export interface SelectionOptions {
  circuit?: CircuitConfig;
}

const WEIGHTS = { priority: 0.4, successRate: 0.35, latency: 0.15, typeFit: 0.1 } as const;
const DEGRADED_FACTOR = 0.8;
const PROBE_FACTOR = 0.5;
/** Prior for the success rate: an agent with no history counts as 9 successes out of 10. */
const PRIOR_SUCCESS_RATE = 0.9;
const PRIOR_WEIGHT = 10;
/** p95 at which the latency score is 0.5. LLM agents take seconds, so 10 s is a middling agent. */
const LATENCY_REFERENCE_MS = 10_000;
const NEUTRAL_LATENCY_SCORE = 0.5;

/** Item facts computed once per request, so checking a capability costs the same for 1 or 10,000 items. */
interface ItemFacts {
  count: number;
  totalBytes: number;
  sizesAscending: number[];
  largest: SelectionItem | undefined;
  /** Extension (lowercase, with dot, "" when none) → number of items and one example key. */
  extensions: Map<string, { count: number; example: string }>;
}

function extensionOf(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot).toLowerCase();
}

function normalizeExtension(ext: string): string {
  const lower = ext.toLowerCase();
  return lower.startsWith('.') ? lower : `.${lower}`;
}

/*
 * Per-capability facts that do not depend on the request, memoized on the capability object: selection
 * runs over thousands of agents per call, and rebuilding these strings and sets each time made garbage
 * collection the largest cost (bench/registry-bench.ts).
 */
const acceptedExtensionsCache = new WeakMap<Capability, ReadonlySet<string>>();
const labelCache = new WeakMap<Capability, string>();
const termsCache = new WeakMap<Capability, readonly string[][]>();

function acceptedExtensions(capability: Capability): ReadonlySet<string> {
  let accepted = acceptedExtensionsCache.get(capability);
  if (!accepted) {
    accepted = new Set((capability.constraints?.fileExtensions ?? []).map(normalizeExtension));
    acceptedExtensionsCache.set(capability, accepted);
  }
  return accepted;
}

function capabilityLabel(capability: Capability): string {
  let label = labelCache.get(capability);
  if (label === undefined) {
    label = `serves ${describeCapability(capability)} at priority ${priorityOf(capability)}`;
    labelCache.set(capability, label);
  }
  return label;
}

/** matched[] of one capability, in its four variants: with or without the input and output terms. */
function capabilityTerms(capability: Capability, withInput: boolean, withOutput: boolean): readonly string[] {
  let variants = termsCache.get(capability);
  if (!variants) {
    const base = [`skill:${capability.skill}`];
    const constraints = Object.keys(capability.constraints ?? {}).sort().map((name) => `constraint:${name}`);
    const input = `input:${capability.input ?? ANY_TYPE}`;
    const output = `output:${capability.output ?? ANY_TYPE}`;
    variants = [
      [...base, ...constraints],
      [...base, input, ...constraints],
      [...base, output, ...constraints],
      [...base, input, output, ...constraints],
    ];
    termsCache.set(capability, variants);
  }
  return variants[(withInput ? 1 : 0) + (withOutput ? 2 : 0)];
}

function itemFacts(items: readonly SelectionItem[] | undefined): ItemFacts | undefined {
  if (!items || items.length === 0) return undefined;
  const extensions = new Map<string, { count: number; example: string }>();
  let totalBytes = 0;
  let largest: SelectionItem | undefined;
  for (const item of items) {
    totalBytes += item.size;
    if (!largest || item.size > largest.size) largest = item;
    const ext = extensionOf(item.key);
    const entry = extensions.get(ext);
    if (entry) entry.count++;
    else extensions.set(ext, { count: 1, example: item.key });
  }
  const sizesAscending = items.map((item) => item.size).sort((a, b) => a - b);
  return { count: items.length, totalBytes, sizesAscending, largest, extensions };
}

/** Number of sizes strictly greater than limit. */
function countAbove(sizesAscending: number[], limit: number): number {
  let lo = 0;
  let hi = sizesAscending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sizesAscending[mid] <= limit) lo = mid + 1;
    else hi = mid;
  }
  return sizesAscending.length - lo;
}

function typeProblem(kind: 'input' | 'output', declared: string | undefined, wanted: string | undefined): string | undefined {
  if (wanted === undefined || declared === undefined || declared === ANY_TYPE || declared === wanted) return undefined;
  return `${kind} type '${declared}' is not the requested '${wanted}'`;
}

function capabilityProblems(capability: Capability, request: SelectionRequest, facts: ItemFacts | undefined): string[] {
  const problems: string[] = [];
  const input = typeProblem('input', capability.input, request.inputType);
  if (input) problems.push(input);
  const output = typeProblem('output', capability.output, request.outputType);
  if (output) problems.push(output);

  const offered = capability.constraints ?? {};
  const required = request.constraints ?? {};
  if (required.maxFileSizeBytes !== undefined && offered.maxFileSizeBytes !== undefined && offered.maxFileSizeBytes < required.maxFileSizeBytes) {
    problems.push(`accepts files up to ${offered.maxFileSizeBytes} bytes, the step needs ${required.maxFileSizeBytes}`);
  }
  if (required.maxTotalBytes !== undefined && offered.maxTotalBytes !== undefined && offered.maxTotalBytes < required.maxTotalBytes) {
    problems.push(`accepts up to ${offered.maxTotalBytes} bytes in total, the step needs ${required.maxTotalBytes}`);
  }
  if (required.fileExtensions && offered.fileExtensions) {
    const accepted = acceptedExtensions(capability);
    const missing = required.fileExtensions.map(normalizeExtension).filter((ext) => !accepted.has(ext));
    if (missing.length > 0) problems.push(`does not accept ${missing.join(', ')} files`);
  }

  if (facts) {
    if (offered.maxFileSizeBytes !== undefined) {
      const over = countAbove(facts.sizesAscending, offered.maxFileSizeBytes);
      if (over > 0) {
        const largest = present(facts.largest, 'the largest item');
        problems.push(
          `${over} of ${facts.count} items exceed maxFileSizeBytes ${offered.maxFileSizeBytes} (largest: '${largest.key}', ${largest.size} bytes)`,
        );
      }
    }
    if (offered.maxTotalBytes !== undefined && facts.totalBytes > offered.maxTotalBytes) {
      problems.push(`items total ${facts.totalBytes} bytes, over maxTotalBytes ${offered.maxTotalBytes}`);
    }
    if (offered.fileExtensions) {
      const accepted = acceptedExtensions(capability);
      let count = 0;
      let example = '';
      for (const [ext, entry] of facts.extensions) {
        if (accepted.has(ext)) continue;
        count += entry.count;
        if (!example) example = entry.example;
      }
      if (count > 0) {
        problems.push(`${count} of ${facts.count} items are not ${[...accepted].join('/')} files (e.g. '${example}')`);
      }
    }
  }
  return problems;
}

function describeCapability(capability: Capability): string {
  return `${capability.skill} (${capability.input ?? ANY_TYPE} → ${capability.output ?? ANY_TYPE})`;
}

function exactness(declared: string | undefined, wanted: string | undefined): number {
  return wanted === undefined || declared === wanted ? 1 : 0.5;
}

function typeFit(capability: Capability, request: SelectionRequest): number {
  return (exactness(capability.input, request.inputType) + exactness(capability.output, request.outputType)) / 2;
}

function priorityOf(capability: Capability): number {
  return capability.priority ?? DEFAULT_PRIORITY;
}

// Most agents handed to a full scan lack the skill: one shared string per skill instead of one each.
const lacksSkillReasons = new Map<string, string>();
function lacksSkillReason(skill: string): string {
  let reason = lacksSkillReasons.get(skill);
  if (reason === undefined) {
    if (lacksSkillReasons.size >= 1000) lacksSkillReasons.clear();
    reason = `no capability with skill '${skill}'`;
    lacksSkillReasons.set(skill, reason);
  }
  return reason;
}

type SkillFit = { ok: true; capability: Capability } | { ok: false; reasons: string[] };

/** The best capability of an agent for one skill: fitting, then highest priority, then best type fit. */
function fitSkill(agent: AgentView, skill: string, request: SelectionRequest, facts: ItemFacts | undefined): SkillFit {
  let best: Capability | undefined;
  const reasons: string[] = [];
  let withSkill = 0;
  for (const capability of agent.capabilities) {
    if (capability.skill !== skill) continue;
    withSkill++;
    const problems = capabilityProblems(capability, request, facts);
    if (problems.length > 0) {
      reasons.push(...problems.map((problem) => `${describeCapability(capability)}: ${problem}`));
      continue;
    }
    if (
      !best ||
      priorityOf(capability) > priorityOf(best) ||
      (priorityOf(capability) === priorityOf(best) && typeFit(capability, request) > typeFit(best, request))
    ) {
      best = capability;
    }
  }
  if (best) return { ok: true, capability: best };
  if (withSkill === 0) return { ok: false, reasons: [lacksSkillReason(skill)] };
  return { ok: false, reasons };
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}

function statsFor(agent: AgentView): { stats: AgentStats | undefined; window: string } {
  if (agent.recent && agent.recent.invocations > 0) return { stats: agent.recent, window: 'recent' };
  if (agent.allTime && agent.allTime.invocations > 0) return { stats: agent.allTime, window: 'all-time' };
  return { stats: undefined, window: '' };
}

function scoreAgent(agent: AgentView, capabilities: Capability[], request: SelectionRequest, health: HealthStatus, probe: boolean) {
  const reasons: string[] = [];
  const priority = capabilities.reduce((sum, c) => sum + priorityOf(c), 0) / capabilities.length;
  const fit = capabilities.reduce((sum, c) => sum + typeFit(c, request), 0) / capabilities.length;
  for (const capability of capabilities) {
    reasons.push(capabilityLabel(capability));
  }

  const { stats, window } = statsFor(agent);
  const successRate = stats
    ? (stats.successes + PRIOR_WEIGHT * PRIOR_SUCCESS_RATE) / (stats.invocations + PRIOR_WEIGHT)
    : PRIOR_SUCCESS_RATE;
  reasons.push(
    stats
      ? `success rate ${percent(stats.successes / stats.invocations)} over ${stats.invocations} ${window} invocations`
      : 'no invocation history yet',
  );

  const p95 = stats?.p95Ms;
  const latency = p95 == null ? NEUTRAL_LATENCY_SCORE : LATENCY_REFERENCE_MS / (LATENCY_REFERENCE_MS + Math.max(0, p95));
  if (p95 != null) reasons.push(`p95 latency ${Math.round(p95)} ms`);

  if (fit < 1) reasons.push('accepts any input or output type rather than the requested one');

  let score =
    WEIGHTS.priority * (priority / 100) +
    WEIGHTS.successRate * successRate +
    WEIGHTS.latency * latency +
    WEIGHTS.typeFit * fit;
  if (health === 'Degraded') {
    score *= DEGRADED_FACTOR;
    const reason = agent.health?.status === 'Degraded' ? agent.health.reason : '';
    reasons.push(`Degraded${reason ? `: ${reason}` : ''}`);
  }
  if (probe) {
    score *= PROBE_FACTOR;
    reasons.push('circuit cool-down elapsed: eligible for one probe call');
  }
  return { score: round(score), reasons };
}

function compareMatches(a: Match, b: Match): number {
  if (a.score !== b.score) return b.score - a.score;
  return a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0;
}

export function selectAgents(
  request: SelectionRequest,
  agents: readonly AgentView[],
  now: number | Date,
  options: SelectionOptions = {},
): SelectionResult {
  const clock = typeof now === 'number' ? now : now.getTime();
  const circuitConfig = options.circuit ?? DEFAULT_CIRCUIT_CONFIG;
  const skills = [...new Set(request.requiredSkills)];
  const facts = itemFacts(request.items);
  const matches: Match[] = [];
  const rejected: Rejection[] = [];

  for (const agent of agents) {
    const reasons: string[] = [];
    const chosen: Capability[] = [];
    let lacksSkill = false;
    for (const skill of skills) {
      const fit = fitSkill(agent, skill, request, facts);
      if (fit.ok) chosen.push(fit.capability);
      else {
        reasons.push(...fit.reasons);
        if (!agent.capabilities.some((c) => c.skill === skill)) lacksSkill = true;
      }
    }
    // An agent without the skill is not a candidate at all; its status and health are noise.
    if (lacksSkill && chosen.length === 0) {
      rejected.push({ agentId: agent.id, reasons });
      continue;
    }

    const status = agent.status ?? 'active';
    if (status !== 'active') reasons.push(`agent is ${status}`);
    const health: HealthStatus = agent.health?.status ?? 'Healthy';
    if (agent.health?.status === 'Unhealthy') reasons.push(`Unhealthy: ${agent.health.reason}`);
    let probe = false;
    if (agent.circuit) {
      const admission = admit(agent.circuit, clock, circuitConfig);
      if (!admission.allowed) reasons.push(admission.reason);
      else probe = admission.probe;
    }

    if (reasons.length > 0 || skills.length === 0) {
      if (skills.length === 0) reasons.push('no skill requested');
      rejected.push({ agentId: agent.id, reasons });
      continue;
    }
    const { score, reasons: why } = scoreAgent(agent, chosen, request, health, probe);
    matches.push({ agentId: agent.id, score, matched: matchedTerms(chosen, request), reasons: why, health, probe });
  }

  matches.sort(compareMatches);
  rejected.sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
  return { matches, rejected };
}

function matchedTerms(capabilities: Capability[], request: SelectionRequest): string[] {
  const withInput = request.inputType !== undefined;
  const withOutput = request.outputType !== undefined;
  if (capabilities.length === 1) return [...capabilityTerms(capabilities[0], withInput, withOutput)];
  return [...new Set(capabilities.flatMap((capability) => capabilityTerms(capability, withInput, withOutput)))];
}

function describeRequest(request: SelectionRequest): string {
  const skills = request.requiredSkills.map((s) => `'${s}'`).join(' + ') || '(none)';
  const parts = [`skill ${skills}`];
  if (request.inputType !== undefined) parts.push(`input '${request.inputType}'`);
  if (request.outputType !== undefined) parts.push(`output '${request.outputType}'`);
  if (request.items?.length) parts.push(`${request.items.length} items`);
  return parts.join(', ');
}

/** How many rejected agents an error message names one by one. */
const EXPLAIN_LIMIT = 20;

/**
 * The error message for a step no agent can serve: the capability, then why each agent that has the
 * skill was rejected; agents without the skill are only counted (there may be thousands).
 */
export function explainNoCandidate(request: SelectionRequest, result: Pick<SelectionResult, 'rejected'>): string {
  const head = `No agent can serve capability ${describeRequest(request)}`;
  const skillPrefix = 'no capability with skill';
  const informative = result.rejected.filter((r) => !r.reasons.every((reason) => reason.startsWith(skillPrefix)));
  const lacking = result.rejected.length - informative.length;
  if (informative.length === 0) {
    return lacking === 0
      ? `${head}: no agent is registered for it`
      : `${head}: ${lacking === 1 ? 'the one agent considered lacks the skill' : `none of the ${lacking} agents considered has the skill`}`;
  }
  const listed = informative
    .slice(0, EXPLAIN_LIMIT)
    .map((r) => `agent '${r.agentId}' rejected: ${r.reasons.join('; ')}`);
  if (informative.length > EXPLAIN_LIMIT) listed.push(`and ${informative.length - EXPLAIN_LIMIT} more agents rejected`);
  if (lacking > 0) listed.push(lacking === 1 ? '1 other agent lacks the skill' : `${lacking} other agents lack the skill`);
  return `${head}. ${listed.join('. ')}.`;
}

export class NoCandidateError extends Error {
  override readonly name = 'NoCandidateError';
  constructor(
    readonly request: SelectionRequest,
    readonly rejected: Rejection[],
  ) {
    super(explainNoCandidate(request, { rejected }));
  }
}

/** The ranked matches, or a NoCandidateError naming the capability and every rejection. */
export function selectOrThrow(
  request: SelectionRequest,
  agents: readonly AgentView[],
  now: number | Date,
  options: SelectionOptions = {},
): Match[] {
  const result = selectAgents(request, agents, now, options);
  if (result.matches.length === 0) throw new NoCandidateError(request, result.rejected);
  return result.matches;
}

/**
 * The candidate an item falls back to when its agent ran out of retries or its circuit opened: the best
 * ranked match not yet tried for that item. A probe-only match comes last so a fallback does not spend
 * an item on an agent that is only being tested.
 */
export function nextCandidate(matches: readonly Match[], tried: Iterable<string>): Match | undefined {
  const excluded = new Set(tried);
  let probeOnly: Match | undefined;
  for (const match of matches) {
    if (excluded.has(match.agentId)) continue;
    if (!match.probe) return match;
    probeOnly ??= match;
  }
  return probeOnly;
}
