/**
 * `map.get(key)` for a key the caller's own bookkeeping guarantees is there (e.g. every paragraph in the
 * program order has a method name). A miss is a bug in the generator, not in the COBOL input, so it fails
 * loudly here instead of printing `undefined` into the generated source.
 */
export function mustGet<K, V>(map: ReadonlyMap<K, V>, key: K, what: string): V {
  const value = map.get(key);
  if (value === undefined) throw new Error(`internal error: no ${what} for ${String(key)}`);
  return value;
}
