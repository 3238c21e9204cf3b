#!/usr/bin/env bash
# test_offset_ahead: a sink whose DB offsets lie beyond what the cluster holds (the
# cluster lost its data: a new one, with the runtime DB kept) must not start over from
# the beginning while /readyz says ready; the partitions that are fine go on.
# A fresh cluster, a two-partition topic; the sink's DB says its next offset of
# partition 0 is 50 (partition 1: no row, a new partition).
#   A. the topic is empty (high watermark 0): the sink logs kafka.offset_ahead,
#      publishes a CRITICAL offset_ahead Alert and answers /readyz with 503 (check
#      "offsets");
#   B. 40 reports arrive (partition 0 gets fewer than 50): restarted, the sink again
#      stops partition 0 (log and Alert name the stored offset and the high watermark,
#      its DB offset stays 50, none of its reports is booked), books every report of
#      partition 1, stays not ready, and stays up.
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
"$TE_BUILD_DIR/exec-devstack-ctl" --ctl "$RUN/ctl" create_topic ahead.reports 2 >/dev/null
port=$(te_free_ports 1)
sink_args=(-o topic.reports=ahead.reports -o group.id=ahead-sink -o metrics.port="$port")
stored() { q "SELECT coalesce(max(next_offset), -1) FROM consumer_offsets WHERE consumer_group = 'ahead-sink' AND kafka_partition = $1"; }
alerts() { "$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t exec.alerts \
        --from-beginning --exit-at-end 2>/dev/null | grep offset_ahead || true; }

# the runtime DB (schema applied by the sink, then stopped) says: next offset 50
te_pipeline_start "$RUN" sink exec-sink "${sink_args[@]}"
te_wait_http "$port" /readyz 200 60 || fail "the sink never got ready on an empty topic"
te_pipeline_stop "$RUN" sink || fail "sink did not stop cleanly"
q "INSERT INTO consumer_offsets (consumer_group, topic, kafka_partition, next_offset)
   VALUES ('ahead-sink', 'ahead.reports', 0, 50)"

# A. the topic is empty
te_pipeline_start "$RUN" sink exec-sink "${sink_args[@]}"
wait_for "the offset_ahead log line (empty topic)" 60 grep -q '"kafka.offset_ahead"' "$RUN/sink.log"
grep '"kafka.offset_ahead"' "$RUN/sink.log" | grep -c 'ahead.reports \[0\]: stored offset 50 is beyond the high watermark 0 ' >/dev/null ||
        fail "log line lacks the offsets: $(grep offset_ahead "$RUN/sink.log" | head -1)"
alerts_n() { [ "$(alerts | grep -c CRITICAL)" = "$1" ]; }
wait_for "a CRITICAL offset_ahead alert" 30 alerts_n 1
grep -c 'ahead.reports\[0\]: stored offset 50 is beyond the high watermark 0 ' <<<"$(alerts)" >/dev/null ||
        fail "alert lacks the offsets: $(alerts)"
te_wait_http "$port" /readyz 503 30 || fail "/readyz does not say not ready (empty topic)"
curl -s "127.0.0.1:$port/readyz" | grep -c 'offsets: not ok' >/dev/null ||
        fail "/readyz does not name the offsets check: $(curl -s "127.0.0.1:$port/readyz")"
te_pipeline_stop "$RUN" sink || fail "sink did not stop cleanly"
[ "$(stored 0)" = 50 ] || fail "the sink moved its stored offset of partition 0 ($(stored 0))"
grep -c '"kafka.offset_ahead"' "$RUN/sink.log" | grep -qx 1 || fail "partition 1 (no stored offset) was reported ahead"

# B. 40 reports; partition 0 below 50, partition 1 some
"$TE_BUILD_DIR/tests/bench_sink" "$boot" ahead.reports 40 "$RUN/reports.csv"
per_part() { kcat -b "$boot" -C -t ahead.reports -p "$1" -o beginning -e -q -f '.\n' | grep -c . || true; }
hw0=$(per_part 0) hw1=$(per_part 1)
[ $((hw0 + hw1)) = 40 ] && [ "$hw0" -lt 50 ] && [ "$hw1" -gt 0 ] ||
        fail "unexpected spread of the 40 reports: partition 0 $hw0, partition 1 $hw1"
mv "$RUN/sink.log" "$RUN/sink-a.log"
te_pipeline_start "$RUN" sink exec-sink "${sink_args[@]}"
wait_for "the offset_ahead log line" 60 grep -q '"kafka.offset_ahead"' "$RUN/sink.log"
grep '"kafka.offset_ahead"' "$RUN/sink.log" | grep -c "ahead.reports \[0\]: stored offset 50 is beyond the high watermark $hw0 " >/dev/null ||
        fail "log line lacks the offsets: $(grep offset_ahead "$RUN/sink.log" | head -1)"
wait_for "a second CRITICAL offset_ahead alert" 30 alerts_n 2
grep -c "ahead.reports\[0\]: stored offset 50 is beyond the high watermark $hw0 " <<<"$(alerts)" >/dev/null ||
        fail "alert lacks the offsets: $(alerts)"
stored_is() { [ "$(stored "$1")" = "$2" ]; }
wait_for "partition 1's $hw1 reports booked" 60 stored_is 1 "$hw1"
[ "$(q "SELECT count(*) FROM trades")" = "$hw1" ] || fail "trades: $(q "SELECT count(*) FROM trades"), expected $hw1 (partition 1 only)"
te_wait_http "$port" /readyz 503 30 || fail "/readyz does not say not ready"
[ "$(te_metric "$port" te_alerts_total code=offset_ahead)" = 1 ] ||
        fail "te_alerts_total{code=offset_ahead} is not 1"
[ "$(te_metric "$port" te_messages_consumed_total topic=ahead.reports)" = "$hw1" ] ||
        fail "the sink consumed more than partition 1"
[ "$(stored 0)" = 50 ] || fail "the sink moved its stored offset of partition 0 ($(stored 0))"
kill -0 "$(cat "$RUN/sink.pid")" || fail "the sink died"
te_pipeline_stop "$RUN" sink || fail "sink did not stop cleanly"
echo "test_offset_ahead: ok (stored 50, high watermark 0 then $hw0: partition 0 stopped, alert raised, not ready; partition 1's $hw1 reports booked)"
