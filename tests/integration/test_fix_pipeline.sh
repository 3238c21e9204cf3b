#!/usr/bin/env bash
# test_fix_pipeline: exec-broker with adapter=fix against QuickFIX's `executor` example
# (built at test time, tests/integration/fix_lib.sh), through Kafka and exec-sink into
# the runtime DB. The executor fills LIMIT orders at their price at once and refuses
# every other type with a session Reject. Checked: the LIMIT orders (three TIFs, both
# sides) are FILLED with one trade each at their price and size; MARKET and STOP are
# REJECTED with the counterparty's reason, STOP_LIMIT with the DAY-only TIF list is
# REJECTED before it is sent; after the worker is stopped and started again, it
# continues the FIX sequence numbers from the runtime DB (QuickFIX would log a
# MsgSeqNum too low otherwise) and trades again; positions and cash check out.
source "$(dirname "$0")/prologue.sh" fix-pipeline
source "$here/ibkr_lib.sh" # q, ibkr_publish, ibkr_wait_sql, ibkr_wait_log, ibkr_stop*
source "$here/fix_lib.sh"
TE_TEST_LOG_LINES=25
te_test_cleanup_extra() {
        ibkr_stop_all
        if [ -n "${QFX_PID:-}" ]; then
                kill "$QFX_PID" 2>/dev/null || true
                wait "$QFX_PID" 2>/dev/null || true
        fi
}

te_stack_up "$RUN" >/dev/null
"$TE_BUILD_DIR/exec-devstack-ctl" --ctl "$RUN/ctl" create_topic orders.fix 4 >/dev/null
qfx_build executor
qfx_start executor
te_pipeline_start "$RUN" sink exec-sink
fix_broker() {
        te_pipeline_start "$RUN" broker exec-broker -o adapter=fix -o fix.port="$QFX_PORT" \
                -o fix.sender_comp_id=TE -o fix.target_comp_id=EXECUTOR -o fix.account=ACC1 \
                -o fix.tifs=DAY,GTC,IOC -o group.id=fix-broker -o topic.orders=orders.fix \
                -o broker.name=fix -o commit.interval.ms=100 -o fix.reconnect_min_ms=100 \
                -o fix.reconnect_max_ms=800 -o log.level=debug
}
fix_broker
ibkr_wait_log sink sink.assigned 30 || fail "sink not assigned"
ibkr_wait_log broker fix.ready 30 || fail "adapter not logged on"
ibkr_publish orders.fix <<'EOF'
NEW f-1 pf-fix AAA BUY 100 LIMIT 10.5 - DAY
NEW f-2 pf-fix BBB SELL 50 LIMIT 20 - GTC
NEW f-3 pf-fix CCC BUY 30 LIMIT 5.25 - IOC
NEW f-4 pf-fix DDD BUY 10 MARKET - - DAY
NEW f-5 pf-fix EEE SELL 10 STOP - 12 DAY
NEW f-6 pf-fix FFF BUY 10 STOP_LIMIT 13 12 FOK
EOF
ibkr_wait_sql "SELECT count(*) FROM orders WHERE portfolio_id = 'pf-fix' AND status IN ('FILLED', 'REJECTED')" \
        6 60 || fail "not every order ended"
got=$(q "SELECT string_agg(order_id || ':' || status, ' ' ORDER BY order_id) FROM orders
         WHERE portfolio_id = 'pf-fix'")
[ "$got" = "f-1:FILLED f-2:FILLED f-3:FILLED f-4:REJECTED f-5:REJECTED f-6:REJECTED" ] ||
        fail "statuses: $got"
ibkr_wait_sql "SELECT count(*) FROM trades t JOIN orders o USING (order_id) WHERE o.portfolio_id = 'pf-fix'" \
        3 20 || fail "trades missing"
got=$(q "SELECT string_agg(t.order_id || '=' || t.direction || ' ' || t.size::float8 || '@' ||
         t.price::float8, ', ' ORDER BY t.order_id) FROM trades t JOIN orders o USING (order_id)
         WHERE o.portfolio_id = 'pf-fix'")
[ "$got" = "f-1=BUY 100@10.5, f-2=SELL 50@20, f-3=BUY 30@5.25" ] || fail "trades: $got"
grep -q '"event":"fix.alert".*counterparty rejected our message' "$RUN/broker.log" ||
        fail "no alert for the counterparty's rejects"
[ "$(q "SELECT count(*) FROM order_events WHERE order_id = 'f-4' AND reason LIKE 'refused by the counterparty%'")" = 1 ] ||
        fail "f-4: the counterparty's reason is not in its report"
[ "$(q "SELECT count(*) FROM order_events WHERE order_id = 'f-6' AND reason LIKE 'TIF FOK not allowed%'")" = 1 ] ||
        fail "f-6: not refused before sending"

# stop and start the worker: the sequence numbers continue from the runtime DB
read -r out1 in1 < <(q "SELECT next_out, next_in FROM fix_sessions WHERE sender_comp_id = 'TE'")
[ "${out1:-0}" -gt 1 ] || fail "fix_sessions not written"
ibkr_stop broker || fail "broker did not exit cleanly"
fix_broker
ibkr_wait_log broker fix.seqs_loaded 30 || fail "the restarted adapter did not load its numbers"
ibkr_wait_log broker fix.ready 30 || fail "the restarted adapter did not log on"
ibkr_publish orders.fix <<'EOF'
NEW f-7 pf-fix GGG BUY 7 LIMIT 99.5 - DAY
EOF
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'f-7'" FILLED 30 || fail "f-7 not filled"
read -r out2 in2 < <(q "SELECT next_out, next_in FROM fix_sessions WHERE sender_comp_id = 'TE'")
[ "$out2" -gt "$out1" ] && [ "$in2" -gt "$in1" ] || fail "numbers did not continue: $out1/$in1 -> $out2/$in2"
if grep -q 'MsgSeqNum too low' "$RUN/executor.log"; then
        fail "the executor saw a MsgSeqNum too low"
fi
"$TE_BUILD_DIR/exec-dbtool" check >/dev/null || fail "position_check/cash_check not empty"
ibkr_stop broker || fail "broker did not exit cleanly"
echo "test_fix_pipeline: ok (sequence numbers $out1/$in1 -> $out2/$in2 over the restart)"
