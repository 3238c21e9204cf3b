#!/usr/bin/env bash
# test_poison_horizon_bars: in TRAINING the as_of horizon counts from the last date of
# the bars in prices_daily, not from the wall clock. The bars end on 2025-01-15; a
# target dated 2025-02-14 (30 days later, long before today) is dead-lettered as
# as_of_horizon (plan.as_of_horizon_days 7), and the portfolio's later, valid targets
# are planned. The planner keeps its pid and starts once.
source "$(dirname "$0")/prologue.sh" poisonhorbars
source "$here/eo_fault_lib.sh"
source "$here/poison_lib.sh"
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=12

python3 "$here/planner_data.py" bars 10 >"$RUN/bars.csv"
[ "$(tail -n 1 "$RUN/bars.csv" | cut -d, -f1)" = 2025-01-15 ] || eo_fail "bars do not end on 2025-01-15"
te_stack_up "$RUN"
"$TE_BUILD_DIR/exec-dbtool" load-bars "$RUN/bars.csv" >/dev/null
te_pipeline_up "$RUN" "$RUN/bars.csv"
poison_pids_save
m="$here/poison_msgs.py"
{
        python3 "$m" target pf-b v1 2025-01-06 QUANTITY AAA 100
        python3 "$m" target pf-b bad-after-bars 2025-02-14 QUANTITY AAA 120
        python3 "$m" target pf-b v2 2025-01-07 QUANTITY AAA 150
        python3 "$m" target pf-b v3 2025-01-08 QUANTITY AAA 160
} >"$RUN/targets.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/targets.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || eo_fail "a partition is blocked or a process died"
poison_same_procs
q "SELECT decision_id, side, (cum_qty + leaves_qty)::int FROM orders ORDER BY first_event_time,
   decision_id" >"$RUN/orders.txt"
printf 'v1 BUY 100\nv2 BUY 50\nv3 BUY 10\n' >"$RUN/want_orders.txt"
diff -u "$RUN/want_orders.txt" "$RUN/orders.txt" || eo_fail "orders around the target after the bars"
eo_topic_json exec.deadletter >"$RUN/dead.jsonl"
python3 - "$RUN/dead.jsonl" <<'PY' || eo_fail "dead letters"
import json, sys
got = [json.loads(l)["headers"]["te.reason"] for l in open(sys.argv[1])]
# 2025-02-14T21:00Z; the limit is the end of 2025-01-15 + 7 days: 2025-01-23T00:00Z
want = "as_of_horizon: as_of 1739566800000 is more than 7 days after the last bar date " \
       "(limit 1737590400000"
if len(got) != 1 or not got[0].startswith(want):
    sys.exit("dead letters %s, want one as_of_horizon from the last bar date" % got)
print("ok - %s" % got[0])
PY
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_poison_horizon_bars: ok"
