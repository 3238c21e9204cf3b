#!/usr/bin/env bash
# test_poison_horizon: a target with as_of in the year 9000 is dead-lettered as
# as_of_horizon (more than plan.as_of_horizon_days, default 7, after the wall clock),
# not planned, so it does not make every later target of its portfolio
# as_of_backwards: the next targets of the same portfolio are planned. The planner keeps its pid and starts once.
source "$(dirname "$0")/prologue.sh" poisonhor
source "$here/eo_fault_lib.sh"
source "$here/poison_lib.sh"
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=12

python3 "$here/planner_data.py" bars 10 >"$RUN/bars.csv"
te_stack_up "$RUN"
"$TE_BUILD_DIR/exec-dbtool" load-bars "$RUN/bars.csv" >/dev/null
te_pipeline_up "$RUN" "$RUN/bars.csv"
poison_pids_save
m="$here/poison_msgs.py"
{
        python3 "$m" target pf-v v1 2025-01-06 QUANTITY AAA 100
        python3 "$m" target pf-v bad-future 9000-01-01 QUANTITY AAA 120
        python3 "$m" target pf-v v2 2025-01-07 QUANTITY AAA 150
        python3 "$m" target pf-v v3 2025-01-08 QUANTITY AAA 160
} >"$RUN/targets.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/targets.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || eo_fail "a partition is blocked or a process died"
poison_same_procs
q "SELECT decision_id, side, (cum_qty + leaves_qty)::int FROM orders ORDER BY first_event_time,
   decision_id" >"$RUN/orders.txt"
printf 'v1 BUY 100\nv2 BUY 50\nv3 BUY 10\n' >"$RUN/want_orders.txt"
diff -u "$RUN/want_orders.txt" "$RUN/orders.txt" || eo_fail "orders around the year-9000 target"
eo_topic_json exec.deadletter >"$RUN/dead.jsonl"
python3 - "$RUN/dead.jsonl" <<'PY' || eo_fail "dead letters"
import json, sys
got = [json.loads(l)["headers"]["te.reason"] for l in open(sys.argv[1])]
if len(got) != 1 or not got[0].startswith("as_of_horizon: as_of 221845467600000 "):
    sys.exit("dead letters %s, want one as_of_horizon" % got)
print("ok - %s" % got[0])
PY
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_poison_horizon: ok"
