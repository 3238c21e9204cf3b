#!/usr/bin/env bash
# crash_long: the long crash harness (not run by ctest): test_crash.sh with more stops
# and several seeds. Usage: tests/integration/crash_long.sh [KILLS [SEEDS...]]
# (default 100 stops, seeds 11 12 13). Needs a build: TE_BUILD_DIR (default build/).
# Prints one line per seed: kills survived, messages processed, duplicates, lost.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kills=${1:-100}
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(11 12 13)
for s in "${seeds[@]}"; do
        TE_CRASH_KILLS=$kills TE_CRASH_SEED=$s bash "$here/test_crash.sh" | tail -n 1 |
                sed "s/^test_crash/crash_long seed=$s/"
done
