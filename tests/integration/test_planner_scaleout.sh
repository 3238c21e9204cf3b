#!/usr/bin/env bash
# test_planner_scaleout: two planner instances in one group share the partitions.
# Start one, publish half the stream, start a second (rebalance: the portfolios of the
# partitions that move are rebuilt by the new owner), publish the rest, kill -9 the
# first (rebalance: the second takes everything). Every target must be planned exactly
# once: the NEW orders on exec.orders are exactly those of a single crash-free planner
# (planner_data.py), with no duplicate id, and the final positions are the last targets.
source "$(dirname "$0")/prologue.sh" plscale
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=12
TE_TEST_PIPELINE=(planner2)
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
        local deadline=$((SECONDS + $1)) what=$2
        shift 2
        until "$@"; do
                [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
                sleep 0.05
        done
}
orders_at_least() { [ "$(q "SELECT count(*) FROM orders")" -ge "$1" ]; }
assigned_in() { grep -c '"planner.assigned"' "$RUN/$1.log" 2>/dev/null | grep -q "^[$2-9]"; }

python3 "$here/planner_data.py" bars 40 >"$RUN/bars.csv"
python3 "$here/planner_data.py" targets 8 24 11 >"$RUN/targets.jsonl"
python3 "$here/planner_data.py" expect "$RUN/targets.jsonl" >"$RUN/expected.txt"
head -n 96 "$RUN/targets.jsonl" >"$RUN/first.jsonl"
tail -n +97 "$RUN/targets.jsonl" >"$RUN/rest.jsonl"

te_stack_up "$RUN"
te_pipeline_up "$RUN" "$RUN/bars.csv"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/first.jsonl" >/dev/null
wait_for 60 "the first planner's orders" orders_at_least 40

te_pipeline_start "$RUN" planner2 exec-planner
wait_for 60 "the second planner's assignment" assigned_in planner2 1
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/rest.jsonl" >/dev/null
wait_for 60 "orders after the rebalance" orders_at_least 200

kill -KILL "$(cat "$RUN/planner.pid")"
rm -f "$RUN/planner.pid"
# the survivor is assigned again (all partitions) once the group notices
wait_for 60 "the survivor's second assignment" assigned_in planner2 2
deadline=$((SECONDS + 120))
until "$TE_BUILD_DIR/exec-lag" --bootstrap-file "$RUN/bootstrap" \
        --kafka exec-planner:exec.targets --kafka exec-broker-sim:exec.orders \
        --db exec-sink:exec.reports >"$RUN/lag.txt" 2>&1; do
        [ $SECONDS -lt $deadline ] || { cat "$RUN/lag.txt"; fail "pipeline did not drain"; }
        kill -0 "$(cat "$RUN/planner2.pid")" || fail "the second planner died"
        sleep 0.2
done

"$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t exec.orders --from-beginning \
        --exit-at-end >"$RUN/orders.jsonl" 2>/dev/null
python3 "$here/planner_data.py" check-orders "$RUN/orders.jsonl" "$RUN/expected.txt" \
        "a single planner's" || fail "orders on exec.orders"
grep '^position ' "$RUN/expected.txt" | cut -d' ' -f2- >"$RUN/want_pos.txt"
q "SELECT portfolio_id, ticker, quantity::int FROM positions WHERE quantity <> 0
   ORDER BY 1, 2" >"$RUN/got_pos.txt"
diff -u "$RUN/want_pos.txt" "$RUN/got_pos.txt" || fail "final positions"
"$TE_BUILD_DIR/exec-dbtool" check >/dev/null || fail "position_check/cash_check not empty"
te_pipeline_down "$RUN" planner2 || fail "a process did not exit cleanly on SIGTERM"
# the second instance did plan part of the stream
n2=$(grep '"planner.stop"' "$RUN/planner2.log" | grep -o 'targets=[0-9]*' | cut -d= -f2)
[ "${n2:-0}" -gt 0 ] || fail "the second planner planned nothing"
echo "test_planner_scaleout: ok (two planners, two rebalances, every target planned once)"
