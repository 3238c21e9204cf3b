#!/usr/bin/env bash
# test_sink_db_refused: a report the DB refuses for its data is dead-lettered, and the
# sink goes on. The operator has added a rule to the runtime DB (a CHECK constraint:
# tickers in the event log are upper case). A valid ACK report for a new order with the
# ticker in lower case is produced in the middle of a busy exec.reports partition, then
# the rest of the sample backtest runs. The sink's batch fails with a check violation
# (SQLSTATE 23514, a data error): the sink must find that one report, dead-letter it
# (reason db_refused with the SQLSTATE, an Alert), apply the others of its batch and
# everything after it exactly once, and stay up (same pid, no restart). Then the same
# again with the sink on its staged path only (db.direct=false, a new sink process): a
# second refused report, the third part of the backtest. A transient failure is never
# dead-lettered: test_fault_db and test_sink_db_start.
source "$(dirname "$0")/prologue.sh" sinkrefused
source "$here/eo_fault_lib.sh"
TE_TEST_LOG_SKIP=CONFWARN TE_TEST_LOG_LINES=12

te_stack_up "$RUN"
te_pipeline_up "$RUN" "$src/ops/sample/bars.csv"
sink_pid=$(cat "$RUN/sink.pid")
t=$src/ops/sample/targets.jsonl
head -n 40 "$t" >"$RUN/p1.jsonl"
sed -n "41,100p" "$t" >"$RUN/p2.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/p1.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || eo_fail "first part not processed"
before=$(eo_q "SELECT count(*) FROM order_events")

eo_q "ALTER TABLE order_events ADD CONSTRAINT ops_ticker_upper CHECK (ticker = upper(ticker))"
# bad_report N: an ACK of the first part as a new order ("z<N>..." ids) with its ticker
# in lower case (same lengths, so the Avro stays valid), produced to its partition
bad_report() {
        eo_topic_json exec.reports >"$RUN/reports.jsonl"
        python3 - "$RUN" "$TE_STACK_BOOTSTRAP" "$1" <<'PY'
import json, subprocess, sys
run, boot, n = sys.argv[1:4]
acks = [json.loads(l) for l in open(run + "/reports.jsonl")
        if json.loads(l)["value"]["exec_type"] == "ACK"]
ack = acks[int(n)]
v = ack["value"]
raw = subprocess.run(["kcat", "-b", boot, "-C", "-t", "exec.reports", "-p", str(ack["partition"]),
                      "-o", str(ack["offset"]), "-c", "1", "-e", "-q", "-f", "%s"],
                     capture_output=True, timeout=60, check=True).stdout
def patch(b, old, new):
    assert len(old) == len(new) and b.count(old.encode()) >= 1, (old, new)
    return b.replace(old.encode(), new.encode())
oid = "z" + n + v["order_id"][1 + len(n):]
rid = "z" + n + v["report_id"][1 + len(n):]
bad = patch(patch(patch(raw, v["report_id"], rid), v["order_id"], oid), v["ticker"], v["ticker"].lower())
open(run + "/bad.bin", "wb").write(bad)
open(run + "/bad.txt", "w").write("%s %s %s\n" % (v["portfolio_id"], oid, rid))
PY
        read -r key bad_oid bad_rid <"$RUN/bad.txt"
        echo "'$bad_oid'" >>"$RUN/bad_oids.txt"
        echo "'$bad_rid'" >>"$RUN/bad_rids.txt"
        kcat -b "$TE_STACK_BOOTSTRAP" -X partitioner=murmur2_random -P -t exec.reports -k "$key" "$RUN/bad.bin"
}
# check_phase N: N dead letters so far, each a db_refused one, the last one alerted;
# the refused reports are not in the DB; the sink is the process $sink_pid
check_phase() {
        [ "$(cat "$RUN/sink.pid")" = "$sink_pid" ] && kill -0 "$sink_pid" ||
                eo_fail "the sink is not the same process"
        eo_topic_json exec.deadletter >"$RUN/dead.jsonl"
        python3 - "$RUN/dead.jsonl" "$1" <<'PY'
import json, sys
dead = [json.loads(l) for l in open(sys.argv[1])]
assert len(dead) == int(sys.argv[2]), ("want %s dead letters" % sys.argv[2], dead)
for d in dead:
    h = d.get("headers") or {}
    reason = h.get("te.reason", "")
    assert reason.startswith("db_refused: SQLSTATE 23514") and "ops_ticker_upper" in reason, reason
    assert h.get("te.source.topic") == "exec.reports", h
print("ok - %d dead letters, e.g. %s" % (len(dead), reason[:110]))
PY
        [ "$(eo_topic_json exec.alerts | grep -c '"db_refused"')" -ge "$1" ] || eo_fail "db_refused alerts missing"
        [ "$(eo_q "SELECT count(*) FROM order_events WHERE order_id IN ($(paste -sd, "$RUN/bad_oids.txt"))
                OR report_id IN ($(paste -sd, "$RUN/bad_rids.txt"))")" = 0 ] ||
                eo_fail "a refused report is in the DB"
        [ "$(eo_q "SELECT count(*) FROM order_events")" -gt "$before" ] || eo_fail "nothing booked after the refused report"
        eo_assert_books_exact
        before=$(eo_q "SELECT count(*) FROM order_events")
}

# direct path (the default)
bad_report 0
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/p2.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 180 || eo_fail "a partition is blocked or a process died"
[ "$(grep -c '"sink.start"' "$RUN/sink.log")" = 1 ] || eo_fail "the sink started more than once"
[ "$(grep -c '"sink.isolate"' "$RUN/sink.log")" -ge 1 ] || eo_fail "the sink did not isolate the refused report"
check_phase 1

# staged path only
te_pipeline_stop "$RUN" sink || eo_fail "the sink did not exit cleanly"
mv "$RUN/sink.log" "$RUN/sink-direct.log"
te_pipeline_start "$RUN" sink exec-sink -o db.direct=false
sink_pid=$(cat "$RUN/sink.pid")
bad_report 1
sed -n "101,160p" "$t" >"$RUN/p3.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/p3.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 180 || eo_fail "staged path: a partition is blocked or a process died"
[ "$(grep -c '"sink.start"' "$RUN/sink.log")" = 1 ] || eo_fail "the staged sink started more than once"
[ "$(grep -c '"sink.isolate"' "$RUN/sink.log")" -ge 1 ] || eo_fail "the staged sink did not isolate the refused report"
check_phase 2
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_sink_db_refused: ok (refused report dead-lettered, the sink stayed up, the rest booked)"
