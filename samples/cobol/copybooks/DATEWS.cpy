      *----------------------------------------------------------------*
      * DATEWS   - DATE WORK AREA, PARAMETER BLOCK FOR DATEUTIL        *
      * USE: COPY DATEWS REPLACING LEADING ==PREFIX== BY ==WS==.       *
      *----------------------------------------------------------------*
       01  PREFIX-DATE-PARMS.
           05  PREFIX-FUNCTION             PIC X.
               88  PREFIX-FN-VALIDATE      VALUE 'V'.
               88  PREFIX-FN-DAYS-BETWEEN  VALUE 'D'.
               88  PREFIX-FN-ADD-DAYS      VALUE 'A'.
               88  PREFIX-FN-TODAY         VALUE 'T'.
           05  PREFIX-DATE-1               PIC 9(8).
           05  PREFIX-DATE-1-R REDEFINES PREFIX-DATE-1.
               10  PREFIX-D1-YYYY          PIC 9(4).
               10  PREFIX-D1-MM            PIC 99.
               10  PREFIX-D1-DD            PIC 99.
           05  PREFIX-DATE-2               PIC 9(8).
           05  PREFIX-DAYS                 PIC S9(7)     COMP-3.
           05  PREFIX-RESULT-DATE          PIC 9(8).
           05  PREFIX-RETURN-CODE          PIC 99.
               88  PREFIX-DATE-OK          VALUE 0.
               88  PREFIX-DATE-INVALID     VALUE 8.
