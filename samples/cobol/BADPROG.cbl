       IDENTIFICATION DIVISION.
       PROGRAM-ID. BADPROG.
      *----------------------------------------------------------------*
      * DELIBERATELY MALFORMED: A HALF-FINISHED CHANGE CHECKED IN BY   *
      * MISTAKE. THE ANALYZER MUST REPORT LOCATED DIAGNOSTICS AND      *
      * STILL RETURN WHAT IT COULD UNDERSTAND.                         *
      *----------------------------------------------------------------*
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           SELECT LOAN-FILE ASSIGN TO LOANS
               ORGANIZATION IS INDEXED
               ACCESS MODE IS BACKWARDS.
       DATA DIVISON.
       WORKING-STORAGE SECTION.
       01  WS-LOAN-REC.
           05  WS-LOAN-ID              PIC X(10)
           05  WS-PRINCIPAL            PIC S9(9)V99V9 COMP-3.
           05  WS-RATE                 PIC 9V9(4) VALUE 'ABC.
           05  WS-TERM                 PIC 999 OCCURS TIMES.
       01  WS-MISC                     PIC X(5) VALUE 'AB'.
           COPY LOANFLDS.
       PROCEDURE DIVISION.
       MAIN-PARA.
           MOVE ZERO TO WS-PRINCIPAL
           IF WS-PRINCIPAL > ZERO
               PERFORM CALC-PARA
           ELSE
           PERFORM MISSING-PARA
           EVALUATE WS-MISC
               WHEN 'AB' DISPLAY 'AB'
           CALL 'LOANCALC' USING WS-LOAN-REC
           PERFORM UNTIL WS-TERM > 360
               ADD 1 TO WS-TERM
           STOP RUN.
       CALC-PARA.
           COMPUTE WS-PRINCIPAL = WS-PRINCIPAL * (1 + WS-RATE
           ZORK THE ACCOUNT
           EXEC SQL SELECT 1 FROM SYSIBM.SYSDUMMY1
