#!/usr/bin/env bash
# test_backtest_tearsheet: the HTML tear sheet of a real backtest (the sample targets
# and bars, as ops/demo runs them), opened in headless Chromium.
#  1. the run writes tearsheet.html, equity.png and portfolios.png (PNGs), report.txt
#     with the new figures; backtest_runs stores the run's capital, bars source, build
#     commit and every option (params), including a configured risk-free rate;
#  2. Chromium loads the page without a console message (the page has no script, so
#     any message is an error) and its DOM has every section, the trades hash of the
#     run, a monthly table for 2024 and 2025 and two inline PNG charts of the right size
#     (tearsheet_check.py dom);
#  3. a screenshot shows the charts: the equity line's and the second portfolio's
#     colours spread over a chart-sized box, and text (tearsheet_check.py shot).
# Skipped (77) only when Chromium is not installed. TE_TEST_ARTIFACTS=DIR keeps the
# page, its screenshot and Chromium's log there.
source "$(dirname "$0")/prologue.sh" bttear
TE_TEST_LOGS=('*.err' 'chromium-*.log')
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
        echo "SKIP: chromium is not installed (ops/install-deps installs it)"
        exit 77
fi

te_stack_up "$RUN"
id=tear
"$TE_BUILD_DIR/exec-backtest" --run-id $id --bootstrap-file "$RUN/bootstrap" --ctl "$RUN/ctl" \
        --bars "$src/ops/sample/bars.csv" --targets "$src/ops/sample/targets.jsonl" \
        --out "$RUN/$id" -o progress.mode=plain -o report.risk_free=0.02 \
        "${TE_PIPELINE_KAFKA_OPTS[@]}" >"$RUN/$id.out" 2>"$RUN/$id.err" ||
        fail "exec-backtest failed: $(tail -3 "$RUN/$id.err")"
field() { sed -n "s/^$1: //p" "$RUN/$id.out"; }
md5=$(field 'trades md5')
[ ${#md5} = 32 ] || fail "no trades md5 in the output"

# 1. files and backtest_runs
out=$RUN/$id
for f in equity.png portfolios.png; do
        [ "$(head -c 8 "$out/$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
                fail "$f is not a PNG"
done
[ -s "$out/tearsheet.html" ] || fail "no tearsheet.html"
for k in cagr 'annualized volatility' sharpe sortino 'max drawdown'; do
        grep -q "^$k: [-0-9]" "$out/report.txt" || fail "report.txt has no $k"
done
grep -q "^max drawdown: -[0-9.]*% (peak [0-9-]*, trough [0-9-]*, " "$out/report.txt" ||
        fail "max drawdown without its dates: $(grep '^max drawdown' "$out/report.txt")"
row=$(q "SELECT capital, bars_source, build_commit <> '', params->'options'->>'run.id',
        params->>'risk_free', params->'options'->>'report.risk_free', trades_md5
        FROM backtest_runs WHERE run_id = '$id'")
[ "$row" = "1000000 CSV $src/ops/sample/bars.csv t $id 0.02 0.02 $md5" ] ||
        fail "backtest_runs row: $row"

# 2. Chromium: the DOM and the console
chrome() { # NAME ARGS...: a fresh profile per call, the log in chromium-NAME.log
        local name=$1
        shift
        timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic \
                --no-first-run --disable-background-networking --disable-component-update \
                --disable-sync --user-data-dir="$RUN/profile-$name" --enable-logging=stderr \
                --v=0 "$@" "file://$out/tearsheet.html" 2>"$RUN/chromium-$name.log"
}
chrome dom --dump-dom >"$RUN/dom.html" || fail "chromium --dump-dom failed"
python3 "$here/tearsheet_check.py" dom "$RUN/dom.html" "$md5" "$id" || fail "DOM check"
if grep -E 'CONSOLE|Uncaught|ERR_FILE|ERR_INVALID|Failed to load|Not allowed to load' \
        "$RUN/chromium-dom.log"; then
        fail "the page logged errors in Chromium"
fi

# 3. the screenshot
chrome shot --window-size=1100,1700 --hide-scrollbars --screenshot="$RUN/shot.png" ||
        fail "chromium --screenshot failed"
python3 "$here/tearsheet_check.py" shot "$RUN/shot.png" || fail "screenshot check"
if grep -E 'CONSOLE|Uncaught' "$RUN/chromium-shot.log"; then
        fail "the page logged errors in Chromium"
fi
if [ -n "${TE_TEST_ARTIFACTS:-}" ]; then
        mkdir -p "$TE_TEST_ARTIFACTS"
        cp "$out/tearsheet.html" "$out/equity.png" "$out/portfolios.png" "$RUN/shot.png" \
                "$RUN/dom.html" "$RUN"/chromium-*.log "$TE_TEST_ARTIFACTS/"
fi
echo "PASS: tear sheet of run $id (trades md5 $md5) loads in Chromium and shows its charts"
