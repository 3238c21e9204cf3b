/*
 * planner_hold: the held targets, no new orders for a broker that is down.
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
 * This file owns that state (the broker state per partition, the held set, the
 * release order) behind planner_hold.h and knows nothing else of the planner: the
 * messages it holds are opaque, what a held target means for the offsets ledger, the
 * dead letters and the Alert is decided by its caller (planner_target.c).
 *
 * Known limit: the state lives in memory. A planner that restarts or is assigned p
 * during an outage learns it only from reports it reads after the sink's offsets (or
 * from the worker's next announcement), so it may plan for a down broker as before
 * this module: those orders wait in exec.orders and expire if they get too old.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner_hold.h"
#include "te_buf.h"
#include "te_log.h"
#include "te_map.h"
#include "te_metrics.h"
#include "te_msg.h"
#include "te_obs.h"

typedef struct held_s {
        void *m; /* the target message, owned */
        int64_t offset;
        int64_t as_of;
        int32_t partition;
        char portfolio_id[TE_ID_MAX]; /* its key in h->held */
} held_t;

struct te_planner_hold_s {
        char *route;              /* the broker whose states count */
        void (*free_msg)(void *); /* frees a held message */
        unsigned char
            down[TE_PLANNER_HOLD_MAX_PARTS];   /* plan.route reported DOWN there */
        int n_down;                            /* partitions down */
        int release_due;                       /* a partition with held targets is UP */
        te_map_t *held;                        /* portfolio_id -> held_t */
        int n_held[TE_PLANNER_HOLD_MAX_PARTS]; /* held targets per partition */
        held_t **ready; /* te_planner_hold_take_*: taken in order */
        size_t n_ready, i_ready;
};

static void held_free_with(te_planner_hold_t *h, held_t *e)
{
        if (!e)
                return;
        if (h->free_msg)
                h->free_msg(e->m);
        free(e);
}

static void free_all(te_planner_hold_t *h)
{
        size_t it = 0;
        const char *key;
        void *v;
        if (!h->held)
                return;
        while (te_map_next(h->held, &it, &key, &v))
                held_free_with(h, v);
        te_map_destroy(h->held, NULL);
        h->held = NULL;
}

static void update_metrics(const te_planner_hold_t *h)
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
                te_metric_set(down, TE_LV(h->route), h->n_down);
        if (held)
                te_metric_set(held, NULL, (double)te_map_count(h->held));
}

te_planner_hold_t *te_planner_hold_new(const char *route, void (*free_msg)(void *))
{
        te_planner_hold_t *h = calloc(1, sizeof *h);
        if (!h)
                return NULL;
        h->route = strdup(route ? route : "");
        h->free_msg = free_msg;
        h->held = te_map_new();
        if (!h->route || !h->held) {
                te_map_destroy(h->held, NULL);
                free(h->route);
                free(h);
                return NULL;
        }
        update_metrics(h);
        return h;
}

void te_planner_hold_destroy(te_planner_hold_t *h)
{
        if (!h)
                return;
        free_all(h);
        free(h->ready);
        free(h->route);
        free(h);
}

int te_planner_hold_reset(te_planner_hold_t *h)
{
        if (!h) /* after te_planner_hold_destroy (the consumer's close revokes) */
                return 0;
        if (te_map_count(h->held))
                TE_LOG(TE_LOG_WARN, NULL, "planner.held_dropped",
                       "%zu held targets given up with their partitions (their offsets "
                       "were not committed: the next owner consumes them)",
                       te_map_count(h->held));
        free_all(h);
        h->n_ready = h->i_ready = 0;
        memset(h->down, 0, sizeof h->down);
        memset(h->n_held, 0, sizeof h->n_held);
        h->n_down = 0;
        h->release_due = 0;
        h->held = te_map_new();
        update_metrics(h);
        return h->held ? 0 : -1;
}

int te_planner_hold_broker_state(te_planner_hold_t *h, int32_t partition,
                                 const char *broker, const char *reason)
{
        int down;
        if (strcmp(broker, h->route) != 0) {
                TE_LOG(TE_LOG_DEBUG, NULL, "planner.broker_state",
                       "%s on partition %d: not our broker (%s)", broker, (int)partition,
                       h->route);
                return TE_PLANNER_HOLD_SAME;
        }
        if (strncmp(reason, "DOWN", 4) == 0)
                down = 1;
        else if (strncmp(reason, "UP", 2) == 0)
                down = 0;
        else {
                TE_LOG(TE_LOG_WARN, NULL, "planner.broker_state",
                       "%s on partition %d: state \"%.40s\" is neither UP nor DOWN",
                       broker, (int)partition, reason);
                return TE_PLANNER_HOLD_SAME;
        }
        if (partition < 0 || partition >= TE_PLANNER_HOLD_MAX_PARTS ||
            h->down[partition] == down)
                return TE_PLANNER_HOLD_SAME;
        h->down[partition] = (unsigned char)down;
        h->n_down += down ? 1 : -1;
        TE_LOG(TE_LOG_WARN, NULL, down ? "planner.broker_down" : "planner.broker_up",
               "broker %s %s on partition %d (%d partitions down, %d targets held there)",
               broker, down ? "DOWN" : "UP", (int)partition, h->n_down,
               h->n_held[partition]);
        if (!down && h->n_held[partition] > 0)
                h->release_due = 1;
        update_metrics(h);
        return down ? TE_PLANNER_HOLD_DOWN : TE_PLANNER_HOLD_UP;
}

int te_planner_hold_n_down(const te_planner_hold_t *h)
{
        return h->n_down;
}

int te_planner_hold_down(const te_planner_hold_t *h, int32_t partition)
{
        return partition >= 0 && partition < TE_PLANNER_HOLD_MAX_PARTS &&
               h->down[partition];
}

int te_planner_hold_must(const te_planner_hold_t *h, int32_t partition,
                         const char *portfolio_id)
{
        return te_planner_hold_down(h, partition) ||
               te_map_get(h->held, portfolio_id) != NULL;
}

size_t te_planner_hold_count(const te_planner_hold_t *h)
{
        return te_map_count(h->held);
}

int te_planner_hold_release_due(const te_planner_hold_t *h)
{
        return h->release_due;
}

int te_planner_hold_put(te_planner_hold_t *h, void *msg, int32_t partition,
                        int64_t offset, const char *portfolio_id, int64_t as_of,
                        void **replaced, int64_t *held_as_of)
{
        *replaced = NULL;
        held_t *e = te_map_get(h->held, portfolio_id);
        if (e && as_of < e->as_of) {
                *held_as_of = e->as_of;
                return 0;
        }
        if (e) {
                *replaced = e->m; /* finished: replaced */
        } else {
                e = calloc(1, sizeof *e);
                if (!e || te_map_put(h->held, portfolio_id, e) != 0) {
                        free(e);
                        return -1;
                }
                if (partition >= 0 && partition < TE_PLANNER_HOLD_MAX_PARTS)
                        h->n_held[partition]++;
        }
        e->m = msg;
        e->offset = offset;
        e->as_of = as_of;
        e->partition = partition;
        te_strlcpy(e->portfolio_id, portfolio_id, sizeof e->portfolio_id);
        update_metrics(h);
        return 1;
}

static int by_offset(const void *a, const void *b)
{
        const held_t *x = *(held_t *const *)a, *y = *(held_t *const *)b;
        if (x->partition != y->partition)
                return x->partition < y->partition ? -1 : 1;
        return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int te_planner_hold_take_begin(te_planner_hold_t *h, size_t *n)
{
        size_t count = te_map_count(h->held), k = 0, it = 0;
        const char *key;
        void *v;
        h->release_due = 0;
        h->n_ready = h->i_ready = 0;
        *n = 0;
        if (!count)
                return 0;
        held_t **ready = realloc(h->ready, count * sizeof *ready);
        if (!ready)
                return -1;
        h->ready = ready;
        while (te_map_next(h->held, &it, &key, &v))
                if (!te_planner_hold_down(h, ((held_t *)v)->partition))
                        ready[k++] = v;
        qsort(ready, k, sizeof *ready, by_offset);
        h->n_ready = *n = k;
        return 0;
}

void *te_planner_hold_take_next(te_planner_hold_t *h)
{
        if (h->i_ready >= h->n_ready)
                return NULL;
        /* out of the table first: planning may hold it again (down again) */
        held_t *e = te_map_del(h->held, h->ready[h->i_ready++]->portfolio_id);
        int32_t p = e->partition;
        void *m = e->m;
        free(e);
        if (p >= 0 && p < TE_PLANNER_HOLD_MAX_PARTS)
                h->n_held[p]--;
        return m;
}

void te_planner_hold_take_end(te_planner_hold_t *h)
{
        h->n_ready = h->i_ready = 0;
        update_metrics(h);
}
