/**
 * Reads that cannot miss unless the code around them is wrong (a key the caller just put in a map, an index
 * inside bounds). They fail loudly, naming what was missing, instead of carrying an `undefined` on.
 */
class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

export function lookup<K, V>(map: ReadonlyMap<K, V>, key: K): V {
  const value = map.get(key);
  if (value === undefined) throw new InvariantError(`no entry for ${String(key)}`);
  return value;
}

export function present<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) throw new InvariantError(`${what} is missing`);
  return value;
}
