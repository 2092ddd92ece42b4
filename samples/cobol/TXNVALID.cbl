       IDENTIFICATION DIVISION.
       PROGRAM-ID. TXNVALID.
      *----------------------------------------------------------------*
      * VALIDATES THE DAILY TRANSACTION FILE.                          *
      * GOOD TRANSACTIONS GO TO TXNGOOD, REJECTS (WITH A REASON CODE)  *
      * TO TXNREJ. A CONTROL TOTAL LINE IS DISPLAYED AT THE END.       *
      *----------------------------------------------------------------*
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           SELECT TXN-IN     ASSIGN TO TXNIN
               FILE STATUS IS WS-IN-STATUS.
           SELECT TXN-GOOD   ASSIGN TO TXNGOOD
               FILE STATUS IS WS-GOOD-STATUS.
           SELECT TXN-REJECT ASSIGN TO TXNREJ
               FILE STATUS IS WS-REJ-STATUS.
       DATA DIVISION.
       FILE SECTION.
       FD  TXN-IN
           RECORD CONTAINS 120 CHARACTERS.
           COPY TXNREC.
       FD  TXN-GOOD
           RECORD CONTAINS 120 CHARACTERS.
       01  GOOD-RECORD                 PIC X(120).
       FD  TXN-REJECT
           RECORD CONTAINS 120 CHARACTERS.
       01  REJECT-RECORD               PIC X(120).
       WORKING-STORAGE SECTION.
       01  WS-STATUSES.
           05  WS-IN-STATUS            PIC XX.
               88  WS-IN-OK                          VALUE '00'.
               88  WS-IN-EOF                         VALUE '10'.
           05  WS-GOOD-STATUS          PIC XX.
           05  WS-REJ-STATUS           PIC XX.
       01  WS-FLAGS.
           05  WS-EOF-FLAG             PIC X         VALUE 'N'.
               88  WS-END-OF-INPUT                   VALUE 'Y'.
           05  WS-VALID-FLAG           PIC X.
               88  WS-TXN-VALID                      VALUE 'Y'.
               88  WS-TXN-INVALID                    VALUE 'N'.
       01  WS-COUNTERS.
           05  WS-READ-COUNT           PIC 9(7)      COMP-3 VALUE 0.
           05  WS-GOOD-COUNT           PIC 9(7)      COMP-3 VALUE 0.
           05  WS-REJECT-COUNT         PIC 9(7)      COMP-3 VALUE 0.
           05  WS-CREDIT-TOTAL         PIC S9(13)V99 COMP-3 VALUE 0.
           05  WS-DEBIT-TOTAL          PIC S9(13)V99 COMP-3 VALUE 0.
       01  WS-LIMITS.
           05  WS-MAX-ATM-AMOUNT       PIC 9(5)V99   VALUE 1000.00.
           05  WS-MAX-SINGLE-AMOUNT    PIC 9(9)V99   VALUE 250000.00.
       01  WS-REASON                   PIC X(4).
       01  WS-TOTALS-LINE.
           05  FILLER                  PIC X(62) VALUE
               'TXNVALID CONTROL TOTALS FOR THE DAILY RUN (READ/GOOD/REJ
      -        'ECT): '.
           05  WS-TL-READ              PIC ZZZ,ZZ9.
           05  FILLER                  PIC X     VALUE '/'.
           05  WS-TL-GOOD              PIC ZZZ,ZZ9.
           05  FILLER                  PIC X     VALUE '/'.
           05  WS-TL-REJECT            PIC ZZZ,ZZ9.
           COPY DATEWS REPLACING LEADING ==PREFIX== BY ==WS==.
       PROCEDURE DIVISION.
       0000-MAIN.
           PERFORM 1000-INITIALIZE
           PERFORM 2000-PROCESS-TRANSACTION UNTIL WS-END-OF-INPUT
           PERFORM 9000-TERMINATE
           STOP RUN.

       1000-INITIALIZE.
           OPEN INPUT  TXN-IN
                OUTPUT TXN-GOOD TXN-REJECT
           IF NOT WS-IN-OK
               DISPLAY 'TXNVALID: CANNOT OPEN TXNIN ' WS-IN-STATUS
               MOVE 16 TO RETURN-CODE
               STOP RUN
           END-IF
           PERFORM 1100-READ-TRANSACTION.

       1100-READ-TRANSACTION.
           READ TXN-IN
               AT END
                   SET WS-END-OF-INPUT TO TRUE
               NOT AT END
                   ADD 1 TO WS-READ-COUNT
           END-READ.

       2000-PROCESS-TRANSACTION.
           SET WS-TXN-VALID TO TRUE
           MOVE SPACES TO WS-REASON
           PERFORM 2100-VALIDATE-CODE
           IF WS-TXN-VALID
               PERFORM 2200-VALIDATE-AMOUNT
           END-IF
           IF WS-TXN-VALID
               PERFORM 2300-VALIDATE-DATES
           END-IF
           IF WS-TXN-VALID
               PERFORM 2400-WRITE-GOOD
           ELSE
               PERFORM 2500-WRITE-REJECT
           END-IF
           PERFORM 1100-READ-TRANSACTION.

       2100-VALIDATE-CODE.
           EVALUATE TRUE
               WHEN TXN-CREDIT
               WHEN TXN-DEBIT
                   CONTINUE
               WHEN TXN-REVERSAL
                   IF TXN-ID (1:3) NOT = 'REV'
                       SET WS-TXN-INVALID TO TRUE
                       MOVE 'R001' TO WS-REASON
                   END-IF
               WHEN OTHER
                   SET WS-TXN-INVALID TO TRUE
                   MOVE 'C001' TO WS-REASON
           END-EVALUATE.

       2200-VALIDATE-AMOUNT.
           EVALUATE TRUE
               WHEN TXN-AMOUNT NOT > ZERO
                   SET WS-TXN-INVALID TO TRUE
                   MOVE 'A001' TO WS-REASON
               WHEN TXN-ATM AND TXN-AMOUNT > WS-MAX-ATM-AMOUNT
                   SET WS-TXN-INVALID TO TRUE
                   MOVE 'A002' TO WS-REASON
               WHEN TXN-AMOUNT > WS-MAX-SINGLE-AMOUNT
                   SET WS-TXN-INVALID TO TRUE
                   MOVE 'A003' TO WS-REASON
           END-EVALUATE.

       2300-VALIDATE-DATES.
           SET WS-FN-VALIDATE TO TRUE
           MOVE TXN-POST-DATE TO WS-DATE-1
           CALL 'DATEUTIL' USING WS-DATE-PARMS
           IF WS-DATE-INVALID
               SET WS-TXN-INVALID TO TRUE
               MOVE 'D001' TO WS-REASON
           ELSE
               IF TXN-VALUE-DATE > TXN-POST-DATE
                   SET WS-TXN-INVALID TO TRUE
                   MOVE 'D002' TO WS-REASON
               END-IF
           END-IF.

       2400-WRITE-GOOD.
           WRITE GOOD-RECORD FROM TXN-RECORD
           ADD 1 TO WS-GOOD-COUNT
           IF TXN-CREDIT
               ADD TXN-AMOUNT TO WS-CREDIT-TOTAL
           ELSE
               ADD TXN-AMOUNT TO WS-DEBIT-TOTAL
           END-IF.

       2500-WRITE-REJECT.
           SET TXN-REJECTED TO TRUE
           MOVE WS-REASON TO TXN-REASON
           WRITE REJECT-RECORD FROM TXN-RECORD
           ADD 1 TO WS-REJECT-COUNT.

       9000-TERMINATE.
           CLOSE TXN-IN TXN-GOOD TXN-REJECT
           MOVE WS-READ-COUNT   TO WS-TL-READ
           MOVE WS-GOOD-COUNT   TO WS-TL-GOOD
           MOVE WS-REJECT-COUNT TO WS-TL-REJECT
           DISPLAY WS-TOTALS-LINE
           DISPLAY 'CREDITS: ' WS-CREDIT-TOTAL
                   ' DEBITS: ' WS-DEBIT-TOTAL
           IF WS-REJECT-COUNT > ZERO
               MOVE 4 TO RETURN-CODE
           END-IF.
