#!/usr/bin/env bash
# test_ibkr_restart: kill -9 the exec-broker (adapter=ibkr) in the middle of partial
# fills (some executions delivered to Kafka, not all), let fills happen at "IB" while
# it is down, restart it, and check that no order was submitted twice (the fake TWS
# saw each orderRef once, TWS ids 1..5, the persisted high-water mark is 6), no fill
# was lost or booked twice (15 trades, each order's sizes add up to its quantity), and
# every order ended FILLED.
source "$(dirname "$0")/prologue.sh" ibkr-restart
source "$here/ibkr_lib.sh"
TE_TEST_LOG_LINES=25
te_test_cleanup_extra() { ibkr_stop_all; }

te_stack_up "$RUN" >/dev/null
"$TE_BUILD_DIR/exec-devstack-ctl" --ctl "$RUN/ctl" create_topic orders.restart 8 >/dev/null
te_pipeline_start "$RUN" sink exec-sink
ibkr_fake fake partial --fill-delay-ms 600
ibkr_broker broker 21 orders.restart
# fills come 0.6 s apart: start them only once the sink books reports and the adapter
# is ready, or (slow sanitizer builds) every fill may be booked before the kill
ibkr_wait_log sink sink.assigned 30 || fail "sink not assigned"
ibkr_wait_log broker ibkr.ready 30 || fail "adapter not ready"
ibkr_publish orders.restart <<'EOF'
NEW r-1 pf-restart AAA BUY 100 MARKET - - DAY
NEW r-2 pf-restart BBB SELL 100 LIMIT 20 - GTC
NEW r-3 pf-restart CCC BUY 100 MARKET - - DAY
NEW r-4 pf-restart DDD BUY 100 MARKET - - DAY
EOF
# mid-scenario: the worker has delivered some executions to Kafka (the adapter records
# them in ibkr_execs after each producer flush), not all; this does not depend on how
# fast the sink books them
delivered_sql="SELECT count(*) FROM ibkr_execs x JOIN ibkr_orders o USING (order_id)
               WHERE o.client_id = 21"
ibkr_wait_sql "SELECT ($delivered_sql) > 0" t 40 || fail "no execution delivered before the kill"
pid=$(cat "$RUN/broker.pid")
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
rm -f "$RUN/broker.pid"
delivered=$(q "$delivered_sql")
[ "$delivered" -lt 12 ] || fail "every execution was delivered before the kill: nothing tested"
# fills happen at IB while the worker is down
deadline=$((SECONDS + 20))
until grep -q '^EXEC .*sent=0' "$RUN/fake.log"; do
        [ $SECONDS -lt $deadline ] || fail "no fill happened during the outage"
        sleep 0.05
done
ibkr_broker broker 21 orders.restart
ibkr_publish orders.restart <<'EOF'
NEW r-5 pf-restart EEE BUY 100 MARKET - - DAY
EOF
ibkr_wait_sql "SELECT count(*) FROM orders WHERE portfolio_id = 'pf-restart' AND status = 'FILLED'" \
        5 60 || fail "not every order filled after the restart"
ibkr_wait_sql "SELECT count(*) FROM trades t JOIN orders o USING (order_id)
               WHERE o.portfolio_id = 'pf-restart'" 15 20 || fail "trades missing"
expect_sizes=$(q "SELECT string_agg(t.order_id || '=' || sum_size, ' ' ORDER BY t.order_id) FROM
        (SELECT order_id, sum(size)::int AS sum_size FROM trades GROUP BY order_id) t
        JOIN orders o USING (order_id) WHERE o.portfolio_id = 'pf-restart'")
[ "$expect_sizes" = "r-1=100 r-2=100 r-3=100 r-4=100 r-5=100" ] || fail "sizes: $expect_sizes"
[ "$(q "SELECT string_agg(exec_type || ':' || n, ' ' ORDER BY exec_type) FROM (SELECT exec_type,
        count(*) AS n FROM order_events WHERE portfolio_id = 'pf-restart' GROUP BY 1) e")" = \
        "ACK:5 FILL:5 PARTIAL_FILL:10" ] || fail "report counts"
for o in r-1 r-2 r-3 r-4 r-5; do
        n=$(grep -c "^PLACE .*ref=$o " "$RUN/fake.log" || true)
        [ "$n" = 1 ] || fail "$o reached TWS $n times"
done
[ "$(grep '^PLACE' "$RUN/fake.log" | sed 's/PLACE id=\([0-9]*\).*/\1/' | sort -n | paste -sd' ')" = "1 2 3 4 5" ] ||
        fail "TWS order ids not 1..5"
[ "$(q "SELECT next_order_id FROM ibkr_order_ids WHERE client_id = 21")" = 6 ] ||
        fail "high-water mark"
[ "$(q "SELECT count(*) FROM ibkr_execs x JOIN ibkr_orders o USING (order_id) WHERE o.client_id = 21")" = 15 ] ||
        fail "delivered executions not recorded"
grep -q '"event":"ibkr.loaded","msg":"[1-9][0-9]* open orders' "$RUN/broker.log" ||
        fail "the restarted adapter did not load its open orders"
"$TE_BUILD_DIR/exec-dbtool" check >/dev/null || fail "position_check/cash_check not empty"
ibkr_stop broker || fail "broker did not exit cleanly"
echo "test_ibkr_restart: ok ($delivered executions delivered before the kill, 15 in all, none twice)"
