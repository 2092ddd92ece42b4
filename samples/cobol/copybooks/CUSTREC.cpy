      *----------------------------------------------------------------*
      * CUSTREC  - CUSTOMER RECORD                                     *
      *----------------------------------------------------------------*
       01  CUSTOMER-RECORD.
           05  CUST-ID                     PIC X(12).
           05  CUST-NAME.
               10  CUST-LAST-NAME          PIC X(25).
               10  CUST-FIRST-NAME         PIC X(20).
               10  CUST-INITIAL            PIC X.
           05  CUST-ADDRESS.
               10  CUST-ADDR-LINE          PIC X(35) OCCURS 3 TIMES.
               10  CUST-CITY               PIC X(20).
               10  CUST-STATE              PIC XX.
               10  CUST-ZIP                PIC 9(5).
               10  CUST-ZIP4               PIC 9(4).
           05  CUST-PHONE                  PIC X(15).
           05  CUST-SEGMENT                PIC X.
               88  CUST-RETAIL             VALUE 'R'.
               88  CUST-PRIVATE            VALUE 'P'.
               88  CUST-BUSINESS           VALUE 'B'.
           05  CUST-BIRTH-DATE             PIC 9(8).
           05  CUST-RISK-SCORE             PIC 9(3)      COMP-3.
               88  CUST-LOW-RISK           VALUE 0 THRU 300.
               88  CUST-MEDIUM-RISK        VALUE 301 THRU 700.
               88  CUST-HIGH-RISK          VALUE 701 THRU 999.
           05  CUST-ACCT-COUNT             PIC 9(2).
           05  CUST-ACCOUNTS OCCURS 0 TO 20 TIMES
                   DEPENDING ON CUST-ACCT-COUNT.
               10  CUST-ACCT-BRANCH        PIC 9(4).
               10  CUST-ACCT-NO            PIC 9(10).
