#!/usr/bin/env bash
# test_backtest_defaults: exec-backtest gives its child processes the Kafka settings a
# backtest needs (te_bt_kafka_defaults, listed by -h) without being asked, and a
# kafka.* setting of the run wins over them. Two runs of the sample on the embedded
# stack: while each runs, the exec-planner it started is found with ps and its
# arguments read: the first (no kafka.* given) carries -o kafka.fetch.wait.max.ms=1
# and the rest of the list; the second (-o kafka.fetch.wait.max.ms=20) carries 20 and
# not 1. Both runs must finish (exit 0).
source "$(dirname "$0")/prologue.sh" btdefaults
te_stack_up "$RUN"
bt() { # RUN_ID ARGS...: a backtest of the sample in the background, its pid in $btpid
        local id=$1
        shift
        "$TE_BUILD_DIR/exec-backtest" --run-id "$id" --bootstrap-file "$RUN/bootstrap" \
                --ctl "$RUN/ctl" --bars "$src/ops/sample/bars.csv" \
                --targets "$src/ops/sample/targets.jsonl" --out "$RUN/out-$id" "$@" \
                >"$RUN/$id.out" 2>"$RUN/$id.log" &
        btpid=$!
}
planner_args() { # RUN_ID: the arguments of the exec-planner of that run, once it runs
        local deadline=$((SECONDS + 60)) pid
        while [ $SECONDS -lt $deadline ]; do
                pid=$(pgrep -f "exec-planner .*group.id=bt-$1-planner" | head -n 1 || true)
                if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null; then
                        return 0
                fi
                sleep 0.05
        done
        return 1
}
TE_TEST_LOGS=('*.log' 'out-*/*.log')
btpid=
te_test_cleanup_extra() { # a run still going when the test failed
        if [ -n "$btpid" ] && kill -0 "$btpid" 2>/dev/null; then
                kill -TERM "$btpid"
                wait "$btpid" || true
        fi
}

bt dflt
args=$(planner_args dflt) || fail "no exec-planner of run dflt seen"
for kv in kafka.fetch.wait.max.ms=1 kafka.session.timeout.ms=6000 \
        kafka.heartbeat.interval.ms=500 kafka.reconnect.backoff.max.ms=1000 kafka.linger.ms=1; do
        grep -q -- "-o $kv " <<<"$args " || fail "run dflt: the planner lacks $kv: $args"
done
wait $btpid || fail "run dflt failed: $(tail -n 5 "$RUN/dflt.log")"
grep -q '^targets planned: 202$' "$RUN/dflt.out" || fail "run dflt: $(cat "$RUN/dflt.out")"

bt user -o kafka.fetch.wait.max.ms=20
args=$(planner_args user) || fail "no exec-planner of run user seen"
grep -q -- "-o kafka.fetch.wait.max.ms=20 " <<<"$args " || fail "run user: no =20: $args"
grep -q -- "kafka.fetch.wait.max.ms=1 " <<<"$args " && fail "run user: the default 1 is passed too: $args"
grep -q -- "-o kafka.session.timeout.ms=6000 " <<<"$args " || fail "run user: the other defaults went: $args"
wait $btpid || fail "run user failed: $(tail -n 5 "$RUN/user.log")"
"$TE_BUILD_DIR/exec-backtest" -h | grep -x '  kafka.fetch.wait.max.ms=1' >/dev/null ||
        fail "exec-backtest -h does not list the settings"
echo "test_backtest_defaults: ok"
