#!/usr/bin/env bash
# test_planner_ibkr_race: the fake TWS cancel race through the planner (docs/DESIGN.md
# invariant 9). PRODUCTION targets go through exec-planner (plan.route=ibkr), exec-broker
# with adapter=ibkr and tests/fake_tws --scenario cancel_race, and exec-sink. In that
# scenario IB fills 40% of a new order at once, and 30% more of it while a cancel is on
# its way (the cancel then takes effect: CANCELED after those fills).
#
#   target 100 AAA: BUY 100; 40 fill, 60 work
#   target 200 AAA: 40 + 60 working no longer fits -> CANCEL; 30 fill before it lands
#          (position 70, CANCELED); only then the residual: BUY 130 (52 fill at once).
#          (CANCEL + BUY 160 at once, as the planner used to, puts 70 + 160 = 230 in
#          position and working orders.)
#
# Checked: position + what still works never passes 200 and ends at exactly 200; the
# second target's NEW was planned after the CANCELED (quantity 130); the planner planned
# that target again once.
source "$(dirname "$0")/prologue.sh" plibkr
source "$here/ibkr_lib.sh"
TE_TEST_LOG_LINES=25
te_test_cleanup_extra() { ibkr_stop_all; }

te_stack_up "$RUN" >/dev/null
te_pipeline_start "$RUN" sink exec-sink
ibkr_fake fake cancel_race
ibkr_broker broker 31 exec.orders
te_pipeline_start "$RUN" planner exec-planner -o plan.route=ibkr -o broker.group=ibkr-broker \
        -o db.enabled=false
target() { # target DECISION MINUTE QTY
        printf '{"decision_id":"%s","portfolio_id":"pf-ib","strategy_id":"s","profile_version_id":"pv","regime_id":"r","universe_id":"u","mode":"PRODUCTION","as_of":"2026-01-05T15:%02d:00Z","unit":"QUANTITY","full_replace":false,"targets":[{"ticker":"AAA","value":%s}]}\n' \
                "$1" "$2" "$3" |
                "$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" - >/dev/null
}
# position + leaves of the orders still working, from the sink's tables
exposure() {
        q "SELECT coalesce((SELECT sum(quantity) FROM positions WHERE portfolio_id = 'pf-ib'
                                                           AND ticker = 'AAA'), 0)
                + coalesce((SELECT sum(leaves_qty) FROM orders WHERE portfolio_id = 'pf-ib'
                             AND status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED',
                                            'PENDING_CANCEL', 'PENDING_REPLACE')), 0)"
}

target i1 0 100
ibkr_wait_sql "SELECT status || ' ' || cum_qty::int FROM orders WHERE decision_id = 'i1'" \
        "PARTIALLY_FILLED 40" 60 || fail "i1 did not rest with 40 filled"
target i2 1 200
ibkr_wait_sql "SELECT count(*) FROM orders WHERE decision_id = 'i2'" 1 60 ||
        fail "no order for i2"
ibkr_wait_sql "SELECT status || ' ' || cum_qty::int FROM orders WHERE decision_id = 'i1'" \
        "CANCELED 70" 30 || fail "i1's cancel race did not end CANCELED with 70 filled"
ibkr_wait_sql "SELECT status FROM orders WHERE decision_id = 'i2'" PARTIALLY_FILLED 30 ||
        fail "i2's order did not start filling"
got=$(exposure)
echo "pf-ib AAA: position + working = ${got%.*} (target 200)"
[ "${got%.*}" -le 200 ] || fail "position + working orders = $got, above the target 200 (overfill)"
[ "${got%.*}" = 200 ] || fail "position + working orders = $got, want 200"
[ "$(q "SELECT quantity::int FROM positions WHERE portfolio_id = 'pf-ib'")" = 122 ] ||
        fail "position of pf-ib not 70 + 52"
[ "$(q "SELECT status || ' ' || (cum_qty + leaves_qty)::int FROM orders WHERE decision_id = 'i2'")" = \
  "PARTIALLY_FILLED 130" ] || fail "i2: $(q "SELECT * FROM orders WHERE decision_id = 'i2'")"
ibkr_stop planner || fail "planner did not stop cleanly"
grep '"planner.stop"' "$RUN/planner.log" | grep -q 'replans=1 ' ||
        fail "planner counters: $(grep '"planner.stop"' "$RUN/planner.log")"
ibkr_stop broker || fail "broker did not exit cleanly"
echo "test_planner_ibkr_race: ok"
