#!/usr/bin/env bash
# test_planner_db_outage: the planner's DB reads at a rebalance and at start-up wait out
# a PostgreSQL outage instead of exiting, and consume no target meanwhile.
#   Two planners share the group and plan the first part of a stream. PostgreSQL is
#   stopped; the first planner is killed (-9), so the second is assigned every partition
#   and must rebuild its book from the DB: it retries with bounded backoff
#   (planner.db_retry), its targets paused. The rest of the stream is published then:
#   no order is sent for it while the DB is down. (A planner with a book keeps planning
#   through an outage until its next commit, which retries the state save: that is
#   test_fault_db's case.) A third planner started during the outage
#   retries its connection instead of exiting. PostgreSQL comes back: the planners
#   rebuild (a third rebalance when the third joins), and every target is planned exactly
#   once — the NEW orders on exec.orders are those of one crash-free planner
#   (planner_data.py), no duplicate id — and the positions are the last targets.
#   The sink, idle through the outage, finds its connection dead at its first batch
#   after it, reconnects and seeks back to its offsets in the DB (sink.reseek); every
#   process stays up to the end (a sink that gave up fails the test at once).
source "$(dirname "$0")/prologue.sh" pldb
source "$here/eo_fault_lib.sh"
TE_TEST_LOG_SKIP=CONFWARN TE_TEST_LOG_LINES=12
TE_TEST_PIPELINE=(planner2 planner3)
pgbin=${TE_PG_BIN:-/usr/lib/postgresql/15/bin}
pg_ctl_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$pgbin/pg_ctl" "$@"; else "$pgbin/pg_ctl" "$@"; fi; }
count() { grep -F -- "$2" "$RUN/$1.log" 2>/dev/null | grep -c -F -- "$3" || true; }
at_least() { [ "$(count "$1" "$2" "$3")" -ge "$4" ]; }
alive() { _te_pl_alive "$(cat "$RUN/$1.pid")" || { tail -n 5 "$RUN/$1.log"; eo_fail "$1 died"; }; }

python3 "$here/planner_data.py" bars 40 >"$RUN/bars.csv"
python3 "$here/planner_data.py" targets 6 20 5 >"$RUN/targets.jsonl"
python3 "$here/planner_data.py" expect "$RUN/targets.jsonl" >"$RUN/expected.txt"
head -n 60 "$RUN/targets.jsonl" >"$RUN/first.jsonl"
tail -n +61 "$RUN/targets.jsonl" >"$RUN/rest.jsonl"

te_stack_up "$RUN"
te_pipeline_up "$RUN" "$RUN/bars.csv"
te_pipeline_start "$RUN" planner2 exec-planner
eo_wait "both planners assigned" 60 at_least planner2 '"planner.assigned"' partitions 1
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/first.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || eo_fail "first part not processed"

pg_ctl_as -D "$RUN/pg/data" -m fast -w -t 60 stop >/dev/null
kill -KILL "$(cat "$RUN/planner.pid")"
rm -f "$RUN/planner.pid"
eo_wait "the second planner to retry its rebuild" 60 \
        at_least planner2 '"planner.db_retry"' 'rebuild: ' 4
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/rest.jsonl" >/dev/null
te_pipeline_start "$RUN" planner3 exec-planner
eo_wait "the third planner to retry connecting" 60 \
        at_least planner3 '"planner.db_retry"' 'connect: ' 2
alive planner2
alive planner3
# nothing of the second part was planned while the DB was down
eo_topic_json exec.orders >"$RUN/during.jsonl"
n=$(python3 - "$RUN/during.jsonl" "$RUN/rest.jsonl" <<'PY'
import json, sys
rest = {json.loads(l)["decision_id"] for l in open(sys.argv[2])}
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["value"]["decision_id"] in rest))
PY
)
[ "$n" = 0 ] || eo_fail "$n commands for targets consumed while the DB was down"
[ "$(count planner2 '"planner.fatal"' '')" = 0 ] || eo_fail "the second planner gave up"
echo "ok - DB down: the second planner retried its rebuild $(count planner2 '"planner.db_retry"' 'rebuild: ') times, the third its connection; nothing planned"

n_assigned=$(count planner2 '"planner.assigned"' partitions)
pg_ctl_as -D "$RUN/pg/data" -l "$RUN/pg/log" -w -t 60 start >/dev/null
# the second planner's rebuild completes (the pending one, or that of the rebalance
# the third planner's joining causes)
eo_wait "the second planner's rebuild after the outage" 60 \
        at_least planner2 '"planner.assigned"' partitions $((n_assigned + 1))
eo_wait "the third planner to join" 60 at_least planner3 '"planner.assigned"' partitions 1
deadline=$((SECONDS + 120))
until "$TE_BUILD_DIR/exec-lag" --bootstrap-file "$RUN/bootstrap" \
        --kafka exec-planner:exec.targets --kafka exec-broker-sim:exec.orders \
        --db exec-sink:exec.reports >"$RUN/lag.txt" 2>&1; do
        [ $SECONDS -lt $deadline ] || { cat "$RUN/lag.txt"; eo_fail "pipeline did not drain"; }
        # a process that gave up (e.g. the sink after its reconnect) fails at once
        for p in planner2 planner3 broker sink; do alive $p; done
        sleep 0.2
done

# the sink met its dead connection at its first batch after the restart (nothing was
# planned during the outage): it reconnected and sought back to its DB offsets
grep -q '"sink.reseek".*back to their offsets in the DB' "$RUN/sink.log" ||
        eo_fail "the sink did not seek back to its DB offsets after reconnecting"
eo_topic_json exec.orders >"$RUN/orders.jsonl"
python3 "$here/planner_data.py" check-orders "$RUN/orders.jsonl" "$RUN/expected.txt" \
        "a single planner's" || eo_fail "orders on exec.orders"
grep '^position ' "$RUN/expected.txt" | cut -d' ' -f2- >"$RUN/want_pos.txt"
psql -X -q -A -t -F ' ' -c "SELECT portfolio_id, ticker, quantity::int FROM positions
   WHERE quantity <> 0 ORDER BY 1, 2" >"$RUN/got_pos.txt"
diff -u "$RUN/want_pos.txt" "$RUN/got_pos.txt" || eo_fail "final positions"
eo_assert_books_exact
eo_no_secrets
# the backoff starts at 50 ms, doubles, never passes 5 s (a new assignment starts over)
python3 - "$RUN/planner2.log" "$RUN/planner3.log" <<'PY'
import json, re, sys
for path in sys.argv[1:]:
    d = [int(re.search(r"retry in (\d+) ms", json.loads(l)["msg"]).group(1))
         for l in open(path)
         if '"planner.db_retry"' in l and re.search(r"(rebuild|connect): ", l)]
    ok = d and d[0] == 50 and all(b in (50, min(2 * a, 5000)) for a, b in zip(d, d[1:]))
    assert ok and max(d) <= 5000, (path, d)
PY
te_pipeline_down "$RUN" planner2 planner3 || eo_fail "a process did not exit cleanly"
echo "test_planner_db_outage: ok (rebuild and start-up waited out the outage; every target planned once)"
