#!/usr/bin/env bash
# test_poison_fills: two well-formed FILL reports of 1e308 shares for one portfolio are
# dead-lettered by the sink (out of the report bounds) and skipped by the planner, whose
# book stays finite: the portfolio's next target is planned as if they never came, and
# nothing of them reaches the DB. Then the rebuild from the DB must not fail on any row:
# with positions, cash and an order the DB holds beyond the double range (numeric
# 1e400, written here by hand, since the sink no longer writes such rows) the planner
# restarts, plans the other portfolios, and dead-letters the targets of the portfolio
# whose position is out of range instead of stopping.
source "$(dirname "$0")/prologue.sh" poisonfill
source "$here/eo_fault_lib.sh"
source "$here/poison_lib.sh"
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=12

python3 "$here/planner_data.py" bars 10 >"$RUN/bars.csv"
te_stack_up "$RUN"
"$TE_BUILD_DIR/exec-dbtool" load-bars "$RUN/bars.csv" >/dev/null
te_pipeline_up "$RUN" "$RUN/bars.csv"
poison_pids_save
boot=$(cat "$RUN/bootstrap")
m="$here/poison_msgs.py"
publish() { "$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$1" >/dev/null; }

python3 "$m" target pf-v v1 2025-01-06 QUANTITY AAA 100 >"$RUN/v1.jsonl"
publish "$RUN/v1.jsonl"
te_pipeline_wait_idle "$RUN" 60 || eo_fail "v1 not processed"
python3 "$m" fill "$RUN/f1.bin" pf-v ox-1 AAA 1e308 20
python3 "$m" fill "$RUN/f2.bin" pf-v ox-2 AAA 1e308 20
kcat -b "$boot" -X partitioner=murmur2_random -P -t exec.reports -k pf-v "$RUN/f1.bin" "$RUN/f2.bin"
python3 "$m" target pf-v v2 2025-01-07 QUANTITY AAA 150 >"$RUN/v2.jsonl"
publish "$RUN/v2.jsonl"
te_pipeline_wait_idle "$RUN" 60 || eo_fail "a partition is blocked or a process died"
poison_same_procs
q "SELECT decision_id, side, (cum_qty + leaves_qty)::int FROM orders ORDER BY first_event_time,
   decision_id" >"$RUN/orders.txt"
printf 'v1 BUY 100\nv2 BUY 50\n' >"$RUN/want_orders.txt"
diff -u "$RUN/want_orders.txt" "$RUN/orders.txt" || eo_fail "orders after the huge fills"
[ "$(q "SELECT quantity::int FROM positions WHERE portfolio_id = 'pf-v' AND ticker = 'AAA'")" = 150 ] ||
        eo_fail "position after the huge fills"
eo_topic_json exec.deadletter >"$RUN/dead.jsonl"
python3 - "$RUN/dead.jsonl" <<'PY' || eo_fail "dead letters of the fills"
import json, sys
got = [json.loads(l)["headers"] for l in open(sys.argv[1])]
got = [h["te.reason"] for h in got if h["te.source.topic"] == "exec.reports"]
if len(got) != 2 or not all("last_qty': out of range" in r for r in got):
    sys.exit("exec.reports dead letters: %s" % got)
print("ok - both fills dead-lettered: %s" % got[0])
PY
grep -c '"planner.bad_report"' "$RUN/planner.log" | grep -qx 2 || eo_fail "the planner did not skip both fills"

# rows beyond the double range, as a sink could have written before the report bounds
te_pipeline_stop "$RUN" planner || eo_fail "the planner did not stop cleanly"
q "INSERT INTO positions (portfolio_id, ticker, quantity) VALUES ('pf-w', 'AAA', 1e400);
   INSERT INTO cash (portfolio_id, balance) VALUES ('pf-w', -2e400);
   CREATE TEMP TABLE o AS SELECT * FROM orders LIMIT 1;
   UPDATE o SET order_id = 'ow-1', portfolio_id = 'pf-w', cum_qty = 1e400, leaves_qty = 0;
   INSERT INTO orders SELECT * FROM o" >/dev/null
te_pipeline_start "$RUN" planner exec-planner
{
        python3 "$m" target pf-v v3 2025-01-08 QUANTITY AAA 160
        python3 "$m" target pf-w w1 2025-01-08 QUANTITY AAA 10
} >"$RUN/v3.jsonl"
publish "$RUN/v3.jsonl"
te_pipeline_wait_idle "$RUN" 60 || eo_fail "the planner did not restart on rows beyond the double range"
grep -q '"planner.db_out_of_range"' "$RUN/planner.log" || eo_fail "rows out of range not logged"
[ "$(q "SELECT (cum_qty + leaves_qty)::int FROM orders WHERE decision_id = 'v3'")" = 10 ] ||
        eo_fail "v3 not planned after the restart"
eo_topic_json exec.deadletter >"$RUN/dead.jsonl"
python3 - "$RUN/dead.jsonl" <<'PY' || eo_fail "dead letter of w1"
import json, sys
got = [json.loads(l)["headers"] for l in open(sys.argv[1])]
got = [h["te.reason"] for h in got if h["te.source.topic"] == "exec.targets"]
if len(got) != 1 or "out of range" not in got[0]:
    sys.exit("no dead letter for w1: %s" % got)
print("ok - w1 dead-lettered: %s" % got[0])
PY
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_poison_fills: ok"
