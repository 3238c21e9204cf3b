#!/usr/bin/env bash
# crash_long: the long crash harness (not run by ctest): test_crash.sh with more stops
# and several seeds, each seed on both workloads: resting orders (GTC, participation
# 0.0005) and the default DAY orders (TE_CRASH_WORKLOAD, test_crash.sh).
# Every stop lands on a process holding its partitions; every 4th is a SIGTERM, going
# round planner, broker and sink. Usage: tests/integration/crash_long.sh [KILLS [SEEDS...]]
# (default 45 stops, seeds 11 12 13). Needs a build: TE_BUILD_DIR (default build/).
# Prints one line per seed: stops survived (SIGTERMs among them), messages processed,
# trades, open orders, trades hash, duplicates, lost, open orders the crash-free run
# closed. Exits 1 when any seed's run differs from its crash-free run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kills=${1:-45}
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(11 12 13)
rc=0
for s in "${seeds[@]}"; do
        for w in resting day; do
                out=$(TE_CRASH_KILLS=$kills TE_CRASH_TERM_EVERY=4 TE_CRASH_SEED=$s \
                        TE_CRASH_WORKLOAD=$w EO_IDLE_TIMEOUT=600 \
                        bash "$here/test_crash.sh" 2>&1) || rc=1
                printf '%s\n' "$out" | tail -n 1 |
                        sed "s/^test_crash/crash_long seed=$s workload=$w/"
        done
done
exit $rc
