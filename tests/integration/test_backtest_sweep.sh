#!/usr/bin/env bash
# test_backtest_sweep: exec-backtest runs several targets files as one sweep.
#  Three variants derived from the sample targets (the first 40 days of pf-demo alone,
#  of pf-alt alone, and of both with every quantity doubled):
#  1. a sweep over their directory (2 at once, sorted by return): each variant has its
#     own run id <sweep>-<name>, database and report; sweep.csv and the printed table
#     have one row per variant, sorted, with the report's own figures (report.txt of
#     the variant); the trades hash in the table is the md5 psql computes in the
#     variant's database; one progress line for the sweep, no per-run progress;
#  2. each file run alone gives the same trades hash as inside the sweep;
#  3. a second sweep of the same files (given one by one, all at once) gives the same
#     hashes again; a broken fourth file fails alone (its row says why, exit 2), the
#     others still finish;
#  the run of demo alone also measures its stages (--stages): every stage line, CPU
#  time from each process, DB commits from the sink's metrics, and the phases add up to
#  the wall time;
#  usage errors (unknown sort column, a name that is no run id, an empty directory)
#  exit 2 before anything starts.
source "$(dirname "$0")/prologue.sh" btsweep
TE_TEST_LOGS=('*.err' '*/*/runner.log' '*/*/*.log')
te_test_cleanup_extra() {
        local j
        for j in $(jobs -p); do
                pkill -TERM -P "$j" 2>/dev/null || true
                kill "$j" 2>/dev/null || true
        done
        wait 2>/dev/null || true
}

te_stack_up "$RUN"
KAFKA=(-o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500
        -o kafka.fetch.wait.max.ms=10 -o kafka.linger.ms=1)
bars=$src/ops/sample/bars.csv
bt() { # bt ID OUT [args]: exec-backtest on this stack, output in RUN/ID.out, .err
        local id=$1
        shift
        "$TE_BUILD_DIR/exec-backtest" --run-id "$id" --bootstrap-file "$RUN/bootstrap" \
                --ctl "$RUN/ctl" --bars "$bars" --out "$RUN/$id" -o progress.mode=plain \
                "${KAFKA[@]}" "$@" >"$RUN/$id.out" 2>"$RUN/$id.err"
}
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
md5_of() {
        q "$1" "SELECT md5(coalesce(string_agg(concat_ws('|', trade_id, \"timestamp\" AT TIME ZONE 'UTC',
                ticker, direction, size, price, order_id, decision_id, commission, mode, broker),
                E'\n' ORDER BY trade_id), '')) FROM trades"
}
# csv_col FILE VARIANT COLUMN: a field of sweep.csv
csv_col() {
        python3 - "$@" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["variant"] == sys.argv[2]:
        print(r[sys.argv[3]])
PY
}

mkdir -p "$RUN/variants"
python3 - "$src/ops/sample/targets.jsonl" "$RUN/variants" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
days = sorted({r["as_of"] for r in rows})[:40]
first = [r for r in rows if r["as_of"] in days]
def write(name, rs):
    with open("%s/%s.jsonl" % (sys.argv[2], name), "w") as f:
        for r in rs:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
write("demo", [r for r in first if r["portfolio_id"] == "pf-demo"])
write("alt", [r for r in first if r["portfolio_id"] == "pf-alt"])
both = []
for r in first:
    r = dict(r, targets=[dict(t, value=t["value"] * 2) for t in r["targets"]])
    both.append(r)
write("both2x", both)
PY
names="alt both2x demo"

# usage errors: nothing starts, exit 2
mkdir -p "$RUN/empty" "$RUN/badname"
cp "$RUN/variants/demo.jsonl" "$RUN/badname/no way.jsonl"
for args in "--targets $RUN/variants --sort bogus" "--targets $RUN/empty" \
        "--targets $RUN/badname"; do
        rc=0
        # shellcheck disable=SC2086 # the words are meant to split
        bt usage $args || rc=$?
        [ $rc = 2 ] || fail "exec-backtest $args: exit $rc, expected 2"
        [ -s "$RUN/usage.err" ] || fail "exec-backtest $args: no reason given"
done
grep -q "not a run id" "$RUN/usage.err" || fail "bad variant name: no reason given"
[ "$(q "$PGDATABASE" "SELECT count(*) FROM pg_database WHERE datname LIKE 'bt_usage%'")" = 0 ] ||
        fail "a usage error started a run"

# 1. the sweep, and 2. each file alone, side by side
bt sw1 --targets "$RUN/variants" --sort return --parallel 2 &
pid_sw1=$!
pids=()
for v in $names; do
        stages=()
        [ "$v" != demo ] || stages=(--stages)
        bt "solo-$v" --targets "$RUN/variants/$v.jsonl" "${stages[@]}" &
        pids+=($!)
done
wait $pid_sw1 || fail "sweep sw1 failed: $(tail -3 "$RUN/sw1.err")"
for p in "${pids[@]}"; do wait "$p" || fail "a run alone failed"; done

csv=$RUN/sw1/sweep.csv
[ "$(tail -n +2 "$csv" | wc -l)" = 3 ] || fail "sweep.csv: not 3 rows"
# sorted by return, highest first
python3 - "$csv" <<'PY' || fail "sweep.csv is not sorted by return"
import csv, sys
r = [float(x["total_return"]) for x in csv.DictReader(open(sys.argv[1]))]
sys.exit(0 if r == sorted(r, reverse=True) else 1)
PY
for v in $names; do
        h=$(csv_col "$csv" "$v" trades_md5)
        [ "$(csv_col "$csv" "$v" run_id)" = "sw1-$v" ] || fail "$v: run id"
        [ "$(csv_col "$csv" "$v" status)" = "done" ] || fail "$v: not done"
        [ -n "$h" ] && [ "$h" = "$(md5_of "bt_sw1_$v")" ] || fail "$v: table hash != psql's"
        [ "$(q "bt_sw1_$v" 'SELECT count(*) FROM trades')" -gt 10 ] || fail "$v: too few trades"
        solo=$(sed -n 's/^trades md5: //p' "$RUN/solo-$v.out")
        [ "$h" = "$solo" ] || fail "$v: hash in the sweep $h, alone $solo"
        # the row's figures are the variant's report
        rep=$RUN/sw1/$v/report.txt
        [ -s "$rep" ] && [ -s "$RUN/sw1/$v/tearsheet.html" ] || fail "$v: no report"
        python3 - "$csv" "$v" "$rep" <<'PY' || fail "$v: the table's figures are not the report's"
import csv, re, sys
row = [r for r in csv.DictReader(open(sys.argv[1])) if r["variant"] == sys.argv[2]][0]
rep = dict(l.rstrip("\n").split(": ", 1) for l in open(sys.argv[3]) if ": " in l)
num = lambda s: float(re.match(r"-?[0-9.]+", s).group(0))
checks = [("total return", 100 * float(row["total_return"]), 4),
          ("turnover", float(row["turnover"]), 4),
          ("commissions", float(row["commissions"]), 4),
          ("slippage vs arrival", float(row["slippage_bps"]), 3),
          ("max drawdown", 100 * float(row["max_drawdown"]), 4),
          ("sharpe", float(row["sharpe"]), 4),
          ("trades", float(row["trades"]), 0)]
bad = [k for k, v, d in checks if abs(num(rep[k]) - round(v, d)) > 1.5 * 10 ** -d]
if bad:
    print("differ:", bad, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
done
# the stage breakdown of solo-demo
python3 - "$RUN/solo-demo/stages.txt" "$RUN/solo-demo.out" <<'PY' || fail "stage breakdown"
import re, sys
txt = open(sys.argv[1]).read()
assert txt in open(sys.argv[2]).read(), "stages.txt is not what the run printed"
st = {}
for l in txt.splitlines():
    m = re.match(r"stage\s+(\w+)(?: cpu)?=([0-9.]+)", l)
    assert m, l
    st[m.group(1)] = float(m.group(2))
    for k, v in re.findall(r"(\w+)=([0-9.]+)", l):
        st[m.group(1) + "." + k] = float(v)
need = ["wall", "setup", "publish", "planning", "planner", "broker", "clock", "sink",
        "db_commit", "drain", "stop", "report"]
missing = [k for k in need if k not in st]
assert not missing, missing
assert st["wall.targets"] == 40, st["wall.targets"]
for p in ("planner", "broker", "sink"):
    assert st[p] > 0, p + " has no CPU time"
assert st["db_commit.batches"] > 0 and st["db_commit"] > 0, "no DB commits from the sink's metrics"
assert st["broker.orders"] > 0, "no orders in the broker's metrics"
parts = st["setup"] + st["planning"] + st["drain"] + st["stop"] + st["report"]
assert abs(parts - st["wall"]) < 0.5, (parts, st["wall"])
PY
grep -q "^alt .* done" "$RUN/sw1.out" || fail "the printed table has no row for alt"
grep -q "^sweep sw1: 3/3 variants done" "$RUN/sw1.err" || fail "no sweep progress line"
if grep -q "^backtest sw1-" "$RUN/sw1.err"; then fail "a variant printed its own progress"; fi

# 3. the same files again, one by one, with a broken fourth
printf '{"decision_id": "x", "portfolio_id":\n' >"$RUN/broken.jsonl"
rc=0
bt sw2 --targets "$RUN/variants/demo.jsonl" --targets "$RUN/variants/alt.jsonl" \
        --targets "$RUN/variants/both2x.jsonl" --targets "$RUN/broken.jsonl" \
        --parallel 4 --sort variant || rc=$?
[ $rc = 2 ] || fail "sweep with a broken file: exit $rc, expected 2"
for v in $names; do
        [ "$(csv_col "$RUN/sw2/sweep.csv" "$v" trades_md5)" = "$(csv_col "$csv" "$v" trades_md5)" ] ||
                fail "$v: a second sweep gives another hash"
done
[ "$(csv_col "$RUN/sw2/sweep.csv" broken status)" = error ] || fail "broken: not an error row"
grep -q "^broken .*error.*broken.jsonl:1" "$RUN/sw2.out" || fail "broken: the row does not say why"
[ "$(tail -n +2 "$RUN/sw2/sweep.csv" | cut -d, -f1 | tr '\n' ' ')" = "alt both2x demo broken " ] ||
        fail "sw2: not sorted by variant with the error last"

echo "test_backtest_sweep: ok ($(for v in $names; do printf '%s=%s ' "$v" "$(csv_col "$csv" "$v" trades_md5)"; done))"
