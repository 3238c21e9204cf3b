#!/usr/bin/env bash
# test_fix_executor: the fix adapter (brokers/broker_fix.c, driven by
# tests/tools/fix_drive without Kafka) against QuickFIX's own `executor` example
# acceptor, built here from the sources Debian ships in libquickfix-doc and linked
# with libquickfix-dev (nothing of QuickFIX is in our tree).
#
# The executor fills every LIMIT order at once at its limit price and refuses any
# other order type with a session Reject (35=3, tag 40). So:
#   1. LIMIT orders with each TimeInForce, both sides, are FILLED at their price;
#      MARKET, STOP and STOP_LIMIT are REJECTED with the counterparty's reason; a
#      LIMIT without a price is REJECTED before it is sent; every report id differs.
#   2. A second adapter process logs on and trades, continuing the sequence numbers
#      the first kept in the runtime DB (a throwaway PostgreSQL, table fix_sessions,
#      which must hold what the adapter last used); QuickFIX keeps its own numbers in
#      its FileStore.
#   3. Control: starting again from 1/1 instead (no DB), QuickFIX refuses the Logon
#      ("MsgSeqNum too low") and the adapter reports it, so step 2 passing depends on
#      the numbers carried over.
set -euo pipefail
src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export TE_BUILD_DIR=${TE_BUILD_DIR:-$src/build}
fail() { echo "FAIL: $*" >&2; exit 1; }
# shellcheck source=ops/pg.sh
source "$src/ops/pg.sh"

drive=$TE_BUILD_DIR/tests/fix_drive
[ -x "$drive" ] || fail "$drive not built"

RUN=$(mktemp -d /tmp/te-fix-exec.XXXXXX)
chmod 755 "$RUN" # the PostgreSQL server user reads its directory below it
pid=
cleanup() {
        local rc=$?
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
        te_pg_down "$RUN/pg" >/dev/null 2>&1 || true
        if [ $rc -ne 0 ]; then tail -n 40 "$RUN"/*.log "$RUN"/*.out 2>/dev/null || true; fi
        rm -rf "$RUN"
        exit $rc
}
trap cleanup EXIT

# shellcheck source=tests/integration/fix_lib.sh
source "$src/tests/integration/fix_lib.sh"
qfx_build executor
qfx_start executor
pid=$QFX_PID
port=$QFX_PORT

te_pg_up "$RUN/pg" >"$RUN/pg.log" 2>&1 || fail "te_pg_up: $(tail -n 3 "$RUN/pg.log")"
export TE_FIX_DB= # the runtime DB of PG* (set by te_pg_up)
q() { psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -c "$1"; }

# fix_drive retries the connection until the executor listens (10 s at most)
seqs=$RUN/seqs
"$drive" "$port" "$seqs" \
        L_DAY:BUY:100:LIMIT:DAY:187.25 L_GTC:SELL:50:LIMIT:GTC:410.5 \
        L_IOC:BUY:3:LIMIT:IOC:10.125 L_FOK:SELL:4:LIMIT:FOK:11 \
        L_OPG:BUY:5:LIMIT:OPG:12.5 L_CLS:SELL:6:LIMIT:CLS:13 \
        MKT:BUY:10:MARKET:DAY STP:SELL:10:STOP:GTC::190 \
        STL:BUY:10:STOP_LIMIT:DAY:191:190 NOPX:BUY:1:LIMIT:DAY \
        >"$RUN/phase1.out" 2>"$RUN/phase1.log" || fail "phase 1: fix_drive failed"
grep -q '^logged_on$' "$RUN/phase1.out" || fail "phase 1: no logon"
got=$(awk '$1 == "report" { print $2, $3, $4, $5, $6, $7 }' "$RUN/phase1.out" | sort)
want=$(sort <<'EOF'
L_DAY FILL FILLED 100 100 187.25
L_GTC FILL FILLED 50 50 410.5
L_IOC FILL FILLED 3 3 10.125
L_FOK FILL FILLED 4 4 11
L_OPG FILL FILLED 5 5 12.5
L_CLS FILL FILLED 6 6 13
MKT REJECTED REJECTED 0 0 0
STP REJECTED REJECTED 0 0 0
STL REJECTED REJECTED 0 0 0
NOPX REJECTED REJECTED 0 0 0
EOF
)
[ "$got" = "$want" ] || fail "phase 1 reports differ:
got:
$got
want:
$want"
# the counterparty's reason travels with its rejects; ours with the local one
grep -E '^report MKT .*refused by the counterparty.*tag' "$RUN/phase1.out" >/dev/null ||
        fail "MKT reject without the counterparty's reason"
grep -E '^report NOPX .*needs a positive limit price' "$RUN/phase1.out" >/dev/null ||
        fail "NOPX reject without its reason"
dups=$(awk '$1 == "report" { print $8 }' "$RUN/phase1.out" | sort | uniq -d)
[ -z "$dups" ] || fail "report ids used twice: $dups"
read -r out1 in1 < <(awk '$1 == "seqs" { print $2, $3 }' "$RUN/phase1.out")
[ "$out1" -ge 11 ] || fail "phase 1 next_out $out1 (10 orders sent, or a Logon, should pass 11)"
[ "$(q "SELECT next_out, next_in FROM fix_sessions WHERE sender_comp_id = 'TE' AND target_comp_id = 'EXECUTOR'")" = "$out1 $in1" ] ||
        fail "phase 1: fix_sessions does not hold $out1 $in1"

# 2. a new adapter process: the numbers come from the DB only
rm -f "$seqs"
"$drive" "$port" "$seqs" R1:BUY:7:LIMIT:DAY:99.5 >"$RUN/phase2.out" 2>"$RUN/phase2.log" ||
        fail "phase 2 (restart from the saved sequence numbers): fix_drive failed"
grep -q '^report R1 FILL FILLED 7 7 99.5 ' "$RUN/phase2.out" || fail "phase 2: R1 not filled"
read -r out2 in2 < <(awk '$1 == "seqs" { print $2, $3 }' "$RUN/phase2.out")
[ "$out2" -gt "$out1" ] && [ "$in2" -gt "$in1" ] ||
        fail "phase 2 numbers did not continue: $out1/$in1 -> $out2/$in2"
[ "$(q "SELECT next_out, next_in FROM fix_sessions")" = "$out2 $in2" ] ||
        fail "phase 2: fix_sessions does not hold $out2 $in2"
if grep -q 'MsgSeqNum too low' "$RUN/executor.log"; then
        fail "the executor saw a MsgSeqNum too low before the control step"
fi

# 3. control: the same with numbers starting over (no DB) must be refused
unset TE_FIX_DB
echo "1 1" >"$RUN/seqs0"
if "$drive" "$port" "$RUN/seqs0" R2:BUY:1:LIMIT:DAY:1 >"$RUN/phase3.out" 2>"$RUN/phase3.log"; then
        fail "control: logging on with MsgSeqNum 1 again was accepted"
fi
grep -q 'MsgSeqNum too low' "$RUN/executor.log" ||
        fail "control: the executor did not refuse a MsgSeqNum too low"
grep -q 'Logon refused by the counterparty: MsgSeqNum too low' "$RUN/phase3.log" ||
        fail "control: the adapter did not report the refused Logon"
echo "PASS test_fix_executor (${out2}/${in2} after restart)"
