#!/usr/bin/env bash
# test_cli: every binary behaves like the command-line tools users know, without a
# stack: -h prints help on stdout and exits 0 (the processes describe every key),
# --version prints "NAME VERSION (commit C)", an unknown flag is named in one line
# with exit 2, and config errors are one line with exit 2 before anything connects
# (a bad kafka.* property, no bootstrap at all). A shared env file works (another
# process's EXEC_* variable is ignored), config files take trailing comments and
# quoted values, tools spell bootstrap.wait.ms like the processes, and a bootstrap
# file that never comes ends the wait with a clear error.
set -euo pipefail
src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${TE_BUILD_DIR:-$src/build}
work=$(mktemp -d /tmp/te-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() {
        echo "FAIL: $*" >&2
        exit 1
}
# no stray settings from the caller's shell
for v in $(env | sed -n 's/^\(EXEC_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done

procs=(exec-planner exec-broker exec-sink exec-backtest)
tools=(exec-tail exec-publish exec-lag exec-dbtool exec-devstack exec-devstack-ctl exec-gen-sample)
for b in "${procs[@]}" "${tools[@]}"; do
        [ -x "$bin/$b" ] || fail "$bin/$b not built"
        st=0
        "$bin/$b" -h >"$work/h.out" 2>"$work/h.err" || st=$?
        [ $st = 0 ] || fail "$b -h: exit $st"
        [ -s "$work/h.out" ] && [ ! -s "$work/h.err" ] || fail "$b -h: help not on stdout"
        out=$("$bin/$b" --version) || fail "$b --version: exit $?"
        [[ $out =~ ^$b\ [0-9]+\.[0-9]+\.[0-9]+\ \(commit\ ([0-9A-Za-z._+-]+)\)$ ]] ||
                fail "$b --version: '$out'"
        for flag in --no-such-flag -Z; do
                st=0
                "$bin/$b" $flag >/dev/null 2>"$work/e.err" || st=$?
                [ $st = 2 ] || fail "$b $flag: exit $st, expected 2"
                [ "$(wc -l <"$work/e.err")" = 1 ] && grep -q -- "'$flag'" "$work/e.err" ||
                        fail "$b $flag: not one line naming it: $(head -c 300 "$work/e.err")"
        done
done

# the processes' -h: every key with a description, its default and its variable
for b in "${procs[@]}"; do
        "$bin/$b" -h | python3 -c '
import re, sys
name = sys.argv[1]
lines = sys.stdin.read().split("\n")
keys = 0
for i, l in enumerate(lines):
    if re.match(r"^ +default: ", l):
        m = re.match(r"^  (\S+)( +)(.*)$", lines[i - 1])
        assert m and m.group(3).strip(), "%s: key without a description: %r" % (name, lines[i - 1])
        assert "env EXEC_" in l, l
        keys += 1
assert keys >= 10, "%s: only %d keys" % (name, keys)
assert "exit status" in "\n".join(lines), name
' "$b" || fail "$b -h does not document every key"
done
"$bin/exec-backtest" -h | grep -x "  kafka.fetch.wait.max.ms=1" >/dev/null || fail "exec-backtest -h: no Kafka settings"

one_line_exit2() { # WHAT PATTERN COMMAND...: exit 2, one line on stderr matching PATTERN
        local what=$1 pat=$2 st=0
        shift 2
        timeout 30 "$@" >/dev/null 2>"$work/c.err" || st=$?
        [ $st = 2 ] || fail "$what: exit $st, expected 2 ($(head -c 300 "$work/c.err"))"
        [ "$(wc -l <"$work/c.err")" = 1 ] || fail "$what: not one line: $(cat "$work/c.err")"
        grep -q -- "$pat" "$work/c.err" || fail "$what: '$(cat "$work/c.err")' lacks '$pat'"
}
# a bad kafka.* property: refused before connecting anywhere (the DB here does not exist)
for b in exec-sink exec-planner exec-broker; do
        PGHOST=$work/nopg one_line_exit2 "$b bad kafka.*" "kafka.no.such.property" \
                "$bin/$b" -o bootstrap.servers=127.0.0.1:1 -o kafka.no.such.property=1
done
PGHOST=$work/nopg one_line_exit2 "bad kafka.* value" "kafka.linger.ms" \
        "$bin/exec-sink" -o bootstrap.servers=127.0.0.1:1 -o kafka.linger.ms=abc
one_line_exit2 "exec-tail bad kafka.*" "kafka.no.such.property" \
        "$bin/exec-tail" -b 127.0.0.1:1 -o kafka.no.such.property=1 -t exec.targets
one_line_exit2 "exec-lag bad kafka.*" "kafka.no.such.property" \
        "$bin/exec-lag" -b 127.0.0.1:1 -o kafka.no.such.property=1 --kafka g:t
one_line_exit2 "exec-publish bad kafka.*" "kafka.no.such.property" \
        "$bin/exec-publish" -b 127.0.0.1:1 -o kafka.no.such.property=1 /dev/null
# exec-lag's kafka.* settings (SASL/SSL for a production cluster) reach its client: with
# security.protocol SSL from the -c file, the CA file given with -o, which does not
# exist, is refused by librdkafka when the client is created (it is no error without
# SSL, so both took effect)
printf 'kafka.security.protocol = SSL   # from the file\n' >"$work/lag.conf"
st=0
timeout 30 "$bin/exec-lag" -b 127.0.0.1:1 -c "$work/lag.conf" \
        -o kafka.ssl.ca.location="$work/no-ca.pem" --kafka g:t >/dev/null 2>"$work/l.err" || st=$?
[ $st = 2 ] && grep -q "exec-lag: consumer: ssl.ca.location failed" "$work/l.err" ||
        fail "exec-lag -c/-o kafka.*: exit $st, $(tail -c 300 "$work/l.err")"
# exec-dbtool's settings come before the command, from -c and -o: db.conninfo reaches
# libpq (its error names the socket of the file's host, -o wins over the file), a
# conninfo with a password, an unknown key and a bad kafka.* are one line, exit 2
printf 'db.conninfo = host=%s/file-pg\n' "$work" >"$work/db.conf"
st=0
PGHOST=$work/env-pg timeout 30 "$bin/exec-dbtool" -c "$work/db.conf" \
        -o db.conninfo="host=$work/o-pg dbname=x" check >/dev/null 2>"$work/d.err" || st=$?
[ $st = 2 ] && grep -q "$work/o-pg/.s.PGSQL" "$work/d.err" ||
        fail "exec-dbtool -o db.conninfo: exit $st, $(tail -c 300 "$work/d.err")"
st=0
PGHOST=$work/env-pg timeout 30 "$bin/exec-dbtool" -c "$work/db.conf" check >/dev/null \
        2>"$work/d.err" || st=$?
[ $st = 2 ] && grep -q "$work/file-pg/.s.PGSQL" "$work/d.err" ||
        fail "exec-dbtool -c db.conninfo: exit $st, $(tail -c 300 "$work/d.err")"
one_line_exit2 "exec-dbtool password in conninfo" "must not contain a password" \
        "$bin/exec-dbtool" -o "db.conninfo=host=x password=y" check
one_line_exit2 "exec-dbtool unknown key" "override: nosuch: unknown key" \
        "$bin/exec-dbtool" -o nosuch=1 migrate
one_line_exit2 "exec-dbtool bad kafka.*" "kafka.no.such.property" \
        "$bin/exec-dbtool" -o kafka.no.such.property=1 offsets show
# no bootstrap at all: an error, not a process waiting forever
for b in exec-sink exec-planner exec-broker; do
        one_line_exit2 "$b without bootstrap" "no Kafka bootstrap" "$bin/$b"
done
one_line_exit2 "exec-tail without bootstrap" "no bootstrap servers" "$bin/exec-tail" -t x
# a bootstrap file that never comes: a clear error after bootstrap.wait.ms
st=0
timeout 30 "$bin/exec-sink" -o bootstrap.file="$work/never" -o bootstrap.wait.ms=200 \
        2>"$work/w.err" || st=$?
[ $st = 2 ] && grep -q "no bootstrap list after 200 ms" "$work/w.err" || fail "sink wait: $st $(cat "$work/w.err")"
st=0
timeout 30 "$bin/exec-tail" -t x --bootstrap-file "$work/never" -o bootstrap.wait.ms=200 \
        2>"$work/w.err" || st=$?
[ $st = 1 ] && grep -q "no bootstrap list after 200 ms" "$work/w.err" || fail "tail wait: $st $(cat "$work/w.err")"
# one spelling: bootstrap.wait_ms is not a key any more
one_line_exit2 "old spelling" "bootstrap.wait_ms: unknown key" \
        "$bin/exec-tail" -t x --bootstrap-file "$work/never" -o bootstrap.wait_ms=200

# one env file for every process; a config file with comments and quotes
cat >"$work/shared.env" <<'ENV'
EXEC_SIM_SLIPPAGE_BPS=2
EXEC_PLAN_TIF=DAY
EXEC_TOPIC=exec.targets
EXEC_LOG_LEVEL=warn
ENV
cat >"$work/sink.conf" <<CONF
# the sink
log.level = "warn"          # quoted, then a comment
metrics.port = 0            # off
db.conninfo = 'application_name=te#1'
bootstrap.file = $work/never
bootstrap.wait.ms = 0
CONF
for b in exec-sink exec-planner exec-broker; do
        st=0
        (set -a; source "$work/shared.env"; set +a
         timeout 30 "$bin/$b" -c "$work/sink.conf" 2>"$work/s.err") || st=$?
        grep -q "no bootstrap list" "$work/s.err" ||
                fail "$b with the shared env file and sink.conf: $(cat "$work/s.err")"
        grep -q "config:" "$work/s.err" && fail "$b: config refused: $(cat "$work/s.err")"
done
# unknown keys in a file or -o stay errors
printf 'metrics.prot = 1\n' >"$work/bad.conf"
one_line_exit2 "unknown key in a file" "bad.conf:1: metrics.prot: unknown key" \
        "$bin/exec-sink" -c "$work/bad.conf"
one_line_exit2 "unknown key in -o" "override: metrics.prot: unknown key" \
        "$bin/exec-sink" -o metrics.prot=1
echo "test_cli: ok (${#procs[@]} processes, ${#tools[@]} tools)"
