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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner_int.h"
#include "te_emit.h"
#include "te_log.h"
#include "te_metrics.h"
#include "te_obs.h"

#define TE_PL_REROUTE_HEADER   "te.rerouted.from"
#define TE_PL_REROUTE_ALERT_MS (3600 * 1000) /* one Alert per producer per hour */
#define TE_PL_REROUTE_MAX_HDRS 63            /* te_producer_send takes 64 */
#define TE_PL_REROUTE_MAX_PROD 4096          /* producers remembered for the Alert */

/* The Alert for `producer`, at most once an hour each. */
static void alert_producer(te_planner_t *pl, const te_target_portfolio_t *tp,
                           const char *producer, int32_t from, int32_t to, int64_t now)
{
        if (!pl->rerouted_alerted) {
                pl->rerouted_alerted = te_map_new();
                if (!pl->rerouted_alerted)
                        return; /* no memory for the bookkeeping: the log line stays */
        }
        int64_t *last = te_map_get(pl->rerouted_alerted, producer);
        if (last && now - *last < TE_PL_REROUTE_ALERT_MS)
                return;
        if (!last) {
                if (te_map_count(pl->rerouted_alerted) >= TE_PL_REROUTE_MAX_PROD) {
                        te_map_destroy(pl->rerouted_alerted, free);
                        pl->rerouted_alerted = te_map_new();
                        if (!pl->rerouted_alerted)
                                return;
                }
                last = malloc(sizeof *last);
                if (!last || te_map_put(pl->rerouted_alerted, producer, last) != 0) {
                        free(last);
                        return;
                }
        }
        *last = now;
        te_emit_alert(pl->producer, pl->codec, pl->conf.topic_alerts, TE_SEV_WARNING,
                      TE_PL_PROC, "target_wrong_partition", tp->ids.decision_id,
                      tp->ids.portfolio_id, NULL,
                      "the producer of strategy_id '%s' put portfolio %s on %s partition "
                      "%d; it belongs on %d (murmur2 of portfolio_id, as the Java client "
                      "partitions). Set partitioner=murmur2_random on that producer "
                      "(librdkafka clients: Python, Go, .NET, kcat -X) and key each "
                      "target by portfolio_id. Re-published to partition %d (%llu "
                      "targets so far); one alert per producer per hour",
                      producer, tp->ids.portfolio_id, pl->conf.topic_targets, (int)from,
                      (int)to, (int)to, (unsigned long long)pl->st.rerouted);
}

int te_pl_reroute(te_planner_t *pl, const rd_kafka_message_t *m,
                  const te_target_portfolio_t *tp, int64_t now)
{
        char errstr[256], from[96], why[160];
        int32_t to = te_pl_partition_of(pl, tp->ids.portfolio_id);
        if (to < 0 || to == m->partition)
                return 0;
        te_kafka_header_t hdrs[TE_PL_REROUTE_MAX_HDRS + 1];
        size_t n = 0;
        rd_kafka_headers_t *h = NULL;
        if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h) {
                const char *name;
                const void *val;
                size_t sz;
                for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &val, &sz) ==
                                   RD_KAFKA_RESP_ERR_NO_ERROR;
                     i++) {
                        if (strcmp(name, TE_PL_REROUTE_HEADER) == 0) {
                                snprintf(why, sizeof why,
                                         "re-published once already and still on "
                                         "partition %d instead of %d: do the planner "
                                         "instances see different partition counts?",
                                         (int)m->partition, (int)to);
                                te_pl_dead_letter_target(pl, m, "wrong_partition", why,
                                                         tp);
                                return pl->fatal ? -1 : 1;
                        }
                        if (n == TE_PL_REROUTE_MAX_HDRS) {
                                snprintf(why, sizeof why,
                                         "on partition %d instead of %d, with more than "
                                         "%d headers: cannot be re-published",
                                         (int)m->partition, (int)to,
                                         TE_PL_REROUTE_MAX_HDRS);
                                te_pl_dead_letter_target(pl, m, "wrong_partition", why,
                                                         tp);
                                return pl->fatal ? -1 : 1;
                        }
                        hdrs[n++] = (te_kafka_header_t){name, val, val ? sz : 0};
                }
        }
        snprintf(from, sizeof from, "%s[%d]@%lld", rd_kafka_topic_name(m->rkt),
                 (int)m->partition, (long long)m->offset);
        hdrs[n++] = (te_kafka_header_t){TE_PL_REROUTE_HEADER, from, strlen(from)};
        if (te_producer_send_to(pl->producer, pl->conf.topic_targets, to, m->key,
                                m->key_len, m->payload, m->len, hdrs, n, errstr,
                                sizeof errstr) != 0) {
                te_pl_fail(pl, "re-publish target", errstr);
                return -1;
        }
        pl->st.rerouted++;
        if (!pl->rerouted_metric && te_obs_registry())
                pl->rerouted_metric = te_metrics_counter(
                    te_obs_registry(), "te_planner_targets_rerouted_total",
                    "Targets consumed from another exec.targets partition than "
                    "murmur2(portfolio_id) and re-published to it.",
                    NULL);
        if (pl->rerouted_metric)
                te_metric_add(pl->rerouted_metric, NULL, 1);
        const char *producer =
            tp->ids.strategy_id[0] ? tp->ids.strategy_id : "(no strategy_id)";
        te_log_ids_t ids = {.decision_id = tp->ids.decision_id,
                            .portfolio_id = tp->ids.portfolio_id};
        TE_LOG(TE_LOG_INFO, &ids, "target.rerouted",
               "%s -> partition %d (strategy_id %s)", from, (int)to, producer);
        alert_producer(pl, tp, producer, m->partition, to, now);
        return 1;
}
