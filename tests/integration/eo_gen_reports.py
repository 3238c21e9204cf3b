#!/usr/bin/env python3
"""eo_gen_reports: a deterministic, adversarial stream of execution reports for
test_sink_equiv.sh, written as SQL for two databases:

  OUT/a.sql  applies each report with te_apply_report() (migration 0001), one by one;
  OUT/b.sql  stages the same reports in batches of random size into te_stage and calls
             te_apply_stage() (migration 0004) once per batch, one transaction each;
  OUT/c.tsv  the same reports and batches for tests/tools/sink_drive, which stages them
             with the sink's own code (consumers/pg_sink.c) and applies them with its
             direct path (COPY into the final tables, pg_sink_direct.c) or, for
             replays, te_apply_stage_fast() (migration 0006).

The stream mixes ACKs, partial fills, fills (long, short and through zero), cancels,
rejects, exact duplicates of earlier reports (also within one batch), reports for
orders never ACKed, reports after a terminal state, control reports (CLOCK_ACK,
BROKER_STATE) and texts with tabs, newlines and backslashes. With "direct", no report
of an earlier batch comes again (duplicates only within a batch), so that every batch
can take the sink's direct path (COPY straight into the final tables).
usage: eo_gen_reports.py SEED N OUTDIR [direct]
"""
import os
import random
import sys

seed, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
direct = len(sys.argv) > 4 and sys.argv[4] == "direct"
rng = random.Random(seed)
pfs = ["pf-a", "pf-b"]
tickers = ["AAA", "BBB", "CCC"]
orders = {}  # order_id -> dict(pf, ticker, side, qty, cum, status, seq)
reports = []
t0 = 1704229200000


def q(s):
    return "'" + s.replace("'", "''") + "'"


def rep(oid, et, st, last_qty=0.0, last_px=0.0, cum=0.0, leaves=0.0, avg=0.0, comm=0.0,
        reason=""):
    o = orders[oid]
    rid = "%s-r%d" % (oid, o["seq"])
    o["seq"] += 1
    r = dict(report_id=rid, order_id=oid, exec_type=et, order_status=st,
             ticker=o["ticker"], side=o["side"], last_qty=last_qty, last_price=last_px,
             cum_qty=cum, leaves_qty=leaves, avg_price=avg, commission=comm,
             reason=reason, broker="sim", account="SIM-1",
             event_ms=t0 + len(reports) * 1000, decision_id="d-" + oid,
             portfolio_id=o["pf"], mode="TRAINING")
    reports.append(r)
    return r


for i in range(n):
    k = rng.random()
    live = [x for x, o in orders.items() if o["status"] in ("NEW", "PARTIALLY_FILLED")]
    if k < 0.22 or not orders:
        oid = "o%d" % len(orders)
        orders[oid] = dict(pf=rng.choice(pfs), ticker=rng.choice(tickers),
                           side=rng.choice(["BUY", "SELL"]),
                           qty=rng.choice([10, 25, 100, 7]), cum=0.0, status="NEW",
                           seq=0, px_sum=0.0)
        if rng.random() < 0.1:  # never ACKed: first report is a fill
            orders[oid]["status"] = "PARTIALLY_FILLED"
        else:
            rep(oid, "ACK", "NEW", leaves=orders[oid]["qty"])
    elif k < 0.62 and live:
        oid = rng.choice(live)
        o = orders[oid]
        left = o["qty"] - o["cum"]
        q_ = left if rng.random() < 0.5 else max(1, int(left * rng.random()))
        px = round(rng.uniform(50, 150), 4)
        o["cum"] += q_
        o["px_sum"] += q_ * px
        done = o["cum"] >= o["qty"]
        o["status"] = "FILLED" if done else "PARTIALLY_FILLED"
        rep(oid, "FILL" if done else "PARTIAL_FILL", o["status"], q_, px, o["cum"],
            o["qty"] - o["cum"], round(o["px_sum"] / o["cum"], 6),
            round(max(1.0, q_ * 0.005), 4))
    elif k < 0.70 and live:
        oid = rng.choice(live)
        orders[oid]["status"] = "CANCELED"
        rep(oid, "CANCELED", "CANCELED", cum=orders[oid]["cum"],
            reason="cancel\twith\ttabs\\and\nnewline")
    elif k < 0.75 and live:
        oid = rng.choice(live)
        orders[oid]["status"] = "REJECTED"
        rep(oid, "REJECTED", "REJECTED", cum=orders[oid]["cum"], reason="no bar 'x'")
    elif k < 0.85 and reports:
        reports.append(dict(rng.choice(reports)))  # exact duplicate
    elif k < 0.92 and orders:
        oid = rng.choice(list(orders))  # a report after whatever state, maybe terminal
        o = orders[oid]
        px = round(rng.uniform(50, 150), 4)
        rep(oid, "PARTIAL_FILL", "PARTIALLY_FILLED", 1, px, o["cum"] + 1,
            0, px, 1.0)
        o["cum"] += 1
    else:
        r = dict(report_id="clk-%d" % i, order_id="clock", exec_type=rng.choice(
            ["CLOCK_ACK", "BROKER_STATE"]), order_status="NEW", ticker="", side="BUY",
            last_qty=0, last_price=0, cum_qty=0, leaves_qty=0, avg_price=0,
            commission=0, reason="", broker="sim", account="", event_ms=t0,
            decision_id="", portfolio_id="pf-a", mode="TRAINING")
        reports.append(r)

def num(v):
    """v as the sink writes it (te_fmt_double: the shortest of %.15g/%.16g/%.17g that
    reads back as the same double), so all three paths book the same numeric text."""
    v = float(v)
    for p in (15, 16, 17):
        t = "%.*g" % (p, v)
        if float(t) == v:
            return t
    return repr(v)


cols_a = lambda r, i: ", ".join([
    q(r["report_id"]), q(r["order_id"]), q(r["exec_type"]), q(r["order_status"]),
    q(r["ticker"]), q(r["side"]), num(r["last_qty"]), num(r["last_price"]),
    num(r["cum_qty"]), num(r["leaves_qty"]), num(r["avg_price"]),
    num(r["commission"]), q(r["reason"]), q(r["broker"]), q(r["account"]),
    "to_timestamp(%d / 1000.0)" % r["event_ms"], q(r["decision_id"]),
    q(r["portfolio_id"]), "'s'", "'pv'", "'rg'", "'u'", q(r["mode"]), "'exec.reports'",
    "0", str(i)])
batches = []
i = 0
while i < len(reports):
    m = rng.choice([1, 2, 5, 17, 60, 200])
    batches.append((i, reports[i:i + m]))
    i += m
if direct:
    # no report of an earlier batch again (no replay): every batch can take the sink's
    # direct path; duplicates within a batch stay
    seen, kept = set(), []
    for _, batch in batches:
        ids = {r["report_id"] for r in batch}
        kept.append([r for r in batch if r["report_id"] not in seen])
        seen |= ids
    batches, i = [], 0
    for batch in kept:
        batches.append((i, batch))
        i += len(batch)
    reports = [r for batch in kept for r in batch]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "a.sql"), "w") as f:
    for i, r in enumerate(reports):
        f.write("SELECT te_apply_report(%s);\n" % cols_a(r, i))
with open(os.path.join(out, "b.sql"), "w") as f:
    for i, batch in batches:
        f.write("BEGIN;\nSELECT te_stage_open();\n")
        for j, r in enumerate(batch):
            f.write("INSERT INTO te_stage VALUES (%d, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                    " %s, %s, %s, %s, %s, %d, %s, %s, 's', 'pv', 'rg', 'u', %s,"
                    " 'exec.reports', 0, %d);\n" % (
                        j, q(r["report_id"]), q(r["order_id"]), q(r["exec_type"]),
                        q(r["order_status"]), q(r["ticker"]), q(r["side"]),
                        num(r["last_qty"]), num(r["last_price"]),
                        num(r["cum_qty"]), num(r["leaves_qty"]),
                        num(r["avg_price"]), num(r["commission"]), q(r["reason"]),
                        q(r["broker"]), q(r["account"]), r["event_ms"],
                        q(r["decision_id"]), q(r["portfolio_id"]), q(r["mode"]), i + j))
        f.write("SELECT te_apply_stage();\nCOMMIT;\n")


def esc(v):
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


# c.tsv: the same batches for tests/tools/sink_drive (the sink's own staging code)
with open(os.path.join(out, "c.tsv"), "w") as f:
    for i, batch in batches:
        for j, r in enumerate(batch):
            f.write("\t".join(esc(x) for x in [
                r["report_id"], r["order_id"], r["exec_type"], r["order_status"],
                r["ticker"], r["side"], num(r["last_qty"]), num(r["last_price"]),
                num(r["cum_qty"]), num(r["leaves_qty"]), num(r["avg_price"]),
                num(r["commission"]), r["reason"], r["broker"], r["account"],
                r["event_ms"], r["decision_id"], r["portfolio_id"], r["mode"], i + j]) + "\n")
        f.write("COMMIT\n")
print(len(reports))
