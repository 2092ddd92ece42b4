import type { ParameterType, ScalarValue } from './schema';

const REFERENCE = /\$\{params\.([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE_REFERENCE = /^\$\{params\.([A-Za-z_][A-Za-z0-9_]*)\}$/;

export function valueMatchesType(value: unknown, type: ParameterType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
  }
}

/** Every `${params.NAME}` in the string values of a config, with the path segments of its value. */
export function parameterReferences(config: unknown): Array<{ segments: Array<string | number>; name: string }> {
  const found: Array<{ segments: Array<string | number>; name: string }> = [];
  const walk = (value: unknown, segments: Array<string | number>) => {
    if (typeof value === 'string') {
      for (const match of value.matchAll(REFERENCE)) found.push({ segments, name: match[1] });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => { walk(item, [...segments, i]); });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) walk(item, [...segments, key]);
    }
  };
  walk(config, []);
  return found;
}

/**
 * Substitutes `${params.NAME}` in every string of a step's config (objects and arrays, at any depth). The
 * gate does this at run time (docs/engine.md): a string that is exactly one reference takes the parameter's
 * value with its type; a reference inside a longer string is replaced by the value's text. An absent
 * parameter (optional, no default) becomes the empty string / null.
 */
export function resolveConfig<T>(config: T, parameters: Readonly<Record<string, ScalarValue | undefined>>): T {
  const resolve = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const whole = WHOLE_REFERENCE.exec(value);
      if (whole) return parameters[whole[1]] ?? null;
      return value.replace(REFERENCE, (_, name: string) => {
        const param = parameters[name];
        return param === undefined ? '' : String(param);
      });
    }
    if (Array.isArray(value)) return value.map(resolve);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    }
    return value;
  };
  return resolve(config) as T;
}
