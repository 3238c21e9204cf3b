/*
 * planner_route: targets consumed from another partition than their portfolio's.
 *
 * Co-partitioning (exec.targets, exec.orders and exec.reports keyed by portfolio_id and
 * hashed the same way) is what makes one planner instance the only one planning a
 * portfolio, from the whole of its book. It holds only if every producer of
 * exec.targets uses the Java client's default partitioner (murmur2 of the key);
 * librdkafka-based clients (Python, Go, .NET, kcat) default to another one. A target
 * whose partition is not te_kafka_partition_of(portfolio_id) is therefore not planned
 * here: its bytes and headers are re-published, with te.rerouted.from added, to the
 * partition its portfolio belongs on, where the owner plans it in turn. The offset of
 * the misplaced message is committed only once that copy is delivered (the offsets
 * ledger), so a crash in between consumes it again. A message that was already
 * re-published once and is still misplaced (the instances disagree on the partition
 * count) is dead-lettered instead of bouncing between them.
 *
 * The Kafka client id of the producer is not in the message; the producer is named by
 * the target's strategy_id (the attribution of what produced it). One Alert per
 * producer per hour says which partitioner to set; a counter counts every target
 * re-published.
 *
 * This file owns that state (the producers alerted and when, the count) behind
 * planner_route.h and needs nothing else of the planner: the caller gives the
 * partition the portfolio belongs on, and dead-letters the target or stops when told.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner_route.h"
#include "te_emit.h"
#include "te_log.h"
#include "te_map.h"
#include "te_metrics.h"
#include "te_obs.h"

#define TE_PLANNER_ROUTE_HEADER   "te.rerouted.from"
#define TE_PLANNER_ROUTE_ALERT_MS (3600 * 1000) /* one Alert per producer per hour */
#define TE_PLANNER_ROUTE_MAX_HDRS 63            /* te_producer_send takes 64 */
#define TE_PLANNER_ROUTE_MAX_PROD 4096          /* producers remembered for the Alert */

struct te_planner_route_s {
        const te_emitter_t *emit;  /* borrowed: its producer re-publishes */
        const char *topic_targets; /* borrowed */
        te_map_t *alerted;         /* producer -> int64_t* ms of its last Alert */
        te_metric_t *metric;       /* te_planner_targets_rerouted_total */
        uint64_t count;            /* targets re-published */
};

te_planner_route_t *te_planner_route_new(const te_emitter_t *emit,
                                         const char *topic_targets)
{
        te_planner_route_t *rt = calloc(1, sizeof *rt);
        if (!rt)
                return NULL;
        rt->emit = emit;
        rt->topic_targets = topic_targets;
        return rt;
}

void te_planner_route_destroy(te_planner_route_t *rt)
{
        if (!rt)
                return;
        te_map_destroy(rt->alerted, free);
        free(rt);
}

/* The Alert for `producer`, at most once an hour each. */
static void alert_producer(te_planner_route_t *rt, const te_target_portfolio_t *tp,
                           const char *producer, int32_t from, int32_t to, int64_t now)
{
        if (!rt->alerted) {
                rt->alerted = te_map_new();
                if (!rt->alerted)
                        return; /* no memory for the bookkeeping: the log line stays */
        }
        int64_t *last = te_map_get(rt->alerted, producer);
        if (last && now - *last < TE_PLANNER_ROUTE_ALERT_MS)
                return;
        if (!last) {
                if (te_map_count(rt->alerted) >= TE_PLANNER_ROUTE_MAX_PROD) {
                        te_map_destroy(rt->alerted, free);
                        rt->alerted = te_map_new();
                        if (!rt->alerted)
                                return;
                }
                last = malloc(sizeof *last);
                if (!last || te_map_put(rt->alerted, producer, last) != 0) {
                        free(last);
                        return;
                }
        }
        *last = now;
        te_emitter_alert(
            rt->emit, TE_SEV_WARNING, "target_wrong_partition", tp->ids.decision_id,
            tp->ids.portfolio_id, NULL,
            "the producer of strategy_id '%s' put portfolio %s on %s partition "
            "%d; it belongs on %d (murmur2 of portfolio_id, as the Java client "
            "partitions). Set partitioner=murmur2_random on that producer "
            "(librdkafka clients: Python, Go, .NET, kcat -X) and key each "
            "target by portfolio_id. Re-published to partition %d (%llu "
            "targets so far); one alert per producer per hour",
            producer, tp->ids.portfolio_id, rt->topic_targets, (int)from, (int)to,
            (int)to, (unsigned long long)rt->count);
}

int te_planner_route_target(te_planner_route_t *rt, const rd_kafka_message_t *m,
                            const te_target_portfolio_t *tp, int32_t to, int64_t now,
                            char *why, size_t why_size)
{
        char from[96];
        if (to < 0 || to == m->partition)
                return TE_PLANNER_ROUTE_HERE;
        te_kafka_header_t hdrs[TE_PLANNER_ROUTE_MAX_HDRS + 1];
        size_t n = 0;
        rd_kafka_headers_t *h = NULL;
        if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h) {
                const char *name;
                const void *val;
                size_t sz;
                for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &val, &sz) ==
                                   RD_KAFKA_RESP_ERR_NO_ERROR;
                     i++) {
                        if (strcmp(name, TE_PLANNER_ROUTE_HEADER) == 0) {
                                snprintf(why, why_size,
                                         "re-published once already and still on "
                                         "partition %d instead of %d: do the planner "
                                         "instances see different partition counts?",
                                         (int)m->partition, (int)to);
                                return TE_PLANNER_ROUTE_DEAD;
                        }
                        if (n == TE_PLANNER_ROUTE_MAX_HDRS) {
                                snprintf(why, why_size,
                                         "on partition %d instead of %d, with more than "
                                         "%d headers: cannot be re-published",
                                         (int)m->partition, (int)to,
                                         TE_PLANNER_ROUTE_MAX_HDRS);
                                return TE_PLANNER_ROUTE_DEAD;
                        }
                        hdrs[n++] = (te_kafka_header_t){name, val, val ? sz : 0};
                }
        }
        snprintf(from, sizeof from, "%s[%d]@%lld", rd_kafka_topic_name(m->rkt),
                 (int)m->partition, (long long)m->offset);
        hdrs[n++] = (te_kafka_header_t){TE_PLANNER_ROUTE_HEADER, from, strlen(from)};
        if (te_producer_send_to(rt->emit->producer, rt->topic_targets, to, m->key,
                                m->key_len, m->payload, m->len, hdrs, n, why,
                                why_size) != 0)
                return TE_PLANNER_ROUTE_ERROR;
        rt->count++;
        if (!rt->metric && te_obs_registry())
                rt->metric = te_metrics_counter(
                    te_obs_registry(), "te_planner_targets_rerouted_total",
                    "Targets consumed from another exec.targets partition than "
                    "murmur2(portfolio_id) and re-published to it.",
                    NULL);
        if (rt->metric)
                te_metric_add(rt->metric, NULL, 1);
        const char *producer =
            tp->ids.strategy_id[0] ? tp->ids.strategy_id : "(no strategy_id)";
        te_log_ids_t ids = {.decision_id = tp->ids.decision_id,
                            .portfolio_id = tp->ids.portfolio_id};
        TE_LOG(TE_LOG_INFO, &ids, "target.rerouted",
               "%s -> partition %d (strategy_id %s)", from, (int)to, producer);
        alert_producer(rt, tp, producer, m->partition, to, now);
        return TE_PLANNER_ROUTE_MOVED;
}
