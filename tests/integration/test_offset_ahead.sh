#!/usr/bin/env bash
# test_offset_ahead: a sink whose DB offsets lie beyond what the cluster holds (the
# cluster lost its data: a new one, with the runtime DB kept) must not start over from
# the beginning while /readyz says ready. A fresh cluster gets 10 reports on a
# one-partition topic (high watermark 10); the sink's DB says its next offset there is
# 50. Started, the sink must: log kafka.offset_ahead, publish a CRITICAL Alert
# offset_ahead naming the stored offset and the high watermark, answer /readyz with 503
# (check "offsets"), book nothing, keep its DB offset at 50, and stay up.
source "$(dirname "$0")/prologue.sh" ahead
# shellcheck source=tests/integration/metrics_lib.sh
source "$here/metrics_lib.sh"
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
wait_for() { # DESCRIPTION TIMEOUT_S COMMAND...
        local what=$1 deadline=$((SECONDS + $2))
        shift 2
        until "$@"; do
                [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
                sleep 0.1
        done
}
te_stack_up "$RUN"
boot=$TE_STACK_BOOTSTRAP
"$TE_BUILD_DIR/exec-devstack-ctl" -c "$RUN/ctl" create_topic ahead.reports 1 >/dev/null
port=$(te_free_ports 1)
sink_args=(-o topic.reports=ahead.reports -o group.id=ahead-sink -o metrics.port="$port")

# the runtime DB (schema applied by the sink, then stopped) says: next offset 50
te_pipeline_start "$RUN" sink exec-sink "${sink_args[@]}"
te_wait_http "$port" /readyz 200 60 || fail "the sink never got ready on an empty topic"
te_pipeline_stop "$RUN" sink || fail "sink did not stop cleanly"
q "INSERT INTO consumer_offsets (consumer_group, topic, kafka_partition, next_offset)
   VALUES ('ahead-sink', 'ahead.reports', 0, 50)"
"$TE_BUILD_DIR/tests/bench_sink" "$boot" ahead.reports 10 "$RUN/reports.csv"

te_pipeline_start "$RUN" sink exec-sink "${sink_args[@]}"
wait_for "the offset_ahead log line" 60 grep -q '"kafka.offset_ahead"' "$RUN/sink.log"
grep '"kafka.offset_ahead"' "$RUN/sink.log" | grep -c "stored offset 50 is beyond the high watermark 10" >/dev/null ||
        fail "log line lacks the offsets: $(grep offset_ahead "$RUN/sink.log" | head -1)"
alerts() { "$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t exec.alerts \
        --from-beginning --exit-at-end 2>/dev/null; }
alerts_have() { alerts | grep -c offset_ahead >/dev/null; }
wait_for "the offset_ahead alert" 30 alerts_have
got=$(alerts | grep offset_ahead)
grep -c "stored offset 50 is beyond the high watermark 10" <<<"$got" >/dev/null ||
        fail "alert lacks the offsets: $got"
grep -c CRITICAL <<<"$got" >/dev/null || fail "alert not CRITICAL: $got"
te_wait_http "$port" /readyz 503 30 || fail "/readyz does not say not ready"
curl -s "127.0.0.1:$port/readyz" | grep -c offsets >/dev/null ||
        fail "/readyz does not name the offsets check: $(curl -s "127.0.0.1:$port/readyz")"
[ "$(te_metric "$port" te_alerts_total code=offset_ahead)" = 1 ] ||
        fail "te_alerts_total{code=offset_ahead} is not 1"
sleep 1 # give a wrong implementation the chance to start over and book the reports
stored=$(q "SELECT next_offset FROM consumer_offsets WHERE consumer_group = 'ahead-sink'")
[ "$stored" = 50 ] || fail "the sink moved its stored offset ($stored)"
[ "$(q "SELECT count(*) FROM trades")" = 0 ] || fail "the sink booked reports from offset 0"
[ "$(te_metric "$port" te_messages_consumed_total topic=ahead.reports)" = 0 ] ||
        fail "the sink consumed the partition"
kill -0 "$(cat "$RUN/sink.pid")" || fail "the sink died"
te_pipeline_stop "$RUN" sink || fail "sink did not stop cleanly"
echo "test_offset_ahead: ok (stored 50, high watermark 10: partition stopped, alert raised, not ready)"
