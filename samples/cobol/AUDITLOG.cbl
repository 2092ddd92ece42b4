       IDENTIFICATION DIVISION.
       PROGRAM-ID. AUDITLOG.
      *----------------------------------------------------------------*
      * AUDIT TRAIL WRITER. OPENS THE AUDIT FILE IN EXTEND MODE ON THE *
      * FIRST CALL AND KEEPS IT OPEN FOR THE REST OF THE RUN.          *
      * A CALL WITH EVENT 'CLOS' CLOSES THE FILE.                      *
      *----------------------------------------------------------------*
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           SELECT AUDIT-FILE ASSIGN TO AUDITDD
               ORGANIZATION IS SEQUENTIAL
               ACCESS MODE IS SEQUENTIAL
               FILE STATUS IS WS-AUDIT-STATUS.
       DATA DIVISION.
       FILE SECTION.
       FD  AUDIT-FILE
           RECORDING MODE IS F
           LABEL RECORDS ARE STANDARD
           BLOCK CONTAINS 0 RECORDS
           RECORD CONTAINS 136 CHARACTERS.
           COPY AUDITREC.
       WORKING-STORAGE SECTION.
       01  WS-AUDIT-STATUS             PIC XX.
           88  WS-AUDIT-OK                       VALUE '00'.
       01  WS-FILE-STATE               PIC X     VALUE 'C'.
           88  WS-FILE-OPEN                      VALUE 'O'.
           88  WS-FILE-CLOSED                    VALUE 'C'.
       01  WS-RECORDS-WRITTEN          PIC 9(7)  COMP-3 VALUE ZERO.
           COPY DATEWS REPLACING LEADING ==PREFIX== BY ==WS==.
       LINKAGE SECTION.
       01  LK-AUDIT-PARMS.
           05  LK-PROGRAM              PIC X(8).
           05  LK-EVENT                PIC X(4).
               88  LK-CLOSE-REQUEST              VALUE 'CLOS'.
           05  LK-KEY                  PIC X(14).
           05  LK-AMOUNT               PIC S9(11)V99 COMP-3.
           05  LK-TEXT                 PIC X(80).
       PROCEDURE DIVISION USING LK-AUDIT-PARMS.
       0000-MAIN.
           IF LK-CLOSE-REQUEST
               PERFORM 3000-CLOSE-AUDIT
               GOBACK
           END-IF
           IF WS-FILE-CLOSED
               PERFORM 1000-OPEN-AUDIT
           END-IF
           PERFORM 2000-WRITE-AUDIT
           GOBACK.

       1000-OPEN-AUDIT.
           OPEN EXTEND AUDIT-FILE
           IF NOT WS-AUDIT-OK
               DISPLAY 'AUDITLOG: OPEN FAILED, STATUS ' WS-AUDIT-STATUS
               MOVE 12 TO RETURN-CODE
           ELSE
               SET WS-FILE-OPEN TO TRUE
           END-IF.

       2000-WRITE-AUDIT.
           SET WS-FN-TODAY TO TRUE
           CALL 'DATEUTIL' USING WS-DATE-PARMS
           MOVE WS-RESULT-DATE TO AUD-DATE
           ACCEPT AUD-TIME FROM TIME
           MOVE LK-PROGRAM     TO AUD-PROGRAM
           MOVE LK-EVENT       TO AUD-EVENT
           MOVE LK-KEY         TO AUD-ACCT-KEY
           MOVE LK-AMOUNT      TO AUD-AMOUNT
           MOVE LK-TEXT        TO AUD-MESSAGE
           WRITE AUDIT-RECORD
           IF WS-AUDIT-OK
               ADD 1 TO WS-RECORDS-WRITTEN
           ELSE
               DISPLAY 'AUDITLOG: WRITE FAILED, STATUS ' WS-AUDIT-STATUS
           END-IF.

       3000-CLOSE-AUDIT.
           IF WS-FILE-OPEN
               CLOSE AUDIT-FILE
               SET WS-FILE-CLOSED TO TRUE
               DISPLAY 'AUDITLOG: ' WS-RECORDS-WRITTEN ' RECORDS'
           END-IF.
