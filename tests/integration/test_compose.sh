#!/usr/bin/env bash
# test_compose: ops/deploy/compose.yml is a valid compose file and wires what the
# runbook promises. No Docker engine is needed:
#   1. `docker-compose config -q` (Debian's docker-compose, which validates offline
#      against its compose-spec schema and resolves references, merge keys, .env);
#   2. a JSON-schema validation of the file against that compose specification
#      (compose/config/compose_spec.json shipped by the same package), with
#      python3-jsonschema; both checks are shown to fail on a broken copy;
#   3. the wiring: Kafka's log dir is a named volume; every process's metrics port (from
#      its ops/deploy/*.conf) is published; the one-shot topics service runs
#      create-topics.sh on ops/topics.manifest and every exec-* service waits for it to
#      complete; Grafana gets the Prometheus data source and the dashboard directory
#      provisioned; the publish tool service mounts the sample targets;
#   4. the Grafana dashboard: every query selects by the $job variable, and held
#      targets and produce failures have panels.
set -euo pipefail
src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
dep=$src/ops/deploy
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3 # the interpreter Debian's python3-jsonschema and python3-yaml serve
command -v docker-compose >/dev/null || fail "docker-compose not installed (ops/install-deps)"
schema=$($py -c 'import compose.config, os; print(os.path.join(os.path.dirname(compose.config.__file__), "compose_spec.json"))')
[ -s "$schema" ] || fail "no compose_spec.json from the docker-compose package"
$py -c 'import jsonschema, yaml' || fail "python3-jsonschema / python3-yaml missing (ops/install-deps)"
work=$(mktemp -d /tmp/te-compose.XXXXXX)
trap 'rm -rf "$work"' EXIT

# 1. docker-compose's own validation
docker-compose -f "$dep/compose.yml" config -q || fail "docker-compose config rejected compose.yml"

# 2. the compose specification, by JSON schema
validate() { # FILE
        $py - "$schema" "$1" <<'PY'
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
doc = yaml.safe_load(open(sys.argv[2]))
errs = sorted(jsonschema.Draft201909Validator(schema).iter_errors(doc), key=str)
for e in errs:
    print("%s: %s" % ("/".join(map(str, e.absolute_path)), e.message), file=sys.stderr)
sys.exit(1 if errs else 0)
PY
}
validate "$dep/compose.yml" || fail "compose.yml does not follow the compose specification"

# both checks can fail: an unknown service key, a port that is not a port
cp -r "$dep" "$work/deploy"
sed 's/^    restart: "no"$/    restart: "no"\n    restarts: 3/' "$dep/compose.yml" >"$work/deploy/compose.yml"
grep -q 'restarts: 3' "$work/deploy/compose.yml" || fail "could not break the copy"
validate "$work/deploy/compose.yml" 2>/dev/null && fail "the schema check accepted an unknown key"
docker-compose -f "$work/deploy/compose.yml" config -q 2>/dev/null && fail "docker-compose accepted an unknown key"
sed 's/"127.0.0.1:9090:9090"/"127.0.0.1:9090:90x90"/' "$dep/compose.yml" >"$work/deploy/compose.yml"
docker-compose -f "$work/deploy/compose.yml" config -q 2>/dev/null && fail "docker-compose accepted a bad port"

# 3. the wiring, 4. the dashboard
$py - "$src" <<'PY'
import json, os, re, sys, yaml
src = sys.argv[1]
dep = os.path.join(src, "ops", "deploy")
c = yaml.safe_load(open(os.path.join(dep, "compose.yml")))
s = c["services"]
def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)
def mounts(svc):  # container path -> source, for short-syntax volumes
    out = {}
    for v in s[svc].get("volumes", []):
        parts = v.split(":")
        out[parts[1]] = parts[0]
    return out

# Kafka keeps its log in a named volume, where KAFKA_LOG_DIRS points
logdir = s["kafka"]["environment"]["KAFKA_LOG_DIRS"]
vol = mounts("kafka").get(logdir)
if vol is None or vol not in (c.get("volumes") or {}):
    fail("Kafka's log dir %s is not a named volume (%s)" % (logdir, s["kafka"].get("volumes")))
if mounts("postgres").get("/var/lib/postgresql/data") not in c["volumes"]:
    fail("PostgreSQL's data is not a named volume")

# metrics ports: the one in each conf is published (on the loopback)
for kind in ("planner", "broker", "sink"):
    conf = open(os.path.join(dep, kind + ".conf")).read()
    port = re.search(r"^metrics\.port\s*=\s*(\d+)", conf, re.M).group(1)
    ports = s["exec-" + kind].get("ports", [])
    if "127.0.0.1:%s:%s" % (port, port) not in ports:
        fail("exec-%s: metrics port %s not published (%s)" % (kind, port, ports))
    deps = s["exec-" + kind]["depends_on"]
    if deps.get("topics", {}).get("condition") != "service_completed_successfully":
        fail("exec-%s does not wait for the topics service" % kind)
    if deps.get("postgres", {}).get("condition") != "service_healthy":
        fail("exec-%s does not wait for PostgreSQL" % kind)

# the one-shot topics service: create-topics.sh on the manifest, never restarted
t = s["topics"]
if "create-topics.sh" not in " ".join(t["entrypoint"]) or t.get("restart") != "no":
    fail("topics: not a one-shot create-topics.sh run: %s" % t)
ops_mount = [k for k, v in mounts("topics").items() if os.path.normpath(os.path.join(dep, v)) == os.path.join(src, "ops")]
if not ops_mount or t["environment"]["MANIFEST"] != ops_mount[0] + "/topics.manifest":
    fail("topics: MANIFEST does not point at ops/topics.manifest in the mount")
if t["depends_on"]["kafka"]["condition"] != "service_healthy":
    fail("topics does not wait for Kafka")

# Grafana: provisioning mounted, data source -> the prometheus service, dashboards ->
# the mounted ops/grafana directory holding exec-pipeline.json
gm = mounts("grafana")
prov = gm.get("/etc/grafana/provisioning")
if not prov:
    fail("grafana: no provisioning mount")
prov = os.path.normpath(os.path.join(dep, prov))
ds = yaml.safe_load(open(os.path.join(prov, "datasources", "prometheus.yml")))["datasources"][0]
pport = s["prometheus"]["ports"][0].split(":")[-1]
if ds["type"] != "prometheus" or ds["url"] != "http://prometheus:%s" % pport:
    fail("grafana data source: %s" % ds)
prov_dash = yaml.safe_load(open(os.path.join(prov, "dashboards", "exec.yml")))["providers"][0]
path = prov_dash["options"]["path"]
host_dir = gm.get(path)
if not host_dir or not os.path.exists(os.path.join(dep, host_dir, "exec-pipeline.json")):
    fail("grafana: dashboard path %s is not the mounted ops/grafana" % path)

# the publish tool: profile tools, the sample targets mounted where its command reads
p = s["publish"]
if p.get("profiles") != ["tools"] or p["entrypoint"] != ["exec-publish"]:
    fail("publish: %s" % p)
data = mounts("publish")["/data"]
arg = p["command"][-1]
if not arg.startswith("/data/") or not os.path.exists(os.path.join(dep, data, arg[len("/data/"):])):
    fail("publish: %s is not in the mounted %s" % (arg, data))

# the dashboard: every selector filters by $job; the panels the runbook cites exist
d = json.load(open(os.path.join(src, "ops", "grafana", "exec-pipeline.json")))
sel = re.compile(r"\b((?:te|process)_[a-z_]+|up)\b(\{[^}]*\})?(?!\s*\()")
exprs = []
for panel in d["panels"]:
    for tg in panel.get("targets", []):
        e = tg["expr"]
        exprs.append((panel["title"], e))
        for m in sel.finditer(e):
            if 'job=~"$job"' not in (m.group(2) or ""):
                fail("panel %r: %s does not select job=~\"$job\": %s" % (panel["title"], m.group(1), e))
joined = " ".join(e for _, e in exprs)
for metric in ("te_planner_held_targets", "te_produce_failures_total",
               "process_cpu_seconds_total", "process_resident_memory_bytes",
               "process_open_fds", "te_build_info"):
    if metric not in joined:
        fail("no dashboard panel shows %s" % metric)
jobvar = [v for v in d["templating"]["list"] if v["name"] == "job"]
if not jobvar:
    fail("the dashboard has no $job variable")
print("compose wiring and dashboard: ok (%d queries, all by $job)" % len(exprs))
PY
echo "test_compose: ok"
