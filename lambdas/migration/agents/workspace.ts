/**
 * The agents' view of a run's workspace: keys relative to `runs/<runId>/` (`inputs/A.cbl`,
 * `reports/inventory.json`). The migration logic sees only this, so it runs the same over S3 (through the
 * agent runtime's confined client), over a Map in tests, and in the bench.
 */
export interface MigrationWorkspace {
  get(key: string): Promise<string | Uint8Array | undefined>;
  put(key: string, body: string | Uint8Array): Promise<unknown>;
  /** Relative keys of the objects under `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
}

export async function getText(ws: MigrationWorkspace, key: string): Promise<string | undefined> {
  const body = await ws.get(key);
  if (body === undefined) return undefined;
  return typeof body === 'string' ? body : decodeText(body);
}

export async function getJson<T>(ws: MigrationWorkspace, key: string): Promise<T | undefined> {
  const text = await getText(ws, key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

export async function putJson(ws: MigrationWorkspace, key: string, value: unknown): Promise<string> {
  await ws.put(key, JSON.stringify(value, null, 2) + '\n');
  return key;
}

/** UTF-8 when valid, else Latin-1 (the usual fallback for mainframe exports that were not UTF-8). */
export function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

/** `runs/<runId>/inputs/A.cbl` → `inputs/A.cbl`; relative keys pass through. */
export function relativeKey(key: string): string {
  const m = /^runs\/[^/]+\/(.*)$/.exec(key);
  return m ? m[1] : key;
}

/** In-memory workspace for tests and the bench. */
export class MemoryWorkspace implements MigrationWorkspace {
  readonly objects = new Map<string, string | Uint8Array>();

  constructor(initial: Record<string, string | Uint8Array> = {}) {
    for (const [k, v] of Object.entries(initial)) this.objects.set(k, v);
  }

  get(key: string): Promise<string | Uint8Array | undefined> {
    return Promise.resolve(this.objects.get(relativeKey(key)));
  }

  put(key: string, body: string | Uint8Array): Promise<void> {
    this.objects.set(relativeKey(key), body);
    return Promise.resolve();
  }

  list(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort());
  }

  text(key: string): string | undefined {
    const v = this.objects.get(key);
    return v === undefined ? undefined : typeof v === 'string' ? v : decodeText(v);
  }
}

/** The agent runtime's confined client, structurally (no import: the domain code stays free of the runtime). */
export interface ConfinedClient {
  readonly prefix: string;
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, body: string | Uint8Array, contentType?: string): Promise<string>;
  list(folder?: string): Promise<Array<{ key: string; size: number }>>;
}

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json',
  md: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
  mmd: 'text/plain; charset=utf-8',
  java: 'text/x-java-source; charset=utf-8',
};

export function workspaceFromClient(client: ConfinedClient): MigrationWorkspace {
  return {
    get: (key) => client.get(key),
    put: (key, body) => client.put(key, body, CONTENT_TYPES[key.split('.').pop() ?? ''] ?? 'text/plain; charset=utf-8'),
    async list(prefix) {
      const folder = prefix.replace(/\/+$/, '');
      const objects = await client.list(folder);
      return objects
        .map((o) => (o.key.startsWith(client.prefix) ? o.key.slice(client.prefix.length) : relativeKey(o.key)))
        .filter((k) => k.startsWith(prefix))
        .sort();
    },
  };
}
