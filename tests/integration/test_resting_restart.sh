#!/usr/bin/env bash
# test_resting_restart: a broker stop forgets no resting order. The sample backtest runs
# with orders that rest for days (plan.tif=GTC, sim.participation=0.0005: 0.05% of a
# bar's volume per bar), once without a stop and once while the broker worker, holding
# its partitions and with orders part-filled, is stopped TE_RESTING_STOPS times
# (default 4), SIGTERM and kill -9 in turn, and restarted at once. The two runs must
# book the same trades (sha256, none lost, none duplicated), leave the same orders open
# with the same filled quantities, and exec-dbtool check must pass. Before the worker
# rebuilt its book by replay, the first stop left the part-filled orders open for
# good, later fills were lost and CANCELs met "unknown order".
set -euo pipefail
src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export TE_BUILD_DIR=${TE_BUILD_DIR:-$src/build}
source "$src/ops/stack.sh"
source "$src/ops/pipeline.sh"
source "$src/tests/integration/crash_lib.sh"
top=$(mktemp -d /tmp/te-resting.XXXXXX)
chmod 755 "$top"
cur=
cleanup() {
        local rc=$?
        if [ $rc -ne 0 ] && [ -n "$cur" ]; then
                for f in "$cur"/*.log; do echo "--- $f"; tail -n 8 "$f"; done 2>/dev/null || true
        fi
        [ -n "$cur" ] && { te_pipeline_down "$cur" >/dev/null 2>&1 || true; te_stack_down "$cur" >/dev/null 2>&1 || true; }
        if [ -n "${ref_pid:-}" ]; then
                kill "$ref_pid" 2>/dev/null || true
                wait "$ref_pid" 2>/dev/null || true
                te_pipeline_down "$top/ref" >/dev/null 2>&1 || true
                te_stack_down "$top/ref" >/dev/null 2>&1 || true
        fi
        [ "${TE_KEEP:-0}" = 1 ] || rm -rf "$top"
        exit $rc
}
trap cleanup EXIT
stops=${TE_RESTING_STOPS:-4}
targets=$src/ops/sample/targets.jsonl
bars=$src/ops/sample/bars.csv
EO_PLANNER_OPTS=(-o plan.tif=GTC)
EO_BROKER_OPTS=(-o sim.participation=0.0005)
EO_VICTIMS=broker
EO_TERM_EVERY=2 # SIGTERM, kill -9, SIGTERM, ...: k = 1, 3, ... are SIGTERMs

(eo_run "$top/ref" "$top/out-ref" "$targets" "$bars" 0 4 && te_stack_down "$top/ref") \
        >"$top/ref.out" 2>&1 &
ref_pid=$!
cur=$top/stop
eo_run "$cur" "$top/out-stop" "$targets" "$bars" "$stops" "$stops" "${TE_RESTING_SEED:-5}"
# the stopped worker must have found open orders to rebuild at least once
rebuilds=$(grep -c '"broker.rebuild"' "$cur/broker.log" || true)
te_stack_down "$cur"
cur=$top/ref
wait "$ref_pid" || { echo "FAIL: the run without stops failed" >&2; tail -n 20 "$top/ref.out" >&2; exit 1; }
ref_pid=
cur=
open=$(awk '$1 == "open_orders" {print $2}' "$top/out-ref/result.txt")
[ "${open:-0}" -gt 0 ] || { echo "FAIL: no order rests at the end: not a resting workload" >&2; exit 1; }
verdict=$(eo_compare "$top/out-ref" "$top/out-stop") || {
        echo "FAIL: the run with broker stops differs from the run without ($verdict)" >&2
        diff <(cat "$top/out-ref/open.txt") <(cat "$top/out-stop/open.txt") | head -n 20 >&2 || true
        exit 1
}
n=$(wc -l <"$top/out-stop/kills.txt")
[ "$n" -ge "$stops" ] || { echo "FAIL: only $n stops" >&2; exit 1; }
[ "$rebuilds" -gt 0 ] || { echo "FAIL: no stop found an open order to rebuild" >&2; exit 1; }
echo "test_resting_restart: ok: broker stops=$n rebuilds=$rebuilds open_orders=$open" \
        "trades=$(awk '$1 == "trades" {print $2}' "$top/out-stop/result.txt") $verdict"
