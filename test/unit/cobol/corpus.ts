import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'samples', 'cobol');

/** The sample corpus: programs (sorted) and a copybook resolver over samples/cobol/copybooks. */
export function loadCorpus(): { programs: Array<{ fileName: string; text: string }>; resolveCopybook: (name: string) => string | undefined } {
  const copybooks = new Map<string, string>();
  for (const f of readdirSync(join(CORPUS_DIR, 'copybooks'))) {
    copybooks.set(f.replace(/\.cpy$/i, '').toUpperCase(), readFileSync(join(CORPUS_DIR, 'copybooks', f), 'utf8'));
  }
  const programs = readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.cbl'))
    .sort()
    .map((fileName) => ({ fileName, text: readFileSync(join(CORPUS_DIR, fileName), 'utf8') }));
  return { programs, resolveCopybook: (name) => copybooks.get(name.toUpperCase()) };
}

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');

/** Where a program's golden analysis lives (written only by `npm run golden:update`). */
export const goldenFileOf = (fileName: string) => join(GOLDEN_DIR, fileName.replace(/\.cbl$/, '.json'));

/** The golden form of an analysis: stable JSON, one space indents. */
export const goldenAnalysis = (analysis: unknown) => JSON.stringify(analysis, null, 1) + '\n';
