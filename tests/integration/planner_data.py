#!/usr/bin/env python3
"""Input data and independent expectations for the planner integration tests.

  planner_data.py bars DAYS                       daily bars CSV (AAA, BBB, CCC)
  planner_data.py targets PFS STEPS [SEED]        TRAINING quantity targets, one per
                                                  portfolio and day, full_replace
  planner_data.py expect TARGETS_JSONL            expected NEW orders and positions
  planner_data.py check-orders ORDERS_JSONL EXPECTED REFERENCE
                                                  exec-tail's exec.orders output against
                                                  `expect`'s orders: no duplicate id, and
                                                  exactly the expected legs (REFERENCE
                                                  names the run they come from in errors)

The expectation replays the targets with plain arithmetic (every MARKET order fills
before the next day's target, lot 1, no minimum size): per decision and ticker, a
move through zero is a CLOSE and an OPEN leg, anything else one leg. It prints
  order <decision_id> <ticker> <legs>
  position <portfolio_id> <ticker> <quantity>     (non-zero final positions)
sorted, so tests can diff it against the topic and the DB.
"""
import collections
import datetime
import json
import random
import sys

TICKERS = ["AAA", "BBB", "CCC"]
DAY0 = datetime.date(2025, 1, 6)


def day(k):
    return DAY0 + datetime.timedelta(days=k)


def bars(days):
    print("date,ticker,open,high,low,close,volume")
    for k in range(days):
        for i, t in enumerate(TICKERS):
            px = 20.0 + 10 * i + (k % 7) * 0.25
            print("%s,%s,%.2f,%.2f,%.2f,%.2f,%d" % (day(k), t, px, px + 1, px - 1, px, 10000000))


def targets(pfs, steps, seed):
    rnd = random.Random(seed)
    for k in range(steps):
        for p in range(pfs):
            tg = []
            for t in TICKERS:
                if rnd.random() < 0.2:
                    continue  # absent: full_replace takes it to zero
                tg.append({"ticker": t, "value": rnd.choice([0, 10, 50, 100, 150, 300, -40, -120])})
            print(json.dumps({
                "decision_id": "d-%d-%d" % (p, k), "portfolio_id": "pf-%d" % p,
                "strategy_id": "s", "profile_version_id": "pv", "regime_id": "r",
                "universe_id": "u", "mode": "TRAINING",
                "as_of": "%sT21:00:00Z" % day(k), "unit": "QUANTITY",
                "full_replace": True, "targets": tg}))


def expect(path):
    pos = {}
    out = []
    for line in open(path):
        m = json.loads(line)
        pf = m["portfolio_id"]
        want = {t: 0 for (p, t) in pos if p == pf}
        for t in m["targets"]:
            want[t["ticker"]] = t["value"]
        for t, v in sorted(want.items()):
            cur = pos.get((pf, t), 0)
            if v == cur:
                continue
            legs = 2 if (cur != 0 and v != 0 and (cur > 0) != (v > 0)) else 1
            out.append("order %s %s %d" % (m["decision_id"], t, legs))
            pos[(pf, t)] = v
    for (pf, t), v in sorted(pos.items()):
        if v:
            out.append("position %s %s %d" % (pf, t, v))
    print("\n".join(sorted(out)))


def check_orders(orders_path, expected_path, reference):
    news = [json.loads(l)["value"] for l in open(orders_path)]
    news = [m for m in news if m["command"] == "NEW"]
    ids = collections.Counter(m["order_id"] for m in news)
    dups = [i for i, n in ids.items() if n > 1]
    if dups:
        sys.exit("duplicate order ids on exec.orders: %s" % dups[:5])
    got = collections.Counter((m["decision_id"], m["ticker"]) for m in news)
    want = {}
    for l in open(expected_path):
        f = l.split()
        if f[0] == "order":
            want[(f[1], f[2])] = int(f[3])
    if dict(got) != want:
        extra = sorted(set(got.items()) - set(want.items()))[:5]
        missing = sorted(set(want.items()) - set(got.items()))[:5]
        sys.exit("orders differ from %s: extra %s missing %s" % (reference, extra, missing))
    print("exec.orders: %d NEW orders, all expected, no duplicates" % len(news))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "bars":
        bars(int(sys.argv[2]))
    elif cmd == "targets":
        targets(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 7)
    elif cmd == "expect":
        expect(sys.argv[2])
    elif cmd == "check-orders":
        check_orders(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown command " + cmd)
