#!/usr/bin/env bash
# test_fix_faults_qf: Kafka -> exec-broker (adapter=fix) -> exec-sink against
# tests/tools/fix_qf_acceptor, a scripted counterparty whose session layer is
# QuickFIX's (libquickfix) and whose order handling is chosen by each order's Symbol.
# The scenarios run in turn on one stack:
#   partial fills over time; a reject; a cancel racing a fill (half filled, then the
#   cancel; and all filled, then OrderCancelReject); a replace refused (35=9); a
#   duplicate ExecutionReport with PossDupFlag=Y and OrigSendingTime, and one without
#   OrigSendingTime (answered with a session Reject 373=1 371=122); garbage bytes
#   before a fill; a gap in QuickFIX's numbers (one ResendRequest, the fill arrives
#   once); the connection dropped and the order filled while we are away (QuickFIX
#   resends the stored reports), or filled silently (only the OrderStatusRequest of
#   the reconciliation shows it); QuickFIX resetting the sequence numbers in the
#   running session (Logon 141=Y: we answer with ours at 1 and go on; the
#   reconciliation's OrderMassStatusRequest is refused by QuickFIX with a
#   BusinessMessageReject and the adapter asks order by order from then on); Logons
#   refused for a while, an order published
#   meanwhile goes out once afterwards; exec-broker killed (-9) in the middle of
#   fills and started again (orders and fills neither lost nor doubled, the sequence
#   numbers continue with no reset, at most one ResendRequest per gap; started again
#   with fix.mass_status=on: one OrderMassStatusRequest reconciles); fills during an
#   outage reconciled by one OrderMassStatusRequest (an order it does not list by its
#   own 35=H); and last,
#   exec-broker started with an outgoing number the counterparty has passed: QuickFIX
#   refuses the Logon ("MsgSeqNum too low") once, the adapter raises a CRITICAL
#   fix_seq_too_low Alert and does not try again.
# After all of it, for every order the trades rows and the fill reports on
# exec.reports equal the fills in the acceptor's log (by ExecID; a silent fill counts
# once): nothing lost, nothing twice.
source "$(dirname "$0")/prologue.sh" fix-faults-qf
source "$here/ibkr_lib.sh"     # q, ibkr_publish, ibkr_wait_sql, ibkr_wait_log, ibkr_stop*
source "$here/eo_fault_lib.sh" # eo_topic_json, eo_has
TE_TEST_LOG_LINES=40
acc=$TE_BUILD_DIR/tests/fix_qf_acceptor
if [ ! -x "$acc" ]; then
        echo "SKIP: $acc not built (libquickfix-dev missing: ops/install-deps)"
        exit 77
fi
APID=
te_test_cleanup_extra() {
        ibkr_stop_all
        if [ -n "$APID" ]; then
                kill "$APID" 2>/dev/null || true
                wait "$APID" 2>/dev/null || true
        fi
        if [ -n "${FIX_QF_KEEP_LOG:-}" ]; then cp "$alog" "$FIX_QF_KEEP_LOG" 2>/dev/null || true; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
alog=$RUN/acc.log
# acc_wait REGEX TIMEOUT_S: until a line of the acceptor's log matches
acc_wait() {
        local deadline=$((SECONDS + $2))
        until grep -Eq -- "$1" "$alog" 2>/dev/null; do
                [ $SECONDS -lt $deadline ] || fail "acceptor log: no '$1' after $2 s"
                sleep 0.05
        done
}
acc_count() { grep -Ec -- "$1" "$alog" || true; }
# mark: the line count of the acceptor's log now; since N REGEX: matches after it
mark() { wc -l <"$alog"; }
since() { tail -n +"$(($1 + 1))" "$alog" | grep -Ec -- "$2" || true; }
status_of() { q "SELECT status FROM orders WHERE order_id = '$1'"; }

te_stack_up "$RUN" >/dev/null
"$TE_BUILD_DIR/exec-devstack-ctl" --ctl "$RUN/ctl" create_topic orders.fq 4 >/dev/null
mkdir -p "$RUN/qf.store" "$RUN/qf.logs" "$RUN/qfctl"
qf_port=$(free_port)
port=$(free_port)
cat >"$RUN/qf.cfg" <<CFG
[DEFAULT]
ConnectionType=acceptor
SocketAcceptPort=$qf_port
SocketReuseAddress=Y
FileStorePath=$RUN/qf.store
FileLogPath=$RUN/qf.logs
StartTime=00:00:00
EndTime=00:00:00
UseDataDictionary=N
SenderCompID=EXECUTOR

[SESSION]
BeginString=FIX.4.4
TargetCompID=TE
CFG
"$acc" "$RUN/qf.cfg" "$alog" "$RUN/qfctl" "$port" "$qf_port" 2>"$RUN/acc.err" &
APID=$!
acc_wait '^READY$' 10
te_pipeline_start "$RUN" sink exec-sink
fix_broker() {
        te_pipeline_start "$RUN" broker exec-broker -o adapter=fix -o fix.port="$port" \
                -o fix.sender_comp_id=TE -o fix.target_comp_id=EXECUTOR -o fix.account=ACC1 \
                -o fix.tifs=DAY,GTC,IOC -o group.id=fix-faults -o topic.orders=orders.fq \
                -o broker.name=fix -o commit.interval.ms=100 -o fix.reconnect_min_ms=100 \
                -o fix.reconnect_max_ms=400 -o log.level=debug "$@"
}
# fix.mass_status=on from the start, but QuickFIX refuses 35=AF (a BusinessMessageReject)
# until CTLDIR/mass_status exists: the first reconciliation with open orders (after
# the reset below) falls back to 35=H, and so do the later ones of this process
fix_broker -o fix.mass_status=on
ibkr_wait_log sink sink.assigned 30 || fail "sink not assigned"
ibkr_wait_log broker fix.ready 30 || fail "adapter not logged on"

# -- partial fills over time, a reject -----------------------------------------
ibkr_publish orders.fq <<'EOF'
NEW q-part pf-fq PART1 BUY 90 LIMIT 10 - DAY
NEW q-rej pf-fq REJ1 BUY 10 LIMIT 10 - DAY
EOF
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'q-rej'" REJECTED 30 || fail "q-rej"
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'q-part'" FILLED 30 || fail "q-part"
[ "$(q "SELECT string_agg(size::float8 || '@' || price::float8, ' ' ORDER BY size) FROM trades WHERE order_id = 'q-part'")" = \
        "30@10 30@10 30@10" ] || fail "q-part: trades"
[ "$(q "SELECT count(*) FROM order_events WHERE order_id = 'q-rej' AND reason LIKE '%scripted reject%'")" = 1 ] ||
        fail "q-rej: the counterparty's reason is not in its report"

# -- a cancel racing a fill ----------------------------------------------------
ibkr_publish orders.fq <<'EOF'
NEW q-race pf-fq RACE1 BUY 100 LIMIT 10 - DAY
NEW q-racef pf-fq RACEF1 SELL 40 LIMIT 12 - DAY
NEW q-norep pf-fq NOREP1 BUY 10 LIMIT 10 - DAY
EOF
ibkr_wait_sql "SELECT count(*) FROM orders WHERE order_id IN ('q-race', 'q-racef', 'q-norep') AND status = 'NEW'" \
        3 30 || fail "race/norep orders not acknowledged"
ibkr_publish orders.fq <<'EOF'
CANCEL q-race pf-fq RACE1 BUY 100
CANCEL q-racef pf-fq RACEF1 SELL 40
REPLACE q-norep pf-fq NOREP1 BUY 20 LIMIT 11 - DAY
EOF
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'q-race'" CANCELED 30 || fail "q-race not canceled"
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'q-racef'" FILLED 30 || fail "q-racef not filled"
[ "$(q "SELECT string_agg(size::float8 || '@' || price::float8, ' ') FROM trades WHERE order_id = 'q-race'")" = "50@10" ] ||
        fail "q-race: trades"
[ "$(q "SELECT string_agg(size::float8 || '@' || price::float8, ' ') FROM trades WHERE order_id = 'q-racef'")" = "40@12" ] ||
        fail "q-racef: trades"
acc_wait '^CXLREJ q-racef:c1 q-racef 1$' 10
eo_wait "cancel_refused alert" 20 grep -q '"event":"fix.alert".*cancel_refused' "$RUN/broker.log"

# -- a replace refused (35=9), then a cancel of the same order ------------------
acc_wait '^CXLREJ q-norep:r1 q-norep 2$' 20
eo_wait "replace_refused alert" 20 grep -q '"event":"fix.alert".*replace_refused' "$RUN/broker.log"
ibkr_publish orders.fq <<'EOF'
CANCEL q-norep pf-fq NOREP1 BUY 10
EOF
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'q-norep'" CANCELED 30 || fail "q-norep not canceled"
# the refused replace reached the planner as a REJECTED report with the live status
[ "$(q "SELECT count(*) FROM order_events WHERE order_id = 'q-norep' AND exec_type = 'REJECTED'
        AND order_status = 'NEW' AND reason LIKE 'replace refused%'")" = 1 ] ||
        fail "q-norep: no REJECTED report for the refused replace"
[ "$(q "SELECT count(*) FROM trades WHERE order_id = 'q-norep'")" = 0 ] || fail "q-norep traded"

# -- duplicate reports, garbage, a gap in their numbers --------------------------
m0=$(mark)
ibkr_publish orders.fq <<'EOF'
NEW q-dup pf-fq DUP1 BUY 10 LIMIT 10 - DAY
NEW q-dupx pf-fq DUPX1 BUY 11 LIMIT 10 - DAY
NEW q-garb pf-fq GARB1 SELL 12 LIMIT 13 - DAY
EOF
acc_wait '^DUP E[0-9]+ q-dup with$' 20
acc_wait '^DUP E[0-9]+ q-dupx without$' 20
acc_wait '^GARBAGE ' 20
ibkr_wait_sql "SELECT count(*) FROM orders WHERE order_id IN ('q-dup', 'q-dupx', 'q-garb') AND status = 'FILLED'" \
        3 30 || fail "dup/garb orders not filled"
# the malformed duplicate is refused at the session level (RefTagID OrigSendingTime)
acc_wait '^IN 3 [0-9]+ 45=[0-9]+ 373=1 371=122$' 20
eo_wait "garbled frame alert" 20 grep -q '"event":"fix.alert".*garbled frame' "$RUN/broker.log"
ibkr_publish orders.fq <<'EOF'
NEW q-gap pf-fq GAP1 BUY 10 LIMIT 10 - DAY
EOF
acc_wait '^SKIP 3$' 20
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'q-gap'" FILLED 30 || fail "q-gap not filled"
acc_wait '^IN 2 ' 20
[ "$(since "$m0" '^IN 2 ')" = 1 ] || fail "one gap, $(since "$m0" '^IN 2 ') ResendRequests"
[ "$(since "$m0" '^OUT 4 ')" -ge 1 ] || fail "QuickFIX sent no SequenceReset-GapFill"

# -- QuickFIX resets the sequence numbers in the running session (Logon 141=Y) ----
mr=$(mark)
ibkr_publish orders.fq <<'EOF'
NEW q-reset pf-fq RESET1 BUY 6 LIMIT 10 - DAY
EOF
acc_wait '^RESET$' 20
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'q-reset'" FILLED 30 || fail "q-reset not filled"
# our answer: a Logon with 141=Y at MsgSeqNum 1; the session goes on, nothing dropped
[ "$(since "$mr" '^IN A 1 141=Y$')" = 1 ] || fail "no Logon 141=Y at 1 in answer to the reset"
[ "$(since "$mr" '^LOGOUT$')" = 0 ] || fail "the session ended over the reset"
eo_wait "reset alert" 20 grep -q '"event":"fix.alert".*reset the sequence numbers' "$RUN/broker.log"
# the reconciliation after the reset: 35=AF refused by QuickFIX, then 35=H for q-reset
[ "$(since "$mr" '^MASS_REFUSED ')" = 1 ] || fail "reset: $(since "$mr" '^MASS_REFUSED ') refused 35=AF"
[ "$(since "$mr" '^RECV H q-reset ')" = 1 ] || fail "reset: no 35=H after the refused 35=AF"
eo_wait "mass_status_refused alert" 20 grep -q '"event":"fix.alert".*mass_status_refused' "$RUN/broker.log"
read -r rout rin < <(q "SELECT next_out, next_in FROM fix_sessions WHERE sender_comp_id = 'TE'")
[ "$rout" -lt 10 ] && [ "$rin" -lt 10 ] || fail "numbers not reset in fix_sessions: $rout/$rin"

# -- the connection dropped, fills during the outage ----------------------------
m1=$(mark)
ibkr_publish orders.fq <<'EOF'
NEW q-out pf-fq OUT1 BUY 100 LIMIT 10 - DAY
EOF
acc_wait '^DROP$' 20
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'q-out'" FILLED 30 || fail "q-out not filled"
acc_wait '^RECV H q-out ' 20 # reconciled after the new Logon
[ "$(q "SELECT string_agg(size::float8 || '@' || price::float8, ' ') FROM trades WHERE order_id = 'q-out'")" = "50@10 50@10" ] ||
        fail "q-out: trades"
[ "$(since "$m1" '^IN 2 ')" = 1 ] || fail "q-out: $(since "$m1" '^IN 2 ') ResendRequests for one gap"
m2=$(mark)
ibkr_publish orders.fq <<'EOF'
NEW q-outh pf-fq OUTH1 SELL 20 LIMIT 15 - DAY
EOF
acc_wait '^SILENT_FILL q-outh 20 15$' 20
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'q-outh'" FILLED 30 || fail "q-outh not filled"
acc_wait '^RECV H q-outh ' 20
[ "$(q "SELECT string_agg(size::float8 || '@' || price::float8, ' ') FROM trades WHERE order_id = 'q-outh'")" = "20@15" ] ||
        fail "q-outh: trades"
[ "$(since "$m2" '^IN 2 ')" -le 1 ] || fail "q-outh: more than one ResendRequest"

# -- Logons refused for a while; an order published meanwhile goes out once ------
echo "scripted: trading halted" >"$RUN/qfctl/refuse_logon"
m3=$(mark)
ibkr_publish orders.fq <<'EOF'
NEW q-outh2 pf-fq OUTH2 BUY 5 LIMIT 7 - DAY
EOF
acc_wait '^SILENT_FILL q-outh2 ' 20
acc_wait '^REFUSE_LOGON scripted: trading halted$' 20
eo_wait "refused logon alert" 20 grep -q '"event":"fix.alert".*Logon refused by the counterparty: Rejected Logon Attempt: scripted: trading halted' "$RUN/broker.log"
ibkr_publish orders.fq <<'EOF'
NEW q-after pf-fq FILL1 BUY 3 LIMIT 9 - DAY
EOF
# a second refusal after the order was published: it waits for the session
n=$(since "$m3" '^REFUSE_LOGON')
acc_wait_more() { [ "$(since "$m3" '^REFUSE_LOGON')" -gt "$n" ]; }
eo_wait "another refused Logon" 20 acc_wait_more
[ "$(status_of q-after)" != FILLED ] || fail "q-after filled while no session"
rm -f "$RUN/qfctl/refuse_logon"
ibkr_wait_sql "SELECT count(*) FROM orders WHERE order_id IN ('q-outh2', 'q-after') AND status = 'FILLED'" \
        2 30 || fail "after the refusals: q-outh2/q-after not filled"
[ "$(acc_count '^RECV D q-after ')" = 1 ] || fail "q-after sent $(acc_count '^RECV D q-after ') times"
if grep -q 'MsgSeqNum too low' "$RUN"/qf.logs/*.event.log; then
        fail "QuickFIX saw a MsgSeqNum too low"
fi

# -- kill -9 of exec-broker in the middle of fills --------------------------------
read -r out1 in1 < <(q "SELECT next_out, next_in FROM fix_sessions WHERE sender_comp_id = 'TE'")
m4=$(mark)
ibkr_publish orders.fq <<'EOF'
NEW q-slow1 pf-fq SLOW1 BUY 60 LIMIT 10 - DAY
NEW q-slow2 pf-fq SLOW2 SELL 60 LIMIT 11 - DAY
EOF
# some fills delivered to Kafka (recorded in fix_execs), not all
delivered_sql="SELECT count(*) FROM fix_execs x WHERE order_id IN ('q-slow1', 'q-slow2')"
ibkr_wait_sql "SELECT ($delivered_sql) > 2" t 30 || fail "no fill delivered before the kill"
pid=$(cat "$RUN/broker.pid")
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
rm -f "$RUN/broker.pid"
delivered=$(q "$delivered_sql")
acc_wait_logout() { [ "$(since "$m4" '^LOGOUT$')" -ge 1 ]; }
eo_wait "QuickFIX to see the connection gone" 20 acc_wait_logout
# fills happen while the worker is down (QuickFIX stores them), and an order is
# published meanwhile
mk=$(mark)
outage_fill() { [ "$(since "$mk" '^ER E[0-9]+ q-slow[12] F ')" -ge 1 ]; }
eo_wait "a fill during the outage" 20 outage_fill
ibkr_publish orders.fq <<'EOF'
NEW q-during pf-fq FILL2 SELL 4 LIMIT 8 - DAY
EOF
# started again with fix.mass_status=on (QuickFIX answering 35=AF from now on): the
# open orders it loaded are reconciled by one OrderMassStatusRequest
touch "$RUN/qfctl/mass_status"
fix_broker -o fix.mass_status=on
ibkr_wait_log broker fix.seqs_loaded 30 || fail "the restarted adapter did not load its numbers"
ibkr_wait_sql "SELECT count(*) FROM orders WHERE order_id IN ('q-slow1', 'q-slow2', 'q-during') AND status = 'FILLED'" \
        3 60 || fail "after the restart: not every order filled"
[ "$(q "SELECT string_agg(order_id || '=' || n || 'x' || s, ' ' ORDER BY order_id) FROM (SELECT order_id,
        count(*) AS n, sum(size)::int AS s FROM trades WHERE order_id LIKE 'q-slow%' GROUP BY 1) t")" = \
        "q-slow1=6x60 q-slow2=6x60" ] || fail "after the restart: slow trades"
for o in q-slow1 q-slow2 q-during; do
        [ "$(acc_count "^RECV D $o ")" = 1 ] || fail "$o reached the counterparty $(acc_count "^RECV D $o ") times"
done
[ "$(since "$m4" '^RECV AF ')" = 1 ] || fail "after the restart: $(since "$m4" '^RECV AF ') OrderMassStatusRequests"
read -r out2 in2 < <(q "SELECT next_out, next_in FROM fix_sessions WHERE sender_comp_id = 'TE'")
[ "$out2" -gt "$out1" ] && [ "$in2" -gt "$in1" ] || fail "numbers did not continue: $out1/$in1 -> $out2/$in2"
[ "$(since "$m4" '^IN A .* 141=Y$')" = 0 ] || fail "a Logon reset the sequence numbers"
[ "$(since "$m4" '^IN 2 ')" -le 1 ] || fail "ResendRequest storm: $(since "$m4" '^IN 2 ') after the restart"
if grep -q 'MsgSeqNum too low' "$RUN"/qf.logs/*.event.log; then
        fail "QuickFIX saw a MsgSeqNum too low after the restart"
fi

# -- reconciliation by OrderMassStatusRequest (fix.mass_status = on since the restart)
# q-mrest rests; q-outm drops the connection, and while we are away half of q-outm
# (still live) and all of q-mrest are filled silently. After the Logon one 35=AF: its
# answer lists q-outm (the fill booked from it), q-mrest is no longer live and not
# listed, so its own 35=H finds its fill; the rest of q-outm is filled normally
# afterwards.
ibkr_publish orders.fq <<'EOF'
NEW q-mrest pf-fq MREST1 BUY 8 LIMIT 10 - DAY
EOF
ibkr_wait_sql "SELECT status FROM orders WHERE order_id = 'q-mrest'" NEW 30 || fail "q-mrest not acknowledged"
m6=$(mark)
ibkr_publish orders.fq <<'EOF'
NEW q-outm pf-fq OUTM1 SELL 50 LIMIT 10 - DAY
EOF
acc_wait '^SILENT_FILL q-outm 25 10$' 20
ibkr_wait_sql "SELECT count(*) FROM orders WHERE order_id IN ('q-outm', 'q-mrest') AND status = 'FILLED'" \
        2 30 || fail "mass status: q-outm/q-mrest not filled"
[ "$(since "$m6" '^RECV AF ')" = 1 ] || fail "mass status: $(since "$m6" '^RECV AF ') OrderMassStatusRequests"
[ "$(since "$m6" '^MASS [^ ]+ 1$')" = 1 ] || fail "mass status: the answer did not list exactly q-outm"
[ "$(since "$m6" '^RECV H q-mrest ')" = 1 ] || fail "mass status: q-mrest, not listed, was not asked by itself"
[ "$(since "$m6" '^RECV H q-outm ')" = 0 ] || fail "mass status: q-outm asked by itself although listed"
outm=$(q "SELECT string_agg(size::float8 || '@' || price::float8, ' ') FROM trades WHERE order_id = 'q-outm'")
[ "$outm" = "25@10 25@10" ] || fail "q-outm: trades $outm"
mrest=$(q "SELECT string_agg(size::float8 || '@' || price::float8, ' ') FROM trades WHERE order_id = 'q-mrest'")
[ "$mrest" = "8@10" ] || fail "q-mrest: trades $mrest"

# -- every order: trades and published fills equal the acceptor's fills ----------
eo_topic_json exec.reports >"$RUN/reports.jsonl"
python3 - "$alog" "$RUN/reports.jsonl" >"$RUN/expect.txt" <<'PY' || fail "comparing fills"
import json, sys, collections
acc = collections.defaultdict(list)
seen = set()
for line in open(sys.argv[1]):
    f = line.split()
    if f[:1] == ["ER"] and f[3] == "F":
        if f[1] in seen:
            sys.exit("ExecID %s sent twice as a new report" % f[1])
        seen.add(f[1])
        acc[f[2].split(":")[0]].append("%g@%g" % (float(f[5]), float(f[6])))
    elif f[:1] == ["SILENT_FILL"]:
        acc[f[1]].append("%g@%g" % (float(f[2]), float(f[3])))
pub = collections.defaultdict(list)
ids = set()
for line in open(sys.argv[2]):
    v = json.loads(line).get("value") or {}
    if v.get("exec_type") in ("FILL", "PARTIAL_FILL") and v.get("last_qty", 0) > 0:
        if v["report_id"] in ids:
            continue  # the same report published again is one report
        ids.add(v["report_id"])
        pub[v["order_id"]].append("%g@%g" % (v["last_qty"], v["last_price"]))
for o in sorted(set(acc) | set(pub)):
    a, p = sorted(acc[o]), sorted(pub[o])
    if a != p:
        sys.exit("%s: acceptor filled %s, published %s" % (o, a, p))
    print(o, " ".join(a))
PY
got=$(q "SELECT order_id || ' ' || string_agg(size::float8 || '@' || price::float8, ' ' ORDER BY size, price)
         FROM trades WHERE order_id LIKE 'q-%' GROUP BY order_id ORDER BY order_id")
want=$(python3 -c '
import sys
for l in open(sys.argv[1]):
    o, *f = l.split()
    f.sort(key=lambda s: tuple(float(x) for x in s.split("@")))
    print(o, " ".join(f))' "$RUN/expect.txt")
[ "$got" = "$want" ] || fail "trades differ from the acceptor's fills:
got:
$got
want:
$want"
n_orders=$(acc_count '^RECV D ')
[ "$n_orders" = "$(sort -u <(grep '^RECV D ' "$alog" | awk '{print $3}') | wc -l)" ] ||
        fail "an order reached the counterparty twice"
"$TE_BUILD_DIR/exec-dbtool" check >/dev/null || fail "position_check/cash_check not empty"

# -- our outgoing number below what QuickFIX expects: refused once, then stop ------
ibkr_stop broker || fail "broker did not exit cleanly"
q "UPDATE fix_sessions SET next_out = next_out - 5 WHERE sender_comp_id = 'TE'" >/dev/null
m5=$(mark)
fix_broker
eo_wait "the seq-too-low alert" 30 grep -q '"event":"fix.alert".*fix_seq_too_low' "$RUN/broker.log"
acc_wait_low() { [ "$(since "$m5" '^OUT 5 .*MsgSeqNum too low')" -ge 1 ]; }
eo_wait "QuickFIX's Logout" 10 acc_wait_low
# a reconnect would come within reconnect_max_ms (400 ms): watch for 3 s. (QuickFIX
# refuses a Logon below its number before its application sees it: count its
# Logouts, and its LOGON once the number would have been walked up to its own.)
deadline=$((SECONDS + 3))
while [ $SECONDS -lt $deadline ]; do
        [ "$(since "$m5" '^OUT 5 .*MsgSeqNum too low')" = 1 ] ||
                fail "the adapter tried to log on again after MsgSeqNum too low"
        [ "$(since "$m5" '^LOGON$')" = 0 ] || fail "the adapter walked its number up to a Logon"
        sleep 0.1
done
eo_topic_json exec.alerts >"$RUN/alerts.jsonl"
eo_has "$RUN/alerts.jsonl" '"fix_seq_too_low"' CRITICAL || fail "no CRITICAL fix_seq_too_low alert"
ibkr_stop broker || fail "broker did not exit cleanly"
echo "test_fix_faults_qf: ok ($delivered fills delivered before the kill; numbers $out1/$in1 -> $out2/$in2)"
