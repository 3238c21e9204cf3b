/*
 * order_ledger: the broker worker's record of the exec.orders offsets it consumed, and
 * what it may commit of them.
 *
 * Every order message is finished at once (its reports queued up to a producer
 * sequence number, te_dlog.h) and its offset is committed once those reports are
 * delivered. A ledger for an adapter that rebuilds by replay (the simulator: broker.h,
 * README "Resting orders and broker restarts") keeps a second record, the replay floor,
 * where a NEW stays unfinished while its order rests (ACKed, not terminal): the oldest
 * order still open. Each commit then carries that floor as the offset's metadata
 * ("replay_from=N"), and on assignment te_ledger_replay_start starts each partition
 * there; the messages between the floor and the committed offset are replayed to
 * rebuild the book without publishing (te_ledger_rebuilding).
 *
 * Not thread-safe: the worker's loop (and its rebalance callback) owns it.
 */
#ifndef TE_ORDER_LEDGER_H
#define TE_ORDER_LEDGER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "te_kafka.h"

typedef struct te_ledger_s te_ledger_t;

/** A ledger for the orders topic `topic` (copied); `replay`: keep the replay floor.
 *  @returns NULL on OOM or a topic name too long. */
te_ledger_t *te_ledger_new(const char *topic, int replay);
/** Accepts NULL. */
void te_ledger_destroy(te_ledger_t *l);

/** Forget every partition (a rebalance: what was not committed is read again by its
 *  new owner). @returns 0, or -1 on OOM (the ledger is then unusable: fatal). */
int te_ledger_reset(te_ledger_t *l);
/** Partitions just assigned (replay ledgers only): read each one's committed offset and
 *  replay floor and set its start offset in `parts` to the floor. @returns 0, or -1 when
 *  a floor cannot be read (going on would forget open orders: fatal). */
int te_ledger_replay_start(te_ledger_t *l, rd_kafka_t *rk,
                           rd_kafka_topic_partition_list_t *parts);
/** @returns 1 when the message at `offset` of `partition` is replayed to rebuild the
 *  book (its reports are already on exec.reports: publish nothing), else 0. */
int te_ledger_rebuilding(const te_ledger_t *l, int32_t partition, int64_t offset);

/** The message at `offset` of `partition` is handled (decoded or dead-lettered); its
 *  reports are `reports`, queued up to producer sequence `seq`. `new_order_id` is the
 *  order id when it was a decoded NEW, else NULL: a NEW whose order now rests stays open
 *  in the floor until the order ends. @returns 0, or -1 (OOM or an offset out of
 *  order: fatal). */
int te_ledger_record(te_ledger_t *l, int32_t partition, int64_t offset,
                     const char *new_order_id, const te_reports_t *reports, uint64_t seq);
/** Reports the adapter produced on its own, queued up to `seq`: orders among them that
 *  ended close their NEW in the floor. @returns 0, or -1 (fatal). */
int te_ledger_settle(te_ledger_t *l, const te_reports_t *reports, uint64_t seq);

/** Commit what is delivered (producer sequence `delivered`, UINT64_MAX after a flush):
 *  stored and committed through `c`, or, with a replay floor, committed explicitly with
 *  the floor as metadata (nothing stored, so the commits on revoke and close cannot
 *  overwrite it). @returns 0, or -1 when the commit failed (fatal). */
int te_ledger_commit(te_ledger_t *l, te_consumer_t *c, uint64_t delivered);
/** @returns 1 while something recorded is not committed yet, else 0. */
int te_ledger_pending(const te_ledger_t *l);
/** @returns how many orders rest (replay ledgers; else 0). */
size_t te_ledger_resting(const te_ledger_t *l);

#endif
