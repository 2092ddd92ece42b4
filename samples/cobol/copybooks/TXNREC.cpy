      *----------------------------------------------------------------*
      * TXNREC   - DAILY TRANSACTION RECORD (120 BYTES)                *
      * THE DETAIL AREA IS REDEFINED BY TRANSACTION FAMILY.            *
      *----------------------------------------------------------------*
       01  TXN-RECORD.
           05  TXN-ID                      PIC X(16).
           05  TXN-ACCT-KEY.
               10  TXN-BRANCH-NO           PIC 9(4).
               10  TXN-ACCT-NO             PIC 9(10).
           05  TXN-CODE                    PIC X(3).
               88  TXN-DEPOSIT             VALUE 'DEP'.
               88  TXN-WITHDRAWAL          VALUE 'WDL'.
               88  TXN-TRANSFER-IN         VALUE 'TFI'.
               88  TXN-TRANSFER-OUT        VALUE 'TFO'.
               88  TXN-FEE                 VALUE 'FEE'.
               88  TXN-INTEREST            VALUE 'INT'.
               88  TXN-REVERSAL            VALUE 'REV'.
               88  TXN-CREDIT              VALUE 'DEP' 'TFI' 'INT'.
               88  TXN-DEBIT               VALUE 'WDL' 'TFO' 'FEE'.
           05  TXN-AMOUNT                  PIC S9(9)V99 COMP-3.
           05  TXN-POST-DATE               PIC 9(8).
           05  TXN-VALUE-DATE              PIC 9(8).
           05  TXN-CHANNEL                 PIC X.
               88  TXN-BRANCH              VALUE 'B'.
               88  TXN-ATM                 VALUE 'A'.
               88  TXN-ONLINE              VALUE 'O'.
               88  TXN-BATCH               VALUE 'S'.
           05  TXN-DETAIL                  PIC X(60).
           05  TXN-TRANSFER-DETAIL REDEFINES TXN-DETAIL.
               10  TXN-CTR-BRANCH          PIC 9(4).
               10  TXN-CTR-ACCT            PIC 9(10).
               10  TXN-TRANSFER-REF        PIC X(20).
               10  FILLER                  PIC X(26).
           05  TXN-ATM-DETAIL REDEFINES TXN-DETAIL.
               10  TXN-ATM-ID              PIC X(8).
               10  TXN-ATM-SEQ             PIC 9(6).
               10  TXN-CARD-LAST4          PIC 9(4).
               10  FILLER                  PIC X(42).
           05  TXN-STATUS                  PIC X.
               88  TXN-PENDING             VALUE 'P'.
               88  TXN-POSTED              VALUE 'X'.
               88  TXN-REJECTED            VALUE 'R'.
           05  TXN-REASON                  PIC X(4).
           05  FILLER                      PIC X(6).
