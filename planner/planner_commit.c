/*
 * planner_commit: what the planner commits and when — the end of its delivered writes
 * to exec.orders (delivery reports), the as_ofs planned and the orders positions saved
 * in the runtime DB, then the exec.targets offsets of the targets that are finished and
 * whose messages are delivered (the offsets ledger, target_queue.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "planner_int.h"
#include "te_log.h"
#include "te_proc.h"

struct te_planner_commit_s {
        int64_t pending[TE_PLANNER_MAX_PARTS]; /* target offset to commit next; -1 */
        uint64_t planned_seq; /* every target planned up to this message: saved */
        /* end of our delivered writes to each exec.orders partition since the
         * assignment (delivery reports) with the sequence number of the last one, the
         * same as of the previous commit, and the value last saved; -1: none */
        int64_t orders_end[TE_PLANNER_MAX_PARTS];
        uint64_t orders_seq[TE_PLANNER_MAX_PARTS];
        int64_t orders_cp_end[TE_PLANNER_MAX_PARTS];
        uint64_t orders_cp_seq[TE_PLANNER_MAX_PARTS];
        int64_t orders_saved[TE_PLANNER_MAX_PARTS];
        uint64_t failed_seen; /* producer delivery failures already seen */
        te_map_t *planned; /* portfolio_id -> int64_t* last as_of planned since commit */
};

static void reset(te_planner_commit_t *cs)
{
        for (int i = 0; i < TE_PLANNER_MAX_PARTS; i++) {
                cs->pending[i] = -1;
                cs->orders_end[i] = cs->orders_cp_end[i] = cs->orders_saved[i] = -1;
                cs->orders_seq[i] = cs->orders_cp_seq[i] = 0;
        }
}

te_planner_commit_t *te_planner_commit_new(void)
{
        te_planner_commit_t *cs = calloc(1, sizeof *cs);
        if (!cs)
                return NULL;
        cs->planned = te_map_new();
        if (!cs->planned) {
                free(cs);
                return NULL;
        }
        reset(cs);
        return cs;
}

void te_planner_commit_destroy(te_planner_commit_t *cs)
{
        if (!cs)
                return;
        te_map_destroy(cs->planned, free);
        free(cs);
}

/* Delivery reports (te_kafka.h): the end of our delivered writes to each exec.orders
 * partition and the sequence number of the last one (no watermark query needed). */
void te_planner_commit_on_delivered(void *opaque, const rd_kafka_message_t *m,
                                    uint64_t seq)
{
        te_planner_t *pl = opaque;
        int32_t p = m->partition;
        if (p < 0 || p >= TE_PLANNER_MAX_PARTS || m->offset < 0 ||
            m->offset + 1 <= pl->cs->orders_end[p] ||
            strcmp(rd_kafka_topic_name(m->rkt), pl->conf.topic_orders) != 0)
                return;
        pl->cs->orders_end[p] = m->offset + 1;
        pl->cs->orders_seq[p] = seq;
}

void te_planner_commit_reset(te_planner_t *pl)
{
        reset(pl->cs);
}

void te_planner_commit_settle(te_planner_t *pl)
{
        uint64_t delivered = te_producer_delivered_seq(pl->producer);
        const char *pid;
        int64_t as_of;
        uint64_t seq;
        while (te_target_queue_pop_planned(pl->tq, delivered, &pid, &as_of, &seq)) {
                if (te_planner_commit_remember(pl, pid, as_of) != 0) {
                        te_planner_fail(pl, "state", "out of memory");
                        return;
                }
                pl->cs->planned_seq = seq;
        }
        for (int32_t p = 0; p < pl->n_parts && p < TE_PLANNER_MAX_PARTS; p++) {
                int64_t off = te_target_queue_committable(pl->tq, p, delivered);
                if (off >= 0)
                        pl->cs->pending[p] = off;
        }
}

/* The orders offset of partition p that the DB state may record now: the end of our
 * delivered writes as long as every message there is at or before planned_seq (all the
 * targets planned up to it are in the state saved with it), else the same figure as of
 * the previous commit once planned_seq has passed it; after a flush, the end.
 * @returns it, or -1 if none is due. */
static int64_t orders_due(te_planner_t *pl, int32_t p, int flushed)
{
        int64_t end = -1;
        if (flushed || pl->cs->orders_seq[p] <= pl->cs->planned_seq)
                end = pl->cs->orders_end[p];
        else if (pl->cs->orders_cp_seq[p] <= pl->cs->planned_seq)
                end = pl->cs->orders_cp_end[p];
        pl->cs->orders_cp_end[p] = pl->cs->orders_end[p];
        pl->cs->orders_cp_seq[p] = pl->cs->orders_seq[p];
        return end > pl->cs->orders_saved[p] ? end : -1;
}

/* Record in the DB the portfolios planned (and delivered) since the last save and the
 * end of our writes to each owned exec.orders partition (0002_planner.sql).
 *
 * Why that is enough after a kill -9, without a flush: every as_of saved is that of a
 * target whose commands are all delivered (te_target_queue_pop_planned), and so are those
 * of the targets before it of the same portfolio (one lane each, planned in order). The
 * orders offset saved covers only messages at or before planned_seq (orders_due), so
 * every command before it belongs to a target whose as_of is saved with it, to a mode
 * change, or is the CLOCK of a target not planned yet (consumed again: no target offset
 * is committed past it) — as after the flush this used to do. Commands after it are read
 * back on the next assignment (planner_sync.c), as before. */
static int save_state(te_planner_t *pl, int flushed)
{
        char errstr[512];
        size_t n_pf = te_map_count(pl->cs->planned), k = 0, it = 0;
        const char **pids = calloc(n_pf ? n_pf : 1, sizeof *pids);
        int64_t *asofs = calloc(n_pf ? n_pf : 1, sizeof *asofs);
        int32_t parts[TE_PLANNER_MAX_PARTS];
        int64_t offs[TE_PLANNER_MAX_PARTS];
        size_t n_off = 0;
        int rc = -1;
        const char *key;
        void *v;
        if (!pids || !asofs) {
                te_planner_fail(pl, "state", "out of memory");
                goto out;
        }
        while (te_map_next(pl->cs->planned, &it, &key, &v) && k < n_pf) {
                pids[k] = key;
                asofs[k++] = *(int64_t *)v;
        }
        for (int32_t p = 0; p < pl->n_parts && p < TE_PLANNER_MAX_PARTS; p++) {
                /* only this instance writes the partitions it te_planner_sync_owns */
                int64_t end = pl->owned[p] ? orders_due(pl, p, flushed) : -1;
                if (end < 0)
                        continue;
                parts[n_off] = p;
                offs[n_off++] = end;
        }
        if (!k && !n_off) {
                rc = 0;
                goto out;
        }
        /* A DB outage must not stop the planner: retry with bounded backoff (the
         * target offsets are not committed until the state is saved, so nothing is
         * lost while it waits), reconnecting when the connection is gone. */
        int64_t delay = 50;
        int attempts = 0;
        while (te_planner_db_state_save(pl->db, pl->conf.group_id, pl->conf.topic_orders,
                                        pids, asofs, k, parts, offs, n_off, errstr,
                                        sizeof errstr) != 0) {
                /* a refusal on a healthy connection is not an outage */
                if (te_proc_stop ||
                    (PQstatus(pl->db) == CONNECTION_OK && ++attempts > 3)) {
                        te_planner_fail(pl, "save state", errstr);
                        goto out;
                }
                TE_LOG(TE_LOG_ERROR, NULL, "planner.db_retry",
                       "save state: %s; retry in %lld ms", errstr, (long long)delay);
                struct timespec ts = {.tv_sec = delay / 1000,
                                      .tv_nsec = (delay % 1000) * 1000000};
                nanosleep(&ts, NULL);
                delay = delay * 2 > 5000 ? 5000 : delay * 2;
                if (PQstatus(pl->db) != CONNECTION_OK)
                        PQreset(pl->db);
        }
        for (size_t i = 0; i < n_off; i++)
                pl->cs->orders_saved[parts[i]] = offs[i];
        if (k) {
                te_map_destroy(pl->cs->planned, free);
                pl->cs->planned = te_map_new();
                if (!pl->cs->planned) {
                        te_planner_fail(pl, "state", "out of memory");
                        goto out;
                }
        }
        rc = 0;
out:
        free(pids);
        free(asofs);
        return rc;
}

/* Without a flush only what is delivered counts (te_planner_commit_settle): as_ofs
 * planned and target offsets are taken up to the producer's delivered sequence number, so
 * a kill -9 with messages still in the producer's queue leaves their targets uncommitted
 * (consumed again) and unrecorded. A delivery that failed stops that number for good,
 * and is fatal here as a failed flush was. */
int te_planner_commit(te_planner_t *pl, int flush)
{
        char errstr[256];
        if (!pl->dirty && !flush)
                return 0;
        if (flush && te_producer_flush(pl->producer, 30000, errstr, sizeof errstr) != 0) {
                te_planner_fail(pl, "flush", errstr);
                return -1;
        }
        if (!flush)
                te_producer_poll(pl->producer, 0); /* delivery reports */
        uint64_t failed = te_producer_failed(pl->producer);
        if (failed != pl->cs->failed_seen) {
                pl->cs->failed_seen = failed;
                te_errf(errstr, sizeof errstr, "%llu deliveries failed",
                        (unsigned long long)failed);
                te_planner_fail(pl, "delivery", errstr);
                return -1;
        }
        te_planner_commit_settle(pl);
        if (pl->fatal || (pl->db && save_state(pl, flush) != 0))
                return -1;
        rd_kafka_topic_partition_list_t *l = NULL;
        int left = te_target_queue_planned_count(pl->tq) > 0;
        for (int32_t p = 0; p < pl->n_parts && p < TE_PLANNER_MAX_PARTS; p++) {
                if (pl->cs->pending[p] >= 0) {
                        if (!l)
                                l = rd_kafka_topic_partition_list_new(8);
                        rd_kafka_topic_partition_list_add(l, pl->conf.topic_targets, p)
                            ->offset = pl->cs->pending[p];
                        pl->cs->pending[p] = -1;
                }
                left |= te_target_queue_ledger_count(pl->tq, p) > 0;
        }
        pl->dirty = left;
        if (!l)
                return 0;
        rd_kafka_resp_err_t err =
            rd_kafka_offsets_store(te_consumer_handle(pl->targets), l);
        rd_kafka_topic_partition_list_destroy(l);
        if (err)
                TE_LOG(TE_LOG_WARN, NULL, "planner.store", "%s", rd_kafka_err2str(err));
        /* a failed Kafka commit (e.g. a rebalance in progress) is not fatal: the
         * targets are consumed again and recognised as planned (DB state above) */
        te_consumer_commit(pl->targets, 1);
        return 0;
}

/* Note that a target of `portfolio_id` with `as_of` was planned (in this life, or
 * learned from commands read back): the next commit records it in the DB before it
 * records our exec.orders position past those commands. @returns 0 or -1 (OOM). */
int te_planner_commit_remember(te_planner_t *pl, const char *portfolio_id, int64_t as_of)
{
        int64_t *v = te_map_get(pl->cs->planned, portfolio_id);
        if (!v) {
                v = malloc(sizeof *v);
                if (!v || te_map_put(pl->cs->planned, portfolio_id, v) != 0) {
                        free(v);
                        return -1;
                }
                *v = as_of;
        }
        if (as_of > *v)
                *v = as_of;
        return 0;
}
