/*
 * te_dlog: consumed offsets waiting for the delivery of what was produced for them,
 * without Kafka.
 *
 * A process that consumes a message, produces its answers and then commits the offset
 * must not commit before those answers are in Kafka, or a crash loses them. A producer
 * flush before every commit guarantees that, but it stops the loop until everything in
 * flight is acknowledged (tens of ms on the mock cluster, every commit interval). Here
 * each finished message is pushed with the producer's sequence number of the last
 * message queued at that moment (te_producer_sent_seq, te_kafka.h); te_dlog_settle,
 * given te_producer_delivered_seq, hands out per partition the offset up to which every
 * answer is delivered, and the loop never waits.
 *
 * Messages are pushed in the order they were finished, so their sequence numbers never
 * decrease, and each partition's offsets increase. Not thread-safe: the loop owns it.
 */
#ifndef TE_DLOG_H
#define TE_DLOG_H

#include <stddef.h>
#include <stdint.h>

#define TE_DLOG_MAX_PARTS 1024

typedef struct te_dlog_s te_dlog_t;

/** @returns an empty log, or NULL on OOM. */
te_dlog_t *te_dlog_new(void);
/** Accepts NULL. */
void te_dlog_destroy(te_dlog_t *d);

/** The message at `offset` of `partition` is finished; `seq` is the sequence number of
 *  the last message queued when it was (0: none yet).
 *  @returns 0, or -1 (OOM; partition out of range; seq lower than the last one pushed;
 *  offset not after the last one of its partition): nothing changed. */
int te_dlog_push(te_dlog_t *d, int32_t partition, int64_t offset, uint64_t seq);

/** Take every entry, oldest first, whose seq <= delivered. For each partition that had
 *  one, next[partition] = its last offset + 1 (the offset to commit); next[] of other
 *  partitions is left as it was. `next` has TE_DLOG_MAX_PARTS entries.
 *  @returns the number of entries taken. */
size_t te_dlog_settle(te_dlog_t *d, uint64_t delivered, int64_t *next);

/** @returns the entries waiting. */
size_t te_dlog_count(const te_dlog_t *d);

/** Forget every entry (a rebalance: the partitions may be someone else's now). */
void te_dlog_clear(te_dlog_t *d);

#endif
