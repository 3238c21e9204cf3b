#!/usr/bin/env bash
# test_sd_notify: under a service manager (systemd Type=notify) a process says READY=1
# only once /readyz answers 200, and STOPPING=1 when SIGTERM arrives. A listener on a
# datagram socket plays systemd: it records every notification with the /readyz status
# seen right when it arrived. exec-sink (sharing te_obs with the planner and the broker
# worker) is started with NOTIFY_SOCKET pointing there; the test checks that READY=1
# came exactly once, with /readyz 200 at that moment, and that STOPPING=1 follows the
# SIGTERM.
source "$(dirname "$0")/prologue.sh" sdnotify
# shellcheck source=tests/integration/metrics_lib.sh
source "$here/metrics_lib.sh"
wait_for() { # DESCRIPTION TIMEOUT_S COMMAND...
        local what=$1 deadline=$((SECONDS + $2))
        shift 2
        until "$@"; do
                [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
                sleep 0.1
        done
}
te_test_cleanup_extra() { [ -z "${lpid:-}" ] || kill "$lpid" 2>/dev/null || true; }
te_stack_up "$RUN"
port=$(te_free_ports 1)
python3 - "$RUN/notify.sock" "$port" "$RUN/notes.txt" <<'PY' &
import socket, sys, urllib.request, urllib.error
path, port, out = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
while True:
    msg = s.recv(4096).decode()
    try:
        code = urllib.request.urlopen("http://127.0.0.1:%s/readyz" % port, timeout=5).status
    except urllib.error.HTTPError as e:
        code = e.code
    except Exception:
        code = 0
    with open(out, "a") as f:
        f.write("%d %s\n" % (code, msg.replace("\n", "|")))
PY
lpid=$!
wait_for "the listener's socket" 10 test -S "$RUN/notify.sock"
NOTIFY_SOCKET=$RUN/notify.sock te_pipeline_start "$RUN" sink exec-sink -o metrics.port="$port"
ready() { grep -c 'READY=1' "$RUN/notes.txt" >/dev/null 2>&1; }
wait_for "READY=1" 60 ready
line=$(grep 'READY=1' "$RUN/notes.txt")
[ "$(wc -l <<<"$line")" = 1 ] || fail "READY=1 sent more than once: $line"
[ "${line%% *}" = 200 ] || fail "READY=1 while /readyz answered ${line%% *}: $line"
grep -c 'STOPPING=1' "$RUN/notes.txt" >/dev/null && fail "STOPPING=1 before any stop"
te_pipeline_stop "$RUN" sink || fail "the sink did not stop cleanly"
grep -c 'STOPPING=1' "$RUN/notes.txt" >/dev/null || fail "no STOPPING=1 after SIGTERM: $(cat "$RUN/notes.txt")"
[ "$(grep -c 'READY=1' "$RUN/notes.txt")" = 1 ] || fail "READY=1 sent again"
echo "test_sd_notify: ok ($(wc -l <"$RUN/notes.txt") notifications: $(cut -d' ' -f2- "$RUN/notes.txt" | paste -sd' ' -))"
