#!/usr/bin/env bash
# test_doc_blocks: every ```sh block of README.md and ops/RUNBOOK.md runs as written
# against `ops/stack up`, or says why it cannot run here.
#
# The stack is the one a reader gets: `ops/stack up` (in a fresh TE_STACK_DIR), then
# each block runs in document order, from the repository root, in its own
# `bash -euo pipefail` after `eval "$(ops/stack env)"` (what the README asks the reader
# to do once per shell), with a deadline. Lines before a block's fence:
#   <!-- doctest: skip: WHY -->    not run; WHY is printed (a real cluster, a gateway)
#   <!-- doctest: setup: CMD -->   CMD runs first, hidden from the reader (the state a
#                                  runbook procedure starts from, e.g. stored offsets)
# A block that exits non-zero, or is still running at its deadline, fails the test,
# which names the file and line of each broken block and shows its output. Blocks in
# other languages (```json, plain ```) are not commands. Background jobs a block
# starts are stopped when it ends. A block may leave files in the repository root
# (bt-*/ reports: ignored by git).
source "$(dirname "$0")/prologue.sh" docblocks
BLOCK_TIMEOUT=${TE_DOC_BLOCK_TIMEOUT:-300}
export TE_STACK_DIR=$RUN/stack
chmod 755 "$RUN" # PostgreSQL runs as postgres under it
export TE_BUILD_DIR
cd "$src"

te_test_cleanup_extra() {
        "$src/ops/stack" down >/dev/null 2>&1 || true
}

# Extract the blocks of FILE into $RUN/blocks/NAME-LINE.sh (+ .skip / .setup files).
python3 - "$RUN/blocks" README.md ops/RUNBOOK.md <<'PY'
import os, re, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
n = 0
for path in sys.argv[2:]:
    lines = open(path).read().split("\n")
    name = path.replace("/", "_")
    i = 0
    pending = {}
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^<!-- doctest: (skip|setup): (.*?) -->$", line.strip())
        if m:
            pending[m.group(1)] = m.group(2)
            i += 1
            continue
        f = re.match(r"^```(\S*)\s*$", line)
        if f:
            lang, start = f.group(1), i + 1
            body = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                sys.exit("%s:%d: unterminated code block" % (path, start))
            if lang in ("sh", "bash", "shell", "console"):
                base = os.path.join(out, "%03d-%s-%d" % (n, name, start))
                n += 1
                open(base + ".sh", "w").write("\n".join(body) + "\n")
                for k, v in pending.items():
                    open(base + "." + k, "w").write(v + "\n")
            elif pending:
                sys.exit("%s:%d: a doctest marker before a ```%s block" % (path, start, lang))
            pending = {}
        elif line.strip():
            if pending:
                sys.exit("%s:%d: a doctest marker not followed by a ```sh block" % (path, i + 1))
        i += 1
print(n)
PY
n_blocks=$(find "$RUN/blocks" -name '*.sh' | wc -l)
[ "$n_blocks" -ge 5 ] || fail "only $n_blocks shell blocks found"

"$src/ops/stack" up >"$RUN/stack-up.log" 2>&1 || fail "ops/stack up: $(cat "$RUN/stack-up.log")"

ran=0 skipped=0 broken=()
for b in "$RUN"/blocks/*.sh; do
        base=${b%.sh}
        where=$(basename "$base" | sed -E 's/^[0-9]+-//; s/_/\//; s/-([0-9]+)$/:\1/')
        if [ -f "$base.skip" ]; then
                echo "skip $where: $(cat "$base.skip")"
                skipped=$((skipped + 1))
                continue
        fi
        {
                echo 'eval "$(ops/stack env)"'
                echo 'trap '\''for j in $(jobs -p); do kill "$j" 2>/dev/null; done; wait'\'' EXIT'
                [ -f "$base.setup" ] && cat "$base.setup"
                cat "$b"
        } >"$base.run"
        st=0
        timeout -k 10 "$BLOCK_TIMEOUT" bash -euo pipefail "$base.run" >"$base.out" 2>&1 || st=$?
        if [ $st = 0 ]; then
                echo "ok   $where"
                ran=$((ran + 1))
        else
                echo "FAIL $where (exit $st$([ $st = 124 ] && echo ", still running after ${BLOCK_TIMEOUT}s")):"
                sed 's/^/    | /' "$b"
                tail -n 20 "$base.out" | sed 's/^/    > /'
                broken+=("$where")
        fi
done
[ ${#broken[@]} = 0 ] || fail "${#broken[@]} doc block(s) do not run as written: ${broken[*]}"
[ $ran -ge 5 ] || fail "only $ran blocks ran"
echo "test_doc_blocks: ok ($ran blocks ran, $skipped skipped with a reason)"
