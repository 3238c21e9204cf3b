#!/usr/bin/env bash
# test_sink_equiv: the sink's set-based apply paths book exactly what the per-report
# te_apply_report() of migration 0001 books: te_stage + te_apply_stage() (migration 0004,
# database b), and the sink's own code (consumers/pg_sink.c, driven by
# tests/tools/sink_drive, database c) with both of its paths: COPY straight into the
# final tables (pg_sink_direct.c) and, for replays and key conflicts, the staging
# tables with te_apply_stage_fast() (migration 0006); on
# adversarial report streams (eo_gen_reports.py: duplicates within and across batches,
# unknown orders, reports after terminal states, fills through zero, control reports,
# texts with tabs/newlines/backslashes), for several seeds and random batch sizes.
# Compares orders, order_events, trades, positions (with average cost and realized
# P&L) and cash row by row, and runs the check views (position_check, cash_check,
# position_cost_check with the sink's apply order, exactly_once_check) on the results.
set -euo pipefail
src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TE_BUILD_DIR:-$src/build}
source "$src/ops/pg.sh"
top=$(mktemp -d /tmp/te-equiv.XXXXXX)
chmod 755 "$top"
trap 'te_pg_down "$top/pg" >/dev/null 2>&1 || true; rm -rf "$top"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
te_pg_up "$top/pg" >/dev/null
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
dump() {
        q -d "$1" -c "
  SELECT 'O', order_id, decision_id, portfolio_id, ticker, side, status, cum_qty, leaves_qty,
         avg_price, commission, mode, broker, account, reason, first_event_time,
         last_event_time, illegal_transitions FROM orders ORDER BY order_id" \
           -c "SELECT 'E', report_id, order_id, exec_type, order_status, last_qty, last_price,
         cum_qty, commission, reason, event_time, unknown_order, kafka_offset
         FROM order_events ORDER BY report_id" \
           -c "SELECT 'T', trade_id, \"timestamp\", ticker, direction, size, price, order_id,
         decision_id, commission FROM trades ORDER BY trade_id" \
           -c "SELECT 'P', portfolio_id, ticker, quantity, avg_cost, realized_pnl, last_event_time
         FROM positions ORDER BY 2, 3" \
           -c "SELECT 'C', portfolio_id, balance, commissions, last_event_time FROM cash ORDER BY 2" \
           -c "SELECT 'D', decision_id FROM pipeline_decisions ORDER BY 2"
}
# fn_wait DB 'NAMES' N: N of the functions have been called (function statistics reach
# the views shortly after the session ends)
fn_wait() {
        local deadline=$((SECONDS + 30))
        until [ "$(q -d "$1" -c "SELECT count(*) FROM pg_stat_user_functions
                WHERE funcname IN ($2) AND calls > 0")" = "$3" ]; do
                [ $SECONDS -lt $deadline ] || fail "$1: not all of $2 ran"
                sleep 0.2
        done
}
# seeds 1-3: streams with replays of earlier batches (the staged path for those
# batches, the direct path for the others); 4-5: the same kind, every batch staged
# (both branches of te_apply_stage_fast); 6-8: no report of an earlier batch again,
# so every batch takes the direct path (COPY, or arrays in one pipeline for batches of
# at most 64 rows), except in seed 8 where a stray trade row
# (a trade_id without its event) makes one batch's COPY conflict and fall back
total_direct=0 total_arrays=0 total_staged=0
for spec in 1 2 3 4:staged 5:staged 6:direct 7:direct 8:stray; do
        seed=${spec%%:*} mode=${spec#*:}
        [ "$mode" != "$spec" ] || mode=mixed
        createdb a$seed && createdb b$seed && createdb c$seed
        for db in a$seed b$seed c$seed; do
                PGDATABASE=$db "$build/exec-dbtool" migrate >/dev/null 2>&1 || fail "migrate $db"
        done
        case $mode in
        mixed | staged) n=$(python3 "$src/tests/integration/eo_gen_reports.py" "$seed" 400 "$top/s$seed") ;;
        *) n=$(python3 "$src/tests/integration/eo_gen_reports.py" "$seed" 1200 "$top/s$seed" direct) ;;
        esac
        if [ "$mode" = stray ]; then
                # a trade row booked outside the sink for a fill of the stream
                stray=$(awk -F'\t' '$3 == "FILL" {print $1; exit}' "$top/s$seed/c.tsv")
                [ -n "$stray" ] || fail "seed $seed: no fill in the stream"
                for db in a$seed b$seed c$seed; do
                        q -d $db -c "INSERT INTO pipeline_decisions (decision_id) VALUES ('stray-dec');
                          INSERT INTO trades (trade_id, \"timestamp\", ticker, direction, size, price,
                            order_id, decision_id, mode, broker)
                          VALUES ('$stray', '2024-01-01 00:00:00+00', 'ZZZ', 'BUY', 1, 1, 'stray',
                            'stray-dec', 'TRAINING', 'sim')"
                done
        fi
        q -d a$seed -f "$top/s$seed/a.sql" >/dev/null
        q -d b$seed -f "$top/s$seed/b.sql" >/dev/null
        q -d c$seed -c "ALTER DATABASE c$seed SET track_functions = 'pl'"
        SINK_DRIVE_STAGED=$([ $mode = staged ] && echo 1 || echo 0) PGDATABASE=c$seed \
                "$build/tests/sink_drive" "$top/s$seed/c.tsv" >"$top/c$seed.log" \
                2>"$top/c$seed.err" || { cat "$top/c$seed.err" >&2; fail "seed $seed: sink_drive failed"; }
        paths=$(grep '^paths ' "$top/c$seed.err") || fail "seed $seed: sink_drive said no paths"
        direct=$(sed 's/.*direct=\([0-9]*\).*/\1/' <<<"$paths")
        arrays=$(sed 's/.*arrays=\([0-9]*\).*/\1/' <<<"$paths")
        staged=$(sed 's/.*staged=\([0-9]*\).*/\1/' <<<"$paths")
        total_direct=$((total_direct + direct)) total_staged=$((total_staged + staged))
        total_arrays=$((total_arrays + arrays))
        dump a$seed >"$top/a$seed.txt"
        dump b$seed >"$top/b$seed.txt"
        dump c$seed >"$top/c$seed.txt"
        diff -u "$top/a$seed.txt" "$top/b$seed.txt" >&2 || fail "seed $seed: set-based apply differs"
        diff -u "$top/a$seed.txt" "$top/c$seed.txt" >&2 || fail "seed $seed: the sink's apply differs"
        case $mode in
        direct) [ "$staged" = 0 ] && [ "$direct" -gt 3 ] && [ "$arrays" -gt 3 ] ||
                fail "seed $seed: expected only direct batches, of both kinds, $paths" ;;
        stray)
                [ "$staged" = 1 ] || fail "seed $seed: expected one batch to fall back, $paths"
                # its fast branch met the conflict too and ended in the general one
                fn_wait c$seed "'te_apply_stage'" 1 ;;
        staged)
                [ "$direct" = 0 ] && [ "$arrays" = 0 ] || fail "seed $seed: expected only staged batches, $paths"
                # both branches of te_apply_stage_fast ran: batches without a replayed
                # report (te_apply_stage_new) and batches with one (te_apply_stage)
                fn_wait c$seed "'te_apply_stage_new', 'te_apply_stage'" 2 ;;
        esac
        [ "$(q -d c$seed -c "SELECT next_offset FROM consumer_offsets WHERE consumer_group = 'drive'")" = "$n" ] ||
                fail "seed $seed: sink_drive's offsets are not at the end of the stream"
        # the stream is adversarial enough to matter
        for want in "SELECT count(*) > 20 FROM trades" \
                "SELECT count(*) > 0 FROM order_events WHERE unknown_order" \
                "SELECT count(*) > 0 FROM orders WHERE illegal_transitions > 0" \
                "SELECT count(*) > 0 FROM positions WHERE realized_pnl <> 0" \
                "SELECT count(*) > 0 FROM order_events WHERE reason LIKE E'%\t%\n%'"; do
                [ "$(q -d b$seed -c "$want")" = t ] || fail "seed $seed: stream too tame: $want"
        done
        # (the stray trade moved no position: the checks would rightly report it)
        for db in b$seed c$seed; do
                for v in position_check cash_check position_cost_check; do
                        [ "$mode" = stray ] || [ "$(q -d $db -c "SELECT count(*) FROM $v")" = 0 ] ||
                                fail "seed $seed: $v not empty in $db"
                done
        done
        # applying the whole stream again changes nothing
        q -d b$seed -f "$top/s$seed/b.sql" >/dev/null
        dump b$seed >"$top/b$seed.again.txt"
        cmp -s "$top/b$seed.txt" "$top/b$seed.again.txt" || fail "seed $seed: replay changed the DB"
        PGDATABASE=c$seed "$build/tests/sink_drive" "$top/s$seed/c.tsv" >"$top/c$seed.again.log" \
                2>"$top/c$seed.again.err" ||
                fail "seed $seed: sink_drive replay failed"
        dump c$seed >"$top/c$seed.again.txt"
        cmp -s "$top/c$seed.txt" "$top/c$seed.again.txt" || fail "seed $seed: replay through the sink changed the DB"
        grep -qv '^applied 0$' "$top/c$seed.log" || fail "seed $seed: sink_drive applied nothing"
        ! grep -qv '^applied 0$' "$top/c$seed.again.log" || fail "seed $seed: a replay through the sink applied something"
        echo "ok - seed $seed ($mode): $n reports, $(wc -l <"$top/b$seed.txt") rows identical ($paths), replay idempotent"
done
[ "$total_direct" -gt 0 ] && [ "$total_arrays" -gt 0 ] && [ "$total_staged" -gt 0 ] ||
        fail "a path never ran: direct=$total_direct arrays=$total_arrays staged=$total_staged"
# the check views see a tampered position, cash row and lost trade
q -d b1 -c "UPDATE positions SET avg_cost = avg_cost + 1 WHERE ctid = (SELECT min(ctid) FROM positions WHERE quantity <> 0)"
[ "$(q -d b1 -c "SELECT count(*) FROM position_cost_check")" = 1 ] || fail "position_cost_check missed a wrong avg_cost"
q -d b1 -c "DELETE FROM trades WHERE trade_id = (SELECT min(trade_id) FROM trades)"
[ "$(q -d b1 -c "SELECT count(*) FROM exactly_once_check WHERE problem = 'fill_without_trade'")" = 1 ] ||
        fail "exactly_once_check missed a lost trade"
echo "test_sink_equiv: ok"
