/*
 * exec-planner: exec.targets -> exec.orders.
 *
 * One consumer in the planner group reads exec.targets (range assignor); a second,
 * manually assigned consumer reads the same partition numbers of exec.reports, so the
 * planner owns each of its portfolios end to end (co-partitioning). On every
 * assignment the book is rebuilt from the runtime DB and exec.reports is read from the
 * sink's offsets. In TRAINING, a target with as_of t is planned only after CLOCK(t)
 * has been acknowledged on the reports partition (DESIGN.md invariant 6).
 * Offsets of exec.targets are committed only after the orders they produced are
 * delivered; a target planned twice yields the same order ids (invariant 1).
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "order_plan.h"
#include "planner_db.h"
#include "te_buf.h"
#include "te_cfgtab.h"
#include "te_codec.h"
#include "te_emit.h"
#include "te_ids.h"
#include "te_kafka.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_pg.h"
#include "te_proc.h"

#define MAX_PARTS             1024
#define MAX_ORDERS_PER_TARGET 65536
#define PROC                  "exec-planner"

typedef struct conf_s {
        te_common_conf_t common;
        char group_id[128];
        char sink_group[128];
        char topic_targets[128];
        char topic_orders[128];
        char topic_reports[128];
        char topic_alerts[128];
        char topic_deadletter[128];
        int db_enabled;
        int64_t clock_timeout_ms;
        int64_t commit_interval_ms;
        double lot_size;
        double min_qty;
        double min_notional;
        int allow_short;
        int order_type;
        int tif;
        double limit_offset_bps;
        char route[TE_NAME_MAX];
} conf_t;

static const char *const order_types[] = {"MARKET", "LIMIT", "STOP", "STOP_LIMIT", NULL};
static const char *const tifs[] = {"DAY", "GTC", "IOC", "FOK", "OPG", "CLS", NULL};

static const te_cfg_item_t conf_items[] = {
    TE_CFG_COMMON(conf_t),
    TE_CFG_S(conf_t, "group.id", group_id, "exec-planner", "consumer group"),
    TE_CFG_S(conf_t, "sink.group", sink_group, "exec-sink",
             "sink group whose DB offsets mark what the DB already holds"),
    TE_CFG_S(conf_t, "topic.targets", topic_targets, "exec.targets", ""),
    TE_CFG_S(conf_t, "topic.orders", topic_orders, "exec.orders", ""),
    TE_CFG_S(conf_t, "topic.reports", topic_reports, "exec.reports", ""),
    TE_CFG_S(conf_t, "topic.alerts", topic_alerts, "exec.alerts", ""),
    TE_CFG_S(conf_t, "topic.deadletter", topic_deadletter, "exec.deadletter", ""),
    TE_CFG_B(conf_t, "db.enabled", db_enabled, "true",
             "rebuild state from the runtime DB (else from exec.reports only)"),
    TE_CFG_I(conf_t, "clock.timeout.ms", clock_timeout_ms, "10000", 100, 3600000,
             "TRAINING: alert when CLOCK_ACK takes longer (and keep waiting)"),
    TE_CFG_I(conf_t, "commit.interval.ms", commit_interval_ms, "500", 0, 60000,
             "flush orders and commit target offsets this often"),
    TE_CFG_D(conf_t, "plan.lot_size", lot_size, "1", 1e-9, 1e9, "lot size"),
    TE_CFG_D(conf_t, "plan.min_qty", min_qty, "1", 0, 1e12, "minimum order quantity"),
    TE_CFG_D(conf_t, "plan.min_notional", min_notional, "0", 0, 1e15,
             "minimum order notional (needs a ref price)"),
    TE_CFG_B(conf_t, "plan.allow_short", allow_short, "true", "allow negative targets"),
    TE_CFG_E(conf_t, "plan.order_type", order_type, "MARKET", order_types, ""),
    TE_CFG_E(conf_t, "plan.tif", tif, "DAY", tifs, ""),
    TE_CFG_D(conf_t, "plan.limit_offset_bps", limit_offset_bps, "0", -10000, 10000, ""),
    TE_CFG_S(conf_t, "plan.route", route, "sim", "broker adapter name"),
};

typedef struct planner_s {
        conf_t conf;
        te_plan_cfg_t plan;
        te_codec_t *codec;
        te_producer_t *producer;
        te_consumer_t *targets;
        rd_kafka_t *reports; /* manually assigned, never commits */
        PGconn *db;
        te_book_t *book;
        te_buf_t buf;
        te_target_portfolio_t tp;
        te_exec_report_t rep;
        te_order_cmd_t *orders;
        int fatal;
        uint64_t n_targets, n_orders, n_dead, n_reports;
        int64_t first_target_ms, last_target_ms; /* monotonic, for throughput */
} planner_t;

static void fail(planner_t *pl, const char *what, const char *why)
{
        TE_LOG(TE_LOG_ERROR, NULL, "planner.fatal", "%s: %s", what, why);
        pl->fatal = 1;
        te_proc_stop = 1;
}

/* Rebuild the book and point the reports consumer at the same partitions. */
static void on_rebalance(te_consumer_t *c, rd_kafka_topic_partition_list_t *parts,
                         int assigned, void *opaque)
{
        planner_t *pl = opaque;
        char errstr[512];
        (void)c;
        if (!assigned) {
                rd_kafka_assign(pl->reports, NULL);
                return;
        }
        te_book_t *nb = te_book_new();
        int64_t offsets[MAX_PARTS];
        if (!nb) {
                fail(pl, "rebalance", "out of memory");
                return;
        }
        if (pl->db) {
                if (te_planner_db_load(pl->db, pl->conf.sink_group,
                                       pl->conf.topic_reports, nb, offsets, MAX_PARTS,
                                       errstr, sizeof errstr) != 0) {
                        te_book_destroy(nb);
                        fail(pl, "rebuild from DB", errstr);
                        return;
                }
        } else {
                for (size_t i = 0; i < MAX_PARTS; i++)
                        offsets[i] = -1;
        }
        te_book_destroy(pl->book);
        pl->book = nb;
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
        rd_kafka_resp_err_t err = rd_kafka_assign(pl->reports, rp);
        rd_kafka_topic_partition_list_destroy(rp);
        if (err)
                fail(pl, "assign reports", rd_kafka_err2str(err));
        TE_LOG(TE_LOG_INFO, NULL, "planner.assigned",
               "%d partitions; book rebuilt with %zu orders", parts->cnt,
               te_book_order_count(pl->book));
}

/* Apply one report message. @returns 1 if it is the CLOCK_ACK with `clock_id`. */
static int on_report(planner_t *pl, rd_kafka_message_t *m, const char *clock_id)
{
        char errstr[256];
        if (m->err)
                return 0;
        if (te_codec_decode_exec_report(pl->codec, m->payload, m->len, &pl->rep, errstr,
                                        sizeof errstr) != TE_CODEC_OK) {
                /* the sink dead-letters bad reports; the planner just skips them */
                TE_LOG(TE_LOG_WARN, NULL, "planner.bad_report", "%s", errstr);
                return 0;
        }
        pl->n_reports++;
        te_obs_consumed(rd_kafka_topic_name(m->rkt));
        if (pl->rep.exec_type == TE_EXEC_CLOCK_ACK)
                return clock_id && strcmp(pl->rep.order_id, clock_id) == 0;
        te_book_apply_report(pl->book, &pl->rep);
        return 0;
}

static void drain_reports(planner_t *pl, int timeout_ms)
{
        rd_kafka_message_t *m;
        while ((m = rd_kafka_consumer_poll(pl->reports, timeout_ms)) != NULL) {
                on_report(pl, m, NULL);
                rd_kafka_message_destroy(m);
                timeout_ms = 0;
        }
}

static int send_cmd(planner_t *pl, const te_order_cmd_t *o)
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

/* TRAINING barrier: CLOCK(t), then read reports until CLOCK_ACK(t). @returns 0, or -1
 * when stopping before the ack came. */
static int clock_barrier(planner_t *pl, const te_target_portfolio_t *tp)
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

static void dead_letter(planner_t *pl, rd_kafka_message_t *m, const char *code,
                        const char *why, const te_target_portfolio_t *tp)
{
        char errstr[256], reason[640];
        snprintf(reason, sizeof reason, "%s: %s", code, why);
        pl->n_dead++;
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
static int on_target(planner_t *pl, rd_kafka_message_t *m)
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
        te_log_ids_t ids = {.decision_id = tp->ids.decision_id,
                            .portfolio_id = tp->ids.portfolio_id};
        pl->n_targets++;
        if (tp->mode == TE_MODE_TRAINING) {
                if (clock_barrier(pl, tp) != 0)
                        return -1;
        } else {
                drain_reports(pl, 0);
        }
        size_t n = 0;
        if (te_plan_target(&pl->plan, pl->book, tp, pl->orders, MAX_ORDERS_PER_TARGET, &n,
                           errstr, sizeof errstr) != 0) {
                dead_letter(pl, m, "invalid_target", errstr, tp);
                return pl->fatal ? -1 : 0;
        }
        for (size_t i = 0; i < n; i++) {
                const te_order_cmd_t *o = &pl->orders[i];
                if (send_cmd(pl, o) != 0)
                        return -1;
                te_book_add_order(pl->book, o->order_id, o->ids.portfolio_id, o->ticker,
                                  o->side, o->quantity, 0.0, TE_OS_PENDING_NEW);
                te_log_ids_t oids = {.decision_id = o->ids.decision_id,
                                     .portfolio_id = o->ids.portfolio_id,
                                     .order_id = o->order_id};
                TE_LOG(TE_LOG_DEBUG, &oids, "order.sent", "%s %s %.10g %s",
                       te_side_name(o->side), o->ticker, o->quantity,
                       te_intent_name(o->intent));
        }
        pl->n_orders += n;
        if (n)
                te_obs_latency(TE_OBS_TARGET_TO_ORDER,
                               (double)(te_proc_mono_ns() - t_in) / 1e9);
        TE_LOG(TE_LOG_INFO, &ids, "target.planned", "as_of=%lld targets=%zu orders=%zu",
               (long long)tp->as_of, tp->n_targets, n);
        return 0;
}

static int commit(planner_t *pl)
{
        char errstr[256];
        if (te_producer_flush(pl->producer, 30000, errstr, sizeof errstr) != 0) {
                fail(pl, "flush", errstr);
                return -1;
        }
        return te_consumer_commit(pl->targets, 1);
}

int main(int argc, char **argv)
{
        static planner_t pl;
        char errstr[512];
        int rc = 1;
        te_cfg_t *cfg =
            te_cfgtab_start(PROC, conf_items, sizeof conf_items / sizeof conf_items[0],
                            &pl.conf, &pl.conf.common, argc, argv);
        if (!cfg)
                return 2;
        te_proc_install_signals();
        te_http_t *http = NULL;
        if (te_obs_start(&pl.conf.common, PROC,
                         TE_OBS_NEED_KAFKA | (pl.conf.db_enabled ? TE_OBS_NEED_DB : 0u),
                         &http, errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "planner.metrics", "%s", errstr);
                goto out;
        }
        te_buf_init(&pl.buf, TE_CODEC_MAX_MESSAGE);
        te_plan_cfg_defaults(&pl.plan);
        pl.plan.lot_size = pl.conf.lot_size;
        pl.plan.min_qty = pl.conf.min_qty;
        pl.plan.min_notional = pl.conf.min_notional;
        pl.plan.allow_short = pl.conf.allow_short;
        pl.plan.order_type = (te_order_type_t)pl.conf.order_type;
        pl.plan.tif = (te_tif_t)pl.conf.tif;
        pl.plan.limit_offset_bps = pl.conf.limit_offset_bps;
        te_strlcpy(pl.plan.route, pl.conf.route, sizeof pl.plan.route);

        pl.orders = calloc(MAX_ORDERS_PER_TARGET, sizeof *pl.orders);
        pl.book = te_book_new();
        pl.codec = te_codec_new(errstr, sizeof errstr);
        if (!pl.orders || !pl.book || !pl.codec) {
                TE_LOG(TE_LOG_ERROR, NULL, "planner.init", "%s",
                       pl.codec ? "out of memory" : errstr);
                goto out;
        }
        if (pl.conf.db_enabled) {
                pl.db = te_pg_connect(pl.conf.common.db_conninfo, errstr, sizeof errstr);
                if (!pl.db) {
                        TE_LOG(TE_LOG_ERROR, NULL, "planner.db", "%s", errstr);
                        goto out;
                }
                te_obs_ready("db", 1);
        }
        pl.producer =
            te_producer_new(cfg, pl.conf.common.bootstrap, errstr, sizeof errstr);
        if (!pl.producer) {
                TE_LOG(TE_LOG_ERROR, NULL, "planner.producer", "%s", errstr);
                goto out;
        }
        {
                static const char *const defaults[] = {NULL};
                static const char *const fixed[] = {
                    "enable.auto.commit", "false", "enable.partition.eof", "false", NULL};
                char group[160];
                snprintf(group, sizeof group, "%s.reports", pl.conf.group_id);
                rd_kafka_conf_t *kc =
                    te_kafka_conf_build(cfg, pl.conf.common.bootstrap, defaults, fixed,
                                        errstr, sizeof errstr);
                if (!kc || rd_kafka_conf_set(kc, "group.id", group, errstr,
                                             sizeof errstr) != RD_KAFKA_CONF_OK) {
                        if (kc)
                                rd_kafka_conf_destroy(kc);
                        TE_LOG(TE_LOG_ERROR, NULL, "planner.reports", "%s", errstr);
                        goto out;
                }
                pl.reports = rd_kafka_new(RD_KAFKA_CONSUMER, kc, errstr, sizeof errstr);
                if (!pl.reports) {
                        rd_kafka_conf_destroy(kc);
                        TE_LOG(TE_LOG_ERROR, NULL, "planner.reports", "%s", errstr);
                        goto out;
                }
                rd_kafka_poll_set_consumer(pl.reports);
        }
        const char *topics[] = {pl.conf.topic_targets};
        pl.targets = te_consumer_new(cfg, pl.conf.common.bootstrap, pl.conf.group_id,
                                     topics, 1, on_rebalance, &pl, errstr, sizeof errstr);
        if (!pl.targets) {
                TE_LOG(TE_LOG_ERROR, NULL, "planner.consumer", "%s", errstr);
                goto out;
        }
        TE_LOG(TE_LOG_INFO, NULL, "planner.start", "group=%s targets=%s orders=%s",
               pl.conf.group_id, pl.conf.topic_targets, pl.conf.topic_orders);

        int64_t last_commit = te_proc_mono_ms();
        int dirty = 0;
        while (!te_proc_stop) {
                rd_kafka_message_t *m = te_consumer_poll(pl.targets, 50);
                if (m) {
                        if (!pl.first_target_ms)
                                pl.first_target_ms = te_proc_mono_ms();
                        int r = on_target(&pl, m);
                        pl.last_target_ms = te_proc_mono_ms();
                        if (r == 0) {
                                te_consumer_store(pl.targets, m);
                                dirty = 1;
                        }
                        rd_kafka_message_destroy(m);
                        if (r != 0)
                                break;
                } else {
                        drain_reports(&pl, 0);
                }
                te_producer_poll(pl.producer, 0);
                int64_t now = te_proc_mono_ms();
                if (dirty && now - last_commit >= pl.conf.commit_interval_ms) {
                        if (commit(&pl) != 0)
                                break;
                        dirty = 0;
                        last_commit = now;
                }
        }
        if (!pl.fatal && dirty && commit(&pl) != 0)
                pl.fatal = 1;
        TE_LOG(TE_LOG_INFO, NULL, "planner.stop",
               "targets=%llu orders=%llu dead_lettered=%llu reports=%llu illegal=%llu "
               "first_to_last_ms=%lld",
               (unsigned long long)pl.n_targets, (unsigned long long)pl.n_orders,
               (unsigned long long)pl.n_dead, (unsigned long long)pl.n_reports,
               (unsigned long long)te_book_illegal_count(pl.book),
               (long long)(pl.last_target_ms - pl.first_target_ms));
        rc = pl.fatal ? 1 : 0;
out:
        te_consumer_destroy(pl.targets);
        if (pl.reports) {
                rd_kafka_consumer_close(pl.reports);
                rd_kafka_destroy(pl.reports);
        }
        te_producer_destroy(pl.producer);
        if (pl.db)
                PQfinish(pl.db);
        te_book_destroy(pl.book);
        te_codec_destroy(pl.codec);
        te_target_portfolio_free(&pl.tp);
        free(pl.orders);
        te_buf_free(&pl.buf);
        te_obs_stop(http);
        te_cfg_destroy(cfg);
        return rc;
}
