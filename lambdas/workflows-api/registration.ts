import { createHash } from 'node:crypto';
import { compileWorkflow, type CompileOptions, type CompileReport } from '../core/workflow/compile';
import { validateWorkflow, type Problem } from '../core/workflow/validate';
import type { WorkflowDefinition } from '../core/workflow/schema';
import { DEFAULT_STATE_MACHINE_PREFIX } from '../aws/workflow-store';

/**
 * Registration without AWS: validate, compile, and refuse what Step Functions would refuse or could not
 * run to completion. The route module wires it to the registry (known skills), Step Functions and the store.
 */

/** Compile warnings that mean Step Functions would refuse the machine, or fail its executions. */
const REFUSING_COMPILE_CODES: ReadonlySet<string> = new Set(['history.limit', 'definition.size']);

export interface Prepared {
  valid: boolean;
  errors: Problem[];
  warnings: Problem[];
  definition?: WorkflowDefinition;
  report?: CompileReport;
  asl?: Record<string, unknown>;
  aslJson?: string;
}

export interface PrepareOptions {
  strict?: boolean;
  knownSkills?: Set<string>;
  functions: CompileOptions['functions'];
  workspaceBucket?: string;
}

export function prepareWorkflow(input: unknown, options: PrepareOptions): Prepared {
  const validation = validateWorkflow(input, { strict: options.strict ?? false, knownSkills: options.knownSkills });
  if (!validation.ok || !validation.definition) return { valid: false, errors: validation.errors, warnings: validation.warnings };
  const compiled = compileWorkflow(validation.definition, {
    functions: options.functions,
    ...(options.workspaceBucket ? { workspaceBucket: options.workspaceBucket } : {}),
  });
  const refusing = compiled.report.warnings.filter((w) => REFUSING_COMPILE_CODES.has(w.code));
  const otherCompileWarnings = compiled.report.warnings.filter((w) => !REFUSING_COMPILE_CODES.has(w.code));
  return {
    valid: refusing.length === 0,
    errors: refusing,
    warnings: [...validation.warnings, ...otherCompileWarnings],
    definition: validation.definition,
    report: compiled.report,
    asl: compiled.asl,
    aslJson: compiled.aslJson,
  };
}

/** Every skill a raw definition names, read defensively (the input has not been validated yet). */
export function skillsIn(input: unknown): string[] {
  const steps = (input as { steps?: unknown } | null | undefined)?.steps;
  if (!Array.isArray(steps)) return [];
  const skills = new Set<string>();
  for (const step of steps) {
    const skill = (step as { capability?: { skill?: unknown } } | null | undefined)?.capability?.skill;
    if (typeof skill === 'string' && skill.length > 0 && skill.length <= 128) skills.add(skill);
  }
  return [...skills];
}

/** Step Functions state machine names: 1–80 of letters, digits, `-` and `_`. */
const STATE_MACHINE_NAME_MAX = 80;

/**
 * `<prefix><tenant>-<workflowId>-<hash>` (prefix `agentplane-` by default): readable in the console, within 80 characters, and unique per
 * (tenant, workflow) — tenants may contain dashes, so `a-b`+`c` and `a`+`b-c` would otherwise collide; the
 * hash of the pair tells them apart, and truncation of long ids cannot merge two names either.
 */
export function stateMachineName(tenant: string, workflowId: string, prefix: string = DEFAULT_STATE_MACHINE_PREFIX): string {
  const hash = createHash('sha256').update(`${tenant}\u0000${workflowId}`).digest('hex').slice(0, 8);
  const room = STATE_MACHINE_NAME_MAX - prefix.length - hash.length - 1;
  const readable = `${tenant}-${workflowId}`.slice(0, room).replace(/-+$/, '');
  return `${prefix}${readable}-${hash}`;
}

/**
 * The body of `POST /workflows[/validate]`: the definition itself, or `{definition, strict?}`. A definition
 * never has a `definition` field (its schema is strict), so the two cannot be confused.
 */
export function unwrapBody(body: unknown, query: Partial<Record<string, string>>): { definition: unknown; strict: boolean } {
  const queryStrict = query.strict === 'true' || query.strict === '1';
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'definition' in body && !('steps' in body)) {
    const envelope = body as { definition: unknown; strict?: unknown };
    return { definition: envelope.definition, strict: queryStrict || envelope.strict === true };
  }
  return { definition: body, strict: queryStrict };
}
