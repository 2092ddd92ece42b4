       IDENTIFICATION DIVISION.
       PROGRAM-ID. CUSTINQ.
      *----------------------------------------------------------------*
      * CICS PSEUDO-CONVERSATIONAL CUSTOMER INQUIRY (TRANSACTION CINQ) *
      * FIRST ENTRY SENDS THE EMPTY MAP; THE NEXT ONE READS CUSTFILE   *
      * BY CUSTOMER ID AND SHOWS THE CUSTOMER AND ACCOUNT COUNT.       *
      * PF3 ENDS, PF5 LINKS TO THE ACCOUNT SUMMARY PROGRAM ACCTRPT.    *
      *----------------------------------------------------------------*
       DATA DIVISION.
       WORKING-STORAGE SECTION.
       01  WS-RESP                     PIC S9(8) COMP.
       01  WS-MESSAGE                  PIC X(60) VALUE SPACES.
       01  WS-COMMAREA.
           05  WS-CA-STATE             PIC X.
               88  WS-CA-FIRST-TIME              VALUE SPACE.
               88  WS-CA-SHOWING                 VALUE 'S'.
           05  WS-CA-CUST-ID           PIC X(12).
           COPY CUSTREC.
       01  CINQMAP.
           05  FILLER                  PIC X(12).
           05  MAP-CUSTID-L            PIC S9(4) COMP.
           05  MAP-CUSTID-F            PIC X.
           05  MAP-CUSTID-I            PIC X(12).
           05  MAP-NAME-O              PIC X(46).
           05  MAP-CITY-O              PIC X(20).
           05  MAP-ACCTS-O             PIC Z9.
           05  MAP-MSG-O               PIC X(60).
       LINKAGE SECTION.
       01  DFHCOMMAREA                 PIC X(13).
       PROCEDURE DIVISION.
       MAIN-PARA.
           IF EIBCALEN = 0
               PERFORM SEND-EMPTY-MAP
           ELSE
               MOVE DFHCOMMAREA TO WS-COMMAREA
               EVALUATE EIBAID
                   WHEN DFHPF3
                       PERFORM END-CONVERSATION
                   WHEN DFHPF5
                       PERFORM LINK-ACCOUNT-SUMMARY
                   WHEN DFHENTER
                       PERFORM PROCESS-INQUIRY
                   WHEN OTHER
                       MOVE 'INVALID KEY PRESSED' TO WS-MESSAGE
                       PERFORM SEND-DATA-MAP
               END-EVALUATE
           END-IF
           EXEC CICS RETURN
               TRANSID('CINQ')
               COMMAREA(WS-COMMAREA)
               LENGTH(13)
           END-EXEC.

       SEND-EMPTY-MAP.
           MOVE LOW-VALUES TO CINQMAP
           MOVE SPACE TO WS-CA-STATE
           EXEC CICS SEND MAP('CINQMAP') MAPSET('CINQSET')
               FROM(CINQMAP) ERASE
           END-EXEC.

       PROCESS-INQUIRY.
           EXEC CICS RECEIVE MAP('CINQMAP') MAPSET('CINQSET')
               INTO(CINQMAP) RESP(WS-RESP)
           END-EXEC
           IF WS-RESP NOT = DFHRESP(NORMAL)
               MOVE 'PLEASE ENTER A CUSTOMER ID' TO WS-MESSAGE
               PERFORM SEND-DATA-MAP
           ELSE
               MOVE MAP-CUSTID-I TO WS-CA-CUST-ID
               EXEC CICS READ FILE('CUSTFILE')
                   INTO(CUSTOMER-RECORD)
                   RIDFLD(WS-CA-CUST-ID)
                   RESP(WS-RESP)
               END-EXEC
               EVALUATE WS-RESP
                   WHEN DFHRESP(NORMAL)
                       PERFORM FORMAT-CUSTOMER
                       SET WS-CA-SHOWING TO TRUE
                   WHEN DFHRESP(NOTFND)
                       MOVE 'CUSTOMER NOT FOUND' TO WS-MESSAGE
                   WHEN OTHER
                       MOVE 'CUSTFILE NOT AVAILABLE' TO WS-MESSAGE
               END-EVALUATE
               PERFORM SEND-DATA-MAP
           END-IF.

       FORMAT-CUSTOMER.
           STRING CUST-FIRST-NAME DELIMITED BY SPACE
                  ' '             DELIMITED BY SIZE
                  CUST-LAST-NAME  DELIMITED BY SPACE
                  INTO MAP-NAME-O
           END-STRING
           MOVE CUST-CITY       TO MAP-CITY-O
           MOVE CUST-ACCT-COUNT TO MAP-ACCTS-O
           IF CUST-HIGH-RISK
               MOVE 'HIGH RISK CUSTOMER - REFER TO COMPLIANCE'
                 TO WS-MESSAGE
           END-IF.

       SEND-DATA-MAP.
           MOVE WS-MESSAGE TO MAP-MSG-O
           EXEC CICS SEND MAP('CINQMAP') MAPSET('CINQSET')
               FROM(CINQMAP) DATAONLY
           END-EXEC.

       LINK-ACCOUNT-SUMMARY.
           EXEC CICS LINK PROGRAM('ACCTRPT')
               COMMAREA(WS-COMMAREA)
               LENGTH(13)
           END-EXEC
           PERFORM SEND-DATA-MAP.

       END-CONVERSATION.
           EXEC CICS SEND TEXT FROM(WS-MESSAGE) ERASE FREEKB
           END-EXEC
           EXEC CICS RETURN END-EXEC.
