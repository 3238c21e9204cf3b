# shellcheck shell=bash
# eo_fault_lib.sh: helpers of the fault tests (test_fault_*.sh, test_hostile.sh).
# Source after ops/stack.sh and ops/pipeline.sh; needs RUN (a stack dir) and
# TE_BUILD_DIR.

eo_fail() { echo "FAIL: $*" >&2; exit 1; }
eo_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
# eo_wait DESCRIPTION TIMEOUT_S COMMAND...: poll COMMAND until it succeeds
eo_wait() {
        local what=$1 secs=$2 deadline=$((SECONDS + $2))
        shift 2
        until "$@"; do
                [ $SECONDS -lt $deadline ] || eo_fail "timed out after ${secs}s waiting for $what"
                sleep 0.1
        done
}
# eo_has FILE A B: some line of FILE holds both fixed strings A and B. Not
# `grep A FILE | grep -q B`: under pipefail, grep -q leaving at its first match can kill
# the first grep with SIGPIPE (its output is written in chunks) and fail the pipeline
# although the line is there. grep -c reads everything.
eo_has() {
        local n
        n=$(grep -F -- "$2" "$1" | grep -c -F -- "$3") || true
        [ "${n:-0}" -ge 1 ]
}
# eo_topic_json TOPIC: every message of TOPIC as JSON lines (exec-tail)
eo_topic_json() {
        "$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t "$1" --from-beginning \
                --exit-at-end 2>/dev/null
}
# eo_fill_ids: the distinct report ids of fills on exec.reports, sorted
eo_fill_ids() {
        eo_topic_json exec.reports | python3 -c '
import json, sys
ids = set()
for line in sys.stdin:
    v = json.loads(line).get("value") or {}
    if v.get("exec_type") in ("FILL", "PARTIAL_FILL") and v.get("last_qty", 0) > 0:
        ids.add(v["report_id"])
print("\n".join(sorted(ids)))'
}
# eo_assert_books_exact: every fill on exec.reports is exactly one trade, nothing else
# is, and exec-dbtool check passes (positions, cash, average cost, exactly-once views).
eo_assert_books_exact() {
        eo_fill_ids >"$RUN/fills.txt"
        eo_q "SELECT trade_id FROM trades ORDER BY 1" >"$RUN/trade_ids.txt"
        LC_ALL=C sort -o "$RUN/fills.txt" "$RUN/fills.txt"
        LC_ALL=C sort -o "$RUN/trade_ids.txt" "$RUN/trade_ids.txt"
        local lost dup
        lost=$(comm -23 "$RUN/fills.txt" "$RUN/trade_ids.txt" | grep -c . || true)
        dup=$(comm -13 "$RUN/fills.txt" "$RUN/trade_ids.txt" | grep -c . || true)
        [ "$lost" = 0 ] && [ "$dup" = 0 ] || eo_fail "fills vs trades: lost=$lost extra=$dup"
        [ -s "$RUN/fills.txt" ] || eo_fail "no fills at all"
        "$TE_BUILD_DIR/exec-dbtool" check >"$RUN/check.txt" 2>&1 || {
                cat "$RUN/check.txt" >&2
                eo_fail "exec-dbtool check"
        }
        echo "books exact: $(wc -l <"$RUN/fills.txt") fills = trades, lost=0 duplicates=0, check ok"
}
# eo_no_secrets: no log line carries a conninfo or password
eo_no_secrets() {
        if grep -l -i -E 'password|host=|user=|dbname=' "$RUN"/*.log 2>/dev/null | grep -v 'pg/log'; then
                eo_fail "a log shows connection details"
        fi
}
