"""Expected trades for test_e2e.sh, worked out from the raw input files alone.

Independent of the C code: it re-implements the documented contract in the simplest
way (quantity targets, the order size (the delta) rounded toward zero to lots of 10, a
target of 0 closing the whole position, min qty 1, full_replace, CLOSE + OPEN (lot-
rounded) through zero, fills at the close of the latest bar on or before as_of
moved against the order by 5 bps plus the square-law impact K x share^2 (share =
qty / bar volume, K = 1; every order here is under the 2.5% participation cap) and
rounded to 4 decimals half-up, commission max(1.00, 0.005/share) capped at 1% of the
order's value, no fill without a bar or with zero volume).
Prints one line per expected trade: portfolio ticker side size price commission.
"""
import csv
import json
import math
import sys
from datetime import datetime, timezone

LOT, SLIP, PER_SHARE, MIN_COMM, MAX_PCT, K, CAP = 10, 5 / 10000, 0.005, 1.0, 0.01, 1.0, 0.025


def round4(x):
    return math.floor(x * 10000 + 0.5) / 10000


def lot(q):
    r = math.floor(abs(q) / LOT + 1e-9) * LOT
    return -r if q < 0 else r


bars = {}
with open(sys.argv[1]) as f:
    rows = [line for line in f if not line.startswith("#")]
for row in csv.DictReader(rows):
    bars.setdefault(row["ticker"], []).append(
        (row["date"], float(row["close"]), float(row["volume"])))

positions = {}
out = []
for line in open(sys.argv[2]):
    t = json.loads(line)
    pf = t["portfolio_id"]
    day = datetime.strptime(t["as_of"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc).strftime("%Y-%m-%d")
    want = {x["ticker"]: x["value"] for x in t["targets"]}
    held = positions.setdefault(pf, {})
    if t["full_replace"]:
        for tk, q in held.items():
            if q != 0 and tk not in want:
                want[tk] = 0
    orders = []
    for tk in sorted(want):
        target = want[tk]
        cur = held.get(tk, 0)
        if target == cur:
            continue
        side = "BUY" if target > cur else "SELL"
        if cur != 0 and target != 0 and (cur > 0) != (target > 0):
            orders.append((side, tk, abs(cur)))
            if abs(lot(target)) >= 1:
                orders.append((side, tk, abs(lot(target))))
        elif target == 0:
            orders.append((side, tk, abs(cur)))
        elif abs(lot(target - cur)) >= 1:
            orders.append((side, tk, abs(lot(target - cur))))
    orders.sort(key=lambda o: (o[0] != "SELL", o[1]))
    for side, tk, qty in orders:
        past = [b for b in bars.get(tk, []) if b[0] <= day]
        if not past or past[-1][2] <= 0:
            continue  # rejected: no bar / no volume
        close, volume = past[-1][1], past[-1][2]
        assert qty <= CAP * volume, "the expectation assumes no partial fills"
        move = SLIP + K * (qty / volume) ** 2
        px = round4(close * (1 + move) if side == "BUY" else close * (1 - move))
        comm = round4(min(max(MIN_COMM, qty * PER_SHARE), MAX_PCT * qty * px))
        held[tk] = held.get(tk, 0) + (qty if side == "BUY" else -qty)
        out.append((pf, tk, side, qty, px, comm))
for o in sorted(out):
    print("%s %s %s %d %.4f %.4f" % o)
