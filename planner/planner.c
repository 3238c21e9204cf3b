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
#include "te_kafka_meta.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_pg.h"
#include "te_proc.h"

/* ---- life cycle ------------------------------------------------------------------ */

/* Connect to the runtime DB and migrate it. While the server cannot be reached, retry
 * with backoff (50 ms doubling to 5 s) until stopped: the planner joins its group only
 * once it can rebuild. A migration refused by a reachable server is fatal.
 * @returns 0, or -1 with errstr. */
static int connect_db(te_planner_t *pl, char *errstr, size_t errsz)
{
        int64_t delay = 50;
        for (;;) {
                pl->db = te_pg_connect(pl->conf.common.db_conninfo, errstr, errsz);
                if (pl->db && te_pg_migrate(pl->db, errstr, errsz) >= 0)
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

static void free_message(void *m)
{
        rd_kafka_message_destroy(m);
}

/* The planner's parts, its rules (the plan.* settings as the base rule every
 * rules-file line builds on) and its database. @returns 0 or -1 with errstr. */
static int make_parts(te_planner_t *pl, const te_planner_conf_t *conf, char *errstr,
                      size_t errsz)
{
        const te_plan_rules_rule_t base = te_order_plan_base_rule(&conf->plan);
        {
                char why[256];
                if (te_plan_rules_check_rule(&base, why, sizeof why) != 0) {
                        snprintf(errstr, errsz, "plan.%s", why);
                        return -1;
                }
        }
        pl->rules = te_plan_rules_new();
        pl->book = te_book_new();
        pl->ws = te_order_plan_ws_new(TE_PLANNER_MAX_ORDERS);
        pl->mode = te_planner_mode_new();
        pl->cs = te_planner_commit_new();
        pl->ts = te_planner_target_new();
        pl->last = te_map_new();
        pl->tq = te_target_queue_new();
        pl->codec = te_codec_new(errstr, errsz);
        if (!pl->rules || !pl->book || !pl->ws || !pl->mode || !pl->cs || !pl->ts ||
            !pl->last || !pl->tq || !pl->codec ||
            !(pl->hold = te_planner_hold_new(pl->conf.plan.route, free_message))) {
                if (pl->codec)
                        snprintf(errstr, errsz, "out of memory");
                return -1;
        }
        te_book_set_tombstones(pl->book, (size_t)conf->book_tombstones); /* no alloc */
        if (conf->rules_file[0] &&
            te_plan_rules_load(pl->rules, conf->rules_file, errstr, errsz) != 0)
                return -1;
        /* a line that can never produce an order is refused now, not at the first
         * target it would apply to */
        if (te_plan_rules_check(pl->rules, &base, errstr, errsz) != 0)
                return -1;
        pl->plan.rules = pl->rules;
        if (conf->db_enabled) {
                if (connect_db(pl, errstr, errsz) != 0)
                        return -1;
                te_obs_ready("db", 1);
                pl->prices = te_planner_db_prices_new(pl->db);
                if (!pl->prices) {
                        snprintf(errstr, errsz, "out of memory");
                        return -1;
                }
        }
        return 0;
}

/* The producer, the emitter and the re-router; the partition counts checked.
 * @returns 0 or -1 with errstr. */
static int open_producer(te_planner_t *pl, const te_planner_conf_t *conf,
                         const te_cfg_t *cfg, char *errstr, size_t errsz)
{
        pl->producer = te_producer_new(cfg, conf->common.bootstrap, errstr, errsz);
        if (!pl->producer)
                return -1;
        pl->emit =
            (te_emitter_t){.producer = pl->producer,
                           .codec = pl->codec,
                           .topics = {pl->conf.topic_deadletter, pl->conf.topic_alerts},
                           .proc = TE_PLANNER_PROC};
        te_producer_set_delivery_hook(pl->producer, te_planner_commit_on_delivered, pl);
        pl->route = te_planner_route_new(&pl->emit, pl->conf.topic_targets);
        if (!pl->route) {
                snprintf(errstr, errsz, "out of memory");
                return -1;
        }
        /* co-partitioning is the contract; asking by name also warms the producer's
         * metadata for the orders topic so the first order does not wait for it */
        rd_kafka_t *prk = te_producer_handle(pl->producer);
        int32_t n_orders = -1;
        if (te_kafka_partition_count(prk, conf->topic_targets, TE_KAFKA_META_BY_NAME,
                                     TE_PLANNER_META_TIMEOUT, &pl->n_parts, errstr,
                                     errsz) != 0 ||
            te_kafka_partition_count(prk, conf->topic_orders, TE_KAFKA_META_BY_NAME,
                                     TE_PLANNER_META_TIMEOUT, &n_orders, errstr,
                                     errsz) != 0)
                return -1;
        if (n_orders != pl->n_parts) {
                snprintf(errstr, errsz,
                         "%s has %d partitions and %s %d: they must be co-partitioned",
                         conf->topic_targets, (int)pl->n_parts, conf->topic_orders,
                         (int)n_orders);
                return -1;
        }
        if (pl->n_parts > TE_PLANNER_MAX_PARTS) {
                snprintf(errstr, errsz, "%s: more than %d partitions",
                         conf->topic_targets, TE_PLANNER_MAX_PARTS);
                return -1;
        }
        return 0;
}

/* exec.mode read whole, to its end, before any target. @returns 0 or -1 with
 * errstr. */
static int read_modes(te_planner_t *pl, const te_planner_conf_t *conf,
                      const te_cfg_t *cfg, char *errstr, size_t errsz)
{
        char group[160];
        snprintf(group, sizeof group, "%s.mode", conf->group_id);
        pl->modes =
            te_kafka_aux_consumer(cfg, conf->common.bootstrap, group, errstr, errsz);
        if (!pl->modes)
                return -1;
        int32_t np = 0;
        if (te_kafka_partition_count(pl->modes, conf->topic_mode, TE_KAFKA_META_BY_NAME,
                                     TE_PLANNER_META_TIMEOUT, &np, errstr, errsz) != 0 ||
            np > TE_PLANNER_MAX_PARTS)
                return -1;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
        for (int32_t p = 0; p < np; p++)
                rd_kafka_topic_partition_list_add(l, conf->topic_mode, p)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        int rc = te_kafka_read_to_end(pl->modes, l, (int)conf->catchup_timeout_ms,
                                      te_planner_mode_on_startup, pl, errstr, errsz);
        rd_kafka_topic_partition_list_destroy(l);
        return rc;
}

te_planner_t *te_planner_new(const te_planner_conf_t *conf, const te_cfg_t *cfg,
                             char *errstr, size_t errsz)
{
        te_planner_t *pl = calloc(1, sizeof *pl);
        if (!pl) {
                snprintf(errstr, errsz, "out of memory");
                return NULL;
        }
        pl->conf = *conf;
        pl->cfg = cfg;
        te_buf_init(&pl->buf, TE_CODEC_MAX_MESSAGE);
        pl->plan = conf->plan;
        pl->plan.rules = NULL; /* set below */
        if (make_parts(pl, conf, errstr, errsz) != 0 ||
            open_producer(pl, conf, cfg, errstr, errsz) != 0)
                goto err;
        {
                char group[160];
                snprintf(group, sizeof group, "%s.reports", conf->group_id);
                pl->reports = te_kafka_aux_consumer(cfg, conf->common.bootstrap, group,
                                                    errstr, errsz);
                if (!pl->reports)
                        goto err;
        }
        if (conf->mode_enabled && read_modes(pl, conf, cfg, errstr, errsz) != 0)
                goto err;
        const char *topics[] = {conf->topic_targets};
        pl->targets = te_consumer_new(cfg, conf->common.bootstrap, conf->group_id, topics,
                                      1, te_planner_sync_on_rebalance, pl, errstr, errsz);
        if (!pl->targets)
                goto err;
        return pl;
err:
        te_planner_destroy(pl);
        return NULL;
}

/* The run's counters, once at the end. */
static void log_stop(const te_planner_t *pl)
{
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
}

/* A target consumed: recorded in the ledger and planned (or held); with CLOCKs
 * waiting, the reports are drained after it. @returns 0 or -1 (stop). */
static int on_target(te_planner_t *pl, rd_kafka_message_t *m, int64_t now, int waiting,
                     int64_t *last_commit)
{
        if (!pl->st.first_target_ms) {
                pl->st.first_target_ms = now;
                /* no commit right behind the first target of a burst */
                *last_commit = now;
        }
        /* in the ledger until finished: the position waits for it */
        if (te_target_queue_consumed(pl->tq, m->partition, m->offset) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "planner.ledger",
                       "%s[%d]@%lld: not after the last target consumed",
                       rd_kafka_topic_name(m->rkt), (int)m->partition,
                       (long long)m->offset);
                rd_kafka_message_destroy(m);
                te_planner_fail(pl, "ledger", "target offsets out of order");
                return -1;
        }
        pl->dirty = 1;
        if (te_planner_target_on_message(pl, m, now, 1) < 0)
                return -1;
        pl->st.last_target_ms = now;
        if (waiting)
                te_planner_target_drain_reports(pl, now, 0);
        return 0;
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
                int waiting = te_target_queue_waiting(pl->tq) > 0;
                int full = te_target_queue_count(pl->tq) >= TE_PLANNER_MAX_INFLIGHT;
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
                                te_planner_sync_put_back(pl, m);
                                rd_kafka_message_destroy(m);
                                m = NULL;
                        }
                        int r = te_planner_sync_rebuild_step(pl, now);
                        if (r < 0)
                                break;
                        if (r > 0) {
                                te_producer_poll(pl->producer, 0);
                                continue;
                        }
                }
                /* exec.mode is read when idle and at most every 10 ms while busy */
                if (!m || now - last_modes >= 10) {
                        te_planner_mode_drain(pl);
                        last_modes = now;
                }
                if (m) {
                        if (on_target(pl, m, now, waiting, &last_commit) != 0)
                                break;
                } else {
                        if (!waiting)
                                pl->st.idle_polls++;
                        te_planner_target_drain_reports(pl, now, waiting ? 1 : 0);
                }
                if (te_planner_target_after_reports(pl, now) != 0)
                        break;
                if (te_planner_hold_release_due(pl->hold) &&
                    te_planner_target_release(pl, now) != 0)
                        break;
                /* the CLOCKs of this turn end their portfolios' batches: nothing
                 * more is sent for them before their ACKs, so linger.ms would only
                 * delay the round trip (this serves delivery reports too) */
                int kick = pl->clock_sent && pl->conf.clock_flush_ms > 0;
                pl->clock_sent = 0;
                if (kick) {
                        te_producer_kick(pl->producer, (int)pl->conf.clock_flush_ms);
                        last_dr_poll = now;
                } else if (!m || now != last_dr_poll) {
                        /* delivery reports: when idle, else once a ms (te_producer_send
                         * serves them too, every so many sends) */
                        te_producer_poll(pl->producer, 0);
                        last_dr_poll = now;
                }
                if (now >= pl->next_settle) { /* keeps the queues in flight short */
                        te_planner_commit_settle(pl);
                        pl->next_settle = now + 2;
                }
                if (pl->dirty && now - last_commit >= pl->conf.commit_interval_ms) {
                        if (te_planner_commit(pl, 0) != 0)
                                break;
                        last_commit = now;
                }
        }
        if (!pl->fatal && te_planner_commit(pl, 1) != 0)
                pl->fatal = 1;
        log_stop(pl);
        return pl->fatal ? -1 : 0;
}

void te_planner_destroy(te_planner_t *pl)
{
        if (!pl)
                return;
        te_planner_hold_destroy(pl->hold); /* its messages go before their consumer */
        pl->hold = NULL;
        if (pl->tq && pl->ts && pl->mode) /* all made, or none in flight */
                te_planner_target_drop_in_flight(pl);
        te_consumer_destroy(pl->targets);
        te_target_queue_destroy(pl->tq, NULL);
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
        te_planner_db_prices_destroy(pl->prices);
        if (pl->db)
                PQfinish(pl->db);
        te_book_destroy(pl->book);
        te_order_plan_ws_destroy(pl->ws);
        te_planner_mode_destroy(pl->mode);
        te_planner_commit_destroy(pl->cs);
        te_map_destroy(pl->last, te_planner_target_free_copy);
        te_planner_route_destroy(pl->route);
        te_plan_rules_destroy(pl->rules);
        te_codec_destroy(pl->codec);
        te_buf_free(&pl->buf);
        te_planner_target_destroy(pl->ts);
        free(pl);
}
