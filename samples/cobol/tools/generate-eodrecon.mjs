#!/usr/bin/env node
// Generates samples/cobol/EODRECON.cbl, the corpus's large program (3,000+ lines). The output is committed;
// rerun after editing this script:  node samples/cobol/tools/generate-eodrecon.mjs
// Deterministic: the same script always writes the same file.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CODES = [
  ['DEP', 'DEPOSIT', 'TXN-DEPOSIT', '2100'],
  ['WDL', 'WITHDRAWAL', 'TXN-WITHDRAWAL', '2200'],
  ['TFI', 'TRANSFER IN', 'TXN-TRANSFER-IN', '2300'],
  ['TFO', 'TRANSFER OUT', 'TXN-TRANSFER-OUT', '2400'],
  ['FEE', 'FEE', 'TXN-FEE', '4100'],
  ['INT', 'INTEREST', 'TXN-INTEREST', '5100'],
  ['REV', 'REVERSAL', 'TXN-REVERSAL', '2900'],
  ['CHQ', 'CHEQUE', "TXN-CODE = 'CHQ'", '2500'],
  ['DDR', 'DIRECT DEBIT', "TXN-CODE = 'DDR'", '2600'],
];
const CHANNELS = [
  ['B', 'BRN', 'BRANCH', 'TXN-BRANCH', '050'],
  ['A', 'ATM', 'ATM', 'TXN-ATM', '010'],
  ['O', 'ONL', 'ONLINE', 'TXN-ONLINE', '025'],
  ['S', 'BAT', 'BATCH', 'TXN-BATCH', '100'],
];

const categories = [];
for (const [code, codeDesc, cond, gl] of CODES) {
  for (const [chan, chanAbbr, chanDesc, chanCond, tol] of CHANNELS) {
    categories.push({
      id: `${code}${chanAbbr}`,
      code,
      chan,
      desc: `${codeDesc} - ${chanDesc}`,
      cond,
      chanCond,
      gl: `${gl}-${chanAbbr}`,
      tolerance: `${tol}.00`,
      credit: ['DEP', 'TFI', 'INT'].includes(code),
    });
  }
}

const lines = [];
const out = (s = '') => lines.push(s === '' ? '' : `       ${s}`);
const comment = (s) => lines.push(`      *${s}`);
const box = (...texts) => {
  comment('-'.repeat(64) + '*');
  for (const t of texts) comment(` ${t.padEnd(63)}*`);
  comment('-'.repeat(64) + '*');
};

out('IDENTIFICATION DIVISION.');
out('PROGRAM-ID. EODRECON.');
out('AUTHOR. HARBOR SAVINGS BANK - GENERAL LEDGER TEAM.');
out('INSTALLATION. DATA CENTRE 2.');
out('DATE-WRITTEN. 1998-11-02.');
out('DATE-COMPILED.');
box(
  'EODRECON - END-OF-DAY RECONCILIATION OF POSTED TRANSACTIONS',
  'AGAINST THE GENERAL LEDGER EXTRACT.',
  '',
  'POSTED TRANSACTIONS ARE ACCUMULATED BY CATEGORY (TRANSACTION',
  `CODE x CHANNEL, ${categories.length} CATEGORIES). EACH CATEGORY IS COMPARED WITH`,
  'ITS GENERAL LEDGER ACCOUNT; DIFFERENCES WITHIN THE CATEGORY',
  'TOLERANCE ARE BOOKED TO THE ROUNDING ACCOUNT, LARGER ONES ARE',
  'WRITTEN TO THE EXCEPTION FILE AND AN ADJUSTMENT IS PROPOSED.',
  '',
  'CHANGE LOG',
  '1998-11-02  INITIAL VERSION (Y2K PROGRAMME)',
  '2003-06-17  ONLINE CHANNEL ADDED',
  '2011-02-08  CHEQUE AND DIRECT DEBIT CATEGORIES',
  '2019-09-30  TOLERANCES PER CHANNEL',
);
out('ENVIRONMENT DIVISION.');
out('CONFIGURATION SECTION.');
out('SOURCE-COMPUTER. IBM-ZSERIES.');
out('OBJECT-COMPUTER. IBM-ZSERIES.');
out('INPUT-OUTPUT SECTION.');
out('FILE-CONTROL.');
out('    SELECT POSTED-TXNS   ASSIGN TO TXNPOSTD');
out('        ORGANIZATION IS SEQUENTIAL');
out('        FILE STATUS IS WS-TXN-STATUS.');
out('    SELECT GL-EXTRACT    ASSIGN TO GLEXTR');
out('        ORGANIZATION IS SEQUENTIAL');
out('        FILE STATUS IS WS-GL-STATUS.');
out('    SELECT RECON-REPORT  ASSIGN TO RECONRPT');
out('        FILE STATUS IS WS-RPT-STATUS.');
out('    SELECT EXCEPTIONS    ASSIGN TO RECONEXC');
out('        FILE STATUS IS WS-EXC-STATUS.');
out('DATA DIVISION.');
out('FILE SECTION.');
out('FD  POSTED-TXNS');
out('    RECORD CONTAINS 120 CHARACTERS.');
out('    COPY TXNREC.');
out('FD  GL-EXTRACT');
out('    RECORD CONTAINS 40 CHARACTERS.');
out('01  GL-RECORD.');
out('    05  GL-ACCOUNT              PIC X(10).');
out('    05  GL-BALANCE              PIC S9(13)V99.');
out('    05  GL-CURRENCY             PIC X(3).');
out('    05  FILLER                  PIC X(12).');
out('FD  RECON-REPORT');
out('    RECORD CONTAINS 133 CHARACTERS.');
out('01  REPORT-LINE                 PIC X(133).');
out('FD  EXCEPTIONS');
out('    RECORD CONTAINS 100 CHARACTERS.');
out('01  EXCEPTION-RECORD.');
out('    05  EXC-CATEGORY            PIC X(6).');
out('    05  EXC-GL-ACCOUNT          PIC X(10).');
out('    05  EXC-TXN-AMOUNT          PIC S9(13)V99.');
out('    05  EXC-GL-AMOUNT           PIC S9(13)V99.');
out('    05  EXC-DIFFERENCE          PIC S9(13)V99.');
out('    05  EXC-REASON              PIC X(39).');
out('WORKING-STORAGE SECTION.');
out('01  WS-PROGRAM-NAME             PIC X(8)  VALUE \'EODRECON\'.');
out('01  WS-ABEND-MSG                PIC X(60) VALUE SPACES.');
out('01  WS-FILE-STATUSES.');
out('    05  WS-TXN-STATUS           PIC XX.');
out("        88  WS-TXN-OK                     VALUE '00'.");
out("        88  WS-TXN-EOF                    VALUE '10'.");
out('    05  WS-GL-STATUS            PIC XX.');
out("        88  WS-GL-OK                      VALUE '00'.");
out("        88  WS-GL-EOF                     VALUE '10'.");
out('    05  WS-RPT-STATUS           PIC XX.');
out('    05  WS-EXC-STATUS           PIC XX.');
out('01  WS-RUN-TOTALS.');
out('    05  WS-TXN-READ             PIC 9(9)      COMP-3 VALUE 0.');
out('    05  WS-TXN-UNCLASSIFIED     PIC 9(9)      COMP-3 VALUE 0.');
out('    05  WS-LARGE-ITEMS          PIC 9(7)      COMP-3 VALUE 0.');
out('    05  WS-OUT-OF-BALANCE-COUNT PIC 9(5)      COMP-3 VALUE 0.');
out('    05  WS-ROUNDING-TOTAL       PIC S9(9)V99  COMP-3 VALUE 0.');
out('    05  WS-ADJUSTMENT-TOTAL     PIC S9(13)V99 COMP-3 VALUE 0.');
out('    05  WS-CREDIT-TOTAL         PIC S9(15)V99 COMP-3 VALUE 0.');
out('    05  WS-DEBIT-TOTAL          PIC S9(15)V99 COMP-3 VALUE 0.');
out('01  WS-LIMITS.');
out('    05  WS-LARGE-ITEM-LIMIT     PIC 9(9)V99   VALUE 50000.00.');
out('    05  WS-MAX-ADJUSTMENT       PIC 9(9)V99   VALUE 100000.00.');
out('01  WS-WORK-FIELDS.');
out('    05  WS-CURRENT-CATEGORY     PIC X(6).');
out('    05  WS-LOOKUP-GL            PIC X(10).');
out('    05  WS-FOUND-GL-AMOUNT      PIC S9(13)V99 COMP-3.');
out('    05  WS-ABS-DIFF             PIC S9(13)V99 COMP-3.');
out('    05  WS-EXC-DIFF             PIC S9(13)V99 COMP-3.');
out('    05  WS-EXC-TXN              PIC S9(13)V99 COMP-3.');
out('    05  WS-EXC-GL               PIC S9(13)V99 COMP-3.');
out('    05  WS-EXC-REASON           PIC X(39).');
out('    05  WS-GL-FOUND-FLAG        PIC X.');
out("        88  WS-GL-FOUND                   VALUE 'Y'.");
out("        88  WS-GL-NOT-FOUND               VALUE 'N'.");
out('01  WS-GL-TABLE.');
out('    05  WS-GL-COUNT             PIC 9(4)      COMP VALUE 0.');
out('    05  WS-GL-ENTRY OCCURS 1 TO 500 TIMES');
out('            DEPENDING ON WS-GL-COUNT');
out('            INDEXED BY WS-GL-IX.');
out('        10  WS-GL-ACCT          PIC X(10).');
out('        10  WS-GL-BAL           PIC S9(13)V99 COMP-3.');
out('01  WS-GL-SUB                   PIC 9(4)      COMP.');
out('01  WS-REPORT-HEADER.');
out("    05  FILLER                  PIC X(1)  VALUE '1'.");
out("    05  FILLER                  PIC X(40) VALUE");
out("        'EODRECON - END OF DAY RECONCILIATION'.");
out('    05  FILLER                  PIC X(10) VALUE SPACES.');
out("    05  FILLER                  PIC X(10) VALUE 'RUN DATE: '.");
out('    05  RH-RUN-DATE             PIC 9999/99/99.');
out('    05  FILLER                  PIC X(62) VALUE SPACES.');
out('01  WS-REPORT-DETAIL.');
out('    05  FILLER                  PIC X     VALUE SPACE.');
out('    05  RD-CATEGORY             PIC X(6).');
out('    05  FILLER                  PIC X     VALUE SPACE.');
out('    05  RD-DESCRIPTION          PIC X(24).');
out('    05  RD-COUNT                PIC ZZZ,ZZ9.');
out('    05  FILLER                  PIC X     VALUE SPACE.');
out('    05  RD-TXN-AMOUNT           PIC ZZZ,ZZZ,ZZZ,ZZ9.99-.');
out('    05  FILLER                  PIC X     VALUE SPACE.');
out('    05  RD-GL-AMOUNT            PIC ZZZ,ZZZ,ZZZ,ZZ9.99-.');
out('    05  FILLER                  PIC X     VALUE SPACE.');
out('    05  RD-DIFFERENCE           PIC ZZZ,ZZZ,ZZ9.99-.');
out('    05  FILLER                  PIC X     VALUE SPACE.');
out('    05  RD-STATUS               PIC X(12).');
out('    05  FILLER                  PIC X(20) VALUE SPACES.');
out('01  WS-RUN-DATE                 PIC 9(8).');
out('    COPY DATEWS REPLACING LEADING ==PREFIX== BY ==DT==.');
out('01  WS-AUDIT-PARMS.');
out("    05  WS-AUD-PROGRAM          PIC X(8)  VALUE 'EODRECON'.");
out('    05  WS-AUD-EVENT            PIC X(4).');
out('    05  WS-AUD-KEY              PIC X(14).');
out('    05  WS-AUD-AMOUNT           PIC S9(11)V99 COMP-3.');
out('    05  WS-AUD-TEXT             PIC X(80).');
comment(' CATEGORY ACCUMULATORS');
for (const c of categories) {
  out(`01  WS-CAT-${c.id}.`);
  out(`    05  WS-${c.id}-COUNT        PIC 9(7)      COMP-3 VALUE 0.`);
  out(`    05  WS-${c.id}-AMOUNT       PIC S9(13)V99 COMP-3 VALUE 0.`);
  out(`    05  WS-${c.id}-GL-AMOUNT    PIC S9(13)V99 COMP-3 VALUE 0.`);
  out(`    05  WS-${c.id}-DIFF         PIC S9(13)V99 COMP-3 VALUE 0.`);
  out(`    05  WS-${c.id}-ADJUST       PIC S9(13)V99 COMP-3 VALUE 0.`);
  out(`    05  WS-${c.id}-TOLERANCE    PIC 9(3)V99   VALUE ${c.tolerance}.`);
  out(`    05  WS-${c.id}-GL-ACCOUNT   PIC X(10)     VALUE '${c.gl}'.`);
  out(`    05  WS-${c.id}-STATUS       PIC X         VALUE 'U'.`);
  out(`        88  WS-${c.id}-BALANCED           VALUE 'B'.`);
  out(`        88  WS-${c.id}-OUT-OF-BAL         VALUE 'O'.`);
  out(`        88  WS-${c.id}-UNCHECKED          VALUE 'U'.`);
}

out('PROCEDURE DIVISION.');
out('0000-MAINLINE.');
out('    PERFORM 1000-INITIALIZE');
out('    PERFORM 1500-LOAD-GL-TABLE');
out('    PERFORM 2000-ACCUMULATE UNTIL WS-TXN-EOF');
out('    PERFORM 4000-COMPARE-ALL');
out('    PERFORM 5000-REPORT-ALL');
out('    PERFORM 6000-ADJUST-ALL');
out('    PERFORM 9000-TERMINATE');
out('    GOBACK.');
out();
out('1000-INITIALIZE.');
out('    OPEN INPUT  POSTED-TXNS GL-EXTRACT');
out('         OUTPUT RECON-REPORT EXCEPTIONS');
out('    IF NOT WS-TXN-OK');
out("        MOVE 'OPEN TXNPOSTD FAILED' TO WS-ABEND-MSG");
out('        PERFORM 9900-ABEND');
out('    END-IF');
out('    IF NOT WS-GL-OK');
out("        MOVE 'OPEN GLEXTR FAILED' TO WS-ABEND-MSG");
out('        PERFORM 9900-ABEND');
out('    END-IF');
out('    SET DT-FN-TODAY TO TRUE');
out("    CALL 'DATEUTIL' USING DT-DATE-PARMS");
out('    MOVE DT-RESULT-DATE TO WS-RUN-DATE');
out('    MOVE WS-RUN-DATE TO RH-RUN-DATE');
out('    WRITE REPORT-LINE FROM WS-REPORT-HEADER');
out('    PERFORM 2900-READ-TXN.');
out();
out('1500-LOAD-GL-TABLE.');
out('    MOVE ZERO TO WS-GL-COUNT');
out('    PERFORM UNTIL WS-GL-EOF');
out('        READ GL-EXTRACT');
out('            AT END');
out('                SET WS-GL-EOF TO TRUE');
out('            NOT AT END');
out('                IF WS-GL-COUNT < 500');
out('                    ADD 1 TO WS-GL-COUNT');
out('                    MOVE GL-ACCOUNT TO WS-GL-ACCT (WS-GL-COUNT)');
out('                    MOVE GL-BALANCE TO WS-GL-BAL (WS-GL-COUNT)');
out('                ELSE');
out("                    MOVE 'GL TABLE OVERFLOW' TO WS-ABEND-MSG");
out('                    PERFORM 9900-ABEND');
out('                END-IF');
out('        END-READ');
out('    END-PERFORM.');
out();
out('2000-ACCUMULATE.');
out('    EVALUATE TRUE ALSO TXN-CHANNEL');
categories.forEach((c) => {
  out(`        WHEN ${c.cond} ALSO '${c.chan}'`);
  out(`            PERFORM 3${String(categories.indexOf(c) + 1).padStart(2, '0')}0-ACCUM-${c.id}`);
});
out('        WHEN OTHER');
out('            ADD 1 TO WS-TXN-UNCLASSIFIED');
out('    END-EVALUATE');
out('    IF TXN-CREDIT');
out('        ADD TXN-AMOUNT TO WS-CREDIT-TOTAL');
out('    ELSE');
out('        ADD TXN-AMOUNT TO WS-DEBIT-TOTAL');
out('    END-IF');
out('    PERFORM 2900-READ-TXN.');
out();
out('2900-READ-TXN.');
out('    READ POSTED-TXNS');
out('        AT END');
out('            SET WS-TXN-EOF TO TRUE');
out('        NOT AT END');
out('            ADD 1 TO WS-TXN-READ');
out('    END-READ.');
out();

const num = (prefix, i) => `${prefix}${String(i + 1).padStart(2, '0')}0`;
categories.forEach((c, i) => {
  out(`${num('3', i)}-ACCUM-${c.id}.`);
  comment(`    ${c.desc}: ${c.credit ? 'CREDITS THE CUSTOMER' : 'DEBITS THE CUSTOMER'}`);
  out(`    ADD 1 TO WS-${c.id}-COUNT`);
  out(`    ADD TXN-AMOUNT TO WS-${c.id}-AMOUNT`);
  out(`    IF TXN-AMOUNT > WS-LARGE-ITEM-LIMIT`);
  out('        ADD 1 TO WS-LARGE-ITEMS');
  out(`        MOVE '${c.id}' TO WS-CURRENT-CATEGORY`);
  out('        PERFORM 8100-LOG-LARGE-ITEM');
  out('    END-IF.');
  out();
});

out('4000-COMPARE-ALL.');
categories.forEach((c, i) => out(`    PERFORM ${num('4', i)}-COMPARE-${c.id}`));
out('    CONTINUE.');
out();
categories.forEach((c, i) => {
  out(`${num('4', i)}-COMPARE-${c.id}.`);
  out(`    MOVE '${c.id}' TO WS-CURRENT-CATEGORY`);
  out(`    MOVE WS-${c.id}-GL-ACCOUNT TO WS-LOOKUP-GL`);
  out('    PERFORM 7000-FIND-GL-BALANCE');
  out(`    MOVE WS-FOUND-GL-AMOUNT TO WS-${c.id}-GL-AMOUNT`);
  out(`    COMPUTE WS-${c.id}-DIFF =`);
  out(`        WS-${c.id}-AMOUNT - WS-${c.id}-GL-AMOUNT`);
  out(`    IF WS-${c.id}-DIFF < ZERO`);
  out(`        COMPUTE WS-ABS-DIFF = ZERO - WS-${c.id}-DIFF`);
  out('    ELSE');
  out(`        MOVE WS-${c.id}-DIFF TO WS-ABS-DIFF`);
  out('    END-IF');
  out('    EVALUATE TRUE');
  out(`        WHEN WS-GL-NOT-FOUND AND WS-${c.id}-COUNT > ZERO`);
  out(`            SET WS-${c.id}-OUT-OF-BAL TO TRUE`);
  out('            ADD 1 TO WS-OUT-OF-BALANCE-COUNT');
  out(`            MOVE WS-${c.id}-DIFF TO WS-EXC-DIFF`);
  out(`            MOVE WS-${c.id}-AMOUNT TO WS-EXC-TXN`);
  out('            MOVE ZERO TO WS-EXC-GL');
  out("            MOVE 'GL ACCOUNT MISSING FROM EXTRACT'");
  out('              TO WS-EXC-REASON');
  out('            PERFORM 8000-WRITE-EXCEPTION');
  out(`        WHEN WS-ABS-DIFF NOT > WS-${c.id}-TOLERANCE`);
  out(`            SET WS-${c.id}-BALANCED TO TRUE`);
  out(`            ADD WS-${c.id}-DIFF TO WS-ROUNDING-TOTAL`);
  out('        WHEN OTHER');
  out(`            SET WS-${c.id}-OUT-OF-BAL TO TRUE`);
  out('            ADD 1 TO WS-OUT-OF-BALANCE-COUNT');
  out(`            MOVE WS-${c.id}-DIFF TO WS-EXC-DIFF`);
  out(`            MOVE WS-${c.id}-AMOUNT TO WS-EXC-TXN`);
  out(`            MOVE WS-${c.id}-GL-AMOUNT TO WS-EXC-GL`);
  out("            MOVE 'DIFFERENCE ABOVE TOLERANCE' TO WS-EXC-REASON");
  out('            PERFORM 8000-WRITE-EXCEPTION');
  out('    END-EVALUATE.');
  out();
});

out('5000-REPORT-ALL.');
categories.forEach((c, i) => out(`    PERFORM ${num('5', i)}-REPORT-${c.id}`));
out('    CONTINUE.');
out();
categories.forEach((c, i) => {
  out(`${num('5', i)}-REPORT-${c.id}.`);
  out('    MOVE SPACES TO RD-STATUS');
  out(`    MOVE '${c.id}' TO RD-CATEGORY`);
  out(`    MOVE '${c.desc}' TO RD-DESCRIPTION`);
  out(`    MOVE WS-${c.id}-COUNT TO RD-COUNT`);
  out(`    MOVE WS-${c.id}-AMOUNT TO RD-TXN-AMOUNT`);
  out(`    MOVE WS-${c.id}-GL-AMOUNT TO RD-GL-AMOUNT`);
  out(`    MOVE WS-${c.id}-DIFF TO RD-DIFFERENCE`);
  out('    EVALUATE TRUE');
  out(`        WHEN WS-${c.id}-BALANCED`);
  out("            MOVE 'BALANCED' TO RD-STATUS");
  out(`        WHEN WS-${c.id}-OUT-OF-BAL`);
  out("            MOVE 'OUT OF BAL' TO RD-STATUS");
  out('        WHEN OTHER');
  out("            MOVE 'NOT CHECKED' TO RD-STATUS");
  out('    END-EVALUATE');
  out('    WRITE REPORT-LINE FROM WS-REPORT-DETAIL.');
  out();
});

out('6000-ADJUST-ALL.');
categories.forEach((c, i) => out(`    PERFORM ${num('6', i)}-ADJUST-${c.id}`));
out('    CONTINUE.');
out();
categories.forEach((c, i) => {
  out(`${num('6', i)}-ADJUST-${c.id}.`);
  comment('    PROPOSE AN ADJUSTMENT ONLY FOR CATEGORIES OUT OF BALANCE;');
  comment('    ADJUSTMENTS ABOVE THE LIMIT NEED A MANUAL JOURNAL ENTRY.');
  out(`    IF WS-${c.id}-OUT-OF-BAL`);
  out(`        MOVE WS-${c.id}-DIFF TO WS-${c.id}-ADJUST`);
  out(`        IF WS-${c.id}-ADJUST < ZERO`);
  out(`            COMPUTE WS-ABS-DIFF = ZERO - WS-${c.id}-ADJUST`);
  out('        ELSE');
  out(`            MOVE WS-${c.id}-ADJUST TO WS-ABS-DIFF`);
  out('        END-IF');
  out('        IF WS-ABS-DIFF > WS-MAX-ADJUSTMENT');
  out("            MOVE 'WARN' TO WS-AUD-EVENT");
  out(`            MOVE 'MANUAL JOURNAL NEEDED FOR ${c.id}'`);
  out('              TO WS-AUD-TEXT');
  out(`            MOVE WS-${c.id}-ADJUST TO WS-AUD-AMOUNT`);
  out('            PERFORM 8200-AUDIT');
  out('        ELSE');
  out(`            ADD WS-${c.id}-ADJUST TO WS-ADJUSTMENT-TOTAL`);
  out('        END-IF');
  out('    END-IF.');
  out();
});

out('7000-FIND-GL-BALANCE.');
out('    SET WS-GL-NOT-FOUND TO TRUE');
out('    MOVE ZERO TO WS-FOUND-GL-AMOUNT');
out('    PERFORM VARYING WS-GL-SUB FROM 1 BY 1');
out('            UNTIL WS-GL-SUB > WS-GL-COUNT OR WS-GL-FOUND');
out('        IF WS-GL-ACCT (WS-GL-SUB) = WS-LOOKUP-GL');
out('            SET WS-GL-FOUND TO TRUE');
out('            MOVE WS-GL-BAL (WS-GL-SUB) TO WS-FOUND-GL-AMOUNT');
out('        END-IF');
out('    END-PERFORM.');
out();
out('7100-FIND-GL-BY-SEARCH.');
comment('    KEPT FOR THE ONLINE INQUIRY VARIANT (TABLE SORTED BY KEY).');
out('    SET WS-GL-IX TO 1');
out('    SEARCH WS-GL-ENTRY');
out('        AT END');
out('            SET WS-GL-NOT-FOUND TO TRUE');
out('        WHEN WS-GL-ACCT (WS-GL-IX) = WS-LOOKUP-GL');
out('            SET WS-GL-FOUND TO TRUE');
out('            MOVE WS-GL-BAL (WS-GL-IX) TO WS-FOUND-GL-AMOUNT');
out('    END-SEARCH.');
out();
out('8000-WRITE-EXCEPTION.');
out('    MOVE WS-CURRENT-CATEGORY TO EXC-CATEGORY');
out('    MOVE WS-LOOKUP-GL        TO EXC-GL-ACCOUNT');
out('    MOVE WS-EXC-TXN          TO EXC-TXN-AMOUNT');
out('    MOVE WS-EXC-GL           TO EXC-GL-AMOUNT');
out('    MOVE WS-EXC-DIFF         TO EXC-DIFFERENCE');
out('    MOVE WS-EXC-REASON       TO EXC-REASON');
out('    WRITE EXCEPTION-RECORD.');
out();
out('8100-LOG-LARGE-ITEM.');
out("    MOVE 'INFO' TO WS-AUD-EVENT");
out('    MOVE TXN-AMOUNT TO WS-AUD-AMOUNT');
out("    MOVE 'LARGE ITEM IN RECONCILIATION' TO WS-AUD-TEXT");
out('    PERFORM 8200-AUDIT.');
out();
out('8200-AUDIT.');
out('    MOVE TXN-ACCT-KEY TO WS-AUD-KEY');
out("    CALL 'AUDITLOG' USING WS-AUDIT-PARMS.");
out();
out('9000-TERMINATE.');
out('    CLOSE POSTED-TXNS GL-EXTRACT RECON-REPORT EXCEPTIONS');
out("    DISPLAY 'EODRECON TRANSACTIONS READ   ' WS-TXN-READ");
out("    DISPLAY 'EODRECON UNCLASSIFIED        ' WS-TXN-UNCLASSIFIED");
out("    DISPLAY 'EODRECON OUT OF BALANCE      '");
out('            WS-OUT-OF-BALANCE-COUNT');
out("    DISPLAY 'EODRECON ROUNDING TOTAL      ' WS-ROUNDING-TOTAL");
out("    DISPLAY 'EODRECON ADJUSTMENTS         ' WS-ADJUSTMENT-TOTAL");
out('    IF WS-OUT-OF-BALANCE-COUNT > ZERO');
out('        MOVE 4 TO RETURN-CODE');
out('    ELSE');
out('        MOVE ZERO TO RETURN-CODE');
out('    END-IF.');
out();
out('    COPY ERRPARA.');

// Sequence numbers in columns 1-6 (step 10), as a mainframe editor would leave them.
const numbered = lines.map((l, i) => {
  const body = l === '' ? '' : l.slice(6);
  const text = String((i + 1) * 10).padStart(6, '0') + body;
  if (text.length > 72) throw new Error(`line ${i + 1} longer than 72 columns: ${text}`);
  return text;
});
const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'EODRECON.cbl');
writeFileSync(target, numbered.join('\n') + '\n');
console.log(`wrote ${target}: ${numbered.length} lines, ${categories.length} categories`);
