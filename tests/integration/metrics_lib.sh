# shellcheck shell=bash
# metrics_lib.sh: helpers for the tests that scrape the processes' /metrics.
#
#   te_free_ports N            print N free TCP ports on 127.0.0.1, one per line
#   te_metric PORT NAME [k=v]...
#       scrape http://127.0.0.1:PORT/metrics and print the sum of the samples of NAME
#       whose labels include every k=v given (0 when there is none; exit 1 if the
#       scrape fails)
#   te_metric_series PORT NAME [k=v]...  print the matching samples as "labels value"
#   te_wait_metric PORT NAME WANT TIMEOUT_S [k=v]...
#       wait until te_metric prints WANT (compared as numbers); on timeout print what
#       it was and return 1
#   te_wait_http PORT PATH CODE TIMEOUT_S  wait until GET PATH answers with CODE

te_free_ports() {
        python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
}

# Parser of the text exposition: sum (or list) the samples of one name filtered by
# label values. Written independently of the C code under test.
_te_metric_py='
import re, sys, urllib.request
port, name, mode = sys.argv[1], sys.argv[2], sys.argv[3]
want = dict(a.split("=", 1) for a in sys.argv[4:])
try:
    text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5).read().decode()
except Exception as e:
    print("scrape failed: %s" % e, file=sys.stderr)
    sys.exit(1)
line_re = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$")
label_re = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"")
total, rows = 0.0, []
for line in text.splitlines():
    if not line or line.startswith("#"):
        continue
    m = line_re.match(line)
    if not m:
        print("bad exposition line: %r" % line, file=sys.stderr)
        sys.exit(1)
    if m.group(1) != name:
        continue
    labels = dict(label_re.findall(m.group(3) or ""))
    if all(labels.get(k) == v for k, v in want.items()):
        total += float(m.group(4))
        rows.append((m.group(3) or "", m.group(4)))
if mode == "sum":
    print(int(total) if total == int(total) else total)
else:
    for l, v in rows:
        print(l, v)
'

te_metric() {
        local port=$1 name=$2
        shift 2
        python3 -c "$_te_metric_py" "$port" "$name" sum "$@"
}

te_metric_series() {
        local port=$1 name=$2
        shift 2
        python3 -c "$_te_metric_py" "$port" "$name" rows "$@"
}

te_wait_metric() {
        local port=$1 name=$2 want=$3 timeout=$4 got deadline
        shift 4
        deadline=$((SECONDS + timeout))
        while :; do
                got=$(te_metric "$port" "$name" "$@" 2>/dev/null || echo "?")
                if [ "$got" != "?" ] && python3 -c 'import sys; sys.exit(float(sys.argv[1]) != float(sys.argv[2]))' "$got" "$want"; then
                        return 0
                fi
                if [ $SECONDS -ge $deadline ]; then
                        echo "te_wait_metric: $name{$*} on :$port is $got, want $want" >&2
                        return 1
                fi
                sleep 0.2
        done
}

te_wait_http() {
        local port=$1 path=$2 code=$3 timeout=$4 got deadline
        deadline=$((SECONDS + timeout))
        while :; do
                got=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path" || true)
                [ "$got" = "$code" ] && return 0
                if [ $SECONDS -ge $deadline ]; then
                        echo "te_wait_http: GET :$port$path answered $got, want $code" >&2
                        return 1
                fi
                sleep 0.1
        done
}
