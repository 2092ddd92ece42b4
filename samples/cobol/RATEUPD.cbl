>>SOURCE FORMAT FREE
*> ----------------------------------------------------------------
*> RATEUPD - applies rate changes from the treasury feed.
*> Written in free format (GnuCOBOL 3) by the 2021 modernisation
*> team. Each input line is: product(2) tier(1) new-rate(5, 9V9999)
*> effective-date(8). Changes above 50 basis points need approval
*> and are only reported.
*> ----------------------------------------------------------------
identification division.
program-id. RATEUPD.

environment division.
input-output section.
file-control.
    select rate-feed assign to "RATEFEED"
        organization is line sequential
        file status is ws-feed-status.
    select rate-master assign to "RATEMAST"
        organization is relative
        access mode is dynamic
        relative key is ws-rel-key
        file status is ws-master-status.

data division.
file section.
fd  rate-feed.
01  feed-line.
    05 feed-product        pic xx.
    05 feed-tier           pic 9.
    05 feed-rate           pic 9v9999.
    05 feed-effective      pic 9(8).
    05 filler              pic x(64).

fd  rate-master.
01  master-record.
    05 mr-product          pic xx.
    05 mr-tier             pic 9.
    05 mr-rate             pic 9v9999 comp-3.
    05 mr-effective        pic 9(8).
    05 mr-previous-rate    pic 9v9999 comp-3.

working-storage section.
01  ws-feed-status         pic xx.
    88 ws-feed-eof         value "10".
01  ws-master-status       pic xx.
    88 ws-master-ok        value "00".
01  ws-rel-key             pic 9(4) comp.
01  ws-delta               pic s9v9999 comp-3.
01  ws-max-delta           pic 9v9999 value 0.0050.
01  ws-counts.
    05 ws-applied          pic 9(5) comp-3 value zero.
    05 ws-held             pic 9(5) comp-3 value zero.
    05 ws-unknown          pic 9(5) comp-3 value zero.
01  ws-product-index       pic 9.
    88 ws-known-product    values 1 thru 4.

procedure division.
main-procedure.
    open input rate-feed
    open i-o rate-master
    perform until ws-feed-eof
        read rate-feed
            at end
                continue
            not at end
                perform apply-rate-change
        end-read
    end-perform
    close rate-feed rate-master
    display "RATEUPD applied=" ws-applied " held=" ws-held
            " unknown=" ws-unknown
    goback.

apply-rate-change.
    evaluate feed-product
        when "SV" move 1 to ws-product-index
        when "MM" move 2 to ws-product-index
        when "TD" move 3 to ws-product-index
        when "CK" move 4 to ws-product-index
        when other move 0 to ws-product-index
    end-evaluate
    if not ws-known-product
        add 1 to ws-unknown
        exit paragraph
    end-if
    compute ws-rel-key = (ws-product-index - 1) * 3 + feed-tier
    read rate-master
        invalid key
            add 1 to ws-unknown
        not invalid key
            compute ws-delta = feed-rate - mr-rate
            if function abs(ws-delta) > ws-max-delta
                add 1 to ws-held
                display "RATEUPD held " feed-product feed-tier
                        " delta " ws-delta
            else
                move mr-rate to mr-previous-rate
                move feed-rate to mr-rate
                move feed-effective to mr-effective
                rewrite master-record
                add 1 to ws-applied
            end-if
    end-read.
