      *----------------------------------------------------------------*
      * STMTLINE - STATEMENT PRINT LINES (133 BYTE PRINT RECORDS)      *
      *----------------------------------------------------------------*
       01  STMT-HEADER-LINE.
           05  FILLER                      PIC X     VALUE '1'.
           05  FILLER                      PIC X(20) VALUE
               'HARBOR SAVINGS BANK'.
           05  FILLER                      PIC X(30) VALUE SPACES.
           05  FILLER                      PIC X(18) VALUE
               'ACCOUNT STATEMENT'.
           05  SH-STMT-DATE                PIC 9999/99/99.
           05  FILLER                      PIC X(54) VALUE SPACES.
       01  STMT-DETAIL-LINE.
           05  FILLER                      PIC X     VALUE SPACE.
           05  SD-POST-DATE                PIC 9999/99/99.
           05  FILLER                      PIC X(2)  VALUE SPACES.
           05  SD-DESCRIPTION              PIC X(40).
           05  SD-DEBIT                    PIC ZZZ,ZZZ,ZZ9.99-.
           05  FILLER                      PIC X(2)  VALUE SPACES.
           05  SD-CREDIT                   PIC ZZZ,ZZZ,ZZ9.99.
           05  FILLER                      PIC X(2)  VALUE SPACES.
           05  SD-BALANCE                  PIC $$$,$$$,$$9.99CR.
           05  FILLER                      PIC X(30) VALUE SPACES.
