#!/usr/bin/env bash
# test_publish_tail: exec-publish -> mock Kafka -> exec-tail on the embedded stack.
#
# 1. publishes ops/sample/targets.jsonl (or a few lines written here if it is missing)
#    and checks, with python3's json module, that exec-tail --exit-at-end prints every
#    line once, keyed by portfolio_id, with a value equal to the input object;
# 2. a file with a bad line: without --skip-invalid exec-publish exits non-zero and
#    names file:line; with it, the summary counts the skipped line;
# 3. ExecutionMode lines on exec.mode, read back with -n;
# 4. a misspelt topic and a missing topic are refused (and not auto-created);
# 5. injected produce errors make exec-publish exit non-zero;
# 6. exec-tail's start positions (--offset beginning, end, N, -N, @TIME: the mock
#    cluster answers offsets_for_times with -1, so @TIME is the scan), the Kafka
#    timestamp and schema id on each line, and its flags (-h, --version, one-line
#    errors).
# No sleeps: exec-publish returns only after every delivery report, and exec-tail
# --exit-at-end stops at the high watermarks it saw at start.
set -euo pipefail
src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export TE_BUILD_DIR=${TE_BUILD_DIR:-$src/build}
bin=$TE_BUILD_DIR
source "$src/ops/stack.sh"
RUN=$(mktemp -d /tmp/te-pubtail.XXXXXX)
cleanup() {
        local rc=$?
        if [ $rc -ne 0 ]; then
                for f in "$RUN"/*.log "$RUN"/*.err; do
                        [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }
                done
        fi
        te_stack_down "$RUN" || true
        exit $rc
}
trap cleanup EXIT
fail() {
        echo "FAIL: $*" >&2
        exit 1
}

te_stack_up "$RUN"
bf=$TE_STACK_BOOTSTRAP_FILE

publish() { "$bin/exec-publish" --bootstrap-file "$bf" "$@"; }
tail_topic() { "$bin/exec-tail" --bootstrap-file "$bf" "$@"; }

# ---- 1. the sample targets, through Avro and back --------------------------------
input=$src/ops/sample/targets.jsonl
if [ ! -s "$input" ]; then
        input=$RUN/targets.jsonl
        for i in 1 2 3 4 5; do
                printf '{"decision_id":"it-d%s","portfolio_id":"pf-%s","strategy_id":"s",' "$i" $((i % 3))
                printf '"profile_version_id":"v","regime_id":"r","universe_id":"u","mode":"TRAINING",'
                printf '"as_of":%s,"unit":"QUANTITY","full_replace":true,' $((1704229200000 + i))
                printf '"targets":[{"ticker":"AAA","value":%s,"ref_price":10.5}]}\n' $((i * 10))
        done >"$input"
fi
n_in=$(grep -cv '^[[:space:]]*\(#\|$\)' "$input")

out=$(publish --max-in-flight 7 "$input" 2>"$RUN/publish1.err")
[ "$out" = "published $n_in messages to exec.targets (0 skipped)" ] ||
        fail "summary: '$out'"

tail_topic -t exec.targets --from-beginning --exit-at-end >"$RUN/tail1.jsonl" 2>"$RUN/tail1.err"
python3 - "$input" "$RUN/tail1.jsonl" <<'EOF'
import json, sys
from collections import Counter

def norm(o):
    # the tail renders optional fields as null; the input may leave them out
    o = dict(o)
    o.setdefault("nav", None)
    o["targets"] = [dict(t, ref_price=t.get("ref_price")) for t in o["targets"]]
    return o

want = [json.loads(l) for l in open(sys.argv[1])
        if l.strip() and not l.lstrip().startswith("#")]
got = [json.loads(l) for l in open(sys.argv[2])]
assert len(got) == len(want), "tail printed %d records, published %d" % (len(got), len(want))
ids = lambda xs: Counter(x["decision_id"] for x in xs)
assert ids(r["value"] for r in got) == ids(want), "decision_ids differ"
by_id = {w["decision_id"]: norm(w) for w in want}
seen = set()
for r in got:
    assert r["topic"] == "exec.targets", r["topic"]
    v = r["value"]
    assert r["key"] == v["portfolio_id"], "key %r != portfolio_id" % r["key"]
    assert v == by_id[v["decision_id"]], "value differs for %s" % v["decision_id"]
    seen.add((r["partition"], r["offset"]))
assert len(seen) == len(got), "a (partition, offset) printed twice"
# one portfolio -> one partition (keyed by portfolio_id)
part = {}
for r in got:
    assert part.setdefault(r["key"], r["partition"]) == r["partition"], r["key"]
EOF

# ---- 2. bad lines ----------------------------------------------------------------
ids='"strategy_id":"s","profile_version_id":"v","regime_id":"r","universe_id":"u"'
tgt='"as_of":"2024-01-02","unit":"QUANTITY","full_replace":false,"targets":[{"ticker":"AAA","value":1}]'
cat >"$RUN/bad.jsonl" <<EOF
{"decision_id":"it-good-1","portfolio_id":"pf-it",$ids,"mode":"TRAINING",$tgt}
# a comment
{"decision_id":"it-bad","portfolio_id":"pf-it",$ids,"mode":"SIMULATION",$tgt}

{"decision_id":"it-good-2","portfolio_id":"pf-it",$ids,"mode":"TRAINING",$tgt}
EOF
rc=0
out=$(publish "$RUN/bad.jsonl" 2>"$RUN/publish2.err") || rc=$?
[ $rc -ne 0 ] || fail "exec-publish accepted a bad line without --skip-invalid"
grep -q "bad.jsonl:3: mode: unknown symbol" "$RUN/publish2.err" ||
        fail "no file:line error for the bad line"
[ "$out" = "published 1 messages to exec.targets (0 skipped)" ] ||
        fail "summary after stopping: '$out'"

out=$(publish --skip-invalid "$RUN/bad.jsonl" 2>"$RUN/publish3.err")
[ "$out" = "published 2 messages to exec.targets (1 skipped)" ] ||
        fail "summary with --skip-invalid: '$out'"
grep -q "bad.jsonl:3: mode: unknown symbol" "$RUN/publish3.err" ||
        fail "--skip-invalid did not report the bad line"

out=$("$bin/exec-publish" --check "$RUN/bad.jsonl" 2>/dev/null) && fail "--check accepted a bad line"
[ "$out" = "checked 1 messages (0 skipped)" ] || fail "--check summary: '$out'"

tail_topic -t exec.targets --from-beginning --exit-at-end >"$RUN/tail2.jsonl" 2>"$RUN/tail2.err"
python3 - "$RUN/tail2.jsonl" "$n_in" <<'EOF'
import json, sys
got = [json.loads(l)["value"]["decision_id"] for l in open(sys.argv[1])]
assert len(got) == int(sys.argv[2]) + 3, len(got)
assert got.count("it-good-1") == 2 and got.count("it-good-2") == 1, got
assert "it-bad" not in got
EOF

# ---- 3. execution modes ----------------------------------------------------------
cat >"$RUN/mode.jsonl" <<'EOF'
{"scope":"*","level":"HALT","effective_from":"2024-01-02T14:30:00Z","reason":"drill"}
{"scope":"pf-it","level":"REDUCE_ONLY","effective_from":1704205800001,"reason":""}
EOF
out=$(publish --type mode "$RUN/mode.jsonl" 2>"$RUN/publish4.err")
[ "$out" = "published 2 messages to exec.mode (0 skipped)" ] || fail "mode summary: '$out'"
tail_topic -t exec.mode --from-beginning -n 2 >"$RUN/tail3.jsonl" 2>"$RUN/tail3.err"
python3 - "$RUN/tail3.jsonl" <<'EOF'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
assert [(r["key"], r["value"]["level"], r["value"]["effective_from"]) for r in got] == [
    ("*", "HALT", 1704205800000), ("pf-it", "REDUCE_ONLY", 1704205800001)], got
EOF

# ---- 4. unknown topics are refused, not created ----------------------------------
rc=0
publish -t exec.targetz "$input" >/dev/null 2>"$RUN/publish5.err" || rc=$?
[ $rc -ne 0 ] || fail "exec-publish produced to a topic that does not exist"
rc=0
tail_topic -t exec.targetz --exit-at-end >/dev/null 2>"$RUN/tail4.err" || rc=$?
[ $rc -ne 0 ] || fail "exec-tail read a topic that does not exist"
grep -q "topic exec.targetz does not exist" "$RUN/tail4.err" || fail "tail: no topic error"

# ---- 6. start positions (before 5: its injected errors stay) ----------------------------------------------------------
"$bin/exec-devstack-ctl" --ctl "$TE_STACK_CTL" create_topic tail.pos 1 >/dev/null
publish --type mode -t tail.pos "$RUN/mode.jsonl" >/dev/null 2>"$RUN/p7.err"
publish --type mode -t tail.pos "$RUN/mode.jsonl" >/dev/null 2>"$RUN/p8.err"
tail_topic -t tail.pos --offset beginning --exit-at-end >"$RUN/pos_a.jsonl"
# T: after every record of batch A; batch B is produced once the clock passed it
T=$(python3 -c 'import json, sys
print(max(json.loads(l)["timestamp"] for l in open(sys.argv[1])) + 1)' "$RUN/pos_a.jsonl")
deadline=$((SECONDS + 10))
while [ "$(date +%s%3N)" -le "$T" ]; do
        [ $SECONDS -lt $deadline ] || fail "clock did not pass $T"
        sleep 0.01
done
publish --type mode -t tail.pos "$RUN/mode.jsonl" >/dev/null 2>"$RUN/p9.err"
offsets() { # exec-tail args... -> the offsets printed, space-separated
        tail_topic -t tail.pos --exit-at-end "$@" | python3 -c 'import json, sys
rows = [json.loads(l) for l in sys.stdin]
for r in rows:
    assert isinstance(r["timestamp"], int) and r["timestamp"] > 1600000000000, r
    assert r["schema_id"] == 1002, r  # ExecutionMode in schemas/manifest
print(" ".join(str(r["offset"]) for r in rows))'
}
[ "$(offsets --offset beginning)" = "0 1 2 3 4 5" ] || fail "--offset beginning: $(offsets --offset beginning)"
[ "$(offsets --from-beginning)" = "0 1 2 3 4 5" ] || fail "--from-beginning"
[ "$(offsets)" = "" ] || fail "default (end) printed records"
[ "$(offsets --offset end)" = "" ] || fail "--offset end printed records"
[ "$(offsets --offset 2)" = "2 3 4 5" ] || fail "--offset 2: $(offsets --offset 2)"
[ "$(offsets --offset -2)" = "4 5" ] || fail "--offset -2: $(offsets --offset -2)"
[ "$(offsets --offset -99)" = "0 1 2 3 4 5" ] || fail "--offset -99: $(offsets --offset -99)"
[ "$(offsets --offset 99)" = "" ] || fail "--offset 99 (past the end) printed records"
[ "$(offsets --offset "@$T")" = "4 5" ] || fail "--offset @$T: $(offsets --offset "@$T")"
[ "$(offsets --offset "s@$T")" = "4 5" ] || fail "--offset s@$T"
[ "$(offsets --offset @2000-01-01)" = "0 1 2 3 4 5" ] || fail "--offset @2000-01-01"
[ "$(offsets --offset @2999-01-01T00:00:00Z)" = "" ] || fail "--offset in the future printed records"
[ "$(tail_topic -t tail.pos --offset 1 -n 2 | python3 -c 'import json, sys
print(" ".join(str(json.loads(l)["offset"]) for l in sys.stdin))')" = "1 2" ] || fail "--offset 1 -n 2"

# flags: -h and --version exit 0, errors are one line and exit 2
"$bin/exec-tail" -h | grep -- '--offset POS' >/dev/null || fail "exec-tail -h: no --offset"
"$bin/exec-tail" --version | grep -Eq '^exec-tail [0-9.]+ \(commit [^)]+\)$' || fail "exec-tail --version"
for bad in "--offset x" "--offset @yesterday" "--offset -0" "--frobnicate" "-t"; do
        rc=0
        # shellcheck disable=SC2086
        tail_topic $bad >/dev/null 2>"$RUN/bad.err" || rc=$?
        [ $rc = 2 ] || fail "exec-tail $bad: exit $rc, expected 2"
        [ "$(wc -l <"$RUN/bad.err")" = 1 ] || fail "exec-tail $bad: $(cat "$RUN/bad.err")"
done

# ---- 5. failed deliveries --------------------------------------------------------
# Produce (API key 0) answered with a non-retriable error: the deliveries fail.
"$bin/exec-devstack-ctl" --ctl "$TE_STACK_CTL" request_errors 0 INVALID_RECORD 100 >/dev/null
rc=0
publish --type mode "$RUN/mode.jsonl" >/dev/null 2>"$RUN/publish6.err" || rc=$?
[ $rc -ne 0 ] || fail "exec-publish exited 0 although deliveries failed"
grep -q "deliveries failed" "$RUN/publish6.err" || fail "no delivery failure reported"

echo "ok: publish/tail ($n_in sample records)"
