/*
 * planner: the exec-planner loop — rebuild on assignment, plan targets, act on mode
 * changes, flush then commit.
 */
#include "planner.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "book.h"
#include "exec_mode.h"
#include "plan_rules.h"
#include "planner_db.h"
#include "te_buf.h"
#include "te_codec.h"
#include "te_emit.h"
#include "te_ids.h"
#include "te_kafka.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_map.h"
#include "te_pg.h"
#include "te_proc.h"

#define MAX_PARTS    1024
#define MAX_ORDERS   1000000
#define PROC         "exec-planner"
#define META_TIMEOUT 10000

struct te_planner_s {
        te_planner_conf_t conf;
        const te_cfg_t *cfg;
        te_plan_cfg_t plan;
        te_plan_rules_t *rules;
        te_codec_t *codec;
        te_producer_t *producer;
        te_consumer_t *targets;
        rd_kafka_t *reports; /* manually assigned, never commits */
        rd_kafka_t *modes;   /* every partition of exec.mode, never commits */
        PGconn *db;
        te_price_cache_t *prices;
        te_book_t *book;
        te_plan_ws_t *ws;
        te_modes_t *levels;
        te_buf_t buf;
        te_target_portfolio_t tp;
        te_exec_report_t rep;
        te_exec_mode_t mode_msg;
        te_order_cmd_t cmd;
        int32_t n_parts; /* partitions of exec.targets (= orders = reports) */
        unsigned char owned[MAX_PARTS];
        int64_t pending[MAX_PARTS]; /* next target offset to store after a flush */
        int dirty;
        uint64_t
            n_read_back;   /* commands read back from exec.orders in the last rebuild */
        te_map_t *planned; /* portfolio_id -> int64_t* last as_of planned since commit */
        te_map_t *last; /* portfolio_id -> te_target_portfolio_t* last target planned */
        int fatal;
        int64_t last_report_poll;
        te_planner_stats_t st;
};

static void fail(te_planner_t *pl, const char *what, const char *why)
{
        TE_LOG(TE_LOG_ERROR, NULL, "planner.fatal", "%s: %s", what, why);
        pl->fatal = 1;
        te_proc_stop = 1;
}

static int32_t partition_of(const te_planner_t *pl, const char *portfolio_id)
{
        return rd_kafka_msg_partitioner_murmur2(NULL, portfolio_id, strlen(portfolio_id),
                                                pl->n_parts, NULL, NULL);
}

static int owns(void *opaque, const char *portfolio_id)
{
        te_planner_t *pl = opaque;
        int32_t p = partition_of(pl, portfolio_id);
        return p >= 0 && p < MAX_PARTS && pl->owned[p];
}

/* A consumer that is never subscribed: manual assignment, no commits. */
static rd_kafka_t *aux_consumer(te_planner_t *pl, const char *group, char *errstr,
                                size_t errstr_size)
{
        static const char *const defaults[] = {NULL};
        static const char *const fixed[] = {"enable.auto.commit",
                                            "false",
                                            "enable.auto.offset.store",
                                            "false",
                                            "enable.partition.eof",
                                            "false",
                                            NULL};
        rd_kafka_conf_t *kc = te_kafka_conf_build(pl->cfg, pl->conf.common.bootstrap,
                                                  defaults, fixed, errstr, errstr_size);
        if (!kc)
                return NULL;
        if (rd_kafka_conf_set(kc, "group.id", group, errstr, errstr_size) !=
            RD_KAFKA_CONF_OK) {
                rd_kafka_conf_destroy(kc);
                return NULL;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, errstr, errstr_size);
        if (!rk) {
                rd_kafka_conf_destroy(kc);
                return NULL;
        }
        rd_kafka_poll_set_consumer(rk);
        return rk;
}

static int32_t partition_count(rd_kafka_t *rk, const char *topic, char *errstr,
                               size_t errstr_size)
{
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        int32_t n = -1;
        if (!rkt) {
                snprintf(errstr, errstr_size, "%s: %s", topic,
                         rd_kafka_err2str(rd_kafka_last_error()));
                return -1;
        }
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, META_TIMEOUT);
        if (err)
                snprintf(errstr, errstr_size, "metadata %s: %s", topic,
                         rd_kafka_err2str(err));
        else if (md->topic_cnt != 1 || md->topics[0].err)
                snprintf(errstr, errstr_size, "metadata %s: %s", topic,
                         md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "missing");
        else
                n = md->topics[0].partition_cnt;
        if (md)
                rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        return n;
}

/* Read `rk` (assigned to `list`, offsets set) until every partition reaches the high
 * watermark it had when we started, handing each message to fn.
 * @returns 0, or -1 with errstr on timeout. */
static int read_to_end(te_planner_t *pl, rd_kafka_t *rk,
                       rd_kafka_topic_partition_list_t *list,
                       void (*fn)(te_planner_t *pl, rd_kafka_message_t *m), char *errstr,
                       size_t errstr_size)
{
        int64_t hwm[MAX_PARTS];
        int left = 0;
        for (int i = 0; i < list->cnt; i++) {
                int64_t lo = 0, hi = 0;
                int32_t p = list->elems[i].partition;
                rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
                    rk, list->elems[i].topic, p, &lo, &hi, META_TIMEOUT);
                if (err) {
                        snprintf(errstr, errstr_size, "watermarks %s[%d]: %s",
                                 list->elems[i].topic, (int)p, rd_kafka_err2str(err));
                        return -1;
                }
                int64_t start = list->elems[i].offset;
                if (start < lo)
                        start = lo; /* BEGINNING / none committed / trimmed */
                hwm[p] = hi;
                TE_LOG(TE_LOG_DEBUG, NULL, "planner.catch_up",
                       "%s[%d] from %lld (asked %lld, low %lld) to %lld",
                       list->elems[i].topic, (int)p, (long long)start,
                       (long long)list->elems[i].offset, (long long)lo, (long long)hi);
                if (start < hi)
                        left++;
                else
                        hwm[p] = -1;
        }
        rd_kafka_resp_err_t err = rd_kafka_assign(rk, list);
        if (err) {
                snprintf(errstr, errstr_size, "assign: %s", rd_kafka_err2str(err));
                return -1;
        }
        int64_t deadline = te_proc_mono_ms() + pl->conf.catchup_timeout_ms;
        while (left > 0) {
                if (te_proc_mono_ms() > deadline || te_proc_stop) {
                        snprintf(errstr, errstr_size,
                                 "catching up: %d partitions not read to the end", left);
                        return -1;
                }
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m)
                        continue;
                if (!m->err) {
                        fn(pl, m);
                        int32_t p = m->partition;
                        if (p >= 0 && p < MAX_PARTS && hwm[p] >= 0 &&
                            m->offset + 1 >= hwm[p]) {
                                hwm[p] = -1;
                                left--;
                        }
                }
                rd_kafka_message_destroy(m);
        }
        return 0;
}

/* ---- reports, orders read back, modes --------------------------------------------- */

/* Apply one report message. @returns 1 if it is the CLOCK_ACK with `clock_id`. */
static int on_report(te_planner_t *pl, rd_kafka_message_t *m, const char *clock_id)
{
        char errstr[256];
        if (m->err)
                return 0;
        te_obs_consumed(rd_kafka_topic_name(m->rkt));
        if (te_codec_decode_exec_report(pl->codec, m->payload, m->len, &pl->rep, errstr,
                                        sizeof errstr) != TE_CODEC_OK) {
                /* the sink dead-letters bad reports; the planner just skips them */
                TE_LOG(TE_LOG_WARN, NULL, "planner.bad_report", "%s", errstr);
                return 0;
        }
        pl->st.reports++;
        if (pl->rep.exec_type == TE_EXEC_CLOCK_ACK)
                return clock_id && strcmp(pl->rep.order_id, clock_id) == 0;
        if (te_book_apply_report(pl->book, &pl->rep) == TE_BOOK_ERROR)
                fail(pl, "apply report", "out of memory");
        return 0;
}

static void on_report_cb(te_planner_t *pl, rd_kafka_message_t *m)
{
        on_report(pl, m, NULL);
}

/* Note that a target of `portfolio_id` with `as_of` was planned (in this life, or
 * learned from commands read back): the next commit records it in the DB before it
 * records our exec.orders position past those commands. @returns 0 or -1 (OOM). */
static int remember_planned(te_planner_t *pl, const char *portfolio_id, int64_t as_of)
{
        int64_t *v = te_map_get(pl->planned, portfolio_id);
        if (!v) {
                v = malloc(sizeof *v);
                if (!v || te_map_put(pl->planned, portfolio_id, v) != 0) {
                        free(v);
                        return -1;
                }
                *v = as_of;
        }
        if (as_of > *v)
                *v = as_of;
        return 0;
}

/* An order command read back from exec.orders after a (re)start. */
static void on_own_order(te_planner_t *pl, rd_kafka_message_t *m)
{
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
             remember_planned(pl, o->ids.portfolio_id, o->event_time) != 0)) {
                fail(pl, "read back orders", "out of memory");
                return;
        }
        if (o->command == TE_CMD_NEW) {
                if (te_book_add_order(pl->book, o->order_id, o->ids.portfolio_id,
                                      o->ticker, o->side, o->quantity, 0.0,
                                      TE_OS_PENDING_NEW) != 0 ||
                    te_book_set_mode(pl->book, o->ids.portfolio_id, o->mode) != 0)
                        fail(pl, "read back orders", "out of memory");
        } else if (o->command == TE_CMD_CANCEL) {
                te_book_mark_cancel(pl->book, o->order_id);
        }
}

static void drain_reports(te_planner_t *pl, int64_t now)
{
        rd_kafka_message_t *m;
        while ((m = rd_kafka_consumer_poll(pl->reports, 0)) != NULL) {
                on_report(pl, m, NULL);
                rd_kafka_message_destroy(m);
        }
        pl->last_report_poll = now;
}

static int send_cmd(te_planner_t *pl, const te_order_cmd_t *o)
{
        char errstr[256];
        if (te_codec_encode_order_cmd(pl->codec, o, &pl->buf, errstr, sizeof errstr) !=
            TE_CODEC_OK) {
                fail(pl, "encode order", errstr);
                return -1;
        }
        if (te_producer_send(pl->producer, pl->conf.topic_orders, o->ids.portfolio_id,
                             strlen(o->ids.portfolio_id), pl->buf.data, pl->buf.len, NULL,
                             0, errstr, sizeof errstr) != 0) {
                fail(pl, "send order", errstr);
                return -1;
        }
        return 0;
}

/* Send planned commands, recording them in the book. A NEW whose id the book already
 * knows was sent before (a target consumed again): it is not sent twice. */
static int send_all(te_planner_t *pl, const te_order_cmd_t *cmds, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const te_order_cmd_t *o = &cmds[i];
                if (o->command == TE_CMD_NEW) {
                        if (te_book_has_order(pl->book, o->order_id)) {
                                pl->st.skipped_known++;
                                continue;
                        }
                        if (send_cmd(pl, o) != 0)
                                return -1;
                        if (te_book_add_order(pl->book, o->order_id, o->ids.portfolio_id,
                                              o->ticker, o->side, o->quantity, 0.0,
                                              TE_OS_PENDING_NEW) != 0) {
                                fail(pl, "book", "out of memory");
                                return -1;
                        }
                        pl->st.orders++;
                } else {
                        if (send_cmd(pl, o) != 0)
                                return -1;
                        if (o->command == TE_CMD_CANCEL) {
                                te_book_mark_cancel(pl->book, o->order_id);
                                pl->st.cancels++;
                        }
                }
                te_log_ids_t oids = {.decision_id = o->ids.decision_id,
                                     .portfolio_id = o->ids.portfolio_id,
                                     .order_id = o->order_id};
                TE_LOG(TE_LOG_DEBUG, &oids, "order.sent", "%s %s %s %.10g %s",
                       te_command_name(o->command), te_side_name(o->side), o->ticker,
                       o->quantity, te_intent_name(o->intent));
        }
        return 0;
}

static te_level_t level_of(void *opaque, const char *portfolio_id)
{
        te_planner_t *pl = opaque;
        return te_modes_level(pl->levels, portfolio_id);
}

static void free_target(void *v)
{
        te_target_portfolio_t *tp = v;
        te_target_portfolio_free(tp);
        free(tp);
}

/* Keep a copy of the last target planned for its portfolio (EMERGENCY re-plans it).
 * @returns 0 or -1 (OOM). */
static int keep_last(te_planner_t *pl, const te_target_portfolio_t *tp)
{
        te_target_portfolio_t *c = te_map_get(pl->last, tp->ids.portfolio_id);
        if (!c) {
                c = calloc(1, sizeof *c);
                if (!c || te_map_put(pl->last, tp->ids.portfolio_id, c) != 0) {
                        free(c);
                        return -1;
                }
        }
        te_target_portfolio_t keep = *tp;
        keep.targets = c->targets; /* reuse the copy's array */
        keep.cap_targets = c->cap_targets;
        keep.n_targets = 0;
        *c = keep;
        for (size_t i = 0; i < tp->n_targets; i++)
                if (te_target_portfolio_add(c, &tp->targets[i]) != 0)
                        return -1;
        return 0;
}

/* EMERGENCY: trade toward the last target at once with marketable orders. Leg numbers
 * start after a base derived from the mode message, so the ids are new, and the same
 * message gives the same ids. */
static int emergency_replan(te_planner_t *pl, const char *scope, int64_t effective_from)
{
        size_t it = 0;
        const char *pid;
        void *v;
        while (te_map_next(pl->last, &it, &pid, &v)) {
                char errstr[512];
                const te_target_portfolio_t *tp = v;
                if ((scope && strcmp(scope, pid) != 0) ||
                    te_modes_level(pl->levels, pid) != TE_LEVEL_EMERGENCY)
                        continue;
                te_plan_env_t env = {
                    .level = TE_LEVEL_EMERGENCY,
                    .price = pl->prices ? te_price_cache_get : NULL,
                    .opaque = pl->prices,
                    .leg_base = 1000 + (int)((effective_from < 0 ? -effective_from
                                                                 : effective_from) %
                                             10000000) *
                                           100,
                };
                const te_order_cmd_t *cmds;
                size_t n = 0;
                te_plan_err_t e = te_plan_run(pl->ws, &pl->plan, &env, pl->book, tp,
                                              &cmds, &n, errstr, sizeof errstr);
                if (e != TE_PLAN_OK) {
                        TE_LOG(TE_LOG_WARN, NULL, "planner.emergency",
                               "%s: cannot re-plan the last target: %s", pid, errstr);
                        continue;
                }
                if (n)
                        TE_LOG(TE_LOG_WARN, NULL, "planner.emergency",
                               "%s: %zu marketable orders toward the last target", pid,
                               n);
                if (send_all(pl, cmds, n) != 0)
                        return -1;
        }
        return 0;
}

/* Bring open orders in line with the levels now in force (scope NULL: all). */
static int act_on_modes(te_planner_t *pl, const char *scope, int64_t event_time)
{
        const te_order_cmd_t *cmds;
        size_t n;
        te_plan_err_t e = te_plan_mode_cancels(pl->ws, pl->book, scope, level_of, pl,
                                               event_time, pl->conf.route, &cmds, &n);
        if (e != TE_PLAN_OK) {
                fail(pl, "mode cancels", te_plan_err_code(e));
                return -1;
        }
        if (n)
                TE_LOG(TE_LOG_WARN, NULL, "planner.mode_cancels",
                       "cancelling %zu open orders (scope %s)", n, scope ? scope : "*");
        return send_all(pl, cmds, n);
}

static void on_mode(te_planner_t *pl, rd_kafka_message_t *m, int act)
{
        char errstr[256];
        if (m->err)
                return;
        if (te_codec_decode_exec_mode(pl->codec, m->payload, m->len, &pl->mode_msg,
                                      errstr, sizeof errstr) != TE_CODEC_OK) {
                TE_LOG(TE_LOG_WARN, NULL, "planner.bad_mode", "%s", errstr);
                return;
        }
        if (te_modes_apply(pl->levels, &pl->mode_msg) < 0) {
                TE_LOG(TE_LOG_WARN, NULL, "planner.bad_mode", "scope \"%s\" level %d",
                       pl->mode_msg.scope, (int)pl->mode_msg.level);
                return;
        }
        pl->st.mode_changes++;
        TE_LOG(TE_LOG_WARN, NULL, "planner.mode", "scope=%s level=%s reason=%s",
               pl->mode_msg.scope, te_level_name(pl->mode_msg.level),
               pl->mode_msg.reason);
        if (act) {
                const char *scope =
                    strcmp(pl->mode_msg.scope, "*") ? pl->mode_msg.scope : NULL;
                if (act_on_modes(pl, scope, pl->mode_msg.effective_from) == 0 &&
                    pl->mode_msg.level == TE_LEVEL_EMERGENCY)
                        emergency_replan(pl, scope, pl->mode_msg.effective_from);
        }
}

static void on_mode_cb(te_planner_t *pl, rd_kafka_message_t *m)
{
        on_mode(pl, m, 0);
}

static void drain_modes(te_planner_t *pl)
{
        rd_kafka_message_t *m;
        while (pl->modes && (m = rd_kafka_consumer_poll(pl->modes, 0)) != NULL) {
                on_mode(pl, m, 1);
                rd_kafka_message_destroy(m);
        }
}

/* ---- offsets --------------------------------------------------------------------- */

/* After a flush: record in the DB the portfolios planned since the last commit and
 * the end of our writes to each owned exec.orders partition (0002_planner.sql). */
static int save_state(te_planner_t *pl)
{
        char errstr[512];
        size_t n_pf = te_map_count(pl->planned), k = 0, it = 0;
        const char **pids = calloc(n_pf ? n_pf : 1, sizeof *pids);
        int64_t *asofs = calloc(n_pf ? n_pf : 1, sizeof *asofs);
        int32_t parts[MAX_PARTS];
        int64_t offs[MAX_PARTS];
        size_t n_off = 0;
        int rc = -1;
        const char *key;
        void *v;
        if (!pids || !asofs) {
                fail(pl, "state", "out of memory");
                goto out;
        }
        while (te_map_next(pl->planned, &it, &key, &v) && k < n_pf) {
                pids[k] = key;
                asofs[k++] = *(int64_t *)v;
        }
        for (int32_t p = 0; p < pl->n_parts && p < MAX_PARTS; p++) {
                int64_t lo, hi;
                if (!pl->owned[p])
                        continue;
                /* only this instance writes the partitions it owns: after the flush
                 * the high watermark is the end of our own writes */
                rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
                    te_producer_handle(pl->producer), pl->conf.topic_orders, p, &lo, &hi,
                    META_TIMEOUT);
                if (err) {
                        fail(pl, "orders watermarks", rd_kafka_err2str(err));
                        goto out;
                }
                parts[n_off] = p;
                offs[n_off++] = hi;
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
                        fail(pl, "save state", errstr);
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
        te_map_destroy(pl->planned, free);
        pl->planned = te_map_new();
        if (!pl->planned) {
                fail(pl, "state", "out of memory");
                goto out;
        }
        rc = 0;
out:
        free(pids);
        free(asofs);
        return rc;
}

/* Flush what was produced, then store and commit the offsets of the targets that
 * produced it. @returns 0 or -1. */
static int commit(te_planner_t *pl)
{
        char errstr[256];
        if (!pl->dirty)
                return 0;
        if (te_producer_flush(pl->producer, 30000, errstr, sizeof errstr) != 0) {
                fail(pl, "flush", errstr);
                return -1;
        }
        if (pl->db && save_state(pl) != 0)
                return -1;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
        for (int32_t p = 0; p < pl->n_parts && p < MAX_PARTS; p++)
                if (pl->pending[p] >= 0) {
                        rd_kafka_topic_partition_list_add(l, pl->conf.topic_targets, p)
                            ->offset = pl->pending[p];
                        pl->pending[p] = -1;
                }
        rd_kafka_resp_err_t err =
            l->cnt ? rd_kafka_offsets_store(te_consumer_handle(pl->targets), l) : 0;
        rd_kafka_topic_partition_list_destroy(l);
        if (err)
                TE_LOG(TE_LOG_WARN, NULL, "planner.store", "%s", rd_kafka_err2str(err));
        pl->dirty = 0;
        /* a failed Kafka commit (e.g. a rebalance in progress) is not fatal: the
         * targets are consumed again and recognised as planned (DB state above) */
        te_consumer_commit(pl->targets, 1);
        return 0;
}

/* ---- rebalance ------------------------------------------------------------------- */

static int rebuild(te_planner_t *pl, rd_kafka_topic_partition_list_t *parts)
{
        char errstr[512];
        int64_t offsets[MAX_PARTS];
        te_book_t *nb = te_book_new();
        if (!nb) {
                fail(pl, "rebalance", "out of memory");
                return -1;
        }
        memset(pl->owned, 0, sizeof pl->owned);
        for (int i = 0; i < parts->cnt; i++)
                if (parts->elems[i].partition >= 0 &&
                    parts->elems[i].partition < MAX_PARTS)
                        pl->owned[parts->elems[i].partition] = 1;
        for (size_t i = 0; i < MAX_PARTS; i++)
                offsets[i] = -1;
        if (pl->db &&
            te_planner_db_load(pl->db, pl->conf.sink_group, pl->conf.topic_reports, owns,
                               pl, nb, offsets, MAX_PARTS, errstr, sizeof errstr) != 0) {
                te_book_destroy(nb);
                fail(pl, "rebuild from DB", errstr);
                return -1;
        }
        int64_t own_offsets[MAX_PARTS];
        for (size_t i = 0; i < MAX_PARTS; i++)
                own_offsets[i] = -1;
        if (pl->db && te_planner_db_state_load(
                          pl->db, pl->conf.group_id, pl->conf.topic_orders, owns, pl, nb,
                          own_offsets, MAX_PARTS, errstr, sizeof errstr) != 0) {
                te_book_destroy(nb);
                fail(pl, "planner state from DB", errstr);
                return -1;
        }
        te_book_destroy(pl->book);
        pl->book = nb;
        pl->n_read_back = 0;
        te_map_destroy(pl->last, free_target); /* only this life's targets re-plan */
        pl->last = te_map_new();
        if (!pl->last) {
                fail(pl, "rebalance", "out of memory");
                return -1;
        }

        /* orders sent but perhaps not yet seen by the broker: from the broker group's
         * committed offset of each owned exec.orders partition to its end */
        if (pl->conf.broker_group[0]) {
                rd_kafka_t *rk =
                    aux_consumer(pl, pl->conf.broker_group, errstr, sizeof errstr);
                if (!rk) {
                        fail(pl, "orders consumer", errstr);
                        return -1;
                }
                rd_kafka_topic_partition_list_t *ol =
                    rd_kafka_topic_partition_list_new(parts->cnt);
                for (int i = 0; i < parts->cnt; i++)
                        rd_kafka_topic_partition_list_add(ol, pl->conf.topic_orders,
                                                          parts->elems[i].partition);
                rd_kafka_resp_err_t err = rd_kafka_committed(rk, ol, META_TIMEOUT);
                int rc = -1;
                if (err) {
                        snprintf(errstr, sizeof errstr, "committed offsets of %s: %s",
                                 pl->conf.broker_group, rd_kafka_err2str(err));
                } else {
                        /* from the earlier of the broker's position and the end of our
                         * writes at our last commit; without a record of our writes
                         * (no commit yet, or no DB) from the beginning: any command
                         * there may be ours and not yet reflected in the DB */
                        for (int i = 0; i < ol->cnt; i++) {
                                int32_t p = ol->elems[i].partition;
                                int64_t own =
                                    p >= 0 && p < MAX_PARTS ? own_offsets[p] : -1;
                                if (ol->elems[i].offset < 0 || own < 0)
                                        ol->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
                                else if (own < ol->elems[i].offset)
                                        ol->elems[i].offset = own;
                        }
                        rc = read_to_end(pl, rk, ol, on_own_order, errstr, sizeof errstr);
                }
                rd_kafka_topic_partition_list_destroy(ol);
                rd_kafka_consumer_close(rk);
                rd_kafka_destroy(rk);
                if (rc != 0) {
                        fail(pl, "read back orders", errstr);
                        return -1;
                }
        }

        rd_kafka_topic_partition_list_t *rp =
            rd_kafka_topic_partition_list_new(parts->cnt);
        for (int i = 0; i < parts->cnt; i++) {
                int32_t p = parts->elems[i].partition;
                int64_t off = (p >= 0 && p < MAX_PARTS && offsets[p] >= 0)
                                  ? offsets[p]
                                  : RD_KAFKA_OFFSET_BEGINNING;
                rd_kafka_topic_partition_list_add(rp, pl->conf.topic_reports, p)->offset =
                    off;
        }
        int rc = read_to_end(pl, pl->reports, rp, on_report_cb, errstr, sizeof errstr);
        rd_kafka_topic_partition_list_destroy(rp);
        if (rc != 0) {
                fail(pl, "catch up reports", errstr);
                return -1;
        }
        TE_LOG(TE_LOG_INFO, NULL, "planner.assigned",
               "%d partitions; book rebuilt with %zu orders; %llu commands read back",
               parts->cnt, te_book_order_count(pl->book),
               (unsigned long long)pl->n_read_back);
        /* a level set while nobody owned these portfolios acts now */
        return act_on_modes(pl, NULL, 0);
}

static void on_rebalance(te_consumer_t *c, rd_kafka_topic_partition_list_t *parts,
                         int assigned, void *opaque)
{
        te_planner_t *pl = opaque;
        (void)c;
        if (!assigned) {
                /* hand over only what is delivered and committed */
                if (!pl->fatal)
                        commit(pl);
                rd_kafka_assign(pl->reports, NULL);
                memset(pl->owned, 0, sizeof pl->owned);
                return;
        }
        for (int i = 0; i < MAX_PARTS; i++)
                pl->pending[i] = -1;
        rebuild(pl, parts);
}

/* ---- targets ----------------------------------------------------------------------- */

/* TRAINING barrier: CLOCK(t), then read reports until CLOCK_ACK(t). @returns 0, or -1
 * when stopping before the ack came. */
static int clock_barrier(te_planner_t *pl, const te_target_portfolio_t *tp)
{
        te_order_cmd_t clk;
        memset(&clk, 0, sizeof clk);
        clk.command = TE_CMD_CLOCK;
        te_id_clock(clk.order_id, sizeof clk.order_id, tp->ids.portfolio_id, tp->as_of);
        clk.ids = tp->ids;
        clk.mode = tp->mode;
        clk.event_time = tp->as_of;
        te_strlcpy(clk.route, pl->conf.route, sizeof clk.route);
        if (send_cmd(pl, &clk) != 0)
                return -1;
        int64_t start = te_proc_mono_ms();
        int64_t next_alert = start + pl->conf.clock_timeout_ms;
        while (!te_proc_stop) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(pl->reports, 50);
                te_producer_poll(pl->producer, 0);
                if (m) {
                        int acked = on_report(pl, m, clk.order_id);
                        rd_kafka_message_destroy(m);
                        if (acked)
                                return 0;
                }
                int64_t now = te_proc_mono_ms();
                if (now >= next_alert) {
                        te_emit_alert(
                            pl->producer, pl->codec, pl->conf.topic_alerts,
                            TE_SEV_WARNING, PROC, "clock.timeout", tp->ids.decision_id,
                            tp->ids.portfolio_id, clk.order_id,
                            "no CLOCK_ACK for t=%lld after %lld ms; still waiting",
                            (long long)tp->as_of, (long long)(now - start));
                        next_alert = now + pl->conf.clock_timeout_ms;
                }
        }
        return -1;
}

static void dead_letter(te_planner_t *pl, rd_kafka_message_t *m, const char *code,
                        const char *why, const te_target_portfolio_t *tp)
{
        char errstr[256], reason[640];
        snprintf(reason, sizeof reason, "%s: %s", code, why);
        pl->st.dead_lettered++;
        te_log_ids_t ids = {.decision_id = tp ? tp->ids.decision_id : NULL,
                            .portfolio_id = tp ? tp->ids.portfolio_id : NULL};
        TE_LOG(TE_LOG_WARN, &ids, "target.dead_letter", "%s", reason);
        if (te_emit_deadletter(pl->producer, pl->conf.topic_deadletter, m, reason, errstr,
                               sizeof errstr) != 0) {
                fail(pl, "dead-letter", errstr);
                return;
        }
        te_emit_alert(pl->producer, pl->codec, pl->conf.topic_alerts, TE_SEV_WARNING,
                      PROC, code, tp ? tp->ids.decision_id : NULL,
                      tp ? tp->ids.portfolio_id : NULL, NULL, "target dead-lettered: %s",
                      why);
}

/* @returns 0 when the message is done (offset may be stored), -1 to stop. */
static int on_target(te_planner_t *pl, rd_kafka_message_t *m, int64_t now)
{
        char errstr[512];
        int64_t t_in = te_proc_mono_ns();
        te_codec_err_t cerr = te_codec_decode_target_portfolio(
            pl->codec, m->payload, m->len, &pl->tp, errstr, sizeof errstr);
        if (cerr != TE_CODEC_OK) {
                dead_letter(pl, m, te_codec_err_name(cerr), errstr, NULL);
                return pl->fatal ? -1 : 0;
        }
        te_target_portfolio_t *tp = &pl->tp;
        pl->st.targets++;
        int64_t last;
        if (te_book_as_of_learned(pl->book, tp->ids.portfolio_id) &&
            te_book_last_as_of(pl->book, tp->ids.portfolio_id, &last) &&
            tp->as_of < last) {
                /* consumed again after a restart or rebalance: planned before */
                pl->st.replayed++;
                te_log_ids_t ids = {.decision_id = tp->ids.decision_id,
                                    .portfolio_id = tp->ids.portfolio_id};
                TE_LOG(TE_LOG_INFO, &ids, "target.replayed",
                       "as_of %lld before the last planned %lld: already planned",
                       (long long)tp->as_of, (long long)last);
                return 0;
        }
        if (tp->mode == TE_MODE_TRAINING) {
                if (clock_barrier(pl, tp) != 0)
                        return -1;
        } else if (now - pl->last_report_poll >= pl->conf.report_poll_ms) {
                drain_reports(pl, now);
        }
        te_plan_env_t env = {
            .level = te_modes_level(pl->levels, tp->ids.portfolio_id),
            .price = pl->prices ? te_price_cache_get : NULL,
            .known = pl->prices ? te_price_cache_known : NULL,
            .opaque = pl->prices,
        };
        const te_order_cmd_t *cmds;
        size_t n = 0;
        te_plan_err_t e = te_plan_run(pl->ws, &pl->plan, &env, pl->book, tp, &cmds, &n,
                                      errstr, sizeof errstr);
        if (e == TE_PLAN_E_NOMEM || e == TE_PLAN_E_TOO_MANY) {
                fail(pl, "plan", errstr);
                return -1;
        }
        if (e != TE_PLAN_OK) {
                dead_letter(pl, m, te_plan_err_code(e), errstr, tp);
                return pl->fatal ? -1 : 0;
        }
        if (env.level == TE_LEVEL_HALT)
                pl->st.halted++;
        if (remember_planned(pl, tp->ids.portfolio_id, tp->as_of) != 0 ||
            keep_last(pl, tp) != 0 ||
            te_book_set_last_as_of(pl->book, tp->ids.portfolio_id, tp->as_of) != 0 ||
            te_book_set_mode(pl->book, tp->ids.portfolio_id, tp->mode) != 0) {
                fail(pl, "book", "out of memory");
                return -1;
        }
        if (send_all(pl, cmds, n) != 0)
                return -1;
        if (n)
                te_obs_latency(TE_OBS_TARGET_TO_ORDER,
                               (double)(te_proc_mono_ns() - t_in) / 1e9);
        te_log_ids_t ids = {.decision_id = tp->ids.decision_id,
                            .portfolio_id = tp->ids.portfolio_id};
        TE_LOG(TE_LOG_DEBUG, &ids, "target.planned",
               "as_of=%lld targets=%zu commands=%zu level=%s", (long long)tp->as_of,
               tp->n_targets, n, te_level_name(env.level));
        return 0;
}

/* ---- life cycle ----------------------------------------------------------------------
 */

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
        for (int i = 0; i < MAX_PARTS; i++)
                pl->pending[i] = -1;
        te_buf_init(&pl->buf, TE_CODEC_MAX_MESSAGE);
        te_plan_cfg_defaults(&pl->plan);
        pl->plan.lot_size = conf->lot_size;
        pl->plan.min_qty = conf->min_qty;
        pl->plan.min_notional = conf->min_notional;
        pl->plan.max_qty = conf->max_qty;
        pl->plan.max_notional = conf->max_notional;
        pl->plan.fractional = conf->fractional;
        pl->plan.allow_short = conf->allow_short;
        pl->plan.order_type = (te_order_type_t)conf->order_type;
        pl->plan.tif = (te_tif_t)conf->tif;
        pl->plan.limit_offset_bps = conf->limit_offset_bps;
        pl->plan.stop_offset_bps = conf->stop_offset_bps;
        pl->plan.max_gross_leverage = conf->max_gross_leverage;
        pl->plan.capital = conf->capital;
        te_strlcpy(pl->plan.route, conf->route, sizeof pl->plan.route);
        {
                te_plan_rule_t base = {conf->lot_size,
                                       conf->min_qty,
                                       conf->min_notional,
                                       conf->max_qty,
                                       conf->max_notional,
                                       conf->fractional,
                                       (te_order_type_t)conf->order_type,
                                       (te_tif_t)conf->tif,
                                       conf->limit_offset_bps,
                                       conf->stop_offset_bps};
                char why[256];
                if (te_plan_rule_check(&base, why, sizeof why) != 0) {
                        snprintf(errstr, errstr_size, "plan.%s", why);
                        goto err;
                }
        }
        pl->rules = te_plan_rules_new();
        pl->book = te_book_new();
        pl->ws = te_plan_ws_new(MAX_ORDERS);
        pl->levels = te_modes_new();
        pl->planned = te_map_new();
        pl->last = te_map_new();
        pl->codec = te_codec_new(errstr, errstr_size);
        if (!pl->rules || !pl->book || !pl->ws || !pl->levels || !pl->planned ||
            !pl->last || !pl->codec) {
                if (pl->codec)
                        snprintf(errstr, errstr_size, "out of memory");
                goto err;
        }
        if (conf->rules_file[0] &&
            te_plan_rules_load(pl->rules, conf->rules_file, errstr, errstr_size) != 0)
                goto err;
        pl->plan.rules = pl->rules;
        if (conf->db_enabled) {
                pl->db = te_pg_connect(conf->common.db_conninfo, errstr, errstr_size);
                if (!pl->db || te_pg_migrate(pl->db, errstr, errstr_size) < 0)
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
        pl->n_parts = partition_count(te_producer_handle(pl->producer),
                                      conf->topic_targets, errstr, errstr_size);
        /* co-partitioning is the contract; also warms the producer's metadata for the
         * orders topic so the first order does not wait for it */
        if (pl->n_parts > 0) {
                int32_t n_orders =
                    partition_count(te_producer_handle(pl->producer), conf->topic_orders,
                                    errstr, errstr_size);
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
        if (pl->n_parts <= 0 || pl->n_parts > MAX_PARTS) {
                if (pl->n_parts > MAX_PARTS)
                        snprintf(errstr, errstr_size, "%s: more than %d partitions",
                                 conf->topic_targets, MAX_PARTS);
                goto err;
        }
        {
                char group[160];
                snprintf(group, sizeof group, "%s.reports", conf->group_id);
                pl->reports = aux_consumer(pl, group, errstr, errstr_size);
                if (!pl->reports)
                        goto err;
        }
        if (conf->mode_enabled) {
                /* the whole of exec.mode, read to its end before any target */
                char group[160];
                snprintf(group, sizeof group, "%s.mode", conf->group_id);
                pl->modes = aux_consumer(pl, group, errstr, errstr_size);
                if (!pl->modes)
                        goto err;
                int32_t np =
                    partition_count(pl->modes, conf->topic_mode, errstr, errstr_size);
                if (np <= 0 || np > MAX_PARTS)
                        goto err;
                rd_kafka_topic_partition_list_t *l =
                    rd_kafka_topic_partition_list_new(np);
                for (int32_t p = 0; p < np; p++)
                        rd_kafka_topic_partition_list_add(l, conf->topic_mode, p)
                            ->offset = RD_KAFKA_OFFSET_BEGINNING;
                int rc = read_to_end(pl, pl->modes, l, on_mode_cb, errstr, errstr_size);
                rd_kafka_topic_partition_list_destroy(l);
                if (rc != 0)
                        goto err;
        }
        const char *topics[] = {conf->topic_targets};
        pl->targets = te_consumer_new(cfg, conf->common.bootstrap, conf->group_id, topics,
                                      1, on_rebalance, pl, errstr, errstr_size);
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
        int64_t last_commit = te_proc_mono_ms(), last_modes = 0;
        while (!te_proc_stop) {
                rd_kafka_message_t *m = te_consumer_poll(pl->targets, 50);
                if (pl->fatal) {
                        if (m)
                                rd_kafka_message_destroy(m);
                        break;
                }
                int64_t now = te_proc_mono_ms();
                /* exec.mode is read when idle and at most every 10 ms while busy */
                if (!m || now - last_modes >= 10) {
                        drain_modes(pl);
                        last_modes = now;
                }
                if (m) {
                        if (!pl->st.first_target_ms) {
                                pl->st.first_target_ms = now;
                                /* no flush right behind the first target of a burst */
                                last_commit = now;
                        }
                        int r = on_target(pl, m, now);
                        now = te_proc_mono_ms();
                        pl->st.last_target_ms = now;
                        if (r == 0 && m->partition >= 0 && m->partition < MAX_PARTS) {
                                pl->pending[m->partition] = m->offset + 1;
                                pl->dirty = 1;
                        }
                        rd_kafka_message_destroy(m);
                        if (r != 0)
                                break;
                } else {
                        pl->st.idle_polls++;
                        drain_reports(pl, now);
                }
                te_producer_poll(pl->producer, 0);
                if (pl->dirty && now - last_commit >= pl->conf.commit_interval_ms) {
                        if (commit(pl) != 0)
                                break;
                        last_commit = now;
                }
        }
        if (!pl->fatal && commit(pl) != 0)
                pl->fatal = 1;
        TE_LOG(
            TE_LOG_INFO, NULL, "planner.stop",
            "targets=%llu orders=%llu cancels=%llu dead_lettered=%llu reports=%llu "
            "illegal=%llu skipped_known=%llu replayed=%llu mode_changes=%llu "
            "idle_polls=%llu first_to_last_ms=%lld",
            (unsigned long long)pl->st.targets, (unsigned long long)pl->st.orders,
            (unsigned long long)pl->st.cancels, (unsigned long long)pl->st.dead_lettered,
            (unsigned long long)pl->st.reports,
            (unsigned long long)te_book_illegal_count(pl->book),
            (unsigned long long)pl->st.skipped_known, (unsigned long long)pl->st.replayed,
            (unsigned long long)pl->st.mode_changes,
            (unsigned long long)pl->st.idle_polls,
            (long long)(pl->st.last_target_ms - pl->st.first_target_ms));
        return pl->fatal ? -1 : 0;
}

void te_planner_destroy(te_planner_t *pl)
{
        if (!pl)
                return;
        te_consumer_destroy(pl->targets);
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
        te_map_destroy(pl->last, free_target);
        te_plan_rules_destroy(pl->rules);
        te_codec_destroy(pl->codec);
        te_target_portfolio_free(&pl->tp);
        te_buf_free(&pl->buf);
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
