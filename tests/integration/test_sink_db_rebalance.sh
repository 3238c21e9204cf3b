#!/usr/bin/env bash
# test_sink_db_rebalance: a rebalance of the sink group during a PostgreSQL outage waits
# for the DB's offsets. Two sinks share the group and book the first part of the sample
# backtest. PostgreSQL is stopped, the second sink stopped: the first is assigned every
# partition and must read where to start from the DB (consumer_offsets, the truth), so it
# retries (sink.db_retry "offset of") instead of starting from the Kafka committed
# offset. The rest of the backtest is published; once PostgreSQL is back the same sink
# books everything exactly once. The second sink joins after the first was assigned every
# partition, so the group rebalances more than once before the outage; what the sink
# logged before the outage is never counted against what it logs after it: the checks
# look at the lines after its first wait for an offset (after_wait).
source "$(dirname "$0")/prologue.sh" sinkdbreb
source "$here/eo_fault_lib.sh"
TE_TEST_LOG_SKIP=CONFWARN TE_TEST_LOG_LINES=12
TE_TEST_PIPELINE=(sink2)
pgbin=${TE_PG_BIN:-/usr/lib/postgresql/15/bin}
pg_ctl_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$pgbin/pg_ctl" "$@"; else "$pgbin/pg_ctl" "$@"; fi; }
count() { grep -F -- "$2" "$RUN/$1.log" 2>/dev/null | grep -c -F -- "$3" || true; }
# after_wait A B: lines of sink.log holding both fixed strings A and B that come after
# the first sink.db_retry "offset of" (the rebalance that waited for the DB's offsets)
after_wait() {
        awk -v a="$1" -v b="$2" 'w && index($0, a) && index($0, b) { n++ }
                index($0, "\"sink.db_retry\"") && index($0, "offset of") { w = 1 }
                END { print n + 0 }' "$RUN/sink.log" 2>/dev/null || echo 0
}

te_stack_up "$RUN"
te_pipeline_up "$RUN" "$src/ops/sample/bars.csv"
# the second sink joins once the first holds every partition: the group always goes
# through more than one rebalance before the outage (it did only sometimes, when a
# loaded machine started the second sink late)
first() { [ "$(count sink '"sink.assigned"' '')" -ge 1 ]; }
eo_wait "the first sink assigned" 60 first
te_pipeline_start "$RUN" sink2 exec-sink
sink_pid=$(cat "$RUN/sink.pid")
both() { [ "$(count sink '"sink.assigned"' '')" -ge 1 ] && [ "$(count sink2 '"sink.assigned"' '')" -ge 1 ]; }
eo_wait "both sinks assigned" 60 both
t=$src/ops/sample/targets.jsonl
head -n 60 "$t" >"$RUN/p1.jsonl"
tail -n +61 "$t" >"$RUN/p2.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/p1.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || eo_fail "first part not processed"

pg_ctl_as -D "$RUN/pg/data" -m fast -w -t 60 stop >/dev/null
te_pipeline_stop "$RUN" sink2 || true # it may have been waiting for the DB
# the first sink's new assignment: it waits for its offsets (new), or takes Kafka's (old)
reassigned() {
        [ "$(count sink '"sink.db_retry"' 'offset of')" -ge 3 ] ||
                [ "$(count sink '"sink.offsets"' 'Kafka committed')" -gt 0 ]
}
eo_wait "the first sink to be assigned the second's partitions" 60 reassigned
[ "$(count sink '"sink.offsets"' 'Kafka committed')" = 0 ] ||
        eo_fail "the sink started from the Kafka committed offset: $(grep -m1 'Kafka committed' "$RUN/sink.log")"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/p2.jsonl" >/dev/null
kill -0 "$sink_pid" 2>/dev/null || eo_fail "the sink died during the outage"
pg_ctl_as -D "$RUN/pg/data" -l "$RUN/pg/log" -w -t 60 start >/dev/null
# the assignment that waited is applied (kafka.assign comes after its sink.assigned lines)
applied() { [ "$(after_wait '"kafka.assign"' 'exec.reports')" -ge 1 ]; }
eo_wait "the sink to take its partitions from the DB's offsets" 60 applied
[ "$(after_wait '"sink.assigned"' 'db offset')" -ge 1 ] ||
        eo_fail "the assignment after the outage took no offset from the DB"
te_pipeline_wait_idle "$RUN" 180 || eo_fail "the pipeline did not drain after the DB came back"
[ "$(cat "$RUN/sink.pid")" = "$sink_pid" ] && kill -0 "$sink_pid" || eo_fail "not the same sink process"
[ "$(count sink '"sink.offsets"' 'Kafka committed')" = 0 ] || eo_fail "an assignment used the Kafka committed offset"
eo_assert_books_exact
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_sink_db_rebalance: ok (the reassigned sink waited $(count sink '"sink.db_retry"' 'offset of') times for its offsets, then booked everything)"
