# shellcheck shell=bash
# crash_lib.sh: the crash harness of docs/DESIGN.md invariant 2, used by test_crash.sh (short,
# in ctest), crash_long.sh (long, standalone) and test_resting_restart.sh. Source after
# ops/stack.sh and ops/pipeline.sh.
#
#   eo_run RUNDIR OUTDIR TARGETS BARS KILLS CHUNKS [SEED]
#       starts a fresh stack in RUNDIR (the caller stops it with te_stack_down) and the
#       three processes, publishes TARGETS in CHUNKS chunks; between chunks (and after
#       the last, until KILLS is reached) it stops a randomly chosen process after a
#       random delay (0-1.5 s after the chunk's first trade is booked) and restarts it
#       at once. Every stop lands on a process that holds
#       its partitions: after each (re)start the harness waits for the process's
#       assignment line (kafka.assign naming a partition of its input topic) before the
#       next stop. Every EO_TERM_EVERY-th stop (default 4) is a SIGTERM, going round the
#       victims in turn (so each one gets SIGTERMs), the others kill -9. KILLS=0 is the
#       crash-free reference. Then waits until every stage consumed everything and
#       writes OUTDIR/result.txt:
#         counts of trades, orders, order_events, positions, cash rows;
#         open orders (not FILLED / CANCELED / EXPIRED / REJECTED / REPLACED);
#         sha256 of the trades ordered by trade_id (every booked column), of positions,
#         cash, orders (status, cum_qty, ...) and of the open orders;
#       OUTDIR/trades.txt (the ordered trades), OUTDIR/open.txt (the open orders),
#       OUTDIR/kills.txt (what was stopped when), OUTDIR/processed.txt (messages on
#       exec.orders and exec.reports).
#   eo_compare REF_OUTDIR OUTDIR
#       prints "duplicates=N lost=N open_only_here=N" (trades only in OUTDIR / only in
#       the reference; open orders the reference closed) and returns 1 unless the
#       results are identical and exec-dbtool check passed.
#
# Settings (shell variables, set before eo_run):
#   EO_VICTIMS        processes that may be stopped (default "planner broker sink")
#   EO_TERM_EVERY     every N-th stop is a SIGTERM (default 4; 1 = SIGTERM only)
#   EO_PLANNER_OPTS   array of extra exec-planner arguments, e.g. (-o plan.tif=GTC)
#   EO_BROKER_OPTS    array of extra exec-broker arguments, e.g.
#                     (-o sim.participation=0.0005): the resting-order workload
#   EO_ASSIGN_TIMEOUT seconds to wait for a restarted process's assignment (default 60)
#
# The unconsumed backlog stays small: targets are published in chunks while the
# processes run, far below the mock cluster's ~5 MiB per partition.

EO_CRASH_KAFKA=(-o kafka.session.timeout.ms=3000 -o kafka.heartbeat.interval.ms=300)

eo_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }

# the input topic whose assignment says the process holds its partitions
eo_input_topic() {
        case $1 in
        sink) echo exec.reports ;;
        broker) echo exec.orders ;;
        planner) echo exec.targets ;;
        esac
}

eo_start() { # RUN NAME
        local run=$1 name=$2
        # the assignment lines before this start: eo_wait_assigned waits for a new one
        grep -c "\"kafka.assign\".*$(eo_input_topic "$name")\[" "$run/$name.log" \
                2>/dev/null >"$run/$name.assigns" || true
        case $name in
        sink) te_pipeline_start "$run" sink exec-sink "${EO_CRASH_KAFKA[@]}" ;;
        broker) te_pipeline_start "$run" broker exec-broker -o sim.bars_csv="$EO_BARS" \
                "${EO_CRASH_KAFKA[@]}" "${EO_BROKER_OPTS[@]}" ;;
        planner) te_pipeline_start "$run" planner exec-planner "${EO_CRASH_KAFKA[@]}" \
                "${EO_PLANNER_OPTS[@]}" ;;
        esac
}

# Wait until the last started NAME logged an assignment with a partition of its input
# topic (it holds partitions: a stop now lands on a working member).
eo_wait_assigned() { # RUN NAME
        local run=$1 name=$2 before n deadline
        before=$(cat "$run/$name.assigns" 2>/dev/null || echo 0)
        [ -n "$before" ] || before=0
        deadline=$((SECONDS + ${EO_ASSIGN_TIMEOUT:-60}))
        while :; do
                n=$(grep -c "\"kafka.assign\".*$(eo_input_topic "$name")\[" "$run/$name.log" \
                        2>/dev/null || true)
                [ "${n:-0}" -gt "$before" ] && return 0
                if ! kill -0 "$(cat "$run/$name.pid")" 2>/dev/null; then
                        echo "eo_wait_assigned: $name died before its assignment" >&2
                        tail -n 20 "$run/$name.log" >&2
                        return 1
                fi
                if [ $SECONDS -ge $deadline ]; then
                        echo "eo_wait_assigned: $name not assigned after" \
                                "${EO_ASSIGN_TIMEOUT:-60}s" >&2
                        return 1
                fi
                sleep 0.05
        done
}

eo_kill_one() { # RUN SIGNAL [NAME]
        local run=$1 sig=$2 name=${3:-} pid
        local -a names
        read -r -a names <<<"${EO_VICTIMS:-planner broker sink}"
        [ -n "$name" ] || name=${names[$((RANDOM % ${#names[@]}))]}
        eo_wait_assigned "$run" "$name" || return 1
        pid=$(cat "$run/$name.pid")
        kill -"$sig" "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        echo "$(date +%s.%N) $sig $name $pid" >>"$EO_OUT/kills.txt"
        eo_start "$run" "$name"
}

eo_stop_nth() { # RUN K: the K-th stop (0-based)
        local run=$1 k=$2 every=${EO_TERM_EVERY:-4}
        local -a names
        read -r -a names <<<"${EO_VICTIMS:-planner broker sink}"
        if [ $((k % every)) = $((every - 1)) ]; then
                eo_kill_one "$run" TERM "${names[$(((k / every) % ${#names[@]}))]}"
        else
                eo_kill_one "$run" KILL
        fi
}

# Wait until trades were booked since the last stop (the chunk just published is being
# worked on: orders open, part-filled), at most 30 s.
eo_wait_progress() {
        local n deadline=$((SECONDS + 30))
        while [ $SECONDS -lt $deadline ]; do
                n=$(eo_q "SELECT count(*) FROM trades" 2>/dev/null || echo 0)
                [ "${n:-0}" -gt "${EO_TRADES_MARK:-0}" ] && { EO_TRADES_MARK=$n; return 0; }
                sleep 0.1
        done
        return 0
}

eo_run() {
        local run=$1 out=$2 targets=$3 bars=$4 kills=$5 chunks=$6 seed=${7:-1}
        local n i per k=0 delay name
        EO_TRADES_MARK=0
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
                        # random moment: 0-1.5 s after this chunk's first trade
                        eo_wait_progress
                        delay=$((RANDOM % 1500))
                        sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
                        eo_stop_nth "$run" "$k" || return 1
                        k=$((k + 1))
                fi
        done
        while [ "$k" -lt "$kills" ]; do
                delay=$((RANDOM % 800))
                sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
                eo_stop_nth "$run" "$k" || return 1
                k=$((k + 1))
        done
        # the last restarts are members too before the run is judged idle
        for name in planner broker sink; do eo_wait_assigned "$run" "$name" || return 1; done
        te_pipeline_wait_idle "$run" "${EO_IDLE_TIMEOUT:-240}" || return 1
        eo_q "SELECT trade_id, \"timestamp\", ticker, direction, size, price, order_id,
                decision_id, commission, mode, broker FROM trades ORDER BY trade_id" \
                >"$out/trades.txt"
        eo_q "SELECT order_id, status, cum_qty FROM orders WHERE status NOT IN
                ('FILLED', 'CANCELED', 'EXPIRED', 'REJECTED', 'REPLACED') ORDER BY 1" >"$out/open.txt"
        {
                for t in trades orders order_events positions cash; do
                        echo "$t $(eo_q "SELECT count(*) FROM $t")"
                done
                echo "open_orders $(grep -c . "$out/open.txt")"
                echo "trades_sha256 $(sha256sum <"$out/trades.txt" | cut -d' ' -f1)"
                echo "open_sha256 $(sha256sum <"$out/open.txt" | cut -d' ' -f1)"
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
        local ref=$1 run=$2 dup lost open
        dup=$(comm -13 "$ref/trades.txt" "$run/trades.txt" | wc -l)
        lost=$(comm -23 "$ref/trades.txt" "$run/trades.txt" | wc -l)
        open=$(comm -13 <(cut -d'|' -f1 "$ref/open.txt") <(cut -d'|' -f1 "$run/open.txt") |
                wc -l)
        echo "duplicates=$dup lost=$lost open_only_here=$open"
        if ! diff -u "$ref/result.txt" "$run/result.txt" >&2; then
                return 1
        fi
        grep -q '^check ok$' "$run/result.txt" || return 1
        [ "$dup" = 0 ] && [ "$lost" = 0 ] && [ "$open" = 0 ]
}
