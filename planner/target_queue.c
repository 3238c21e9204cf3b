/*
 * target_queue: portfolio lanes for the pipelined TRAINING clock barrier, the offsets
 * ledger and the planned as_ofs (target_queue.h).
 */
#include "target_queue.h"

#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_dlog.h"
#include "te_map.h"

#define TQ_POOL_MAX 4096 /* spare items and lanes kept for reuse */

/* The targets in flight of one portfolio, oldest first. */
typedef struct lane_s {
        char portfolio_id[TE_ID_MAX]; /* its key in q->lanes */
        int32_t partition;
        te_target_queue_item_t *head, *tail;
        struct lane_s *next_free;
} lane_t;

typedef struct planned_s {
        char portfolio_id[TE_ID_MAX];
        int64_t as_of;
        uint64_t seq;
} planned_t;

struct te_target_queue_s {
        te_map_t *lanes; /* portfolio_id -> lane_t* (borrowed keys) */
        te_map_t
            *clocks; /* clock id -> waiting te_target_queue_item_t* (borrowed keys) */
        size_t n_items;
        te_target_queue_item_t *free_items;
        size_t n_free_items;
        lane_t *free_lanes;
        size_t n_free_lanes;
        te_dlog_t *ledger;
        planned_t *planned; /* ring */
        size_t p_cap, p_head, p_n;
        char popped[TE_ID_MAX]; /* te_target_queue_pop_planned's answer */
};

te_target_queue_t *te_target_queue_new(void)
{
        te_target_queue_t *q = calloc(1, sizeof *q);
        if (!q)
                return NULL;
        q->lanes = te_map_new_borrowed();
        q->clocks = te_map_new_borrowed();
        q->ledger = te_dlog_new();
        if (!q->lanes || !q->clocks || !q->ledger) {
                te_target_queue_destroy(q, NULL);
                return NULL;
        }
        return q;
}

static void item_release(te_target_queue_item_t *it)
{
        te_target_portfolio_free(&it->tp);
        free(it);
}

void te_target_queue_destroy(te_target_queue_t *q, void (*free_msg)(void *))
{
        if (!q)
                return;
        if (q->lanes)
                te_target_queue_clear_lanes(q, free_msg);
        te_map_destroy(q->lanes, NULL);
        te_map_destroy(q->clocks, NULL);
        while (q->free_items) {
                te_target_queue_item_t *it = q->free_items;
                q->free_items = it->next;
                item_release(it);
        }
        while (q->free_lanes) {
                lane_t *l = q->free_lanes;
                q->free_lanes = l->next_free;
                free(l);
        }
        te_dlog_destroy(q->ledger);
        free(q->planned);
        free(q);
}

te_target_queue_item_t *te_target_queue_item_new(te_target_queue_t *q)
{
        te_target_queue_item_t *it = q->free_items;
        if (it) {
                q->free_items = it->next;
                q->n_free_items--;
                te_target_t *arr = it->tp.targets;
                size_t cap = it->tp.cap_targets;
                memset(it, 0, sizeof *it);
                it->tp.targets = arr;
                it->tp.cap_targets = cap;
                return it;
        }
        return calloc(1, sizeof *it);
}

void te_target_queue_item_free(te_target_queue_t *q, te_target_queue_item_t *it)
{
        if (!it)
                return;
        if (q->n_free_items >= TQ_POOL_MAX) {
                item_release(it);
                return;
        }
        it->msg = NULL;
        it->next = q->free_items;
        q->free_items = it;
        q->n_free_items++;
}

/* ---- portfolio lanes ------------------------------------------------------------ */

int te_target_queue_busy(const te_target_queue_t *q, const char *portfolio_id)
{
        return te_map_count(q->lanes) && te_map_get(q->lanes, portfolio_id) != NULL;
}

void te_target_queue_queue(te_target_queue_t *q, te_target_queue_item_t *it)
{
        lane_t *l = te_map_get(q->lanes, it->tp.ids.portfolio_id);
        it->next = NULL;
        l->tail->next = it;
        l->tail = it;
        q->n_items++;
}

static lane_t *lane_new(te_target_queue_t *q)
{
        lane_t *l = q->free_lanes;
        if (l) {
                q->free_lanes = l->next_free;
                q->n_free_lanes--;
                memset(l, 0, sizeof *l);
                return l;
        }
        return calloc(1, sizeof *l);
}

static void lane_free(te_target_queue_t *q, lane_t *l)
{
        if (q->n_free_lanes >= TQ_POOL_MAX) {
                free(l);
                return;
        }
        l->next_free = q->free_lanes;
        q->free_lanes = l;
        q->n_free_lanes++;
}

/* A new lane with `it` alone in it (not counted in n_items yet). @returns it or NULL
 * (OOM). */
static lane_t *lane_open(te_target_queue_t *q, te_target_queue_item_t *it)
{
        lane_t *l = lane_new(q);
        if (!l)
                return NULL;
        te_strlcpy(l->portfolio_id, it->tp.ids.portfolio_id, sizeof l->portfolio_id);
        l->partition = it->partition;
        it->next = NULL;
        l->head = l->tail = it;
        if (te_map_put(q->lanes, l->portfolio_id, l) != 0) {
                lane_free(q, l);
                return NULL;
        }
        return l;
}

int te_target_queue_park(te_target_queue_t *q, te_target_queue_item_t *it)
{
        lane_t *l = te_map_get(q->lanes, it->tp.ids.portfolio_id);
        if (l)
                return l->head == it ? 0 : -1;
        if (!lane_open(q, it))
                return -1;
        q->n_items++;
        return 0;
}

int te_target_queue_wait(te_target_queue_t *q, te_target_queue_item_t *it,
                         const char *clock_id, int64_t now, int64_t timeout_ms)
{
        lane_t *l = te_map_get(q->lanes, it->tp.ids.portfolio_id);
        lane_t *fresh = NULL;
        if (!l) {
                fresh = l = lane_open(q, it);
                if (!l)
                        return -1;
        }
        te_strlcpy(it->clock_id, clock_id, sizeof it->clock_id);
        if (te_map_put(q->clocks, it->clock_id, it) != 0) {
                if (fresh) {
                        te_map_del(q->lanes, fresh->portfolio_id);
                        lane_free(q, fresh);
                }
                return -1;
        }
        if (fresh)
                q->n_items++;
        it->waiting = 1;
        it->wait_since = now;
        it->next_alert = now + timeout_ms;
        return 0;
}

te_target_queue_item_t *te_target_queue_ack(te_target_queue_t *q, const char *clock_id)
{
        if (!te_map_count(q->clocks))
                return NULL;
        te_target_queue_item_t *it = te_map_del(q->clocks, clock_id);
        if (it)
                it->waiting = 0;
        return it;
}

te_target_queue_item_t *te_target_queue_pop(te_target_queue_t *q,
                                            te_target_queue_item_t *it)
{
        lane_t *l = te_map_get(q->lanes, it->tp.ids.portfolio_id);
        if (!l || l->head != it)
                return NULL; /* handled at once: never in a lane */
        if (it->waiting) {
                te_map_del(q->clocks, it->clock_id);
                it->waiting = 0;
        }
        q->n_items--;
        l->head = it->next;
        it->next = NULL;
        if (l->head)
                return l->head;
        te_map_del(q->lanes, l->portfolio_id);
        lane_free(q, l);
        return NULL;
}

te_target_queue_item_t *te_target_queue_take_partition(te_target_queue_t *q,
                                                       int32_t partition)
{
        te_target_queue_item_t *first = NULL, *last = NULL;
        for (;;) {
                size_t pos = 0;
                const char *key;
                void *v;
                lane_t *found = NULL;
                while (te_map_next(q->lanes, &pos, &key, &v))
                        if (((lane_t *)v)->partition == partition) {
                                found = v;
                                break;
                        }
                if (!found)
                        break;
                te_map_del(q->lanes, found->portfolio_id);
                for (te_target_queue_item_t *it = found->head; it; it = it->next) {
                        if (it->waiting) {
                                te_map_del(q->clocks, it->clock_id);
                                it->waiting = 0;
                        }
                        q->n_items--;
                }
                if (last)
                        last->next = found->head;
                else
                        first = found->head;
                last = found->tail;
                lane_free(q, found);
        }
        return first;
}

te_target_queue_item_t *te_target_queue_next(const te_target_queue_item_t *it)
{
        return it->next;
}

size_t te_target_queue_count(const te_target_queue_t *q)
{
        return q->n_items;
}

size_t te_target_queue_waiting(const te_target_queue_t *q)
{
        return te_map_count(q->clocks);
}

te_target_queue_item_t *te_target_queue_overdue(te_target_queue_t *q, size_t *pos,
                                                int64_t now, int64_t timeout_ms)
{
        const char *key;
        void *v;
        while (te_map_next(q->clocks, pos, &key, &v)) {
                te_target_queue_item_t *it = v;
                if (now >= it->next_alert) {
                        it->next_alert = now + timeout_ms;
                        return it;
                }
        }
        return NULL;
}

void te_target_queue_clear_lanes(te_target_queue_t *q, void (*free_msg)(void *))
{
        lane_t *all = NULL;
        size_t pos = 0;
        const char *key;
        void *v;
        while (te_map_next(q->lanes, &pos, &key, &v)) {
                lane_t *l = v;
                l->next_free = all;
                all = l;
        }
        /* out of the maps while their (borrowed) keys are still valid */
        while (all) {
                lane_t *l = all;
                all = l->next_free;
                te_map_del(q->lanes, l->portfolio_id);
                te_target_queue_item_t *it = l->head;
                while (it) {
                        te_target_queue_item_t *next = it->next;
                        if (it->waiting)
                                te_map_del(q->clocks, it->clock_id);
                        if (free_msg && it->msg)
                                free_msg(it->msg);
                        it->msg = NULL;
                        te_target_queue_item_free(q, it);
                        it = next;
                }
                lane_free(q, l);
        }
        q->n_items = 0;
}

/* ---- offsets ledger (te_dlog.h) ------------------------------------------------ */

int te_target_queue_consumed(te_target_queue_t *q, int32_t partition, int64_t offset)
{
        return te_dlog_consumed(q->ledger, partition, offset);
}

int te_target_queue_done(te_target_queue_t *q, int32_t partition, int64_t offset,
                         uint64_t seq)
{
        return te_dlog_done(q->ledger, partition, offset, seq);
}

int64_t te_target_queue_committable(te_target_queue_t *q, int32_t partition,
                                    uint64_t delivered)
{
        return te_dlog_committable(q->ledger, partition, delivered);
}

size_t te_target_queue_ledger_count(const te_target_queue_t *q, int32_t partition)
{
        return te_dlog_count(q->ledger, partition);
}

void te_target_queue_clear_ledger(te_target_queue_t *q)
{
        te_dlog_clear(q->ledger);
}

/* ---- planned as_ofs ------------------------------------------------------------- */

int te_target_queue_planned(te_target_queue_t *q, const char *portfolio_id, int64_t as_of,
                            uint64_t seq)
{
        if (q->p_n == q->p_cap) {
                size_t ncap = q->p_cap ? q->p_cap * 2 : 256;
                planned_t *np = malloc(ncap * sizeof *np);
                if (!np)
                        return -1;
                for (size_t i = 0; i < q->p_n; i++)
                        np[i] = q->planned[(q->p_head + i) & (q->p_cap - 1)];
                free(q->planned);
                q->planned = np;
                q->p_cap = ncap;
                q->p_head = 0;
        }
        planned_t *p = &q->planned[(q->p_head + q->p_n) & (q->p_cap - 1)];
        te_strlcpy(p->portfolio_id, portfolio_id, sizeof p->portfolio_id);
        p->as_of = as_of;
        p->seq = seq;
        q->p_n++;
        return 0;
}

int te_target_queue_pop_planned(te_target_queue_t *q, uint64_t delivered,
                                const char **portfolio_id, int64_t *as_of, uint64_t *seq)
{
        if (!q->p_n)
                return 0;
        planned_t *p = &q->planned[q->p_head];
        if (p->seq > delivered)
                return 0;
        memcpy(q->popped, p->portfolio_id, sizeof q->popped);
        *portfolio_id = q->popped;
        *as_of = p->as_of;
        *seq = p->seq;
        q->p_head = (q->p_head + 1) & (q->p_cap - 1);
        q->p_n--;
        return 1;
}

size_t te_target_queue_planned_count(const te_target_queue_t *q)
{
        return q->p_n;
}

void te_target_queue_clear_planned(te_target_queue_t *q)
{
        q->p_n = q->p_head = 0;
}
