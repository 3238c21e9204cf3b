#!/usr/bin/env bash
# test_planner_invalid: every kind of invalid target is dead-lettered with its reason
# and an Alert, and the valid targets behind it (same portfolio, same partition) are
# still planned. Kinds: NaN value and duplicate tickers (raw Avro bytes, since the
# publisher refuses them), a negative weight without shorting, a ticker unknown to the
# market data (prices_daily), gross leverage above the limit, as_of going backwards.
# One valid target is a weight without ref_price, priced from prices_daily (loaded from
# the same bars): its quantity is worked out by hand.
# Then exec.mode: undecodable bytes, an unknown schema id, a timestamp before 1970, a
# pattern scope ("pf-*") and a padded scope ("pf-v ") are each dead-lettered with their
# reason, alerted and counted in te_deadletters_total; the valid HALT behind them takes
# effect (the next target is planned and sends nothing).
source "$(dirname "$0")/prologue.sh" plinvalid
source "$here/metrics_lib.sh"
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=12

python3 "$here/planner_data.py" bars 10 >"$RUN/bars.csv"
te_stack_up "$RUN"
"$TE_BUILD_DIR/exec-dbtool" load-bars "$RUN/bars.csv" >/dev/null
mport=$(te_free_ports 1)
te_pipeline_up "$RUN" "$RUN/bars.csv" -o plan.allow_short=false \
        -o plan.max_gross_leverage=1.5 -o metrics.port="$mport"
boot=$(cat "$RUN/bootstrap")

# one line per message, in order: "json <target JSON>" or "raw <file>"
python3 - "$RUN" <<'PY'
import json, struct, sys
run = sys.argv[1]
def target(did, day, unit, tg, nav=None):
    m = {"decision_id": did, "portfolio_id": "pf-v", "strategy_id": "s",
         "profile_version_id": "pv", "regime_id": "r", "universe_id": "u",
         "mode": "TRAINING", "as_of": "2025-01-%02dT21:00:00Z" % (6 + day), "unit": unit,
         "full_replace": False, "targets": tg}
    if nav is not None:
        m["nav"] = nav
    return m
# hand-written Avro (Confluent framing, schema id 1001) for what JSON cannot carry
def zz(n):
    n = (n << 1) ^ (n >> 63)
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])
def s(x):
    x = x.encode()
    return zz(len(x)) + x
def raw(did, day, tg):
    import calendar, datetime
    t = calendar.timegm(datetime.datetime(2025, 1, 6 + day, 21).timetuple()) * 1000
    b = b"\0" + struct.pack(">i", 1001)
    b += s(did) + s("pf-v") + s("s") + s("pv") + s("r") + s("u")
    b += zz(1) + zz(t) + zz(1) + zz(0) + b"\0"  # TRAINING, as_of, QUANTITY, nav null, not full
    b += zz(len(tg)) + b"".join(s(k) + struct.pack("<d", v) + zz(0) for k, v in tg) + zz(0)
    return b
steps = [
    ("json", target("v1", 0, "QUANTITY", [{"ticker": "AAA", "value": 100}])),
    ("raw", raw("bad-nan", 1, [("AAA", float("nan"))])),
    ("json", target("v2", 1, "QUANTITY", [{"ticker": "AAA", "value": 150}])),
    ("json", target("bad-short", 2, "WEIGHT", [{"ticker": "AAA", "value": -0.1, "ref_price": 20}], 100000)),
    # 0.5 x 10000 / close of AAA on day 2 (20.50 in planner_data.py) = 243.9 -> 243
    ("json", target("v3", 2, "WEIGHT", [{"ticker": "AAA", "value": 0.5}], 10000)),
    ("json", target("bad-unknown", 3, "QUANTITY", [{"ticker": "ZZZ", "value": 5}])),
    ("json", target("v4", 3, "QUANTITY", [{"ticker": "AAA", "value": 50}])),
    ("json", target("bad-leverage", 4, "WEIGHT", [{"ticker": "AAA", "value": 1.0, "ref_price": 20}, {"ticker": "BBB", "value": 1.0, "ref_price": 30}], 10000)),
    ("json", target("v5", 4, "QUANTITY", [{"ticker": "AAA", "value": 60}])),
    ("raw", raw("bad-dup", 5, [("AAA", 1.0), ("AAA", 2.0)])),
    ("json", target("v6", 5, "QUANTITY", [{"ticker": "AAA", "value": 70}])),
    ("json", target("bad-back", 1, "QUANTITY", [{"ticker": "AAA", "value": 1}])),
    ("json", target("v7", 6, "QUANTITY", [{"ticker": "AAA", "value": 80}])),
]
with open(run + "/steps.txt", "w") as f:
    for i, (kind, m) in enumerate(steps):
        if kind == "json":
            p = "%s/step%02d.jsonl" % (run, i)
            open(p, "w").write(json.dumps(m) + "\n")
        else:
            p = "%s/step%02d.avro" % (run, i)
            open(p, "wb").write(m)
        f.write("%s %s\n" % (kind, p))
PY
while read -r kind file; do
        if [ "$kind" = json ]; then
                "$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$file" >/dev/null
        else
                kcat -b "$boot" -P -t exec.targets -k pf-v -X partitioner=murmur2_random "$file"
        fi
done <"$RUN/steps.txt"
te_pipeline_wait_idle "$RUN" 120 || fail "pipeline did not drain"

# the valid targets were planned, with the quantities worked out by hand
q "SELECT decision_id, side, (cum_qty + leaves_qty)::int FROM orders ORDER BY first_event_time,
   decision_id" >"$RUN/orders.txt"
cat >"$RUN/want_orders.txt" <<'TXT'
v1 BUY 100
v2 BUY 50
v3 BUY 93
v4 SELL 193
v5 BUY 10
v6 BUY 10
v7 BUY 10
TXT
diff -u "$RUN/want_orders.txt" "$RUN/orders.txt" || fail "orders of the valid targets"
[ "$(q "SELECT quantity::int FROM positions WHERE portfolio_id = 'pf-v' AND ticker = 'AAA'")" = 80 ] ||
        fail "final position"

# exec.mode: five messages the planner cannot apply, then a valid HALT for pf-v
python3 - "$RUN" <<'PY'
import struct, sys
run = sys.argv[1]
def zz(n):
    n = (n << 1) ^ (n >> 63)
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])
def s(x):
    x = x.encode()
    return zz(len(x)) + x
def mode(scope, level, t, schema=1002):
    return b"\0" + struct.pack(">i", schema) + s(scope) + zz(level) + zz(t) + s("test")
feb1 = 1738368000000
bad = [mode("pf-v", 0, feb1)[:9],            # truncated inside the scope
       mode("pf-v", 0, feb1, schema=1099),   # unknown schema id
       mode("pf-v", 0, -1000),               # effective_from before 1970
       mode("pf-*", 0, feb1),                # a pattern: would match no portfolio
       mode("pf-v ", 0, feb1)]               # padded: would match no portfolio
for i, b in enumerate(bad):
    open("%s/mode%d.avro" % (run, i), "wb").write(b)
PY
for i in 0 1 2 3 4; do
        kcat -b "$boot" -P -t exec.mode -k pf-v "$RUN/mode$i.avro"
done
printf '{"scope":"pf-v","level":"HALT","effective_from":"2025-02-01T00:00:00Z","reason":"test"}\n' |
        "$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" --type mode - >/dev/null
halt_seen() { grep '"planner.mode"' "$RUN/planner.log" | grep -q 'scope=pf-v level=HALT'; }
deadline=$((SECONDS + 30))
until halt_seen; do
        [ $SECONDS -lt $deadline ] || fail "the planner did not apply the HALT behind the bad mode messages"
        sleep 0.05
done
[ "$(grep -c '"planner.bad_mode"' "$RUN/planner.log")" = 5 ] || fail "5 bad mode messages logged"
python3 -c 'import json
print(json.dumps({"decision_id": "v8", "portfolio_id": "pf-v", "strategy_id": "s",
    "profile_version_id": "pv", "regime_id": "r", "universe_id": "u", "mode": "TRAINING",
    "as_of": "2025-01-13T21:00:00Z", "unit": "QUANTITY", "full_replace": False,
    "targets": [{"ticker": "AAA", "value": 200}]}))' >"$RUN/v8.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/v8.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 60 || fail "v8 not consumed"
"$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t exec.orders --from-beginning \
        --exit-at-end >"$RUN/orders.jsonl" 2>/dev/null
n_v8=$(python3 -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) for m in [json.loads(l)["value"]]
          if m["decision_id"] == "v8" and m["command"] == "NEW"))' "$RUN/orders.jsonl")
[ "$n_v8" = 0 ] || fail "$n_v8 orders of v8 were sent under HALT"
[ "$(q "SELECT quantity::int FROM positions WHERE portfolio_id = 'pf-v' AND ticker = 'AAA'")" = 80 ] ||
        fail "position moved under HALT"

# each invalid one is on exec.deadletter with its reason, and alerted
"$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t exec.deadletter --from-beginning \
        --exit-at-end >"$RUN/dead.jsonl" 2>/dev/null
"$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t exec.alerts --from-beginning \
        --exit-at-end >"$RUN/alerts.jsonl" 2>/dev/null
python3 - "$RUN/dead.jsonl" "$RUN/alerts.jsonl" <<'PY' || fail "dead letters / alerts"
import json, sys
by_topic = {}
for l in open(sys.argv[1]):
    h = json.loads(l).get("headers", {})
    r = h.get("te.reason")
    by_topic.setdefault(h.get("te.source.topic"), []).append(
        r if isinstance(r, str) else json.dumps(r))
want = {"exec.targets": ["not a finite number", "short_not_allowed", "unknown_ticker",
                         "leverage_limit", "duplicate", "as_of_backwards"],
        "exec.mode": ["truncated", "schema_id", "invalid: field 'effective_from'",
                      'invalid_scope: scope "pf-*"', 'invalid_scope: scope "pf-v "']}
if sorted(by_topic) != sorted(want):
    sys.exit("dead letters from %s, expected %s" % (sorted(by_topic), sorted(want)))
for topic, w in want.items():
    got = by_topic[topic]
    if len(got) != len(w):
        sys.exit("%s: %d dead letters, expected %d: %s" % (topic, len(got), len(w), got))
    for r, x in zip(got, w):
        if x not in r:
            sys.exit("%s: dead letter reason %r does not say %r" % (topic, r, x))
# every invalid target decoded (its values were refused): its dead letter is keyed by
# "portfolio_id/decision_id", with the ids and the original key in headers
dids = ["bad-nan", "bad-short", "bad-unknown", "bad-leverage", "bad-dup", "bad-back"]
dead_t = [json.loads(l) for l in open(sys.argv[1])]
dead_t = [d for d in dead_t if d.get("headers", {}).get("te.source.topic") == "exec.targets"]
for d, did in zip(dead_t, dids):
    h = d["headers"]
    if (d.get("key") != "pf-v/" + did or h.get("te.portfolio_id") != "pf-v"
            or h.get("te.decision_id") != did or h.get("te.source.key") != "pf-v"):
        sys.exit("dead letter of %s: key %r headers %s" % (did, d.get("key"), h))
alerts = [json.loads(l)["value"] for l in open(sys.argv[2])]
alerts = [a for a in alerts if a["source"] == "exec-planner"]
t_alerts = [a for a in alerts if a["message"].startswith("target dead-lettered")]
got_ids = [(a["portfolio_id"], a["decision_id"]) for a in t_alerts]
if got_ids != [("pf-v", d) for d in dids]:
    sys.exit("ids of the target alerts: %s" % got_ids)
codes = [a["code"] for a in alerts]
for w in ["short_not_allowed", "unknown_ticker", "leverage_limit", "as_of_backwards"]:
    if w not in codes:
        sys.exit("no alert with code %s in %s" % (w, codes))
mode_codes = [a["code"] for a in alerts
              if a["message"].startswith("exec.mode message dead-lettered")]
if mode_codes != ["truncated", "schema_id", "invalid", "invalid_scope", "invalid_scope"]:
    sys.exit("alerts for the bad mode messages: %s" % mode_codes)
if len(alerts) != 11:
    sys.exit("%d planner alerts, expected 11: %s" % (len(alerts), codes))
print("dead letters: %s" % by_topic)
PY
[ "$(te_metric "$mport" te_deadletters_total)" = 11 ] ||
        fail "te_deadletters_total is $(te_metric "$mport" te_deadletters_total), want 11"
[ "$(te_metric "$mport" te_deadletters_total reason=invalid_scope)" = 2 ] ||
        fail "te_deadletters_total{reason=invalid_scope} is not 2"
te_pipeline_stop "$RUN" planner || fail "the planner did not exit cleanly"
# v8 was consumed (committed, above) and planned under HALT: halted=1
grep '"planner.stop"' "$RUN/planner.log" | grep -q 'dead_lettered=11 .*halted=1 .*bad_modes=5 ' ||
        fail "the planner's counters: $(grep '"planner.stop"' "$RUN/planner.log")"
te_pipeline_down "$RUN" || fail "a process did not exit cleanly on SIGTERM"
echo "test_planner_invalid: ok (6 kinds of target and 5 bad exec.mode messages dead-lettered, alerted and counted; 7 valid targets planned; the HALT behind the bad modes holds)"
