# shellcheck shell=bash
# crash_lib.sh: the crash harness of DESIGN.md invariant 2, used by test_crash.sh (short,
# in ctest) and crash_long.sh (long, standalone). Source after ops/stack.sh and
# ops/pipeline.sh.
#
#   eo_run RUNDIR OUTDIR TARGETS BARS KILLS CHUNKS [SEED]
#       starts a fresh stack in RUNDIR (the caller stops it with te_stack_down) and the three processes, publishes TARGETS in
#       CHUNKS chunks; between chunks (and after the last, until KILLS is reached) it
#       kill -9s a randomly chosen process (planner, broker, sink) after a random delay
#       and restarts it at once; every KILLS/4-th stop is a SIGTERM instead (shutdown
#       must lose nothing either). KILLS=0 is the crash-free reference. Then waits
#       until every stage consumed everything and writes OUTDIR/result.txt:
#         counts of trades, orders, order_events, positions, cash rows;
#         sha256 of the trades ordered by trade_id (every booked column);
#       OUTDIR/trades.txt (the ordered trades), OUTDIR/kills.txt (what was killed when),
#       OUTDIR/processed.txt (messages on exec.orders and exec.reports).
#   eo_compare REF_OUTDIR OUTDIR
#       prints "duplicates=N lost=N" (trades only in OUTDIR / only in the reference)
#       and returns 1 unless the results are identical and exec-dbtool check passed.
#
# The unconsumed backlog stays small: targets are published in chunks while the
# processes run, far below the mock cluster's ~5 MiB per partition.

EO_CRASH_KAFKA=(-o kafka.session.timeout.ms=3000 -o kafka.heartbeat.interval.ms=300)

eo_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }

eo_start() { # RUN NAME
        local run=$1 name=$2
        case $name in
        sink) te_pipeline_start "$run" sink exec-sink "${EO_CRASH_KAFKA[@]}" ;;
        broker) te_pipeline_start "$run" broker exec-broker -o sim.bars_csv="$EO_BARS" \
                "${EO_CRASH_KAFKA[@]}" ;;
        planner) te_pipeline_start "$run" planner exec-planner "${EO_CRASH_KAFKA[@]}" ;;
        esac
}

eo_kill_one() { # RUN SIGNAL
        local run=$1 sig=$2 names=(planner broker sink) name pid
        name=${names[$((RANDOM % 3))]}
        pid=$(cat "$run/$name.pid")
        kill -"$sig" "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        echo "$(date +%s.%N) $sig $name $pid" >>"$EO_OUT/kills.txt"
        eo_start "$run" "$name"
}

eo_run() {
        local run=$1 out=$2 targets=$3 bars=$4 kills=$5 chunks=$6 seed=${7:-1}
        local n i lines per k=0 delay
        EO_BARS=$bars
        RANDOM=$seed
        te_stack_up "$run" || return 1
        mkdir -p "$out" && : >"$out/kills.txt"
        EO_OUT=$out
        eo_start "$run" sink
        eo_start "$run" broker
        eo_start "$run" planner
        n=$(grep -c . "$targets")
        per=$(((n + chunks - 1) / chunks))
        for ((i = 0; i < chunks; i++)); do
                sed -n "$((i * per + 1)),$(((i + 1) * per))p" "$targets" >"$run/chunk.jsonl"
                [ -s "$run/chunk.jsonl" ] || break
                "$TE_BUILD_DIR/exec-publish" --bootstrap-file "$run/bootstrap" \
                        "$run/chunk.jsonl" >/dev/null 2>>"$run/publish.log" || return 1
                if [ "$k" -lt "$kills" ]; then
                        # random moment: 0-1.5 s into processing this chunk
                        delay=$((RANDOM % 1500))
                        sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
                        if [ $((k % 4)) = 3 ]; then eo_kill_one "$run" TERM; else eo_kill_one "$run" KILL; fi
                        k=$((k + 1))
                fi
        done
        while [ "$k" -lt "$kills" ]; do
                delay=$((RANDOM % 800))
                sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
                eo_kill_one "$run" KILL
                k=$((k + 1))
        done
        te_pipeline_wait_idle "$run" "${EO_IDLE_TIMEOUT:-240}" || return 1
        eo_q "SELECT trade_id, \"timestamp\", ticker, direction, size, price, order_id,
                decision_id, commission, mode, broker FROM trades ORDER BY trade_id" \
                >"$out/trades.txt"
        {
                for t in trades orders order_events positions cash; do
                        echo "$t $(eo_q "SELECT count(*) FROM $t")"
                done
                echo "trades_sha256 $(sha256sum <"$out/trades.txt" | cut -d' ' -f1)"
                echo "positions_sha256 $(eo_q "SELECT portfolio_id, ticker, quantity, avg_cost,
                        realized_pnl FROM positions ORDER BY 1, 2" | sha256sum | cut -d' ' -f1)"
                echo "cash_sha256 $(eo_q "SELECT portfolio_id, balance, commissions FROM cash
                        ORDER BY 1" | sha256sum | cut -d' ' -f1)"
                echo "orders_sha256 $(eo_q "SELECT order_id, status, cum_qty, avg_price,
                        commission FROM orders ORDER BY 1" | sha256sum | cut -d' ' -f1)"
        } >"$out/result.txt"
        "$TE_BUILD_DIR/exec-dbtool" check >"$out/check.txt" 2>&1 && echo "check ok" >>"$out/result.txt"
        local orders reports
        orders=$(kcat -b "$TE_STACK_BOOTSTRAP" -C -t exec.orders -e -q -f '.\n' 2>/dev/null | wc -l)
        reports=$(kcat -b "$TE_STACK_BOOTSTRAP" -C -t exec.reports -e -q -f '.\n' 2>/dev/null | wc -l)
        echo "orders=$orders reports=$reports" >"$out/processed.txt"
        te_pipeline_down "$run" >/dev/null 2>&1 || true
        return 0
}

eo_compare() { # REF RUN
        local ref=$1 run=$2 dup lost
        dup=$(comm -13 "$ref/trades.txt" "$run/trades.txt" | wc -l)
        lost=$(comm -23 "$ref/trades.txt" "$run/trades.txt" | wc -l)
        echo "duplicates=$dup lost=$lost"
        if ! diff -u "$ref/result.txt" "$run/result.txt" >&2; then
                return 1
        fi
        grep -q '^check ok$' "$run/result.txt" || return 1
        [ "$dup" = 0 ] && [ "$lost" = 0 ]
}
