#!/usr/bin/env bash
# test_poison_oversize: a message of about 1,000,000 bytes on each topic the service
# consumes (exec.targets and exec.mode: the planner; exec.orders: the broker;
# exec.reports: the sink) cannot be dead-lettered whole (its copy plus the te.* headers
# is above the producer's message.max.bytes). Each is dead-lettered cut to fit, with
# te.truncated.original_len and te.truncated.sha256 matching the original; a message
# whose key alone is too large for any copy is skipped with a CRITICAL alert naming its
# topic, partition and offset. No process exits or restarts (same pids, one start line
# each), every partition moves on (the rest of the backtest runs, everything is
# committed) and the books are exact. The same huge key on exec.orders, exec.reports and
# exec.mode is skipped by the broker, the sink and the planner alike.
source "$(dirname "$0")/prologue.sh" poisonbig
source "$here/eo_fault_lib.sh"
source "$here/poison_lib.sh"
TE_TEST_LOG_SKIP=kafka.log TE_TEST_LOG_LINES=12
te_stack_up "$RUN"
te_pipeline_up "$RUN" "$src/ops/sample/bars.csv"
t=$src/ops/sample/targets.jsonl
head -n 40 "$t" >"$RUN/p1.jsonl"
sed -n "41,100p" "$t" >"$RUN/p2.jsonl"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/p1.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 120 || eo_fail "first part not processed"
poison_pids_save

# ~1,000,000 bytes of junk after an Avro header, one file per topic; a huge key
boot=$TE_STACK_BOOTSTRAP
python3 - "$RUN" <<'PY'
import os, random, struct, sys
run = sys.argv[1]
rng = random.Random(14)
for topic, sid in (("exec.targets", 1001), ("exec.mode", 1002), ("exec.orders", 1003),
                   ("exec.reports", 1004)):
    body = bytes(rng.randrange(256) for _ in range(4096)) * 244  # 999,424 bytes
    with open("%s/big-%s.bin" % (run, topic), "wb") as f:
        f.write(b"\0" + struct.pack(">I", sid) + body + b"\x01" * 521)  # 999,950 bytes
with open(run + "/bigkey.txt", "wb") as f:
    f.write(b"K" * 999950 + b"\t" + b"junk\n")  # no copy of it can fit
PY
for topic in exec.targets exec.mode exec.orders exec.reports; do
        [ "$(stat -c %s "$RUN/big-$topic.bin")" = 999950 ] || eo_fail "test file size"
        kcat -b "$boot" -X message.max.bytes=4000000 -X partitioner=murmur2_random -P \
                -t "$topic" -k pf-demo "$RUN/big-$topic.bin"
done
part=$(poison_partition exec.targets pf-demo) # co-partitioned: the same in every topic
for topic in exec.targets exec.orders exec.reports; do
        kcat -b "$boot" -X message.max.bytes=4000000 -P -t "$topic" -p "$part" -K $'\t' \
                <"$RUN/bigkey.txt"
done
kcat -b "$boot" -X message.max.bytes=4000000 -P -t exec.mode -p 0 -K $'\t' <"$RUN/bigkey.txt"
"$TE_BUILD_DIR/exec-publish" --bootstrap-file "$RUN/bootstrap" "$RUN/p2.jsonl" >/dev/null
te_pipeline_wait_idle "$RUN" 180 || eo_fail "a partition is blocked or a process died"
poison_same_procs

eo_topic_json exec.deadletter >"$RUN/dead.jsonl"
eo_topic_json exec.alerts >"$RUN/alerts.jsonl"
python3 - "$RUN" "$part" <<'PY' || eo_fail "dead letters / alerts"
import hashlib, json, sys
run, part = sys.argv[1], sys.argv[2]
cut = {}
for l in open(run + "/dead.jsonl"):
    h = json.loads(l).get("headers") or {}
    if "te.truncated.original_len" in h:
        cut.setdefault(h["te.source.topic"], []).append(h)
for topic in ("exec.targets", "exec.mode", "exec.orders", "exec.reports"):
    orig = open("%s/big-%s.bin" % (run, topic), "rb").read()
    got = cut.get(topic, [])
    if not got:
        sys.exit("%s: no cut dead letter (have %s)" % (topic, sorted(cut)))
    for h in got:
        assert h["te.truncated.original_len"] == str(len(orig)), h
        assert h["te.truncated.sha256"] == hashlib.sha256(orig).hexdigest(), topic
        assert h.get("te.reason"), h
    print("ok - %s: %d cut dead letter(s), %s" % (topic, len(got), got[0]["te.reason"][:60]))
crit = [json.loads(l)["value"] for l in open(run + "/alerts.jsonl")]
crit = [a for a in crit if a and a.get("code") == "deadletter_skipped"]
for topic, proc in (("exec.targets", "exec-planner"), ("exec.orders", "exec-broker"),
                    ("exec.reports", "exec-sink"), ("exec.mode", "exec-planner")):
    want = "%s[%s]@" % (topic, 0 if topic == "exec.mode" else part)
    hit = [a for a in crit if a["severity"] == "CRITICAL" and a["source"] == proc and
           want in a["message"]]
    if not hit:
        sys.exit("no CRITICAL deadletter_skipped alert from %s naming %s: %s" % (proc, want, crit))
    print("ok - %s skipped the message with a 999,950-byte key: %s" % (proc, hit[0]["message"][:90]))
PY
[ "$(grep -c '"planner.bad_mode"' "$RUN/planner.log")" = 2 ] || eo_fail "2 bad exec.mode messages not logged"
eo_assert_books_exact
te_pipeline_down "$RUN" || eo_fail "a process did not exit cleanly"
echo "test_poison_oversize: ok"
