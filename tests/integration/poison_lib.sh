# shellcheck shell=bash
# poison_lib.sh: helpers of the poison-pill tests (test_poison_*.sh): one bad message
# must be dead-lettered (or skipped with a CRITICAL alert) while the process that read
# it stays up and its partition moves on. Source after prologue.sh and eo_fault_lib.sh.

# poison_pids_save: remember the pids of planner, broker and sink
poison_pids_save() {
        local name
        for name in planner broker sink; do
                cp "$RUN/$name.pid" "$RUN/$name.pid0"
        done
}
# poison_same_procs: planner, broker and sink are the processes saved by
# poison_pids_save, alive, each started once (one <name>.start line in its log)
poison_same_procs() {
        local name pid n
        for name in planner broker sink; do
                pid=$(cat "$RUN/$name.pid0")
                [ "$(cat "$RUN/$name.pid")" = "$pid" ] || eo_fail "$name was restarted"
                kill -0 "$pid" 2>/dev/null || {
                        tail -n 5 "$RUN/$name.log" >&2
                        eo_fail "$name (pid $pid) died"
                }
                n=$(grep -c "\"$name.start\"" "$RUN/$name.log" || true)
                [ "$n" = 1 ] || eo_fail "$name started $n times"
        done
}
# poison_partition TOPIC KEY: the partition of KEY in TOPIC (the murmur2 partitioner
# of every producer of the service), from a message already there
poison_partition() {
        "$TE_BUILD_DIR/exec-tail" --bootstrap-file "$RUN/bootstrap" -t "$1" \
                --from-beginning --exit-at-end 2>/dev/null | python3 -c '
import json, sys
key = sys.argv[1]
for l in sys.stdin:
    m = json.loads(l)
    if m.get("key") == key:
        print(m["partition"])
        break
else:
    sys.exit("no message with key %s" % key)' "$2"
}
