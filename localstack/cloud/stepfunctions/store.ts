/**
 * Persistence of state machines and executions as JSON files under the data directory, one file per record so
 * that a status change rewrites one small file. Every write goes to a temporary file first and is renamed over
 * the target, so a crash never leaves a half-written record.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class JsonStore<T> {
  constructor(private readonly dir: string) {}

  init(): void {
    mkdirSync(this.dir, { recursive: true });
  }

  private fileOf(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  }

  write(key: string, value: T): void {
    const target = this.fileOf(key);
    const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, JSON.stringify(value));
    renameSync(temp, target);
  }

  read(key: string): T | undefined {
    try {
      return JSON.parse(readFileSync(this.fileOf(key), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  delete(key: string): void {
    rmSync(this.fileOf(key), { force: true });
  }

  /** Every record; temporary files of an interrupted write are removed, unreadable files reported and skipped. */
  loadAll(onError: (file: string, error: unknown) => void): T[] {
    const out: T[] = [];
    for (const file of readdirSync(this.dir)) {
      const path = join(this.dir, file);
      if (file.endsWith('.tmp')) {
        rmSync(path, { force: true });
        continue;
      }
      if (!file.endsWith('.json')) continue;
      try {
        out.push(JSON.parse(readFileSync(path, 'utf8')) as T);
      } catch (error) {
        onError(path, error);
      }
    }
    return out;
  }
}
