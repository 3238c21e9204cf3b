#!/usr/bin/env bash
# test_promtool: the alert rules parse (`promtool check rules`), behave as their unit
# tests say (`promtool test rules`), and the Prometheus configurations in ops/ are valid
# (`promtool check config`); every CRITICAL in-band alert code of the sources is paged by
# ExecCriticalAlert and has a RUNBOOK section, every runbook_url anchor a heading.
# promtool comes with Debian's prometheus package
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

# every CRITICAL in-band alert code pages (ExecCriticalAlert) and has a RUNBOOK section.
# The list below is checked against the C sources: a new TE_SEV_CRITICAL there changes
# the count and fails here until its code is added to the rule, the RUNBOOK and here.
codes="retention_gap offset_ahead mode_refused position_mismatch broker_down fix_db fix_seq_too_low
        fix_trade_correction deadletter_lost deadletter_skipped side_message_lost"
n_crit=$(cd "$src" && git ls-files '*.c' 2>/dev/null | grep -v '^tests/' | xargs grep -o 'TE_SEV_CRITICAL' | wc -l)
[ "$n_crit" = 13 ] || fail "TE_SEV_CRITICAL occurs $n_crit times in the sources (13 expected, codes: $codes); page the new code"
rule_codes=$(grep -o 'te_alerts_total{code=~"[^"]*"}' "$src/ops/prometheus/alerts.yml" | sort -u)
[ "$(wc -l <<<"$rule_codes")" = 1 ] || fail "ExecCriticalAlert's three selectors differ: $rule_codes"
for c in $codes; do
        grep -q "\"$c\"" <(cd "$src" && git ls-files '*.c' | grep -v '^tests/' | xargs grep -h -A3 'TE_SEV_CRITICAL') ||
                fail "$c is not emitted next to a TE_SEV_CRITICAL in the sources"
        grep -q "[\"|]$c[|\"]" <<<"$rule_codes" || fail "ExecCriticalAlert does not page $c: $rule_codes"
        grep -q "^### $c\$" "$src/ops/RUNBOOK.md" || fail "ops/RUNBOOK.md has no section \"### $c\""
done
# ... and every alert's runbook_url anchor is a RUNBOOK heading
for a in $(grep -o 'RUNBOOK.md#[a-z0-9_]*' "$src/ops/prometheus/alerts.yml" | sed 's/.*#//' | sort -u); do
        grep -qi "^### $a\$" "$src/ops/RUNBOOK.md" || fail "runbook_url anchor #$a has no RUNBOOK heading"
done
echo "test_promtool: ok"
