#!/usr/bin/env python3
"""poison_msgs: messages for the poison-pill tests (test_poison_*.sh).

  poison_msgs.py target PF DECISION AS_OF UNIT TICKER VALUE [NAV [REF_PRICE]]
      one TargetPortfolio JSON line (TRAINING) for exec-publish; AS_OF is ISO-8601
      or YYYY-MM-DD (21:00 UTC that day); NAV/REF_PRICE "-" for none
  poison_msgs.py fill OUT PF ORDER_ID TICKER QTY PRICE
      a FILL ExecutionReport (BUY, cum_qty = last_qty = QTY, leaves 0) as raw Avro in
      the Confluent framing (schema id 1004) into OUT, for kcat: the service's own
      encoders refuse nothing finite, so this is what any producer could write
"""
import calendar
import datetime
import json
import struct
import sys


def iso(s):
    return s if "T" in s else s + "T21:00:00Z"


def zz(n):
    n = (n << 1) ^ (n >> 63)
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def s(x):
    x = x.encode()
    return zz(len(x)) + x


def d(v):
    return struct.pack("<d", v)


cmd = sys.argv[1]
if cmd == "target":
    pf, did, as_of, unit, ticker, value = sys.argv[2:8]
    nav = sys.argv[8] if len(sys.argv) > 8 else "-"
    ref = sys.argv[9] if len(sys.argv) > 9 else "-"
    t = {"ticker": ticker, "value": float(value)}
    if ref != "-":
        t["ref_price"] = float(ref)
    m = {"decision_id": did, "portfolio_id": pf, "strategy_id": "s",
         "profile_version_id": "pv", "regime_id": "r", "universe_id": "u",
         "mode": "TRAINING", "as_of": iso(as_of), "unit": unit, "full_replace": False,
         "targets": [t]}
    if nav != "-":
        m["nav"] = float(nav)
    print(json.dumps(m))
elif cmd == "fill":
    out, pf, oid, ticker, qty, px = sys.argv[2:8]
    qty, px = float(qty), float(px)
    t = calendar.timegm(datetime.datetime(2025, 1, 6, 21).timetuple()) * 1000
    b = b"\0" + struct.pack(">i", 1004)
    b += s("r-" + oid) + s(oid) + zz(2) + zz(3) + s(ticker) + zz(0)  # FILL, FILLED, BUY
    b += d(qty) + d(px) + d(qty) + d(0.0) + d(px) + d(0.0)  # last, px, cum, leaves, avg, comm
    b += s("") + s("sim") + s("") + zz(t)
    b += s("d-" + oid) + s(pf) + s("s") + s("pv") + s("r") + s("u") + zz(1)  # TRAINING
    open(out, "wb").write(b)
else:
    sys.exit("usage: poison_msgs.py target|fill ...")
