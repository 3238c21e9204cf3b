#!/usr/bin/env bash
# test_sink_db_start: the sink started while PostgreSQL is down waits for it, as the
# planner does, instead of exiting. PostgreSQL is stopped before the pipeline starts;
# the sink must retry its connection with bounded backoff (sink.db_retry "connect"),
# stay up (same pid) and report not ready (te_ready{check="db"} 0, /readyz not 200)
# while part of the sample backtest is published. Once PostgreSQL is started, the same
# sink process books everything: every fill on exec.reports is exactly one trade, and
# exec-dbtool check passes.
source "$(dirname "$0")/prologue.sh" sinkdbstart
source "$here/eo_fault_lib.sh"
source "$here/metrics_lib.sh"
TE_TEST_LOG_SKIP=CONFWARN TE_TEST_LOG_LINES=12
pgbin=${TE_PG_BIN:-/usr/lib/postgresql/15/bin}
pg_ctl_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$pgbin/pg_ctl" "$@"; else "$pgbin/pg_ctl" "$@"; fi; }
count() { grep -F -- "$2" "$RUN/$1.log" 2>/dev/null | grep -c -F -- "$3" || true; }
alive() { kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null || eo_fail "$1 died: $(tail -n 3 "$RUN/$1.log")"; }

te_stack_up "$RUN"
pg_ctl_as -D "$RUN/pg/data" -m fast -w -t 60 stop >/dev/null
mport=$(te_free_ports 1)
te_pipeline_start "$RUN" sink exec-sink -o metrics.port="$mport"
sink_pid=$(cat "$RUN/sink.pid")
te_pipeline_start "$RUN" broker exec-broker -o sim.bars_csv="$src/ops/sample/bars.csv"
te_pipeline_start "$RUN" planner exec-planner
head -n 60 "$src/ops/sample/targets.jsonl" >"$RUN/part.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/part.jsonl" >/dev/null

retried() { alive sink; [ "$(count sink '"sink.db_retry"' 'connect: ')" -ge 4 ]; }
eo_wait "the sink to retry connecting" 60 retried
alive sink
[ "$(te_metric "$mport" te_ready check=db)" = 0 ] || eo_fail "the sink says the DB is ready while it is down"
code=$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$mport/readyz" || true)
[ "$code" != 200 ] || eo_fail "/readyz is 200 while the DB is down"
echo "ok - DB down at start: the sink retried $(count sink '"sink.db_retry"' 'connect: ') times, not ready"

pg_ctl_as -D "$RUN/pg/data" -l "$RUN/pg/log" -w -t 60 start >/dev/null
eo_wait "the sink to start once the DB is up" 60 grep -q '"sink.start"' "$RUN/sink.log"
te_pipeline_wait_idle "$RUN" 180 || eo_fail "the pipeline did not drain after the DB came up"
[ "$(cat "$RUN/sink.pid")" = "$sink_pid" ] && kill -0 "$sink_pid" || eo_fail "not the same sink process"
te_wait_metric "$mport" te_ready 1 30 check=db || eo_fail "the sink is not ready after the DB came up"
eo_assert_books_exact
eo_no_secrets
# the backoff starts at 50 ms, doubles, never passes db.retry.max.ms (5000)
python3 - "$RUN/sink.log" <<'PY'
import json, re, sys
d = [int(re.search(r"retry in (\d+) ms", json.loads(l)["msg"]).group(1))
     for l in open(sys.argv[1]) if '"sink.db_retry"' in l]
assert d and d[0] == 50 and max(d) <= 5000 and all(b == min(2 * a, 5000) for a, b in zip(d, d[1:])), d
PY
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_sink_db_start: ok (the sink waited for PostgreSQL, then booked everything)"
