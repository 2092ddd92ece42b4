import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCobol } from '../../../lambdas/migration/cobol/index';
import { camel, generateJava, pascal } from '../../../lambdas/migration/java/index';
import { loadCorpus } from '../cobol/corpus';
import { program } from '../cobol/fixtures';

const javacAvailable = spawnSync('javac', ['-version']).status === 0;
const PKG = 'com.example.migrated';

function generate(data: string[], procedure: string[]) {
  return generateJava(analyzeCobol(program(data, procedure), { fileName: 'test.cbl' }), { javaPackage: PKG });
}

function mainSource(result: ReturnType<typeof generate>): string {
  return result.files.find((f) => f.path.endsWith('/Testpgm.java'))!.content;
}

describe('Function: generateJava', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'agentplane-java-'));
  afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });

  it('should make valid Java identifiers from COBOL names', () => {
    expect(camel('WS-ACCOUNT-BAL')).toBe('wsAccountBal');
    expect(camel('1000-INIT')).toBe('p1000Init');
    expect(camel('CLASS')).toBe('class_');
    expect(pascal('WS-REC')).toBe('WsRec');
    expect(pascal('RECORD')).toBe('RecordRecord');
  });

  it('should map PICTUREs to Java types with the right scale', () => {
    const r = generate(
      ['01 WS-REC.', '   05 WS-AMT PIC S9(7)V99 COMP-3.', '   05 WS-CNT PIC 9(4).', '   05 WS-BIG PIC 9(12).', '   05 WS-NAME PIC X(20).', '   05 WS-TBL PIC 9(3) OCCURS 5.'],
      ['GOBACK.'],
    );
    const rec = r.files.find((f) => f.path.endsWith('/WsRec.java'))!.content;
    expect(rec).toContain('public BigDecimal wsAmt = Cobol.zero(2);');
    expect(rec).toContain('public int wsCnt = 0;');
    expect(rec).toContain('public long wsBig = 0L;');
    expect(rec).toContain('public String wsName = Cobol.spaces(20);');
    expect(rec).toContain('public final int[] wsTbl = new int[5];');
    // 9 + 4 + 12 + 20 + 5 × 3 characters in the DISPLAY text layout.
    expect(rec).toContain('return 60;');
  });

  it('should translate 88-levels, arithmetic, IF/EVALUATE and PERFORM loops', () => {
    const r = generate(
      ['01 WS-I PIC 99.', '01 WS-TOTAL PIC 9(5)V99.', '01 WS-FLAG PIC X.', '   88 WS-DONE VALUE "Y".'],
      [
        'MAIN-PARA.',
        '    PERFORM VARYING WS-I FROM 1 BY 1 UNTIL WS-I > 3',
        '        COMPUTE WS-TOTAL ROUNDED = WS-TOTAL + WS-I * 1.5',
        '    END-PERFORM',
        '    EVALUATE TRUE',
        '        WHEN WS-TOTAL > 5 SET WS-DONE TO TRUE',
        '        WHEN OTHER MOVE "N" TO WS-FLAG',
        '    END-EVALUATE',
        '    IF WS-DONE DISPLAY "TOTAL " WS-TOTAL END-IF',
        '    PERFORM SUB-PARA UNTIL WS-DONE',
        '    STRING "A" DELIMITED BY SIZE INTO WS-FLAG',
        '    GOBACK.',
        'SUB-PARA.',
        '    SET WS-DONE TO TRUE.',
      ],
    );
    const src = mainSource(r);
    expect(src).toContain('public boolean isWsDone() {');
    expect(src).toContain('while (!(wsI > 3)) {');
    expect(src).toContain('wsTotal = Cobol.toDec(v$1, 7, 2, false, true);');
    expect(src).toContain('} else {');
    expect(src).toContain('while (!(isWsDone())) {');
    expect(src).toContain('// TODO(agentplane): STRING is not translated');
    expect(r.todos).toBe(1);
  });

  it('should give each CALL target an interface', () => {
    const r = generate(['01 WS-PARMS.', '   05 WS-A PIC X.'], ['CALL "SUB-PGM" USING WS-PARMS', 'GOBACK.']);
    const iface = r.files.find((f) => f.path.endsWith('/SubPgmCall.java'))!.content;
    expect(iface).toContain('public interface SubPgmCall {');
    expect(iface).toContain('void call(WsParms arg1);');
    expect(mainSource(r)).toContain('Cobol.require(subPgm$, "SUB-PGM").call(wsParms);');
  });

  it('should still produce output and a diagnostic for a malformed program', () => {
    const { programs, resolveCopybook } = loadCorpus();
    const bad = programs.find((p) => p.fileName === 'BADPROG.cbl')!;
    const r = generateJava(analyzeCobol(bad.text, { fileName: bad.fileName, resolveCopybook }), { javaPackage: PKG });
    expect(r.files.length).toBeGreaterThan(0);
    expect(r.diagnostics[0].message).toMatch(/analysis has \d+ error\(s\)/);
  });

  it.skipIf(!javacAvailable)('should generate Java for the whole corpus that compiles with javac --release 17', () => {
    const { programs, resolveCopybook } = loadCorpus();
    const paths = new Set<string>();
    for (const p of programs) {
      if (p.fileName === 'BADPROG.cbl') continue;
      const r = generateJava(analyzeCobol(p.text, { fileName: p.fileName, resolveCopybook }), { javaPackage: PKG });
      expect(r.diagnostics.filter((d) => d.severity === 'error'), p.fileName).toEqual([]);
      for (const f of r.files) {
        const target = join(tmp, 'src', f.path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, f.content);
        paths.add(target);
      }
    }
    writeFileSync(join(tmp, 'sources.txt'), [...paths].sort().join('\n'));
    let output = '';
    try {
      execFileSync('javac', ['--release', '17', '-nowarn', '-J-Xss8m', '-d', join(tmp, 'classes'), `@${join(tmp, 'sources.txt')}`], { stdio: 'pipe' });
    } catch (e) {
      output = String((e as { stderr?: Buffer }).stderr ?? e);
    }
    expect(output).toBe('');
  });
});
