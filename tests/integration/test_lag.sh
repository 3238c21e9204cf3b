#!/usr/bin/env bash
# test_lag: exec-lag against librdkafka's own figures, with a lag that is known and
# stays put. The planner (PRODUCTION targets, no DB) consumes batch A and commits it on
# SIGTERM; a second planner, which commits only every 60 s, then consumes batch B. Now
# the committed offsets are A's and the high watermarks A+B's, so:
#   - exec-lag reports, per partition, exactly the B messages of that partition
#     (counted independently with kcat), in total |B|;
#   - the planner's /metrics te_kafka_consumer_lag_messages (librdkafka statistics)
#     gives the same figure for every partition;
#   - --max-lag gates the exit status (|B|-1 -> 1, |B| -> 0), --json is valid JSON;
#   - --db reads the sink-style offsets from consumer_offsets in PostgreSQL;
#   - the summary names the threshold `threshold` and the largest partition lag
#     `max_partition_lag`;
#   - -c/-o/EXEC_* configure it like every tool (kafka.* pass-through checked);
#   - an unknown topic (not created by asking) or group is an error, exit 2;
#   - bad arguments exit 2 with one line, -h exits 0.
# "Consumed" is counted when a message is handed to the planner, which is at least
# once: a target polled while the planner still rebuilds after its assignment is put
# back (seek, paused) and handed over again once the rebuild is done (seen: 31 for the
# 30 of batch B). What must be exactly once is its effect: one NEW order per target
# (te_messages_produced_total{topic=exec.orders}), and the lag figures below.
# (Batch B is published before the second planner starts: see there.)
source "$(dirname "$0")/prologue.sh" lag
source "$here/metrics_lib.sh"
TE_TEST_LOGS=('*.log' '*.txt')
lag() { "$TE_BUILD_DIR/exec-lag" --bootstrap-file "$RUN/bootstrap" "$@"; }

te_stack_up "$RUN"
boot=$(cat "$RUN/bootstrap")
PORT=$(te_free_ports 1)
targets() { # FIRST COUNT: PRODUCTION targets over 16 portfolios, one order each
        python3 - "$1" "$2" <<'PY'
import json, sys
first, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(first, first + n):
    print(json.dumps({"decision_id": "lag-%d" % i, "portfolio_id": "pf-%d" % (i % 16),
        "strategy_id": "s", "profile_version_id": "pv", "regime_id": "r", "universe_id": "u",
        "mode": "PRODUCTION", "as_of": 1735689600000 + i, "unit": "QUANTITY",
        "full_replace": False, "targets": [{"ticker": "T%d" % i, "value": 10}]}))
PY
}
targets 0 40 >"$RUN/a.jsonl"
targets 40 30 >"$RUN/b.jsonl"
planner() { te_pipeline_start "$RUN" planner exec-planner -o db.enabled=false \
        -o metrics.port="$PORT" "$@"; }

# batch A, consumed and committed
planner
te_wait_http "$PORT" /readyz 200 30 || fail "planner not ready"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/a.jsonl" >/dev/null
te_wait_metric "$PORT" te_messages_produced_total 40 30 topic=exec.orders || fail "batch A"
consumed_at_least() { # N: the planner was handed every target (at least once)
        local got
        got=$(te_metric "$PORT" te_messages_consumed_total topic=exec.targets)
        python3 -c 'import sys; sys.exit(float(sys.argv[1]) < float(sys.argv[2]))' "$got" "$1" ||
                fail "te_messages_consumed_total{topic=exec.targets} is $got, below $1"
}
consumed_at_least 40
te_pipeline_stop "$RUN" planner || fail "planner exit"
lag --kafka exec-planner:exec.targets >"$RUN/lag_a.txt" || fail "lag after A is not 0"

# offsets per partition after A (independent of exec-lag: kcat's own view)
end_offsets() {
        kcat -b "$boot" -C -t exec.targets -o beginning -e -q -f '%p %o\n' |
                python3 -c 'import sys
c = {}
for l in sys.stdin:
    p, o = map(int, l.split()); c[p] = max(c.get(p, -1), o + 1)
print(" ".join("%d:%d" % (p, c[p]) for p in sorted(c)))'
}
after_a=$(end_offsets)

# batch B, consumed by a planner that does not commit for 60 s. B is on the topic
# before that planner is assigned, so it is polled during the planner's rebuild and
# put back (the at-least-once hand-over above) on every run, not only on some.
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/b.jsonl" >/dev/null
planner -o commit.interval.ms=60000
te_wait_http "$PORT" /readyz 200 30 || fail "planner not ready (2)"
# one order per target of B, each planned once (te_wait_metric waits for exactly 30)
te_wait_metric "$PORT" te_messages_produced_total 30 30 topic=exec.orders || fail "batch B"
consumed_at_least 30
after_b=$(end_offsets)
expected=$(python3 - "$after_a" "$after_b" <<'PY'
import sys
a = dict(map(int, x.split(":")) for x in sys.argv[1].split())
b = dict(map(int, x.split(":")) for x in sys.argv[2].split())
print(" ".join("%d:%d" % (p, b[p] - a.get(p, 0)) for p in range(8) if b.get(p, 0)))
PY
)
[ -n "$expected" ] || fail "no messages in batch B?"

lag --kafka exec-planner:exec.targets --json >"$RUN/lag_b.json" && fail "exec-lag exited 0 with lag"
got=$(python3 - "$RUN/lag_b.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
parts = [r for r in rows if "partition" in r]
summ = [r for r in rows if "total_lag" in r]
assert len(parts) == 8 and len(summ) == 1, rows
assert summ[0]["total_lag"] == sum(r["lag"] for r in parts) and summ[0]["over"] is True
assert summ[0]["threshold"] == 0, summ
assert summ[0]["max_partition_lag"] == max(r["lag"] for r in parts), summ
assert "max_lag" not in summ[0], summ
print(" ".join("%d:%d" % (r["partition"], r["lag"]) for r in parts if r["lag"]))
PY
)
[ "$got" = "$expected" ] || fail "exec-lag per partition: $got, expected (kcat) $expected"
total=$(python3 -c 'import sys; print(sum(int(x.split(":")[1]) for x in sys.argv[1].split()))' "$expected")
[ "$total" = 30 ] || fail "expected a total lag of 30, got $total"
lag --kafka exec-planner:exec.targets --max-lag 29 >/dev/null && fail "--max-lag 29 passed"
lag --kafka exec-planner:exec.targets --max-lag 30 >/dev/null || fail "--max-lag 30 failed"

# librdkafka's figures in /metrics agree partition by partition (they refresh with the
# statistics interval: wait for them)
deadline=$((SECONDS + 20))
while :; do
        from_metrics=$(te_metric_series "$PORT" te_kafka_consumer_lag_messages group=exec-planner |
                python3 -c 'import re, sys
rows = []
for l in sys.stdin:
    p = re.search(r"partition=\"(\d+)\"", l).group(1)
    v = int(float(l.split()[-1]))
    if v:
        rows.append((int(p), v))
print(" ".join("%d:%d" % r for r in sorted(rows)))')
        [ "$from_metrics" = "$expected" ] && break
        [ $SECONDS -lt $deadline ] || fail "metrics lag: $from_metrics, expected $expected"
        sleep 0.2
done
[ "$(te_metric_series "$PORT" te_kafka_consumer_lag_messages group=exec-planner | grep -c .)" = 8 ] ||
        fail "expected a lag series for each of the 8 partitions"

# DB offsets (the sink's kind): one behind the high watermark of partition 0
hi0=$(python3 -c 'import sys; print(dict(map(int, x.split(":")) for x in sys.argv[1].split()).get(0, 0))' "$after_b")
if [ "$hi0" -ge 1 ]; then
        psql -X -q -v ON_ERROR_STOP=1 -c "INSERT INTO consumer_offsets (consumer_group, topic,
                kafka_partition, next_offset) VALUES ('lagtest', 'exec.targets', 0, $((hi0 - 1)))"
        db_lag=$(lag --db lagtest:exec.targets --max-lag 100000 --json |
                python3 -c 'import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r.get("partition") == 0:
        assert r["source"] == "db" and r["committed"] == int(sys.argv[1]) - 1, r
        print(r["lag"])' "$hi0")
        [ "$db_lag" = 1 ] || fail "db lag of partition 0: $db_lag, expected 1"
fi

# configured like every tool: -c file (trailing comment, quoted value), EXEC_* and -o
printf 'bootstrap.file = "%s"  # the stack\nkafka.client.id = lag-check\n' "$RUN/bootstrap" >"$RUN/lag.conf"
"$TE_BUILD_DIR/exec-lag" -c "$RUN/lag.conf" -o kafka.socket.timeout.ms=5000 \
        --kafka exec-planner:exec.targets --max-lag 30 >/dev/null || fail "exec-lag -c/-o failed"
EXEC_BOOTSTRAP_FILE=$RUN/bootstrap EXEC_SIM_SLIPPAGE_BPS=1 "$TE_BUILD_DIR/exec-lag" \
        --kafka exec-planner:exec.targets --max-lag 30 >/dev/null ||
        fail "exec-lag with EXEC_BOOTSTRAP_FILE (and another process's EXEC_*) failed"
st=0; lag -o kafka.no.such.property=1 --kafka exec-planner:exec.targets >/dev/null 2>"$RUN/e1.txt" || st=$?
[ $st = 2 ] || fail "bad kafka.* property: exit $st, expected 2"
grep -q 'kafka.no.such.property' "$RUN/e1.txt" || fail "bad kafka.* property not named: $(cat "$RUN/e1.txt")"

# an unknown topic is an error, and asking does not create it
st=0; lag --kafka exec-planner:exec.nosuch >/dev/null 2>"$RUN/e2.txt" || st=$?
[ $st = 2 ] || fail "unknown topic: exit $st, expected 2"
grep -q 'topic exec.nosuch does not exist' "$RUN/e2.txt" || fail "unknown topic message: $(cat "$RUN/e2.txt")"
kcat -b "$boot" -L 2>/dev/null | grep -q 'exec.nosuch' && fail "exec-lag created exec.nosuch"
# an unknown group (nothing committed) is an error, not lag 0
st=0; lag --kafka no-such-group:exec.targets >/dev/null 2>"$RUN/e3.txt" || st=$?
[ $st = 2 ] || fail "unknown group: exit $st, expected 2"
grep -q 'group no-such-group has no committed offsets' "$RUN/e3.txt" || fail "unknown group message: $(cat "$RUN/e3.txt")"
st=0; lag --db no-such-group:exec.targets >/dev/null 2>"$RUN/e4.txt" || st=$?
[ $st = 2 ] || fail "unknown DB group: exit $st, expected 2"

# usage errors
"$TE_BUILD_DIR/exec-lag" -h | grep 'exit status' >/dev/null || fail "-h: no exit statuses"
st=0; lag --kafka g:t --frobnicate >/dev/null 2>"$RUN/e5.txt" || st=$?
[ $st = 2 ] && [ "$(wc -l <"$RUN/e5.txt")" = 1 ] && grep -q "unknown option '--frobnicate'" "$RUN/e5.txt" ||
        fail "unknown flag: exit $st: $(cat "$RUN/e5.txt")"
lag >/dev/null 2>&1 && fail "no checks accepted"
st=0; lag --kafka nocolon >/dev/null 2>&1 || st=$?
[ $st = 2 ] || fail "bad GROUP:TOPIC exit $st, expected 2"
st=0; lag --kafka 'a"b:t' >/dev/null 2>&1 || st=$?
[ $st = 2 ] || fail "quote in a name: exit $st, expected 2"
st=0; lag --kafka g:t --max-lag -1 >/dev/null 2>&1 || st=$?
[ $st = 2 ] || fail "negative --max-lag: exit $st, expected 2"

# no target of B was planned twice meanwhile
n=$(te_metric "$PORT" te_messages_produced_total topic=exec.orders)
python3 -c 'import sys; sys.exit(float(sys.argv[1]) != 30)' "$n" || fail "orders for batch B: $n, expected 30"
te_pipeline_stop "$RUN" planner || fail "planner exit"
echo "test_lag: ok (lag $expected in exec-lag = kcat = librdkafka statistics)"
