#!/usr/bin/env bash
# test_planner_replace: plan.replace=true through the planner, the sim and the sink.
# sim.participation=0.0001 fills at most 1000 AAA per bar, so the first order is still
# working when the target grows; the planner resizes it in place instead of cancelling:
#
#   day 0  target 3000: BUY 3000 (GTC); part of it fills
#   day 1  target 4000: REPLACE of that order to a total of 4000 (no CANCEL, no NEW);
#          the sim confirms (REPLACED) and the target, planned again, sends nothing
#   days 2-6  target 4000 again (the clock moves, the order fills)
#
# Checked: what each target sent; one order in all, FILLED at 4000; the position never
# passes 4000; the planner counted one REPLACE and one plan after its confirmation.
source "$(dirname "$0")/prologue.sh" plrepl
source "$here/eo_fault_lib.sh"
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=15
target() { # target DECISION DAY QTY
        printf '{"decision_id":"%s","portfolio_id":"pf-repl","strategy_id":"s","profile_version_id":"pv","regime_id":"r","universe_id":"u","mode":"TRAINING","as_of":"2025-01-%02dT21:00:00Z","unit":"QUANTITY","full_replace":false,"targets":[{"ticker":"AAA","value":%s}]}\n' \
                "$1" $((6 + $2)) "$3"
}

python3 "$here/planner_data.py" bars 12 >"$RUN/bars.csv"
te_stack_up "$RUN"
"$TE_BUILD_DIR/exec-dbtool" load-bars "$RUN/bars.csv" >/dev/null
te_pipeline_start "$RUN" sink exec-sink
te_pipeline_start "$RUN" broker exec-broker -o sim.bars_csv="$RUN/bars.csv" \
        -o sim.participation=0.0001
te_pipeline_start "$RUN" planner exec-planner -o plan.tif=GTC -o plan.replace=true
{
        target p0 0 3000
        target p1 1 4000
        for d in 2 3 4 5 6; do target "p$d" "$d" 4000; done
} >"$RUN/targets.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/targets.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || eo_fail "the targets were not all planned, sent and booked"

eo_topic_json exec.orders >"$RUN/orders.jsonl"
sent=$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    m = json.loads(l)["value"]
    if m["command"] != "CLOCK":
        print(m["decision_id"], m["command"], m["side"], int(m["quantity"]))' \
        "$RUN/orders.jsonl" | paste -sd, -)
[ "$sent" = "p0 NEW BUY 3000,p1 REPLACE BUY 4000" ] || eo_fail "commands sent: $sent"
[ "$(eo_q "SELECT count(*) || ' ' || min(status) || ' ' || min(cum_qty)::int FROM orders
           WHERE portfolio_id = 'pf-repl'")" = "1 FILLED 4000" ] ||
        eo_fail "orders: $(eo_q "SELECT order_id, status, cum_qty FROM orders")"
max=$(eo_q "SELECT max(p) FROM (SELECT sum(CASE direction WHEN 'BUY' THEN size ELSE -size END)
        OVER (ORDER BY \"timestamp\", trade_id) AS p FROM trades WHERE ticker = 'AAA') s")
[ "${max%.*}" = 4000 ] || eo_fail "highest position $max, want 4000"
eo_topic_json exec.reports >"$RUN/reports.jsonl"
eo_has "$RUN/reports.jsonl" '"REPLACED"' '"p0"' || eo_fail "no REPLACED report"
te_pipeline_stop "$RUN" planner || eo_fail "planner did not stop cleanly"
eo_has "$RUN/planner.log" '"planner.stop"' 'replaces=1 replans=1 ' ||
        eo_fail "planner counters: $(grep '"planner.stop"' "$RUN/planner.log")"
eo_assert_books_exact
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_planner_replace: ok"
