# shellcheck shell=bash
# pipeline.sh: start, watch and stop the service's processes on a running stack
# (ops/stack.sh). Source it after stack.sh:
#
#   te_pipeline_up RUNDIR BARS_CSV [extra args for exec-planner, e.g. -o plan.lot_size=10]
#       starts exec-sink, exec-broker (sim over BARS_CSV) and exec-planner in the
#       background, logs in RUNDIR/<name>.log, pids in RUNDIR/<name>.pid.
#   te_pipeline_start RUNDIR NAME BINARY [args...]   start one process the same way
#   te_pipeline_wait_idle RUNDIR TIMEOUT_S
#       waits until the planner has committed every target, the broker every order and
#       the sink (offsets in the DB) every report; returns 1 on timeout or if a
#       process died.
#   te_pipeline_stop RUNDIR NAME      SIGTERM one process, wait; returns its exit code
#   te_pipeline_down RUNDIR           stop all; returns 1 if any exited non-zero
#
# Kafka settings for a fast mock cluster (KAFKA-MOCK.md) are passed to every process.

_te_pl_build() {
        printf '%s\n' "${TE_BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}"
}

TE_PIPELINE_KAFKA_OPTS=(-o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500
        -o kafka.fetch.wait.max.ms=10 -o kafka.reconnect.backoff.max.ms=1000
        -o kafka.linger.ms=1)

te_pipeline_start() {
        local run=$1 name=$2 bin=$3
        shift 3
        "$(_te_pl_build)/$bin" -o bootstrap.file="$run/bootstrap" "${TE_PIPELINE_KAFKA_OPTS[@]}" \
                "$@" 2>>"$run/$name.log" &
        echo $! >"$run/$name.pid"
}

te_pipeline_up() {
        local run=$1 bars=$2
        shift 2
        te_pipeline_start "$run" sink exec-sink || return 1
        te_pipeline_start "$run" broker exec-broker -o sim.bars_csv="$bars" || return 1
        te_pipeline_start "$run" planner exec-planner "$@" || return 1
}

_te_pl_alive() {
        kill -0 "$1" 2>/dev/null || return 1
        case $(ps -o stat= -p "$1" 2>/dev/null) in Z*) return 1 ;; esac
        return 0
}

te_pipeline_wait_idle() {
        local run=$1 timeout=$2 deadline build name
        build=$(_te_pl_build)
        deadline=$((SECONDS + timeout))
        while :; do
                for name in planner broker sink; do
                        if [ -s "$run/$name.pid" ] && ! _te_pl_alive "$(cat "$run/$name.pid")"; then
                                echo "te_pipeline_wait_idle: $name died; last log lines:" >&2
                                tail -n 20 "$run/$name.log" >&2
                                return 1
                        fi
                done
                if "$build/exec-lag" --bootstrap-file "$run/bootstrap" \
                        --kafka exec-planner:exec.targets --kafka exec-broker-sim:exec.orders \
                        --db exec-sink:exec.reports >"$run/lag.txt" 2>&1; then
                        return 0
                fi
                if [ $SECONDS -ge $deadline ]; then
                        echo "te_pipeline_wait_idle: still lagging after ${timeout}s:" >&2
                        cat "$run/lag.txt" >&2
                        return 1
                fi
                sleep 0.2
        done
}

te_pipeline_stop() {
        local run=$1 name=$2 pid st deadline
        [ -s "$run/$name.pid" ] || return 0
        pid=$(cat "$run/$name.pid")
        rm -f "$run/$name.pid"
        kill -TERM "$pid" 2>/dev/null
        deadline=$((SECONDS + 30))
        while _te_pl_alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
        if _te_pl_alive "$pid"; then
                echo "te_pipeline_stop: $name ignored SIGTERM; killing it" >&2
                kill -KILL "$pid" 2>/dev/null
        fi
        st=0
        wait "$pid" 2>/dev/null || st=$?
        return $st
}

te_pipeline_down() {
        local run=$1 rc=0 name
        for name in planner broker sink "${@:2}"; do
                if ! te_pipeline_stop "$run" "$name"; then
                        echo "te_pipeline_down: $name exited non-zero" >&2
                        rc=1
                fi
        done
        return $rc
}
