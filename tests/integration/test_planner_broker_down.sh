#!/usr/bin/env bash
# test_planner_broker_down: the planner stops planning for a broker that is down (issue
# 6 point 5). The sim worker runs behind fault.script=down_after=1: after the first
# target's order it goes down (until the test, done with its checks of the outage,
# creates the fault's up_file) and publishes BROKER_STATE DOWN. While it is
# down, three targets arrive (pf-a twice, pf-b once): the planner sends nothing for
# them (no command at all on exec.orders), holds the latest per portfolio (pf-a's second
# replaces its first), raises one Alert and shows the state in its metrics. When the
# worker is UP again the held targets are planned once: pf-a's latest (BUY 100 on top of
# the first 100) and pf-b's; pf-a's replaced target never is. The DB ends at the last
# targets with no duplicate order.
source "$(dirname "$0")/prologue.sh" pldown
source "$here/eo_fault_lib.sh"
source "$here/metrics_lib.sh"
TE_TEST_LOG_SKIP=CONFWARN
target() { # target DECISION PORTFOLIO DAY TICKER QTY
        printf '{"decision_id":"%s","portfolio_id":"%s","strategy_id":"s","profile_version_id":"pv","regime_id":"r","universe_id":"u","mode":"TRAINING","as_of":"2025-01-%02dT21:00:00Z","unit":"QUANTITY","full_replace":false,"targets":[{"ticker":"%s","value":%s}]}\n' \
                "$1" "$2" $((6 + $3)) "$4" "$5" |
                "$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" - >/dev/null
}
# commands on exec.orders: "decision command side ticker qty" lines, sorted
commands() {
        eo_topic_json exec.orders | python3 -c 'import json, sys
for l in sys.stdin:
    m = json.loads(l)["value"]
    print(m["decision_id"], m["command"], m["side"], m["ticker"], int(m["quantity"]))' | sort
}
log_count() { grep -c "\"$1\"" "$RUN/planner.log" || true; }
held_n() { [ "$(log_count target.held)" -ge "$1" ]; }

python3 "$here/planner_data.py" bars 12 >"$RUN/bars.csv"
te_stack_up "$RUN"
"$TE_BUILD_DIR/exec-dbtool" load-bars "$RUN/bars.csv" >/dev/null
mport=$(te_free_ports 1)
te_pipeline_start "$RUN" sink exec-sink
te_pipeline_start "$RUN" broker exec-broker -o sim.bars_csv="$RUN/bars.csv" \
        -o fault.script=down_after=1,down_ms=60000,up_file="$RUN/broker-up"
te_pipeline_start "$RUN" planner exec-planner -o metrics.port="$mport"

target a1 pf-a 0 AAA 100
eo_wait "the broker to go down after the first order" 60 eo_has "$RUN/planner.log" \
        '"planner.broker_down"' 'DOWN'
target a2 pf-a 1 AAA 150
target a3 pf-a 2 AAA 200
target b1 pf-b 1 BBB 50
eo_wait "the planner to hold the three targets" 30 held_n 3
eo_has "$RUN/planner.log" '"target.superseded"' 'replaced' || eo_fail "a3 did not replace a2"
te_wait_metric "$mport" te_planner_held_targets 2 10 || eo_fail "held targets metric"
[ "$(te_metric "$mport" te_planner_broker_down broker=sim)" -ge 1 ] ||
        eo_fail "te_planner_broker_down{broker=sim} is not set"
# nothing at all for the held targets while the broker is down (checked before it is
# back: the outage lasts until RUN/broker-up exists)
commands >"$RUN/during.txt"
if grep -E '^(a2|a3|b1) ' "$RUN/during.txt"; then
        eo_fail "commands sent for targets of a broker that is down"
fi
# valid only if the planner had not seen the broker back when the snapshot was taken
grep -q '"planner.broker_up"' "$RUN/planner.log" && eo_fail "the outage ended before the checks"
echo "ok - during the outage: 3 targets held, none sent"
touch "$RUN/broker-up" # the checks of the outage are done: end it

eo_wait "the broker to come back" 60 eo_has "$RUN/planner.log" '"planner.broker_up"' 'UP'
eo_wait "the held targets to be planned" 60 eo_has "$RUN/planner.log" '"planner.release"' \
        'planning 2 held targets'
te_pipeline_wait_idle "$RUN" 120 || eo_fail "pipeline not idle after the outage"

# each target's orders exactly once; a2 (replaced while held) never planned
commands | grep -v ' CLOCK ' >"$RUN/after.txt"
cat >"$RUN/want.txt" <<'TXT'
a1 NEW BUY AAA 100
a3 NEW BUY AAA 100
b1 NEW BUY BBB 50
TXT
diff -u "$RUN/want.txt" "$RUN/after.txt" || eo_fail "orders after the outage"
[ "$(eo_q "SELECT string_agg(portfolio_id || ' ' || ticker || ' ' || quantity::int, ',' ORDER BY portfolio_id, ticker)
           FROM positions WHERE quantity <> 0")" = "pf-a AAA 200,pf-b BBB 50" ] ||
        eo_fail "positions: $(eo_q "SELECT * FROM positions")"
[ "$(eo_q "SELECT count(*) FROM orders WHERE status = 'EXPIRED'")" = 0 ] ||
        eo_fail "an order waited out the outage and expired"
"$TE_BUILD_DIR/exec-dbtool" check >/dev/null || eo_fail "position_check/cash_check not empty"
eo_topic_json exec.alerts >"$RUN/alerts.jsonl"
n=$(grep -c '"planner_broker_down"' "$RUN/alerts.jsonl" || true)
[ "$n" = 1 ] || eo_fail "$n planner_broker_down alerts, want 1"
te_wait_metric "$mport" te_planner_held_targets 0 10 || eo_fail "held targets metric after"
[ "$(te_metric "$mport" te_planner_broker_down broker=sim)" = 0 ] ||
        eo_fail "te_planner_broker_down{broker=sim} not back to 0"
te_pipeline_stop "$RUN" planner || eo_fail "the planner did not exit cleanly"
eo_has "$RUN/planner.log" '"planner.stop"' 'held=3 superseded=1 released=2 ' ||
        eo_fail "planner counters: $(grep '"planner.stop"' "$RUN/planner.log")"
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_planner_broker_down: ok (3 targets held while the broker was down, none sent; the latest per portfolio planned once when it was back)"
