      *----------------------------------------------------------------*
      * ERRPARA  - COMMON ABEND HANDLING (PROCEDURE DIVISION COPY)     *
      * REQUIRES WS-ABEND-MSG AND WS-PROGRAM-NAME IN WORKING-STORAGE.  *
      *----------------------------------------------------------------*
       9900-ABEND.
           DISPLAY '*** ' WS-PROGRAM-NAME ' ABEND: ' WS-ABEND-MSG
           MOVE 16 TO RETURN-CODE
           GOBACK.
       9999-EXIT.
           EXIT.
