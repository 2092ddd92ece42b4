import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyzeCobol } from '../../../lambdas/shared/cobol/index';
import { loadCorpus } from './corpus';

// Golden analyses of samples/cobol. After an intended analyzer change, regenerate and review the diff:
//   UPDATE_GOLDEN=1 npx vitest run test/unit/cobol/golden.test.ts
const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

describe('Function: analyzeCobol (sample corpus)', () => {
  const { programs, resolveCopybook } = loadCorpus();

  it.each(programs.map((p) => [p.fileName, p] as const))('should match the golden analysis of %s', (fileName, program) => {
    const analysis = analyzeCobol(program.text, { fileName, resolveCopybook });
    const file = join(GOLDEN_DIR, fileName.replace(/\.cbl$/, '.json'));
    const actual = JSON.stringify(analysis, null, 1) + '\n';
    if (update || !existsSync(file)) writeFileSync(file, actual);
    expect(actual).toBe(readFileSync(file, 'utf8'));
  });

  it('should analyze every valid program without errors and the malformed one with located errors', () => {
    for (const p of programs) {
      const a = analyzeCobol(p.text, { fileName: p.fileName, resolveCopybook });
      const errors = a.diagnostics.filter((d) => d.severity === 'error');
      if (p.fileName === 'BADPROG.cbl') {
        expect(a.status).toBe('partial');
        expect(errors.length).toBeGreaterThan(5);
        for (const e of errors) expect(e.line).toBeGreaterThan(0);
      } else {
        expect(errors, p.fileName).toEqual([]);
        expect(a.status).toBe('ok');
      }
    }
  });

  it('should produce identical output on repeated runs', () => {
    const p = programs.find((x) => x.fileName === 'TXNPOST.cbl')!;
    const a = JSON.stringify(analyzeCobol(p.text, { fileName: p.fileName, resolveCopybook }));
    const b = JSON.stringify(analyzeCobol(p.text, { fileName: p.fileName, resolveCopybook }));
    expect(a).toBe(b);
  });

  it('should contain a large program of more than 3,000 lines', () => {
    const p = programs.find((x) => x.fileName === 'EODRECON.cbl')!;
    const a = analyzeCobol(p.text, { fileName: p.fileName, resolveCopybook });
    expect(a.metrics.totalLines).toBeGreaterThan(3000);
    expect(a.metrics.paragraphs).toBeGreaterThan(100);
  });
});
