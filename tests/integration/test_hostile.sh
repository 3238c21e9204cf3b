#!/usr/bin/env bash
# test_hostile: hostile input on every topic the service consumes (docs/DESIGN.md
# invariant 7). With the pipeline running the sample backtest, eo_hostile.py
# turns valid messages into random bytes, truncated Avro, unknown schema ids, oversized
# length prefixes and valid Avro with invalid values (NaN target value, negative order
# quantity, NaN fill price), produced into the busy partitions of exec.targets,
# exec.orders, exec.reports and exec.mode; plus two valid reports that are wrong for the
# DB (an unknown order id, a fill after FILLED). Then the rest of the backtest runs.
# Every bad message is dead-lettered with a te.reason header naming its source topic
# and an alert is raised (exec.mode: the planner dead-letters them too); no process dies; no partition blocks (the pipeline finishes);
# the unknown order is kept and flagged, the late fill counted as an illegal transition;
# the books are exact and exec-dbtool check passes; the sink counts its dead letters.
source "$(dirname "$0")/prologue.sh" hostile
source "$here/eo_fault_lib.sh"
TE_TEST_LOG_SKIP=CONFWARN TE_TEST_LOG_LINES=12
te_stack_up "$RUN"
te_pipeline_up "$RUN" "$src/ops/sample/bars.csv"
t=$src/ops/sample/targets.jsonl
head -n 40 "$t" >"$RUN/p1.jsonl"
sed -n "41,100p" "$t" >"$RUN/p2.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/p1.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || eo_fail "first part not processed"

python3 "$src/tests/integration/eo_hostile.py" "$TE_STACK_BOOTSTRAP" "$TE_BUILD_DIR/exec-tail" "$RUN/h"
for topic in exec.targets exec.orders exec.reports exec.mode; do
        kcat -b "$TE_STACK_BOOTSTRAP" -X partitioner=murmur2_random -P -t "$topic" -k "$(cat "$RUN/h/$topic/key")" "$RUN"/h/"$topic"/*.bin
done
rkey=$(awk '$1 == "report_key" {print $2}' "$RUN/h/expect.txt")
kcat -b "$TE_STACK_BOOTSTRAP" -X partitioner=murmur2_random -P -t exec.reports -k "$rkey" "$RUN/h/unknown_order.bin" "$RUN/h/after_filled.bin"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/p2.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || eo_fail "a partition is blocked or a process died"

eo_topic_json exec.deadletter >"$RUN/dead.jsonl"
python3 - "$RUN/dead.jsonl" "$RUN/h/expect.txt" <<'PY'
import json, sys
by = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    h = m.get("headers") or {}
    reason, src = h.get("te.reason", ""), h.get("te.source.topic", "")
    assert reason, ("dead letter without a reason", m)
    by.setdefault(src, []).append(reason)
for line in open(sys.argv[2]):
    k, v = line.split()
    if k.startswith("exec."):
        got = len(by.get(k, []))
        assert got >= int(v), "%s: %d dead letters, want >= %s: %s" % (k, got, v, by.get(k))
        print("ok - %s: %d dead letters, e.g. %s" % (k, got, by[k][0][:90]))
PY
nmode=$(awk '$1 == "mode" {print $2}' "$RUN/h/expect.txt")
[ "$(grep -c '"planner.bad_mode"' "$RUN/planner.log")" -ge "$nmode" ] ||
        eo_fail "the planner did not report the $nmode bad exec.mode messages"
alerts=$(eo_topic_json exec.alerts | grep -c -E 'bad_|dead' || true)
[ "$alerts" -ge 4 ] || eo_fail "only $alerts alerts about bad input"
unk=$(awk '$1 == "unknown_order" {print $2}' "$RUN/h/expect.txt")
ill=$(awk '$1 == "illegal" {print $2}' "$RUN/h/expect.txt")
[ "$(eo_q "SELECT count(*) FROM order_events WHERE order_id = '$unk' AND unknown_order")" = 1 ] ||
        eo_fail "the report for an unknown order was not kept and flagged"
[ "$(eo_q "SELECT illegal_transitions FROM orders WHERE order_id = '$ill'")" -ge 1 ] ||
        eo_fail "the fill after FILLED was not counted as an illegal transition"
eo_assert_books_exact
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
n=$(grep '"sink.stop"' "$RUN/sink.log" | grep -o 'dead_lettered=[0-9]*' | cut -d= -f2)
want=$(awk '$1 == "exec.reports" {print $2}' "$RUN/h/expect.txt")
[ "$n" = "$want" ] || eo_fail "sink counted $n dead letters, want $want"
echo "test_hostile: ok"
