import { WorkspaceViolationError } from './errors';
import { runPrefix } from './input';

// eslint-disable-next-line no-control-regex -- matching control characters is the point: keys with them are refused.
const CONTROL_OR_BACKSLASH = /[\u0000-\u001f\u007f\\]/;

/** The storage the workspace client sits on (S3 in Lambda, a map in tests). */
export interface ObjectStore {
  put(bucket: string, key: string, body: string | Uint8Array, contentType?: string): Promise<void>;
  get(bucket: string, key: string): Promise<Uint8Array | undefined>;
  list(bucket: string, prefix: string): Promise<Array<{ key: string; size: number }>>;
}

/**
 * An agent's only door to the workspace, confined to its run's prefix `runs/<runId>/`. Keys are either
 * relative to that prefix (`outputs/x.json`) or full (`runs/<runId>/outputs/x.json`); a key that resolves
 * anywhere else (another run, `..`, an absolute path, another area of the bucket) throws
 * WorkspaceViolationError before any request is made, so nothing is written or read.
 */
export class WorkspaceClient {
  readonly prefix: string;
  /** Keys written so far, in order (the last one is an item's default outputKey). */
  readonly written: string[] = [];

  constructor(
    private readonly store: ObjectStore,
    readonly bucket: string,
    readonly runId: string,
  ) {
    this.prefix = runPrefix(runId);
  }

  /** The full key for a workspace key, or WorkspaceViolationError. */
  resolve(key: string): string {
    const violation = (why: string) =>
      new WorkspaceViolationError(`Workspace violation: key '${key}' ${why}; this run may only use keys under ${this.prefix}`, key);
    if (typeof key !== 'string' || key.length === 0) throw violation('is empty');
    if (key.length > 1024) throw violation('is longer than 1024 characters');
    if (key.startsWith('/')) throw violation('is absolute');
    if (CONTROL_OR_BACKSLASH.test(key)) throw violation('contains control characters or backslashes');
    const full = key.startsWith('runs/') ? key : `${this.prefix}${key}`;
    if (!full.startsWith(this.prefix)) throw violation('is outside the run prefix');
    const rest = full.slice(this.prefix.length);
    if (rest.split('/').some((part) => part === '..' || part === '.')) throw violation("has '.' or '..' segments");
    if (rest.length === 0 || rest.endsWith('/')) throw violation('names a folder, not an object');
    return full;
  }

  async put(key: string, body: string | Uint8Array | object, contentType?: string): Promise<string> {
    const full = this.resolve(key);
    const isBytes = typeof body === 'string' || body instanceof Uint8Array;
    await this.store.put(this.bucket, full, isBytes ? body : JSON.stringify(body), contentType ?? (isBytes ? undefined : 'application/json'));
    this.written.push(full);
    return full;
  }

  async putJson(key: string, value: unknown): Promise<string> {
    return this.put(key, JSON.stringify(value), 'application/json');
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.store.get(this.bucket, this.resolve(key));
  }

  async getText(key: string): Promise<string | undefined> {
    const bytes = await this.get(key);
    return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
  }

  /** Objects under a folder of the run (`inputs/`, `outputs/<step>/`, …). */
  async list(folder = ''): Promise<Array<{ key: string; size: number }>> {
    const base = folder === '' ? this.prefix : this.resolve(folder.endsWith('/') ? `${folder}x` : `${folder}/x`).slice(0, -1);
    // Folder markers (the empty `inputs/`, `outputs/`… objects the runs API writes) are not objects to read.
    return (await this.store.list(this.bucket, base)).filter((o) => !o.key.endsWith('/'));
  }
}
