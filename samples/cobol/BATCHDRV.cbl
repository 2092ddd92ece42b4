000100 IDENTIFICATION DIVISION.                                         BATCHDRV
000200 PROGRAM-ID. BATCHDRV.                                            BATCHDRV
000300*---------------------------------------------------------------* BATCHDRV
000400* END-OF-DAY BATCH DRIVER. RUNS THE STEPS IN ORDER AND STOPS AT * BATCHDRV
000500* THE FIRST STEP THAT ENDS WITH A RETURN CODE ABOVE 4.          * BATCHDRV
000600* THE RECONCILIATION STEP IS CALLED DYNAMICALLY SO IT CAN BE    * BATCHDRV
000700* REPLACED WITHOUT RELINKING THE DRIVER.                        * BATCHDRV
000800*---------------------------------------------------------------* BATCHDRV
000900 ENVIRONMENT DIVISION.                                            BATCHDRV
001000 DATA DIVISION.                                                   BATCHDRV
001100 WORKING-STORAGE SECTION.                                         BATCHDRV
001200 01  WS-STEP-TABLE-VALUES.                                        BATCHDRV
001300     05  FILLER              PIC X(8) VALUE 'TXNVALID'.           BATCHDRV
001400     05  FILLER              PIC X(8) VALUE 'TXNPOST '.           BATCHDRV
001500     05  FILLER              PIC X(8) VALUE 'INTACCR '.           BATCHDRV
001600     05  FILLER              PIC X(8) VALUE 'DORMSWP '.           BATCHDRV
001700 01  WS-STEP-TABLE REDEFINES WS-STEP-TABLE-VALUES.                BATCHDRV
001800     05  WS-STEP-NAME        PIC X(8) OCCURS 4 TIMES.             BATCHDRV
001900 01  WS-STEP-NO              PIC 9    VALUE 0.                    BATCHDRV
002000 01  WS-STEP-RC              PIC S9(4) COMP VALUE 0.              BATCHDRV
002100 01  WS-MAX-RC               PIC S9(4) COMP VALUE 0.              BATCHDRV
002200 01  WS-RECON-PGM            PIC X(8) VALUE 'EODRECON'.           BATCHDRV
002300 01  WS-RUN-MODE             PIC X    VALUE 'D'.                  BATCHDRV
002400     88  WS-DAILY-RUN                 VALUE 'D'.                  BATCHDRV
002500     88  WS-MONTH-END-RUN             VALUE 'M'.                  BATCHDRV
002600 01  WS-AUDIT-CLOSE.                                              BATCHDRV
002700     05  FILLER              PIC X(8) VALUE 'BATCHDRV'.           BATCHDRV
002800     05  FILLER              PIC X(4) VALUE 'CLOS'.               BATCHDRV
002900     05  FILLER              PIC X(14) VALUE SPACES.              BATCHDRV
003000     05  FILLER              PIC S9(11)V99 COMP-3 VALUE ZERO.     BATCHDRV
003100     05  FILLER              PIC X(80) VALUE SPACES.              BATCHDRV
003200 PROCEDURE DIVISION.                                              BATCHDRV
003300 0000-MAIN.                                                       BATCHDRV
003400     ACCEPT WS-RUN-MODE FROM SYSIN                                BATCHDRV
003500     PERFORM 1000-RUN-STEP VARYING WS-STEP-NO FROM 1 BY 1         BATCHDRV
003600         UNTIL WS-STEP-NO > 4 OR WS-MAX-RC > 4                    BATCHDRV
003700     IF WS-MAX-RC NOT > 4                                         BATCHDRV
003800         CALL WS-RECON-PGM                                        BATCHDRV
003900         PERFORM 2000-CHECK-RC                                    BATCHDRV
004000     END-IF                                                       BATCHDRV
004100     IF WS-MONTH-END-RUN AND WS-MAX-RC NOT > 4                    BATCHDRV
004200         MOVE 'STMTGEN' TO WS-RECON-PGM                           BATCHDRV
004300         CALL WS-RECON-PGM                                        BATCHDRV
004400         PERFORM 2000-CHECK-RC                                    BATCHDRV
004500     END-IF                                                       BATCHDRV
004600     CALL 'AUDITLOG' USING WS-AUDIT-CLOSE                         BATCHDRV
004700     DISPLAY 'BATCHDRV COMPLETE, MAX RC ' WS-MAX-RC               BATCHDRV
004800     MOVE WS-MAX-RC TO RETURN-CODE                                BATCHDRV
004900     STOP RUN.                                                    BATCHDRV
005000                                                                  BATCHDRV
005100 1000-RUN-STEP.                                                   BATCHDRV
005200     DISPLAY 'BATCHDRV STEP ' WS-STEP-NO ': '                     BATCHDRV
005300             WS-STEP-NAME (WS-STEP-NO)                            BATCHDRV
005400     EVALUATE WS-STEP-NO                                          BATCHDRV
005500         WHEN 1  CALL 'TXNVALID'                                  BATCHDRV
005600         WHEN 2  CALL 'TXNPOST'                                   BATCHDRV
005700         WHEN 3  CALL 'INTACCR'                                   BATCHDRV
005800         WHEN 4  CALL 'DORMSWP'                                   BATCHDRV
005900     END-EVALUATE                                                 BATCHDRV
006000     PERFORM 2000-CHECK-RC.                                       BATCHDRV
006100                                                                  BATCHDRV
006200 2000-CHECK-RC.                                                   BATCHDRV
006300     MOVE RETURN-CODE TO WS-STEP-RC                               BATCHDRV
006400     IF WS-STEP-RC > WS-MAX-RC                                    BATCHDRV
006500         MOVE WS-STEP-RC TO WS-MAX-RC                             BATCHDRV
006600     END-IF.                                                      BATCHDRV
