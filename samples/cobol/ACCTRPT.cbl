       IDENTIFICATION DIVISION.
       PROGRAM-ID. ACCTRPT.
      *----------------------------------------------------------------*
      * ACCOUNT SUMMARY FOR A CUSTOMER FROM THE DB2 REPORTING COPY OF  *
      * THE ACCOUNT MASTER. RUNS IN BATCH (PARM CUSTOMER ID) OR UNDER  *
      * CICS THROUGH A LINK WITH THE INQUIRY COMMAREA.                 *
      *----------------------------------------------------------------*
       DATA DIVISION.
       WORKING-STORAGE SECTION.
           EXEC SQL INCLUDE SQLCA END-EXEC.
           EXEC SQL DECLARE ACCT_SUMMARY TABLE
               ( BRANCH_NO    DECIMAL(4)      NOT NULL,
                 ACCT_NO      DECIMAL(10)     NOT NULL,
                 CUST_ID      CHAR(12)        NOT NULL,
                 ACCT_TYPE    CHAR(2)         NOT NULL,
                 LEDGER_BAL   DECIMAL(13,2)   NOT NULL,
                 LAST_ACTIVITY DATE )
           END-EXEC.
       01  HV-ACCOUNT.
           05  HV-BRANCH-NO            PIC S9(4)     COMP-3.
           05  HV-ACCT-NO              PIC S9(10)    COMP-3.
           05  HV-ACCT-TYPE            PIC X(2).
           05  HV-LEDGER-BAL           PIC S9(11)V99 COMP-3.
           05  HV-LAST-ACTIVITY        PIC X(10).
       01  HV-CUST-ID                  PIC X(12).
       01  HV-NULL-IND                 PIC S9(4)     COMP.
       01  WS-TOTAL-BALANCE            PIC S9(13)V99 COMP-3 VALUE 0.
       01  WS-ROWS                     PIC 9(5)      COMP   VALUE 0.
       01  WS-SQLCODE-DISPLAY          PIC -9(9).
       01  WS-EDITED-BAL               PIC -ZZZ,ZZZ,ZZZ,ZZ9.99.
           EXEC SQL DECLARE ACCT_CUR CURSOR FOR
               SELECT BRANCH_NO, ACCT_NO, ACCT_TYPE, LEDGER_BAL,
                      CHAR(LAST_ACTIVITY, ISO)
                 FROM ACCT_SUMMARY
                WHERE CUST_ID = :HV-CUST-ID
                ORDER BY BRANCH_NO, ACCT_NO
           END-EXEC.
       LINKAGE SECTION.
       01  LK-COMMAREA.
           05  LK-STATE                PIC X.
           05  LK-CUST-ID              PIC X(12).
       PROCEDURE DIVISION USING LK-COMMAREA.
       0000-MAIN.
           MOVE LK-CUST-ID TO HV-CUST-ID
           EXEC SQL OPEN ACCT_CUR END-EXEC
           IF SQLCODE NOT = 0
               PERFORM 9000-SQL-ERROR
               GOBACK
           END-IF
           PERFORM 1000-FETCH-ROW
           PERFORM UNTIL SQLCODE = 100
               ADD 1 TO WS-ROWS
               ADD HV-LEDGER-BAL TO WS-TOTAL-BALANCE
               MOVE HV-LEDGER-BAL TO WS-EDITED-BAL
               DISPLAY HV-BRANCH-NO '-' HV-ACCT-NO ' ' HV-ACCT-TYPE
                       ' ' WS-EDITED-BAL ' ' HV-LAST-ACTIVITY
               PERFORM 1000-FETCH-ROW
           END-PERFORM
           EXEC SQL CLOSE ACCT_CUR END-EXEC
           MOVE WS-TOTAL-BALANCE TO WS-EDITED-BAL
           DISPLAY 'ACCOUNTS: ' WS-ROWS ' TOTAL: ' WS-EDITED-BAL
           GOBACK.

       1000-FETCH-ROW.
           EXEC SQL
               FETCH ACCT_CUR
                INTO :HV-BRANCH-NO, :HV-ACCT-NO, :HV-ACCT-TYPE,
                     :HV-LEDGER-BAL, :HV-LAST-ACTIVITY :HV-NULL-IND
           END-EXEC
           IF SQLCODE < 0
               PERFORM 9000-SQL-ERROR
               MOVE 100 TO SQLCODE
           END-IF.

       9000-SQL-ERROR.
           MOVE SQLCODE TO WS-SQLCODE-DISPLAY
           DISPLAY 'ACCTRPT SQL ERROR ' WS-SQLCODE-DISPLAY
           EXEC SQL ROLLBACK END-EXEC
           MOVE 12 TO RETURN-CODE.
