       IDENTIFICATION DIVISION.
       PROGRAM-ID. FEECALC.
      *----------------------------------------------------------------*
      * MONTHLY MAINTENANCE AND ACTIVITY FEES.                         *
      * RULES (EVALUATE ... ALSO):                                     *
      *   CHECKING BELOW 1,500.00 AVERAGE -> 12.00 MAINTENANCE         *
      *   MORE THAN 20 TRANSACTIONS -> 0.35 PER EXTRA TRANSACTION      *
      *   PRIVATE SEGMENT OR WAIVER FLAG -> NO FEES                    *
      *----------------------------------------------------------------*
       DATA DIVISION.
       WORKING-STORAGE SECTION.
       01  WS-CONSTANTS.
           05  WS-MIN-BALANCE          PIC 9(5)V99   VALUE 1500.00.
           05  WS-MAINT-FEE            PIC 9(3)V99   VALUE 12.00.
           05  WS-FREE-TXNS            PIC 9(3)      VALUE 20.
           05  WS-PER-TXN-FEE          PIC 9V99      VALUE 0.35.
           05  WS-MAX-ACTIVITY-FEE     PIC 9(3)V99   VALUE 25.00.
       01  WS-WORK.
           05  WS-EXTRA-TXNS           PIC S9(5)     COMP-3.
           05  WS-ACTIVITY-FEE         PIC S9(5)V99  COMP-3.
           05  WS-BAL-BAND             PIC X.
               88  WS-LOW-BALANCE                    VALUE 'L'.
               88  WS-HIGH-BALANCE                   VALUE 'H'.
       LINKAGE SECTION.
       01  LK-FEE-PARMS.
           05  LK-ACCT-TYPE            PIC XX.
           05  LK-SEGMENT              PIC X.
           05  LK-WAIVER               PIC X.
           05  LK-AVG-BALANCE          PIC S9(11)V99 COMP-3.
           05  LK-TXN-COUNT            PIC S9(5)     COMP.
           05  LK-TOTAL-FEE            PIC S9(5)V99  COMP-3.
           05  LK-FEE-CODE             PIC X(4).
       PROCEDURE DIVISION USING LK-FEE-PARMS.
       MAIN-LOGIC.
           MOVE ZERO   TO LK-TOTAL-FEE WS-ACTIVITY-FEE
           MOVE SPACES TO LK-FEE-CODE
           IF LK-AVG-BALANCE < WS-MIN-BALANCE
               SET WS-LOW-BALANCE TO TRUE
           ELSE
               SET WS-HIGH-BALANCE TO TRUE
           END-IF
           EVALUATE LK-SEGMENT ALSO LK-WAIVER
               WHEN 'P'        ALSO ANY
               WHEN ANY        ALSO 'Y'
                   MOVE 'WAIV' TO LK-FEE-CODE
               WHEN OTHER
                   PERFORM APPLY-MAINTENANCE-FEE
                   PERFORM APPLY-ACTIVITY-FEE
           END-EVALUATE
           GOBACK.

       APPLY-MAINTENANCE-FEE.
           EVALUATE TRUE ALSO TRUE
               WHEN LK-ACCT-TYPE = 'CK' ALSO WS-LOW-BALANCE
                   ADD WS-MAINT-FEE TO LK-TOTAL-FEE
                   MOVE 'MNT ' TO LK-FEE-CODE
               WHEN LK-ACCT-TYPE = 'MM' ALSO WS-LOW-BALANCE
                   COMPUTE LK-TOTAL-FEE =
                       LK-TOTAL-FEE + WS-MAINT-FEE * 2
                   MOVE 'MNT2' TO LK-FEE-CODE
               WHEN OTHER
                   CONTINUE
           END-EVALUATE.

       APPLY-ACTIVITY-FEE.
           COMPUTE WS-EXTRA-TXNS = LK-TXN-COUNT - WS-FREE-TXNS
           IF WS-EXTRA-TXNS > ZERO
               MULTIPLY WS-EXTRA-TXNS BY WS-PER-TXN-FEE
                   GIVING WS-ACTIVITY-FEE ROUNDED
               IF WS-ACTIVITY-FEE > WS-MAX-ACTIVITY-FEE
                   MOVE WS-MAX-ACTIVITY-FEE TO WS-ACTIVITY-FEE
               END-IF
               ADD WS-ACTIVITY-FEE TO LK-TOTAL-FEE
               IF LK-FEE-CODE = SPACES
                   MOVE 'ACT ' TO LK-FEE-CODE
               END-IF
           END-IF.
