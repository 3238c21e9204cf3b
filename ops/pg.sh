# shellcheck shell=bash
# pg.sh: a throwaway PostgreSQL cluster for tests and the dev stack. Source it:
#
#   source ops/pg.sh
#   te_pg_up DIR      # initdb + start + database "exec"; exports PG* for libpq/psql
#   te_pg_down DIR    # stop (fast) and remove DIR (kept when TE_KEEP=1)
#
# The server listens on a unix socket in DIR/sock only (listen_addresses=''), so it
# cannot clash with another PostgreSQL on the machine. Layout: DIR/data (cluster),
# DIR/sock (socket), DIR/log (server log). Authentication is trust for local
# connections as user postgres. fsync and friends stay at their defaults.
#
# As root, initdb and pg_ctl run as the postgres user (runuser); DIR is chowned to it and
# every parent of DIR must be traversable by it (e.g. a mktemp -d dir chmod 755). As
# another user they run as that user.
#
# te_pg_up exports PGHOST=DIR/sock PGPORT PGUSER=postgres PGDATABASE=exec and unsets
# PGHOSTADDR and PGSERVICE (which would override PGHOST). te_pg_down unsets the PG*
# variables again when they still point at DIR. Both return non-zero on failure and
# never exit the caller's shell; te_pg_down is safe to call twice or on a DIR that was
# never brought up (trap-friendly).
#
# Environment: TE_PG_BIN (default /usr/lib/postgresql/15/bin), TE_KEEP=1 keeps DIR.

TE_PG_MARKER=.te-pg

# Run a command as the cluster's owner.
_te_pg_as() {
        if [ "$(id -u)" = 0 ]; then
                runuser -u postgres -- "$@"
        else
                "$@"
        fi
}

_te_pg_bin() {
        local bin=${TE_PG_BIN:-/usr/lib/postgresql/15/bin}
        if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
                echo "te_pg: no initdb/pg_ctl in $bin (set TE_PG_BIN; ops/install-deps installs postgresql-15)" >&2
                return 1
        fi
        printf '%s\n' "$bin"
}

te_pg_up() {
        local dir=${1:-} bin port p
        if [ -z "$dir" ] || [ $# -ne 1 ]; then
                echo "usage: te_pg_up DIR" >&2
                return 2
        fi
        case $dir in
        /*) ;;
        *) dir=$(pwd)/$dir ;;
        esac
        case $dir in
        *[[:space:]\'\"\\]*)
                echo "te_pg_up: $dir: whitespace or quotes in the path are not supported" >&2
                return 2
                ;;
        esac
        bin=$(_te_pg_bin) || return 1
        if [ -e "$dir/data/PG_VERSION" ]; then
                echo "te_pg_up: $dir already holds a cluster (te_pg_down it first)" >&2
                return 1
        fi
        if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
                echo "te_pg_up: no postgres user (install postgresql-15: ops/install-deps)" >&2
                return 1
        fi
        mkdir -p "$dir" || return 1
        chmod 755 "$dir" || return 1
        : >"$dir/$TE_PG_MARKER" || return 1
        mkdir -p "$dir/data" "$dir/sock" || return 1
        chmod 700 "$dir/data" || return 1
        if [ "$(id -u)" = 0 ]; then
                chown postgres: "$dir" "$dir/data" "$dir/sock" || return 1
                # runuser changes only the user: the server must be able to reach DIR.
                p=$dir
                while [ "$p" != / ]; do
                        p=$(dirname "$p")
                        if ! runuser -u postgres -- test -x "$p"; then
                                echo "te_pg_up: $p is not traversable by user postgres (chmod o+x it, e.g. use mktemp -d + chmod 755)" >&2
                                return 1
                        fi
                done
        fi

        # A port only names the socket file here (no TCP), so any value works.
        port=$((5433 + RANDOM % 20000))
        if ! _te_pg_as "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 \
                --locale=C >"$dir/initdb.log" 2>&1; then
                echo "te_pg_up: initdb failed:" >&2
                tail -n 20 "$dir/initdb.log" >&2
                return 1
        fi
        cat >>"$dir/data/postgresql.conf" <<EOF || return 1
# added by ops/pg.sh: unix socket only, in our own directory
listen_addresses = ''
unix_socket_directories = '$dir/sock'
port = $port
# a throwaway server: no fsync. Every commit is still written to the OS before it is
# acknowledged, so a crash of postgres or of our processes loses nothing; only a crash
# of the machine could, and that loses the server's temp dir anyway
fsync = off
EOF
        if ! _te_pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start \
                >"$dir/pg_ctl.log" 2>&1; then
                echo "te_pg_up: the server did not start:" >&2
                tail -n 20 "$dir/pg_ctl.log" "$dir/log" >&2 2>/dev/null
                return 1
        fi
        if ! "$bin/psql" -X -q -h "$dir/sock" -p "$port" -U postgres -d postgres \
                -v ON_ERROR_STOP=1 -c 'CREATE DATABASE exec' >/dev/null; then
                echo "te_pg_up: could not create database exec" >&2
                return 1
        fi
        unset PGHOSTADDR PGSERVICE
        export PGHOST=$dir/sock PGPORT=$port PGUSER=postgres PGDATABASE=exec
}

te_pg_down() {
        local dir=${1:-} bin rc=0
        if [ -z "$dir" ] || [ $# -ne 1 ]; then
                echo "usage: te_pg_down DIR" >&2
                return 2
        fi
        case $dir in
        /*) ;;
        *) dir=$(pwd)/$dir ;;
        esac
        [ -d "$dir" ] || return 0
        if [ -f "$dir/data/postmaster.pid" ]; then
                if bin=$(_te_pg_bin); then
                        _te_pg_as "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop \
                                >>"$dir/pg_ctl.log" 2>&1 || {
                                echo "te_pg_down: pg_ctl stop failed (see $dir/log)" >&2
                                rc=1
                        }
                else
                        rc=1
                fi
        fi
        if [ "${PGHOST:-}" = "$dir/sock" ]; then
                unset PGHOST PGPORT PGUSER PGDATABASE
        fi
        if [ "${TE_KEEP:-0}" = 1 ]; then
                echo "te_pg_down: kept $dir (TE_KEEP=1)" >&2
        elif [ $rc = 0 ] && [ -f "$dir/$TE_PG_MARKER" ]; then
                # Only a directory te_pg_up made is removed.
                rm -rf "$dir"
        fi
        return $rc
}
