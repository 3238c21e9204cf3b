#!/usr/bin/env bash
# test_dbtool_offsets: `exec-dbtool offsets show|set|reset` moves a group's offsets
# stored in PostgreSQL, the way out of a retention gap without hand-written SQL.
# exec-sink books 10 reports of a one-partition scratch topic and stops; ~8 MiB more
# make the mock cluster's retention drop the offsets it would read next (as in
# test_retention_gap). Then:
#   - show lists the stored offset (10); an unknown group shows nothing, exit 1;
#   - reset --to-earliest --dry-run prints "10 -> LOW" and changes nothing;
#   - reset --to-earliest --execute stores LOW (the low watermark, read independently
#     with kcat), and the restarted sink goes on from there: its offset reaches the
#     high watermark and it stays up;
#   - set PARTITION OFFSET --dry-run / --execute, --to-latest, and the usage errors
#     (no --dry-run/--execute, an unknown topic, bad numbers) exit 2 with one line.
source "$(dirname "$0")/prologue.sh" dbofs
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
wait_for() { # DESCRIPTION TIMEOUT_S COMMAND...
        local what=$1 deadline=$((SECONDS + $2))
        shift 2
        until "$@"; do
                [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
                sleep 0.1
        done
}
ofs() { "$TE_BUILD_DIR/exec-dbtool" offsets "$@"; }
te_stack_up "$RUN"
boot=$TE_STACK_BOOTSTRAP
"$TE_BUILD_DIR/exec-devstack-ctl" --ctl "$RUN/ctl" create_topic gap.reports 1 >/dev/null

"$TE_BUILD_DIR/tests/bench_sink" "$boot" gap.reports 10 "$RUN/first.csv"
sink_args=(-o topic.reports=gap.reports -o group.id=gap-sink)
te_pipeline_start "$RUN" sink exec-sink "${sink_args[@]}"
stored() { q "SELECT coalesce(max(next_offset), -1) FROM consumer_offsets WHERE consumer_group = 'gap-sink'"; }
stored_is() { [ "$(stored)" = "$1" ]; }
wait_for "10 reports booked" 60 stored_is 10
te_pipeline_stop "$RUN" sink || fail "sink did not stop cleanly"

python3 -c "import sys; sys.stdout.write(('x' * 100000 + '\n') * 80)" >"$RUN/junk.txt"
kcat -b "$boot" -P -t gap.reports -p 0 -l "$RUN/junk.txt"
watermarks() { # -> "LOW HIGH" of gap.reports [0], from kcat
        python3 - "$boot" <<'PY'
import subprocess, sys
def first(pos):
    out = subprocess.run(["kcat", "-b", sys.argv[1], "-C", "-t", "gap.reports", "-p", "0",
                          "-o", pos, "-e", "-q", "-f", "%o\n"],
                         capture_output=True, text=True, timeout=60).stdout.split()
    return out
allofs = first("beginning")
print(allofs[0], int(allofs[-1]) + 1)
PY
}
read -r low high <<<"$(watermarks)"
[ "$low" -gt 10 ] || fail "retention did not drop offset 10 (low watermark $low)"

# show
ofs show gap-sink >"$RUN/show.txt" || fail "show failed"
grep -Eq '^gap-sink +gap.reports +0 +10 ' "$RUN/show.txt" || fail "show: $(cat "$RUN/show.txt")"
st=0; ofs show no-such-group >/dev/null 2>&1 || st=$?
[ $st = 1 ] || fail "show of an unknown group: exit $st, expected 1"

# reset --to-earliest: dry run, then for real
out=$(ofs reset gap-sink gap.reports --to-earliest --dry-run --bootstrap-file "$RUN/bootstrap")
grep -q "^gap-sink gap.reports \[0\]: 10 -> $low (dry run)$" <<<"$out" || fail "dry run: $out"
stored_is 10 || fail "the dry run moved the offset to $(stored)"
out=$(ofs reset gap-sink gap.reports --to-earliest --execute -b "$boot")
[ "$out" = "gap-sink gap.reports [0]: 10 -> $low" ] || fail "reset: $out"
stored_is "$low" || fail "reset stored $(stored), expected $low"

# the sink goes on from the low watermark (the junk is dead-lettered) up to the end
te_pipeline_start "$RUN" sink exec-sink "${sink_args[@]}"
wait_for "the sink to reach the high watermark $high" 90 stored_is "$high"
kill -0 "$(cat "$RUN/sink.pid")" || fail "the sink died"
grep -c '"kafka.retention_gap"' "$RUN/sink.log" >/dev/null && fail "still a retention gap after the reset"
te_pipeline_stop "$RUN" sink || fail "sink did not stop cleanly"

# set and --to-latest
out=$(ofs set gap-sink gap.reports 0 3 --dry-run)
grep -q "^gap-sink gap.reports \[0\]: $high -> 3 (dry run)$" <<<"$out" || fail "set dry run: $out"
stored_is "$high" || fail "set --dry-run changed the offset"
ofs set gap-sink gap.reports 0 3 --execute >/dev/null || fail "set --execute"
stored_is 3 || fail "set stored $(stored)"
ofs set other-group gap.reports 2 7 --execute | grep -q '(none) -> 7' || fail "set of a new row"
[ "$(q "SELECT next_offset FROM consumer_offsets WHERE consumer_group = 'other-group'")" = 7 ] ||
        fail "new row not stored"
EXEC_BOOTSTRAP_FILE=$RUN/bootstrap ofs reset gap-sink gap.reports --to-latest --execute >/dev/null ||
        fail "reset --to-latest"
stored_is "$high" || fail "--to-latest stored $(stored), expected $high"

# usage errors: exit 2, one line
for args in "set gap-sink gap.reports 0 3" "reset gap-sink gap.reports --to-earliest --execute" \
        "reset gap-sink gap.reports --dry-run -b $boot" "set gap-sink gap.reports x 3 --execute" \
        "set gap-sink gap.reports 0 -1 --execute" "show a b c" "frobnicate" \
        "reset gap-sink nosuch.topic --to-earliest --execute --partition 0 -b $boot" \
        "show --execute"; do
        st=0
        # shellcheck disable=SC2086
        ofs $args >/dev/null 2>"$RUN/err.txt" || st=$?
        [ $st = 2 ] || fail "offsets $args: exit $st, expected 2"
        [ "$(wc -l <"$RUN/err.txt")" = 1 ] || fail "offsets $args: $(cat "$RUN/err.txt")"
done
stored_is "$high" || fail "a refused command changed the offset"
echo "test_dbtool_offsets: ok (retention gap 10 -> $low repaired, sink reached $high)"
