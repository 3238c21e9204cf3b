#!/usr/bin/env bash
# test_planner_price_outage: a failed price lookup is "unknown now", not "no price"
# (docs/DESIGN.md invariant 10). WEIGHT targets without ref_price need the price from
# prices_daily. The same stream runs twice on fresh stacks: once without an outage, once
# with PostgreSQL stopped (pg_ctl stop -m immediate) twice in mid-stream, each time
# while a part of the stream is published. During each outage the planner must keep the
# targets whose price lookup failed (planner.db_retry "price lookup", partition paused)
# and plan them once PostgreSQL is back: no dead letter at all, and the trades (sha256
# of the ordered trades) equal those of the run without the outage. (The sink's side of
# an immediate stop: commits acknowledged just before it may be lost, the sink goes back
# to the DB's offsets on its new connection, sink.reseek.)
source "$(dirname "$0")/prologue.sh" plprice
source "$here/eo_fault_lib.sh"
TE_TEST_LOG_LINES=12
pgbin=${TE_PG_BIN:-/usr/lib/postgresql/15/bin}
pg_ctl_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$pgbin/pg_ctl" "$@"; else "$pgbin/pg_ctl" "$@"; fi; }
count() { grep -F -- "$2" "$RUN/$1.log" 2>/dev/null | grep -c -F -- "$3" || true; }

python3 "$here/planner_data.py" bars 40 >"$RUN/bars.csv"
# 5 portfolios x 24 days of TRAINING WEIGHT targets, NAV given, no ref_price
python3 - "$RUN" <<'PY'
import datetime, json, random, sys
run = sys.argv[1]
rnd = random.Random(11)
day0 = datetime.date(2025, 1, 6)
parts = [[], [], []]
for k in range(24):
    for p in range(5):
        tg = [{"ticker": t, "value": rnd.choice([0.0, 0.05, 0.1, 0.2, 0.3])}
              for t in ("AAA", "BBB", "CCC") if rnd.random() < 0.85]
        parts[k // 8].append(json.dumps({
            "decision_id": "w-%d-%d" % (p, k), "portfolio_id": "pw-%d" % p,
            "strategy_id": "s", "profile_version_id": "pv", "regime_id": "r",
            "universe_id": "u", "mode": "TRAINING",
            "as_of": "%sT21:00:00Z" % (day0 + datetime.timedelta(days=k)),
            "unit": "WEIGHT", "nav": 100000.0, "full_replace": True, "targets": tg}))
for i, lines in enumerate(parts):
    with open("%s/part%d.jsonl" % (run, i + 1), "w") as f:
        f.write("\n".join(lines) + "\n")
PY

publish() { "$TE_BUILD_DIR/exec-publish" --bootstrap-file "$1/bootstrap" "$2" >/dev/null; }
trades() {
        eo_q "SELECT trade_id, ticker, direction, size, price, order_id, decision_id,
                commission, mode FROM trades ORDER BY trade_id"
}
# a run's result: the trades' sha256 and count, the dead letters
result() {
        local n dead
        n=$(eo_q "SELECT count(*) FROM trades")
        dead=$("$TE_BUILD_DIR/exec-tail" --bootstrap-file "$1/bootstrap" -t exec.deadletter \
                --from-beginning --exit-at-end 2>/dev/null | grep -c . || true)
        echo "trades=$n sha256=$(trades | sha256sum | cut -d' ' -f1) dead_letters=$dead"
}

# the run without an outage, on its own stack
ref=$RUN/ref
mkdir -p "$ref"
chmod 755 "$RUN" "$ref"
te_test_cleanup_extra() {
        te_pipeline_down "$ref" >/dev/null 2>&1 || true
        te_stack_down "$ref" >/dev/null 2>&1 || true
}
te_stack_up "$ref"
"$TE_BUILD_DIR/exec-dbtool" load-bars "$RUN/bars.csv" >/dev/null
te_pipeline_up "$ref" "$RUN/bars.csv"
for i in 1 2 3; do publish "$ref" "$RUN/part$i.jsonl"; done
te_pipeline_wait_idle "$ref" 180 || eo_fail "the run without an outage did not finish"
want=$(result "$ref")
te_pipeline_down "$ref" || eo_fail "a process of the reference run did not exit cleanly"
te_stack_down "$ref"
echo "without an outage: $want"
case $want in *" dead_letters=0") ;; *) eo_fail "the reference run dead-lettered something" ;; esac

# the same stream with PostgreSQL stopped twice while part 2 and part 3 are consumed
te_stack_up "$RUN"
"$TE_BUILD_DIR/exec-dbtool" load-bars "$RUN/bars.csv" >/dev/null
te_pipeline_up "$RUN" "$RUN/bars.csv"
publish "$RUN" "$RUN/part1.jsonl"
# the planner kept a target and retried (new code), or gave up on one (old code)
stalled_or_dead() {
        [ "$(count planner '"planner.db_retry"' 'price lookup')" -ge "$1" ] ||
                [ "$(count planner '"target.dead_letter"' '')" -gt 0 ]
}
need=2
for i in 2 3; do
        # every part before is planned and its state saved (the planner commits its
        # target offsets in Kafka only after the DB holds its state), so the outage
        # finds the planner idle and the next part's price lookups are what fail. Without
        # this wait, outage 2 could begin while the planner was still saving the state of
        # the targets kept over outage 1: it then waited in "save state" and never reached
        # a price lookup of part 3 during the outage.
        te_pipeline_wait_idle "$RUN" 120 || eo_fail "part $((i - 1)) not processed"
        pg_ctl_as -D "$RUN/pg/data" -m immediate -w -t 60 stop >/dev/null
        publish "$RUN" "$RUN/part$i.jsonl"
        eo_wait "the planner to wait for the price lookup (outage $((i - 1)))" 60 stalled_or_dead "$need"
        [ "$(count planner '"target.dead_letter"' '')" = 0 ] ||
                eo_fail "the planner dead-lettered targets during outage $((i - 1)): $(grep -m1 '"target.dead_letter"' "$RUN/planner.log")"
        kill -0 "$(cat "$RUN/planner.pid")" 2>/dev/null || eo_fail "the planner died during the outage"
        n_back=$(count planner '"planner.db_reconnected"' 'price lookups')
        pg_ctl_as -D "$RUN/pg/data" -l "$RUN/pg/log" -w -t 60 start >/dev/null
        back() { [ "$(count planner '"planner.db_reconnected"' 'price lookups')" -gt "$n_back" ]; }
        eo_wait "the planner to plan the kept targets (outage $((i - 1)))" 60 back
        need=$(($(count planner '"planner.db_retry"' 'price lookup') + 2))
done
te_pipeline_wait_idle "$RUN" 180 || eo_fail "the pipeline did not finish after the outages"
got=$(result "$RUN")
echo "with two outages: $got"
[ "$got" = "$want" ] || eo_fail "the trades differ from the run without an outage"
eo_assert_books_exact
eo_no_secrets
# the backoff starts at 50 ms, doubles, never passes 5 s
python3 - "$RUN/planner.log" <<'PY'
import json, re, sys
d = [int(re.search(r"retry in (\d+) ms", json.loads(l)["msg"]).group(1))
     for l in open(sys.argv[1]) if '"planner.db_retry"' in l and "price lookup" in l]
assert d and max(d) <= 5000 and all(b in (50, min(2 * a, 5000)) for a, b in zip(d, d[1:])), d
PY
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_planner_price_outage: ok (two outages waited out, $(count planner '"planner.db_retry"' 'price lookup') price lookup retries, 0 dead letters, trades equal)"
