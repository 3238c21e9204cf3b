#!/usr/bin/env bash
# test_planner_wrong_partitioner: targets produced by a confluent-kafka (librdkafka)
# client left on its default partitioner land on other partitions than their
# portfolios' orders and reports. Two planner instances share the partitions; the
# targets are published twice, each time on a fresh stack: run A with
# partitioner=murmur2_random (as Risk must), run B with the client's default. In run B
# every target on the wrong partition is re-published to murmur2(portfolio_id) with
# te.rerouted.from, and planned there by that partition's owner only. Checks, for both
# runs: each portfolio planned by exactly one instance, the one assigned its partition;
# the NEW orders those of a single planner over the whole book (planner_data.py); the
# copies on exec.targets carry the original bytes; run B counted its re-published
# targets and alerted (one Alert per producer and instance); and the trades of run B are
# those of run A.
source "$(dirname "$0")/prologue.sh" plwrongpart
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=12
TE_TEST_PIPELINE=(planner2)
PY=${TE_RISK_PYTHON:-/usr/bin/python3}
"$PY" -c 'import confluent_kafka' 2>/dev/null ||
        fail "$PY has no confluent_kafka: install python3-confluent-kafka (ops/install-deps)"
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
        local deadline=$((SECONDS + $1)) what=$2
        shift 2
        until "$@"; do
                [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
                sleep 0.05
        done
}
# the last assignment of planner instance $1 has $2 partitions
assigned_n() {
        grep '"planner.assigned"' "$run/$1.log" 2>/dev/null | tail -n 1 |
                grep -q "\"msg\":\"$2 partitions"
}
N_PARTS=8

top=$RUN
python3 "$here/planner_data.py" bars 30 >"$top/bars.csv"
python3 "$here/planner_data.py" targets 8 14 23 >"$top/targets.jsonl"
python3 "$here/planner_data.py" expect "$top/targets.jsonl" >"$top/expected.txt"

# one run on a fresh stack: run_once NAME PARTITIONER
run_once() {
        local name=$1 partitioner=$2
        run=$top/$name
        mkdir -p "$run"
        chmod 755 "$top" "$run"
        RUN=$run # the EXIT trap stops the stack of the run in progress
        te_stack_up "$run"
        te_pipeline_up "$run" "$top/bars.csv" -o log.level=debug
        te_pipeline_start "$run" planner2 exec-planner -o log.level=debug
        wait_for 90 "two planners with 4 partitions each" \
                eval 'assigned_n planner 4 && assigned_n planner2 4'
        "$PY" "$here/risk_producer.py" produce "$(cat "$run/bootstrap")" \
                "$top/targets.jsonl" "$partitioner" "$run/placed.txt" ||
                fail "$name: the Risk producer failed"
        local deadline=$((SECONDS + 120))
        until "$TE_BUILD_DIR/exec-lag" --bootstrap-file "$run/bootstrap" \
                --kafka exec-planner:exec.targets --kafka exec-broker-sim:exec.orders \
                --db exec-sink:exec.reports >"$run/lag.txt" 2>&1; do
                [ $SECONDS -lt $deadline ] || { cat "$run/lag.txt"; fail "$name: not drained"; }
                for p in planner planner2; do
                        kill -0 "$(cat "$run/$p.pid")" || fail "$name: $p died"
                done
                sleep 0.2
        done
        "$TE_BUILD_DIR/exec-tail" --bootstrap-file "$run/bootstrap" -t exec.orders \
                --from-beginning --exit-at-end >"$run/orders.jsonl" 2>/dev/null
        "$TE_BUILD_DIR/exec-tail" --bootstrap-file "$run/bootstrap" -t exec.alerts \
                --from-beginning --exit-at-end >"$run/alerts.jsonl" 2>/dev/null
        "$PY" "$here/risk_producer.py" check-topic "$(cat "$run/bootstrap")" $N_PARTS \
                "$run/topic.txt" || fail "$name: exec.targets"
        python3 "$here/planner_data.py" check-orders "$run/orders.jsonl" \
                "$top/expected.txt" "a single planner's" || fail "$name: orders"
        q "SELECT decision_id, ticker, direction, size, price, commission FROM trades
           ORDER BY trade_id" >"$run/trades.txt"
        [ -s "$run/trades.txt" ] || fail "$name: no trades"
        te_pipeline_down "$run" planner2 || fail "$name: a process did not exit cleanly"
        # who planned what: each portfolio by one instance, the owner of its partition
        python3 - "$run" $N_PARTS "$here" <<'PYEOF' || fail "$name: ownership"
import json, sys
sys.path.insert(0, sys.argv[3])
from risk_producer import java_partition
run, n = sys.argv[1], int(sys.argv[2])
planned, owned = {}, {}
for inst in ("planner", "planner2"):
    for line in open("%s/%s.log" % (run, inst)):
        if not line.startswith("{"):
            continue
        e = json.loads(line)
        if e.get("event") == "planner.assigned":
            msg = e["msg"]
            owned[inst] = {int(p) for p in msg[msg.index("[") + 1:msg.index("]")].split(",")}
        elif e.get("event") == "target.planned":
            planned.setdefault(e["portfolio_id"], set()).add(inst)
if len(planned) != 8:
    sys.exit("portfolios planned: %s" % sorted(planned))
for pf, insts in sorted(planned.items()):
    part = java_partition(pf, n)
    if len(insts) != 1:
        sys.exit("%s planned by %s" % (pf, sorted(insts)))
    (inst,) = insts
    if part not in owned[inst]:
        sys.exit("%s (partition %d) planned by %s, owner of %s" % (pf, part, inst, sorted(owned[inst])))
print("every portfolio planned by one instance, the owner of its partition")
PYEOF
        # rerouted targets: from the instances' stop lines
        rerouted=0
        for p in planner planner2; do
                local r
                r=$(grep '"planner.stop"' "$run/$p.log" | grep -o 'rerouted=[0-9]*' | cut -d= -f2)
                rerouted=$((rerouted + ${r:-0}))
        done
        misplaced=$("$PY" - "$run/placed.txt" $N_PARTS "$here" <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[3])
from risk_producer import java_partition
n = int(sys.argv[2])
print(sum(1 for l in open(sys.argv[1]) if l.strip()
          and int(l.split()[1]) != java_partition(l.split()[0], n)))
PYEOF
)
        alerts=$(grep -c '"target_wrong_partition"' "$run/alerts.jsonl" || true)
        echo "$name: $misplaced targets on the wrong partition, $rerouted re-published, $alerts alerts"
        [ "$rerouted" -eq "$misplaced" ] || fail "$name: $rerouted re-published, $misplaced misplaced"
        grep -q "copies $misplaced\$" "$run/topic.txt" || fail "$name: copies on exec.targets"
        if [ "$misplaced" -eq 0 ]; then
                [ "$alerts" -eq 0 ] || fail "$name: alerts without a misplaced target"
        else
                # one per producer (strategy_id "s") and instance that saw one
                [ "$alerts" -ge 1 ] && [ "$alerts" -le 2 ] || fail "$name: $alerts alerts"
                grep '"target_wrong_partition"' "$run/alerts.jsonl" | head -n 1 |
                        grep -q 'partitioner=murmur2_random' || fail "$name: alert text"
        fi
        # te_stack_down removes the run's directory: keep what is compared
        cp "$run/trades.txt" "$top/$name.trades.txt"
        cp "$run/topic.txt" "$top/$name.topic.txt"
        te_stack_down "$run" || true
}

run_once a murmur2_random
run_once b default
misplaced_b=$(grep -o 'copies [0-9]*' "$top/b.topic.txt" | cut -d' ' -f2)
[ "$misplaced_b" -gt 0 ] || fail "the default partitioner put no target elsewhere: no test"
diff -u "$top/a.trades.txt" "$top/b.trades.txt" || fail "trades differ from the murmur2 run"
RUN=$top
echo "test_planner_wrong_partitioner: ok ($misplaced_b targets re-published; trades equal the murmur2 run)"
