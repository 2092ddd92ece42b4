       IDENTIFICATION DIVISION.
       PROGRAM-ID. STMTGEN.
      *----------------------------------------------------------------*
      * MONTHLY STATEMENTS. FOR EACH ACCOUNT IN THE STATEMENT EXTRACT  *
      * (SORTED BY ACCOUNT, THEN POSTING DATE) THE TRANSACTIONS OF THE *
      * MONTH ARE COLLECTED IN A TABLE (OCCURS DEPENDING ON), FEES ARE *
      * COMPUTED BY FEECALC AND THE STATEMENT IS PRINTED.              *
      *----------------------------------------------------------------*
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           SELECT STMT-EXTRACT ASSIGN TO STMTEXT
               FILE STATUS IS WS-EXT-STATUS.
           SELECT STMT-PRINT   ASSIGN TO STMTPRT
               FILE STATUS IS WS-PRT-STATUS.
       DATA DIVISION.
       FILE SECTION.
       FD  STMT-EXTRACT
           RECORD CONTAINS 120 CHARACTERS.
           COPY TXNREC.
       FD  STMT-PRINT
           RECORD CONTAINS 133 CHARACTERS.
       01  PRINT-LINE                  PIC X(133).
       WORKING-STORAGE SECTION.
       01  WS-EXT-STATUS               PIC XX.
           88  WS-EXT-EOF                        VALUE '10'.
       01  WS-PRT-STATUS               PIC XX.
       01  WS-CURRENT-KEY              PIC X(14) VALUE LOW-VALUES.
       01  WS-STMT-DATE                PIC 9(8).
       01  WS-RUNNING-BAL              PIC S9(11)V99 COMP-3.
       01  WS-OPENING-BAL              PIC S9(11)V99 COMP-3 VALUE 0.
       01  WS-MAX-LINES                PIC 9(3)  COMP VALUE 250.
       01  WS-STMT-TABLE.
           05  WS-LINE-COUNT           PIC 9(3)  COMP VALUE 0.
           05  WS-STMT-ENTRY OCCURS 0 TO 250 TIMES
                   DEPENDING ON WS-LINE-COUNT
                   INDEXED BY WS-LX.
               10  WS-E-DATE           PIC 9(8).
               10  WS-E-CODE           PIC X(3).
               10  WS-E-AMOUNT         PIC S9(9)V99 COMP-3.
               10  WS-E-DESC           PIC X(40).
       01  WS-I                        PIC 9(3)  COMP.
       01  WS-FEE-PARMS.
           05  WS-F-ACCT-TYPE          PIC XX    VALUE 'CK'.
           05  WS-F-SEGMENT            PIC X     VALUE 'R'.
           05  WS-F-WAIVER             PIC X     VALUE 'N'.
           05  WS-F-AVG-BALANCE        PIC S9(11)V99 COMP-3.
           05  WS-F-TXN-COUNT          PIC S9(5) COMP.
           05  WS-F-TOTAL-FEE          PIC S9(5)V99 COMP-3.
           05  WS-F-FEE-CODE           PIC X(4).
           COPY STMTLINE.
       PROCEDURE DIVISION.
       0000-MAIN.
           OPEN INPUT STMT-EXTRACT OUTPUT STMT-PRINT
           ACCEPT WS-STMT-DATE FROM DATE YYYYMMDD
           PERFORM 1000-READ-EXTRACT
           PERFORM UNTIL WS-EXT-EOF
               MOVE TXN-ACCT-KEY TO WS-CURRENT-KEY
               MOVE ZERO TO WS-LINE-COUNT
               PERFORM 2000-COLLECT-LINE
                   UNTIL WS-EXT-EOF OR TXN-ACCT-KEY NOT = WS-CURRENT-KEY
               PERFORM 3000-APPLY-FEES
               PERFORM 4000-PRINT-STATEMENT
           END-PERFORM
           CLOSE STMT-EXTRACT STMT-PRINT
           GOBACK.

       1000-READ-EXTRACT.
           READ STMT-EXTRACT
               AT END CONTINUE
           END-READ.

       2000-COLLECT-LINE.
           IF WS-LINE-COUNT < WS-MAX-LINES
               ADD 1 TO WS-LINE-COUNT
               MOVE TXN-POST-DATE TO WS-E-DATE (WS-LINE-COUNT)
               MOVE TXN-CODE      TO WS-E-CODE (WS-LINE-COUNT)
               MOVE TXN-AMOUNT    TO WS-E-AMOUNT (WS-LINE-COUNT)
               EVALUATE TRUE
                   WHEN TXN-DEPOSIT
                       MOVE 'DEPOSIT' TO WS-E-DESC (WS-LINE-COUNT)
                   WHEN TXN-WITHDRAWAL
                       MOVE 'WITHDRAWAL' TO WS-E-DESC (WS-LINE-COUNT)
                   WHEN TXN-TRANSFER-IN OR TXN-TRANSFER-OUT
                       MOVE 'TRANSFER' TO WS-E-DESC (WS-LINE-COUNT)
                   WHEN TXN-FEE
                       MOVE 'SERVICE FEE' TO WS-E-DESC (WS-LINE-COUNT)
                   WHEN TXN-INTEREST
                       MOVE 'INTEREST' TO WS-E-DESC (WS-LINE-COUNT)
                   WHEN OTHER
                       MOVE 'ADJUSTMENT' TO WS-E-DESC (WS-LINE-COUNT)
               END-EVALUATE
           END-IF
           PERFORM 1000-READ-EXTRACT.

       3000-APPLY-FEES.
           MOVE WS-LINE-COUNT  TO WS-F-TXN-COUNT
           MOVE WS-OPENING-BAL TO WS-F-AVG-BALANCE
           CALL 'FEECALC' USING WS-FEE-PARMS
           IF WS-F-TOTAL-FEE > ZERO AND WS-LINE-COUNT < WS-MAX-LINES
               ADD 1 TO WS-LINE-COUNT
               MOVE WS-STMT-DATE   TO WS-E-DATE (WS-LINE-COUNT)
               MOVE 'FEE'          TO WS-E-CODE (WS-LINE-COUNT)
               MOVE WS-F-TOTAL-FEE TO WS-E-AMOUNT (WS-LINE-COUNT)
               MOVE 'MONTHLY FEES' TO WS-E-DESC (WS-LINE-COUNT)
           END-IF.

       4000-PRINT-STATEMENT.
           MOVE WS-STMT-DATE TO SH-STMT-DATE
           WRITE PRINT-LINE FROM STMT-HEADER-LINE
               AFTER ADVANCING PAGE
           MOVE WS-OPENING-BAL TO WS-RUNNING-BAL
           PERFORM VARYING WS-I FROM 1 BY 1 UNTIL WS-I > WS-LINE-COUNT
               MOVE SPACES TO STMT-DETAIL-LINE
               MOVE WS-E-DATE (WS-I) TO SD-POST-DATE
               MOVE WS-E-DESC (WS-I) TO SD-DESCRIPTION
               IF WS-E-CODE (WS-I) = 'DEP' OR 'TFI' OR 'INT'
                   ADD WS-E-AMOUNT (WS-I) TO WS-RUNNING-BAL
                   MOVE WS-E-AMOUNT (WS-I) TO SD-CREDIT
               ELSE
                   SUBTRACT WS-E-AMOUNT (WS-I) FROM WS-RUNNING-BAL
                   MOVE WS-E-AMOUNT (WS-I) TO SD-DEBIT
               END-IF
               MOVE WS-RUNNING-BAL TO SD-BALANCE
               WRITE PRINT-LINE FROM STMT-DETAIL-LINE
                   AFTER ADVANCING 1 LINE
           END-PERFORM.
