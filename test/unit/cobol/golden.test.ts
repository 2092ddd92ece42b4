import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeCobol } from '../../../lambdas/migration/cobol/index';
import { goldenAnalysis, goldenFileOf, loadCorpus } from './corpus';

// Golden analyses of samples/cobol, never written here: after an intended analyzer change, run
// `npm run golden:update` and review the diff.

describe('Function: analyzeCobol (sample corpus)', () => {
  const { programs, resolveCopybook } = loadCorpus();

  it.each(programs.map((p) => [p.fileName, p] as const))('should match the golden analysis of %s', (fileName, program) => {
    const analysis = analyzeCobol(program.text, { fileName, resolveCopybook });
    const file = goldenFileOf(fileName);
    expect(existsSync(file), `${file} is missing: run npm run golden:update`).toBe(true);
    expect(goldenAnalysis(analysis)).toBe(readFileSync(file, 'utf8'));
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
