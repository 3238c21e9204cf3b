#!/usr/bin/env python3
"""Synthetic data for the backtest.daily benchmark (ops/bench): N tickers x D trading
days (Monday-Friday from 2010-01-04) of daily bars, and one QUANTITY target per day
for one portfolio (full_replace, every ticker listed) in which about 20% of the
tickers change their target each day (~100 orders a day): a daily rebalance of a 500-name book.
Deterministic (fixed seed). Usage: gen_backtest_daily.py OUTDIR [TICKERS] [DAYS] [SEED]
SEED (backtest.sweep's variants): the targets are drawn from their own generator seeded
with it; the bars stay those of the same TICKERS and DAYS without a SEED."""
import datetime
import json
import os
import random
import sys

out = sys.argv[1]
n_tk = int(sys.argv[2]) if len(sys.argv) > 2 else 500
n_days = int(sys.argv[3]) if len(sys.argv) > 3 else 2520
seed = int(sys.argv[4]) if len(sys.argv) > 4 else None
rnd = random.Random(7)
os.makedirs(out, exist_ok=True)
days = []
d = datetime.date(2010, 1, 4)
while len(days) < n_days:
    if d.weekday() < 5:
        days.append(d)
    d += datetime.timedelta(days=1)
tickers = ["B%03d" % i for i in range(n_tk)]
px = [20 + 80 * rnd.random() for _ in tickers]
closes = [[0.0] * n_days for _ in tickers]
with open(os.path.join(out, "bars.csv"), "w") as f:
    f.write("# SYNTHETIC bars for the backtest.daily benchmark\n")
    f.write("date,ticker,open,high,low,close,volume\n")
    for di, day in enumerate(days):
        ds = day.isoformat()
        for ti, tk in enumerate(tickers):
            o = px[ti] * (1 + 0.01 * (rnd.random() - 0.5))
            c = o * (1 + 0.02 * (rnd.random() - 0.5))
            h = max(o, c) * (1 + 0.005 * rnd.random())
            lo = min(o, c) * (1 - 0.005 * rnd.random())
            px[ti] = c
            closes[ti][di] = c
            f.write("%s,%s,%.4f,%.4f,%.4f,%.4f,%d\n" % (ds, tk, o, h, lo, c,
                                                      200000 + rnd.randrange(800000)))
target = [0] * n_tk
if seed is not None:
    rnd = random.Random(seed)
with open(os.path.join(out, "targets.jsonl"), "w") as f:
    for di, day in enumerate(days):
        for ti in range(n_tk):
            if di == 0 or rnd.random() < 0.20:
                # about 2,000-6,000 USD per name in lots of 10, different from before
                base = max(10, int(2000 / closes[ti][di] / 10) * 10)
                old = target[ti]
                while target[ti] == old:
                    target[ti] = base * rnd.choice((1, 2, 3))
        as_of = int(datetime.datetime(day.year, day.month, day.day, 21, 0,
                                      tzinfo=datetime.timezone.utc).timestamp() * 1000)
        f.write(json.dumps({
            "decision_id": "daily-%s" % day.strftime("%Y%m%d"), "portfolio_id": "pf-daily",
            "strategy_id": "s-daily", "profile_version_id": "pv-1", "regime_id": "r-1",
            "universe_id": "u-500", "mode": "TRAINING", "as_of": as_of,
            "unit": "QUANTITY", "full_replace": True,
            "targets": [{"ticker": tk, "value": target[ti]} for ti, tk in enumerate(tickers)],
        }, separators=(",", ":")) + "\n")
