/** A JSON path as clients see it in problems: `$.steps[2].dependsOn[0]`, `$.parameters['odd key']`. */
export function jsonPath(segments: ReadonlyArray<string | number | symbol>): string {
  let path = '$';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) path += `.${segment}`;
    else path += `[${JSON.stringify(String(segment)).replace(/^"|"$/g, "'")}]`;
  }
  return path;
}

/** Reads the raw value at a path, or undefined when any segment is missing. */
export function valueAt(root: unknown, segments: ReadonlyArray<PropertyKey>): unknown {
  let current: unknown = root;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}
