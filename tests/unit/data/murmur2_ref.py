#!/usr/bin/env python3
# murmur2_ref: reference partitions for test_partition.c, from the Kafka Java client's
# default partitioner written out here on its own (32-bit murmur2, seed 0x9747b28c,
# then (hash & 0x7fffffff) % partitions). Run it to regenerate the table in the test.
import sys

M = 0x5BD1E995
MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    h = (0x9747B28C ^ len(data)) & MASK
    n4 = len(data) // 4
    for i in range(n4):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * M) & MASK
        k ^= k >> 24
        k = (k * M) & MASK
        h = (h * M) & MASK
        h ^= k
    rest = data[4 * n4:]
    if len(rest) == 3:
        h ^= rest[2] << 16
    if len(rest) >= 2:
        h ^= rest[1] << 8
    if len(rest) >= 1:
        h ^= rest[0]
        h = (h * M) & MASK
    h ^= h >> 13
    h = (h * M) & MASK
    h ^= h >> 15
    return h


def partition(key: str, n: int) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % n


KEYS = ["pf-1", "pf-2", "pf-3", "pf-4", "pf-5", "pf-6", "pf-7", "pf-8", "PF_GLOBAL_MACRO",
        "21", "foobar", "a-little-bit-long-string", "é-portfolio", "x"]
COUNTS = [1, 2, 3, 4, 7, 12, 64]

if __name__ == "__main__":
    for k in KEYS:
        h = murmur2(k.encode())
        signed = h - (1 << 32) if h & 0x80000000 else h
        parts = ", ".join(str(partition(k, n)) for n in COUNTS)
        esc = "".join(c if ord(c) < 128 else "".join("\\x%02x" % b for b in c.encode())
                      for c in k)
        sys.stdout.write('    {"%s", %d, {%s}},\n' % (esc, signed, parts))
