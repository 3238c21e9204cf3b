#!/usr/bin/env python3
"""eo_hostile: build hostile messages for test_hostile.sh from valid ones on the topics.

usage: eo_hostile.py BOOTSTRAP TAIL_BIN OUTDIR
Reads exec.targets, exec.orders and exec.reports (exec-tail for the decoded view, kcat
for the raw bytes of the chosen messages) and writes OUTDIR/<topic>/<case>.bin plus
OUTDIR/<topic>/key (the portfolio key, so the junk lands in a busy partition) and
OUTDIR/expect.txt: "<topic> <n dead letters expected at least>" and the ids of the two
valid-but-wrong reports ("unknown_order <order_id>", "illegal <order_id>").
Cases on every topic: random bytes, truncated Avro, unknown schema id, oversized length
prefix; plus valid Avro with invalid values: NaN target value, negative order quantity,
NaN fill price; and a valid report for an unknown order id and one after FILLED.
"""
import json
import os
import random
import struct
import subprocess
import sys

boot, tail, out = sys.argv[1:4]
rng = random.Random(6)


def decoded(topic):
    r = subprocess.run([tail, "-b", boot, "-t", topic, "--from-beginning", "--exit-at-end"],
                       capture_output=True, text=True, timeout=60, check=True)
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def raw(topic, partition, offset):
    r = subprocess.run(["kcat", "-b", boot, "-C", "-t", topic, "-p", str(partition), "-o",
                        str(offset), "-c", "1", "-e", "-q", "-f", "%s"],
                       capture_output=True, timeout=60, check=True)
    return r.stdout


def patch_double(b, old, new):
    o, n = struct.pack("<d", old), struct.pack("<d", new)
    assert b.count(o) >= 1, (old, b)
    i = b.index(o)
    return b[:i] + n + b[i + 8:]


def patch_str(b, old, new):
    assert len(old) == len(new) and b.count(old.encode()) >= 1
    return b.replace(old.encode(), new.encode())


def zigzag(n):
    n = (n << 1) ^ (n >> 63)
    s = bytearray()
    while n > 0x7F:
        s.append((n & 0x7F) | 0x80)
        n >>= 7
    s.append(n)
    return bytes(s)


def structural(valid, schema_id):
    hdr = b"\x00" + struct.pack(">I", schema_id)
    return {
        "random": bytes(rng.randrange(256) for _ in range(97)),
        "truncated": valid[: len(valid) // 2],
        "unknown_schema": b"\x00" + struct.pack(">I", 9999) + valid[5:],
        "oversized_length": hdr + zigzag(1 << 40) + b"abc",
    }


def write(topic, key, cases):
    d = os.path.join(out, topic)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "key"), "w") as f:
        f.write(key)
    for name, b in cases.items():
        with open(os.path.join(d, name + ".bin"), "wb") as f:
            f.write(b)
    return len(cases)


expect = []
tg = next(m for m in decoded("exec.targets")
          if any(t["value"] not in (0, 0.0) for t in m["value"]["targets"]))
tv = tg["value"]
val = next(t["value"] for t in tv["targets"] if t["value"] not in (0, 0.0))
b = raw("exec.targets", tg["partition"], tg["offset"])
cases = structural(b, 1001)
cases["nan_value"] = patch_double(b, float(val), float("nan"))
expect.append("exec.targets %d" % write("exec.targets", tv["portfolio_id"], cases))

od = next(m for m in decoded("exec.orders") if m["value"]["command"] == "NEW")
ov = od["value"]
b = raw("exec.orders", od["partition"], od["offset"])
cases = structural(b, 1003)
cases["negative_quantity"] = patch_double(b, float(ov["quantity"]), -float(ov["quantity"]))
expect.append("exec.orders %d" % write("exec.orders", ov["portfolio_id"], cases))

reps = decoded("exec.reports")
fl = next(m for m in reps if m["value"]["exec_type"] == "FILL")
fv = fl["value"]
b = raw("exec.reports", fl["partition"], fl["offset"])
cases = structural(b, 1004)
cases["nan_price"] = patch_double(b, float(fv["last_price"]), float("nan"))
n = write("exec.reports", fv["portfolio_id"], cases)
expect.append("exec.reports %d" % n)
# valid Avro, wrong for the DB: an order id nobody sent, a fill after FILLED
unknown = "x" + fv["order_id"][1:]
late = b.replace(fv["report_id"].encode(), ("q" + fv["report_id"][1:]).encode())
with open(os.path.join(out, "unknown_order.bin"), "wb") as f:
    f.write(patch_str(b.replace(fv["report_id"].encode(), ("u" + fv["report_id"][1:]).encode()),
                      fv["order_id"], unknown))
with open(os.path.join(out, "after_filled.bin"), "wb") as f:
    f.write(late)
expect.append("unknown_order %s" % unknown)
expect.append("illegal %s" % fv["order_id"])
expect.append("report_key %s" % fv["portfolio_id"])

cases = structural(b"\x00" + struct.pack(">I", 1002) + b"\x02*\x00\x00\x00", 1002)
# exec.mode is read whole by every planner, which logs and skips bad messages
# (planner.bad_mode) rather than dead-lettering them: counted from its log
expect.append("mode %d" % write("exec.mode", "*", cases))
with open(os.path.join(out, "expect.txt"), "w") as f:
    f.write("\n".join(expect) + "\n")
