#!/usr/bin/env bash
# test_crash: docs/DESIGN.md invariant 2 under fire (short version; crash_long.sh is the long
# one). The sample backtest (ops/sample: 202 TRAINING targets, sim broker) runs twice on
# fresh stacks with orders that rest for days (plan.tif=GTC, sim.participation=0.0005):
# once crash-free, once while randomly chosen processes (planner, broker worker, sink)
# are stopped TE_CRASH_KILLS times (default 6) and restarted at once. Every stop lands
# on a process that holds its partitions (crash_lib.sh waits for its assignment) while
# the chunk just published is being worked on; every TE_CRASH_TERM_EVERY-th stop
# (default 2) is a SIGTERM, going round the three processes, the others kill -9. The two
# databases must be equal: row counts and sha256 of the ordered trades, the open
# orders, positions, cash and orders; no duplicate and no lost trade, no order left
# open that the crash-free run closed; exec-dbtool check passes. Environment:
# TE_CRASH_KILLS, TE_CRASH_TERM_EVERY, TE_CRASH_SEED (default 7), TE_CRASH_WORKLOAD:
# resting (the default, above) or day (the planner's default DAY orders at the sim's
# default participation: orders that end within a session, expiries at every CLOCK).
set -euo pipefail
src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export TE_BUILD_DIR=${TE_BUILD_DIR:-$src/build}
source "$src/ops/stack.sh"
source "$src/ops/pipeline.sh"
source "$src/tests/integration/crash_lib.sh"
top=$(mktemp -d /tmp/te-crash.XXXXXX)
chmod 755 "$top"
cur=
cleanup() {
        local rc=$?
        if [ $rc -ne 0 ] && [ -n "$cur" ]; then
                for f in "$cur"/*.log; do echo "--- $f"; tail -n 8 "$f"; done 2>/dev/null || true
        fi
        [ -n "$cur" ] && { te_pipeline_down "$cur" >/dev/null 2>&1 || true; te_stack_down "$cur" >/dev/null 2>&1 || true; }
        if [ -n "${ref_pid:-}" ]; then # the crash-free run, when it is still going
                kill "$ref_pid" 2>/dev/null || true
                wait "$ref_pid" 2>/dev/null || true
                te_pipeline_down "$top/ref" >/dev/null 2>&1 || true
                te_stack_down "$top/ref" >/dev/null 2>&1 || true
        fi
        [ "${TE_KEEP:-0}" = 1 ] || rm -rf "$top"
        exit $rc
}
trap cleanup EXIT
kills=${TE_CRASH_KILLS:-6}
EO_TERM_EVERY=${TE_CRASH_TERM_EVERY:-2}
case ${TE_CRASH_WORKLOAD:-resting} in
resting)
        EO_PLANNER_OPTS=(-o plan.tif=GTC)
        EO_BROKER_OPTS=(-o sim.participation=0.0005)
        ;;
day)
        EO_PLANNER_OPTS=()
        EO_BROKER_OPTS=()
        ;;
*)
        echo "test_crash: TE_CRASH_WORKLOAD must be resting or day" >&2
        exit 2
        ;;
esac
targets=$src/ops/sample/targets.jsonl
bars=$src/ops/sample/bars.csv

# the crash-free run goes on its own stack beside the crashed one
(eo_run "$top/ref" "$top/out-ref" "$targets" "$bars" 0 4 && te_stack_down "$top/ref") \
        >"$top/ref.out" 2>&1 &
ref_pid=$!
cur=$top/crash
eo_run "$cur" "$top/out-crash" "$targets" "$bars" "$kills" "$kills" "${TE_CRASH_SEED:-7}"
te_stack_down "$cur"
cur=$top/ref
wait "$ref_pid" || { echo "FAIL: the crash-free run failed" >&2; tail -n 20 "$top/ref.out" >&2; exit 1; }
ref_pid=
cur=
cat "$top/out-crash/kills.txt" | awk '{print $2, $3}' | sort | uniq -c | sed 's/^/  stopped: /'
verdict=$(eo_compare "$top/out-ref" "$top/out-crash") || {
        echo "FAIL: the crashed run differs from the crash-free run ($verdict)" >&2
        exit 1
}
n_kills=$(wc -l <"$top/out-crash/kills.txt")
[ "$n_kills" -ge "$kills" ] || { echo "FAIL: only $n_kills stops" >&2; exit 1; }
n_term=$(awk '$2 == "TERM"' "$top/out-crash/kills.txt" | wc -l)
echo "test_crash: ok: kills survived=$n_kills (SIGTERM $n_term)" \
        "$(cat "$top/out-crash/processed.txt")" \
        "trades=$(awk '$1 == "trades" {print $2}' "$top/out-crash/result.txt")" \
        "open_orders=$(awk '$1 == "open_orders" {print $2}' "$top/out-crash/result.txt")" \
        "trades_sha256=$(awk '$1 == "trades_sha256" {print substr($2, 1, 12)}' "$top/out-crash/result.txt")" \
        "$verdict"
