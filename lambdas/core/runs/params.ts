import type { ProblemDetail } from '../errors';
import type { ParameterSpec, ScalarValue } from '../workflow/schema';
import { valueMatchesType } from '../workflow/params';
import { jsonPath } from '../validation';

/**
 * Checks a run's parameters against its workflow version and applies defaults (docs/engine.md: the machine's
 * conditions compare typed values, so they must be validated first). Every problem is reported, each with its
 * JSON path under `$.parameters`.
 */
export function resolveParameters(
  specs: Readonly<Record<string, ParameterSpec>> | undefined,
  given: unknown,
): { parameters: Record<string, ScalarValue>; problems: ProblemDetail[] } {
  const problems: ProblemDetail[] = [];
  const parameters: Record<string, ScalarValue> = {};
  const declared = specs ?? {};
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given))) {
    return { parameters, problems: [{ path: '$.parameters', code: 'parameters.type', message: 'parameters must be an object' }] };
  }
  const values = (given ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(values)) {
    if (!Object.prototype.hasOwnProperty.call(declared, name)) {
      problems.push({ path: jsonPath(['parameters', name]), code: 'parameters.unknown', message: `unknown parameter "${name}" (declared: ${Object.keys(declared).join(', ') || 'none'})` });
    }
  }
  for (const [name, spec] of Object.entries(declared)) {
    const path = jsonPath(['parameters', name]);
    const value = values[name];
    if (value === undefined || value === null) {
      if (spec.default !== undefined) parameters[name] = spec.default;
      else if (spec.required) problems.push({ path, code: 'parameters.required', message: `parameter "${name}" is required` });
      continue;
    }
    if (!valueMatchesType(value, spec.type)) {
      problems.push({ path, code: 'parameters.type', message: `expected ${spec.type}, got ${Array.isArray(value) ? 'array' : typeof value}` });
      continue;
    }
    if (spec.enum && !spec.enum.includes(value as ScalarValue)) {
      problems.push({ path, code: 'parameters.enum', message: `must be one of ${spec.enum.map((v) => JSON.stringify(v)).join(', ')}` });
      continue;
    }
    parameters[name] = value as ScalarValue;
  }
  return { parameters, problems };
}
