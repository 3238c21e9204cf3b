#!/usr/bin/env bash
# test_fault_broker: the broker worker under broker faults, pre-trade limits and the
# mode gate, on the sample backtest with the sim adapter behind
# the fault decorator (fault.script):
#   A. down_after=5,down_ms=3000 and reject_ticker=SYN03, order.max_age.ms=1500: the
#      worker pauses its partitions, publishes BROKER_STATE DOWN and a CRITICAL
#      broker_down Alert, then UP + broker_up after the outage; orders that waited out
#      the outage are EXPIRED with a reason instead of being sent late; every SYN03
#      order is REJECTED in the DB with the broker's reason and an Alert each (a partial
#      reject of a target's orders); the backtest still completes and the books are
#      exact.
#      Why down_after=5: the outage must begin while orders produced before it are
#      still waiting, or nothing can expire. The planner plans TRAINING targets one
#      at a time (CLOCK barrier), so the orders of a target are produced together and
#      the next ones only after the broker acknowledged that target's CLOCK. The two
#      portfolios sit on different partitions, so the broker's interleaving of the
#      blocks varies from run to run: an outage after the 25th NEW order sometimes began
#      right after the last order produced so far (nothing waiting, nothing expired).
#      The first target with orders (pf-demo 2024-01-08: 10 buys, or pf-alt's: 7) is
#      produced as one block before anything else can be, so when the 5th NEW order
#      reaches the broker at least 2 orders of that block are waiting, whatever the
#      interleaving; they are taken >= down_ms (3000) after they were produced, past
#      order.max_age.ms (1500).
#   B. limits.max_qty=500: a 2000-share order is REJECTED with the limit named (Alert
#      limit_rejected), the 100-share order of the same target fills; a PRODUCTION
#      target reaching the TRAINING sim worker is REJECTED with a CRITICAL mode_refused
#      Alert (invariant 5).
source "$(dirname "$0")/prologue.sh" fbroker
source "$here/eo_fault_lib.sh"
TE_TEST_LOG_SKIP=CONFWARN TE_TEST_LOG_LINES=12
bars=$src/ops/sample/bars.csv
te_stack_up "$RUN"
te_pipeline_start "$RUN" sink exec-sink
te_pipeline_start "$RUN" broker exec-broker -o sim.bars_csv="$bars" \
        -o fault.script=down_after=5,down_ms=3000,reject_ticker=SYN03 -o order.max_age.ms=1500
te_pipeline_start "$RUN" planner exec-planner
head -n 30 "$src/ops/sample/targets.jsonl" >"$RUN/a.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/a.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || eo_fail "backtest did not complete around the outage"

up_published() {
        eo_topic_json exec.reports >"$RUN/reports.jsonl"
        eo_has "$RUN/reports.jsonl" '"BROKER_STATE"' '"UP: ' &&
                eo_has "$RUN/reports.jsonl" '"BROKER_STATE"' '"DOWN: '
}
eo_wait "the BROKER_STATE DOWN and UP reports" 30 up_published
te_pipeline_wait_idle "$RUN" 60 || eo_fail "not idle after the outage"
eo_topic_json exec.alerts >"$RUN/alerts.jsonl"
eo_has "$RUN/reports.jsonl" '"BROKER_STATE"' '"DOWN: ' || eo_fail "no BROKER_STATE DOWN report"
eo_has "$RUN/reports.jsonl" '"BROKER_STATE"' '"UP: ' || eo_fail "no BROKER_STATE UP report"
eo_has "$RUN/alerts.jsonl" '"broker_down"' CRITICAL || eo_fail "no CRITICAL broker_down alert"
grep -q '"broker_up"' "$RUN/alerts.jsonl" || eo_fail "no broker_up alert"
grep -q '"broker.down"' "$RUN/broker.log" && grep -q '"broker.up"' "$RUN/broker.log" ||
        eo_fail "worker did not log the outage"
n_exp=$(eo_q "SELECT count(*) FROM orders WHERE status = 'EXPIRED' AND reason LIKE 'expired: order was % ms old%'")
# at least the 2 orders of the first block that were waiting (see the header)
[ "$n_exp" -ge 2 ] || eo_fail "$n_exp orders EXPIRED after waiting out the outage, want >= 2"
[ "$(grep -c '"order_expired"' "$RUN/alerts.jsonl")" = "$n_exp" ] || eo_fail "one alert per expired order"
n_rej=$(eo_q "SELECT count(*) FROM orders WHERE ticker = 'SYN03' AND status = 'REJECTED'
              AND reason = 'fault: rejected by broker (ticker)'")
n_syn03=$(eo_q "SELECT count(*) FROM orders WHERE ticker = 'SYN03' AND status <> 'EXPIRED'")
[ "$n_rej" -ge 1 ] && [ "$n_rej" = "$n_syn03" ] || eo_fail "SYN03: $n_rej of $n_syn03 orders rejected"
[ "$(eo_q "SELECT count(*) FROM trades WHERE ticker = 'SYN03'")" = 0 ] || eo_fail "SYN03 traded"
for id in $(eo_q "SELECT order_id FROM orders WHERE ticker = 'SYN03' AND status = 'REJECTED'"); do
        eo_has "$RUN/alerts.jsonl" '"order_rejected"' "\"$id\"" ||
                eo_fail "no order_rejected alert for SYN03 order $id"
done
[ "$(grep -c '"order_rejected"' "$RUN/alerts.jsonl")" -ge "$n_rej" ] || eo_fail "an alert per rejected order"
eo_assert_books_exact
echo "ok - A: outage paused and resumed, $n_exp expired, $n_rej SYN03 orders rejected"

# B. limits and the mode gate
te_pipeline_stop "$RUN" broker || eo_fail "broker did not stop cleanly"
te_pipeline_start "$RUN" broker exec-broker -o sim.bars_csv="$bars" -o limits.max_qty=500
cat >"$RUN/b.jsonl" <<'J'
{"decision_id":"d-guard","portfolio_id":"pf-guard","strategy_id":"s","profile_version_id":"pv","regime_id":"r","universe_id":"u","mode":"TRAINING","as_of":"2024-03-04T21:00:00Z","unit":"QUANTITY","full_replace":true,"targets":[{"ticker":"SYN01","value":2000},{"ticker":"SYN02","value":100}]}
{"decision_id":"d-prod","portfolio_id":"pf-prod","strategy_id":"s","profile_version_id":"pv","regime_id":"r","universe_id":"u","mode":"PRODUCTION","as_of":"2024-03-04T21:00:00Z","unit":"QUANTITY","full_replace":true,"targets":[{"ticker":"SYN01","value":100}]}
J
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/b.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 60 || eo_fail "part B not processed"
[ "$(eo_q "SELECT status || ' ' || reason FROM orders WHERE portfolio_id = 'pf-guard' AND ticker = 'SYN01'")" = \
  "REJECTED limit: quantity 2000 above limits.max_qty 500" ] || eo_fail "max_qty not enforced"
[ "$(eo_q "SELECT status FROM orders WHERE portfolio_id = 'pf-guard' AND ticker = 'SYN02'")" = FILLED ] ||
        eo_fail "the order within limits did not fill"
[ "$(eo_q "SELECT status || ' ' || reason FROM orders WHERE portfolio_id = 'pf-prod'")" = \
  "REJECTED PRODUCTION order refused by sim broker (TRAINING only)" ] || eo_fail "mode gate"
[ "$(eo_q "SELECT count(*) FROM trades t JOIN orders o USING (order_id) WHERE o.portfolio_id = 'pf-prod'")" = 0 ] ||
        eo_fail "a PRODUCTION order filled from the simulator"
eo_topic_json exec.alerts >"$RUN/alerts.jsonl"
eo_has "$RUN/alerts.jsonl" '"mode_refused"' CRITICAL || eo_fail "no CRITICAL mode_refused alert"
eo_has "$RUN/alerts.jsonl" '"limit_rejected"' 'max_qty 500' || eo_fail "no limit_rejected alert"
eo_assert_books_exact
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_fault_broker: ok"
