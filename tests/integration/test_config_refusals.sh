#!/usr/bin/env bash
# test_config_refusals: settings that would mislead are refused at start-up, before any
# connection, with a message that says what to write instead:
#   exec-broker: sim.commission_max_pct (renamed sim.commission_max_frac: a fraction),
#                sim.commission_max_frac above 0.1, a bad sim.price_increments item,
#                an unknown name in fix.order_types or fix.tifs (from -o or a file);
#   exec-planner: a rules file (plan.rules.file) with the old key `lot`, a line whose
#                max_qty is below its lot, one whose largest order is below min_qty,
#                min_notional above max_notional: each as "file:line: key: why".
# Each process must exit non-zero with that message; no stack is started.
source "$(dirname "$0")/prologue.sh" cfgrefuse

# refused BIN MESSAGE ARGS...: BIN exits non-zero within 20 s and says MESSAGE. A
# bootstrap address is given (a closed port: nothing may connect before the refusal),
# since a process without one stops at that first.
refused() {
        local bin=$1 want=$2 rc=0
        shift 2
        timeout 20 "$TE_BUILD_DIR/$bin" -o bootstrap.servers=127.0.0.1:9 "$@" \
                >"$RUN/out.txt" 2>&1 || rc=$?
        [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "$bin $*: exit $rc, expected a refusal"
        grep -qF -- "$want" "$RUN/out.txt" || {
                cat "$RUN/out.txt"
                fail "$bin $*: no \"$want\""
        }
}

refused exec-broker "sim.commission_max_pct: renamed: use sim.commission_max_frac" \
        -o sim.commission_max_pct=0.01
printf 'sim.commission_max_pct = 0.5\n' >"$RUN/broker.conf"
refused exec-broker "broker.conf:1: sim.commission_max_pct: renamed: use sim.commission_max_frac" \
        -c "$RUN/broker.conf"
refused exec-broker "sim.commission_max_frac: out of range [0, 0.1]: 0.5" \
        -o sim.commission_max_frac=0.5
EXEC_SIM_COMMISSION_MAX_PCT=0.01 refused exec-broker \
        "env EXEC_SIM_COMMISSION_MAX_PCT: sim.commission_max_pct: renamed"
python3 "$here/planner_data.py" bars 3 >"$RUN/bars.csv"
refused exec-broker "sim.price_increments: XYZ: increment '0' is not a number" \
        -o sim.bars_csv="$RUN/bars.csv" -o sim.price_increments=AAA=0.01,XYZ=0
# a set of names (fix.order_types, fix.tifs) is checked when read, whatever the adapter
refused exec-broker "override: fix.order_types: unknown name 'MOC'" \
        -o fix.order_types=MARKET,MOC
printf 'fix.tifs = DAY, GTD\n' >"$RUN/fix.conf"
refused exec-broker "fix.conf:1: fix.tifs: unknown name 'GTD'" -c "$RUN/fix.conf"

rules() { printf '%b' "$1" >"$RUN/rules.txt"; }
rules '# rules\n* * lot=100\n'
refused exec-planner "rules.txt:2: lot: renamed: use lot_size" -o plan.rules.file="$RUN/rules.txt"
rules '* * lot_size=100 min_qty=100\n\nmom AAA max_qty=50\n'
refused exec-planner "rules.txt:3: max_qty: 50 is below the lot size 100: no order can be sent" \
        -o plan.rules.file="$RUN/rules.txt"
rules '* * lot_size=100\n* BBB max_qty=150 min_qty=120\n'
refused exec-planner "rules.txt:2: max_qty: 150 (100 in lots of 100) is below min_qty 120" \
        -o plan.rules.file="$RUN/rules.txt"
rules 'mom * min_notional=5000 max_notional=1000\n'
refused exec-planner "rules.txt:1: min_notional: 5000 is above max_notional 1000" \
        -o plan.rules.file="$RUN/rules.txt"
# the base rule from the plan.* keys, named as the keys
refused exec-planner "plan.max_qty: 5 is below the lot size 10" \
        -o plan.lot_size=10 -o plan.max_qty=5
echo "test_config_refusals: ok (7 broker settings and 5 planner settings refused with what to write instead)"
