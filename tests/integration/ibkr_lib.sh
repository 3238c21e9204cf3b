# shellcheck shell=bash
# ibkr_lib.sh: helpers for the test_ibkr_*.sh integration tests. Source after
# ops/stack.sh and ops/pipeline.sh, with RUN set and the stack up.
#
#   ibkr_fake NAME SCENARIO [fake_tws options]   start tests/fake_tws, wait for its port
#                                                (sets FAKE_PORT; log RUN/NAME.log)
#   ibkr_broker NAME CLIENT_ID TOPIC [options]   exec-broker adapter=ibkr against FAKE_PORT
#   ibkr_publish TOPIC <<EOF ... EOF             order commands (tests/fake_tws/order_pub.c)
#   ibkr_wait_sql SQL WANT TIMEOUT_S             poll psql until it prints WANT
#   ibkr_wait_log NAME EVENT TIMEOUT_S           wait until RUN/NAME.log has "event":"EVENT"
#   ibkr_stop NAME                               SIGTERM one process (ibkr_fake, te_pipeline_start)
#   ibkr_stop_all                                the same for every RUN/*.pid (a test's cleanup)
#   q SQL                                        psql, unaligned, no header
#   fail MSG

q() { psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -c "$1"; }
fail() {
        echo "FAIL: $*" >&2
        exit 1
}

ibkr_fake() {
        local name=$1 scenario=$2 deadline
        shift 2
        rm -f "$RUN/$name.port"
        "$TE_BUILD_DIR/tests/fake_tws" --port-file "$RUN/$name.port" --scenario "$scenario" \
                "$@" 2>>"$RUN/$name.log" &
        echo $! >"$RUN/$name.pid"
        deadline=$((SECONDS + 10))
        until [ -s "$RUN/$name.port" ]; do
                [ $SECONDS -lt $deadline ] || fail "fake_tws $name did not start"
                sleep 0.05
        done
        FAKE_PORT=$(cat "$RUN/$name.port")
}

ibkr_broker() {
        local name=$1 client=$2 topic=$3
        shift 3
        te_pipeline_start "$RUN" "$name" exec-broker -o adapter=ibkr -o ibkr.port="$FAKE_PORT" \
                -o ibkr.client_id="$client" -o ibkr.accounts=DU111111 -o group.id="ibkr-$name" \
                -o topic.orders="$topic" -o broker.name=ibkr -o commit.interval.ms=100 \
                -o ibkr.reconnect_min_ms=100 -o ibkr.reconnect_max_ms=800 \
                -o ibkr.commission_wait_ms=1000 -o log.level=debug "$@"
}

ibkr_publish() {
        "$TE_BUILD_DIR/tests/order_pub" "$TE_STACK_BOOTSTRAP" "$1" 2>>"$RUN/order_pub.log" ||
                fail "order_pub failed"
}

ibkr_wait_sql() {
        local sql=$1 want=$2 timeout=$3 got deadline
        deadline=$((SECONDS + timeout))
        while :; do
                got=$(q "$sql" 2>/dev/null || true)
                [ "$got" = "$want" ] && return 0
                if [ $SECONDS -ge $deadline ]; then
                        echo "ibkr_wait_sql: want '$want' got '$got' for: $sql" >&2
                        return 1
                fi
                sleep 0.1
        done
}

ibkr_wait_log() {
        local deadline=$((SECONDS + $3))
        until grep -q "\"event\":\"$2\"" "$RUN/$1.log" 2>/dev/null; do
                if [ $SECONDS -ge $deadline ]; then
                        echo "ibkr_wait_log: no $2 in $1.log after $3 s" >&2
                        return 1
                fi
                sleep 0.05
        done
}

ibkr_stop() { # NAME: SIGTERM a process started by ibkr_fake or te_pipeline_start
        te_pipeline_stop "$RUN" "$1"
}

ibkr_stop_all() { # every process with a pid file in RUN, quietly (for the EXIT trap)
        local p
        for p in "$RUN"/*.pid; do
                [ -e "$p" ] && te_pipeline_stop "$RUN" "$(basename "$p" .pid)" >/dev/null 2>&1 || true
        done
}
