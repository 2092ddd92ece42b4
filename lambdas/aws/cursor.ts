/**
 * Pagination cursors: a DynamoDB LastEvaluatedKey as opaque base64url JSON. What a decoded key may contain is
 * each store's to check (a cursor is client input: it must only ever point into the caller's own listing).
 */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

/** The key a cursor holds, or undefined when it is not base64url JSON of an object. */
export function parseCursor(cursor: string): Record<string, unknown> | undefined {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return key && typeof key === 'object' && !Array.isArray(key) ? (key as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
