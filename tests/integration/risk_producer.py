#!/usr/bin/env python3
"""A Risk-side producer of exec.targets written with confluent-kafka (librdkafka), as a
team outside this repository would write it, and the checks of what the planner did
with its targets. Needs the Debian package python3-confluent-kafka (run it with
/usr/bin/python3).

  risk_producer.py produce BOOTSTRAP TARGETS_JSONL PARTITIONER OUT
      encode each TargetPortfolio line (planner_data.py's JSON) as Avro in the
      Confluent wire format (0x00, schema id 1001 big-endian, Avro binary), key it by
      portfolio_id and produce it to exec.targets in order. PARTITIONER "default" leaves
      the client's own default (consistent_random: CRC32); anything else is set as
      `partitioner`. OUT gets "portfolio_id partition" per message delivered.
  risk_producer.py misplaced PARTITIONS KEY...
      print how many KEYs librdkafka's default partitioner puts on another partition
      than the Java client's murmur2
  risk_producer.py check-topic BOOTSTRAP PARTITIONS OUT
      read exec.targets whole: every copy carrying te.rerouted.from has the key, value
      and headers of the message it names, and sits on murmur2(key); every message
      without it either sits there too or was re-published. Writes a summary to OUT.
"""
import struct
import sys
import time
import uuid
from datetime import datetime, timezone

import json

SCHEMA_ID_TARGET = 1001  # schemas/manifest
MODES = ["PRODUCTION", "TRAINING"]
UNITS = ["WEIGHT", "QUANTITY"]


def _long(v):
    v = (v << 1) ^ (v >> 63)  # zigzag
    out = bytearray()
    while v & ~0x7F:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _str(s):
    b = s.encode()
    return _long(len(b)) + b


def _double(d):
    return struct.pack("<d", float(d))


def _opt_double(d):
    return _long(0) if d is None else _long(1) + _double(d)


def encode_target(m):
    """TargetPortfolio (schemas/target_portfolio.avsc) in the Confluent wire format."""
    as_of = m["as_of"]
    if isinstance(as_of, str):
        as_of = int(datetime.strptime(as_of, "%Y-%m-%dT%H:%M:%SZ")
                    .replace(tzinfo=timezone.utc).timestamp() * 1000)
    body = b"".join([
        _str(m["decision_id"]), _str(m["portfolio_id"]), _str(m.get("strategy_id", "")),
        _str(m.get("profile_version_id", "")), _str(m.get("regime_id", "")),
        _str(m.get("universe_id", "")), _long(MODES.index(m["mode"])), _long(as_of),
        _long(UNITS.index(m["unit"])), _opt_double(m.get("nav")),
        b"\x01" if m["full_replace"] else b"\x00",
    ])
    tg = m["targets"]
    if tg:
        body += _long(len(tg))
        for t in tg:
            body += _str(t["ticker"]) + _double(t["value"]) + _opt_double(t.get("ref_price"))
    body += _long(0)
    return b"\x00" + struct.pack(">I", SCHEMA_ID_TARGET) + body


def java_partition(key, n):
    """The Kafka Java client's default partitioner (murmur2, positive mask)."""
    data, mask, m = key.encode(), 0xFFFFFFFF, 0x5BD1E995
    h = (0x9747B28C ^ len(data)) & mask
    n4 = len(data) // 4
    for i in range(n4):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & mask
        k ^= k >> 24
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    rest = data[4 * n4:]
    if len(rest) == 3:
        h ^= rest[2] << 16
    if len(rest) >= 2:
        h ^= rest[1] << 8
    if rest:
        h = ((h ^ rest[0]) * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % n


def produce(bootstrap, path, partitioner, out):
    from confluent_kafka import Producer
    conf = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 1}
    if partitioner != "default":
        conf["partitioner"] = partitioner
    p = Producer(conf)
    placed, errors = [], []

    def on_delivery(err, msg):
        if err:
            errors.append(str(err))
        else:
            placed.append("%s %d" % (msg.key().decode(), msg.partition()))

    for line in open(path):
        m = json.loads(line)
        p.produce("exec.targets", key=m["portfolio_id"].encode(), value=encode_target(m),
                  on_delivery=on_delivery)
        p.poll(0)
    left = p.flush(60)
    if left or errors:
        sys.exit("produce: %d not delivered, errors %s" % (left, errors[:3]))
    with open(out, "w") as f:
        f.write("\n".join(placed) + "\n")


def misplaced(n, keys):
    from confluent_kafka import Producer  # noqa: F401 (the package must be there)
    import zlib
    # consistent_random: CRC32 of the key modulo the partition count
    print(sum(1 for k in keys if zlib.crc32(k.encode()) % n != java_partition(k, n)))


def check_topic(bootstrap, n, out):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "check-" + uuid.uuid4().hex,
                  "enable.auto.commit": False, "enable.partition.eof": True})
    c.assign([TopicPartition("exec.targets", p, 0) for p in range(n)])
    msgs, eof, deadline = {}, set(), time.time() + 60
    while len(eof) < n:
        if time.time() > deadline:
            sys.exit("check-topic: exec.targets not read to its end in 60 s")
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                eof.add(m.partition())
                continue
            sys.exit("check-topic: %s" % m.error())
        msgs[(m.partition(), m.offset())] = m
    c.close()
    originals, copies, wrong = 0, 0, []
    copied_from = set()
    for (p, off), m in sorted(msgs.items()):
        hdrs = m.headers() or []
        frm = [v for k, v in hdrs if k == "te.rerouted.from"]
        key = m.key().decode()
        if not frm:
            originals += 1
            continue
        copies += 1
        src = frm[0].decode()  # "exec.targets[P]@OFFSET"
        sp, so = int(src[src.index("[") + 1:src.index("]")]), int(src[src.index("@") + 1:])
        o = msgs.get((sp, so))
        if o is None:
            sys.exit("check-topic: %s names a message not on the topic" % src)
        if o.value() != m.value() or o.key() != m.key():
            sys.exit("check-topic: the copy of %s has other bytes" % src)
        if [h for h in hdrs if h[0] != "te.rerouted.from"] != list(o.headers() or []):
            sys.exit("check-topic: the copy of %s has other headers" % src)
        if p != java_partition(key, n) or sp == p:
            sys.exit("check-topic: the copy of %s is on partition %d" % (src, p))
        copied_from.add((sp, so))
    for (p, off), m in msgs.items():
        hdrs = dict(m.headers() or [])
        if "te.rerouted.from" in hdrs:
            continue
        if p != java_partition(m.key().decode(), n) and (p, off) not in copied_from:
            wrong.append("%d@%d" % (p, off))
    if wrong:
        sys.exit("check-topic: misplaced and never re-published: %s" % wrong[:5])
    with open(out, "w") as f:
        f.write("originals %d copies %d\n" % (originals, copies))
    print("exec.targets: %d targets, %d re-published copies, all on murmur2(key)"
          % (originals, copies))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "produce":
        produce(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == "misplaced":
        misplaced(int(sys.argv[2]), sys.argv[3:])
    elif cmd == "check-topic":
        check_topic(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit("unknown command " + cmd)
