#!/usr/bin/env bash
# test_stack_cli: ops/stack up|env|status|down, the dev stack that outlives the shell
# that started it. In a fresh TE_STACK_DIR: status says nothing runs (exit 3); up
# starts the mock cluster and PostgreSQL and returns; they still run afterwards
# (status exit 0); a second up has nothing to do; env prints export lines with which
# psql and exec-tail reach the stack; down stops both and removes the directory; bad
# commands exit 2.
set -euo pipefail
src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export TE_BUILD_DIR=${TE_BUILD_DIR:-$src/build}
work=$(mktemp -d /tmp/te-stackcli.XXXXXX)
chmod 755 "$work" # PostgreSQL runs as postgres under it
export TE_STACK_DIR=$work/stack
stack() { "$src/ops/stack" "$@"; }
cleanup() {
        local rc=$?
        stack down >/dev/null 2>&1 || true
        rm -rf "$work"
        exit $rc
}
trap cleanup EXIT
fail() {
        echo "FAIL: $*" >&2
        exit 1
}

st=0; stack status >"$work/s0.txt" || st=$?
[ $st = 3 ] || fail "status before up: exit $st, expected 3"
grep -q 'kafka: not running' "$work/s0.txt" || fail "status before up: $(cat "$work/s0.txt")"
st=0; stack env >/dev/null 2>&1 || st=$?
[ $st = 1 ] || fail "env without a stack: exit $st"

stack up >"$work/up.txt" || fail "up: $(cat "$work/up.txt")"
stack status >"$work/s1.txt" || fail "status after up: $(cat "$work/s1.txt")"
grep -q '^kafka: running' "$work/s1.txt" && grep -q '^postgresql: running' "$work/s1.txt" ||
        fail "status: $(cat "$work/s1.txt")"
out=$(stack up) || fail "second up: exit $?"
[ "$out" = "stack already up in $TE_STACK_DIR" ] || fail "second up: $out"

stack env >"$work/env.sh"
for v in PGHOST PGPORT PGUSER PGDATABASE EXEC_BOOTSTRAP_FILE TE_STACK_CTL PATH; do
        grep -q "^export .*\b$v=" "$work/env.sh" || fail "env has no $v: $(cat "$work/env.sh")"
done
(
        unset PGHOST PGPORT PGUSER PGDATABASE EXEC_BOOTSTRAP_FILE
        # shellcheck disable=SC1091
        source "$work/env.sh"
        [ "$(psql -X -A -t -c 'SELECT count(*) FROM consumer_offsets')" = 0 ] || exit 11
        printf '%s\n' '{"scope":"pf-s","level":"HALT","effective_from":1704205800000,"reason":""}' |
                exec-publish --type mode - >/dev/null || exit 12
        [ "$(exec-tail -t exec.mode --offset beginning --exit-at-end | wc -l)" = 1 ] || exit 13
        exec-devstack-ctl --ctl "$TE_STACK_CTL" ping >/dev/null || exit 14
) || fail "the stack is not reachable with the env lines (step $?)"

stack down >/dev/null || fail "down"
[ ! -e "$TE_STACK_DIR" ] || fail "down left $TE_STACK_DIR"
st=0; stack status >/dev/null || st=$?
[ $st = 3 ] || fail "status after down: exit $st"
stack down | grep -q 'nothing' || fail "a second down"
st=0; stack frobnicate 2>/dev/null || st=$?
[ $st = 2 ] || fail "unknown command: exit $st"
echo "test_stack_cli: ok"
