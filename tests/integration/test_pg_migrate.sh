#!/usr/bin/env bash
# te_pg_migrate against a throwaway PostgreSQL (ops/pg.sh), driven through
# `exec-dbtool migrate`: a fresh database gets every compiled-in migration recorded in
# schema_migrations; a second run applies nothing; two runners started together on a
# fresh database apply each migration exactly once (advisory lock); a migration that
# fails rolls back completely and is not recorded; server notices never reach stderr as
# bare text (every stderr line is JSON).
set -uo pipefail

src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TE_BUILD_DIR:-$src/build}
# shellcheck source=ops/pg.sh
source "$src/ops/pg.sh"
pgbin=${TE_PG_BIN:-/usr/lib/postgresql/15/bin}

fails=0
pass() { echo "ok   - $*"; }
fail() {
        echo "FAIL - $*" >&2
        fails=$((fails + 1))
}
# expect_eq DESCRIPTION WANT GOT
expect_eq() {
        if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: want '$2', got '$3'"; fi
}
q() { "$pgbin/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# only_json FILE: every non-empty line of FILE is a JSON object
only_json() {
        python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.strip():
        assert isinstance(json.loads(line), dict), line
' "$1" 2>/dev/null
}

[ -x "$build/exec-dbtool" ] || { echo "FAIL: $build/exec-dbtool not built" >&2; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 not installed" >&2; exit 1; }

top=$(mktemp -d /tmp/te-pgmig.XXXXXX)
chmod 755 "$top"
trap 'te_pg_down "$top/pg" >/dev/null 2>&1; rm -rf "$top"' EXIT
if ! te_pg_up "$top/pg"; then
        echo "FAIL: te_pg_up" >&2
        exit 1
fi
pass "postgres up: PGHOST=$PGHOST"

want_names=$(cd "$src/schemas/migrations" && ls -1 -- *.sql | LC_ALL=C sort)
n=$(printf '%s\n' "$want_names" | grep -c .)

# --- fresh database ---------------------------------------------------------------
out=$("$build/exec-dbtool" migrate 2>"$top/err1")
rc=$?
expect_eq "fresh: exit status" 0 "$rc"
expect_eq "fresh: applies every migration" "migrate: applied $n of $n" "$out"
expect_eq "fresh: schema_migrations lists the files in order" "$want_names" \
        "$(q -c 'SELECT name FROM schema_migrations ORDER BY name')"
expect_eq "fresh: tables of 0001 exist" "t|t" \
        "$(q -c "SELECT to_regclass('trades') IS NOT NULL, to_regclass('orders') IS NOT NULL")"
if only_json "$top/err1"; then pass "fresh: stderr is JSON lines"; else fail "fresh: stderr: $(cat "$top/err1")"; fi

# --- second run -------------------------------------------------------------------
out=$("$build/exec-dbtool" migrate 2>"$top/err2")
rc=$?
expect_eq "again: exit status" 0 "$rc"
expect_eq "again: applies nothing" "migrate: applied 0 of $n" "$out"
expect_eq "again: still one row per migration" "$n" "$(q -c 'SELECT count(*) FROM schema_migrations')"
if only_json "$top/err2"; then pass "again: no bare NOTICE lines on stderr"; else fail "again: stderr: $(cat "$top/err2")"; fi

# --- two runners at once on a fresh database ----------------------------------------
q -d postgres -c 'CREATE DATABASE mig_race' || fail "create mig_race"
PGDATABASE=mig_race "$build/exec-dbtool" migrate >"$top/race1" 2>"$top/race1.err" &
p1=$!
PGDATABASE=mig_race "$build/exec-dbtool" migrate >"$top/race2" 2>"$top/race2.err" &
p2=$!
wait "$p1"
rc1=$?
wait "$p2"
rc2=$?
expect_eq "race: both runners succeed" "0 0" "$rc1 $rc2"
a1=$(sed -n 's/^migrate: applied \([0-9]*\) of .*/\1/p' "$top/race1")
a2=$(sed -n 's/^migrate: applied \([0-9]*\) of .*/\1/p' "$top/race2")
expect_eq "race: each migration applied once in total" "$n" "$((${a1:-0} + ${a2:-0}))"
expect_eq "race: one row per migration" "$want_names" \
        "$(q -d mig_race -c 'SELECT name FROM schema_migrations ORDER BY name')"

# --- a failing migration rolls back -----------------------------------------------------
# A pre-existing `orders` without the expected columns: 0001's CREATE TABLE IF NOT EXISTS
# skips it and its CREATE INDEX on (portfolio_id, status) fails.
q -d postgres -c 'CREATE DATABASE mig_fail' || fail "create mig_fail"
q -d mig_fail -c 'CREATE TABLE orders (x int)' || fail "create conflicting orders"
out=$(PGDATABASE=mig_fail "$build/exec-dbtool" migrate 2>"$top/fail.err")
rc=$?
expect_eq "fail: exit status 2" 2 "$rc"
if grep -q 'migration 0001_init.sql: ' "$top/fail.err"; then
        pass "fail: error names the migration"
else
        fail "fail: error does not name the migration: $(cat "$top/fail.err")"
fi
expect_eq "fail: nothing recorded" 0 "$(q -d mig_fail -c 'SELECT count(*) FROM schema_migrations')"
expect_eq "fail: earlier statements of the file rolled back" "t" \
        "$(q -d mig_fail -c "SELECT to_regclass('pipeline_decisions') IS NULL")"
q -d mig_fail -c 'DROP TABLE orders' || fail "drop conflicting orders"
out=$(PGDATABASE=mig_fail "$build/exec-dbtool" migrate 2>/dev/null)
expect_eq "fail: fixed database then migrates" "migrate: applied $n of $n" "$out"

if [ "$fails" -ne 0 ]; then
        echo "$fails check(s) failed" >&2
        exit 1
fi
echo "all checks passed"
