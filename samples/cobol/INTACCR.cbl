       IDENTIFICATION DIVISION.
       PROGRAM-ID. INTACCR.
      *----------------------------------------------------------------*
      * NIGHTLY INTEREST ACCRUAL: BROWSES THE ACCOUNT MASTER, CALLS    *
      * INTCALC FOR EVERY ACTIVE INTEREST-BEARING ACCOUNT AND ADDS THE *
      * DAILY AMOUNT TO THE ACCRUED INTEREST. ON THE LAST DAY OF THE   *
      * MONTH THE ACCRUAL IS CAPITALISED.                              *
      *----------------------------------------------------------------*
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           SELECT ACCT-MASTER  ASSIGN TO ACCTMAST
               ORGANIZATION IS INDEXED
               ACCESS MODE IS SEQUENTIAL
               RECORD KEY IS AM-ACCT-KEY
               FILE STATUS IS WS-ACCT-STATUS.
       DATA DIVISION.
       FILE SECTION.
       FD  ACCT-MASTER.
           COPY ACCTREC REPLACING ==:PFX:== BY ==AM==.
       WORKING-STORAGE SECTION.
       01  WS-ACCT-STATUS              PIC XX.
           88  WS-ACCT-OK                        VALUE '00'.
           88  WS-ACCT-EOF                       VALUE '10'.
       01  WS-RUN-DATE                 PIC 9(8).
       01  WS-RUN-DATE-R REDEFINES WS-RUN-DATE.
           05  WS-RUN-YYYY             PIC 9(4).
           05  WS-RUN-MM               PIC 99.
           05  WS-RUN-DD               PIC 99.
       01  WS-MONTH-END-FLAG           PIC X     VALUE 'N'.
           88  WS-MONTH-END                      VALUE 'Y'.
       01  WS-TOTALS.
           05  WS-ACCOUNTS-READ        PIC 9(7)      COMP-3 VALUE 0.
           05  WS-ACCOUNTS-ACCRUED     PIC 9(7)      COMP-3 VALUE 0.
           05  WS-TOTAL-ACCRUED        PIC S9(11)V9(6) COMP-3 VALUE 0.
           05  WS-TOTAL-CAPITALISED    PIC S9(11)V99 COMP-3 VALUE 0.
       01  WS-INT-PARMS.
           05  WS-PRODUCT              PIC XX.
           05  WS-LEDGER-BAL           PIC S9(11)V99 COMP-3.
           05  WS-DAILY-INTEREST       PIC S9(7)V9(6) COMP-3.
           05  WS-RATE-USED            PIC 9V999.
           05  WS-TIER-USED            PIC 9.
           05  WS-INT-RC               PIC 99.
               88  WS-INT-OK                         VALUE 0.
           COPY DATEWS REPLACING LEADING ==PREFIX== BY ==DT==.
       PROCEDURE DIVISION.
       MAIN-PARAGRAPH.
           PERFORM INITIALIZE-RUN
           PERFORM ACCRUE-ACCOUNT UNTIL WS-ACCT-EOF
           CLOSE ACCT-MASTER
           DISPLAY 'INTACCR READ ' WS-ACCOUNTS-READ
                   ' ACCRUED ' WS-ACCOUNTS-ACCRUED
           DISPLAY 'INTACCR TOTAL ACCRUED ' WS-TOTAL-ACCRUED
           GOBACK.

       INITIALIZE-RUN.
           SET DT-FN-TODAY TO TRUE
           CALL 'DATEUTIL' USING DT-DATE-PARMS
           MOVE DT-RESULT-DATE TO WS-RUN-DATE
           SET DT-FN-ADD-DAYS TO TRUE
           MOVE WS-RUN-DATE TO DT-DATE-1
           MOVE 1 TO DT-DAYS
           CALL 'DATEUTIL' USING DT-DATE-PARMS
           IF DT-RESULT-DATE (7:2) = '01'
               SET WS-MONTH-END TO TRUE
           END-IF
           OPEN I-O ACCT-MASTER
           PERFORM READ-NEXT-ACCOUNT.

       READ-NEXT-ACCOUNT.
           READ ACCT-MASTER NEXT RECORD
               AT END SET WS-ACCT-EOF TO TRUE
               NOT AT END ADD 1 TO WS-ACCOUNTS-READ
           END-READ.

       ACCRUE-ACCOUNT.
           IF AM-ACTIVE AND (AM-SAVINGS OR AM-MONEY-MARKET
                             OR AM-TERM-DEPOSIT)
               MOVE AM-ACCT-TYPE  TO WS-PRODUCT
               MOVE AM-LEDGER-BAL TO WS-LEDGER-BAL
               CALL 'INTCALC' USING WS-INT-PARMS
               IF WS-INT-OK
                   ADD WS-DAILY-INTEREST TO AM-ACCRUED-INT
                   ADD WS-DAILY-INTEREST TO WS-TOTAL-ACCRUED
                   MOVE WS-TIER-USED TO AM-RATE-TIER
                   ADD 1 TO WS-ACCOUNTS-ACCRUED
               END-IF
               IF WS-MONTH-END
                   PERFORM CAPITALISE-INTEREST
               END-IF
               REWRITE AM-ACCOUNT-RECORD
           END-IF
           PERFORM READ-NEXT-ACCOUNT.

       CAPITALISE-INTEREST.
           COMPUTE AM-LEDGER-BAL ROUNDED =
                   AM-LEDGER-BAL + AM-ACCRUED-INT
           COMPUTE AM-YTD-INTEREST ROUNDED =
                   AM-YTD-INTEREST + AM-ACCRUED-INT
           ADD AM-ACCRUED-INT TO WS-TOTAL-CAPITALISED ROUNDED
           MOVE ZERO TO AM-ACCRUED-INT.
