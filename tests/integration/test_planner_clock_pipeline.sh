#!/usr/bin/env bash
# test_planner_clock_pipeline: the TRAINING clock barrier pipelined across portfolios.
# The planner runs with no broker worker at first: every portfolio's first target sends
# its CLOCK at once (one CLOCK per portfolio in flight, the later targets of each wait
# behind it), nothing is planned, and each overdue ACK raises a clock.timeout Alert that
# repeats while it waits. Then the broker worker starts: the ACKs come, everything is
# planned exactly as a run without the wait plans it, and on exec.orders each
# portfolio's commands keep invariant 6: CLOCK(t) of a target only after every command
# of the portfolio's earlier targets, and its orders only after its CLOCK. Final
# positions and the DB checks as in the other planner tests.
source "$(dirname "$0")/prologue.sh" plclock
TE_TEST_LOG_SKIP=kafka.log
tail_topic() { # tail_topic TOPIC OUT: the topic from the beginning to its end
        "$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t "$1" --from-beginning \
                --exit-at-end >"$2" 2>/dev/null
}

python3 "$here/planner_data.py" bars 20 >"$RUN/bars.csv"
python3 "$here/planner_data.py" targets 6 5 >"$RUN/targets.jsonl"
python3 "$here/planner_data.py" expect "$RUN/targets.jsonl" >"$RUN/expected.txt"

te_stack_up "$RUN"
te_pipeline_start "$RUN" sink exec-sink
te_pipeline_start "$RUN" planner exec-planner -o clock.timeout.ms=300
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/targets.jsonl" >/dev/null

# without a broker: wait until every portfolio's CLOCK has been alerted twice
deadline=$((SECONDS + 60))
while :; do
        tail_topic exec.alerts "$RUN/alerts.jsonl"
        n=$(python3 - "$RUN/alerts.jsonl" <<'PY'
import collections, json, sys
c = collections.Counter(json.loads(l)["value"]["portfolio_id"] for l in open(sys.argv[1])
                        if json.loads(l)["value"]["code"] == "clock.timeout")
print(sum(1 for v in c.values() if v >= 2))
PY
)
        [ "$n" -ge 6 ] && break
        [ $SECONDS -lt $deadline ] || fail "clock.timeout alerts for $n of 6 portfolios"
        sleep 0.2
done
tail_topic exec.orders "$RUN/orders0.jsonl"
python3 - "$RUN/orders0.jsonl" <<'PY' || fail "commands sent while no ACK came"
import collections, json, sys
cmds = [json.loads(l)["value"] for l in open(sys.argv[1])]
clocks = collections.Counter(c["portfolio_id"] for c in cmds if c["command"] == "CLOCK")
others = [c for c in cmds if c["command"] != "CLOCK"]
# one CLOCK per portfolio in flight at once, each for its first target; no order
if others or sorted(clocks) != ["pf-%d" % i for i in range(6)] or set(clocks.values()) != {1}:
    sys.exit("expected one CLOCK per portfolio and nothing else, got %d CLOCKs %s and "
             "%d other commands" % (sum(clocks.values()), dict(clocks), len(others)))
first = {c["portfolio_id"]: c["decision_id"] for c in cmds}
if any(d != "d-%s-0" % p[3:] for p, d in first.items()):
    sys.exit("a CLOCK for a later target went out first: %s" % first)
PY
[ "$(q "SELECT count(*) FROM orders")" = 0 ] || fail "orders in the DB before any ACK"

te_pipeline_start "$RUN" broker exec-broker -o sim.bars_csv="$RUN/bars.csv"
te_pipeline_wait_idle "$RUN" 120 || fail "pipeline did not drain once the broker came"

tail_topic exec.orders "$RUN/orders.jsonl"
python3 "$here/planner_data.py" check-orders "$RUN/orders.jsonl" "$RUN/expected.txt" \
        "a run without the wait" || fail "orders on exec.orders"
python3 - "$RUN/orders.jsonl" "$RUN/targets.jsonl" <<'PY' || fail "invariant 6 per portfolio"
import json, sys
cmds = [json.loads(l)["value"] for l in open(sys.argv[1])]
targets = [json.loads(l) for l in open(sys.argv[2])]
for pf in sorted({t["portfolio_id"] for t in targets}):
    order = [t["decision_id"] for t in targets if t["portfolio_id"] == pf]
    seq = [(c["command"], c["decision_id"]) for c in cmds
           if c["portfolio_id"] == pf and c["decision_id"]]
    # the portfolio's commands: per target, its CLOCK(s) then its orders, targets in order
    at = 0  # index in `order` of the target being sent
    clocked = False
    for cmd, did in seq:
        i = order.index(did)
        if cmd == "CLOCK":
            if i == at + 1 and clocked:
                at, clocked = i, True  # the next target's CLOCK after the earlier's orders
            elif i == at:
                clocked = True  # its CLOCK (again after a hold: same id)
            else:
                sys.exit("%s: CLOCK of %s while %s was current" % (pf, did, order[at]))
        elif i != at or not clocked:
            sys.exit("%s: %s %s before its CLOCK (current %s)" % (pf, cmd, did, order[at]))
    if at != len(order) - 1:
        sys.exit("%s: only %d of %d targets reached exec.orders" % (pf, at + 1, len(order)))
print("exec.orders: each portfolio's CLOCKs and orders in target order")
PY
grep '^position ' "$RUN/expected.txt" | cut -d' ' -f2- >"$RUN/want_pos.txt"
q "SELECT portfolio_id, ticker, quantity::int FROM positions WHERE quantity <> 0
   ORDER BY 1, 2" >"$RUN/got_pos.txt"
diff -u "$RUN/want_pos.txt" "$RUN/got_pos.txt" || fail "final positions"
"$TE_BUILD_DIR/exec-dbtool" check >/dev/null || fail "position_check/cash_check not empty"
te_pipeline_down "$RUN" || fail "a process did not exit cleanly on SIGTERM"
echo "test_planner_clock_pipeline: ok"
