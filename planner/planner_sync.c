/*
 * planner_sync: what happens on a partition assignment — the book rebuilt for the owned
 * portfolios from the runtime DB, the planner's own commands read back from exec.orders
 * and exec.reports caught up (planner.h) — through the Kafka layer's helpers
 * (te_kafka_meta.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner_int.h"
#include "te_kafka_meta.h"
#include "te_kafka_seek.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_proc.h"

int te_planner_sync_owns(void *opaque, const char *portfolio_id)
{
        te_planner_t *pl = opaque;
        int32_t p = te_planner_partition_of(pl, portfolio_id);
        return p >= 0 && p < TE_PLANNER_MAX_PARTS && pl->owned[p];
}

static void on_report_cb(void *pl, rd_kafka_message_t *m)
{
        te_planner_target_on_report(pl, m);
}

/* An order command read back from exec.orders after a (re)start. */
static void on_own_order(void *opaque, rd_kafka_message_t *m)
{
        te_planner_t *pl = opaque;
        char errstr[256];
        if (te_codec_decode_order_cmd(pl->codec, m->payload, m->len, &pl->cmd, errstr,
                                      sizeof errstr) != TE_CODEC_OK) {
                TE_LOG(TE_LOG_WARN, NULL, "planner.bad_order", "read back: %s", errstr);
                return;
        }
        const te_order_cmd_t *o = &pl->cmd;
        pl->n_read_back++;
        /* commands of a target (not of a mode change) say its as_of was planned */
        if (o->ids.decision_id[0] &&
            (te_book_learn_as_of(pl->book, o->ids.portfolio_id, o->event_time) != 0 ||
             te_planner_commit_remember(pl, o->ids.portfolio_id, o->event_time) != 0)) {
                te_planner_fail(pl, "read back orders", "out of memory");
                return;
        }
        if (o->command == TE_CMD_NEW) {
                if (te_book_add_order(pl->book, o->order_id, o->ids.portfolio_id,
                                      o->ticker, o->side, o->quantity, 0.0,
                                      TE_OS_PENDING_NEW) != 0 ||
                    te_book_set_mode(pl->book, o->ids.portfolio_id, o->mode) != 0)
                        te_planner_fail(pl, "read back orders", "out of memory");
        } else if (o->command == TE_CMD_CANCEL || o->command == TE_CMD_REPLACE) {
                /* unconfirmed until a report read later says otherwise */
                te_book_mark_pending(pl->book, o->order_id, o->command, o->quantity, 0);
        }
}

/* A DB read of a rebuild failed. An outage (the connection is gone) is retried by the
 * loop with backoff for as long as it lasts; a refusal on a healthy connection is not an
 * outage: retried 3 times, then fatal. @returns 1 (retry) or -1 (fatal). */
static int db_failed(te_planner_t *pl, const char *what, const char *errstr)
{
        if (PQstatus(pl->db) == CONNECTION_OK && ++pl->rebuild_refusals > 3) {
                te_planner_fail(pl, what, errstr);
                return -1;
        }
        te_errf(pl->rebuild_err, sizeof pl->rebuild_err, "%s: %s", what, errstr);
        return 1;
}

/* Rebuild the book for the assignment `parts`. @returns 0, 1 when a DB read failed and
 * the rebuild must be tried again (nothing changed but `owned`), or -1 (fatal). */
/* Orders sent but perhaps not yet seen by the broker, read back: from the broker
 * group's committed offset of each owned exec.orders partition to its end.
 * own_offsets: the end of our writes at our last commit, per partition (-1: none).
 * @returns 0 or -1 (fatal, recorded). */
static int read_back_orders(te_planner_t *pl, rd_kafka_topic_partition_list_t *parts,
                            const int64_t *own_offsets)
{
        char errstr[512];
        rd_kafka_t *rk =
            te_kafka_aux_consumer(pl->cfg, pl->conf.common.bootstrap,
                                  pl->conf.broker_group, errstr, sizeof errstr);
        if (!rk) {
                te_planner_fail(pl, "orders consumer", errstr);
                return -1;
        }
        int32_t ids[TE_PLANNER_MAX_PARTS];
        int64_t from[TE_PLANNER_MAX_PARTS];
        int n = parts->cnt < TE_PLANNER_MAX_PARTS ? parts->cnt : TE_PLANNER_MAX_PARTS;
        for (int i = 0; i < n; i++)
                ids[i] = parts->elems[i].partition;
        int rc = te_kafka_committed(rk, pl->conf.topic_orders, ids, n,
                                    TE_PLANNER_META_TIMEOUT, from, errstr, sizeof errstr);
        /* from the earlier of the broker's position and the end of our writes
         * at our last commit; without a record of our writes (no commit yet, or
         * no DB) from the beginning: any command there may be ours and not yet
         * reflected in the DB */
        rd_kafka_topic_partition_list_t *ol = rd_kafka_topic_partition_list_new(n);
        for (int i = 0; rc >= 0 && i < n; i++) {
                int64_t own = ids[i] >= 0 && ids[i] < TE_PLANNER_MAX_PARTS
                                  ? own_offsets[ids[i]]
                                  : -1;
                if (from[i] < 0 || own < 0)
                        from[i] = RD_KAFKA_OFFSET_BEGINNING;
                else if (own < from[i])
                        from[i] = own;
                rd_kafka_topic_partition_list_add(ol, pl->conf.topic_orders, ids[i])
                    ->offset = from[i];
        }
        if (rc >= 0)
                rc = te_kafka_read_to_end(rk, ol, (int)pl->conf.catchup_timeout_ms,
                                          on_own_order, pl, errstr, sizeof errstr);
        rd_kafka_topic_partition_list_destroy(ol);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        if (rc != 0)
                te_planner_fail(pl, "read back orders", errstr);
        return rc != 0 ? -1 : 0;
}

/* exec.reports of the owned partitions read from the sink's committed offsets
 * (offsets, per partition; -1: the beginning) to their end. @returns 0 or -1 (fatal,
 * recorded). */
static int catch_up_reports(te_planner_t *pl, rd_kafka_topic_partition_list_t *parts,
                            const int64_t *offsets)
{
        char errstr[512];
        rd_kafka_topic_partition_list_t *rp =
            rd_kafka_topic_partition_list_new(parts->cnt);
        for (int i = 0; i < parts->cnt; i++) {
                int32_t p = parts->elems[i].partition;
                int64_t off = (p >= 0 && p < TE_PLANNER_MAX_PARTS && offsets[p] >= 0)
                                  ? offsets[p]
                                  : RD_KAFKA_OFFSET_BEGINNING;
                rd_kafka_topic_partition_list_add(rp, pl->conf.topic_reports, p)->offset =
                    off;
        }
        pl->catching_up = 1; /* broker states of the past: no alert for each */
        int rc = te_kafka_read_to_end(pl->reports, rp, (int)pl->conf.catchup_timeout_ms,
                                      on_report_cb, pl, errstr, sizeof errstr);
        pl->catching_up = 0;
        rd_kafka_topic_partition_list_destroy(rp);
        if (rc != 0)
                te_planner_fail(pl, "catch up reports", errstr);
        return rc != 0 ? -1 : 0;
}

static void log_assigned(const te_planner_t *pl,
                         const rd_kafka_topic_partition_list_t *parts)
{
        char plist[256] = "";
        for (int i = 0, o = 0; i < parts->cnt; i++) {
                int w = snprintf(plist + o, sizeof plist - (size_t)o, "%s%d",
                                 i ? "," : "", (int)parts->elems[i].partition);
                if (w < 0 || (size_t)w >= sizeof plist - (size_t)o)
                        break; /* the list is cut; the count says how many */
                o += w;
        }
        TE_LOG(
            TE_LOG_INFO, NULL, "planner.assigned",
            "%d partitions [%s]; book rebuilt with %zu orders; %llu commands read back",
            parts->cnt, plist, te_book_order_count(pl->book),
            (unsigned long long)pl->n_read_back);
}

static int rebuild(te_planner_t *pl, rd_kafka_topic_partition_list_t *parts)
{
        char errstr[512];
        int64_t offsets[TE_PLANNER_MAX_PARTS];
        te_book_t *nb = te_book_new();
        if (!nb || te_book_set_tombstones(nb, (size_t)pl->conf.book_tombstones) != 0) {
                te_book_destroy(nb);
                te_planner_fail(pl, "rebalance", "out of memory");
                return -1;
        }
        memset(pl->owned, 0, sizeof pl->owned);
        for (int i = 0; i < parts->cnt; i++)
                if (parts->elems[i].partition >= 0 &&
                    parts->elems[i].partition < TE_PLANNER_MAX_PARTS)
                        pl->owned[parts->elems[i].partition] = 1;
        for (size_t i = 0; i < TE_PLANNER_MAX_PARTS; i++)
                offsets[i] = -1;
        if (pl->db &&
            te_planner_db_load(pl->db, pl->conf.sink_group, pl->conf.topic_reports,
                               te_planner_sync_owns, pl, nb, offsets,
                               TE_PLANNER_MAX_PARTS, errstr, sizeof errstr) != 0) {
                te_book_destroy(nb);
                return db_failed(pl, "rebuild from DB", errstr);
        }
        int64_t own_offsets[TE_PLANNER_MAX_PARTS];
        for (size_t i = 0; i < TE_PLANNER_MAX_PARTS; i++)
                own_offsets[i] = -1;
        if (pl->db &&
            te_planner_db_state_load(pl->db, pl->conf.group_id, pl->conf.topic_orders,
                                     te_planner_sync_owns, pl, nb, own_offsets,
                                     TE_PLANNER_MAX_PARTS, errstr, sizeof errstr) != 0) {
                te_book_destroy(nb);
                return db_failed(pl, "planner state from DB", errstr);
        }
        te_book_destroy(pl->book);
        pl->book = nb;
        te_planner_target_bars_refresh(pl, te_proc_mono_ms(), 1);
        pl->n_read_back = 0;
        te_map_destroy(
            pl->last, te_planner_target_free_copy); /* only this life's targets re-plan */
        pl->last = te_map_new();
        if (!pl->last) {
                te_planner_fail(pl, "rebalance", "out of memory");
                return -1;
        }

        if (pl->conf.broker_group[0] && read_back_orders(pl, parts, own_offsets) != 0)
                return -1;
        if (catch_up_reports(pl, parts, offsets) != 0)
                return -1;
        log_assigned(pl, parts);
        te_planner_target_hold_caught_up(pl);
        /* a level set while nobody owned these portfolios acts now */
        return te_planner_mode_act(pl, NULL, 0);
}

/* Pause or resume every partition of the pending assignment. */
static void pause_assigned(te_planner_t *pl, int pause)
{
        rd_kafka_t *rk = te_consumer_handle(pl->targets);
        rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(rk, pl->assigned)
                                        : rd_kafka_resume_partitions(rk, pl->assigned);
        if (err)
                TE_LOG(TE_LOG_WARN, NULL, "planner.pause", "%s: %s",
                       pause ? "pause" : "resume", rd_kafka_err2str(err));
        pl->assigned_paused = pause;
}

void te_planner_sync_put_back(te_planner_t *pl, const rd_kafka_message_t *m)
{
        rd_kafka_t *rk = te_consumer_handle(pl->targets);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)
            ->offset = m->offset;
        if (!pl->assigned_paused)
                pause_assigned(pl, 1);
        rd_kafka_error_t *e = te_kafka_seek_partitions(rk, l, 5000);
        if (e) {
                /* not consumed, not committed: a restart or the next owner reads it */
                TE_LOG(TE_LOG_ERROR, NULL, "planner.seek", "%s[%d] back to %lld: %s",
                       rd_kafka_topic_name(m->rkt), (int)m->partition,
                       (long long)m->offset, rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
        }
        rd_kafka_topic_partition_list_destroy(l);
}

int te_planner_sync_rebuild_step(te_planner_t *pl, int64_t now)
{
        if (now < pl->rebuild_at)
                return 1;
        if (pl->db && PQstatus(pl->db) != CONNECTION_OK)
                PQreset(pl->db); /* lost in an earlier outage: try a new one first */
        int r = rebuild(pl, pl->assigned);
        if (r < 0)
                return -1;
        if (r > 0) {
                /* no target is consumed meanwhile: the assignment stays paused */
                if (!pl->assigned_paused)
                        pause_assigned(pl, 1);
                te_obs_ready("db", 0);
                TE_LOG(TE_LOG_ERROR, NULL, "planner.db_retry",
                       "rebuild: %s; targets paused, retry in %lld ms", pl->rebuild_err,
                       (long long)pl->rebuild_delay);
                pl->rebuild_at = now + pl->rebuild_delay;
                pl->rebuild_delay =
                    pl->rebuild_delay * 2 > 5000 ? 5000 : pl->rebuild_delay * 2;
                return 1;
        }
        if (pl->rebuild_delay > 50) /* it had failed */
                TE_LOG(TE_LOG_WARN, NULL, "planner.db_reconnected",
                       "rebuild done after the DB came back; targets resumed");
        if (pl->db)
                te_obs_ready("db", 1);
        /* always: a partition paused under an earlier assignment of this consumer
         * stays paused when it is assigned again */
        pause_assigned(pl, 0);
        rd_kafka_topic_partition_list_destroy(pl->assigned);
        pl->assigned = NULL;
        return 0;
}

void te_planner_sync_on_rebalance(te_consumer_t *c,
                                  rd_kafka_topic_partition_list_t *parts, int assigned,
                                  void *opaque)
{
        te_planner_t *pl = opaque;
        (void)c;
        if (!assigned) {
                /* hand over only what is delivered and committed: the targets in
                 * flight or held are not, the next owner consumes them */
                if (!pl->fatal)
                        te_planner_commit(pl, 1);
                te_planner_target_drop_in_flight(pl);
                te_target_queue_clear_ledger(pl->tq);
                te_target_queue_clear_planned(pl->tq);
                pl->dirty = 0;
                rd_kafka_assign(pl->reports, NULL);
                memset(pl->owned, 0, sizeof pl->owned);
                /* held targets were not committed */
                if (te_planner_hold_reset(pl->hold) != 0)
                        te_planner_fail(pl, "hold", "out of memory");
                if (pl->assigned)
                        rd_kafka_topic_partition_list_destroy(pl->assigned);
                pl->assigned = NULL; /* its rebuild is moot */
                return;
        }
        te_target_queue_clear_ledger(pl->tq);
        te_planner_commit_reset(pl);
        /* the rebuild runs in the loop (te_planner_sync_rebuild_step), which can wait for
         * the DB without blocking the consumer: nothing is planned before it is done */
        if (pl->assigned)
                rd_kafka_topic_partition_list_destroy(pl->assigned);
        pl->assigned = rd_kafka_topic_partition_list_copy(parts);
        pl->assigned_paused = 0;
        pl->rebuild_at = 0;
        pl->rebuild_delay = 50;
        pl->rebuild_refusals = 0;
        if (!pl->assigned)
                te_planner_fail(pl, "rebalance", "out of memory");
}
