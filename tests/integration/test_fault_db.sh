#!/usr/bin/env bash
# test_fault_db: PostgreSQL stopped, then restarted, in the middle of the stream (issue
# 6 point 6). The sample backtest runs; after the sink has booked part of it the
# database is stopped (pg_ctl stop -m fast), the rest of the targets is published, the
# sink must log DB errors and retry with backoff without advancing its offsets (sink
# and broker stay up; the planner may exit cleanly and is restarted); after
# PostgreSQL comes back everything is booked: every fill on exec.reports is exactly one
# trade, exec-dbtool check passes, and no log line shows connection details.
source "$(dirname "$0")/prologue.sh" fdb
source "$here/eo_fault_lib.sh"
TE_TEST_LOG_LINES=12
pgbin=${TE_PG_BIN:-/usr/lib/postgresql/15/bin}
pg_ctl_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$pgbin/pg_ctl" "$@"; else "$pgbin/pg_ctl" "$@"; fi; }

te_stack_up "$RUN"
te_pipeline_up "$RUN" "$src/ops/sample/bars.csv"
head -n 80 "$src/ops/sample/targets.jsonl" >"$RUN/part1.jsonl"
tail -n +81 "$src/ops/sample/targets.jsonl" >"$RUN/part2.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/part1.jsonl" >/dev/null
booked() { [ "$(eo_q "SELECT count(*) FROM trades")" -gt 50 ]; }
eo_wait "the sink to book the first trades" 60 booked

pg_ctl_as -D "$RUN/pg/data" -m fast -w -t 60 stop >/dev/null
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/part2.jsonl" >/dev/null
retried() { [ "$(grep -c '"sink.db_error"' "$RUN/sink.log")" -ge 3 ]; }
eo_wait "the sink to retry against the stopped database" 60 retried
for name in sink broker; do
        kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null || eo_fail "$name died while the DB was down"
done
pg_ctl_as -D "$RUN/pg/data" -l "$RUN/pg/log" -w -t 60 start >/dev/null
# The planner retries saving its restart state while the DB is down (planner.db_retry);
# should it still give up (planner.fatal, status 1), a supervisor restarts it. It must
# not crash, and nothing may be lost.
pid=$(cat "$RUN/planner.pid")
if ! kill -0 "$pid" 2>/dev/null; then
        st=0
        wait "$pid" 2>/dev/null || st=$?
        [ "$st" = 1 ] && grep -q '"planner.fatal"' "$RUN/planner.log" ||
                eo_fail "the planner died without a clean fatal exit (status $st)"
        echo "NOTE: exec-planner exited on the DB outage ($(grep -o '"planner.fatal","msg":"[^"]*' "$RUN/planner.log" | head -1 | cut -d'"' -f5)); restarted like a supervisor would" >&2
        te_pipeline_start "$RUN" planner exec-planner
fi
grep -q '"sink.db_reconnected"' "$RUN/sink.log" || eo_wait "the sink to reconnect" 60 \
        grep -q '"sink.db_reconnected"' "$RUN/sink.log"
te_pipeline_wait_idle "$RUN" 180 || eo_fail "pipeline not idle after the DB came back"
eo_assert_books_exact
eo_no_secrets
# backoff is bounded: delays grow and never pass db.retry.max.ms (5000 by default)
python3 - "$RUN/sink.log" <<'PY'
import json, re, sys
d = [int(re.search(r"retry in (\d+) ms", json.loads(l)["msg"]).group(1))
     for l in open(sys.argv[1]) if '"sink.db_error"' in l]
assert d == sorted(d) and max(d) <= 5000 and d[0] == 50, d
PY
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_fault_db: ok ($(grep -c '"sink.db_error"' "$RUN/sink.log") DB retries, then caught up)"
