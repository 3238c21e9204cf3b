/*
 * planner_route: targets consumed from another exec.targets partition than their
 * portfolio's, re-published to the right one (see planner_route.c). Owns the Alert
 * bookkeeping per producer and the counter; knows nothing else of the planner.
 */
#ifndef TE_PLANNER_ROUTE_H
#define TE_PLANNER_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "te_emit.h"
#include "te_msg.h"

typedef struct te_planner_route_s te_planner_route_t;

/** What te_planner_route_target did. */
enum {
        TE_PLANNER_ROUTE_ERROR = -1, /* the copy could not be queued: fatal, why set */
        TE_PLANNER_ROUTE_HERE = 0,   /* on its portfolio's partition: plan it */
        TE_PLANNER_ROUTE_MOVED = 1,  /* re-published where it belongs */
        TE_PLANNER_ROUTE_DEAD = 2,   /* cannot be re-published: dead-letter it, why set */
};

/** Re-publish with the producer of `emit` to `topic_targets`, Alerts through `emit`
 *  (both borrowed). @returns NULL on OOM. */
te_planner_route_t *te_planner_route_new(const te_emitter_t *emit,
                                         const char *topic_targets);
/** Takes NULL. */
void te_planner_route_destroy(te_planner_route_t *rt);
/** `m` (decoded into `tp`) belongs on partition `to` (-1: unknown, kept here): if it
 *  is elsewhere, re-publish it there with te.rerouted.from, count it, log it and raise
 *  the Alert (once per producer per hour). The caller finishes its ledger entry.
 *  @returns TE_PLANNER_ROUTE_*. */
int te_planner_route_target(te_planner_route_t *rt, const rd_kafka_message_t *m,
                            const te_target_portfolio_t *tp, int32_t to, int64_t now,
                            char *why, size_t why_size);

#endif
