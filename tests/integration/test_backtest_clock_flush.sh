#!/usr/bin/env bash
# test_backtest_clock_flush: the TRAINING round trip does not wait for linger.ms. The
# sample (2 portfolios x 101 days) through exec-backtest with kafka.linger.ms=200:
# every day is one round trip, CLOCK out with the day's orders, CLOCK_ACK back with
# the fills, each hop a produce that linger.ms would hold 200 ms. With clock.flush.ms
# (planner and broker, default 5) the planner flushes after its CLOCKs and the broker
# after its ACK, so the planning phase (exec-backtest --stages) must take less than
# 0.2 s a day; without the flushes it takes at least 0.4 s a day (two lingers), 40 s
# for the sample. The trades are those of a run with the default linger.ms.
source "$(dirname "$0")/prologue.sh" btflush
te_stack_up "$RUN"
bt() { # RUN_ID ARGS...: a backtest of the sample, its report in RUN/RUN_ID.out
        local id=$1
        shift
        "$TE_BUILD_DIR/exec-backtest" --run-id "$id" --bootstrap-file "$RUN/bootstrap" \
                --ctl "$RUN/ctl" --bars "$src/ops/sample/bars.csv" \
                --targets "$src/ops/sample/targets.jsonl" --out "$RUN/out-$id" \
                -o progress.mode=plain --stages "$@" >"$RUN/$id.out" 2>"$RUN/$id.log" ||
                fail "run $id failed: $(tail -n 5 "$RUN/$id.log")"
        grep -q '^targets planned: 202$' "$RUN/$id.out" || fail "run $id: $(cat "$RUN/$id.out")"
}
TE_TEST_LOGS=('*.log' 'out-*/*.log')
days=101

bt slow -o kafka.linger.ms=200
planning=$(sed -n 's/^stage planning=\([0-9.]*\) s.*/\1/p' "$RUN/slow.out")
[ -n "$planning" ] || fail "no planning stage: $(cat "$RUN/slow.out")"
python3 -c "import sys; sys.exit(0 if $planning < $days * 0.2 else 1)" ||
        fail "planning took $planning s for $days days with linger.ms=200: the CLOCK round trip waited for linger.ms"

bt dflt
md5() { sed -n 's/^trades md5: //p' "$RUN/$1.out"; }
if [ -z "$(md5 dflt)" ] || [ "$(md5 slow)" != "$(md5 dflt)" ]; then
        fail "trades differ: linger.ms=200 $(md5 slow), default $(md5 dflt)"
fi
echo "test_backtest_clock_flush: ok (planning $planning s for $days days at linger.ms=200)"
