import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeCobol } from '../lambdas/migration/cobol/index';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '..', 'samples', 'cobol');
const LARGE = 'EODRECON.cbl';

interface Source {
  fileName: string;
  text: string;
  lines: number;
}

function loadCorpus(): { sources: Source[]; resolve: (name: string) => string | undefined } {
  const copybooks = new Map<string, string>();
  for (const f of readdirSync(join(CORPUS, 'copybooks'))) copybooks.set(f.replace(/\.cpy$/i, '').toUpperCase(), readFileSync(join(CORPUS, 'copybooks', f), 'utf8'));
  const sources = readdirSync(CORPUS)
    .filter((f) => f.endsWith('.cbl'))
    .sort()
    .map((fileName) => {
      const text = readFileSync(join(CORPUS, fileName), 'utf8');
      return { fileName, text, lines: text.split('\n').length };
    });
  return { sources, resolve: (name) => copybooks.get(name.toUpperCase()) };
}

/** Lines per second over `rounds` passes after one warm-up pass (the JIT would otherwise dominate). */
function throughput(sources: Source[], resolve: (name: string) => string | undefined, minMs: number): number {
  const pass = (): number => {
    let lines = 0;
    for (const s of sources) {
      analyzeCobol(s.text, { fileName: s.fileName, resolveCopybook: resolve });
      lines += s.lines;
    }
    return lines;
  };
  pass();
  let lines = 0;
  const start = performance.now();
  do lines += pass();
  while (performance.now() - start < minMs);
  return Math.round(lines / ((performance.now() - start) / 1000));
}

export function runCobolBench(): Array<{ name: string; value: number; unit: string }> {
  const { sources, resolve } = loadCorpus();
  const large = sources.filter((s) => s.fileName === LARGE);
  return [
    { name: 'cobol-analysis-throughput-corpus', value: throughput(sources, resolve, 1500), unit: 'lines/s' },
    { name: 'cobol-analysis-throughput-large-program', value: throughput(large, resolve, 1500), unit: 'lines/s' },
    { name: 'cobol-corpus-lines', value: sources.reduce((n, s) => n + s.lines, 0), unit: 'lines' },
  ];
}
