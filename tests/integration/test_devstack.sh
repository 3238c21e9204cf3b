#!/usr/bin/env bash
# The embedded dev stack end to end: exec-devstack (mock Kafka, topics from the manifest,
# control socket with fault injection), the throwaway PostgreSQL of ops/pg.sh, and
# exec-dbtool (migrate, check, load-bars); exec-devstack configured with -c and -o, and
# its old -o FILE / -c SOCKET refused with the new spelling (and exec-devstack-ctl's old
# -c SOCKET). Needs kcat and psql.
set -uo pipefail

src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export TE_BUILD_DIR=${TE_BUILD_DIR:-$src/build}
build=$TE_BUILD_DIR
# shellcheck source=ops/stack.sh
source "$src/ops/stack.sh"

fails=0
pass() { echo "ok   - $*"; }
fail() {
        echo "FAIL - $*" >&2
        fails=$((fails + 1))
}
not() { ! "$@" >/dev/null 2>&1; }
check() { # check DESCRIPTION CMD...: pass if CMD succeeds
        local what=$1
        shift
        if "$@"; then pass "$what"; else fail "$what"; fi
}
# wait_until SECONDS CMD...: poll CMD until it succeeds or the deadline passes.
wait_until() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@"; do
                [ $SECONDS -lt $deadline ] || return 1
                sleep 0.05
        done
}

for tool in kcat psql python3; do
        command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (ops/install-deps)" >&2; exit 1; }
done
for b in exec-devstack exec-devstack-ctl exec-dbtool; do
        [ -x "$build/$b" ] || { echo "FAIL: $build/$b not built" >&2; exit 1; }
done
ctl() { "$build/exec-devstack-ctl" --ctl "$TE_STACK_CTL" "$@"; }
dbtool() { "$build/exec-dbtool" "$@"; }

RUN=$(mktemp -d /tmp/te-run.XXXXXX)
tmp=$(mktemp -d /tmp/te-test.XXXXXX)
on_exit() {
        if [ -f "$RUN/devstack.log" ] && [ $fails -ne 0 ]; then
                echo "--- last lines of $RUN/devstack.log" >&2
                tail -n 20 "$RUN/devstack.log" >&2
        fi
        te_stack_down "$RUN" >/dev/null 2>&1
        rm -rf "$tmp"
}
trap on_exit EXIT

if ! te_stack_up "$RUN"; then
        fail "te_stack_up"
        exit 1
fi
pass "stack up: bootstrap $TE_STACK_BOOTSTRAP, PGHOST=$PGHOST"
BS=$TE_STACK_BOOTSTRAP
DS_PID=$TE_STACK_DEVSTACK_PID

# --- topics from the manifest, with their partition counts --------------------------
kcat -b "$BS" -m 10 -L -J >"$tmp/meta.json" 2>"$tmp/meta.err" || fail "kcat -L: $(cat "$tmp/meta.err")"
while read -r topic parts; do
        got=$(python3 -c '
import json, sys
meta = json.load(open(sys.argv[1]))
for t in meta["topics"]:
    if t["topic"] == sys.argv[2] and not t.get("error"):
        print(len(t["partitions"]))
' "$tmp/meta.json" "$topic")
        check "topic $topic has $parts partitions (got ${got:-none})" [ "$got" = "$parts" ]
done < <(sed -e 's/#.*//' "$src/ops/topics.manifest" | awk 'NF == 2 {print $1, $2}')
n_manifest=$(sed -e 's/#.*//' "$src/ops/topics.manifest" | awk 'NF == 2' | wc -l)
check "manifest lists 6 topics" [ "$n_manifest" = 6 ]

# --- produce and consume -------------------------------------------------------------
msg="hello-$$-$RANDOM"
echo "$msg" | timeout 30 kcat -b "$BS" -P -t exec.alerts -k k1 -X message.timeout.ms=10000 2>"$tmp/p.err"
check "produce to exec.alerts" [ $? = 0 ]
timeout 30 kcat -b "$BS" -C -t exec.alerts -o beginning -e -q -f '%k %s\n' >"$tmp/c.out" 2>&1
check "consume it back" grep -qx "k1 $msg" "$tmp/c.out"

# --- fault injection: broker down, then up ---------------------------------------------
check "ctl ping" [ "$(ctl ping)" = "ok pong" ]
check "ctl broker_down 1" [ "$(ctl broker_down 1)" = "ok broker_down 1" ]
start=$SECONDS
if echo "while-down" | timeout 30 kcat -b "$BS" -P -t exec.alerts -X message.timeout.ms=1500 \
        >/dev/null 2>&1; then
        fail "produce with broker 1 down should fail"
else
        pass "produce with broker 1 down fails (in $((SECONDS - start)) s)"
fi
check "ctl broker_up 1" [ "$(ctl broker_up 1)" = "ok broker_up 1" ]
echo "after-up" | timeout 30 kcat -b "$BS" -P -t exec.alerts -X message.timeout.ms=10000 2>"$tmp/p.err"
check "produce after broker_up succeeds" [ $? = 0 ]
timeout 30 kcat -b "$BS" -C -t exec.alerts -o beginning -e -q >"$tmp/c.out" 2>&1
check "consume sees after-up" grep -qx after-up "$tmp/c.out"
check "while-down was never written" not grep -q while-down "$tmp/c.out"
check "ctl rtt 1 5" [ "$(ctl rtt 1 5)" = "ok rtt 1 5" ]
check "ctl rtt 1 0" [ "$(ctl rtt 1 0)" = "ok rtt 1 0" ]
check "ctl create_topic" [ "$(ctl create_topic test.extra 3)" = "ok create_topic test.extra 3" ]
check "ctl topic_error set" \
        [ "$(ctl topic_error test.extra UNKNOWN_TOPIC_OR_PART)" = "ok topic_error test.extra UNKNOWN_TOPIC_OR_PART" ]
check "ctl topic_error clear" [ "$(ctl topic_error test.extra 0)" = "ok topic_error test.extra NO_ERROR" ]
check "ctl request_errors" \
        [ "$(ctl request_errors 0 NOT_LEADER_FOR_PARTITION 1)" = "ok request_errors 0 NOT_LEADER_FOR_PARTITION 1" ]
# the pushed error is consumed by the next Produce request; the idempotent retry wins
echo "after-err" | timeout 30 kcat -b "$BS" -P -t exec.alerts -X message.timeout.ms=10000 \
        -X enable.idempotence=true 2>"$tmp/p.err"
check "produce retries through a pushed NOT_LEADER error" [ $? = 0 ]

# --- garbage on the control socket -----------------------------------------------------
for bad in "broker_down 0" "broker_down 99" "broker_down x" "broker_down 1 2" "rtt 1 -1" \
        "rtt 1 99999999999999999999" "request_errors -1 6 1" "request_errors 0 NOPE 1" \
        "request_errors 0 6 0" "topic_error no.such.topic 3" "create_topic bad/name 1" \
        "create_topic t 0" "create_topic exec.orders 8" "frobnicate" ""; do
        reply=$(printf '%s\n' "$bad" | "$build/exec-devstack-ctl" --ctl "$TE_STACK_CTL")
        case $reply in
        err\ *) ;;
        *) fail "control line '$bad' should get err, got '$reply'" ;;
        esac
done
pass "bad control lines get err replies"
head -c 20000 /dev/urandom >"$tmp/garbage"
printf '%*s\n' 5000 x | tr ' ' y >>"$tmp/garbage"
printf 'ping\0\x01\xff\n' >>"$tmp/garbage"
"$build/exec-devstack-ctl" --ctl "$TE_STACK_CTL" <"$tmp/garbage" >"$tmp/garbage.out" 2>&1
check "random bytes: every reply is one ok/err line" not grep -qvE '^(ok|err) ' "$tmp/garbage.out"
check "random bytes: the long line is rejected" grep -q '^err line too long' "$tmp/garbage.out"
# connections that vanish mid-line, and more clients than the server keeps
python3 - "$TE_STACK_CTL" >"$tmp/py.out" 2>&1 <<'EOF'
import socket, sys
path = sys.argv[1]
# half a line, then EOF: the server answers what it got and closes its side
for payload in [b"broker_do", b"ping", b"\xff" * 300, b"x" * 5000, b""]:
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)  # blocking: waits while the listen backlog is full
    s.settimeout(10)
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()
held = []
for i in range(20):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(10)
    held.append(s)
ok = busy = 0
for s in held:
    try:
        s.sendall(b"ping\n")
    except OSError:
        pass
    try:
        reply = s.recv(100)
    except OSError:
        reply = b""
    ok += reply == b"ok pong\n"
    busy += reply == b"err too many clients\n"
print("ok", ok, "busy", busy)
for s in held:
    s.close()
EOF
check "16 clients served, 4 more refused ($(tr '\n' ' ' <"$tmp/py.out"))" grep -qx "ok 16 busy 4" "$tmp/py.out"
check "devstack still alive after garbage" kill -0 "$DS_PID"
check "devstack still answers after garbage" [ "$(ctl ping)" = "ok pong" ]

# --- database: migrations, tables, load-bars, check ------------------------------------
n_mig=$(find "$src/schemas/migrations" -name '[0-9]*.sql' | wc -l)
check "te_stack_up applied all $n_mig migrations" grep -qx "migrate: applied $n_mig of $n_mig" "$RUN/dbtool.log"
check "migrate again applies 0" [ "$(dbtool migrate)" = "migrate: applied 0 of $n_mig" ]
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE DATABASE exec_fresh' >/dev/null
check "fresh database: migrate applies $n_mig" \
        [ "$(PGDATABASE=exec_fresh dbtool migrate)" = "migrate: applied $n_mig of $n_mig" ]
check "fresh database: migrate again applies 0" \
        [ "$(PGDATABASE=exec_fresh dbtool migrate)" = "migrate: applied 0 of $n_mig" ]
psql -X -c '\dt' >"$tmp/dt.out" 2>&1
for t in pipeline_decisions orders order_events trades positions cash consumer_offsets prices_daily; do
        check "table $t exists" grep -qE "^ *public *\| *$t *\| *table" "$tmp/dt.out"
done
check "check on an empty runtime DB passes" dbtool check

bars=$src/ops/sample/bars.csv
want=$(grep -v '^#' "$bars" | tail -n +2 | grep -c .)
out=$(dbtool load-bars "$bars")
check "load-bars exit 0" [ $? = 0 ]
check "load-bars reports $want valid, $want inserted ($out)" \
        grep -q "$want valid rows, 0 bad rows skipped, $want inserted" <<<"$out"
check "prices_daily holds $want rows" [ "$(psql -X -At -c 'SELECT count(*) FROM prices_daily')" = "$want" ]
out=$(dbtool load-bars "$bars")
check "load-bars again inserts 0 ($out)" grep -q ", 0 inserted, $want already present" <<<"$out"
check "prices_daily still $want rows" [ "$(psql -X -At -c 'SELECT count(*) FROM prices_daily')" = "$want" ]

cat >"$tmp/bad.csv" <<'EOF'
# a comment
date,ticker,open,high,low,close,volume
2030-01-02,BADT,10,11,9,10.5,1000
2030-01-02,BADT,10,11,9,10.5
2030-02-30,BADT,10,11,9,10.5,1000
2030-01-03,BADT,-10,11,9,10.5,1000
2030-01-04,BADT,10,11,10.2,10.5,1000
2030-01-07,BADT,nan,11,9,10.5,1000
2030-01-08,BADT,10,inf,9,10.5,1000
2030-01-09,BADT,10,11,9,10.5,-1
2030-01-10,badt,10,11,9,10.5,1000
2030-01-11,BADT,10,11,9,10.5,1000,7
2030-01-14,BADT,10,11,9,12,1000
2030-01-15,BADT,0x10,11,9,10.5,1000
2030-01-16,BADT,10,11,9,10.5,1000
EOF
printf '2030-01-17,BADT,%0900d,11,9,10.5,1000\n' 1 >>"$tmp/bad.csv"
dbtool load-bars "$tmp/bad.csv" >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
check "load-bars with bad rows exits 1 (got $rc)" [ $rc = 1 ]
for line in 4 5 6 7 8 9 10 11 12 13 14 16; do
        check "bad row at bad.csv:$line reported" grep -q "bad.csv:$line: " "$tmp/bad.err"
done
check "good rows of bad.csv reported" grep -q "2 valid rows, 12 bad rows skipped, 2 inserted" "$tmp/bad.out"
check "good rows of bad.csv loaded" \
        [ "$(psql -X -At -c "SELECT count(*) FROM prices_daily WHERE ticker = 'BADT'")" = 2 ]
printf '2030-01-02,NOHDR,10,11,9,10.5,1000\n' >"$tmp/nohdr.csv"
dbtool load-bars "$tmp/nohdr.csv" >/dev/null 2>&1
check "load-bars without a header exits 2" [ $? = 2 ]
dbtool load-bars "$tmp/does-not-exist.csv" >/dev/null 2>&1
check "load-bars of a missing file exits 2" [ $? = 2 ]
check "devstack still alive" kill -0 "$DS_PID"

# --- shutdown: clean exit, files removed, nothing left running ---------------------------
TE_KEEP=1 te_stack_down "$RUN" 2>"$tmp/down.err"
rc=$?
check "te_stack_down: exec-devstack exited 0 and PostgreSQL stopped (rc $rc: $(tr '\n' ' ' <"$tmp/down.err"))" [ $rc = 0 ]
check "devstack process gone" not kill -0 "$DS_PID"
check "bootstrap file removed by devstack" [ ! -e "$RUN/bootstrap" ]
check "control socket removed by devstack" [ ! -e "$RUN/ctl" ]
check "pidfile removed by devstack" [ ! -e "$RUN/devstack.pid" ]
check "nothing under $RUN still running" wait_until 10 not pgrep -f -- "$RUN"
rm -rf "$RUN"

# --- configured like every process: -c FILE and -o KEY=VALUE -------------------------
# (the file names the outputs, -o wins over the file: two brokers, not three)
cat >"$tmp/ds.conf" <<CONF
bootstrap.out = $tmp/ds.bootstrap   # written once every topic exists
topics.manifest = $src/ops/topics.manifest
ctl.socket = $tmp/ds.ctl
brokers = 3
CONF
"$build/exec-devstack" -c "$tmp/ds.conf" -o brokers=2 -o log.level=warn 2>"$tmp/ds.log" &
ds_pid=$!
check "-c/-o: bootstrap file written" wait_until 30 test -s "$tmp/ds.bootstrap"
check "-c/-o: two brokers (-o over the file)" \
        [ "$(tr ',' '\n' <"$tmp/ds.bootstrap" | grep -c .)" = 2 ]
check "-c/-o: control socket from the file answers" \
        "$build/exec-devstack-ctl" --ctl "$tmp/ds.ctl" ping
# exec-devstack-ctl the same way: the socket from its -c file, -t over -o timeout.ms
printf 'ctl.socket = %s\n' "$tmp/ds.ctl" >"$tmp/ctl.conf"
check "exec-devstack-ctl -c FILE: the socket from the file answers" \
        "$build/exec-devstack-ctl" -c "$tmp/ctl.conf" -o timeout.ms=1 -t 5000 ping
"$build/exec-devstack-ctl" -c "$tmp/ctl.conf" -o timeout.ms=0 ping >/dev/null 2>"$tmp/ctl.err"
check "exec-devstack-ctl: -o timeout.ms=0 refused (exit 2)" [ $? = 2 ]
check "exec-devstack-ctl: ... naming the key" grep -q "timeout.ms: out of range" "$tmp/ctl.err"
"$build/exec-devstack-ctl" -c "$tmp/ds.ctl" ping >/dev/null 2>"$tmp/ctl.err"
check "exec-devstack-ctl old -c SOCKET: exit 2" [ $? = 2 ]
check "exec-devstack-ctl old -c SOCKET: names --ctl" \
        grep -q -- "not a regular file); the control socket is --ctl" "$tmp/ctl.err"
kill -TERM "$ds_pid"
wait "$ds_pid"
check "-c/-o: exec-devstack exits 0 on SIGTERM" [ $? = 0 ]
check "-c/-o: bootstrap file removed" [ ! -e "$tmp/ds.bootstrap" ]
# the old meanings of -o (bootstrap file) and -c (control socket): one line naming the
# new spelling, exit 2
"$build/exec-devstack" -o "$tmp/old.bootstrap" -m "$src/ops/topics.manifest" 2>"$tmp/old.err"
check "old -o FILE: exit 2" [ $? = 2 ]
check "old -o FILE: names --out" grep -q -- "--out $tmp/old.bootstrap" "$tmp/old.err"
"$build/exec-devstack" --out "$tmp/old.bootstrap" -c "$tmp/old.ctl" \
        -m "$src/ops/topics.manifest" 2>"$tmp/old.err"
check "old -c CTL_SOCKET: exit 2" [ $? = 2 ]
check "old -c CTL_SOCKET: names --ctl" grep -q -- "the control socket is --ctl" "$tmp/old.err"
check "old use: nothing written" [ ! -e "$tmp/old.bootstrap" ]

if [ $fails -ne 0 ]; then
        echo "test_devstack: $fails check(s) failed" >&2
        exit 1
fi
echo "test_devstack: all checks passed"
