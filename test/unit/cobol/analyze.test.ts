import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeCobol, type DataItem } from '../../../lambdas/migration/cobol/index';
import { fixed, program } from './fixtures';

const find = (items: DataItem[], name: string): DataItem | undefined => {
  for (const i of items) {
    if (i.name === name) return i;
    const inner = find(i.children, name);
    if (inner) return inner;
  }
  return undefined;
};

describe('Function: analyzeCobol', () => {
  describe('source formats', () => {
    it('should read fixed format, ignoring sequence numbers, comments and the identification area', () => {
      const src = [
        '000100 IDENTIFICATION DIVISION.                                         FIXEDPGM',
        '000200 PROGRAM-ID. FIXEDPGM.                                            FIXEDPGM',
        '000300* A COMMENT LINE                                                  FIXEDPGM',
        '000400/ PAGE EJECT COMMENT',
        '000500 PROCEDURE DIVISION.',
        '000600 MAIN-PARA.',
        '000700     DISPLAY "HI"                                                 FIXEDPGM',
        '000800     STOP RUN.',
      ].join('\n');
      const a = analyzeCobol(src, { fileName: 'f.cbl' });
      expect(a.format).toBe('fixed');
      expect(a.programId).toBe('FIXEDPGM');
      expect(a.metrics).toMatchObject({ totalLines: 8, commentLines: 2, codeLines: 6 });
      expect(a.paragraphs[0].statements.map((s) => s.text)).toEqual(['DISPLAY "HI"', 'STOP RUN']);
      expect(a.diagnostics).toEqual([]);
    });

    it('should detect free format and *> comments', () => {
      const src = ['identification division.', 'program-id. freepgm.', '*> comment', 'procedure division.', 'main.', '    display "x" *> trailing', '    goback.'].join('\n');
      const a = analyzeCobol(src, { fileName: 'f.cbl' });
      expect(a.format).toBe('free');
      expect(a.programId).toBe('FREEPGM');
      expect(a.metrics.commentLines).toBe(1);
      expect(a.paragraphs[0].statements.map((s) => s.verb)).toEqual(['DISPLAY', 'GOBACK']);
    });

    it('should honour >>SOURCE FORMAT directives', () => {
      const a = analyzeCobol('>>SOURCE FORMAT IS FREE\nid division.\nprogram-id. x.\nprocedure division.\n  goback.\n', { fileName: 'x.cbl' });
      expect(a.format).toBe('free');
      expect(a.status).toBe('ok');
    });

    it('should join a continued alphanumeric literal, padding the first line to column 72', () => {
      const first = '       01  WS-MSG PIC X(80) VALUE "ABC';
      const src = fixed(['IDENTIFICATION DIVISION.', 'PROGRAM-ID. C.', 'DATA DIVISION.', 'WORKING-STORAGE SECTION.']) + `${first}\n      -    "DEF".\n` + fixed(['PROCEDURE DIVISION.', 'GOBACK.']);
      const item = analyzeCobol(src, { fileName: 'c.cbl' }).dataItems[0];
      expect(item.value).toEqual({ kind: 'string', value: 'ABC' + ' '.repeat(72 - first.length) + 'DEF' });
    });

    it('should join a word split across a continuation line', () => {
      const src = program(['01 WS-TOTAL-AMOUNT PIC 9(5).'], ['MAIN.', '    MOVE 1 TO WS-TOTAL-', '-       AMOUNT', '    GOBACK.']);
      const a = analyzeCobol(src, { fileName: 'w.cbl' });
      expect(a.paragraphs[0].statements[0].text).toBe('MOVE 1 TO WS-TOTAL-AMOUNT');
    });

    it('should note encoding problems with their position', () => {
      const a = analyzeCobol(program(['01 A PIC X VALUE "\u00e9".'], ['MAIN.', '\tGOBACK.']), { fileName: 'e.cbl' });
      expect(a.encodingIssues.map((e) => e.message)).toEqual(
        expect.arrayContaining([expect.stringContaining('U+00E9'), expect.stringContaining('tab character')]),
      );
      expect(a.encodingIssues[0].line).toBe(5);
    });
  });

  describe('COPY', () => {
    const books: Record<string, string> = {
      REC: fixed(['01 :PFX:-REC.', '   05 :PFX:-ID PIC X(4).', '   05 :PFX:-AMT PIC S9(5)V99 COMP-3.']),
      WORDS: fixed(['01 OLD-NAME PIC X(3) VALUE "OLD".']),
      LEAD: fixed(['01 PREFIX-AREA.', '   05 PREFIX-CODE PIC X.']),
      NESTED: fixed(['COPY WORDS.']),
    };
    const resolveCopybook = (n: string): string | undefined => books[n];

    it('should expand COPY with pseudo-text REPLACING of a :TAG:', () => {
      const a = analyzeCobol(program(['COPY REC REPLACING ==:PFX:== BY ==WS==.'], ['GOBACK.']), { fileName: 'x.cbl', resolveCopybook });
      expect(a.dataItems[0].name).toBe('WS-REC');
      expect(a.dataItems[0].children.map((c) => c.name)).toEqual(['WS-ID', 'WS-AMT']);
      expect(a.dataItems[0].copybook).toBe('REC');
      expect(a.copybooks).toEqual([{ name: 'REC', line: 5, resolved: true, replacing: [{ from: ':PFX:', to: 'WS' }], nested: [] }]);
    });

    it('should replace whole words and LEADING parts of words', () => {
      const a = analyzeCobol(program(['COPY WORDS REPLACING OLD-NAME BY NEW-NAME "OLD" BY "NEW".', 'COPY LEAD REPLACING LEADING ==PREFIX== BY ==LK==.'], ['GOBACK.']), {
        fileName: 'x.cbl',
        resolveCopybook,
      });
      expect(a.dataItems.map((i) => i.name)).toEqual(['NEW-NAME', 'LK-AREA']);
      expect(a.dataItems[0].value).toEqual({ kind: 'string', value: 'NEW' });
      expect(a.dataItems[1].children[0].name).toBe('LK-CODE');
    });

    it('should resolve nested copybooks and report missing ones', () => {
      const a = analyzeCobol(program(['COPY NESTED.', 'COPY NOPE.'], ['GOBACK.']), { fileName: 'x.cbl', resolveCopybook });
      expect(a.dataItems[0].name).toBe('OLD-NAME');
      expect(a.copybooks.map((c) => [c.name, c.resolved, c.nested])).toEqual([
        ['NESTED', true, ['WORDS']],
        ['NOPE', false, []],
      ]);
      expect(a.diagnostics).toContainEqual({ line: 6, column: 8, severity: 'warning', message: 'copybook NOPE not found' });
    });
  });

  describe('data items', () => {
    const data = [
      '01 WS-REC.',
      '   05 WS-ID        PIC X(10) VALUE SPACES.',
      '   05 WS-BAL       PIC S9(7)V99 COMP-3 VALUE -12.50.',
      '   05 WS-COUNT     PIC 9(4) BINARY.',
      '   05 WS-ZONED     PIC S9(5) SIGN LEADING SEPARATE.',
      '   05 WS-N         PIC 99.',
      '   05 WS-ITEM OCCURS 1 TO 50 TIMES DEPENDING ON WS-N',
      '         ASCENDING KEY IS WS-ITEM-KEY INDEXED BY IX.',
      '      10 WS-ITEM-KEY PIC X(3).',
      '      10 WS-ITEM-AMT PIC 9(5)V99 USAGE IS COMPUTATIONAL-3.',
      '   05 WS-DATE      PIC 9(8).',
      '   05 WS-DATE-R REDEFINES WS-DATE.',
      '      10 WS-YYYY   PIC 9(4).',
      '      10 WS-MMDD   PIC 9(4).',
      '   05 WS-STATUS    PIC X.',
      '      88 WS-OPEN   VALUE "O".',
      '      88 WS-VALID  VALUES "A" "B" THRU "D".',
      '   05 WS-EDITED    PIC ZZ,ZZ9.99-.',
      '77 WS-FLOAT        COMP-2.',
    ];
    const a = analyzeCobol(program(data, ['GOBACK.']), { fileName: 'd.cbl' });

    it('should parse PIC, USAGE and VALUE', () => {
      expect(find(a.dataItems, 'WS-BAL')).toMatchObject({ pic: 'S9(7)V99', usage: 'COMP-3', value: { kind: 'number', value: '-12.50' }, picInfo: { category: 'numeric', digits: 9, scale: 2, signed: true }, size: 5 });
      expect(find(a.dataItems, 'WS-ID')).toMatchObject({ value: { kind: 'figurative', value: 'SPACE' }, size: 10 });
      expect(find(a.dataItems, 'WS-COUNT')).toMatchObject({ usage: 'BINARY', size: 2 });
      expect(find(a.dataItems, 'WS-ZONED')).toMatchObject({ signLeading: true, signSeparate: true, size: 6 });
      expect(find(a.dataItems, 'WS-EDITED')?.picInfo).toMatchObject({ category: 'numeric-edited', length: 10, scale: 2 });
      expect(find(a.dataItems, 'WS-FLOAT')).toMatchObject({ level: 77, usage: 'COMP-2', size: 8 });
    });

    it('should parse OCCURS DEPENDING ON with keys and indexes', () => {
      expect(find(a.dataItems, 'WS-ITEM')?.occurs).toEqual({ min: 1, max: 50, dependingOn: 'WS-N', indexedBy: ['IX'], keys: [{ order: 'ascending', name: 'WS-ITEM-KEY' }] });
      expect(find(a.dataItems, 'WS-ITEM')?.size).toBe(7);
    });

    it('should compute sizes and offsets, with REDEFINES sharing storage', () => {
      expect(find(a.dataItems, 'WS-DATE')).toMatchObject({ offset: 375, size: 8 });
      expect(find(a.dataItems, 'WS-DATE-R')).toMatchObject({ redefines: 'WS-DATE', offset: 375, size: 8 });
      expect(find(a.dataItems, 'WS-MMDD')?.offset).toBe(379);
      expect(find(a.dataItems, 'WS-STATUS')?.offset).toBe(383);
      expect(a.dataItems[0].size).toBe(394);
    });

    it('should attach 88-level conditions with values and ranges', () => {
      expect(find(a.dataItems, 'WS-STATUS')?.conditions).toEqual([
        { name: 'WS-OPEN', line: 20, values: [{ from: { kind: 'string', value: 'O' } }] },
        { name: 'WS-VALID', line: 21, values: [{ from: { kind: 'string', value: 'A' } }, { from: { kind: 'string', value: 'B' }, thru: { kind: 'string', value: 'D' } }] },
      ]);
      expect(a.diagnostics).toEqual([]);
    });
  });

  describe('files', () => {
    it('should parse SELECT clauses and attach the FD records and OPEN modes', () => {
      const src = fixed([
        'IDENTIFICATION DIVISION.',
        'PROGRAM-ID. FILES.',
        'ENVIRONMENT DIVISION.',
        'INPUT-OUTPUT SECTION.',
        'FILE-CONTROL.',
        '    SELECT OPTIONAL MASTER ASSIGN TO MASTDD',
        '        ORGANIZATION IS INDEXED ACCESS MODE IS DYNAMIC',
        '        RECORD KEY IS M-KEY',
        '        ALTERNATE RECORD KEY IS M-NAME WITH DUPLICATES',
        '        FILE STATUS IS WS-FS.',
        '    SELECT REPORT-OUT ASSIGN TO "report.txt"',
        '        ORGANIZATION IS LINE SEQUENTIAL.',
        'DATA DIVISION.',
        'FILE SECTION.',
        'FD  MASTER RECORD CONTAINS 20 CHARACTERS BLOCK CONTAINS 0 RECORDS.',
        '01  M-REC.',
        '    05 M-KEY  PIC X(10).',
        '    05 M-NAME PIC X(10).',
        'FD  REPORT-OUT.',
        '01  R-LINE PIC X(80).',
        'WORKING-STORAGE SECTION.',
        '01  WS-FS PIC XX.',
        'PROCEDURE DIVISION.',
        '    OPEN I-O MASTER OUTPUT REPORT-OUT',
        '    GOBACK.',
      ]);
      const a = analyzeCobol(src, { fileName: 'f.cbl' });
      expect(a.files).toEqual([
        {
          name: 'MASTER', line: 6, assignTo: 'MASTDD', organization: 'INDEXED', access: 'DYNAMIC', recordKey: 'M-KEY',
          alternateKeys: [{ name: 'M-NAME', duplicates: true }], fileStatus: 'WS-FS', optional: true, descriptor: 'FD', fdLine: 15,
          recordContains: { max: 20 }, blockContains: 0, records: ['M-REC'], openModes: ['I-O'],
        },
        {
          name: 'REPORT-OUT', line: 11, assignTo: 'report.txt', organization: 'LINE SEQUENTIAL', access: 'SEQUENTIAL',
          alternateKeys: [], optional: false, descriptor: 'FD', fdLine: 19, records: ['R-LINE'], openModes: ['OUTPUT'],
        },
      ]);
      expect(a.diagnostics).toEqual([]);
    });
  });

  describe('procedure division', () => {
    const proc = [
      'MAIN-PARA.',
      '    PERFORM INIT-PARA THRU INIT-EXIT',
      '    PERFORM WORK-PARA 3 TIMES',
      '    PERFORM VARYING I FROM 1 BY 1 UNTIL I > 10',
      '            AFTER J FROM 1 BY 2 UNTIL J > 4',
      '        IF I = J',
      '            DISPLAY I',
      '        ELSE',
      '            CONTINUE',
      '        END-IF',
      '    END-PERFORM',
      '    PERFORM WORK-PARA WITH TEST AFTER UNTIL I > 20 OR J = 0',
      '    CALL "SUBPGM" USING BY REFERENCE WS-A BY CONTENT WS-B',
      '    CALL WS-PGM USING WS-A',
      '    EVALUATE TRUE',
      '        WHEN I > 1',
      '        WHEN I < 0',
      '            MOVE 1 TO J',
      '        WHEN OTHER',
      '            MOVE 2 TO J',
      '    END-EVALUATE',
      '    GO TO DONE-PARA.',
      'INIT-PARA.',
      '    MOVE "NEXTPGM" TO WS-PGM',
      '    GO TO INIT-EXIT WORK-PARA DEPENDING ON I.',
      'INIT-EXIT.',
      '    EXIT.',
      'WORK-PARA.',
      '    READ IN-FILE AT END MOVE 1 TO I',
      '        NOT AT END ADD 1 TO J END-READ.',
      'DONE-PARA.',
      '    EXEC SQL',
      '        SELECT NAME INTO :WS-A FROM T WHERE ID = 1',
      '    END-EXEC',
      '    EXEC CICS LINK PROGRAM("CICSPGM") END-EXEC',
      '    STOP RUN.',
    ];
    const a = analyzeCobol(program(['01 I PIC 99.', '01 J PIC 99.', '01 WS-A PIC X.', '01 WS-B PIC X.', '01 WS-PGM PIC X(8) VALUE "DEFPGM".'], proc), { fileName: 'p.cbl' });

    it('should list paragraphs with line ranges', () => {
      expect(a.paragraphs.map((p) => [p.name, p.line, p.endLine])).toEqual([
        ['MAIN-PARA', 11, 32],
        ['INIT-PARA', 33, 35],
        ['INIT-EXIT', 36, 37],
        ['WORK-PARA', 38, 40],
        ['DONE-PARA', 41, 46],
      ]);
    });

    it('should build the PERFORM graph with THRU, TIMES, VARYING and UNTIL', () => {
      expect(a.performs).toEqual([
        { from: 'MAIN-PARA', to: 'INIT-PARA', thru: 'INIT-EXIT', line: 12, loop: false },
        { from: 'MAIN-PARA', to: 'WORK-PARA', line: 13, loop: true },
        { from: 'MAIN-PARA', to: 'WORK-PARA', line: 22, loop: true },
      ]);
      const varying = a.paragraphs[0].statements[2];
      expect(varying.perform).toEqual({
        inline: true,
        varying: [
          { variable: 'I', from: '1', by: '1', until: 'I > 10' },
          { variable: 'J', from: '1', by: '2', until: 'J > 4' },
        ],
      });
      expect(varying.body?.[0].verb).toBe('IF');
      expect(a.paragraphs[0].statements[3].perform).toMatchObject({ target: 'WORK-PARA', testAfter: true, until: 'I > 20 OR J = 0' });
    });

    it('should record static and dynamic CALLs with USING and resolved candidates', () => {
      expect(a.calls).toEqual([
        { from: 'MAIN-PARA', target: 'SUBPGM', dynamic: false, candidates: [], using: ['WS-A', 'WS-B'], line: 23, via: 'CALL' },
        { from: 'MAIN-PARA', target: 'WS-PGM', dynamic: true, candidates: ['DEFPGM', 'NEXTPGM'], using: ['WS-A'], line: 24, via: 'CALL' },
        { from: 'DONE-PARA', target: 'CICSPGM', dynamic: false, candidates: [], using: [], line: 45, via: 'CICS LINK' },
      ]);
    });

    it('should record GO TO, including DEPENDING ON', () => {
      expect(a.gotos).toEqual([
        { from: 'MAIN-PARA', to: ['DONE-PARA'], line: 32 },
        { from: 'INIT-PARA', to: ['INIT-EXIT', 'WORK-PARA'], dependingOn: 'I', line: 35 },
      ]);
    });

    it('should nest EVALUATE branches and conditional phrases', () => {
      const evaluate = a.paragraphs[0].statements.find((s) => s.verb === 'EVALUATE')!;
      expect(evaluate.whens?.map((w) => [w.conditions, w.body.map((b) => b.text)])).toEqual([
        [['I > 1', 'I < 0'], ['MOVE 1 TO J']],
        [['OTHER'], ['MOVE 2 TO J']],
      ]);
      const read = a.paragraphs[3].statements[0];
      expect(read.handlers?.map((h) => [h.phrase, h.body[0].text])).toEqual([
        ['AT END', 'MOVE 1 TO I'],
        ['NOT AT END', 'ADD 1 TO J'],
      ]);
    });

    it('should note EXEC SQL and EXEC CICS blocks with lines and paragraph', () => {
      expect(a.execBlocks.map((e) => [e.kind, e.command, e.line, e.endLine, e.paragraph])).toEqual([
        ['SQL', 'SELECT', 42, 44, 'DONE-PARA'],
        ['CICS', 'LINK', 45, 45, 'DONE-PARA'],
      ]);
      expect(a.execBlocks[0].text).toBe('SELECT NAME INTO :WS-A FROM T WHERE ID = 1');
    });

    it('should compute metrics', () => {
      expect(a.metrics).toMatchObject({ paragraphs: 5, sections: 0, maxNesting: 2 });
      expect(a.metrics.complexity).toBeGreaterThan(8);
      expect(a.status).toBe('ok');
    });
  });

  describe('malformed input', () => {
    it('should return a partial analysis with located diagnostics', () => {
      const src = fixed([
        'IDENTIFICATION DIVISION.',
        'PROGRAM-ID. BROKEN.',
        'DATA DIVISON.',
        'WORKING-STORAGE SECTION.',
        '01 A PIC X(5)',
        '01 B PIC 9V9V9.',
        '01 C PIC X VALUE "OPEN.',
        'PROCEDURE DIVISION.',
        'MAIN.',
        '    IF A = "X"',
        '        PERFORM NOWHERE',
        '    EVALUATE A WHEN "Y" DISPLAY "Y"',
        '    STOP RUN.',
      ]);
      const a = analyzeCobol(src, { fileName: 'broken.cbl' });
      expect(a.status).toBe('partial');
      expect(a.programId).toBe('BROKEN');
      expect(a.dataItems.map((i) => i.name)).toEqual(['A', 'B', 'C']);
      const errors = a.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}:${d.column} ${d.message}`);
      expect(errors).toEqual([
        '3:8 missing or misspelt DATA DIVISION header before WORKING-STORAGE SECTION',
        "5:17 data description of A not terminated by a period (next entry at level 01)",
        "6:8 more than one V in PICTURE '9V9V9'",
        '7:25 data description of C not terminated by a period',
        '7:25 unterminated alphanumeric literal',
        '11:1 PERFORM target NOWHERE is not a paragraph or section',
        '12:12 EVALUATE without END-EVALUATE',
      ]);
    });

    it('should never throw, whatever the input', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 400 }), (text) => {
          const a = analyzeCobol(text, { fileName: 'fuzz.cbl' });
          expect(() => JSON.stringify(a)).not.toThrow();
          for (const d of a.diagnostics) expect(d.line).toBeGreaterThanOrEqual(0);
        }),
        { numRuns: 200 },
      );
    });

    it('should report an empty file', () => {
      expect(analyzeCobol('', { fileName: 'empty.cbl' }).diagnostics).toEqual([{ line: 1, column: 1, severity: 'error', message: 'no COBOL source text' }]);
    });
  });
});
