/*
 * planner: the exec-planner's life cycle and loop — build, poll targets, act on mode
 * changes, flush then commit — over the modules in planner_int.h.
 */
#include "planner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "planner_int.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_pg.h"
#include "te_proc.h"

void te_pl_fail(te_planner_t *pl, const char *what, const char *why)
{
        TE_LOG(TE_LOG_ERROR, NULL, "planner.fatal", "%s: %s", what, why);
        pl->fatal = 1;
        te_proc_stop = 1;
}

/* Delivery reports (te_kafka.h): the end of our delivered writes to each exec.orders
 * partition and the sequence number of the last one (no watermark query needed). */
static void on_delivered(void *opaque, const rd_kafka_message_t *m, uint64_t seq)
{
        te_planner_t *pl = opaque;
        int32_t p = m->partition;
        if (p < 0 || p >= TE_PL_MAX_PARTS || m->offset < 0 ||
            m->offset + 1 <= pl->orders_end[p] ||
            strcmp(rd_kafka_topic_name(m->rkt), pl->conf.topic_orders) != 0)
                return;
        pl->orders_end[p] = m->offset + 1;
        pl->orders_seq[p] = seq;
}

void te_pl_orders_reset(te_planner_t *pl)
{
        for (int i = 0; i < TE_PL_MAX_PARTS; i++) {
                pl->orders_end[i] = pl->orders_cp_end[i] = pl->orders_saved[i] = -1;
                pl->orders_seq[i] = pl->orders_cp_seq[i] = 0;
        }
}

void te_pl_settle(te_planner_t *pl)
{
        uint64_t delivered = te_producer_delivered_seq(pl->producer);
        const char *pid;
        int64_t as_of;
        uint64_t seq;
        while (te_tq_pop_planned(pl->tq, delivered, &pid, &as_of, &seq)) {
                if (te_pl_remember_planned(pl, pid, as_of) != 0) {
                        te_pl_fail(pl, "state", "out of memory");
                        return;
                }
                pl->planned_seq = seq;
        }
        for (int32_t p = 0; p < pl->n_parts && p < TE_PL_MAX_PARTS; p++) {
                int64_t off = te_tq_committable(pl->tq, p, delivered);
                if (off >= 0)
                        pl->pending[p] = off;
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
        if (flushed || pl->orders_seq[p] <= pl->planned_seq)
                end = pl->orders_end[p];
        else if (pl->orders_cp_seq[p] <= pl->planned_seq)
                end = pl->orders_cp_end[p];
        pl->orders_cp_end[p] = pl->orders_end[p];
        pl->orders_cp_seq[p] = pl->orders_seq[p];
        return end > pl->orders_saved[p] ? end : -1;
}

/* Record in the DB the portfolios planned (and delivered) since the last save and the
 * end of our writes to each owned exec.orders partition (0002_planner.sql).
 *
 * Why that is enough after a kill -9, without a flush: every as_of saved is that of a
 * target whose commands are all delivered (te_tq_pop_planned), and so are those of the
 * targets before it of the same portfolio (one lane each, planned in order). The orders
 * offset saved covers only messages at or before planned_seq (orders_due), so every
 * command before it belongs to a target whose as_of is saved with it, to a mode change,
 * or is the CLOCK of a target not planned yet (consumed again: no target offset is
 * committed past it) — as after the flush this used to do. Commands after it are read
 * back on the next assignment (planner_sync.c), as before. */
static int save_state(te_planner_t *pl, int flushed)
{
        char errstr[512];
        size_t n_pf = te_map_count(pl->planned), k = 0, it = 0;
        const char **pids = calloc(n_pf ? n_pf : 1, sizeof *pids);
        int64_t *asofs = calloc(n_pf ? n_pf : 1, sizeof *asofs);
        int32_t parts[TE_PL_MAX_PARTS];
        int64_t offs[TE_PL_MAX_PARTS];
        size_t n_off = 0;
        int rc = -1;
        const char *key;
        void *v;
        if (!pids || !asofs) {
                te_pl_fail(pl, "state", "out of memory");
                goto out;
        }
        while (te_map_next(pl->planned, &it, &key, &v) && k < n_pf) {
                pids[k] = key;
                asofs[k++] = *(int64_t *)v;
        }
        for (int32_t p = 0; p < pl->n_parts && p < TE_PL_MAX_PARTS; p++) {
                /* only this instance writes the partitions it te_pl_owns */
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
                        te_pl_fail(pl, "save state", errstr);
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
                pl->orders_saved[parts[i]] = offs[i];
        if (k) {
                te_map_destroy(pl->planned, free);
                pl->planned = te_map_new();
                if (!pl->planned) {
                        te_pl_fail(pl, "state", "out of memory");
                        goto out;
                }
        }
        rc = 0;
out:
        free(pids);
        free(asofs);
        return rc;
}

/* Without a flush only what is delivered counts (te_pl_settle): as_ofs planned and
 * target offsets are taken up to the producer's delivered sequence number, so a kill -9
 * with messages still in the producer's queue leaves their targets uncommitted
 * (consumed again) and unrecorded. A delivery that failed stops that number for good,
 * and is fatal here as a failed flush was. */
int te_pl_commit(te_planner_t *pl, int flush)
{
        char errstr[256];
        if (!pl->dirty && !flush)
                return 0;
        if (flush && te_producer_flush(pl->producer, 30000, errstr, sizeof errstr) != 0) {
                te_pl_fail(pl, "flush", errstr);
                return -1;
        }
        if (!flush)
                te_producer_poll(pl->producer, 0); /* delivery reports */
        uint64_t failed = te_producer_failed(pl->producer);
        if (failed != pl->failed_seen) {
                pl->failed_seen = failed;
                te_errf(errstr, sizeof errstr, "%llu deliveries failed",
                        (unsigned long long)failed);
                te_pl_fail(pl, "delivery", errstr);
                return -1;
        }
        te_pl_settle(pl);
        if (pl->fatal || (pl->db && save_state(pl, flush) != 0))
                return -1;
        rd_kafka_topic_partition_list_t *l = NULL;
        int left = te_tq_planned_count(pl->tq) > 0;
        for (int32_t p = 0; p < pl->n_parts && p < TE_PL_MAX_PARTS; p++) {
                if (pl->pending[p] >= 0) {
                        if (!l)
                                l = rd_kafka_topic_partition_list_new(8);
                        rd_kafka_topic_partition_list_add(l, pl->conf.topic_targets, p)
                            ->offset = pl->pending[p];
                        pl->pending[p] = -1;
                }
                left |= te_tq_ledger_count(pl->tq, p) > 0;
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

/* ---- life cycle ------------------------------------------------------------------ */

/* Connect to the runtime DB and migrate it. While the server cannot be reached, retry
 * with backoff (50 ms doubling to 5 s) until stopped: the planner joins its group only
 * once it can rebuild. A migration refused by a reachable server is fatal.
 * @returns 0, or -1 with errstr. */
static int connect_db(te_planner_t *pl, char *errstr, size_t errstr_size)
{
        int64_t delay = 50;
        for (;;) {
                pl->db = te_pg_connect(pl->conf.common.db_conninfo, errstr, errstr_size);
                if (pl->db && te_pg_migrate(pl->db, errstr, errstr_size) >= 0)
                        return 0;
                if (pl->db && PQstatus(pl->db) == CONNECTION_OK)
                        return -1;
                if (pl->db) {
                        PQfinish(pl->db);
                        pl->db = NULL;
                }
                te_obs_ready("db", 0);
                TE_LOG(TE_LOG_ERROR, NULL, "planner.db_retry",
                       "connect: %s; retry in %lld ms", errstr, (long long)delay);
                for (int64_t end = te_proc_mono_ms() + delay;
                     !te_proc_stop && te_proc_mono_ms() < end;) {
                        struct timespec ts = {0, 20 * 1000000};
                        nanosleep(&ts, NULL);
                }
                if (te_proc_stop)
                        return -1;
                delay = delay * 2 > 5000 ? 5000 : delay * 2;
        }
}

te_planner_t *te_planner_new(const te_planner_conf_t *conf, const te_cfg_t *cfg,
                             char *errstr, size_t errstr_size)
{
        te_planner_t *pl = calloc(1, sizeof *pl);
        if (!pl) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pl->conf = *conf;
        pl->cfg = cfg;
        for (int i = 0; i < TE_PL_MAX_PARTS; i++)
                pl->pending[i] = -1;
        te_pl_orders_reset(pl);
        te_buf_init(&pl->buf, TE_CODEC_MAX_MESSAGE);
        pl->plan = conf->plan;
        pl->plan.rules = NULL; /* set below */
        /* the plan.* settings as a rule: the base every rules-file line builds on */
        const te_plan_cfg_t *pc = &conf->plan;
        const te_plan_rule_t base = {
            pc->lot_size,         pc->min_qty,        pc->min_notional, pc->max_qty,
            pc->max_notional,     pc->fractional,     pc->order_type,   pc->tif,
            pc->limit_offset_bps, pc->stop_offset_bps};
        {
                char why[256];
                if (te_plan_rule_check(&base, why, sizeof why) != 0) {
                        snprintf(errstr, errstr_size, "plan.%s", why);
                        goto err;
                }
        }
        pl->rules = te_plan_rules_new();
        pl->book = te_book_new();
        pl->ws = te_plan_ws_new(TE_PL_MAX_ORDERS);
        pl->levels = te_modes_new();
        pl->planned = te_map_new();
        pl->last = te_map_new();
        pl->tq = te_tq_new();
        pl->emergency_wait = te_map_new();
        pl->codec = te_codec_new(errstr, errstr_size);
        if (!pl->rules || !pl->book || !pl->ws || !pl->levels || !pl->planned ||
            !pl->last || !pl->tq || !pl->emergency_wait || !pl->codec ||
            te_pl_hold_init(pl) != 0) {
                if (pl->codec)
                        snprintf(errstr, errstr_size, "out of memory");
                goto err;
        }
        te_book_set_tombstones(pl->book, (size_t)conf->book_tombstones); /* no alloc */
        if (conf->rules_file[0] &&
            te_plan_rules_load(pl->rules, conf->rules_file, errstr, errstr_size) != 0)
                goto err;
        /* a line that can never produce an order is refused now, not at the first
         * target it would apply to */
        if (te_plan_rules_check(pl->rules, &base, errstr, errstr_size) != 0)
                goto err;
        pl->plan.rules = pl->rules;
        if (conf->db_enabled) {
                if (connect_db(pl, errstr, errstr_size) != 0)
                        goto err;
                te_obs_ready("db", 1);
                pl->prices = te_price_cache_new(pl->db);
                if (!pl->prices) {
                        snprintf(errstr, errstr_size, "out of memory");
                        goto err;
                }
        }
        pl->producer = te_producer_new(cfg, conf->common.bootstrap, errstr, errstr_size);
        if (!pl->producer)
                goto err;
        pl->emit =
            (te_emitter_t){.producer = pl->producer,
                           .codec = pl->codec,
                           .topics = {pl->conf.topic_deadletter, pl->conf.topic_alerts},
                           .proc = TE_PL_PROC};
        te_producer_set_delivery_hook(pl->producer, on_delivered, pl);
        pl->n_parts = te_pl_partition_count(te_producer_handle(pl->producer),
                                            conf->topic_targets, errstr, errstr_size);
        /* co-partitioning is the contract; also warms the producer's metadata for the
         * orders topic so the first order does not wait for it */
        if (pl->n_parts > 0) {
                int32_t n_orders =
                    te_pl_partition_count(te_producer_handle(pl->producer),
                                          conf->topic_orders, errstr, errstr_size);
                if (n_orders != pl->n_parts) {
                        if (n_orders > 0)
                                snprintf(errstr, errstr_size,
                                         "%s has %d partitions and %s %d: they must be "
                                         "co-partitioned",
                                         conf->topic_targets, (int)pl->n_parts,
                                         conf->topic_orders, (int)n_orders);
                        goto err;
                }
        }
        if (pl->n_parts <= 0 || pl->n_parts > TE_PL_MAX_PARTS) {
                if (pl->n_parts > TE_PL_MAX_PARTS)
                        snprintf(errstr, errstr_size, "%s: more than %d partitions",
                                 conf->topic_targets, TE_PL_MAX_PARTS);
                goto err;
        }
        {
                char group[160];
                snprintf(group, sizeof group, "%s.reports", conf->group_id);
                pl->reports = te_pl_aux_consumer(pl, group, errstr, errstr_size);
                if (!pl->reports)
                        goto err;
        }
        if (conf->mode_enabled) {
                /* the whole of exec.mode, read to its end before any target */
                char group[160];
                snprintf(group, sizeof group, "%s.mode", conf->group_id);
                pl->modes = te_pl_aux_consumer(pl, group, errstr, errstr_size);
                if (!pl->modes)
                        goto err;
                int32_t np = te_pl_partition_count(pl->modes, conf->topic_mode, errstr,
                                                   errstr_size);
                if (np <= 0 || np > TE_PL_MAX_PARTS)
                        goto err;
                rd_kafka_topic_partition_list_t *l =
                    rd_kafka_topic_partition_list_new(np);
                for (int32_t p = 0; p < np; p++)
                        rd_kafka_topic_partition_list_add(l, conf->topic_mode, p)
                            ->offset = RD_KAFKA_OFFSET_BEGINNING;
                int rc = te_pl_read_to_end(pl, pl->modes, l, te_pl_on_mode_startup,
                                           errstr, errstr_size);
                rd_kafka_topic_partition_list_destroy(l);
                if (rc != 0)
                        goto err;
        }
        const char *topics[] = {conf->topic_targets};
        pl->targets = te_consumer_new(cfg, conf->common.bootstrap, conf->group_id, topics,
                                      1, te_pl_on_rebalance, pl, errstr, errstr_size);
        if (!pl->targets)
                goto err;
        return pl;
err:
        te_planner_destroy(pl);
        return NULL;
}

int te_planner_run(te_planner_t *pl)
{
        TE_LOG(TE_LOG_INFO, NULL, "planner.start",
               "group=%s targets=%s orders=%s parts=%d", pl->conf.group_id,
               pl->conf.topic_targets, pl->conf.topic_orders, (int)pl->n_parts);
        int64_t last_commit = te_proc_mono_ms(), last_modes = 0, last_dr_poll = 0;
        while (!te_proc_stop) {
                /* while CLOCKs wait for their ACKs, targets and reports take turns
                 * without blocking long on either */
                int waiting = te_tq_waiting(pl->tq) > 0;
                int full = te_tq_count(pl->tq) >= TE_PL_MAX_INFLIGHT;
                rd_kafka_message_t *m =
                    full ? NULL : te_consumer_poll(pl->targets, waiting ? 0 : 50);
                if (pl->fatal) {
                        if (m)
                                rd_kafka_message_destroy(m);
                        break;
                }
                pl->now_ns = te_proc_mono_ns(); /* one clock read per turn */
                int64_t now = pl->now_ns / 1000000;
                if (pl->assigned) { /* nothing is planned before the rebuild */
                        if (m) {
                                te_pl_put_back(pl, m);
                                rd_kafka_message_destroy(m);
                                m = NULL;
                        }
                        int r = te_pl_rebuild_step(pl, now);
                        if (r < 0)
                                break;
                        if (r > 0) {
                                te_producer_poll(pl->producer, 0);
                                continue;
                        }
                }
                /* exec.mode is read when idle and at most every 10 ms while busy */
                if (!m || now - last_modes >= 10) {
                        te_pl_drain_modes(pl);
                        last_modes = now;
                }
                if (m) {
                        if (!pl->st.first_target_ms) {
                                pl->st.first_target_ms = now;
                                /* no commit right behind the first target of a burst */
                                last_commit = now;
                        }
                        /* in the ledger until finished: the position waits for it */
                        if (te_tq_consumed(pl->tq, m->partition, m->offset) != 0) {
                                TE_LOG(TE_LOG_ERROR, NULL, "planner.ledger",
                                       "%s[%d]@%lld: not after the last target consumed",
                                       rd_kafka_topic_name(m->rkt), (int)m->partition,
                                       (long long)m->offset);
                                rd_kafka_message_destroy(m);
                                te_pl_fail(pl, "ledger", "target offsets out of order");
                                break;
                        }
                        pl->dirty = 1;
                        if (te_pl_on_target(pl, m, now, 1) < 0)
                                break;
                        pl->st.last_target_ms = now;
                        if (waiting)
                                te_pl_drain_reports(pl, now, 0);
                } else {
                        if (!waiting)
                                pl->st.idle_polls++;
                        te_pl_drain_reports(pl, now, waiting ? 1 : 0);
                }
                if (te_pl_after_reports(pl, now) != 0)
                        break;
                if (pl->release_due && te_pl_release(pl, now) != 0)
                        break;
                /* delivery reports: when idle, else once a ms (te_producer_send
                 * serves them too, every so many sends) */
                if (!m || now != last_dr_poll) {
                        te_producer_poll(pl->producer, 0);
                        last_dr_poll = now;
                }
                if (now >= pl->next_settle) { /* keeps the queues in flight short */
                        te_pl_settle(pl);
                        pl->next_settle = now + 2;
                }
                if (pl->dirty && now - last_commit >= pl->conf.commit_interval_ms) {
                        if (te_pl_commit(pl, 0) != 0)
                                break;
                        last_commit = now;
                }
        }
        if (!pl->fatal && te_pl_commit(pl, 1) != 0)
                pl->fatal = 1;
        TE_LOG(
            TE_LOG_INFO, NULL, "planner.stop",
            "targets=%llu orders=%llu cancels=%llu dead_lettered=%llu reports=%llu "
            "illegal=%llu skipped_known=%llu replayed=%llu halted=%llu mode_changes=%llu "
            "bad_modes=%llu held=%llu superseded=%llu released=%llu replaces=%llu "
            "replans=%llu confirm_overdue=%llu db_waits=%llu idle_polls=%llu "
            "book_orders=%zu book_dropped=%llu rerouted=%llu first_to_last_ms=%lld",
            (unsigned long long)pl->st.targets, (unsigned long long)pl->st.orders,
            (unsigned long long)pl->st.cancels, (unsigned long long)pl->st.dead_lettered,
            (unsigned long long)pl->st.reports,
            (unsigned long long)te_book_illegal_count(pl->book),
            (unsigned long long)pl->st.skipped_known, (unsigned long long)pl->st.replayed,
            (unsigned long long)pl->st.halted, (unsigned long long)pl->st.mode_changes,
            (unsigned long long)pl->st.bad_modes, (unsigned long long)pl->st.held,
            (unsigned long long)pl->st.superseded, (unsigned long long)pl->st.released,
            (unsigned long long)pl->st.replaces, (unsigned long long)pl->st.replans,
            (unsigned long long)pl->st.confirm_overdue,
            (unsigned long long)pl->st.db_waits, (unsigned long long)pl->st.idle_polls,
            te_book_order_count(pl->book),
            (unsigned long long)te_book_dropped_count(pl->book),
            (unsigned long long)pl->st.rerouted,
            (long long)(pl->st.last_target_ms - pl->st.first_target_ms));
        return pl->fatal ? -1 : 0;
}

void te_planner_destroy(te_planner_t *pl)
{
        if (!pl)
                return;
        te_pl_hold_term(pl); /* its messages go before their consumer */
        if (pl->tq)
                te_pl_drop_in_flight(pl);
        te_consumer_destroy(pl->targets);
        te_tq_destroy(pl->tq, NULL);
        if (pl->assigned)
                rd_kafka_topic_partition_list_destroy(pl->assigned);
        if (pl->reports) {
                rd_kafka_consumer_close(pl->reports);
                rd_kafka_destroy(pl->reports);
        }
        if (pl->modes) {
                rd_kafka_consumer_close(pl->modes);
                rd_kafka_destroy(pl->modes);
        }
        te_producer_destroy(pl->producer);
        te_price_cache_destroy(pl->prices);
        if (pl->db)
                PQfinish(pl->db);
        te_book_destroy(pl->book);
        te_plan_ws_destroy(pl->ws);
        te_modes_destroy(pl->levels);
        te_map_destroy(pl->planned, free);
        te_map_destroy(pl->last, te_pl_free_target);
        te_map_destroy(pl->emergency_wait, free);
        te_map_destroy(pl->rerouted_alerted, free);
        te_plan_rules_destroy(pl->rules);
        te_codec_destroy(pl->codec);
        te_buf_free(&pl->buf);
        free(pl->ready);
        free(pl->stalled);
        free(pl);
}

const te_planner_stats_t *te_planner_stats(const te_planner_t *pl)
{
        return &pl->st;
}

uint64_t te_planner_illegal_count(const te_planner_t *pl)
{
        return te_book_illegal_count(pl->book);
}
