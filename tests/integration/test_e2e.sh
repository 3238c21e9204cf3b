#!/usr/bin/env bash
# test_e2e: targets -> exec-planner -> exec-broker (sim) -> exec-sink -> trades rows,
# four real processes on the embedded stack. The expected trades come from
# e2e_expect.py, which works them out from the input files alone (not from our C code).
source "$(dirname "$0")/prologue.sh" e2e

te_stack_up "$RUN"
te_pipeline_up "$RUN" "$here/data/e2e_bars.csv" -o plan.lot_size=10
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$here/data/e2e_targets.jsonl"
te_pipeline_wait_idle "$RUN" 120

python3 "$here/e2e_expect.py" "$here/data/e2e_bars.csv" "$here/data/e2e_targets.jsonl" \
        >"$RUN/expected.txt"
q "SELECT o.portfolio_id, t.ticker, t.direction, t.size::int, to_char(t.price, 'FM999990.0000'),
          to_char(t.commission, 'FM999990.0000')
   FROM trades t JOIN orders o USING (order_id) ORDER BY 1, 2, 3, 4, 5" >"$RUN/actual.txt"
if ! diff -u "$RUN/expected.txt" "$RUN/actual.txt"; then
        fail "trades differ from the independently computed expectation"
fi
[ "$(wc -l <"$RUN/expected.txt")" -eq 10 ] || fail "expected 10 trades"

# every trade carries the attribution of its target, and the mode and broker
[ "$(q "SELECT count(*) FROM trades t JOIN pipeline_decisions d USING (decision_id)
        WHERE t.mode = 'TRAINING' AND t.broker = 'sim' AND t.strategy_id IN ('s1', 's2')
          AND t.universe_id IN ('u1', 'u2')")" = 10 ] || fail "attribution columns"
# the two impossible orders were rejected, not filled: CCC on a zero-volume bar, ZZZ
# with no market data
[ "$(q "SELECT string_agg(ticker, ',' ORDER BY ticker) FROM orders WHERE status = 'REJECTED'")" = "CCC,ZZZ" ] ||
        fail "rejected orders"
# final positions equal the (lot-rounded) last targets
[ "$(q "SELECT string_agg(portfolio_id || ':' || ticker || '=' || quantity::int, ' '
        ORDER BY portfolio_id, ticker) FROM positions WHERE quantity <> 0")" = \
  "pf-e2e:BBB=-30 pf-e2e:CCC=10 pf-e2e-2:AAA=1000" ] || fail "final positions"
# cash moved by -(side*qty*price) - commission, recomputed from the expectation
want_cash=$(python3 -c '
import sys
c = {}
for l in open(sys.argv[1]):
    pf, tk, side, q, px, comm = l.split()
    s = 1 if side == "BUY" else -1
    c[pf] = c.get(pf, 0) - s * int(q) * float(px) - float(comm)
print(" ".join("%s=%.4f" % (k, c[k]) for k in sorted(c)))' "$RUN/expected.txt")
got_cash=$(q "SELECT string_agg(portfolio_id || '=' || to_char(balance, 'FM9999999990.0000'), ' '
        ORDER BY portfolio_id) FROM cash")
[ "$want_cash" = "$got_cash" ] || fail "cash: want $want_cash got $got_cash"
"$TE_BUILD_DIR/exec-dbtool" check >/dev/null || fail "position_check/cash_check not empty"

# a clean SIGTERM of every process exits 0
te_pipeline_down "$RUN" || fail "a process did not exit cleanly on SIGTERM"
echo "test_e2e: ok (10 trades as expected, 2 rejects, positions and cash add up)"
