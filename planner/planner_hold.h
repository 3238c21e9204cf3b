/*
 * planner_hold: the set of targets held while their broker is down, and the broker
 * state (UP/DOWN) per exec.reports partition that decides it. Standalone: no Kafka,
 * no planner; a held message is an opaque pointer freed by the function given to
 * te_planner_hold_new. See planner_hold.c for the behaviour it implements.
 */
#ifndef TE_PLANNER_HOLD_H
#define TE_PLANNER_HOLD_H

#include <stddef.h>
#include <stdint.h>

#define TE_PLANNER_HOLD_MAX_PARTS 1024 /* partitions tracked (as the planner's) */

typedef struct te_planner_hold_s te_planner_hold_t;

/** What a BROKER_STATE report changed (te_planner_hold_broker_state). */
enum {
        TE_PLANNER_HOLD_SAME = 0, /* nothing: another broker, no change, bad state */
        TE_PLANNER_HOLD_DOWN = 1, /* the partition went DOWN */
        TE_PLANNER_HOLD_UP = 2,   /* the partition is UP again */
};

/** An empty set for the broker `route`; `free_msg` frees a held message (may be
 *  NULL). @returns NULL on OOM. */
te_planner_hold_t *te_planner_hold_new(const char *route, void (*free_msg)(void *));
/** Free the set and its held messages. Takes NULL. */
void te_planner_hold_destroy(te_planner_hold_t *h);
/** Forget held messages (freed) and broker states: the partitions were revoked.
 *  Takes NULL. @returns 0 or -1 (OOM: the set is unusable). */
int te_planner_hold_reset(te_planner_hold_t *h);
/** A BROKER_STATE report of `broker` with `reason` ("DOWN: ..." / "UP: ...") read
 *  on partition `partition`. @returns TE_PLANNER_HOLD_SAME, _DOWN or _UP. */
int te_planner_hold_broker_state(te_planner_hold_t *h, int32_t partition,
                                 const char *broker, const char *reason);
/** @returns the number of partitions whose broker is down. */
int te_planner_hold_n_down(const te_planner_hold_t *h);
/** @returns 1 if the broker of `partition` is down. */
int te_planner_hold_down(const te_planner_hold_t *h, int32_t partition);
/** @returns 1 if a target of `portfolio_id` on `partition` must be held (its broker
 *  is down, or an earlier target of the portfolio is held), else 0. */
int te_planner_hold_must(const te_planner_hold_t *h, int32_t partition,
                         const char *portfolio_id);
/** @returns the number of held targets. */
size_t te_planner_hold_count(const te_planner_hold_t *h);
/** @returns 1 once a partition with held targets is UP again (until the next
 *  te_planner_hold_take_begin). */
int te_planner_hold_release_due(const te_planner_hold_t *h);
/** Hold `msg` (the target of `portfolio_id` with `as_of`, at `partition`/`offset`),
 *  replacing the portfolio's held one, which is handed back in *replaced (not freed).
 *  @returns 1 held, 0 refused (as_of before the held one's, given in *held_as_of;
 *  `msg` stays the caller's), -1 OOM. */
int te_planner_hold_put(te_planner_hold_t *h, void *msg, int32_t partition,
                        int64_t offset, const char *portfolio_id, int64_t as_of,
                        void **replaced, int64_t *held_as_of);
/** Start taking the held targets of partitions that are UP, in arrival order
 *  (partition, then offset); *n: how many. Clears the release flag.
 *  @returns 0 or -1 (OOM). */
int te_planner_hold_take_begin(te_planner_hold_t *h, size_t *n);
/** The next of them, out of the set (the caller owns it), or NULL when done. */
void *te_planner_hold_take_next(te_planner_hold_t *h);
/** Done taking (the rest, if the caller stopped early, stays held). */
void te_planner_hold_take_end(te_planner_hold_t *h);

#endif
