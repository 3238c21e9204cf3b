#!/usr/bin/env bash
# test_ibkr_scenarios: every fake-TWS scenario end to end. Orders are published to
# Kafka (one orders topic per scenario), a real exec-broker with adapter=ibkr sends
# them to tests/fake_tws over the TWS socket protocol, exec-sink writes the reports
# to PostgreSQL; each scenario asserts the reports (order_events), the trades and
# the orders rows, and what the fake received. Scenarios: normal fill (plus the
# adapter's refusals: TRAINING, TIF CLS, account outside the allow-list), partial
# fills over time, reject (201), cancel race (fill after the cancel request),
# disconnect with fills during the outage and an order lost in transit, duplicate
# execDetails, pacing violation (error 100), TWS losing IB (1100/1102), malformed
# frames (3 kinds), REPLACE (modification of a working order; of one whose fill is in
# flight, which IB refuses with 104), commissionReports arriving late (within the
# adapter's wait, and after it).
source "$(dirname "$0")/prologue.sh" ibkr
source "$here/ibkr_lib.sh"
TE_TEST_LOG_LINES=25
te_test_cleanup_extra() { ibkr_stop_all; }

te_stack_up "$RUN" >/dev/null
ctl() { "$TE_BUILD_DIR/exec-devstack-ctl" --ctl "$RUN/ctl" "$@" >/dev/null; }
te_pipeline_start "$RUN" sink exec-sink

# per-order report sequence, e.g. "ACK PARTIAL_FILL FILL"
events() {
        q "SELECT string_agg(exec_type, ' ' ORDER BY kafka_partition, kafka_offset)
           FROM order_events WHERE order_id = '$1'"
}
trades() { # portfolio -> "TICKER SIDE SIZE PRICE COMM" lines
        q "SELECT t.ticker, t.direction, t.size::float8, t.price::float8, t.commission::float8
           FROM trades t JOIN orders o USING (order_id) WHERE o.portfolio_id = '$1'
           ORDER BY t.ticker, t.size, t.trade_id"
}
expect() { # what got want
        [ "$2" = "$3" ] || fail "$1: want [$3] got [$2]"
}

# scenario NAME CLIENT_ID FAKE_SCENARIO [fake options] -- [broker options]
start_scenario() {
        local name=$1 client=$2 scen=$3
        shift 3
        local fopts=() bopts=()
        while [ $# -gt 0 ] && [ "$1" != "--" ]; do fopts+=("$1"); shift; done
        [ $# -gt 0 ] && shift
        bopts=("$@")
        ctl create_topic "orders.$name" 8
        ibkr_fake "fake-$name" "$scen" "${fopts[@]}"
        ibkr_broker "broker-$name" "$client" "orders.$name" "${bopts[@]}"
}
end_scenario() {
        ibkr_stop "broker-$1" || fail "$1: broker did not exit cleanly"
        ibkr_stop "fake-$1" || true
}
places() { grep -c "^PLACE .*ref=$2 " "$RUN/fake-$1.log" || true; }

# Each scenario is a function (bodies not indented: they hold here-documents and
# multi-line expected values); they run at the end, in three groups side by side.
# ---- fill --------------------------------------------------------------------------
scenario_fill() {
start_scenario fill 11 fill
ibkr_publish orders.fill <<'EOF'
NEW f-1 pf-fill AAA BUY 100 MARKET - - DAY
NEW f-2 pf-fill BBB SELL 50 LIMIT 20.5 - GTC
NEW f-3 pf-fill CCC BUY 10 MARKET - - DAY TRAINING
NEW f-4 pf-fill DDD BUY 10 MARKET - - CLS
NEW f-5 pf-fill EEE BUY 10 MARKET - - DAY PRODUCTION ibkr:DU999999
NEW f-6 pf-fill FFF BUY 30 STOP - 15.25 IOC
NEW f-7 pf-fill GGG SELL 20 STOP_LIMIT 9.5 9.75 FOK
EOF
ibkr_wait_sql "SELECT count(*) FROM orders WHERE portfolio_id = 'pf-fill'
               AND status IN ('FILLED', 'REJECTED')" 7 40 || fail "fill: orders not done"
expect "fill trades" "$(trades pf-fill)" "AAA BUY 100 100.5 1
BBB SELL 50 20.5 1
FFF BUY 30 15.25 1
GGG SELL 20 9.5 1"
for o in f-1 f-2 f-6 f-7; do expect "fill events $o" "$(events $o)" "ACK FILL"; done
for o in f-3 f-4 f-5; do expect "fill events $o" "$(events $o)" "REJECTED"; done
expect "training refused" "$(q "SELECT reason LIKE 'TRAINING order refused%' FROM orders WHERE order_id = 'f-3'")" t
expect "account refused" "$(q "SELECT reason LIKE '%DU999999%not in ibkr.accounts%' FROM orders WHERE order_id = 'f-5'")" t
[ "$(grep -c '^PLACE' "$RUN/fake-fill.log")" = 4 ] || fail "fill: refused orders reached TWS"
grep -q 'PLACE id=[0-9]* ref=f-7 SELL 20 GGG STP LMT tif=FOK acct=DU111111' "$RUN/fake-fill.log" ||
        fail "fill: STP LMT order not as expected at TWS"
end_scenario fill
}

# ---- partial fills over time -------------------------------------------------------
scenario_partial() {
start_scenario partial 12 partial --fill-delay-ms 150
ibkr_publish orders.partial <<'EOF'
NEW p-1 pf-partial AAA BUY 100 MARKET - - DAY
EOF
ibkr_wait_sql "SELECT status || ' ' || cum_qty::int || ' ' || leaves_qty::int FROM orders
               WHERE order_id = 'p-1'" "FILLED 100 0" 30 || fail "partial: not filled"
expect "partial events" "$(events p-1)" "ACK PARTIAL_FILL PARTIAL_FILL FILL"
expect "partial cum/leaves" "$(q "SELECT string_agg(cum_qty::int || '/' || leaves_qty::int, ' '
        ORDER BY kafka_offset) FROM order_events WHERE order_id = 'p-1' AND exec_type <> 'ACK'")" \
        "30/70 60/40 100/0"
expect "partial trades" "$(trades pf-partial)" "AAA BUY 30 100.5 1
AAA BUY 30 100.5 1
AAA BUY 40 100.5 1"
end_scenario partial
}

# ---- reject (201) ------------------------------------------------------------------
scenario_reject() {
start_scenario reject 13 reject
ibkr_publish orders.reject <<'EOF'
NEW j-1 pf-reject AAA BUY 100 MARKET - - DAY
EOF
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'j-1'" REJECTED 30 ||
        fail "reject: not rejected"
expect "reject reason" "$(q "SELECT reason FROM orders WHERE order_id = 'j-1'")" \
        "IB 201: Order rejected - reason:YOUR ORDER IS NOT ACCEPTED."
expect "reject trades" "$(trades pf-reject)" ""
end_scenario reject
}

# ---- cancel race: fills reported after the cancel request ---------------------------
scenario_race() {
start_scenario race 14 cancel_race
ibkr_publish orders.race <<'EOF'
NEW c-1 pf-race AAA BUY 100 LIMIT 99 - DAY
EOF
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'c-1'" PARTIALLY_FILLED 30 ||
        fail "race: first partial fill missing"
ibkr_publish orders.race <<'EOF'
CANCEL c-1 pf-race AAA BUY 100
EOF
ibkr_wait_sql "SELECT status || ' ' || cum_qty::int FROM orders WHERE order_id = 'c-1'" \
        "CANCELED 70" 30 || fail "race: not canceled with 70 filled"
expect "race events" "$(events c-1)" "ACK PARTIAL_FILL PARTIAL_FILL CANCELED"
expect "race trades" "$(trades pf-race)" "AAA BUY 30 99 1
AAA BUY 40 99 1"
expect "race illegal transitions" "$(q "SELECT illegal_transitions FROM orders WHERE order_id = 'c-1'")" 0
end_scenario race
}

# ---- disconnect: fills during the outage, an order lost in transit ------------------
scenario_outage() {
start_scenario outage 15 disconnect --drop-after 3 --outage-ms 1500
ibkr_publish orders.outage <<'EOF'
NEW d-1 pf-outage AAA BUY 100 LIMIT 50 - DAY
NEW d-2 pf-outage BBB SELL 40 LIMIT 60 - GTC
NEW d-3 pf-outage CCC BUY 10 MARKET - - DAY
EOF
ibkr_wait_sql "SELECT string_agg(order_id || '=' || status, ' ' ORDER BY order_id) FROM orders
               WHERE portfolio_id = 'pf-outage'" "d-1=FILLED d-2=FILLED d-3=CANCELED" 40 ||
        fail "outage: not reconciled"
expect "outage lost order reason" "$(q "SELECT reason LIKE 'ibkr: order % unknown to IB at reconciliation%'
        FROM orders WHERE order_id = 'd-3'")" t
ibkr_publish orders.outage <<'EOF'
NEW d-4 pf-outage DDD BUY 5 MARKET - - DAY
EOF
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'd-4'" FILLED 30 ||
        fail "outage: order after reconnect not filled"
expect "outage trades" "$(trades pf-outage)" "AAA BUY 100 50 1
BBB SELL 40 60 1
DDD BUY 5 100.5 1"
for o in d-1 d-2 d-4; do expect "outage events $o" "$(events $o)" "ACK FILL"; done
for o in d-1 d-2 d-3 d-4; do expect "outage places $o" "$(places outage $o)" 1; done
grep -q '"event":"ibkr.disconnected"' "$RUN/broker-outage.log" || fail "outage: no disconnect logged"
grep -q '"event":"ibkr.reconcile"' "$RUN/broker-outage.log" || fail "outage: no reconcile logged"
end_scenario outage
}

# ---- duplicate execDetails ---------------------------------------------------------
scenario_dup() {
start_scenario dup 16 dup_exec
ibkr_publish orders.dup <<'EOF'
NEW x-1 pf-dup AAA BUY 100 MARKET - - DAY
NEW x-2 pf-dup BBB BUY 10 MARKET - - DAY
EOF
ibkr_wait_sql "SELECT count(*) FROM orders WHERE portfolio_id = 'pf-dup' AND status = 'FILLED'" 2 30 ||
        fail "dup: not filled"
expect "dup trades" "$(trades pf-dup)" "AAA BUY 100 100.5 1
BBB BUY 10 100.5 1"
expect "dup events" "$(events x-1)" "ACK FILL"
grep -q '"event":"ibkr.exec_dup"' "$RUN/broker-dup.log" || fail "dup: duplicates not seen"
end_scenario dup
}

# ---- pacing violation (error 100) --------------------------------------------------
scenario_pacing() {
start_scenario pacing 17 pacing --pace-limit 5 -- -o ibkr.max_msgs_per_sec=10
for i in $(seq 1 20); do echo "NEW g-$i pf-pacing T$i BUY 1 MARKET - - DAY"; done |
        ibkr_publish orders.pacing
ibkr_wait_sql "SELECT count(*) FROM orders WHERE portfolio_id = 'pf-pacing' AND status = 'FILLED'" 20 40 ||
        fail "pacing: not all filled"
expect "pacing trades" "$(q "SELECT count(*) FROM trades t JOIN orders o USING (order_id) WHERE o.portfolio_id = 'pf-pacing'")" 20
grep -q '"event":"ibkr.pacing"' "$RUN/broker-pacing.log" || fail "pacing: no back-off logged"
end_scenario pacing
stats=$(grep '^STATS' "$RUN/fake-pacing.log")
max=$(echo "$stats" | sed 's/.*max_msgs_per_1s=\([0-9]*\).*/\1/')
[ "$max" -le 10 ] || fail "pacing: TWS saw $max messages in one second (limit 10): $stats"
echo "$stats" | grep -q 'pacing_errors=[1-9]' || fail "pacing: fake sent no error 100"
}

# ---- TWS loses IB (1100, then 1102): stop submitting, reconcile, then send ----------
scenario_iblost() {
start_scenario iblost 30 ib_lost --outage-ms 1500
ibkr_publish orders.iblost <<'EOF'
NEW l-1 pf-iblost AAA BUY 10 MARKET - - DAY
EOF
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'l-1'" FILLED 30 || fail "iblost: l-1"
deadline=$((SECONDS + 10))
until grep -q '"event":"ibkr.ib_lost"' "$RUN/broker-iblost.log"; do
        [ $SECONDS -lt $deadline ] || fail "iblost: 1100 not seen"
        sleep 0.05
done
ibkr_publish orders.iblost <<'EOF'
NEW l-2 pf-iblost BBB BUY 10 MARKET - - DAY
EOF
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'l-2'" FILLED 30 || fail "iblost: l-2"
# l-2 reached TWS only after IB came back (and the reconciliation after it)
awk '/^IBRESTORED/ { r = 1 } /^PLACE .*ref=l-2 / { print (r ? "after" : "before") }' \
        "$RUN/fake-iblost.log" | grep -qx after || fail "iblost: l-2 sent while IB was lost"
expect "iblost places" "$(places iblost l-2)" 1
end_scenario iblost
}

# ---- malformed frames --------------------------------------------------------------
scenario_malformed() {
n=18
for kind in badint biglen fewfields; do
        start_scenario "bad$kind" $n malformed --malformed "$kind"
        ibkr_publish "orders.bad$kind" <<EOF
NEW m-$kind pf-bad$kind AAA BUY 10 MARKET - - DAY
EOF
        ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'm-$kind'" FILLED 30 ||
                fail "malformed $kind: fill not recovered"
        expect "malformed $kind trades" "$(trades "pf-bad$kind")" "AAA BUY 10 100.5 1"
        grep -q '"event":"ibkr.disconnected".*malformed frame' "$RUN/broker-bad$kind.log" ||
                fail "malformed $kind: no malformed-frame disconnect logged"
        expect "malformed $kind places" "$(places "bad$kind" "m-$kind")" 1
        end_scenario "bad$kind"
        n=$((n + 1))
done
}

# ---- modify: REPLACE is placeOrder again with the same TWS order id ----------------
# (fake scenario modify: LIMIT orders rest until modified, then fill at the new terms;
# a MARKET order fills at IB at once but its execution reaches us 4 s later)
scenario_modify() {
start_scenario modify 32 modify --fill-delay-ms 4000
ibkr_publish orders.modify <<'EOF'
NEW e-1 pf-modify AAA BUY 100 LIMIT 50 - DAY
NEW e-2 pf-modify BBB SELL 40 MARKET - - DAY
EOF
deadline=$((SECONDS + 20))
until [ "$(places modify e-2)" = 1 ]; do
        [ $SECONDS -lt $deadline ] || fail "modify: e-2 not placed"
        sleep 0.05
done
ibkr_publish orders.modify <<'EOF'
REPLACE e-1 pf-modify AAA BUY 150 LIMIT 51 - DAY
REPLACE e-2 pf-modify BBB SELL 60 MARKET - - DAY
EOF
ibkr_wait_sql "SELECT string_agg(order_id || '=' || status || '/' || cum_qty::int || '/' ||
               leaves_qty::int, ' ' ORDER BY order_id) FROM orders WHERE portfolio_id = 'pf-modify'" \
        "e-1=FILLED/150/0 e-2=FILLED/40/0" 40 || fail "modify: orders not done"
expect "modify events e-1" "$(events e-1)" "ACK REPLACED FILL"
# the refused modification is a REJECTED report in the live status (NEW), then the fill
expect "modify events e-2" "$(events e-2)" "ACK REJECTED FILL"
expect "modify REPLACED" "$(q "SELECT order_status || ' ' || cum_qty::int || ' ' || leaves_qty::int
        FROM order_events WHERE order_id = 'e-1' AND exec_type = 'REPLACED'")" "NEW 0 150"
expect "modify trades" "$(trades pf-modify)" "AAA BUY 150 51 1
BBB SELL 40 100.5 1"
expect "modify stored terms" "$(q "SELECT order_id || ' ' || quantity || ' ' || coalesce(limit_price, 0)
        FROM ibkr_orders WHERE order_id IN ('e-1', 'e-2') ORDER BY order_id")" "e-1 150 51
e-2 40 0"
expect "modify illegal transitions" "$(q "SELECT sum(illegal_transitions) FROM orders
        WHERE portfolio_id = 'pf-modify'")" 0
grep -q '^MODIFY id=[0-9]* ref=e-1 qty=150 lmt=51 ' "$RUN/fake-modify.log" ||
        fail "modify: e-1 not modified at TWS"
grep -q '^MODIFY_REFUSED id=[0-9]* code=104' "$RUN/fake-modify.log" || fail "modify: no 104 for e-2"
expect "modify placeOrders e-1" "$(places modify e-1)" 2 # the order, then its modification
"$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t exec.alerts --from-beginning \
        --exit-at-end 2>/dev/null >"$RUN/alerts.jsonl"
[ "$(grep '"replace_refused"' "$RUN/alerts.jsonl" | grep '"e-2"' | grep -c 'IB 104')" = 1 ] ||
        fail "modify: no replace_refused alert for e-2"
[ "$(grep -c '"replace_refused"' "$RUN/alerts.jsonl")" = 1 ] || fail "modify: unexpected replace_refused alerts"
end_scenario modify
}

# ---- commissionReport late -------------------------------------------------------
# (the broker holds a fill up to ibkr.commission_wait_ms = 1000 for its
# commissionReport: 500 ms late it is joined; 2500 ms late the fill leaves with
# commission 0 and IB's amount only reaches ibkr_execs, with alerts)
scenario_commission() {
start_scenario commwait 33 fill --commission-delay-ms 500
ibkr_publish orders.commwait <<'EOF'
NEW cw-1 pf-commwait AAA BUY 10 MARKET - - DAY
EOF
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'cw-1'" FILLED 30 || fail "commwait: not filled"
expect "commwait trades" "$(trades pf-commwait)" "AAA BUY 10 100.5 1"
end_scenario commwait
start_scenario commlate 34 fill --commission-delay-ms 2500
ibkr_publish orders.commlate <<'EOF'
NEW cl-1 pf-commlate BBB BUY 10 MARKET - - DAY
EOF
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'cl-1'" FILLED 30 || fail "commlate: not filled"
ibkr_wait_sql "SELECT commission FROM ibkr_execs WHERE order_id = 'cl-1'" 1 30 ||
        fail "commlate: IB's commission not recorded in ibkr_execs"
expect "commlate trades" "$(trades pf-commlate)" "BBB BUY 10 100.5 0"
expect "commlate order commission" "$(q "SELECT commission FROM orders WHERE order_id = 'cl-1'")" 0
"$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t exec.alerts --from-beginning \
        --exit-at-end 2>/dev/null >"$RUN/alerts.jsonl"
for code in commission_missing commission_late; do
        [ "$(grep "\"$code\"" "$RUN/alerts.jsonl" | grep -c '"cl-1"')" = 1 ] ||
                fail "commlate: want one $code alert for cl-1"
done
[ "$(grep '"commission_late"' "$RUN/alerts.jsonl" | grep -c 'commission 1 USD for execution')" = 1 ] ||
        fail "commlate: commission_late alert without the amount"
[ "$(grep -E '"commission_(missing|late)"' "$RUN/alerts.jsonl" | grep -c '"cw-1"')" = 0 ] ||
        fail "commwait: commission alert for an order whose commission came in time"
end_scenario commlate
}

# The scenarios are independent (own orders topic, broker, fake TWS, portfolio): three
# groups run side by side, each in order, so that their brokers' group joins and the
# fakes' timed behaviour overlap instead of adding up. A failing group exits its
# subshell; the processes it started are stopped by the cleanup (their .pid files).
pids=()
for group in "fill partial reject race outage" "dup pacing iblost malformed" \
        "modify commission"; do
        (for s in $group; do "scenario_$s"; done) &
        pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
[ $rc = 0 ] || fail "a scenario failed (see above)"

"$TE_BUILD_DIR/exec-dbtool" check >/dev/null || fail "position_check/cash_check not empty"
te_pipeline_stop "$RUN" sink || fail "sink did not exit cleanly"
echo "test_ibkr_scenarios: ok"
