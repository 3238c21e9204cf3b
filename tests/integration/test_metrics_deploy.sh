#!/usr/bin/env bash
# test_metrics_deploy: the deployment files in ops/deploy are usable as shipped.
#   - each example config is accepted by its process (a bad key would stop start-up
#     with "config: file:line: key: why"; the check runs the real binary up to the point
#     where it would wait for Kafka);
#   - the compose file parses and names every service the runbook relies on;
#   - the systemd units give each process and instance its own metrics port;
#   - create-topics.sh, run against a stub of kafka-topics.sh, creates every topic of
#     ops/topics.manifest with its partition count, compacts exec.mode, and refuses a
#     cluster where the co-partitioned topics differ in partition count.
set -euo pipefail
src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TE_BUILD_DIR:-$src/build}
dep=$src/ops/deploy
fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d /tmp/te-deploy.XXXXXX)
trap 'rm -rf "$work"' EXIT

for p in planner broker sink; do
        st=0
        "$build/exec-$p" -c "$dep/$p.conf" -o bootstrap.file="$work/none" -o bootstrap.wait.ms=0 \
                -o metrics.port=0 2>"$work/$p.err" || st=$?
        if grep -q 'config:' "$work/$p.err"; then
                fail "$p.conf rejected: $(cat "$work/$p.err")"
        fi
        grep -q 'no bootstrap list' "$work/$p.err" || fail "$p: unexpected start-up: $(cat "$work/$p.err")"
        [ $st = 2 ] || fail "$p exit $st"
        grep -q '^metrics.port = 940' "$dep/$p.conf" || fail "$p.conf: no metrics.port"
done
# the check above can fail: a config with an unknown key is reported
printf 'metrics.prot = 1\n' >"$work/bad.conf"
"$build/exec-sink" -c "$work/bad.conf" 2>"$work/bad.err" && fail "bad config accepted"
grep -q 'bad.conf:1: metrics.prot: unknown key' "$work/bad.err" || fail "bad config message: $(cat "$work/bad.err")"

python3 - "$dep/compose.yml" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
want = {"kafka", "topics", "postgres", "exec-planner", "exec-broker", "exec-sink", "prometheus",
        "grafana", "publish"}
missing = want - set(d["services"])
assert not missing, missing
assert d["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
PY

ports=$(grep -ho 'metrics.port=94%i[0-9]' "$dep"/systemd/*.service.in | sort -u | wc -l)
[ "$ports" = 3 ] || fail "systemd units: expected 3 distinct metrics ports, found $ports"

# create-topics.sh against a stub CLI that records the calls and describes topics
cat >"$work/kafka-topics.sh" <<'EOF'
#!/usr/bin/env bash
echo "$*" >>"$STUB_LOG"
case " $* " in
*" --describe "*)
        topic=$(sed -E 's/.*--topic ([^ ]+).*/\1/' <<<"$*")
        n=${STUB_PARTS:-8}
        [ "$topic" = exec.reports ] && n=${STUB_REPORTS_PARTS:-$n}
        for ((i = 0; i < n; i++)); do echo "Topic: $topic Partition: $i Leader: 1"; done ;;
esac
EOF
chmod +x "$work/kafka-topics.sh"
export KAFKA_TOPICS=$work/kafka-topics.sh STUB_LOG=$work/calls.txt
bash "$dep/create-topics.sh" k1:9092 3 >"$work/out.txt"
python3 - "$src/ops/topics.manifest" "$work/calls.txt" <<'PY'
import sys
manifest = {}
for l in open(sys.argv[1]):
    f = l.split()
    if f and not f[0].startswith("#"):
        manifest[f[0]] = f[1]
created = {}
for l in open(sys.argv[2]):
    a = l.split()
    if "--create" in a:
        t = a[a.index("--topic") + 1]
        created[t] = (a[a.index("--partitions") + 1], a[a.index("--replication-factor") + 1],
                      " ".join(a))
        assert "--if-not-exists" in a and a[a.index("--bootstrap-server") + 1] == "k1:9092", l
assert set(created) == set(manifest), (created, manifest)
for t, p in manifest.items():
    assert created[t][0] == p and created[t][1] == "3", (t, created[t])
assert "cleanup.policy=compact" in created["exec.mode"][2]
assert "cleanup.policy=compact" not in created["exec.targets"][2]
PY
: >"$work/calls.txt"
if STUB_REPORTS_PARTS=4 bash "$dep/create-topics.sh" k1:9092 >"$work/out2.txt" 2>&1; then
        fail "create-topics.sh accepted mismatched partition counts"
fi
grep -q 'co-partitioning broken' "$work/out2.txt" || fail "no co-partitioning message"
echo "test_metrics_deploy: ok"
