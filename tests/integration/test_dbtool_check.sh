#!/usr/bin/env bash
# test_dbtool_check: `exec-dbtool check` sees what a run that lost trades or forgot
# orders leaves in the runtime DB (migration 0007): reports are applied with
# te_apply_report as the sink would, and for each case the check must exit 1 naming
# the view and the order or portfolio, while a DB where everything adds up passes:
#   - fills beyond an order's acknowledged quantity (order_overfill_check);
#   - a TRAINING order left open while its portfolio went on for weeks: the book of a
#     restarted simulator that forgot it (open_order_check stale_training_order);
#   - an open PRODUCTION order that the IB adapter's table lists as finished
#     (open_order_check unknown_to_broker);
#   - a portfolio planned into the future (planner_portfolio_check).
source "$(dirname "$0")/prologue.sh" dbtool_check
te_stack_up "$RUN" || fail "stack"

seq=0
# rep ORDER EXEC_TYPE STATUS SIDE LAST_QTY CUM LEAVES DAY [PORTFOLIO] [MODE]
rep() {
        seq=$((seq + 1))
        q "SELECT te_apply_report('r$seq-$1', '$1', '$2', '$3', 'AAA', '$4', $5,
                CASE WHEN $5 > 0 THEN 10 ELSE 0 END, $6, $7, CASE WHEN $6 > 0 THEN 10 ELSE 0 END,
                0, '', 'sim', 'SIM-1', '$8 21:00:00+00', 'd-$1', '${9:-P1}', 's', 'pv', 'rg',
                'u', '${10:-TRAINING}', 'exec.reports', 0, $seq)" >/dev/null
}
reset_db() {
        q "TRUNCATE orders, order_events, trades, positions, cash, pipeline_decisions,
                ibkr_orders, planner_portfolios" >/dev/null
}
# check_fails VIEW PATTERN: check exits 1 and lists PATTERN under VIEW
check_fails() {
        local out rc=0
        out=$("$TE_BUILD_DIR/exec-dbtool" check 2>&1) || rc=$?
        [ "$rc" = 1 ] || { echo "$out" >&2; fail "check exit $rc, want 1 ($1)"; }
        echo "$out" | grep -q "^check: $1: [1-9]" || { echo "$out" >&2; fail "$1 lists nothing"; }
        echo "$out" | grep -q "$2" || { echo "$out" >&2; fail "$1 does not name $2"; }
        echo "ok - $1: $2"
}
check_ok() {
        "$TE_BUILD_DIR/exec-dbtool" check >"$RUN/check.out" 2>&1 ||
                { cat "$RUN/check.out" >&2; fail "check fails on a sound DB ($1)"; }
        echo "ok - sound: $1"
}

# sound: a filled order, a part-filled order still working at the portfolio's last day,
# a GTC order in another portfolio that last filled 3 days before its portfolio's end
rep O1 ACK NEW BUY 0 0 100 2024-01-02
rep O1 FILL FILLED BUY 100 100 0 2024-01-02
rep O2 ACK NEW BUY 0 0 500 2024-01-02
rep O2 PARTIAL_FILL PARTIALLY_FILLED BUY 100 100 400 2024-01-30
rep O3 ACK NEW SELL 0 0 50 2024-01-02 P2
rep O3 PARTIAL_FILL PARTIALLY_FILLED SELL 10 10 40 2024-01-10 P2
rep O4 ACK NEW BUY 0 0 50 2024-01-13 P2
rep O4 FILL FILLED BUY 50 50 0 2024-01-13 P2
check_ok "filled, working and resting orders"

# fills beyond the quantity: 100 acknowledged, 150 filled
reset_db
rep O1 ACK NEW BUY 0 0 100 2024-01-02
rep O1 PARTIAL_FILL PARTIALLY_FILLED BUY 100 100 0 2024-01-02
rep O1 FILL FILLED BUY 50 150 0 2024-01-03
check_fails order_overfill_check O1
# ... but not when a REPLACE raised the quantity to 150
reset_db
rep O1 ACK NEW BUY 0 0 100 2024-01-02
rep O1 PARTIAL_FILL PARTIALLY_FILLED BUY 100 100 0 2024-01-02
rep O1 REPLACED PARTIALLY_FILLED BUY 0 100 50 2024-01-03
rep O1 FILL FILLED BUY 50 150 0 2024-01-03
check_ok "a REPLACE raised the quantity"

# forgotten by the broker: part-filled on Jan 2, its portfolio traded until Feb 20
reset_db
rep O1 ACK NEW BUY 0 0 1042 2024-01-02
rep O1 PARTIAL_FILL PARTIALLY_FILLED BUY 298 298 744 2024-01-02
rep O2 ACK NEW SELL 0 0 50 2024-02-20
rep O2 FILL FILLED SELL 50 50 0 2024-02-20
check_fails open_order_check "stale_training_order.O1"

# open in the DB, finished for the IB adapter
reset_db
rep X1 ACK NEW BUY 0 0 100 2024-01-02 P1 PRODUCTION
q "INSERT INTO ibkr_orders (order_id, client_id, account, tws_order_id, decision_id,
        portfolio_id, strategy_id, profile_version_id, regime_id, universe_id, ticker,
        side, quantity, order_type, tif, event_time, terminal, status)
        VALUES ('X1', 1, 'DU1', 7, 'd', 'P1', 's', 'pv', 'rg', 'u', 'AAA', 'BUY', 100,
        'MARKET', 'DAY', 0, true, 'CANCELED')" >/dev/null
check_fails open_order_check "unknown_to_broker.X1"
q "UPDATE ibkr_orders SET terminal = false, status = 'NEW'" >/dev/null
check_ok "the IB adapter still works on it"

# a portfolio planned in the year 9000
reset_db
q "INSERT INTO planner_portfolios (consumer_group, portfolio_id, last_as_of,
        last_decision_id) VALUES ('exec-planner', 'P9', 221845392000000, 'd-future'),
        ('exec-planner', 'P1', 1704229200000, 'd-ok')" >/dev/null
check_fails planner_portfolio_check P9
q "DELETE FROM planner_portfolios WHERE portfolio_id = 'P9'" >/dev/null
check_ok "portfolios planned up to the past"
echo "test_dbtool_check: ok"
