/*
 * target_queue: the planner's targets in flight, without Kafka — what lets the TRAINING
 * clock barrier (docs/DESIGN.md invariant 6) be pipelined across portfolios while each
 * portfolio stays strictly in order, and what may be committed.
 *
 * Three parts:
 *
 * 1. Portfolio lanes. A target of a portfolio with nothing in flight is handled at
 *    once; a TRAINING target that sent CLOCK(t) waits in its portfolio's lane for
 *    CLOCK_ACK(t) (te_target_queue_wait), keyed by its clock id. Targets of that
 * portfolio consumed meanwhile queue behind it (te_target_queue_queue); targets of other
 * portfolios go on, so many portfolios' clocks are outstanding at once. An ACK
 * (te_target_queue_ack) names the waiting target; once it is planned the caller pops it
 * (te_target_queue_pop), which hands over the next target of that portfolio. The barrier
 * is per portfolio (the simulator keeps one clock per portfolio), so invariant 6 holds
 * per portfolio: CLOCK(t2) of a later target is sent only after the orders of the earlier
 * one.
 *
 * 2. The offsets ledger (te_dlog.h, the same one the broker worker keeps for its
 *    orders): per partition, every target consumed (te_target_queue_consumed) in
 *    offset order, finished or not. A target is finished (te_target_queue_done) when
 * planned, replayed, dead-lettered or superseded, with the producer's sequence number of
 * the last message sent for it. te_target_queue_committable moves a partition's position
 * only past finished targets whose messages are all delivered, never past one still
 *    waiting for its ACK or held: a restart consumes those again.
 *
 * 3. Planned as_ofs: (portfolio, as_of, sequence number) in planning order, handed out
 *    by te_target_queue_pop_planned once their messages are delivered, so the planner's
 * DB state never says a target was planned before its orders are in Kafka.
 *
 * Sequence numbers are te_producer_sent_seq / te_producer_delivered_seq (te_kafka.h).
 * Not thread-safe: the planner's loop owns it.
 */
#ifndef TE_TARGET_QUEUE_H
#define TE_TARGET_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "te_dlog.h"
#include "te_msg.h"

#define TE_TARGET_QUEUE_MAX_PARTS TE_DLOG_MAX_PARTS

/** One target in flight. The queue allocates items (te_target_queue_item_new) and links
 * them; the caller fills the public fields and owns `msg`. */
typedef struct te_target_queue_item_s {
        void *msg; /* the consumed message (caller's) */
        int32_t partition;
        int64_t offset;
        int64_t t_in_ns;          /* when it was consumed (caller's clock) */
        te_target_portfolio_t tp; /* decoded; its array is reused by later items */
        char clock_id[TE_ID_MAX]; /* while waiting for its CLOCK_ACK */
        int64_t wait_since;       /* ms, when the CLOCK was sent */
        int64_t next_alert;       /* ms, when the next clock.timeout alert is due */
        int confirming; /* waiting (same way) for its portfolio's CANCELs/REPLACEs to be
                           confirmed, to plan it again; clock_id is then the caller's */
        int replans;    /* times planned again after confirmations */
        /* private */
        struct te_target_queue_item_s *next;
        int waiting;
} te_target_queue_item_t;

typedef struct te_target_queue_s te_target_queue_t;

/** @returns an empty queue, or NULL on OOM. */
te_target_queue_t *te_target_queue_new(void);
/** Free the queue, its ledger and its items; `free_msg` (may be NULL) is called on the
 *  msg of every item still in a lane. Accepts NULL. */
void te_target_queue_destroy(te_target_queue_t *q, void (*free_msg)(void *));

/** @returns a zeroed item (its tp array kept from an earlier use), or NULL on OOM. */
te_target_queue_item_t *te_target_queue_item_new(te_target_queue_t *q);
/** Give an item back (not in a lane; its msg already released by the caller). */
void te_target_queue_item_free(te_target_queue_t *q, te_target_queue_item_t *it);

/* ---- portfolio lanes ---------------------------------------------------------- */

/** @returns 1 if `portfolio_id` has a target in flight (a new one must queue). */
int te_target_queue_busy(const te_target_queue_t *q, const char *portfolio_id);
/** Queue `it` behind the targets in flight of its portfolio (it->tp.ids.portfolio_id;
 *  te_target_queue_busy must be 1). */
void te_target_queue_queue(te_target_queue_t *q, te_target_queue_item_t *it);
/** `it` (its portfolio's first target in flight, or a target of a portfolio with none)
 *  sent CLOCK `clock_id` at `now`: it waits for the ACK; timeout_ms later an alert is
 *  due (te_target_queue_overdue). @returns 0, or -1 on OOM (nothing changed). */
int te_target_queue_wait(te_target_queue_t *q, te_target_queue_item_t *it,
                         const char *clock_id, int64_t now, int64_t timeout_ms);
/** Keep `it` (its portfolio's first target in flight, or a target of a portfolio with
 *  none) first in its lane without waiting for a clock: it is handled again later
 *  (e.g. when the DB is back), targets of its portfolio queue behind it, and
 * te_target_queue_pop takes it out as usual. @returns 0, or -1 on OOM or when another
 * target of its portfolio is first (nothing changed). */
int te_target_queue_park(te_target_queue_t *q, te_target_queue_item_t *it);
/** A CLOCK_ACK with `clock_id`. @returns the target waiting for it (now no longer
 *  waiting, still first in its lane: plan it, then te_target_queue_pop), or NULL if none
 * waits for that id (a late or repeated ACK). */
te_target_queue_item_t *te_target_queue_ack(te_target_queue_t *q, const char *clock_id);
/** Remove `it`, the first target of its lane, when it is finished (or held).
 *  @returns the next target of that portfolio, now first (handle it), or NULL. */
te_target_queue_item_t *te_target_queue_pop(te_target_queue_t *q,
                                            te_target_queue_item_t *it);
/** Take every target in flight of the portfolios whose partition is `partition`
 *  (their broker went down): @returns a list linked by te_target_queue_next, each
 * portfolio's targets in their order, or NULL. Their clocks no longer wait. */
te_target_queue_item_t *te_target_queue_take_partition(te_target_queue_t *q,
                                                       int32_t partition);
/** @returns the item after `it` in a list from te_target_queue_take_partition. */
te_target_queue_item_t *te_target_queue_next(const te_target_queue_item_t *it);
/** Targets in flight (waiting or queued), and the clocks waiting for an ACK. */
size_t te_target_queue_count(const te_target_queue_t *q);
size_t te_target_queue_waiting(const te_target_queue_t *q);
/** Iterate over the waiting targets whose alert is due at `now` (start with *pos = 0);
 *  each one's next alert moves timeout_ms on. @returns the target or NULL at the end. */
te_target_queue_item_t *te_target_queue_overdue(te_target_queue_t *q, size_t *pos,
                                                int64_t now, int64_t timeout_ms);
/** Drop every lane (the partitions were revoked): `free_msg` on each item's msg. */
void te_target_queue_clear_lanes(te_target_queue_t *q, void (*free_msg)(void *));

/* ---- offsets ledger ------------------------------------------------------------ */

/** Target at `offset` of `partition` consumed (not finished). Offsets of a partition
 *  must increase. @returns 0, or -1 (OOM, partition out of range, or an offset not
 *  after the last one: the ledger is unchanged). */
int te_target_queue_consumed(te_target_queue_t *q, int32_t partition, int64_t offset);
/** The target at `offset` of `partition` is finished; `seq`: the sequence number of the
 *  last message sent for it (or any later one). @returns 0, or -1 if the ledger has no
 *  such unfinished target. */
int te_target_queue_done(te_target_queue_t *q, int32_t partition, int64_t offset,
                         uint64_t seq);
/** Move past the leading finished targets of `partition` whose seq <= delivered.
 *  @returns the offset to commit (after the last one moved past), or -1 if none. */
int64_t te_target_queue_committable(te_target_queue_t *q, int32_t partition,
                                    uint64_t delivered);
/** @returns the targets of `partition` in the ledger (finished or not). */
size_t te_target_queue_ledger_count(const te_target_queue_t *q, int32_t partition);
/** Forget the ledger of every partition (revoked or newly assigned). */
void te_target_queue_clear_ledger(te_target_queue_t *q);

/* ---- planned as_ofs ------------------------------------------------------------ */

/** A target of `portfolio_id` with `as_of` was planned; its last message is `seq`.
 *  @returns 0 or -1 (OOM). */
int te_target_queue_planned(te_target_queue_t *q, const char *portfolio_id, int64_t as_of,
                            uint64_t seq);
/** Take the oldest planned entry whose seq <= delivered: @returns 1 and its portfolio
 *  (valid until the next call), as_of and seq, or 0 if none. */
int te_target_queue_pop_planned(te_target_queue_t *q, uint64_t delivered,
                                const char **portfolio_id, int64_t *as_of, uint64_t *seq);
/** @returns the planned entries not yet taken. */
size_t te_target_queue_planned_count(const te_target_queue_t *q);
/** Forget the planned entries. */
void te_target_queue_clear_planned(te_target_queue_t *q);

#endif
