import type { ProblemDetail } from '../errors';

/** The areas of a run's workspace, `runs/<runId>/<area>/`. */
export const WORKSPACE_AREAS = ['inputs', 'state', 'reports', 'outputs', 'temp'] as const;
export type WorkspaceArea = (typeof WORKSPACE_AREAS)[number];

export const runPrefix = (runId: string) => `runs/${runId}/`;

const MAX_INPUT_KEY_LENGTH = 512;

/**
 * Normalises a client-supplied input key to a key relative to `inputs/`: `./a//b.cbl` → `a/b.cbl`. Refuses
 * what could escape the run's prefix or confuse a reader: `..` segments, absolute paths, backslashes,
 * control characters, empty keys and keys naming a folder. Returns the problem instead of throwing, so a
 * request with several bad keys names all of them.
 */
export function normaliseInputKey(raw: unknown, path: string): { key: string } | { problem: ProblemDetail } {
  const bad = (message: string, code = 'key.invalid') => ({ problem: { path, code, message } });
  if (typeof raw !== 'string' || raw.length === 0) return bad('key must be a non-empty string');
  if (raw.length > MAX_INPUT_KEY_LENGTH) return bad(`key is longer than ${MAX_INPUT_KEY_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) return bad('key contains control characters', 'key.control');
  if (raw.includes('\\')) return bad('key contains a backslash', 'key.backslash');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || /^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return bad('key is absolute', 'key.absolute');
  const segments = raw.split('/');
  if (segments.some((s) => s === '..')) return bad("key has a '..' segment", 'key.traversal');
  if (raw.endsWith('/')) return bad('key names a folder, not an object');
  const kept = segments.filter((s) => s !== '' && s !== '.');
  // A key already naming the inputs area is accepted as relative to it.
  if (kept[0] === 'inputs' && kept.length > 1) kept.shift();
  if (kept.length === 0) return bad('key is empty once normalised');
  return { key: kept.join('/') };
}

/** `runs/<runId>/inputs/<key>` for a normalised key. */
export function inputObjectKey(runId: string, key: string): string {
  return `${runPrefix(runId)}inputs/${key}`;
}

/** Parses `s3://bucket/key` (the source of an input copy). */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  return m ? { bucket: m[1], key: m[2] } : undefined;
}
