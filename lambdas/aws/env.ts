/** Reads required configuration at cold start, so a wiring mistake fails loudly on the first invocation. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Missing required environment variable ${name}`);
  return value;
}
