#!/usr/bin/env bash
# test_promtool: the alert rules parse (`promtool check rules`), behave as their unit
# tests say (`promtool test rules`), and the Prometheus configurations in ops/ are valid
# (`promtool check config`). promtool comes with Debian's prometheus package
# (ops/install-deps).
set -euo pipefail
src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v promtool >/dev/null || fail "promtool not installed (ops/install-deps installs prometheus)"
work=$(mktemp -d /tmp/te-promtool.XXXXXX)
trap 'rm -rf "$work"' EXIT

promtool check rules "$src/ops/prometheus/alerts.yml"
(cd "$src/ops/prometheus" && promtool test rules alerts_test.yml)

# the unit tests can fail: a wrong expectation must be reported
cp "$src/ops/prometheus/alerts.yml" "$work/"
sed 's/grown for 10m (150)/grown for 10m (151)/' "$src/ops/prometheus/alerts_test.yml" \
        >"$work/broken_test.yml"
if (cd "$work" && promtool test rules broken_test.yml >/dev/null 2>&1); then
        fail "promtool accepted a wrong expectation"
fi

# the integration-test configuration, with its placeholders filled in
sed -e 's/@PLANNER@/9401/' -e 's/@BROKER@/9402/' -e 's/@SINK@/9403/' -e 's#@RULES@#alerts.yml#' \
        "$src/ops/prometheus/prometheus-test.yml" >"$work/prometheus.yml"
promtool check config "$work/prometheus.yml"
# the deployment configuration, next to its rules as in the compose file
mkdir -p "$work/deploy"
cp "$src/ops/deploy/prometheus.yml" "$src/ops/prometheus/alerts.yml" "$work/deploy/"
promtool check config "$work/deploy/prometheus.yml"
echo "test_promtool: ok"
