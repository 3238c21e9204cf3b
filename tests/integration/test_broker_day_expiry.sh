#!/usr/bin/env bash
# test_broker_day_expiry: a DAY order that the session end expires is a normal outcome,
# not something to act on. LIMIT orders priced 20% away from the market (never filled)
# expire at their session's end in the simulator: each is EXPIRED in the DB with the
# broker's reason, logged as an order.expired event and counted in
# te_orders_tif_expired_total, and no order_expired Alert is raised for any of them.
# (Orders the worker expires because they waited too long to be sent still raise one:
# test_fault_broker.)
source "$(dirname "$0")/prologue.sh" dayexp
source "$here/metrics_lib.sh"
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=12

python3 "$here/planner_data.py" bars 10 >"$RUN/bars.csv"
python3 "$here/planner_data.py" targets 2 4 5 >"$RUN/targets.jsonl"
te_stack_up "$RUN"
"$TE_BUILD_DIR/exec-dbtool" load-bars "$RUN/bars.csv" >/dev/null
bport=$(te_free_ports 1)
te_pipeline_start "$RUN" sink exec-sink
te_pipeline_start "$RUN" broker exec-broker -o sim.bars_csv="$RUN/bars.csv" \
        -o metrics.port="$bport"
te_pipeline_start "$RUN" planner exec-planner -o plan.order_type=LIMIT \
        -o plan.limit_offset_bps=-2000 -o plan.tif=DAY
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/targets.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || fail "pipeline did not drain"

n_exp=$(q "SELECT count(*) FROM orders WHERE status = 'EXPIRED' AND reason = 'DAY: session ended'")
n_other=$(q "SELECT count(*) FROM orders WHERE status = 'EXPIRED' AND reason <> 'DAY: session ended'")
[ "$n_exp" -ge 2 ] || fail "$n_exp DAY orders expired at the session end, want >= 2"
[ "$n_other" = 0 ] || fail "$n_other orders expired otherwise"
[ "$(q "SELECT count(*) FROM trades")" = 0 ] || fail "an order 20% away from the market filled"
"$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t exec.alerts --from-beginning \
        --exit-at-end >"$RUN/alerts.jsonl" 2>/dev/null
n_alert=$(grep -c '"order_expired"' "$RUN/alerts.jsonl" || true)
[ "$n_alert" = 0 ] || fail "$n_alert order_expired alerts for orders expired at the session end"
te_wait_metric "$bport" te_orders_tif_expired_total "$n_exp" 10 ||
        fail "te_orders_tif_expired_total is not $n_exp"
n_log=$(grep -c '"order.expired"' "$RUN/broker.log" || true)
[ "$n_log" = "$n_exp" ] || fail "$n_log order.expired events for $n_exp expired orders"
grep '"order.expired"' "$RUN/broker.log" | head -n 1 | grep -q '"level":"info"' ||
        fail "order.expired is not an info event"
te_pipeline_down "$RUN" || fail "a process did not exit cleanly on SIGTERM"
echo "test_broker_day_expiry: ok ($n_exp DAY orders expired: events and a metric, no alert)"
