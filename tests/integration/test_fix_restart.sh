#!/usr/bin/env bash
# test_fix_restart: the fix adapter (driven by tests/tools/fix_drive, runtime DB on a
# throwaway PostgreSQL) restarted with an order open at the counterparty
# (tests/tools/fix_acceptor, where orders rest until cancelled).
#   1. fix_drive places O1, O2 and F1; all are acknowledged and left open, F1 gets a
#      fill of 1 (ExecID F-F1), recorded in fix_execs once delivered; it exits.
#   2. A new fix_drive process loads the open orders and their ExecIDs, logs on
#      continuing the sequence numbers, asks their status (OrderStatusRequest with
#      their ClOrdIDs) and cancels O1: the acceptor sees OrigClOrdID O1 and ClOrdID
#      O1:c1, and O1 ends CANCELED (terminal in fix_orders). The acceptor sends F1's
#      fill again after the Logon: it is not published a second time.
#   2b. Another process: O1 ended before it started (fix_orders), so a CANCEL of O1
#      gets no answer (no REJECTED after its CANCELED); one of an order never had
#      does ("unknown order").
#   3. Controls: with fix_execs emptied, the resent fill is published again; with
#      fix_orders emptied, a new process does not know O2: its CANCEL is not sent and
#      is answered REJECTED "cancel refused: unknown order" instead of the order
#      ending CANCELED. So step 2 depends on both tables.
set -euo pipefail
src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export TE_BUILD_DIR=${TE_BUILD_DIR:-$src/build}
fail() { echo "FAIL: $*" >&2; exit 1; }
# shellcheck source=ops/pg.sh
source "$src/ops/pg.sh"
drive=$TE_BUILD_DIR/tests/fix_drive
acc=$TE_BUILD_DIR/tests/fix_acceptor
[ -x "$drive" ] && [ -x "$acc" ] || fail "fix_drive / fix_acceptor not built"

RUN=$(mktemp -d /tmp/te-fix-restart.XXXXXX)
chmod 755 "$RUN" # the PostgreSQL server user reads its directory below it
pid=
cleanup() {
        local rc=$?
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
        te_pg_down "$RUN/pg" >/dev/null 2>&1 || true
        if [ $rc -ne 0 ]; then tail -n 30 "$RUN"/*.log "$RUN"/*.out 2>/dev/null || true; fi
        rm -rf "$RUN"
        exit $rc
}
trap cleanup EXIT

te_pg_up "$RUN/pg" >"$RUN/pg.log" 2>&1 || fail "te_pg_up: $(tail -n 3 "$RUN/pg.log")"
export TE_FIX_DB= # the runtime DB of PG* (set by te_pg_up)
q() { psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -c "$1"; }
"$acc" "$RUN/port" >"$RUN/acceptor.out" 2>"$RUN/acceptor.log" &
pid=$!
deadline=$((SECONDS + 10))
until [ -s "$RUN/port" ]; do
        [ $SECONDS -lt $deadline ] || fail "fix_acceptor did not start"
        sleep 0.05
done
port=$(cat "$RUN/port")

# 1. two orders acknowledged and left open
FIX_DRIVE_UNTIL=4 "$drive" "$port" "$RUN/seqs" O1:BUY:100:LIMIT:DAY:10 \
        O2:SELL:5:LIMIT:GTC:11 F1:BUY:10:LIMIT:DAY:10 >"$RUN/phase1.out" 2>"$RUN/phase1.log" ||
        fail "phase 1 failed"
grep -q '^report O1 ACK NEW ' "$RUN/phase1.out" || fail "phase 1: O1 not acknowledged"
grep -q '^report F1 PARTIAL_FILL PARTIALLY_FILLED 1 1 10 ' "$RUN/phase1.out" ||
        fail "phase 1: F1 not filled"
[ "$(q "SELECT string_agg(order_id || ':' || sent || ':' || terminal || ':' || cum_qty, ' ' ORDER BY order_id) FROM fix_orders")" = \
        "F1:true:false:1 O1:true:false:0 O2:true:false:0" ] || fail "phase 1: fix_orders rows"
# every report's ExecID (three acknowledgements and the fill)
[ "$(q "SELECT count(*), count(*) FILTER (WHERE order_id = 'F1' AND exec_id = 'F-F1') FROM fix_execs")" = "4 1" ] ||
        fail "phase 1: fix_execs"


# 2. a new process: loads the open orders, reconciles them, cancels O1
"$drive" "$port" "$RUN/seqs" CANCEL:O1 >"$RUN/phase2.out" 2>"$RUN/phase2.log" ||
        fail "phase 2: O1 did not end"
grep -q '"event":"fix.loaded","msg":"3 open orders"' "$RUN/phase2.log" ||
        fail "phase 2: open orders not loaded"
grep -q '^report O1 CANCELED CANCELED ' "$RUN/phase2.out" || fail "phase 2: O1 not canceled"
grep -q '^RECV H O1 ' "$RUN/acceptor.out" && grep -q '^RECV H O2 ' "$RUN/acceptor.out" ||
        fail "phase 2: no status request for the loaded orders"
grep -q '^RECV F O1:c1 O1$' "$RUN/acceptor.out" || fail "phase 2: cancel ClOrdIDs"
[ "$(grep -c '^RECV D ' "$RUN/acceptor.out")" = 3 ] || fail "an order was sent twice"
[ "$(grep -c '^SENT F-F1$' "$RUN/acceptor.out")" = 2 ] || fail "phase 2: F1's fill not resent"
if grep -q '^report F1 ' "$RUN/phase2.out"; then
        fail "phase 2: F1's resent fill was published again"
fi
[ "$(q "SELECT string_agg(order_id || ':' || terminal || ':' || n_cancel, ' ' ORDER BY order_id) FROM fix_orders")" = \
        "F1:false:0 O1:true:1 O2:false:0" ] || fail "phase 2: fix_orders rows"

# 2b. a new process: O1 ended before the restart, so a late CANCEL of it needs no
# answer (its CANCELED was the final report); it is neither sent nor answered with a
# REJECTED that would follow CANCELED for the same order. A cancel of an order never
# had (NOPE) is still answered "unknown order" (and ends the run: FIX_DRIVE_UNTIL=1).
FIX_DRIVE_UNTIL=1 "$drive" "$port" "$RUN/seqs" CANCEL:O1 CANCEL:NOPE >"$RUN/phase2b.out" \
        2>"$RUN/phase2b.log" || fail "phase 2b: no answer for NOPE"
grep -q '"event":"fix.ended_loaded","msg":"1 orders ended within 7 days"' "$RUN/phase2b.log" ||
        fail "phase 2b: the ended order was not loaded"
grep -q '^report NOPE REJECTED REJECTED .* cancel refused: unknown order$' "$RUN/phase2b.out" ||
        fail "phase 2b: NOPE's cancel not refused as unknown"
if grep -q '^report O1 ' "$RUN/phase2b.out"; then
        fail "phase 2b: a report for O1 after it ended: $(grep '^report O1 ' "$RUN/phase2b.out")"
fi
if grep -q '^RECV F O1:c2 ' "$RUN/acceptor.out"; then
        fail "phase 2b: a second cancel of the ended O1 was sent"
fi

# 3. controls: without fix_execs the resent fill is published again ...
q "DELETE FROM fix_execs" >/dev/null
FIX_DRIVE_UNTIL=1 "$drive" "$port" "$RUN/seqs" >"$RUN/phase3a.out" 2>"$RUN/phase3a.log" ||
        fail "control: no report without fix_execs"
grep -q '^report F1 PARTIAL_FILL ' "$RUN/phase3a.out" ||
        fail "control: the resent fill was not published without fix_execs"
logons=$(grep -c '^RECV A ' "$RUN/acceptor.out")
# ... and without fix_orders the order is unknown: its cancel is refused, not sent
q "DELETE FROM fix_orders" >/dev/null
"$drive" "$port" "$RUN/seqs" CANCEL:O2 >"$RUN/phase3.out" 2>"$RUN/phase3.log" ||
        fail "control: the cancel of an unknown O2 was not answered"
grep -q '^report O2 REJECTED REJECTED .* cancel refused: unknown order$' "$RUN/phase3.out" ||
        fail "control: O2's cancel not refused as unknown"
if grep -q '^report O2 CANCELED' "$RUN/phase3.out"; then
        fail "control: O2 ended CANCELED without its row"
fi
[ "$(grep -c '^RECV A ' "$RUN/acceptor.out")" = $((logons + 1)) ] || fail "control: no logon"
if grep -q '^RECV F O2' "$RUN/acceptor.out"; then
        fail "control: a cancel for O2 was sent without its row"
fi
echo "PASS test_fix_restart"
