      *----------------------------------------------------------------*
      * ACCTREC  - ACCOUNT MASTER RECORD (VSAM KSDS, 200 BYTES)        *
      * USE: COPY ACCTREC REPLACING ==:PFX:== BY ==XX==.               *
      *----------------------------------------------------------------*
       01  :PFX:-ACCOUNT-RECORD.
           05  :PFX:-ACCT-KEY.
               10  :PFX:-BRANCH-NO         PIC 9(4).
               10  :PFX:-ACCT-NO           PIC 9(10).
           05  :PFX:-CUST-ID               PIC X(12).
           05  :PFX:-ACCT-TYPE             PIC X(2).
               88  :PFX:-CHECKING          VALUE 'CK'.
               88  :PFX:-SAVINGS           VALUE 'SV'.
               88  :PFX:-MONEY-MARKET      VALUE 'MM'.
               88  :PFX:-TERM-DEPOSIT      VALUE 'TD'.
               88  :PFX:-VALID-TYPE        VALUE 'CK' 'SV' 'MM' 'TD'.
           05  :PFX:-ACCT-STATUS           PIC X.
               88  :PFX:-ACTIVE            VALUE 'A'.
               88  :PFX:-DORMANT           VALUE 'D'.
               88  :PFX:-CLOSED            VALUE 'C'.
               88  :PFX:-FROZEN            VALUE 'F'.
           05  :PFX:-CURRENCY              PIC X(3).
           05  :PFX:-LEDGER-BAL            PIC S9(11)V99 COMP-3.
           05  :PFX:-AVAIL-BAL             PIC S9(11)V99 COMP-3.
           05  :PFX:-HOLD-AMT              PIC S9(9)V99  COMP-3.
           05  :PFX:-OD-LIMIT              PIC S9(9)V99  COMP-3.
           05  :PFX:-ACCRUED-INT           PIC S9(7)V9(6) COMP-3.
           05  :PFX:-YTD-INTEREST          PIC S9(9)V99  COMP-3.
           05  :PFX:-RATE-TIER             PIC 9.
           05  :PFX:-OPEN-DATE             PIC 9(8).
           05  :PFX:-OPEN-DATE-R REDEFINES :PFX:-OPEN-DATE.
               10  :PFX:-OPEN-YYYY         PIC 9(4).
               10  :PFX:-OPEN-MM           PIC 99.
               10  :PFX:-OPEN-DD           PIC 99.
           05  :PFX:-LAST-ACTIVITY         PIC 9(8).
           05  :PFX:-LAST-STMT-DATE        PIC 9(8).
           05  :PFX:-TXN-COUNT-MTD         PIC S9(5)     COMP.
           05  :PFX:-FEE-WAIVER            PIC X.
               88  :PFX:-FEES-WAIVED       VALUE 'Y'.
           05  FILLER                      PIC X(88).
