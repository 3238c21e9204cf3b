#!/usr/bin/env bash
# test_ibkr_fidelity: the fake TWS checked against an independent TWS API client, the
# npm package @stoqey/ib (version pinned in tests/ibkr_client/package-lock.json,
# installed with `npm ci` into the build dir). The client offers server versions
# v100..193; the fake must pick 176 and speak it well enough that the client decodes
# the orders it placed (the full openOrder of that version, with our orderRef, action,
# quantity, order type and TIF) and every execution, commission and status, live and
# again on reqExecutions, exactly as the fake logged them. The client reports a message
# it cannot decode field for field (underrun, or fields left over) as an error.
set -euo pipefail
src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export TE_BUILD_DIR=${TE_BUILD_DIR:-$src/build}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are required"
RUN=$(mktemp -d /tmp/te-ibkr-fid.XXXXXX)
fake=
cleanup() {
        local rc=$?
        [ -n "$fake" ] && kill "$fake" 2>/dev/null && wait "$fake" 2>/dev/null
        if [ $rc -ne 0 ]; then tail -n 40 "$RUN"/*.log "$RUN"/client.txt 2>/dev/null || true; fi
        rm -rf "$RUN"
        exit $rc
}
trap cleanup EXIT

dir=$TE_BUILD_DIR/ibkr_client
mkdir -p "$dir"
cp "$src/tests/ibkr_client/package.json" "$src/tests/ibkr_client/package-lock.json" \
        "$src/tests/ibkr_client/fidelity.js" "$dir/"
if [ ! -f "$dir/node_modules/@stoqey/ib/package.json" ] ||
        ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.te"; then
        if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >"$RUN/npm.log" 2>&1); then
                # A registry this machine cannot reach or whose TLS chain it does not
                # trust is an environment problem, not a fidelity failure: report the
                # test as skipped (ctest "Not Run", exit 77) with the reason.
                if grep -qE 'CERT|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT' "$RUN/npm.log"; then
                        echo "SKIP: npm registry not usable here: $(grep -m1 -E 'CERT|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT' "$RUN/npm.log")" >&2
                        exit 77
                fi
                fail "npm ci failed: $(tail -n 5 "$RUN/npm.log")"
        fi
        cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.te"
fi

"$TE_BUILD_DIR/tests/fake_tws" --port-file "$RUN/port" --scenario fill 2>"$RUN/fake.log" &
fake=$!
deadline=$((SECONDS + 10))
until [ -s "$RUN/port" ]; do
        [ $SECONDS -lt $deadline ] || fail "fake_tws did not start"
        sleep 0.05
done
node "$dir/fidelity.js" "$(cat "$RUN/port")" >"$RUN/client.txt" 2>&1 || fail "client failed"
c=$RUN/client.txt
grep -q '^CONNECT ver=176 client_range=v100..v193$' "$RUN/fake.log" || fail "version negotiation"
grep -qx 'SERVER version=176' "$c" || fail "client did not see server version 176"
grep -qx 'ACCOUNTS DU111111' "$c" || fail "managedAccounts"
! grep -q '^ERROR' "$c" || fail "client reported errors: $(grep '^ERROR' "$c")"
# the orders the client placed, as the fake decoded them
grep -qx 'PLACE id=1 ref=fid-1 BUY 100 AAA MKT tif=DAY acct=DU111111' "$RUN/fake.log" ||
        fail "order 1 not decoded as placed"
grep -qx 'PLACE id=2 ref=fid-2 SELL 50 BBB LMT tif=GTC acct=DU111111' "$RUN/fake.log" ||
        fail "order 2 not decoded as placed"
# the open orders as the client decoded the fake's openOrder (sent with each new order)
grep -qx 'OPEN id=1 ref=fid-1 BUY 100 AAA MKT tif=DAY acct=DU111111 lmt=undefined aux=undefined client=3 perm=1000000 status=Submitted' "$c" ||
        fail "openOrder 1 not decoded: $(grep '^OPEN id=1 ' "$c")"
grep -qx 'OPEN id=2 ref=fid-2 SELL 50 BBB LMT tif=GTC acct=DU111111 lmt=20.5 aux=undefined client=3 perm=1000001 status=Submitted' "$c" ||
        fail "openOrder 2 not decoded: $(grep '^OPEN id=2 ' "$c")"
[ "$(grep -c '^OPEN ' "$c")" = 2 ] || fail "unexpected openOrders (both orders filled: reqOpenOrders lists none)"
grep -qx 'OPENEND' "$c" || fail "openOrderEnd"
# the executions the fake made, as the client decoded them (live and on request)
x1=$(sed -n 's/^EXEC id=1 exec=\([^ ]*\) .*/\1/p' "$RUN/fake.log")
x2=$(sed -n 's/^EXEC id=2 exec=\([^ ]*\) .*/\1/p' "$RUN/fake.log")
[ -n "$x1" ] && [ -n "$x2" ] || fail "fake made no executions"
for req in -1 7; do
        grep -qx "EXEC req=$req id=1 exec=$x1 AAA BOT 100 @ 100.5 acct=DU111111 ref=fid-1 cum=100" "$c" ||
                fail "execution 1 (req $req)"
        grep -qx "EXEC req=$req id=2 exec=$x2 BBB SLD 50 @ 20.5 acct=DU111111 ref=fid-2 cum=50" "$c" ||
                fail "execution 2 (req $req)"
done
[ "$(grep -c '^EXEC ' "$c")" = 4 ] || fail "unexpected executions"
[ "$(grep -cx "COMMISSION exec=$x1 1 USD" "$c")" = 2 ] || fail "commission 1"
[ "$(grep -cx "COMMISSION exec=$x2 1 USD" "$c")" = 2 ] || fail "commission 2"
grep -qx 'STATUS id=1 Filled filled=100 remaining=0 avg=100.5' "$c" || fail "status 1"
grep -qx 'STATUS id=2 Filled filled=50 remaining=0 avg=20.5' "$c" || fail "status 2"
grep -qx 'EXECEND req=7' "$c" || fail "execDetailsEnd"
echo "test_ibkr_fidelity: ok (@stoqey/ib $(node -p "require('$dir/node_modules/@stoqey/ib/package.json').version") at server version 176)"
