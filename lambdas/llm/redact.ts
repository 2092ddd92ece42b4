/**
 * Keys must never reach a log or an error message. Providers pass every message they build from a response
 * or a failure through here, with the secrets they hold.
 */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('[REDACTED]');
  }
  // Whatever else looks like a credential in an echoed request.
  return out
    .replace(/(authorization["']?\s*[:=]\s*["']?)(bearer\s+)?[^\s"',}]+/gi, '$1[REDACTED]')
    .replace(/\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [REDACTED]')
    .replace(/\b(sk|rk|pk)-[A-Za-z0-9_-]{8,}/g, '[REDACTED]')
    .replace(/(api[-_]?key["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1[REDACTED]');
}
