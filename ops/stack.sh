# shellcheck shell=bash
# stack.sh: the embedded dev stack (mock Kafka + throwaway PostgreSQL) for tests and
# local runs. Source it:
#
#   source ops/stack.sh
#   RUN=$(mktemp -d /tmp/te-run.XXXXXX)
#   trap 'te_stack_down "$RUN"' EXIT
#   te_stack_up "$RUN"
#
# A long-lived stack for exploring by hand: ops/stack up|down|env|status (it uses these
# functions with TE_STACK_DETACH=1, which starts exec-devstack with nohup and no
# terminal, so it outlives the shell).
#
# te_stack_up RUNDIR starts, in order:
#   1. exec-devstack in the background: bootstrap file RUNDIR/bootstrap, control socket
#      RUNDIR/ctl, pidfile RUNDIR/devstack.pid, log RUNDIR/devstack.log, topics from
#      ops/topics.manifest; waits (deadline TE_STACK_TIMEOUT s, default 30) for the
#      bootstrap file;
#   2. PostgreSQL via te_pg_up RUNDIR/pg (ops/pg.sh), which exports PG*;
#   3. `exec-dbtool migrate`.
# On failure it prints why and returns non-zero; what already runs is left for
# te_stack_down (call it from a trap).
#
# After te_stack_up these shell variables are set (not exported; export them if a child
# process needs them):
#   TE_STACK_BOOTSTRAP       the bootstrap list (host:port,...)
#   TE_STACK_BOOTSTRAP_FILE  RUNDIR/bootstrap
#   TE_STACK_CTL             RUNDIR/ctl (talk to it with exec-devstack-ctl --ctl)
#   TE_STACK_DEVSTACK_PID    pid of exec-devstack
# and PGHOST PGPORT PGUSER PGDATABASE are exported (see ops/pg.sh).
#
# te_stack_down RUNDIR sends SIGTERM to exec-devstack, waits for it (deadline, then
# SIGKILL), stops PostgreSQL and removes RUNDIR unless TE_KEEP=1. Safe to call twice or
# after a partial te_stack_up. It returns 1 if exec-devstack did not exit with status 0
# or anything else failed, so a test can assert a clean shutdown.
#
# Binaries come from $TE_BUILD_DIR (default: <repo>/build); the manifest from
# $TE_SOURCE_DIR/ops/topics.manifest (TE_SOURCE_DIR defaults to this file's repo).

_te_stack_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=ops/pg.sh
source "$_te_stack_here/pg.sh"

_te_stack_src() {
        printf '%s\n' "${TE_SOURCE_DIR:-$(dirname "$_te_stack_here")}"
}

_te_stack_build() {
        printf '%s\n' "${TE_BUILD_DIR:-$(_te_stack_src)/build}"
}

# Running and not a zombie (a child of this shell stays a zombie until waited for).
_te_stack_alive() {
        kill -0 "$1" 2>/dev/null || return 1
        case $(ps -o stat= -p "$1" 2>/dev/null) in
        Z*) return 1 ;;
        esac
        return 0
}

# shellcheck disable=SC2034 # TE_STACK_* are outputs for the caller
te_stack_up() {
        local run=${1:-} build src deadline pid
        if [ -z "$run" ] || [ $# -ne 1 ]; then
                echo "usage: te_stack_up RUNDIR" >&2
                return 2
        fi
        case $run in
        /*) ;;
        *) run=$(pwd)/$run ;;
        esac
        build=$(_te_stack_build)
        src=$(_te_stack_src)
        for b in exec-devstack exec-dbtool; do
                if [ ! -x "$build/$b" ]; then
                        echo "te_stack_up: $build/$b not found (build first, or set TE_BUILD_DIR)" >&2
                        return 1
                fi
        done
        if [ -s "$run/devstack.spawned" ] && _te_stack_alive "$(cat "$run/devstack.spawned")"; then
                echo "te_stack_up: a stack already runs in $run" >&2
                return 1
        fi
        mkdir -p "$run" || return 1
        # PostgreSQL runs as postgres under RUNDIR/pg: RUNDIR must be traversable.
        chmod 755 "$run" || return 1
        : >"$run/.te-stack" || return 1
        rm -f "$run/bootstrap"

        if [ "${TE_STACK_DETACH:-0}" = 1 ]; then # outlives this shell (ops/stack up)
                nohup "$build/exec-devstack" --out "$run/bootstrap" -m "$src/ops/topics.manifest" \
                        --ctl "$run/ctl" -p "$run/devstack.pid" </dev/null >>"$run/devstack.log" \
                        2>>"$run/devstack.log" &
        else
                "$build/exec-devstack" --out "$run/bootstrap" -m "$src/ops/topics.manifest" \
                        --ctl "$run/ctl" -p "$run/devstack.pid" 2>>"$run/devstack.log" &
        fi
        pid=$!
        TE_STACK_DEVSTACK_PID=$pid
        echo "$pid" >"$run/devstack.spawned"

        deadline=$((SECONDS + ${TE_STACK_TIMEOUT:-30}))
        while [ ! -s "$run/bootstrap" ]; do
                if ! kill -0 "$pid" 2>/dev/null; then
                        echo "te_stack_up: exec-devstack exited during start-up:" >&2
                        tail -n 20 "$run/devstack.log" >&2
                        return 1
                fi
                if [ $SECONDS -ge $deadline ]; then
                        echo "te_stack_up: no bootstrap file after ${TE_STACK_TIMEOUT:-30}s:" >&2
                        tail -n 20 "$run/devstack.log" >&2
                        return 1
                fi
                sleep 0.05
        done
        TE_STACK_BOOTSTRAP=$(cat "$run/bootstrap")
        TE_STACK_BOOTSTRAP_FILE=$run/bootstrap
        TE_STACK_CTL=$run/ctl

        te_pg_up "$run/pg" || return 1
        if ! "$build/exec-dbtool" migrate >>"$run/dbtool.log" 2>&1; then
                echo "te_stack_up: exec-dbtool migrate failed:" >&2
                tail -n 20 "$run/dbtool.log" >&2
                return 1
        fi
        return 0
}

te_stack_down() {
        local run=${1:-} pid rc=0 st deadline
        if [ -z "$run" ] || [ $# -ne 1 ]; then
                echo "usage: te_stack_down RUNDIR" >&2
                return 2
        fi
        case $run in
        /*) ;;
        *) run=$(pwd)/$run ;;
        esac
        [ -d "$run" ] || return 0
        if [ -s "$run/devstack.spawned" ]; then
                pid=$(cat "$run/devstack.spawned")
                if _te_stack_alive "$pid"; then
                        kill -TERM "$pid" 2>/dev/null
                        deadline=$((SECONDS + ${TE_STACK_TIMEOUT:-30}))
                        while _te_stack_alive "$pid" && [ $SECONDS -lt $deadline ]; do
                                sleep 0.05
                        done
                        if _te_stack_alive "$pid"; then
                                echo "te_stack_down: exec-devstack ($pid) ignored SIGTERM; killing it" >&2
                                kill -KILL "$pid" 2>/dev/null
                                rc=1
                        fi
                fi
                # Our own child: collect its exit status (fails harmlessly otherwise).
                st=0
                wait "$pid" 2>/dev/null || st=$?
                if [ "$st" != 0 ] && [ "$st" != 127 ]; then
                        echo "te_stack_down: exec-devstack exited with status $st" >&2
                        rc=1
                fi
                rm -f "$run/devstack.spawned"
        fi
        te_pg_down "$run/pg" || rc=1
        if [ $rc != 0 ] && [ -f "$run/devstack.log" ]; then
                echo "te_stack_down: last lines of $run/devstack.log:" >&2
                tail -n 20 "$run/devstack.log" >&2
        fi
        if [ "${TE_KEEP:-0}" = 1 ]; then
                echo "te_stack_down: kept $run (TE_KEEP=1)" >&2
        elif [ -f "$run/.te-stack" ]; then
                rm -rf "$run"
        fi
        unset TE_STACK_BOOTSTRAP TE_STACK_BOOTSTRAP_FILE TE_STACK_CTL TE_STACK_DEVSTACK_PID
        return $rc
}
