import { describe, expect, it } from 'vitest';
import { CobolAnalysisError, MemoryWorkspace, MigrationInputError, runAnalysis, runGeneration, type StoredAnalysis } from '../../../lambdas/migration/agents/index';
import { fixed, program } from '../cobol/fixtures';

describe('Function: runAnalysis', () => {
  it('should resolve nested COPY against the inputs, preferring copybook extensions', async () => {
    const ws = new MemoryWorkspace({
      'inputs/src/MAIN.cbl': program(['COPY OUTER.'], ['MOVE 1 TO INNER-A', 'GOBACK.'], { id: 'MAIN' }),
      'inputs/lib/OUTER.cpy': fixed(['01 OUTER-REC.', '   05 OUTER-A PIC X.', 'COPY INNER.']),
      'inputs/lib/INNER.copy': fixed(['01 INNER-REC.', '   05 INNER-A PIC 9.']),
      // Same member name as the copybook: the .cpy wins for COPY OUTER.
      'inputs/src/OUTER.cbl': program([], ['GOBACK.'], { id: 'OUTERPGM' }),
    });
    const r = await runAnalysis(ws, 'runs/r1/inputs/src/MAIN.cbl');
    expect(r.status).toBe('analyzed');
    const a = JSON.parse(ws.text('outputs/analyze/MAIN.json')!) as StoredAnalysis;
    expect(a.fileName).toBe('src/MAIN.cbl');
    expect(a.sourceKey).toBe('inputs/src/MAIN.cbl');
    expect(a.copybooks.map((c) => [c.name, c.resolved, c.nested])).toEqual([['OUTER', true, ['INNER']]]);
    expect(a.diagnostics).toEqual([]);
  });

  it('should skip inputs that are not programs', async () => {
    const ws = new MemoryWorkspace({ 'inputs/JOB.jcl': '//JOB1 JOB (A),CLASS=A\n//S1 EXEC PGM=MAIN\n', 'inputs/notes.txt': 'hello' });
    expect(await runAnalysis(ws, 'inputs/JOB.jcl')).toEqual({ status: 'skipped', outputKey: 'outputs/analyze-skipped/JOB.jcl.json', kind: 'jcl' });
    expect(await runAnalysis(ws, 'inputs/notes.txt')).toMatchObject({ status: 'skipped', kind: 'unknown' });
    // The generation step passes skip markers through.
    expect(await runGeneration(ws, 'outputs/analyze-skipped/JOB.jcl.json')).toEqual({ status: 'skipped', outputKey: 'outputs/analyze-skipped/JOB.jcl.json' });
  });

  it('should fail on error diagnostics unless told to keep partial analyses', async () => {
    const bad = program(['01 WS-A PIC 9(4)'], ['PERFORM NOWHERE', 'GOBACK.'], { id: 'BAD' });
    const ws = new MemoryWorkspace({ 'inputs/BAD.cbl': bad });
    const error = (await runAnalysis(ws, 'inputs/BAD.cbl').catch((e: unknown) => e)) as Error & { outputKey?: string };
    expect(error).toBeInstanceOf(CobolAnalysisError);
    expect(error.message).toMatch(/^BAD\.cbl: \d+ error\(s\) in the COBOL source: \d+:\d+ error: /);
    expect(error.outputKey).toBe('reports/analysis-failures/BAD.json');
    const kept = await runAnalysis(ws, 'inputs/BAD.cbl', { failOn: 'never' });
    expect(kept).toMatchObject({ status: 'analyzed', outputKey: 'outputs/analyze/BAD.json' });
  });

  it('should refuse items outside inputs/ and missing inputs', async () => {
    const ws = new MemoryWorkspace();
    await expect(runAnalysis(ws, 'outputs/x.cbl')).rejects.toBeInstanceOf(MigrationInputError);
    await expect(runAnalysis(ws, 'inputs/none.cbl')).rejects.toBeInstanceOf(MigrationInputError);
  });
});
