      *----------------------------------------------------------------*
      * RATETBL  - INTEREST RATE TIERS BY PRODUCT                      *
      * LOADED FROM LITERALS, READ THROUGH THE REDEFINING TABLE.       *
      *----------------------------------------------------------------*
       01  RATE-TABLE-VALUES.
           05  FILLER  PIC X(16) VALUE 'SV1000000000150'.
           05  FILLER  PIC X(16) VALUE 'SV2000025000200'.
           05  FILLER  PIC X(16) VALUE 'SV3000100000275'.
           05  FILLER  PIC X(16) VALUE 'MM1000000000300'.
           05  FILLER  PIC X(16) VALUE 'MM2000050000350'.
           05  FILLER  PIC X(16) VALUE 'MM3000250000425'.
           05  FILLER  PIC X(16) VALUE 'TD1000000000450'.
           05  FILLER  PIC X(16) VALUE 'CK1000000000010'.
       01  RATE-TABLE REDEFINES RATE-TABLE-VALUES.
           05  RATE-ENTRY OCCURS 8 TIMES
                   ASCENDING KEY IS RATE-PRODUCT
                   INDEXED BY RATE-IX.
               10  RATE-PRODUCT            PIC XX.
               10  RATE-TIER               PIC 9.
               10  RATE-MIN-BAL            PIC 9(8).
               10  RATE-PCT                PIC 9V999.
               10  FILLER                  PIC X.
       01  RATE-TABLE-SIZE                 PIC 9(2) COMP VALUE 8.
