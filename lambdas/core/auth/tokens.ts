import { createHash, randomBytes } from 'node:crypto';

/** Tokens are 32 random bytes; at that entropy a plain SHA-256 is a safe storage hash (no salt or KDF needed). */
const TOKEN_PREFIX = 'ap_';

export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A short, non-secret id for a token (logs, listings): the first 12 hex chars of its hash. */
export function tokenId(tokenHash: string): string {
  return tokenHash.slice(0, 12);
}

export function looksLikeToken(value: string): boolean {
  return value.startsWith(TOKEN_PREFIX) && value.length > TOKEN_PREFIX.length + 20 && value.length < 200;
}

/** `Bearer <token>` → token; anything else → undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

export const TENANT_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
