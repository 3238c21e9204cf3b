#!/usr/bin/env bash
# test_metrics: the three processes with /metrics on, the e2e targets plus three junk
# messages through the pipeline; then every counter scraped from /metrics must equal
# what was processed, counted independently: messages on the topics (exec-tail/kcat),
# rows in the DB, lines in the input file. Also /healthz, /readyz, 404 and 405, and that
# the JSON logs (debug level) follow one decision to its trades, and the process metrics
# (process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds) and
# te_build_info{commit} agree with ps, /proc and --version.
source "$(dirname "$0")/prologue.sh" metrics
source "$here/metrics_lib.sh"
eq() { [ "$2" = "$3" ] || fail "$1: metrics say $2, expected $3"; }

te_stack_up "$RUN"
mapfile -t ports < <(te_free_ports 3)
P_PLAN=${ports[0]} P_BROKER=${ports[1]} P_SINK=${ports[2]}
te_pipeline_start "$RUN" sink exec-sink -o metrics.port="$P_SINK" -o log.level=debug
te_pipeline_start "$RUN" broker exec-broker -o sim.bars_csv="$here/data/e2e_bars.csv" \
        -o metrics.port="$P_BROKER" -o log.level=debug
te_pipeline_start "$RUN" planner exec-planner -o plan.lot_size=10 -o metrics.port="$P_PLAN" \
        -o log.level=debug

# every process becomes ready (partitions assigned, Kafka up, DB/broker connected)
for p in "$P_PLAN" "$P_BROKER" "$P_SINK"; do
        te_wait_http "$p" /healthz 200 30 || fail "healthz on :$p"
        te_wait_http "$p" /readyz 200 30 || fail "readyz on :$p: $(curl -s "127.0.0.1:$p/readyz")"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$P_PLAN/nope")" = 404 ] || fail "404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "127.0.0.1:$P_PLAN/metrics")" = 405 ] ||
        fail "405"
ctype=$(curl -s -o /dev/null -w '%{content_type}' "127.0.0.1:$P_PLAN/metrics")
[ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ] || fail "content type $ctype"

# three undecodable messages, then the targets
boot=$(cat "$RUN/bootstrap")
printf 'junk-1\njunk-2\njunk-3\n' | kcat -b "$boot" -P -t exec.targets -k pf-junk
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$here/data/e2e_targets.jsonl"
te_pipeline_wait_idle "$RUN" 120

# independent counts: input lines, topic contents, DB rows
n_targets=$(($(grep -c . "$here/data/e2e_targets.jsonl") + 3))
tail_count() {
        "$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t "$1" --from-beginning \
                --exit-at-end 2>/dev/null | grep -c . || true
}
n_orders=$(tail_count exec.orders)
"$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t exec.reports --from-beginning \
        --exit-at-end 2>/dev/null >"$RUN/reports.jsonl"
n_reports=$(grep -c . "$RUN/reports.jsonl")
n_acks=$(python3 -c 'import json,sys; print(sum((json.loads(l).get("value") or {}).get("exec_type") == "ACK" for l in open(sys.argv[1])))' "$RUN/reports.jsonl")
n_dead=$(kcat -b "$boot" -C -t exec.deadletter -o beginning -e -q -f '%o\n' | grep -c . || true)
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
db_orders=$(q "SELECT count(*) FROM orders")
db_filled=$(q "SELECT count(*) FROM orders WHERE status = 'FILLED'")
db_rejected=$(q "SELECT count(*) FROM orders WHERE status = 'REJECTED'")
[ "$n_orders" -gt 0 ] && [ "$n_reports" -gt 0 ] && [ "$db_filled" -gt 0 ] ||
        fail "nothing flowed (orders=$n_orders reports=$n_reports filled=$db_filled)"
[ "$n_acks" -gt 0 ] || fail "no ACK reports on exec.reports"
[ "$n_dead" = 3 ] || fail "expected 3 dead letters on the topic, found $n_dead"

# produced counters follow delivery reports and lag gauges the statistics interval:
# wait for them to settle, then compare
te_wait_metric "$P_PLAN" te_messages_consumed_total "$n_targets" 20 topic=exec.targets ||
        fail "planner consumed targets"
te_wait_metric "$P_PLAN" te_messages_produced_total "$n_orders" 20 topic=exec.orders ||
        fail "planner produced orders"
te_wait_metric "$P_BROKER" te_messages_produced_total "$n_reports" 20 topic=exec.reports ||
        fail "broker produced reports"
te_wait_metric "$P_SINK" te_kafka_consumer_lag_messages 0 20 group=exec-sink || fail "sink lag"

eq "planner consumed reports" "$(te_metric "$P_PLAN" te_messages_consumed_total topic=exec.reports)" "$n_reports"
eq "broker consumed orders" "$(te_metric "$P_BROKER" te_messages_consumed_total topic=exec.orders)" "$n_orders"
eq "sink consumed reports" "$(te_metric "$P_SINK" te_messages_consumed_total topic=exec.reports)" "$n_reports"
eq "planner dead letters" "$(te_metric "$P_PLAN" te_deadletters_total)" 3
eq "dead letters produced" "$(te_metric "$P_PLAN" te_messages_produced_total topic=exec.deadletter)" 3
eq "broker dead letters" "$(te_metric "$P_BROKER" te_deadletters_total)" 0
eq "orders received" "$(te_metric "$P_BROKER" te_orders_received_total)" "$db_orders"
eq "orders filled" "$(te_metric "$P_BROKER" te_orders_final_total state=FILLED)" "$db_filled"
eq "orders rejected" "$(te_metric "$P_BROKER" te_orders_final_total state=REJECTED)" "$db_rejected"
eq "rejected alerts" "$(te_metric "$P_BROKER" te_alerts_total code=order_rejected)" "$db_rejected"
eq "order->ack observations" "$(te_metric "$P_BROKER" te_order_to_ack_seconds_count)" "$n_acks"
eq "order->fill observations" "$(te_metric "$P_BROKER" te_order_to_first_fill_seconds_count)" "$db_filled"
eq "report->commit observations" "$(te_metric "$P_SINK" te_sink_report_to_commit_seconds_count)" "$n_reports"
eq "+Inf bucket = count" "$(te_metric "$P_SINK" te_sink_report_to_commit_seconds_bucket le=+Inf)" "$n_reports"
[ "$(te_metric "$P_SINK" te_sink_db_commit_seconds_count)" -ge 1 ] || fail "no DB commit timed"
[ "$(te_metric "$P_PLAN" te_planner_target_to_order_seconds_count)" -ge 1 ] || fail "no target timed"
eq "broker up" "$(te_metric "$P_BROKER" te_broker_up adapter=sim)" 1
# a lag series for every assigned partition of each group (8 partitions each)
for pair in "$P_PLAN exec-planner" "$P_BROKER exec-broker-sim" "$P_SINK exec-sink"; do
        set -- $pair
        n=$(te_metric_series "$1" te_kafka_consumer_lag_messages group="$2" | grep -c . || true)
        [ "$n" = 8 ] || fail "$2: $n lag series, expected 8"
done
start=$(te_metric "$P_SINK" process_start_time_seconds)
python3 -c 'import sys,time; sys.exit(not (0 < time.time() - float(sys.argv[1]) < 600))' "$start" ||
        fail "process_start_time_seconds $start"

# traceable logs: one decision followed from its target to its trades through the three
# processes' JSON lines alone (planner order.sent -> broker report.sent -> sink
# report.staged), checked against the DB; and no secrets in any log line. The process
# metrics (CPU, resident memory, open fds) agree with ps and /proc, and te_build_info
# carries the commit that --version prints.
q "SELECT order_id || ' ' || trade_id FROM trades WHERE decision_id = 'e2e-1' ORDER BY 1" \
        >"$RUN/trace_db.txt"
python3 - "$RUN" "$RUN/trace_db.txt" <<'PY' || fail "logs do not trace decision e2e-1 to its trades"
import json, sys
run = sys.argv[1]
def events(name, event):
    out = []
    for l in open("%s/%s.log" % (run, name)):
        r = json.loads(l)  # every line is one JSON object
        if r.get("decision_id") == "e2e-1" and r.get("event") == event:
            out.append(r)
    return out
orders = {r["order_id"] for r in events("planner", "order.sent")}
sent = {r["report_id"]: r["order_id"] for r in events("broker", "report.sent")}
staged = {r["report_id"]: r["order_id"] for r in events("sink", "report.staged")}
db = [l.split() for l in open(sys.argv[2]) if l.strip()]
assert orders and db, (orders, db)
assert sent == staged, "broker sent %s, sink staged %s" % (sent, staged)
for order_id, trade_id in db:
    assert order_id in orders, "trade %s of unknown order %s" % (trade_id, order_id)
    assert order_id in sent.values(), "no report logged for order %s" % order_id
PY
if grep -il 'password\|secret' "$RUN"/planner.log "$RUN"/broker.log "$RUN"/sink.log; then
        fail "a log mentions a password or secret"
fi

# process metrics from /proc/self (compared with what ps says of the same process)
# and te_build_info with the commit --version prints
for kind in planner:$P_PLAN broker:$P_BROKER sink:$P_SINK; do
        name=${kind%%:*} port=${kind#*:}
        pid=$(cat "$RUN/$name.pid")
        commit=$("$TE_BUILD_DIR/exec-$name" --version | sed -n 's/.*(commit \(.*\))$/\1/p')
        [ -n "$commit" ] || fail "exec-$name --version names no commit"
        eq "$name te_build_info" "$(te_metric "$port" te_build_info proc="exec-$name" commit="$commit")" 1
        rss=$(te_metric "$port" process_resident_memory_bytes)
        ps_rss=$(($(ps -o rss= -p "$pid") * 1024))
        python3 -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if 0.5 * b <= a <= 2 * b else 1)' \
                "$rss" "$ps_rss" || fail "$name process_resident_memory_bytes $rss, ps says $ps_rss"
        fds=$(te_metric "$port" process_open_fds)
        n_fd=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
        python3 -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if 3 <= a and abs(a - b) <= 3 else 1)' \
                "$fds" "$n_fd" || fail "$name process_open_fds $fds, /proc/$pid/fd has $n_fd"
        cpu=$(te_metric "$port" process_cpu_seconds_total)
        python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "$cpu" ||
                fail "$name process_cpu_seconds_total is $cpu"
done

te_pipeline_down "$RUN" || fail "a process did not exit cleanly on SIGTERM"
echo "test_metrics: ok ($n_targets targets incl. 3 junk, $n_orders orders, $n_reports reports; counters match)"
