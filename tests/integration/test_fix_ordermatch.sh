#!/usr/bin/env bash
# test_fix_ordermatch: two of our portfolios trade against each other through the
# order book of QuickFIX's `ordermatch` example (built at test time from the sources
# Debian ships in libquickfix-doc, tests/integration/fix_lib.sh), which speaks FIX 4.2
# only: exec-broker with adapter=fix and fix.begin_string=FIX.4.2, one session (our
# SenderCompID TE), the orders of pf-om-a and pf-om-b on it, through Kafka and
# exec-sink into the runtime DB.
#
# ordermatch takes LIMIT DAY orders only, matches a crossing order at the resting ask's
# price, answers a cancel of a resting order, and knows no replace. The script (ticker
# OMX), each step waited for in the DB before the next:
#   1. o-1 pf-om-a SELL 100 @ 10    rests
#   2. o-2 pf-om-b BUY   30 @ 10.5  crosses: 30 @ 10; o-2 FILLED, o-1 part-filled
#   3. o-3 pf-om-b BUY   50 @ 9.5   rests (below the ask)
#   4. o-4 pf-om-a SELL  20 @ 9     crosses the bid: 20 @ 9; o-4 FILLED, o-3 part-filled
#   5. CANCEL o-3                   CANCELED with 20 filled
#   6. o-5 pf-om-b BUY   80 @ 10    takes o-1's 70 left @ 10; o-1 FILLED, o-5 part-filled
#   7. CANCEL o-5                   CANCELED with 70 filled
#   8. o-6 pf-om-a SELL 5 @ 10 GTC  REJECTED by ordermatch ("use Day", a 4.2 report)
#   9. o-7 pf-om-a SELL 5 MARKET    REJECTED before it is sent (fix.order_types=LIMIT)
# Checked: the trades rows (order, side, size, price) equal the fills ordermatch wrote
# in its own log (its outgoing ExecutionReports, ExecType 1/2) and the fills the book
# must make, each once; statuses, filled quantities and the positions of both
# portfolios; no trade without its ExecutionReport and none twice.
source "$(dirname "$0")/prologue.sh" fix-ordermatch
source "$here/ibkr_lib.sh" # q, ibkr_publish, ibkr_wait_sql, ibkr_wait_log, ibkr_stop*
source "$here/fix_lib.sh"
TE_TEST_LOG_LINES=25
om_fd=
te_test_cleanup_extra() {
        ibkr_stop_all
        if [ -n "${QFX_PID:-}" ]; then
                # the FIFO is held open here: writing to it does not block
                [ -z "$om_fd" ] || echo '#quit' >>"$RUN/ordermatch.in" || true
                kill "$QFX_PID" 2>/dev/null || true
                wait "$QFX_PID" 2>/dev/null || true
        fi
}

te_stack_up "$RUN" >/dev/null
"$TE_BUILD_DIR/exec-devstack-ctl" -c "$RUN/ctl" create_topic orders.om 4 >/dev/null
qfx_build ordermatch
# ordermatch reads commands from stdin and spins at its end: a FIFO held open here
mkfifo "$RUN/ordermatch.in"
exec {om_fd}<>"$RUN/ordermatch.in"
QFX_STDIN=$RUN/ordermatch.in qfx_start ordermatch FIX.4.2 ORDERMATCH TE
te_pipeline_start "$RUN" sink exec-sink
te_pipeline_start "$RUN" broker exec-broker -o adapter=fix -o fix.begin_string=FIX.4.2 \
        -o fix.port="$QFX_PORT" -o fix.sender_comp_id=TE -o fix.target_comp_id=ORDERMATCH \
        -o fix.order_types=LIMIT -o fix.tifs=DAY,GTC -o group.id=fix-om-broker \
        -o topic.orders=orders.om -o broker.name=fix -o commit.interval.ms=100 \
        -o fix.reconnect_min_ms=100 -o fix.reconnect_max_ms=800 -o log.level=debug
ibkr_wait_log sink sink.assigned 30 || fail "sink not assigned"
ibkr_wait_log broker fix.ready 30 || fail "adapter not logged on to ordermatch"
grep -qa '8=FIX.4.2.9=[0-9]*.35=A.49=TE' "$RUN/ordermatch.log" ||
        fail "no FIX 4.2 Logon of ours in ordermatch's log"

st() { q "SELECT status || ' ' || cum_qty::float8 FROM orders WHERE order_id = '$1'"; }
step() { # ORDER_ID "STATUS FILLED" SECONDS: wait for the order to be there
        ibkr_wait_sql "SELECT status || ' ' || cum_qty::float8 FROM orders WHERE order_id = '$1'" \
                "$2" "$3" || fail "$1: want '$2', have '$(st "$1")'"
}
ibkr_publish orders.om <<'EOF'
NEW o-1 pf-om-a OMX SELL 100 LIMIT 10 - DAY
EOF
step o-1 "NEW 0" 30
ibkr_publish orders.om <<'EOF'
NEW o-2 pf-om-b OMX BUY 30 LIMIT 10.5 - DAY
EOF
step o-2 "FILLED 30" 30
step o-1 "PARTIALLY_FILLED 30" 10
ibkr_publish orders.om <<'EOF'
NEW o-3 pf-om-b OMX BUY 50 LIMIT 9.5 - DAY
EOF
step o-3 "NEW 0" 30
ibkr_publish orders.om <<'EOF'
NEW o-4 pf-om-a OMX SELL 20 LIMIT 9 - DAY
EOF
step o-4 "FILLED 20" 30
step o-3 "PARTIALLY_FILLED 20" 10
ibkr_publish orders.om <<'EOF'
CANCEL o-3 pf-om-b OMX BUY 50
EOF
step o-3 "CANCELED 20" 30
ibkr_publish orders.om <<'EOF'
NEW o-5 pf-om-b OMX BUY 80 LIMIT 10 - DAY
EOF
step o-5 "PARTIALLY_FILLED 70" 30
step o-1 "FILLED 100" 10
ibkr_publish orders.om <<'EOF'
CANCEL o-5 pf-om-b OMX BUY 80
NEW o-6 pf-om-a OMX SELL 5 LIMIT 10 - GTC
NEW o-7 pf-om-a OMX SELL 5 MARKET - - DAY
EOF
step o-5 "CANCELED 70" 30
step o-6 "REJECTED 0" 30
step o-7 "REJECTED 0" 30
[ "$(q "SELECT count(*) FROM order_events WHERE order_id = 'o-6' AND reason = 'Unsupported TIF, use Day'")" = 1 ] ||
        fail "o-6: ordermatch's reason is not in its report"
[ "$(q "SELECT count(*) FROM order_events WHERE order_id = 'o-7' AND reason LIKE 'order type MARKET not allowed%'")" = 1 ] ||
        fail "o-7: not refused before sending"
if grep -qa '35=D.*11=o-7' "$RUN/ordermatch.log"; then
        fail "o-7 reached ordermatch"
fi

# what the book did, from ordermatch's own log: its outgoing fills (ExecType 1 or 2)
book=$(python3 - "$RUN/ordermatch.log" <<'PY'
import sys, re
fills = []
outgoing = False
# the log: a line "<time, FIX.4.2:ORDERMATCH->TE, outgoing>", the message on the next
for line in open(sys.argv[1], errors="replace"):
    was, outgoing = outgoing, line.startswith("<") and ", outgoing>" in line
    m = re.search(r"8=FIX\.4\.2\x01.*?\x0110=\d{3}\x01", line) if was else None
    if not m:
        continue
    f = dict(kv.split("=", 1) for kv in m.group(0).split("\x01") if "=" in kv)
    if f.get("35") == "8" and f.get("150") in ("1", "2"):
        side = "BUY" if f["54"] == "1" else "SELL"
        fills.append("%s=%s %g@%g" % (f["11"], side, float(f["32"]), float(f["31"])))
print("\n".join(sorted(fills)))
PY
)
want=$(sort <<'EOF'
o-1=SELL 30@10
o-1=SELL 70@10
o-2=BUY 30@10
o-3=BUY 20@9
o-4=SELL 20@9
o-5=BUY 70@10
EOF
)
[ "$book" = "$want" ] || fail "ordermatch's fills are not what its book must do:
$book
want:
$want"
# every fill of the book is one trade row, and no trade is not one of its fills
ibkr_wait_sql "SELECT count(*) FROM trades t JOIN orders o USING (order_id) WHERE o.portfolio_id LIKE 'pf-om-%'" \
        6 20 || fail "trades missing"
got=$(q "SELECT t.order_id || '=' || t.direction || ' ' || t.size::float8 || '@' || t.price::float8
         FROM trades t JOIN orders o USING (order_id) WHERE o.portfolio_id LIKE 'pf-om-%'" | sort)
[ "$got" = "$book" ] || fail "trades rows differ from ordermatch's fills:
$got
ordermatch:
$book"
[ "$(q "SELECT coalesce(sum(illegal_transitions), -1) FROM orders WHERE portfolio_id LIKE 'pf-om-%'")" = 0 ] ||
        fail "illegal status transitions booked"
got=$(q "SELECT string_agg(order_id || ':' || status || ':' || cum_qty::float8, ' ' ORDER BY order_id)
         FROM orders WHERE portfolio_id LIKE 'pf-om-%'")
[ "$got" = "o-1:FILLED:100 o-2:FILLED:30 o-3:CANCELED:20 o-4:FILLED:20 o-5:CANCELED:70 o-6:REJECTED:0 o-7:REJECTED:0" ] ||
        fail "statuses: $got"
# the two portfolios mirror each other: a sold 120, b bought 120
got=$(q "SELECT string_agg(portfolio_id || ' ' || quantity::float8, ', ' ORDER BY portfolio_id)
         FROM positions WHERE portfolio_id LIKE 'pf-om-%' AND ticker = 'OMX'")
[ "$got" = "pf-om-a -120, pf-om-b 120" ] || fail "positions: $got"
"$TE_BUILD_DIR/exec-dbtool" check >/dev/null || fail "position_check/cash_check not empty"
ibkr_stop broker || fail "broker did not exit cleanly"
echo "test_fix_ordermatch: ok (6 fills through ordermatch's book, FIX 4.2)"
