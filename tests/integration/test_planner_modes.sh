#!/usr/bin/env bash
# test_planner_modes: exec.mode levels on the running pipeline, with resting LIMIT
# orders (buy limits 10% under the market never trade in these bars):
#   EMERGENCY for pf-a cancels pf-a's resting order at once (no target needed) and trades
#     toward pf-a's last target with a MARKET order marked EMERGENCY, as does the next
#     target; pf-b's order keeps resting;
#   HALT for "*" cancels pf-b's resting order at once and nothing new is sent for
#     targets of either portfolio;
#   NORMAL for "*" (later) plans again; REDUCE_ONLY for pf-a (later still) drops an
#     increase and lets a reduction through.
source "$(dirname "$0")/prologue.sh" plmodes
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=12
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
        local deadline=$((SECONDS + $1)) what=$2
        shift 2
        until "$@"; do
                [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
                sleep 0.05
        done
}
status_of() { [ "$(q "SELECT string_agg(status, ',' ORDER BY order_id) FROM orders WHERE decision_id = '$1'")" = "$2" ]; }
target() { # target DECISION PORTFOLIO DAY QTY
        printf '{"decision_id":"%s","portfolio_id":"%s","strategy_id":"s","profile_version_id":"pv","regime_id":"r","universe_id":"u","mode":"TRAINING","as_of":"2025-01-%02dT21:00:00Z","unit":"QUANTITY","full_replace":false,"targets":[{"ticker":"AAA","value":%s}]}\n' \
                "$1" "$2" $((6 + $3)) "$4" |
                "$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" - >/dev/null
}
mode() { # mode SCOPE LEVEL EFFECTIVE_DAY
        printf '{"scope":"%s","level":"%s","effective_from":"2025-02-%02dT00:00:00Z","reason":"test"}\n' \
                "$1" "$2" "$3" |
                "$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" --type mode - >/dev/null
}
planner_idle() {
        "$TE_BUILD_DIR/exec-lag" --bootstrap-file "$RUN/bootstrap" --kafka exec-planner:exec.targets \
                >/dev/null 2>&1
}
mode_seen() { [ "$(grep -c '"planner.mode"' "$RUN/planner.log")" -ge "$1" ]; }
new_orders_of() { # decision -> "command side qty type aggressiveness" lines on exec.orders
        "$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t exec.orders \
                --from-beginning --exit-at-end 2>/dev/null |
                python3 -c 'import json, sys
for l in sys.stdin:
    m = json.loads(l)["value"]
    if m["decision_id"] == sys.argv[1] and m["command"] == "NEW":
        print(m["side"], int(m["quantity"]), m["order_type"], m["aggressiveness"])' "$1"
}

python3 "$here/planner_data.py" bars 12 >"$RUN/bars.csv"
te_stack_up "$RUN"
"$TE_BUILD_DIR/exec-dbtool" load-bars "$RUN/bars.csv" >/dev/null
te_pipeline_up "$RUN" "$RUN/bars.csv" -o plan.order_type=LIMIT -o plan.tif=GTC \
        -o plan.limit_offset_bps=-1000

target a1 pf-a 0 100
target b1 pf-b 0 100
wait_for 60 "a1 resting" status_of a1 NEW
wait_for 60 "b1 resting" status_of b1 NEW
[ "$(new_orders_of a1)" = "BUY 100 LIMIT NORMAL" ] || fail "a1: $(new_orders_of a1)"

# EMERGENCY pf-a, with no target to trigger it: the resting order is cancelled and the
# last target (a1) is traded at once with a MARKET order marked EMERGENCY (new leg ids)
mode pf-a EMERGENCY 1
pos_is() { [ "$(q "SELECT coalesce(sum(quantity), 0)::int FROM positions WHERE portfolio_id = '$1'")" = "$2" ]; }
wait_for 60 "pf-a bought at once" pos_is pf-a 100
[ "$(q "SELECT string_agg(status, ',' ORDER BY status) FROM orders WHERE decision_id = 'a1'")" = \
  "CANCELED,FILLED" ] || fail "a1: resting order cancelled, emergency order filled"
[ "$(new_orders_of a1)" = "BUY 100 LIMIT NORMAL
BUY 100 MARKET EMERGENCY" ] || fail "a1: $(new_orders_of a1)"
status_of b1 NEW || fail "b1 must keep resting under pf-a's EMERGENCY"
target a2 pf-a 1 150
wait_for 60 "a2 filled" status_of a2 FILLED
[ "$(new_orders_of a2)" = "BUY 50 MARKET EMERGENCY" ] || fail "a2: $(new_orders_of a2)"

# HALT everything: b1 cancelled at once; targets consumed but nothing sent
mode '*' HALT 2
wait_for 60 "b1 cancelled" status_of b1 CANCELED
target a3 pf-a 2 0
target b2 pf-b 2 300
wait_for 60 "the planner to consume the halted targets" planner_idle
[ -z "$(new_orders_of a3)$(new_orders_of b2)" ] || fail "orders sent under HALT"

# NORMAL again (later than every other entry), then REDUCE_ONLY for pf-a
mode '*' NORMAL 3
wait_for 30 "NORMAL seen" mode_seen 3
target b3 pf-b 3 50
wait_for 60 "b3 resting" status_of b3 NEW
[ "$(new_orders_of b3)" = "BUY 50 LIMIT NORMAL" ] || fail "b3: $(new_orders_of b3)"
mode pf-a REDUCE_ONLY 4
wait_for 30 "REDUCE_ONLY seen" mode_seen 4
target a4 pf-a 4 200
target a5 pf-a 5 40
wait_for 60 "a5 resting" status_of a5 NEW
[ -z "$(new_orders_of a4)" ] || fail "REDUCE_ONLY let an increase through: $(new_orders_of a4)"
[ "$(new_orders_of a5)" = "SELL 110 LIMIT NORMAL" ] || fail "a5: $(new_orders_of a5)"
pos_is pf-a 150 || fail "pf-a position"
[ "$(q "SELECT count(*) FROM positions WHERE portfolio_id = 'pf-b' AND quantity <> 0")" = 0 ] ||
        fail "pf-b must hold nothing"
te_pipeline_down "$RUN" || fail "a process did not exit cleanly on SIGTERM"
echo "test_planner_modes: ok (EMERGENCY cancels and trades at once, HALT cancels resting orders at once, HALT sends nothing, NORMAL and REDUCE_ONLY plan)"
