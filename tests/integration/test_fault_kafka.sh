#!/usr/bin/env bash
# test_fault_kafka: Kafka faults through the dev stack's control socket while the sample
# backtest runs: added round-trip time, injected Produce and Fetch
# request errors, the (only) broker down for a few seconds then up, and a consumer-group
# rebalance in the middle of the sink's batches (a second exec-sink joins the group and
# later leaves it). The processes must ride through (none dies) and the final DB must be
# exact: every fill on exec.reports is one trade, nothing else is, exec-dbtool check
# passes, and every process exits 0 on SIGTERM.
source "$(dirname "$0")/prologue.sh" fkafka
source "$here/eo_fault_lib.sh"
TE_TEST_LOG_SKIP=CONFWARN TE_TEST_LOG_LINES=12
TE_TEST_PIPELINE=(sink2)
te_test_cleanup_extra() { # the broker may be down when a check fails
        "$TE_BUILD_DIR/exec-devstack-ctl" --ctl "$RUN/ctl" broker_up 1 >/dev/null 2>&1 || true
}
ctl() { "$TE_BUILD_DIR/exec-devstack-ctl" --ctl "$RUN/ctl" "$@" >/dev/null || eo_fail "ctl $*"; }
alive() { for n in "$@"; do kill -0 "$(cat "$RUN/$n.pid")" 2>/dev/null || eo_fail "$n died"; done; }
trades() { eo_q "SELECT count(*) FROM trades"; }
more_trades_than() { [ "$(trades)" -gt "$1" ]; }

te_stack_up "$RUN"
te_pipeline_up "$RUN" "$src/ops/sample/bars.csv"
t=$src/ops/sample/targets.jsonl
sed -n '1,50p' "$t" >"$RUN/p1.jsonl"
sed -n '51,110p' "$t" >"$RUN/p2.jsonl"
sed -n '111,160p' "$t" >"$RUN/p3.jsonl"
sed -n '161,180p' "$t" >"$RUN/p4.jsonl"
sed -n '181,$p' "$t" >"$RUN/p5.jsonl"
pub() { "$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$1" >/dev/null; }

# 1. round-trip time and request errors on Produce (0) and Fetch (1)
ctl rtt 1 40
ctl request_errors 0 NOT_LEADER_FOR_PARTITION 5
ctl request_errors 1 NOT_LEADER_FOR_PARTITION 5
pub "$RUN/p1.jsonl"
eo_wait "trades under rtt and request errors" 90 more_trades_than 50
ctl rtt 1 0
alive planner broker sink

# 2. the broker down mid-stream, then up
n=$(trades)
pub "$RUN/p2.jsonl"
eo_wait "progress before the broker goes down" 60 more_trades_than "$n"
ctl broker_down 1
sleep 3 # the outage: 3 x kafka.reconnect.backoff.max.ms, several failed reconnects each
alive planner broker sink
n=$(trades)
ctl broker_up 1
eo_wait "progress after the broker came back" 90 more_trades_than "$n"

# 3. a rebalance in the middle of the sink's batches: a second sink joins, then leaves
te_pipeline_start "$RUN" sink2 exec-sink -o batch.linger.ms=200
pub "$RUN/p3.jsonl"
joined() { [ "$(grep -c '"sink.assigned"' "$RUN/sink2.log")" -ge 1 ]; }
eo_wait "the second sink to get partitions" 60 joined
# more work once both are in the group (p3 may be booked by then): progress with two
n=$(trades)
pub "$RUN/p4.jsonl"
eo_wait "progress with two sinks" 60 more_trades_than "$n"
te_pipeline_stop "$RUN" sink2 || eo_fail "the second sink did not exit cleanly"
pub "$RUN/p5.jsonl"

te_pipeline_wait_idle "$RUN" 180 || eo_fail "not idle after the faults"
alive planner broker sink
[ "$(grep -c '"sink.assigned"' "$RUN/sink.log")" -ge 2 ] || eo_fail "the first sink saw no rebalance"
eo_assert_books_exact
eo_no_secrets
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly after the faults"
echo "test_fault_kafka: ok (rtt, produce/fetch errors, broker down/up, rebalance mid-batch)"
