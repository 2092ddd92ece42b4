/**
 * IAM's wildcard matching: `*` (any run of characters) and `?` (one character) in actions (case-insensitive),
 * in string conditions (case-sensitive) and in ARNs, where each of the first five colon-separated parts is
 * matched on its own and a `*` that ends a part of the resource may run on across colons, as IAM documents
 * for the Resource element (so `function:*` also covers `function:name:qualifier`).
 */

const cache = new Map<string, RegExp>();

function escape(ch: string): string {
  return /[\\^$.|+()[\]{}]/.test(ch) ? `\\${ch}` : ch;
}

/** `glob`: `*` runs over anything; `arn-resource`: a `*` inside a colon-separated part stays inside it. */
type Mode = 'glob' | 'glob-ignore-case' | 'arn-resource';

function compile(pattern: string, mode: Mode): RegExp {
  const cacheKey = `${mode}|${pattern}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    const next = pattern[i + 1] as string | undefined;
    if (ch === '*') source += mode !== 'arn-resource' || next === undefined || next === ':' ? '.*' : '[^:]*';
    else if (ch === '?') source += '.';
    else source += escape(ch);
  }
  const re = new RegExp(`^${source}$`, mode === 'glob-ignore-case' ? 'si' : 's');
  cache.set(cacheKey, re);
  return re;
}

/** `*`/`?` glob over the whole string. */
export function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  if (pattern === '*') return true;
  return compile(pattern, ignoreCase ? 'glob-ignore-case' : 'glob').test(value);
}

/** `dynamodb:Get*` against `dynamodb:GetItem`; IAM compares actions without regard to case. */
export function actionMatches(pattern: string, action: string): boolean {
  return globMatches(pattern, action, true);
}

/** `arn:partition:service:region:account:resource`: the resource part keeps any further colons. */
function arnParts(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/**
 * An ARN pattern (Resource element, ArnLike/ArnEquals condition) against an ARN. A pattern that is not an ARN
 * (`*`, or a bare name) is matched as a glob over the whole value; an ARN pattern never matches a value that is
 * not an ARN.
 */
export function arnMatches(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const p = arnParts(pattern);
  const a = arnParts(arn);
  // A pattern that starts like an ARN but has fewer than six parts is no ARN IAM would accept: it matches nothing.
  if (!p) return !pattern.startsWith('arn:') && globMatches(pattern, arn);
  if (!a) return false;
  for (let i = 0; i < 5; i++) if (!globMatches(p[i], a[i])) return false;
  return compile(p[5], 'arn-resource').test(a[5]);
}
