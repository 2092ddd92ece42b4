      *----------------------------------------------------------------*
      * AUDITREC - AUDIT TRAIL RECORD                                  *
      *----------------------------------------------------------------*
       01  AUDIT-RECORD.
           05  AUD-TIMESTAMP.
               10  AUD-DATE                PIC 9(8).
               10  AUD-TIME                PIC 9(8).
           05  AUD-PROGRAM                 PIC X(8).
           05  AUD-EVENT                   PIC X(4).
               88  AUD-INFO                VALUE 'INFO'.
               88  AUD-WARN                VALUE 'WARN'.
               88  AUD-ERROR               VALUE 'ERR '.
           05  AUD-ACCT-KEY                PIC X(14).
           05  AUD-AMOUNT                  PIC S9(11)V99 SIGN LEADING
                                           SEPARATE CHARACTER.
           05  AUD-MESSAGE                 PIC X(80).
