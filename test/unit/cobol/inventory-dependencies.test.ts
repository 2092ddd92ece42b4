import { describe, expect, it } from 'vitest';
import { analyzeCobol, discoverInventory, mapDependencies } from '../../../lambdas/migration/cobol/index';
import { loadCorpus } from './corpus';

describe('Function: discoverInventory', () => {
  it('should classify programs, copybooks, JCL and unknown files with format and encoding', () => {
    const inv = discoverInventory([
      { key: 'src/B.cbl', content: '       IDENTIFICATION DIVISION.\n       PROGRAM-ID. BPROG.\n' },
      { key: 'src/free.cob', content: Buffer.from('identification division.\nprogram-id. freeone.\n') },
      { key: 'copy/REC.cpy', content: '       01  REC.\n           05 A PIC X.\n' },
      { key: 'jcl/RUN.jcl', content: '//RUN JOB (1),CLASS=A\n//S1 EXEC PGM=BPROG\n' },
      { key: 'notes.txt', content: 'hello' },
      { key: 'src/latin.cbl', content: Buffer.from([0x20, 0x50, 0x52, 0x4f, 0x47, 0x52, 0x41, 0x4d, 0x2d, 0x49, 0x44, 0x2e, 0x20, 0x58, 0xe9, 0x0a]) },
    ]);
    expect(inv.files.map((f) => [f.key, f.kind, f.name, f.format, f.encoding])).toEqual([
      ['copy/REC.cpy', 'copybook', 'REC', 'fixed', 'ascii'],
      ['jcl/RUN.jcl', 'jcl', 'RUN', null, 'ascii'],
      ['notes.txt', 'unknown', 'NOTES', null, 'ascii'],
      ['src/B.cbl', 'program', 'BPROG', 'fixed', 'ascii'],
      ['src/free.cob', 'program', 'FREEONE', 'free', 'ascii'],
      ['src/latin.cbl', 'program', 'X', 'free', 'latin-1'],
    ]);
    expect(inv.files[5].encodingProblems).toEqual([{ line: 0, message: 'not valid UTF-8; decoded as Latin-1' }]);
    expect(inv.totals).toEqual({ files: 6, programs: 3, copybooks: 1, jcl: 1, unknown: 1, lines: 10 });
  });

  it('should convert EBCDIC sources', () => {
    // "IDENTIFICATION DIVISION." in code page 037, then a newline (0x25).
    const ebcdic = Buffer.from([0xc9, 0xc4, 0xc5, 0xd5, 0xe3, 0xc9, 0xc6, 0xc9, 0xc3, 0xc1, 0xe3, 0xc9, 0xd6, 0xd5, 0x40, 0xc4, 0xc9, 0xe5, 0xc9, 0xe2, 0xc9, 0xd6, 0xd5, 0x4b, 0x25]);
    const [f] = discoverInventory([{ key: 'E.cbl', content: ebcdic }]).files;
    expect(f).toMatchObject({ kind: 'program', encoding: 'ebcdic', lines: 1 });
  });
});

describe('Function: mapDependencies', () => {
  const { programs, resolveCopybook } = loadCorpus();
  const graph = mapDependencies(programs.map((p) => analyzeCobol(p.text, { fileName: p.fileName, resolveCopybook })));

  it('should find the call cycle, entry points and a callee-first migration order', () => {
    expect(graph.cycles).toEqual([['AUDITLOG', 'DATEUTIL']]);
    expect(graph.entryPoints).toEqual(['BADPROG', 'BATCHDRV', 'CUSTINQ', 'RATEUPD']);
    const order = graph.migrationOrder;
    expect(order).toHaveLength(15);
    expect(order.indexOf('INTCALC')).toBeLessThan(order.indexOf('INTACCR'));
    expect(order.indexOf('TXNPOST')).toBeLessThan(order.indexOf('BATCHDRV'));
    expect(order[order.length - 1]).toBe('BATCHDRV');
  });

  it('should resolve dynamic calls and link copybooks and shared files', () => {
    expect(graph.edges).toContainEqual({ from: 'program:BATCHDRV', to: 'program:EODRECON', kind: 'calls', dynamic: true });
    expect(graph.edges).toContainEqual({ from: 'program:CUSTINQ', to: 'program:ACCTRPT', kind: 'calls', via: 'CICS LINK' });
    expect(graph.edges).toContainEqual({ from: 'program:BADPROG', to: 'external:LOANCALC', kind: 'calls' });
    expect(graph.edges).toContainEqual({ from: 'program:TXNPOST', to: 'copybook:ACCTREC', kind: 'copybook' });
    expect(graph.edges).toContainEqual({ from: 'program:TXNPOST', to: 'file:ACCTMAST', kind: 'file', modes: ['I-O'] });
    expect(graph.mermaid).toMatch(/^graph LR\n/);
    expect(graph.mermaid).toContain('program_BATCHDRV -.->|dynamic| program_EODRECON');
  });
});
