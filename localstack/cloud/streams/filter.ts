/**
 * Lambda event filtering (the EventBridge-pattern subset Lambda supports for stream sources), applied to the
 * Lambda-shaped record. Patterns are compiled once when the mapping is created so that an unsupported or
 * malformed pattern stops start-up with a message naming the mapping, as CreateEventSourceMapping would
 * refuse it, instead of silently letting every record through.
 */

export class FilterPatternError extends Error {
  override readonly name = 'FilterPatternError';
}

export type RecordPredicate = (record: unknown) => boolean;

type Matcher = (value: unknown, present: boolean) => boolean;
type ObjectMatcher = (value: unknown) => boolean;

const NUMERIC_OPS = new Set(['=', '<', '<=', '>', '>=']);

/**
 * Compiles `FilterCriteria.Filters` into one predicate: a record passes when any filter matches (filters are
 * ORed). No filters means everything passes.
 */
export function compileFilterCriteria(criteria?: { Filters?: Array<{ Pattern?: unknown } | null | undefined> }): RecordPredicate {
  const filters = criteria?.Filters ?? [];
  if (filters.length === 0) return () => true;
  if (filters.length > 5) {
    // The default quota; AWS raises it on request, the local cloud keeps it so a template that works here works there.
    throw new FilterPatternError(`at most 5 filters are allowed per event source mapping, got ${filters.length}`);
  }
  const compiled = filters.map((filter, index) => {
    if (typeof filter?.Pattern !== 'string') throw new FilterPatternError(`filter ${index}: Pattern must be a JSON string`);
    let pattern: unknown;
    try {
      pattern = JSON.parse(filter.Pattern);
    } catch (error) {
      throw new FilterPatternError(`filter ${index}: Pattern is not valid JSON: ${(error as Error).message}`);
    }
    try {
      return compileObject(pattern, '');
    } catch (error) {
      if (error instanceof FilterPatternError) throw new FilterPatternError(`filter ${index}: ${error.message}`);
      throw error;
    }
  });
  return (record) => compiled.some((match) => match(record));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compileObject(pattern: unknown, path: string): ObjectMatcher {
  if (!isPlainObject(pattern)) throw new FilterPatternError(`${path || 'pattern'} must be a JSON object`);
  const entries = Object.entries(pattern);
  if (entries.length === 0) throw new FilterPatternError(`${path || 'pattern'} must not be empty`);
  const parts: ObjectMatcher[] = entries.map(([key, sub]) => {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2) throw new FilterPatternError(`${here} needs an array of at least two patterns`);
      const alternatives = sub.map((alt, i) => compileObject(alt, `${here}[${i}]`));
      return (value) => alternatives.some((alt) => alt(value));
    }
    if (Array.isArray(sub)) {
      const leaf = compileLeaf(sub, here);
      return (value) => {
        const present = isPlainObject(value) && key in value;
        return leaf(present ? (value)[key] : undefined, present);
      };
    }
    if (isPlainObject(sub)) {
      const nested = compileObject(sub, here);
      const nestedAllowsAbsence = allowsAbsence(sub);
      return (value) => {
        const child = isPlainObject(value) ? value[key] : undefined;
        if (child === undefined) return nestedAllowsAbsence ? nested({}) : false;
        return nested(child);
      };
    }
    throw new FilterPatternError(`${here}: a pattern's values must be arrays of matchers or nested objects`);
  });
  return (value) => parts.every((part) => part(value));
}

/** `{"a": {"b": [{"exists": false}]}}` must match a record with no `a` at all. */
function allowsAbsence(pattern: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === '$or') return Array.isArray(sub) && sub.some((alt) => isPlainObject(alt) && allowsAbsence(alt));
    if (Array.isArray(sub)) return sub.some((m) => isPlainObject(m) && m.exists === false);
    return isPlainObject(sub) && allowsAbsence(sub);
  });
}

function compileLeaf(matchers: unknown[], path: string): Matcher {
  if (matchers.length === 0) throw new FilterPatternError(`${path}: an empty array matches nothing`);
  const compiled = matchers.map((m) => compileMatcher(m, path));
  return (value, present) => {
    // A field holding an array matches when any element matches, as in EventBridge.
    if (Array.isArray(value)) return value.some((element) => compiled.some((m) => m(element, true)));
    return compiled.some((m) => m(value, present));
  };
}

function compileMatcher(matcher: unknown, path: string): Matcher {
  if (matcher === null) return (value, present) => present && value === null;
  if (typeof matcher === 'string') return (value, present) => present && value === matcher;
  if (typeof matcher === 'number') return (value, present) => present && toNumber(value) === matcher;
  if (typeof matcher === 'boolean') return (value, present) => present && value === matcher;
  if (!isPlainObject(matcher)) throw new FilterPatternError(`${path}: unsupported matcher ${JSON.stringify(matcher)}`);
  const keys = Object.keys(matcher);
  if (keys.length !== 1) throw new FilterPatternError(`${path}: a matcher object must have exactly one operator, got ${JSON.stringify(matcher)}`);
  const op = keys[0];
  const arg = matcher[op];
  switch (op) {
    case 'exists':
      if (typeof arg !== 'boolean') throw new FilterPatternError(`${path}: exists takes true or false`);
      return (_value, present) => present === arg;
    case 'prefix': {
      if (typeof arg === 'string') return (value, present) => present && typeof value === 'string' && value.startsWith(arg);
      if (isPlainObject(arg) && typeof arg['equals-ignore-case'] === 'string' && Object.keys(arg).length === 1) {
        const lower = (arg['equals-ignore-case']).toLowerCase();
        return (value, present) => present && typeof value === 'string' && value.toLowerCase().startsWith(lower);
      }
      throw new FilterPatternError(`${path}: prefix takes a string`);
    }
    case 'suffix': {
      if (typeof arg === 'string') return (value, present) => present && typeof value === 'string' && value.endsWith(arg);
      if (isPlainObject(arg) && typeof arg['equals-ignore-case'] === 'string' && Object.keys(arg).length === 1) {
        const lower = (arg['equals-ignore-case']).toLowerCase();
        return (value, present) => present && typeof value === 'string' && value.toLowerCase().endsWith(lower);
      }
      throw new FilterPatternError(`${path}: suffix takes a string`);
    }
    case 'equals-ignore-case': {
      if (typeof arg !== 'string') throw new FilterPatternError(`${path}: equals-ignore-case takes a string`);
      const lower = arg.toLowerCase();
      return (value, present) => present && typeof value === 'string' && value.toLowerCase() === lower;
    }
    case 'anything-but':
      return compileAnythingBut(arg, path);
    case 'numeric':
      return compileNumeric(arg, path);
    case 'wildcard':
    case 'cidr':
      throw new FilterPatternError(`${path}: the "${op}" operator is not supported by Lambda event filtering`);
    default:
      throw new FilterPatternError(`${path}: unknown filter operator "${op}"`);
  }
}

function compileAnythingBut(arg: unknown, path: string): Matcher {
  // anything-but never matches a missing field: there is no value that differs.
  if (typeof arg === 'string' || typeof arg === 'number') {
    const plain = compileMatcher(arg, path);
    return (value, present) => present && !plain(value, present);
  }
  if (Array.isArray(arg)) {
    if (arg.length === 0 || !arg.every((a) => typeof a === 'string' || typeof a === 'number')) {
      throw new FilterPatternError(`${path}: anything-but takes a string, a number or a list of them`);
    }
    const plain = arg.map((a) => compileMatcher(a, path));
    return (value, present) => present && !plain.some((m) => m(value, present));
  }
  if (isPlainObject(arg) && Object.keys(arg).length === 1) {
    const inner = Object.keys(arg)[0];
    if (inner === 'prefix' || inner === 'suffix' || inner === 'equals-ignore-case') {
      const m = compileMatcher(arg, path);
      return (value, present) => present && typeof value === 'string' && !m(value, present);
    }
  }
  throw new FilterPatternError(`${path}: unsupported anything-but argument ${JSON.stringify(arg)}`);
}

function compileNumeric(arg: unknown, path: string): Matcher {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0 || arg.length > 4) {
    throw new FilterPatternError(`${path}: numeric takes one or two [operator, number] pairs`);
  }
  const checks: Array<(n: number) => boolean> = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op: unknown = arg[i];
    const bound: unknown = arg[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op) || typeof bound !== 'number') {
      throw new FilterPatternError(`${path}: numeric operators are =, <, <=, >, >= followed by a number`);
    }
    checks.push(
      op === '='
        ? (n) => n === bound
        : op === '<'
          ? (n) => n < bound
          : op === '<='
            ? (n) => n <= bound
            : op === '>'
              ? (n) => n > bound
              : (n) => n >= bound,
    );
  }
  return (value, present) => {
    if (!present) return false;
    const n = toNumber(value);
    return n !== undefined && checks.every((check) => check(n));
  };
}

/**
 * Numbers in DynamoDB records are strings (`{"N": "42"}`); numeric matching accepts numeric strings so that
 * filters on `N` attributes behave as users expect.
 */
function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}
