#!/usr/bin/env bash
# test_planner_restart: kill -9 the planner in the middle of a stream of targets,
# restart it, and check that no order was sent twice and none is missing: the NEW
# orders on exec.orders are exactly those a crash-free run plans (worked out from the
# input alone by planner_data.py), without duplicate order ids, and the final
# positions in the DB are the last targets. The book drops finished orders as it goes
# (book_dropped > 0 in the last life) without that breaking any of it.
source "$(dirname "$0")/prologue.sh" plrestart

python3 "$here/planner_data.py" bars 40 >"$RUN/bars.csv"
python3 "$here/planner_data.py" targets 6 25 >"$RUN/targets.jsonl"
python3 "$here/planner_data.py" expect "$RUN/targets.jsonl" >"$RUN/expected.txt"
# published in three parts, one per life (the planner keeps many portfolios' clocks in
# flight and may plan all it has been given before a kill lands): each life has new
# targets to plan, the last one too (its book drops orders as they come)
head -n 48 "$RUN/targets.jsonl" >"$RUN/part1.jsonl"
sed -n 49,96p "$RUN/targets.jsonl" >"$RUN/part2.jsonl"
tail -n +97 "$RUN/targets.jsonl" >"$RUN/part3.jsonl"
publish() { "$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$1" >/dev/null; }

te_stack_up "$RUN"
# a long commit interval keeps many planned targets uncommitted when the kill lands
te_pipeline_up "$RUN" "$RUN/bars.csv" -o commit.interval.ms=3000
publish "$RUN/part1.jsonl"

# kill -9 twice: first before the planner committed anything (its first commit is 3 s
# after its first target), then, restarted with frequent commits, once it has state in
# the DB; each restart must neither re-send nor forget anything
kill_at() { # kill_at N_ORDERS
        local deadline=$((SECONDS + 60))
        until [ "$(q "SELECT count(*) FROM orders")" -ge "$1" ]; do
                [ $SECONDS -lt $deadline ] || fail "no progress to $1 orders before the kill"
                sleep 0.05
        done
        kill -KILL "$(cat "$RUN/planner.pid")"
        rm -f "$RUN/planner.pid"
}
kill_at 120
before=$(q "SELECT count(*) FROM orders")
te_pipeline_start "$RUN" planner exec-planner -o commit.interval.ms=200
publish "$RUN/part2.jsonl"
kill_at $((before + 100))
before2=$(q "SELECT count(*) FROM orders")
te_pipeline_start "$RUN" planner exec-planner
publish "$RUN/part3.jsonl"
te_pipeline_wait_idle "$RUN" 120 || fail "pipeline did not drain after the restarts"

# every NEW order on the topic, once each
"$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t exec.orders --from-beginning \
        --exit-at-end >"$RUN/orders.jsonl" 2>/dev/null
python3 "$here/planner_data.py" check-orders "$RUN/orders.jsonl" "$RUN/expected.txt" \
        "a crash-free run" || fail "orders on exec.orders"
grep '^position ' "$RUN/expected.txt" | cut -d' ' -f2- >"$RUN/want_pos.txt"
q "SELECT portfolio_id, ticker, quantity::int FROM positions WHERE quantity <> 0
   ORDER BY 1, 2" >"$RUN/got_pos.txt"
diff -u "$RUN/want_pos.txt" "$RUN/got_pos.txt" || fail "final positions"
"$TE_BUILD_DIR/exec-dbtool" check >/dev/null || fail "position_check/cash_check not empty"
grep -q '"planner.assigned"' "$RUN/planner.log" || fail "no assignment logged"
te_pipeline_down "$RUN" || fail "a process did not exit cleanly on SIGTERM"
grep -q '"target.replayed"' "$RUN/planner.log" || fail "no target was recognised as replayed"
# the last life dropped finished orders from its book as later targets came (book.h),
# and the checks above still found no duplicate
dropped=$(grep '"planner.stop"' "$RUN/planner.log" | tail -n 1 | grep -o 'book_dropped=[0-9]*' | cut -d= -f2)
[ "${dropped:-0}" -gt 0 ] || fail "the planner's book dropped no finished order"
echo "test_planner_restart: ok (killed at $before and $before2 orders in the DB; no duplicate, none missing)"
