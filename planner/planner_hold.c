/*
 * planner_hold: no new orders for a broker that is down (issue 6 point 5).
 *
 * A broker worker publishes a BROKER_STATE report (reason "DOWN: ..." or "UP: ...") on
 * every exec.reports partition whose exec.orders partition it owns, and again on each
 * partition it is assigned (brokers/main_broker.c). Co-partitioning makes that exactly
 * the portfolios whose orders it serves, and this planner reads the reports partitions
 * of the portfolios it owns; reports of another broker than plan.route are ignored.
 *
 * While partition p is down, a target of a portfolio on p is validated (an invalid one
 * is dead-lettered at once), then held instead of planned: the latest per portfolio,
 * a later target replacing an earlier one; targets in flight on p (waiting for their
 * CLOCK_ACK, or queued behind one) are held the same way when the DOWN is read. Held
 * messages are not committed: they stay unfinished in the offsets ledger
 * (target_queue.h), so the exec.targets position of p stays before the first of them
 * and a crash while holding consumes them again. The first DOWN of an outage raises one
 * Alert; the metrics te_planner_broker_down{broker} (partitions down) and
 * te_planner_held_targets show the state. When p is UP again, its held targets are
 * planned in their arrival order, then p's position moves past everything consumed.
 *
 * Known limit: the state lives in memory. A planner that restarts or is assigned p
 * during an outage learns it only from reports it reads after the sink's offsets (or
 * from the worker's next announcement), so it may plan for a down broker as before
 * this module: those orders wait in exec.orders and expire if they get too old.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner_int.h"
#include "te_emit.h"
#include "te_log.h"
#include "te_obs.h"

typedef struct held_s {
        rd_kafka_message_t *m; /* the target message, owned */
        int64_t as_of;
        int32_t partition;
        char portfolio_id[TE_ID_MAX]; /* its key in pl->held */
} held_t;

static void held_free(void *v)
{
        held_t *h = v;
        if (!h)
                return;
        rd_kafka_message_destroy(h->m);
        free(h);
}

static void update_metrics(te_planner_t *pl)
{
        te_metrics_t *reg = te_obs_registry();
        if (!reg)
                return;
        te_metric_t *down = te_metrics_gauge(
            reg, "te_planner_broker_down",
            "exec.reports partitions on which the planner's broker (plan.route) reported "
            "DOWN: targets of their portfolios are held.",
            "broker");
        te_metric_t *held = te_metrics_gauge(
            reg, "te_planner_held_targets",
            "Targets held (the latest per portfolio) while their broker is down.", NULL);
        if (down)
                te_metric_set(down, TE_LV(pl->conf.plan.route), pl->n_down);
        if (held)
                te_metric_set(held, NULL, (double)te_map_count(pl->held));
}

int te_pl_hold_init(te_planner_t *pl)
{
        pl->held = te_map_new();
        if (!pl->held)
                return -1;
        update_metrics(pl);
        return 0;
}

void te_pl_hold_term(te_planner_t *pl)
{
        te_map_destroy(pl->held, held_free);
        pl->held = NULL;
}

void te_pl_hold_reset(te_planner_t *pl)
{
        if (!pl->held) /* after te_pl_hold_term (the consumer's close revokes) */
                return;
        if (te_map_count(pl->held))
                TE_LOG(TE_LOG_WARN, NULL, "planner.held_dropped",
                       "%zu held targets given up with their partitions (their offsets "
                       "were not committed: the next owner consumes them)",
                       te_map_count(pl->held));
        te_map_destroy(pl->held, held_free);
        pl->held = te_map_new();
        if (!pl->held)
                te_pl_fail(pl, "hold", "out of memory");
        memset(pl->down, 0, sizeof pl->down);
        memset(pl->n_held, 0, sizeof pl->n_held);
        pl->n_down = 0;
        pl->release_due = 0;
        update_metrics(pl);
}

static void alert_down(te_planner_t *pl, const char *why)
{
        te_emit_alert(pl->producer, pl->codec, pl->conf.topic_alerts, TE_SEV_WARNING,
                      TE_PL_PROC, "planner_broker_down", NULL, NULL, NULL,
                      "broker %s reported DOWN (%s): no new orders for its portfolios; "
                      "their latest targets are held until it is UP",
                      pl->conf.plan.route, why);
}

void te_pl_hold_caught_up(te_planner_t *pl)
{
        if (pl->n_down > 0)
                alert_down(pl, "as of the reports read on assignment");
}

void te_pl_on_broker_state(te_planner_t *pl, int32_t partition, const te_exec_report_t *r)
{
        int down;
        if (strcmp(r->broker, pl->conf.plan.route) != 0) {
                TE_LOG(TE_LOG_DEBUG, NULL, "planner.broker_state",
                       "%s on partition %d: not our broker (%s)", r->broker,
                       (int)partition, pl->conf.plan.route);
                return;
        }
        if (strncmp(r->reason, "DOWN", 4) == 0)
                down = 1;
        else if (strncmp(r->reason, "UP", 2) == 0)
                down = 0;
        else {
                TE_LOG(TE_LOG_WARN, NULL, "planner.broker_state",
                       "%s on partition %d: state \"%.40s\" is neither UP nor DOWN",
                       r->broker, (int)partition, r->reason);
                return;
        }
        if (partition < 0 || partition >= TE_PL_MAX_PARTS || pl->down[partition] == down)
                return;
        pl->down[partition] = (unsigned char)down;
        pl->n_down += down ? 1 : -1;
        TE_LOG(TE_LOG_WARN, NULL, down ? "planner.broker_down" : "planner.broker_up",
               "broker %s %s on partition %d (%d partitions down, %d targets held there)",
               r->broker, down ? "DOWN" : "UP", (int)partition, pl->n_down,
               pl->n_held[partition]);
        if (down && pl->n_down == 1 && !pl->catching_up) /* once per outage */
                alert_down(pl, r->reason);
        if (down && te_tq_count(pl->tq)) /* its targets in flight are held */
                pl->divert_due = 1;
        if (!down && pl->n_held[partition] > 0)
                pl->release_due = 1;
        update_metrics(pl);
}

static int partition_down(const te_planner_t *pl, int32_t partition)
{
        return partition >= 0 && partition < TE_PL_MAX_PARTS && pl->down[partition];
}

int te_pl_must_hold(const te_planner_t *pl, int32_t partition, const char *portfolio_id)
{
        return partition_down(pl, partition) ||
               te_map_get(pl->held, portfolio_id) != NULL;
}

int te_pl_hold(te_planner_t *pl, rd_kafka_message_t *m, const te_target_portfolio_t *tp)
{
        te_log_ids_t ids = {.decision_id = tp->ids.decision_id,
                            .portfolio_id = tp->ids.portfolio_id};
        held_t *h = te_map_get(pl->held, tp->ids.portfolio_id);
        if (h && tp->as_of < h->as_of) {
                char why[160];
                snprintf(why, sizeof why, "as_of %lld is before the held target's %lld",
                         (long long)tp->as_of, (long long)h->as_of);
                te_pl_dead_letter_target(pl, m, "as_of_backwards", why, tp);
                return pl->fatal ? -1 : 0;
        }
        if (h) {
                TE_LOG(TE_LOG_INFO, &ids, "target.superseded",
                       "held target at offset %lld replaced by the one at %lld",
                       (long long)h->m->offset, (long long)m->offset);
                te_pl_target_done(pl, h->m); /* finished: replaced */
                rd_kafka_message_destroy(h->m);
                pl->st.superseded++;
        } else {
                h = calloc(1, sizeof *h);
                if (!h || te_map_put(pl->held, tp->ids.portfolio_id, h) != 0) {
                        free(h);
                        te_pl_fail(pl, "hold", "out of memory");
                        return -1;
                }
                if (m->partition >= 0 && m->partition < TE_PL_MAX_PARTS)
                        pl->n_held[m->partition]++;
        }
        h->m = m;
        h->as_of = tp->as_of;
        h->partition = m->partition;
        te_strlcpy(h->portfolio_id, tp->ids.portfolio_id, sizeof h->portfolio_id);
        pl->st.held++;
        TE_LOG(TE_LOG_INFO, &ids, "target.held",
               "broker %s down: as_of %lld held (partition %d offset %lld)",
               pl->conf.plan.route, (long long)tp->as_of, (int)m->partition,
               (long long)m->offset);
        update_metrics(pl);
        return 1;
}

static int by_offset(const void *a, const void *b)
{
        const held_t *x = *(held_t *const *)a, *y = *(held_t *const *)b;
        if (x->partition != y->partition)
                return x->partition < y->partition ? -1 : 1;
        return x->m->offset < y->m->offset ? -1 : x->m->offset > y->m->offset;
}

int te_pl_release(te_planner_t *pl, int64_t now)
{
        size_t n = te_map_count(pl->held), k = 0, it = 0;
        const char *key;
        void *v;
        pl->release_due = 0;
        if (!n)
                return 0;
        held_t **ready = malloc(n * sizeof *ready);
        if (!ready) {
                te_pl_fail(pl, "release", "out of memory");
                return -1;
        }
        while (te_map_next(pl->held, &it, &key, &v))
                if (!partition_down(pl, ((held_t *)v)->partition))
                        ready[k++] = v;
        qsort(ready, k, sizeof *ready, by_offset);
        if (k)
                TE_LOG(TE_LOG_WARN, NULL, "planner.release",
                       "broker %s UP: planning %zu held targets", pl->conf.plan.route, k);
        int rc = 0;
        for (size_t i = 0; i < k && rc == 0; i++) {
                /* out of the table first: planning may hold it again (down again) */
                held_t *h = te_map_del(pl->held, ready[i]->portfolio_id);
                int32_t p = h->partition;
                rd_kafka_message_t *m = h->m;
                free(h);
                if (p >= 0 && p < TE_PL_MAX_PARTS)
                        pl->n_held[p]--;
                pl->st.released++;
                /* planned (or in flight again): the ledger lets the position of p
                 * move past it once it is finished */
                if (te_pl_on_target(pl, m, now, 0) < 0)
                        rc = -1;
        }
        pl->dirty = 1;
        free(ready);
        update_metrics(pl);
        return rc;
}
