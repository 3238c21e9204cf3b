#!/usr/bin/env bash
# test_ibkr_positions: after every reconciliation the ibkr adapter compares IB's
# positions with the runtime DB's positions table, per account and ticker, and raises a
# CRITICAL position_mismatch alert (account, ticker, IB and DB quantity) for every
# difference that outlasts ibkr.position_check_ms; it corrects nothing. The fake TWS
# reports two positions the books do not have (--pos-adjust AAA +5, ZZZ 7) on account
# DU777777, which no other test uses. At startup both differ (IB 5 and 7, DB 0). Then
# two orders fill (AAA 100, BBB 10), TWS loses and regains IB (1100, 1102) and the
# adapter reconciles again: AAA (IB 105, DB 100) and ZZZ differ, BBB agrees. The DB
# gets AAA and BBB from the sink while the comparison waits for it, so no alert may
# name a quantity the sink had not booked yet.
source "$(dirname "$0")/prologue.sh" ibkr-pos
source "$here/ibkr_lib.sh"
TE_TEST_LOGS=('*.log' alerts.txt) TE_TEST_LOG_LINES=25
te_test_cleanup_extra() { ibkr_stop_all; }

te_stack_up "$RUN" >/dev/null
"$TE_BUILD_DIR/exec-devstack-ctl" --ctl "$RUN/ctl" create_topic orders.pos 8 >/dev/null
te_pipeline_start "$RUN" sink exec-sink
ibkr_wait_log sink sink.assigned 30 || fail "sink not assigned"
ibkr_fake fake ib_lost --accounts DU777777 --outage-ms 1500 \
        --pos-adjust DU777777:AAA:5 --pos-adjust DU777777:ZZZ:7
ibkr_broker broker 41 orders.pos -o ibkr.accounts=DU777777 -o ibkr.position_check_ms=4000
# the startup comparison ends (after its grace period) before any order
ibkr_wait_log broker ibkr.positions 30 || fail "no comparison at startup"
ibkr_publish orders.pos <<'EOF'
NEW pos-1 pf-pos AAA BUY 100 MARKET - - DAY
NEW pos-2 pf-pos BBB BUY 10 MARKET - - DAY
EOF
ibkr_wait_sql "SELECT count(*) FROM orders WHERE portfolio_id = 'pf-pos' AND status = 'FILLED'" \
        2 30 || fail "orders not filled"
deadline=$((SECONDS + 40))
until [ "$(grep -c '"event":"ibkr.positions"' "$RUN/broker.log")" -ge 2 ]; do
        [ $SECONDS -lt $deadline ] || fail "no comparison after the reconnect"
        sleep 0.1
done
grep -q '^IBRESTORED' "$RUN/fake.log" || fail "TWS did not regain IB"

"$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t exec.alerts --from-beginning \
        --exit-at-end 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    v = json.loads(line).get("value") or {}
    if v.get("code") == "position_mismatch":
        print(v["severity"], v["message"])' | sort >"$RUN/alerts.txt"
want="CRITICAL account DU777777 ticker AAA: IB 105, DB 100 (difference 5); not corrected
CRITICAL account DU777777 ticker AAA: IB 5, DB 0 (difference 5); not corrected
CRITICAL account DU777777 ticker ZZZ: IB 7, DB 0 (difference 7); not corrected
CRITICAL account DU777777 ticker ZZZ: IB 7, DB 0 (difference 7); not corrected"
[ "$(cat "$RUN/alerts.txt")" = "$want" ] || fail "alerts: $(cat "$RUN/alerts.txt")"
# nothing corrected: the books hold what was traded, TWS saw only our two orders
[ "$(q "SELECT string_agg(ticker || '=' || quantity::int, ' ' ORDER BY ticker) FROM positions
        WHERE portfolio_id = 'pf-pos'")" = "AAA=100 BBB=10" ] || fail "positions changed"
[ "$(grep -c '^PLACE' "$RUN/fake.log")" = 2 ] || fail "orders other than ours reached TWS"
# each reconciliation stopped IB's position updates after its snapshot
[ "$(grep -c '^CANCEL_POSITIONS' "$RUN/fake.log")" = 2 ] || fail "cancelPositions not sent twice"
"$TE_BUILD_DIR/exec-dbtool" check >/dev/null || fail "position_check/cash_check not empty"
ibkr_stop broker || fail "broker did not exit cleanly"
echo "test_ibkr_positions: ok (4 position_mismatch alerts, none for BBB, nothing corrected)"
