#!/usr/bin/env bash
# test_poison_values: targets whose values, or the orders planned from them, are out of
# the value bounds (README "Value bounds") are dead-lettered at the stage that sees
# them, and the planner goes on with the same portfolio's next target:
#   validation  a WEIGHT target with weight 1e200, nav 1e200, ref_price 1 (every field
#               finite; its quantity would overflow to inf);
#   planning    weight 1000, nav 1e15, ref_price 1e-6: each within bounds, the target
#               quantity 1e24 is not;
#   encoding    a LIMIT order (rules file: CCC is LIMIT at +5000 bps) whose limit price
#               1.35e9 is above the price bound: refused before it is encoded.
# The valid targets between them are planned with quantities worked out by hand. Then
# the broker: an order on exec.orders with quantity 1e13 is dead-lettered and the next
# one executed. No process restarts.
source "$(dirname "$0")/prologue.sh" poisonval
source "$here/eo_fault_lib.sh"
source "$here/poison_lib.sh"
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=12

python3 "$here/planner_data.py" bars 10 >"$RUN/bars.csv"
printf '*  CCC  order_type=LIMIT limit_offset_bps=5000\n' >"$RUN/rules.txt"
te_stack_up "$RUN"
"$TE_BUILD_DIR/exec-dbtool" load-bars "$RUN/bars.csv" >/dev/null
te_pipeline_up "$RUN" "$RUN/bars.csv" -o plan.rules.file="$RUN/rules.txt"
poison_pids_save
m="$here/poison_msgs.py"
{
        python3 "$m" target pf-v v1 2025-01-06 QUANTITY AAA 100
        python3 "$m" target pf-v bad-weight 2025-01-07 WEIGHT AAA 1e200 1e200 1
        python3 "$m" target pf-v v2 2025-01-07 QUANTITY AAA 150
        python3 "$m" target pf-v bad-plan 2025-01-08 WEIGHT AAA 1000 1e15 1e-6
        python3 "$m" target pf-v v3 2025-01-08 QUANTITY AAA 160
        python3 "$m" target pf-v bad-encode 2025-01-09 QUANTITY CCC 1 - 9e8
        python3 "$m" target pf-v v4 2025-01-09 QUANTITY AAA 170
} >"$RUN/targets.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/targets.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || eo_fail "a partition is blocked or a process died"
poison_same_procs

q "SELECT decision_id, side, (cum_qty + leaves_qty)::int FROM orders ORDER BY first_event_time,
   decision_id" >"$RUN/orders.txt"
printf 'v1 BUY 100\nv2 BUY 50\nv3 BUY 10\nv4 BUY 10\n' >"$RUN/want_orders.txt"
diff -u "$RUN/want_orders.txt" "$RUN/orders.txt" || eo_fail "orders of the valid targets"
[ "$(q "SELECT quantity::int FROM positions WHERE portfolio_id = 'pf-v' AND ticker = 'AAA'")" = 170 ] ||
        eo_fail "final position"

eo_topic_json exec.deadletter >"$RUN/dead.jsonl"
python3 - "$RUN/dead.jsonl" <<'PY' || eo_fail "dead letters"
import json, sys
got = [json.loads(l)["headers"] for l in open(sys.argv[1])]
got = [h["te.reason"] for h in got if h["te.source.topic"] == "exec.targets"]
want = ["out_of_range: field 'nav': out of range: |1e+200|",
        "invalid_value: AAA: target quantity 1e+24 out of range",
        "out_of_range: order NEW CCC: field 'limit_price': out of range"]
if len(got) != len(want) or any(not g.startswith(w) for g, w in zip(got, want)):
    sys.exit("dead letters %s, want %s" % (got, want))
print("ok - 3 dead letters: %s" % got)
PY

# the broker, validation: a NEW order (v1's, its id changed) with quantity 1e13, above
# the quantity bound, is dead-lettered; the order of the next target is still executed
boot=$(cat "$RUN/bootstrap")
python3 - "$RUN" "$boot" "$TE_BUILD_DIR/exec-tail" <<'PY'
import json, struct, subprocess, sys
run, boot, tail = sys.argv[1:4]
out = subprocess.run([tail, "-b", boot, "-t", "exec.orders", "--from-beginning",
                      "--exit-at-end"], capture_output=True, text=True, check=True).stdout
o = next(m for m in map(json.loads, out.splitlines())
         if m["value"]["decision_id"] == "v1" and m["value"]["command"] == "NEW")
b = subprocess.run(["kcat", "-b", boot, "-C", "-t", "exec.orders", "-p",
                    str(o["partition"]), "-o", str(o["offset"]), "-c", "1", "-e", "-q",
                    "-f", "%s"], capture_output=True, check=True).stdout
q = struct.pack("<d", 100.0)
assert b.count(q) == 1, "quantity 100 not found once in v1's order"
oid = o["value"]["order_id"]
b = b.replace(q, struct.pack("<d", 1e13)).replace(oid.encode(), ("z" + oid[1:]).encode())
open(run + "/big_order.bin", "wb").write(b)
PY
kcat -b "$boot" -X partitioner=murmur2_random -P -t exec.orders -k pf-v "$RUN/big_order.bin"
python3 "$m" target pf-v v5 2025-01-10 QUANTITY AAA 180 >"$RUN/v5.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/v5.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 60 || eo_fail "a partition is blocked or a process died"
poison_same_procs
[ "$(q "SELECT quantity::int FROM positions WHERE portfolio_id = 'pf-v' AND ticker = 'AAA'")" = 180 ] ||
        eo_fail "the order after the out-of-range one was not executed"
eo_topic_json exec.deadletter >"$RUN/dead.jsonl"
python3 - "$RUN/dead.jsonl" <<'PY' || eo_fail "the broker's dead letter"
import json, sys
got = [json.loads(l)["headers"] for l in open(sys.argv[1])]
got = [h["te.reason"] for h in got if h["te.source.topic"] == "exec.orders"]
if len(got) != 1 or "field 'quantity': out of range" not in got[0]:
    sys.exit("exec.orders dead letters: %s" % got)
print("ok - the broker dead-lettered: %s" % got[0])
PY
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_poison_values: ok"
