#!/usr/bin/env bash
# test_poison_horizon_nobars: with prices_daily empty, the TRAINING as_of horizon falls
# back to the wall clock: a target 30 days after the simulator's CSV bars is planned
# (nothing in the DB bounds it), one in the year 9000 is dead-lettered as
# as_of_horizon "after the wall clock", and the planner logs which limit applies.
source "$(dirname "$0")/prologue.sh" poisonhornobars
source "$here/eo_fault_lib.sh"
source "$here/poison_lib.sh"
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=12

python3 "$here/planner_data.py" bars 10 >"$RUN/bars.csv"
te_stack_up "$RUN"
te_pipeline_up "$RUN" "$RUN/bars.csv"
poison_pids_save
m="$here/poison_msgs.py"
{
        python3 "$m" target pf-n n1 2025-01-06 QUANTITY AAA 100
        python3 "$m" target pf-n n-late 2025-02-14 QUANTITY AAA 120
        python3 "$m" target pf-n bad-future 9000-01-01 QUANTITY AAA 150
} >"$RUN/targets.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/targets.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || eo_fail "a partition is blocked or a process died"
poison_same_procs
# planned: its order went out (the simulator has no bar for that day: how it ends is
# not the point here)
q "SELECT decision_id, side FROM orders ORDER BY first_event_time, decision_id" >"$RUN/orders.txt"
printf 'n1 BUY\nn-late BUY\n' >"$RUN/want_orders.txt"
diff -u "$RUN/want_orders.txt" "$RUN/orders.txt" || eo_fail "orders with prices_daily empty"
eo_topic_json exec.deadletter >"$RUN/dead.jsonl"
python3 - "$RUN/dead.jsonl" <<'PY' || eo_fail "dead letters"
import json, sys
got = [json.loads(l)["headers"]["te.reason"] for l in open(sys.argv[1])]
if len(got) != 1 or not got[0].startswith("as_of_horizon: as_of 221845467600000 is more "
                                          "than 7 days after the wall clock"):
    sys.exit("dead letters %s, want one as_of_horizon from the wall clock" % got)
print("ok - %s" % got[0])
PY
grep -q '"planner.horizon".*prices_daily is empty, the wall clock' "$RUN/planner.log" ||
        eo_fail "the planner did not say the wall clock applies"
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_poison_horizon_nobars: ok"
