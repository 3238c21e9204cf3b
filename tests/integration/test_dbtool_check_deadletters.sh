#!/usr/bin/env bash
# test_dbtool_check_deadletters: the planner records each target it dead-letters in
# planner_dead_letters (migration 0010), and `exec-dbtool check` names a portfolio whose
# targets are all dead-lettered since its last planned one (planner_deadletter_check: 3
# or more recorded after the planner saved its last planned as_of):
#   - pf-a: planned once, then three targets dated before it (as_of_backwards): fails;
#   - pf-b: three such targets between two planned ones: passes;
#   - pf-a planned again: the check passes.
source "$(dirname "$0")/prologue.sh" dbtool_dl
source "$here/eo_fault_lib.sh"
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=12

python3 "$here/planner_data.py" bars 10 >"$RUN/bars.csv"
te_stack_up "$RUN"
"$TE_BUILD_DIR/exec-dbtool" load-bars "$RUN/bars.csv" >/dev/null
te_pipeline_up "$RUN" "$RUN/bars.csv"
m="$here/poison_msgs.py"
publish() { "$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$1" >/dev/null; }
planned() { # planned PORTFOLIO DAY: the planner saved a planned as_of on DAY for it
        [ "$(q "SELECT count(*) FROM planner_portfolios WHERE portfolio_id = '$1'
                AND to_timestamp(last_as_of / 1000.0)::date = DATE '$2'")" = 1 ]
}
recorded() { [ "$(q "SELECT count(*) FROM planner_dead_letters")" = "$1" ]; }

{
        python3 "$m" target pf-a a1 2025-01-08 QUANTITY AAA 100
        python3 "$m" target pf-b b1 2025-01-07 QUANTITY AAA 100
} >"$RUN/t1.jsonl"
publish "$RUN/t1.jsonl"
eo_wait "pf-a planned" 60 planned pf-a 2025-01-08
eo_wait "pf-b planned" 60 planned pf-b 2025-01-07
{
        python3 "$m" target pf-a a-old1 2025-01-06 QUANTITY AAA 110
        python3 "$m" target pf-a a-old2 2025-01-06 QUANTITY AAA 120
        python3 "$m" target pf-a a-old3 2025-01-07 QUANTITY AAA 130
        python3 "$m" target pf-b b-old1 2025-01-06 QUANTITY AAA 110
        python3 "$m" target pf-b b-old2 2025-01-06 QUANTITY AAA 120
        python3 "$m" target pf-b b-old3 2025-01-06 QUANTITY AAA 130
        python3 "$m" target pf-b b2 2025-01-08 QUANTITY AAA 150
} >"$RUN/t2.jsonl"
publish "$RUN/t2.jsonl"
eo_wait "pf-b planned again" 60 planned pf-b 2025-01-08
eo_wait "6 dead letters recorded" 60 recorded 6
te_pipeline_wait_idle "$RUN" 120 || eo_fail "a partition is blocked or a process died"
q "SELECT portfolio_id, decision_id, reason, source_topic FROM planner_dead_letters
   ORDER BY portfolio_id, decision_id" >"$RUN/dl.txt"
cat >"$RUN/want_dl.txt" <<'T'
pf-a a-old1 as_of_backwards exec.targets
pf-a a-old2 as_of_backwards exec.targets
pf-a a-old3 as_of_backwards exec.targets
pf-b b-old1 as_of_backwards exec.targets
pf-b b-old2 as_of_backwards exec.targets
pf-b b-old3 as_of_backwards exec.targets
T
diff -u "$RUN/want_dl.txt" "$RUN/dl.txt" || eo_fail "planner_dead_letters"
echo "ok - the planner recorded its dead letters"

rc=0
"$TE_BUILD_DIR/exec-dbtool" check >"$RUN/check1.out" 2>&1 || rc=$?
cat "$RUN/check1.out"
[ "$rc" = 1 ] || eo_fail "check exit $rc, want 1 (pf-a dead-lettered since a1)"
grep -q "^check: planner_deadletter_check: 1 row$" "$RUN/check1.out" ||
        eo_fail "planner_deadletter_check does not list exactly one portfolio"
grep -q "^  pf-a	3	a-old1 as_of_backwards	a-old3 as_of_backwards" "$RUN/check1.out" ||
        eo_fail "planner_deadletter_check does not name pf-a"
grep -q "pf-b" "$RUN/check1.out" && eo_fail "pf-b (bad targets between good ones) is listed"
echo "ok - check names pf-a, not pf-b"

python3 "$m" target pf-a a2 2025-01-09 QUANTITY AAA 140 >"$RUN/t3.jsonl"
publish "$RUN/t3.jsonl"
eo_wait "pf-a planned again" 60 planned pf-a 2025-01-09
"$TE_BUILD_DIR/exec-dbtool" check >"$RUN/check2.out" 2>&1 ||
        { cat "$RUN/check2.out"; eo_fail "check fails once pf-a is planned again"; }
echo "ok - check passes once pf-a is planned again"
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_dbtool_check_deadletters: ok"
