/**
 * Where the e2e suite points: the local cloud's `local.json` (default), or any deployment named by environment
 * (AGENTPLANE_REST_URL, AGENTPLANE_WS_URL, AGENTPLANE_TOKEN), so the same tests run on LocalStack or AWS.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface Target {
  restUrl: string;
  wsUrl: string;
  token: string;
  region: string;
  endpoints?: { dynamodb: string; s3: string; stepfunctions: string; sqs: string; lambda: string };
  assemblyDir?: string;
  resources?: { tables: Record<string, string>; buckets: Record<string, string>; functions: Record<string, string> };
}

export function target(): Target {
  if (process.env.AGENTPLANE_REST_URL) {
    return {
      restUrl: process.env.AGENTPLANE_REST_URL,
      wsUrl: process.env.AGENTPLANE_WS_URL ?? '',
      token: process.env.AGENTPLANE_TOKEN ?? '',
      region: process.env.AWS_REGION ?? 'us-east-1',
    };
  }
  const file = process.env.AGENTPLANE_LOCAL_JSON ?? resolve('.agentplane/local.json');
  return JSON.parse(readFileSync(file, 'utf8')) as Target;
}

/** An answer: `body` is the parsed JSON (the text if it was not JSON), typed as the caller says it is (api.ts). */
export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export async function http<T = unknown>(
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<HttpResult<T>> {
  const t = target();
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? t.token : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${t.restUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}
