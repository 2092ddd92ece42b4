       IDENTIFICATION DIVISION.
       PROGRAM-ID. DORMSWP.
      *----------------------------------------------------------------*
      * DORMANT ACCOUNT SWEEP. ACCOUNTS WITHOUT ACTIVITY FOR 12 MONTHS *
      * BECOME DORMANT; AFTER 36 MONTHS THE BALANCE IS ESCHEATED TO    *
      * THE STATE SUSPENSE ACCOUNT. SECTIONS AND GO TO DEPENDING ON    *
      * FROM THE 1987 VERSION.                                         *
      *----------------------------------------------------------------*
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           SELECT ACCT-MASTER ASSIGN TO ACCTMAST
               ORGANIZATION IS INDEXED
               ACCESS MODE IS DYNAMIC
               RECORD KEY IS DM-ACCT-KEY
               FILE STATUS IS WS-STATUS.
           SELECT ESCHEAT-FILE ASSIGN TO ESCHEAT
               FILE STATUS IS WS-ESC-STATUS.
       DATA DIVISION.
       FILE SECTION.
       FD  ACCT-MASTER.
           COPY ACCTREC REPLACING ==:PFX:== BY ==DM==.
       FD  ESCHEAT-FILE.
       01  ESCHEAT-RECORD.
           05  ESC-ACCT-KEY            PIC X(14).
           05  ESC-CUST-ID             PIC X(12).
           05  ESC-AMOUNT              PIC S9(11)V99.
           05  ESC-LAST-ACTIVITY       PIC 9(8).
       WORKING-STORAGE SECTION.
       01  WS-STATUS                   PIC XX.
           88  WS-OK                             VALUE '00'.
           88  WS-EOF                            VALUE '10'.
       01  WS-ESC-STATUS               PIC XX.
       01  WS-TODAY                    PIC 9(8).
       01  WS-MONTHS-IDLE              PIC S9(4)     COMP.
       01  WS-ACTION                   PIC 9.
       01  WS-COUNTS.
           05  WS-MADE-DORMANT         PIC 9(7)      COMP-3 VALUE 0.
           05  WS-ESCHEATED            PIC 9(7)      COMP-3 VALUE 0.
           05  WS-ESCHEAT-TOTAL        PIC S9(13)V99 COMP-3 VALUE 0.
       01  WS-LAST-ACT-R.
           05  WS-LA-YYYY              PIC 9(4).
           05  WS-LA-MM                PIC 99.
           05  WS-LA-DD                PIC 99.
       01  WS-TODAY-R.
           05  WS-TD-YYYY              PIC 9(4).
           05  WS-TD-MM                PIC 99.
           05  WS-TD-DD                PIC 99.
       PROCEDURE DIVISION.
       A000-CONTROL SECTION.
       A010-START.
           ACCEPT WS-TODAY FROM DATE YYYYMMDD
           MOVE WS-TODAY TO WS-TODAY-R
           OPEN I-O ACCT-MASTER
           OPEN OUTPUT ESCHEAT-FILE
           MOVE LOW-VALUES TO DM-ACCT-KEY
           START ACCT-MASTER KEY IS NOT LESS THAN DM-ACCT-KEY
               INVALID KEY
                   DISPLAY 'DORMSWP: EMPTY ACCOUNT MASTER'
                   GO TO A090-END
           END-START.
       A020-LOOP.
           READ ACCT-MASTER NEXT RECORD
               AT END GO TO A090-END.
           PERFORM B000-CLASSIFY.
           GO TO A030-DORMANT A040-ESCHEAT A050-SKIP
               DEPENDING ON WS-ACTION.
           GO TO A020-LOOP.
       A030-DORMANT.
           SET DM-DORMANT TO TRUE
           REWRITE DM-ACCOUNT-RECORD
           ADD 1 TO WS-MADE-DORMANT
           GO TO A020-LOOP.
       A040-ESCHEAT.
           PERFORM C000-ESCHEAT
           GO TO A020-LOOP.
       A050-SKIP.
           GO TO A020-LOOP.
       A090-END.
           CLOSE ACCT-MASTER ESCHEAT-FILE
           DISPLAY 'DORMSWP DORMANT ' WS-MADE-DORMANT
                   ' ESCHEATED ' WS-ESCHEATED
           GOBACK.

       B000-CLASSIFY SECTION.
       B010-MONTHS.
           MOVE 3 TO WS-ACTION
           IF DM-CLOSED
               NEXT SENTENCE
           ELSE
               MOVE DM-LAST-ACTIVITY TO WS-LAST-ACT-R
               COMPUTE WS-MONTHS-IDLE =
                   (WS-TD-YYYY - WS-LA-YYYY) * 12
                   + WS-TD-MM - WS-LA-MM
               IF WS-MONTHS-IDLE NOT < 36 AND DM-DORMANT
                   MOVE 2 TO WS-ACTION
               ELSE
                   IF WS-MONTHS-IDLE NOT < 12 AND DM-ACTIVE
                       MOVE 1 TO WS-ACTION
                   END-IF
               END-IF.
       B090-EXIT.
           EXIT.

       C000-ESCHEAT SECTION.
       C010-WRITE.
           MOVE DM-ACCT-KEY      TO ESC-ACCT-KEY
           MOVE DM-CUST-ID       TO ESC-CUST-ID
           MOVE DM-LEDGER-BAL    TO ESC-AMOUNT
           MOVE DM-LAST-ACTIVITY TO ESC-LAST-ACTIVITY
           WRITE ESCHEAT-RECORD
           ADD DM-LEDGER-BAL TO WS-ESCHEAT-TOTAL
           MOVE ZERO TO DM-LEDGER-BAL DM-AVAIL-BAL
           SET DM-CLOSED TO TRUE
           REWRITE DM-ACCOUNT-RECORD
           ADD 1 TO WS-ESCHEATED.
