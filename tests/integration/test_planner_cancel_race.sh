#!/usr/bin/env bash
# test_planner_cancel_race: no overfill while a cancel is in flight (docs/DESIGN.md invariant
# 9), through the planner, the broker worker and the sink. The sim sits behind the fault
# decorator with fault.script=cancel_delay_ms=300,fill_before_cancel=1: every CANCEL
# reaches the sim 300 ms late and the order's remaining quantity fills first, as when a
# fill races a cancel at a real broker. sim.participation=0.0001 fills at most 1000 AAA
# per bar, so the first order is still working when the target changes.
#
#   day 0  target 3000: BUY 3000 (GTC); part of it fills (position p < 3000)
#   day 1  target 4000: position p + 3000 - p working no longer fits -> CANCEL; the
#          3000 - p fill before the cancel lands (position 3000); only then is the
#          residual planned: BUY 1000 -> 4000.
#          (Planning CANCEL + BUY 4000 - p at once, as the planner used to, ends at
#          7000 - p > 4000.)
#   days 2-6  target 4000 again (the clock moves, the BUY 1000 fills)
#
# Checked: the race did happen (r0's order FILLED although cancelled); the position
# never goes above 4000 (running sum of the trades in time order) and ends at 4000; r1
# sent its NEW only after the confirmation (planned again once); the wait beyond
# plan.confirm_timeout_ms (100) raised one confirm.timeout Alert; the books are exact.
source "$(dirname "$0")/prologue.sh" plrace
source "$here/eo_fault_lib.sh"
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=15
target() { # target DECISION DAY QTY
        printf '{"decision_id":"%s","portfolio_id":"pf-race","strategy_id":"s","profile_version_id":"pv","regime_id":"r","universe_id":"u","mode":"TRAINING","as_of":"2025-01-%02dT21:00:00Z","unit":"QUANTITY","full_replace":false,"targets":[{"ticker":"AAA","value":%s}]}\n' \
                "$1" $((6 + $2)) "$3"
}

python3 "$here/planner_data.py" bars 12 >"$RUN/bars.csv"
te_stack_up "$RUN"
"$TE_BUILD_DIR/exec-dbtool" load-bars "$RUN/bars.csv" >/dev/null
te_pipeline_start "$RUN" sink exec-sink
te_pipeline_start "$RUN" broker exec-broker -o sim.bars_csv="$RUN/bars.csv" \
        -o sim.participation=0.0001 -o fault.script=cancel_delay_ms=300,fill_before_cancel=1
te_pipeline_start "$RUN" planner exec-planner -o plan.tif=GTC -o plan.confirm_timeout_ms=100
{
        target r0 0 3000
        target r1 1 4000
        for d in 2 3 4 5 6; do target "r$d" "$d" 4000; done
} >"$RUN/targets.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/targets.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || eo_fail "the targets were not all planned, sent and booked"
# the scenario happened: r0's order, cancelled by r1, filled in full before the cancel
# landed (the fault fills it when the cancel reaches the sim; a planner that does not
# wait lets the next clocks fill it even earlier)
raced() { [ "$(eo_q "SELECT status FROM orders WHERE decision_id = 'r0'")" = FILLED ]; }
eo_wait "r0's order to fill before its cancel" 30 raced
te_pipeline_wait_idle "$RUN" 60 || eo_fail "not idle after the race"
# the running position, trade by trade in time order, and its maximum
read -r max final < <(eo_q "SELECT max(p), (array_agg(p ORDER BY ts DESC, trade_id DESC))[1]
        FROM (SELECT \"timestamp\" AS ts, trade_id,
                     sum(CASE direction WHEN 'BUY' THEN size ELSE -size END)
                         OVER (ORDER BY \"timestamp\", trade_id) AS p
              FROM trades WHERE ticker = 'AAA') s" | tr '|' ' ')
echo "AAA: highest position $max, final $final (target 4000)"
[ "${max%.*}" -le 4000 ] || eo_fail "position reached $max, above the target 4000 (overfill)"
[ "$(eo_q "SELECT quantity::bigint FROM positions WHERE portfolio_id = 'pf-race' AND ticker = 'AAA'")" = 4000 ] ||
        eo_fail "final position $(eo_q "SELECT quantity FROM positions WHERE portfolio_id = 'pf-race'") != 4000"
eo_topic_json exec.orders >"$RUN/orders.jsonl"
eo_has "$RUN/orders.jsonl" '"CANCEL"' '"r1"' || eo_fail "r1 sent no CANCEL"
eo_topic_json exec.reports >"$RUN/reports.jsonl"
eo_has "$RUN/reports.jsonl" '"FILL"' 'fault: filled before the cancel' ||
        eo_fail "the fault did not fill r0's order before its cancel"
# the cancel waited 300 ms for its confirmation: one confirm.timeout Alert for r0's order
eo_topic_json exec.alerts >"$RUN/alerts.jsonl"
r0_order=$(eo_q "SELECT order_id FROM orders WHERE decision_id = 'r0'")
[ "$(grep '"confirm.timeout"' "$RUN/alerts.jsonl" | grep -c "\"$r0_order\"")" = 1 ] ||
        eo_fail "no single confirm.timeout alert for $r0_order"
# what r1 sent: the CANCEL, then (after the confirmation) BUY 1000
new_r1=$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    m = json.loads(l)["value"]
    if m["decision_id"] == "r1" and m["command"] != "CLOCK":
        print(m["command"], m["side"], "N" if m["command"] == "CANCEL" else int(m["quantity"]))' \
        "$RUN/orders.jsonl" | paste -sd, -)
[ "$new_r1" = "CANCEL BUY N,NEW BUY 1000" ] || eo_fail "r1 sent: $new_r1"
te_pipeline_stop "$RUN" planner || eo_fail "planner did not stop cleanly"
eo_has "$RUN/planner.log" '"planner.stop"' 'replans=1 ' ||
        eo_fail "planner counters: $(grep '"planner.stop"' "$RUN/planner.log")"
eo_assert_books_exact
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_planner_cancel_race: ok"
