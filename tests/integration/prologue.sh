# shellcheck shell=bash
# prologue.sh: the common start of the integration tests that run on the embedded stack
# (not a test itself: ctest registers test_*.sh only). First line of such a test:
#
#   source "$(dirname "$0")/prologue.sh" NAME
#
# It turns on `set -euo pipefail`, sets
#   src           the source tree (TE_SOURCE_DIR, or two levels above this file)
#   TE_BUILD_DIR  exported; the build dir (default: $src/build)
#   here          $src/tests/integration
#   RUN           a fresh directory /tmp/te-NAME.XXXXXX for the stack (ops/stack.sh)
# sources ops/stack.sh and ops/pipeline.sh, defines
#   fail MSG      print "FAIL: MSG" on stderr and exit 1
#   q SQL         psql, unaligned, no header, fields separated by a space
# (a test may define its own q or fail after this line) and installs an EXIT trap that
#   1. when the test failed, prints the last TE_TEST_LOG_LINES (15) lines of every file
#      matching the glob patterns of the array TE_TEST_LOGS (default ('*.log'),
#      relative to RUN), leaving out the lines that match TE_TEST_LOG_SKIP (a grep
#      pattern; none when empty);
#   2. calls te_test_cleanup_extra when the test defined it (to stop what the test
#      started besides the pipeline); it sees the test's exit status as $rc;
#   3. stops the pipeline: te_pipeline_down RUN (planner, broker, sink) plus the names
#      in the array TE_TEST_PIPELINE (other processes started with te_pipeline_start);
#   4. stops the stack (te_stack_down RUN)
# and exits with the test's exit status (77 = skipped included). Set TE_TEST_* after
# the source line; the prologue resets them to their defaults.

set -euo pipefail
if [ $# -ne 1 ] || [ -z "$1" ]; then
        echo "usage: source prologue.sh NAME" >&2
        exit 2
fi
src=${TE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export TE_BUILD_DIR=${TE_BUILD_DIR:-$src/build}
# shellcheck disable=SC2034 # here is for the test
here=$src/tests/integration
# shellcheck source=ops/stack.sh
source "$src/ops/stack.sh"
# shellcheck source=ops/pipeline.sh
source "$src/ops/pipeline.sh"
RUN=$(mktemp -d "/tmp/te-$1.XXXXXX")

TE_TEST_LOGS=('*.log')
TE_TEST_LOG_LINES=15
TE_TEST_LOG_SKIP=
TE_TEST_PIPELINE=()
unset -f te_test_cleanup_extra

_te_test_cleanup() {
        local rc=$? f pat
        if [ $rc -ne 0 ]; then
                for pat in "${TE_TEST_LOGS[@]}"; do
                        # shellcheck disable=SC2231 # the pattern is meant to glob
                        for f in "$RUN"/$pat; do
                                echo "--- $f"
                                if [ -n "$TE_TEST_LOG_SKIP" ]; then
                                        grep -v "$TE_TEST_LOG_SKIP" "$f" | tail -n "$TE_TEST_LOG_LINES"
                                else
                                        tail -n "$TE_TEST_LOG_LINES" "$f"
                                fi
                        done 2>/dev/null || true
                done
        fi
        if declare -F te_test_cleanup_extra >/dev/null; then
                te_test_cleanup_extra || true
        fi
        te_pipeline_down "$RUN" "${TE_TEST_PIPELINE[@]}" >/dev/null 2>&1 || true
        te_stack_down "$RUN" || true
        exit $rc
}
trap _te_test_cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
q() { psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -c "$1"; }
