/*
 * te_dlog: the offsets ledger of a consumer that produces answers before it commits,
 * without Kafka: per partition, every message consumed, in offset order, finished or
 * not.
 *
 * A process that consumes a message, produces its answers and then commits the offset
 * must not commit before those answers are in Kafka, or a crash loses them. A producer
 * flush before every commit guarantees that, but it stops the loop until everything in
 * flight is acknowledged (tens of ms on the mock cluster, every commit interval). Here a
 * message is finished (te_dlog_done) with the producer's sequence number of the last
 * message queued for it (te_producer_sent_seq, te_kafka.h); te_dlog_committable, given
 * te_producer_delivered_seq, moves a partition's position only past finished messages
 * whose answers are all delivered, never past one still in flight, and the loop never
 * waits. A message may be finished long after it was consumed (the planner's targets
 * waiting for their CLOCK_ACK) or at once (the broker worker's orders).
 *
 * Not thread-safe: the loop owns it.
 */
#ifndef TE_DLOG_H
#define TE_DLOG_H

#include <stddef.h>
#include <stdint.h>

#define TE_DLOG_MAX_PARTS 1024

typedef struct te_dlog_s te_dlog_t;

/** @returns an empty ledger, or NULL on OOM. */
te_dlog_t *te_dlog_new(void);
/** Accepts NULL. */
void te_dlog_destroy(te_dlog_t *d);

/** The message at `offset` of `partition` was consumed (not finished). Offsets of a
 *  partition must increase. @returns 0, or -1 (OOM, partition out of range, or an offset
 *  not after the last one: the ledger is unchanged). */
int te_dlog_consumed(te_dlog_t *d, int32_t partition, int64_t offset);
/** The message at `offset` of `partition` is finished; `seq`: the sequence number of
 *  the last message produced for it (or any later one). @returns 0, or -1 if the ledger
 *  has no such unfinished message. */
int te_dlog_done(te_dlog_t *d, int32_t partition, int64_t offset, uint64_t seq);
/** Move past the leading finished messages of `partition` whose seq <= delivered.
 *  @returns the offset to commit (after the last one moved past), or -1 if none. */
int64_t te_dlog_committable(te_dlog_t *d, int32_t partition, uint64_t delivered);
/** @returns the offset of the oldest message of `partition` still in the ledger
 *  (unfinished, or finished and not yet moved past), or -1 if there is none. */
int64_t te_dlog_first(const te_dlog_t *d, int32_t partition);
/** @returns the messages of `partition` in the ledger (finished or not). */
size_t te_dlog_count(const te_dlog_t *d, int32_t partition);
/** @returns the messages in the ledger, all partitions. */
size_t te_dlog_total(const te_dlog_t *d);
/** Forget every partition (revoked or newly assigned: a rebalance). */
void te_dlog_clear(te_dlog_t *d);

#endif
