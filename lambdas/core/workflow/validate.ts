import type { z } from 'zod';
import { findCycles, formatCycle } from './graph';
import { jsonPath, valueAt } from './json-path';
import { parameterReferences, valueMatchesType } from './params';
import {
  RESERVED_STEP_IDS,
  WORKFLOW_LIMITS,
  WorkflowDefinitionSchema,
  type ParameterType,
  type WorkflowDefinition,
} from './schema';
import { lookup } from '../invariants';

export interface Problem {
  /** JSON path of the offending value, e.g. `$.steps[2].dependsOn[0]`. */
  path: string;
  /** Stable machine-readable kind, e.g. `graph.cycle`, `schema.range`. */
  code: string;
  message: string;
}

export interface ValidateOptions {
  /** Turns warnings about capabilities no agent serves into errors. */
  strict?: boolean;
  /** Skills the registry can serve; when absent, capabilities are not checked. */
  knownSkills?: Set<string> | undefined;
}

export interface ValidationResult {
  ok: boolean;
  definition?: WorkflowDefinition;
  errors: Problem[];
  warnings: Problem[];
}

type Segments = Array<string | number>;

/** Step fields read defensively from raw input, so graph checks still run when the schema fails elsewhere. */
interface LooseStep {
  index: number;
  id: string | undefined;
  dependsOn: Array<{ value: string; at: number }>;
  forEach: string | undefined;
  raw: Record<string, unknown>;
}

interface LooseParameter {
  type: ParameterType | undefined;
  enum: unknown[] | undefined;
  hasDefault: boolean;
}

const PARAMETER_TYPES: ReadonlySet<string> = new Set(['string', 'number', 'integer', 'boolean']);

/**
 * Validates a workflow definition and reports every problem at once, each with the JSON path of the value
 * at fault: schema errors first, then graph, condition, config and capability checks (which run on whatever
 * parts of the input are well-formed enough to check).
 */
export function validateWorkflow(input: unknown, opts: ValidateOptions = {}): ValidationResult {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const seen = new Set<string>();
  const add = (list: Problem[], segments: Segments, code: string, message: string) => {
    const problem = { path: jsonPath(segments), code, message };
    const key = `${problem.path}\u0000${code}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    list.push(problem);
  };
  const error = (segments: Segments, code: string, message: string) => { add(errors, segments, code, message); };
  const warn = (segments: Segments, code: string, message: string) => { add(warnings, segments, code, message); };

  const parsed = WorkflowDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) reportSchemaIssue(issue, input, error);
  }

  const root = isRecord(input) ? input : {};
  const parameters = looseParameters(root.parameters);
  checkParameters(parameters, root.parameters, error, warn);
  const steps = looseSteps(root.steps);
  const ids = checkStepIds(steps, error);
  checkDependencies(steps, ids, error, warn);
  checkCycles(steps, ids, error);
  checkForEach(steps, ids, error);
  for (const step of steps) {
    const base: Segments = ['steps', step.index];
    if (step.raw.when !== undefined) checkWhen(step.raw.when, [...base, 'when'], parameters, 1, error, warn);
    if (step.raw.config !== undefined) checkConfig(step.raw.config, [...base, 'config'], parameters, error);
    const capability = isRecord(step.raw.capability) ? step.raw.capability : {};
    if (capability.constraints !== undefined) checkReservedKeys(capability.constraints, [...base, 'capability', 'constraints'], error);
    checkFanOutOptions(step, base, error, warn);
    checkRetry(step.raw.retry, [...base, 'retry'], error);
    checkCapability(step.raw.capability, [...base, 'capability'], opts, error, warn);
  }

  const ok = errors.length === 0 && parsed.success;
  return ok ? { ok, definition: parsed.data, errors, warnings } : { ok: false, errors, warnings };
}

function reportSchemaIssue(
  issue: z.core.$ZodIssue,
  input: unknown,
  error: (segments: Segments, code: string, message: string) => void,
): void {
  const segments = issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s));
  switch (issue.code) {
    case 'invalid_type':
      if (valueAt(input, issue.path) === undefined && issue.path.length > 0) {
        error(segments, 'schema.required', `required ${issue.expected} is missing`);
      } else {
        error(segments, 'schema.type', issue.message);
      }
      return;
    case 'too_small':
    case 'too_big':
      error(segments, issue.origin === 'array' || issue.origin === 'string' ? 'schema.size' : 'schema.range', issue.message);
      return;
    case 'invalid_format':
      error(segments, 'schema.format', issue.message);
      return;
    case 'invalid_value':
      error(segments, 'schema.enum', issue.message);
      return;
    case 'unrecognized_keys':
      for (const key of issue.keys) error([...segments, key], 'schema.unknown_key', `unknown field "${key}"`);
      return;
    case 'invalid_key':
      error(segments, 'schema.format', `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`);
      return;
    case 'custom': {
      const kind = (issue.params as { kind?: string } | undefined)?.kind;
      error(segments, kind ?? 'schema.invalid', issue.message);
      return;
    }
    default:
      error(segments, 'schema.type', issue.message);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function looseParameters(raw: unknown): Map<string, LooseParameter> {
  const out = new Map<string, LooseParameter>();
  if (!isRecord(raw)) return out;
  for (const [name, spec] of Object.entries(raw)) {
    const record = isRecord(spec) ? spec : {};
    out.set(name, {
      type: typeof record.type === 'string' && PARAMETER_TYPES.has(record.type) ? (record.type as ParameterType) : undefined,
      enum: Array.isArray(record.enum) ? record.enum : undefined,
      hasDefault: record.default !== undefined,
    });
  }
  return out;
}

function looseSteps(raw: unknown): LooseStep[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((value, index) => {
    const record = isRecord(value) ? value : {};
    const dependsOn = Array.isArray(record.dependsOn)
      ? record.dependsOn.flatMap((d, at) => (typeof d === 'string' ? [{ value: d, at }] : []))
      : [];
    return {
      index,
      id: typeof record.id === 'string' ? record.id : undefined,
      dependsOn,
      forEach: typeof record.forEach === 'string' ? record.forEach : undefined,
      raw: record,
    };
  });
}

type Report = (segments: Segments, code: string, message: string) => void;

function checkParameters(params: Map<string, LooseParameter>, raw: unknown, error: Report, warn: Report): void {
  if (!isRecord(raw)) return;
  for (const [name, spec] of params) {
    const rawSpec = raw[name] as Record<string, unknown>;
    const base: Segments = ['parameters', name];
    const type = spec.type;
    if (type === undefined) continue;
    spec.enum?.forEach((value, i) => {
      if (!valueMatchesType(value, type)) {
        error([...base, 'enum', i], 'parameter.enum_type', `enum value ${JSON.stringify(value)} is not a ${type}`);
      }
    });
    if (spec.hasDefault) {
      const value = rawSpec.default;
      if (!valueMatchesType(value, type)) {
        error([...base, 'default'], 'parameter.default_type', `default ${JSON.stringify(value)} is not a ${type}`);
      } else if (spec.enum && !spec.enum.includes(value)) {
        error([...base, 'default'], 'parameter.default_not_in_enum', `default ${JSON.stringify(value)} is not one of the enum values`);
      }
      if (rawSpec.required === true) {
        warn([...base, 'required'], 'parameter.required_with_default', 'a parameter with a default is never missing; "required" has no effect');
      }
    }
  }
}

function checkStepIds(steps: LooseStep[], error: Report): Map<string, LooseStep> {
  const ids = new Map<string, LooseStep>();
  for (const step of steps) {
    if (step.id === undefined) continue;
    if (RESERVED_STEP_IDS.has(step.id)) {
      error(['steps', step.index, 'id'], 'step.reserved_id', `"${step.id}" is reserved (forEach: "inputs" names the run's inputs)`);
    }
    const first = ids.get(step.id);
    if (first) {
      error(['steps', step.index, 'id'], 'step.duplicate_id', `step id "${step.id}" is already used by $.steps[${first.index}]`);
    } else {
      ids.set(step.id, step);
    }
  }
  return ids;
}

function checkDependencies(steps: LooseStep[], ids: Map<string, LooseStep>, error: Report, warn: Report): void {
  for (const step of steps) {
    const seen = new Set<string>();
    for (const dep of step.dependsOn) {
      const at: Segments = ['steps', step.index, 'dependsOn', dep.at];
      if (dep.value === step.id) error(at, 'step.self_dependency', `step "${step.id}" depends on itself`);
      else if (!ids.has(dep.value)) error(at, 'step.unknown_dependency', `no step has the id "${dep.value}"`);
      if (seen.has(dep.value)) warn(at, 'step.duplicate_dependency', `"${dep.value}" is listed twice`);
      seen.add(dep.value);
    }
  }
}

/** Only the first step carrying each id takes part in the graph: duplicates are already reported. */
function graphEdges(ids: Map<string, LooseStep>): Array<[string, string]> {
  const edges: Array<[string, string]> = [];
  for (const [id, step] of ids) {
    for (const dep of step.dependsOn) if (dep.value !== id && ids.has(dep.value)) edges.push([dep.value, id]);
  }
  return edges;
}

function checkCycles(steps: LooseStep[], ids: Map<string, LooseStep>, error: Report): void {
  if (steps.length === 0) return;
  for (const cycle of findCycles({ nodes: [...ids.keys()], edges: graphEdges(ids) })) {
    // The edge that closes the cycle is the first step's dependency on the last one.
    const first = lookup(ids, cycle[0]);
    const closing = first.dependsOn.find((d) => d.value === cycle[cycle.length - 1]);
    error(['steps', first.index, 'dependsOn', closing?.at ?? 0], 'graph.cycle', `dependency cycle: ${formatCycle(cycle)}`);
  }
}

function ancestorsOf(step: LooseStep, ids: Map<string, LooseStep>): Set<string> {
  const found = new Set<string>();
  const stack = step.dependsOn.map((d) => d.value);
  while (stack.length > 0) {
    const id = stack.pop();
    if (id === undefined || found.has(id) || !ids.has(id)) continue;
    found.add(id);
    for (const dep of lookup(ids, id).dependsOn) stack.push(dep.value);
  }
  return found;
}

function checkForEach(steps: LooseStep[], ids: Map<string, LooseStep>, error: Report): void {
  for (const step of steps) {
    const target = step.forEach;
    if (target === undefined || target === 'inputs') continue;
    const at: Segments = ['steps', step.index, 'forEach'];
    const source = ids.get(target);
    if (!source) {
      error(at, 'forEach.unknown_step', `forEach names "${target}", which is neither "inputs" nor a step id`);
      continue;
    }
    if (!ancestorsOf(step, ids).has(target)) {
      error(at, 'forEach.not_upstream', `"${target}" is not upstream of "${step.id ?? `steps[${step.index}]`}": add it (or a step after it) to dependsOn`);
    }
    if (source.forEach === undefined) {
      error(at, 'forEach.not_fan_out', `"${target}" does not fan out (it has no forEach), so it has no items to iterate`);
    }
  }
}

function checkWhen(
  when: unknown,
  at: Segments,
  params: Map<string, LooseParameter>,
  depth: number,
  error: Report,
  warn: Report,
): void {
  if (!isRecord(when)) return;
  if (depth > WORKFLOW_LIMITS.whenMaxDepth) {
    error(at, 'when.too_deep', `conditions nest at most ${WORKFLOW_LIMITS.whenMaxDepth} levels deep`);
    return;
  }
  for (const key of ['all', 'any'] as const) {
    const list = when[key];
    if (Array.isArray(list)) list.forEach((c, i) => { checkWhen(c, [...at, key, i], params, depth + 1, error, warn); });
  }
  if (when.not !== undefined) checkWhen(when.not, [...at, 'not'], params, depth + 1, error, warn);
  if (typeof when.param !== 'string') return;
  const spec = params.get(when.param);
  if (!spec) {
    error([...at, 'param'], 'when.unknown_parameter', `"${when.param}" is not a declared parameter`);
    return;
  }
  const type = spec.type;
  if (type === undefined) return;
  const param = when.param;
  const checkValue = (value: unknown, segments: Segments) => {
    if (!valueMatchesType(value, type)) {
      error(segments, 'when.type_mismatch', `${JSON.stringify(value)} is not a ${type}, the type of "${param}"`);
    } else if (spec.enum && !spec.enum.includes(value)) {
      error(segments, 'when.not_in_enum', `${JSON.stringify(value)} is not an allowed value of "${param}" (${spec.enum.map((v) => JSON.stringify(v)).join(', ')})`);
    }
  };
  if (when.equals !== undefined) checkValue(when.equals, [...at, 'equals']);
  if (when.notEquals !== undefined) checkValue(when.notEquals, [...at, 'notEquals']);
  if (Array.isArray(when.in)) when.in.forEach((v, i) => { checkValue(v, [...at, 'in', i]); });
  if (when.exists !== undefined && spec.hasDefault) {
    warn([...at, 'exists'], 'when.constant', `"${when.param}" has a default, so it always exists`);
  }
}

/** The compiler embeds config and constraints in payload templates, where a `.$` key would be evaluated. */
function checkReservedKeys(value: unknown, at: Segments, error: Report): void {
  const walk = (value: unknown, segments: Segments) => {
    if (Array.isArray(value)) value.forEach((v, i) => { walk(v, [...segments, i]); });
    else if (isRecord(value)) {
      for (const [key, v] of Object.entries(value)) {
        if (key.endsWith('.$')) {
          error([...segments, key], 'payload.reserved_key', 'keys ending in ".$" are Step Functions path references and cannot be passed to an agent');
        }
        walk(v, [...segments, key]);
      }
    }
  };
  walk(value, at);
}

function checkConfig(config: unknown, at: Segments, params: Map<string, LooseParameter>, error: Report): void {
  if (!isRecord(config)) return;
  checkReservedKeys(config, at, error);
  for (const ref of parameterReferences(config)) {
    if (!params.has(ref.name)) {
      error([...at, ...ref.segments], 'config.unknown_parameter', `\${params.${ref.name}} names no declared parameter`);
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(config));
  if (bytes > WORKFLOW_LIMITS.configMaxBytes) {
    error(at, 'config.too_large', `config is ${bytes} bytes; at most ${WORKFLOW_LIMITS.configMaxBytes} travel with every agent call`);
  }
}

const FAN_OUT_OPTIONS = ['maxConcurrency', 'batchSize', 'toleratedFailurePercentage'] as const;

function checkFanOutOptions(step: LooseStep, base: Segments, error: Report, warn: Report): void {
  if (step.raw.forEach !== undefined) return;
  if (step.raw.distributed === true) {
    error([...base, 'distributed'], 'step.distributed_without_forEach', 'only a step with forEach runs as a (Distributed) Map');
  }
  for (const key of FAN_OUT_OPTIONS) {
    if (step.raw[key] !== undefined) {
      warn([...base, key], 'step.fan_out_option_ignored', `"${key}" applies to fan-out steps only (this step has no forEach)`);
    }
  }
}

function checkRetry(retry: unknown, at: Segments, error: Report): void {
  if (!isRecord(retry)) return;
  const { intervalSeconds, maxDelaySeconds } = retry;
  if (typeof intervalSeconds === 'number' && typeof maxDelaySeconds === 'number' && maxDelaySeconds < intervalSeconds) {
    error([...at, 'maxDelaySeconds'], 'retry.max_delay_below_interval', `maxDelaySeconds (${maxDelaySeconds}) is below intervalSeconds (${intervalSeconds})`);
  }
}

function checkCapability(capability: unknown, at: Segments, opts: ValidateOptions, error: Report, warn: Report): void {
  if (!opts.knownSkills || !isRecord(capability) || typeof capability.skill !== 'string') return;
  if (opts.knownSkills.has(capability.skill)) return;
  const report = opts.strict ? error : warn;
  report([...at, 'skill'], 'capability.unserved', `no registered agent serves the skill "${capability.skill}"`);
}
