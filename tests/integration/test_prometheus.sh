#!/usr/bin/env bash
# test_prometheus: a real Prometheus (Debian's package) scrapes the three processes of
# the embedded stack every second and evaluates ops/prometheus/alerts.yml (the `for:`
# durations shortened to 2 s; the expressions unchanged). Asserted through Prometheus's
# HTTP API:
#   1. the broker worker's adapter goes down after its 6th order (the fault
#      decorator, fault.script) until the test has seen the following: te_broker_up
#      drops to 0 and ExecBrokerDown fires, and the CRITICAL broker_down Alert fires
#      ExecCriticalAlert, whose runbook_url (like ExecBrokerDown's) is absolute through
#      the runbook_base external label; then it resolves when the adapter is back;
#   2. the e2e targets (2 of 12 orders rejected: 17 % > 5 %) and two junk messages:
#      ExecRejectionRateHigh and ExecDeadLetters fire; every target is up, the
#      consumer-lag series exist for the three groups, and every query of
#      ops/grafana/exec-pipeline.json is valid on this Prometheus;
#   3. the Kafka broker is taken down (exec-devstack-ctl broker_down 1): the processes'
#      te_kafka_brokers_up drops to 0, /readyz turns 503, and ExecKafkaBrokersDown fires;
#   4. the Kafka broker comes back: the alert resolves and /readyz is 200 again.
command -v prometheus >/dev/null || { echo "FAIL: prometheus not installed (ops/install-deps)" >&2; exit 1; }
source "$(dirname "$0")/prologue.sh" prom
source "$here/metrics_lib.sh"
PROM_PID=
te_test_cleanup_extra() {
        if [ -n "$PROM_PID" ]; then
                kill -TERM "$PROM_PID" 2>/dev/null || true
                wait "$PROM_PID" 2>/dev/null || true
        fi
}

te_stack_up "$RUN"
mapfile -t ports < <(te_free_ports 4)
P_PLAN=${ports[0]} P_BROKER=${ports[1]} P_SINK=${ports[2]} P_PROM=${ports[3]}
stats=(-o metrics.kafka_stats.ms=500)
te_pipeline_start "$RUN" sink exec-sink -o metrics.port="$P_SINK" "${stats[@]}"
te_pipeline_start "$RUN" broker exec-broker -o sim.bars_csv="$here/data/e2e_bars.csv" \
        -o metrics.port="$P_BROKER" "${stats[@]}" -o fault.script=down_after=6,down_ms=60000,up_file="$RUN/broker-up"
te_pipeline_start "$RUN" planner exec-planner -o plan.lot_size=10 -o metrics.port="$P_PLAN" \
        "${stats[@]}"

# Prometheus: the real rules with short `for:`, the test configuration from ops/
sed -E 's/^( *for: ).*/\12s/' "$src/ops/prometheus/alerts.yml" >"$RUN/alerts.yml"
sed -e "s/@PLANNER@/$P_PLAN/" -e "s/@BROKER@/$P_BROKER/" -e "s/@SINK@/$P_SINK/" \
        -e "s#@RULES@#$RUN/alerts.yml#" "$src/ops/prometheus/prometheus-test.yml" >"$RUN/prometheus.yml"
promtool check config "$RUN/prometheus.yml" >/dev/null
prometheus --config.file="$RUN/prometheus.yml" --storage.tsdb.path="$RUN/prom-data" \
        --web.listen-address="127.0.0.1:$P_PROM" --log.level=warn 2>"$RUN/prometheus.log" &
PROM_PID=$!
te_wait_http "$P_PROM" /-/ready 200 60 || fail "prometheus not ready"

# PromQL through the HTTP API: prints the number of result series and their values
promq() {
        curl -s -G "http://127.0.0.1:$P_PROM/api/v1/query" --data-urlencode "query=$1" |
                python3 -c 'import json, sys
d = json.load(sys.stdin)
assert d["status"] == "success", d
r = d["data"]["result"]
print(len(r), " ".join(sorted(x["value"][1] for x in r)))'
}
wait_promq() { # QUERY WANT TIMEOUT_S
        local got deadline=$((SECONDS + $3))
        while :; do
                got=$(promq "$1" 2>/dev/null || echo "?")
                [ "$got" = "$2" ] && return 0
                [ $SECONDS -lt $deadline ] || { echo "query $1: got '$got', want '$2'" >&2; return 1; }
                sleep 0.5
        done
}
alert_state() { # ALERTNAME -> firing/pending/none (from /api/v1/alerts)
        curl -s "http://127.0.0.1:$P_PROM/api/v1/alerts" | python3 -c 'import json, sys
a = [x for x in json.load(sys.stdin)["data"]["alerts"] if x["labels"]["alertname"] == sys.argv[1]]
print(",".join(sorted(set(x["state"] for x in a))) or "none")' "$1"
}

wait_firing() { # ALERTNAME TIMEOUT_S
        local deadline=$((SECONDS + $2))
        until [ "$(alert_state "$1")" = firing ]; do
                [ $SECONDS -lt $deadline ] || { echo "$1 did not fire ($(alert_state "$1"))" >&2; return 1; }
                sleep 0.5
        done
}
wait_resolved() { # ALERTNAME TIMEOUT_S
        local deadline=$((SECONDS + $2))
        until [ "$(alert_state "$1")" = none ]; do
                [ $SECONDS -lt $deadline ] || { echo "$1 did not resolve" >&2; return 1; }
                sleep 0.5
        done
}

# 1. the trading broker adapter goes down in the middle of the flow
wait_promq 'sum(up{job=~"exec-.*"})' "1 3" 60 || fail "targets not up"
[ "$(alert_state ExecBrokerDown)" = none ] || fail "ExecBrokerDown before the fault"
boot=$(cat "$RUN/bootstrap")
printf 'junk-1\njunk-2\n' | kcat -b "$boot" -P -t exec.targets -k pf-junk
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$here/data/e2e_targets.jsonl" >/dev/null
wait_promq 'min(te_broker_up{adapter="sim"})' "1 0" 30 || fail "te_broker_up did not drop"
wait_firing ExecBrokerDown 30 || fail "ExecBrokerDown"
# the in-band CRITICAL broker_down Alert pages too, and the runbook links are absolute
# (runbook_base external label of prometheus-test.yml)
wait_firing ExecCriticalAlert 30 || fail "ExecCriticalAlert (broker_down)"
curl -s "http://127.0.0.1:$P_PROM/api/v1/alerts" | python3 -c 'import json, sys
a = {x["labels"]["alertname"] + "/" + x["labels"].get("code", ""): x for x in json.load(sys.stdin)["data"]["alerts"]}
base = "https://runbooks.example/exec/blob/main/ops/RUNBOOK.md"
crit = a.get("ExecCriticalAlert/broker_down")
assert crit and crit["labels"]["job"] == "exec-broker", sorted(a)
assert crit["annotations"]["runbook_url"] == base + "#broker_down", crit["annotations"]
down = a["ExecBrokerDown/"]["annotations"]["runbook_url"]
assert down == base + "#execbrokerdown", down' || fail "ExecCriticalAlert labels or runbook_url"
te_wait_http "$P_BROKER" /readyz 503 10 || fail "broker still ready with its adapter down"
touch "$RUN/broker-up" # seen down and alerted: the outage can end
te_pipeline_wait_idle "$RUN" 120
wait_promq 'min(te_broker_up{adapter="sim"})' "1 1" 30 || fail "te_broker_up did not come back"
wait_resolved ExecBrokerDown 30 || fail "ExecBrokerDown"

# 2. rejections and dead letters; the lag series of the three groups
wait_firing ExecRejectionRateHigh 30 || fail "ExecRejectionRateHigh"
wait_firing ExecDeadLetters 30 || fail "ExecDeadLetters"
wait_promq 'sum(up{job=~"exec-.*"})' "1 3" 60 || fail "targets not up"
wait_promq 'count(count by (group) (te_kafka_consumer_lag_messages{group=~"exec-planner|exec-broker-sim|exec-sink"}))' "1 3" 30 ||
        fail "lag series of the three groups"
wait_promq 'count(te_kafka_consumer_lag_messages{group="exec-sink",topic="exec.reports"})' "1 8" 30 ||
        fail "a lag series per partition of exec.reports"
wait_promq 'sum(te_kafka_consumer_lag_messages)' "1 0" 30 || fail "lag not back to 0"
wait_promq 'sum(te_messages_consumed_total{job="exec-sink",topic="exec.reports"}) == sum(te_messages_produced_total{job="exec-broker",topic="exec.reports"})' \
        "1 $(promq 'sum(te_messages_consumed_total{job="exec-sink",topic="exec.reports"})' | cut -d' ' -f2)" 30 ||
        fail "reports produced by the broker != consumed by the sink"
[ "$(alert_state ExecKafkaBrokersDown)" = none ] || fail "broker alert before the fault"
# every query of the Grafana dashboard is valid PromQL on this Prometheus
python3 - "$src/ops/grafana/exec-pipeline.json" "$P_PROM" <<'PY' || fail "dashboard queries"
import json, sys, urllib.error, urllib.parse, urllib.request
d = json.load(open(sys.argv[1]))
n, bad = 0, []
for p in d["panels"]:
    for t in p.get("targets", []):
        e = t["expr"].replace("$job", "exec-.*")
        u = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[2], urllib.parse.urlencode({"query": e}))
        n += 1
        try:
            r = json.load(urllib.request.urlopen(u, timeout=5))
            if r.get("status") != "success":
                bad.append((e, r))
        except urllib.error.HTTPError as ex:
            bad.append((e, ex.read().decode()))
if bad or n < 20:
    print("invalid dashboard queries (%d checked): %s" % (n, bad), file=sys.stderr)
    sys.exit(1)
PY

# 3. the fault: the only Kafka broker of the mock cluster goes down
"$TE_BUILD_DIR/exec-devstack-ctl" --ctl "$RUN/ctl" broker_down 1 >/dev/null
wait_promq 'max(te_kafka_brokers_up)' "1 0" 60 || fail "brokers_up did not drop to 0"
te_wait_http "$P_SINK" /readyz 503 30 || fail "sink still ready with Kafka down"
deadline=$((SECONDS + 60))
until [ "$(alert_state ExecKafkaBrokersDown)" = firing ]; do
        [ $SECONDS -lt $deadline ] || fail "ExecKafkaBrokersDown did not fire ($(alert_state ExecKafkaBrokersDown))"
        sleep 0.5
done
# one alert per process (job, instance), each firing
wait_promq 'count(ALERTS{alertname="ExecKafkaBrokersDown",alertstate="firing"})' "1 3" 30 ||
        fail "expected the alert for the three processes"

# 4. recovery
"$TE_BUILD_DIR/exec-devstack-ctl" --ctl "$RUN/ctl" broker_up 1 >/dev/null
wait_promq 'min(te_kafka_brokers_up) > 0' "1 1" 60 || fail "brokers did not come back"
deadline=$((SECONDS + 60))
until [ "$(alert_state ExecKafkaBrokersDown)" = none ]; do
        [ $SECONDS -lt $deadline ] || fail "ExecKafkaBrokersDown did not resolve"
        sleep 0.5
done
te_wait_http "$P_SINK" /readyz 200 60 || fail "sink not ready again"

te_pipeline_down "$RUN" || fail "a process did not exit cleanly on SIGTERM"
echo "test_prometheus: ok (ExecBrokerDown, ExecRejectionRateHigh, ExecDeadLetters fired; lag series present; ExecKafkaBrokersDown fired on broker_down and resolved)"
