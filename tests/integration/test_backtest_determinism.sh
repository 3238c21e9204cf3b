#!/usr/bin/env bash
# test_backtest_determinism: exec-backtest end to end on the embedded stack.
#  1. the sample targets, twice under two run ids (the second with tight flow control):
#     byte-identical trades (md5 of the ordered trades table of each run database,
#     computed here with psql, equal to the runner's report), planned == published,
#     every order terminal;
#  2. a replay of run 1's topic by offsets (--source-topic --from-offset) gives the
#     same trades again, and so do the same bars read from prices_daily (--bars-db);
#  3. an as_of range publishes exactly the targets inside it (counted here from the file);
#  4. a harsh fill model (next open, 0.1% participation, GTC) fills partially over
#     several bars, and the end-of-run cancels leave no order open;
#  the report files exist (CSV rows, a PNG signature), backtest_runs records each run,
#  usage errors exit 2 and a run id cannot be reused.
source "$(dirname "$0")/prologue.sh" btdet
TE_TEST_LOGS=('*/*.log' '*.err')
te_test_cleanup_extra() { # runs still going after a failure
        # a job is the subshell running bt: signal the exec-backtest under it too
        local j
        for j in $(jobs -p); do
                pkill -TERM -P "$j" 2>/dev/null || true
                kill "$j" 2>/dev/null || true
        done
        wait 2>/dev/null || true
}

te_stack_up "$RUN"
KAFKA=(-o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500
        -o kafka.fetch.wait.max.ms=10 -o kafka.linger.ms=1)
bt() {
        local id=$1
        shift
        "$TE_BUILD_DIR/exec-backtest" --run-id "$id" --bootstrap-file "$RUN/bootstrap" \
                --ctl "$RUN/ctl" --bars "$src/ops/sample/bars.csv" --out "$RUN/$id" \
                -o progress.mode=plain "${KAFKA[@]}" "$@" >"$RUN/$id.out" 2>"$RUN/$id.err"
}
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
md5_of() {
        q "$1" "SELECT md5(coalesce(string_agg(concat_ws('|', trade_id, \"timestamp\" AT TIME ZONE 'UTC',
                ticker, direction, size, price, order_id, decision_id, commission, mode, broker),
                E'\n' ORDER BY trade_id), '')) FROM trades"
}
field() { sed -n "s/^$2: //p" "$RUN/$1.out"; }

targets=$src/ops/sample/targets.jsonl
n_targets=$(grep -c '"decision_id"' "$targets")

# The runs are independent (each has its own topics, groups and database) and mostly
# wait on Kafka group joins: they start together and are checked in turn below. The
# second run is under tight flow control (a few targets ahead, a small sink backlog):
# pacing must not change a single trade.
"$TE_BUILD_DIR/exec-dbtool" load-bars "$src/ops/sample/bars.csv" >"$RUN/load-bars.out"
bt det-a --targets "$targets" &
pid_a=$!
bt det-b --targets "$targets" -o flow.max_ahead_bytes=4096 -o flow.max_backlog=200 &
pid_b=$!
# the same bars from PostgreSQL's prices_daily (loaded above)
"$TE_BUILD_DIR/exec-backtest" --run-id det-db --bootstrap-file "$RUN/bootstrap" --ctl "$RUN/ctl" \
        --bars-db --targets "$targets" --out "$RUN/det-db" -o progress.mode=plain "${KAFKA[@]}" \
        >"$RUN/det-db.out" 2>"$RUN/det-db.err" &
pid_db=$!
# an as_of range: the 2025 targets only
bt det-2025 --targets "$targets" --from-asof 2025-01-01T00:00:00Z --to-asof 2025-12-31T23:59:59Z &
pid_2025=$!
# partial fills across bars, then the end-of-run cancel
bt det-slow --targets "$targets" --to-asof 2024-04-01T00:00:00Z \
        --broker-opts "sim.market_at=next_open sim.participation=0.001" \
        --planner-opts "plan.tif=GTC" &
pid_slow=$!
wait $pid_a || fail "run det-a failed: $(tail -3 "$RUN/det-a.err")"
wait $pid_b || fail "run det-b failed"
ha=$(md5_of bt_det_a)
hb=$(md5_of bt_det_b)
[ -n "$ha" ] && [ "$ha" = "$hb" ] || fail "trades differ between two identical runs: $ha $hb"
[ "$(field det-a 'trades md5')" = "$ha" ] || fail "report md5 differs from psql's"
[ "$(q bt_det_a 'SELECT count(*) FROM trades')" -gt 100 ] || fail "too few trades"
[ "$(field det-a 'targets published')" = "$n_targets" ] || fail "published != $n_targets"
[ "$(field det-a 'targets planned')" = "$n_targets" ] || fail "planned != published"
# trades equal fills, and no order is left open
[ "$(q bt_det_a "SELECT count(*) FROM order_events WHERE exec_type IN ('FILL','PARTIAL_FILL')")" = \
  "$(q bt_det_a 'SELECT count(*) FROM trades')" ] || fail "trades != fills"
[ "$(q bt_det_a "SELECT count(*) FROM orders WHERE status NOT IN
        ('FILLED','CANCELED','REJECTED','EXPIRED','REPLACED')")" = 0 ] || fail "open orders left"
# report files
[ "$(wc -l <"$RUN/det-a/equity.csv")" -gt 400 ] || fail "equity.csv too short"
[ "$(head -c 8 "$RUN/det-a/equity.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "equity.png is not a PNG"
grep -q '^total return: ' "$RUN/det-a/report.txt" || fail "report.txt has no total return"

# replay of run det-a's targets topic by offsets
bt det-replay --source-topic bt.det-a.targets --from-offset 0 || fail "replay failed"
[ "$(md5_of bt_det_replay)" = "$ha" ] || fail "offset replay differs"

# the same bars from PostgreSQL's prices_daily give the same trades
wait $pid_db || fail "bars-db run failed"
[ "$(md5_of bt_det_db)" = "$ha" ] || fail "bars from prices_daily give other trades"

# an as_of range: the 2025 targets only
n_2025=$(python3 -c '
import json, sys
lo, hi = 1735689600000, 1767225599999  # 2025-01-01 .. 2025-12-31
print(sum(1 for l in open(sys.argv[1]) if l.strip() and lo <= json.loads(l)["as_of"] <= hi))' "$targets")
wait $pid_2025 || fail "as_of range run failed"
[ "$(field det-2025 'targets published')" = "$n_2025" ] || fail "as_of range: published != $n_2025"
[ "$(q bt_det_2025 "SELECT count(*) FROM trades WHERE \"timestamp\" < '2025-01-01'")" = 0 ] ||
        fail "as_of range: trades before the range"

# partial fills across bars, then the end-of-run cancel
wait $pid_slow || fail "slow-fill run failed"
[ "$(q bt_det_slow "SELECT count(*) FROM order_events WHERE exec_type = 'PARTIAL_FILL'")" -gt 0 ] ||
        fail "no partial fills with a 0.1% cap"
[ "$(q bt_det_slow "SELECT count(*) FROM orders WHERE status NOT IN
        ('FILLED','CANCELED','REJECTED','EXPIRED','REPLACED')")" = 0 ] || fail "slow run: open orders"
[ "$(q bt_det_slow "SELECT count(*) FROM order_events e JOIN orders o USING (order_id)
        WHERE e.exec_type = 'PARTIAL_FILL' AND e.cum_qty + e.leaves_qty <> (SELECT max(cum_qty + leaves_qty)
        FROM order_events x WHERE x.order_id = e.order_id)")" = 0 ] || fail "cum + leaves not constant"

[ "$(q "$PGDATABASE" "SELECT string_agg(run_id || '=' || status, ',' ORDER BY run_id) FROM backtest_runs")" = \
  "det-2025=done,det-a=done,det-b=done,det-db=done,det-replay=done,det-slow=done" ] || fail "backtest_runs"
# usage errors: no source, two sources, a bad run id (exit 2, nothing started)
for args in "--run-id u1" "--run-id u2 --targets $targets --source-topic exec.targets" \
        "--run-id bad/id --targets $targets"; do
        rc=0
        "$TE_BUILD_DIR/exec-backtest" $args --bars "$src/ops/sample/bars.csv" \
                --bootstrap-file "$RUN/bootstrap" >/dev/null 2>&1 || rc=$?
        [ $rc = 2 ] || fail "exec-backtest $args: exit $rc, expected 2"
done
# a run id is used once
if bt det-a --targets "$targets"; then fail "a reused run id was accepted"; fi
grep -q "a run id is used once" "$RUN/det-a.err" || fail "reused run id: no reason given"

echo "test_backtest_determinism: ok ($n_targets targets, trades md5 $ha, replay equal)"
