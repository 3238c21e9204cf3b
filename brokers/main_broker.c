/*
 * exec-broker: exec.orders -> adapter -> exec.reports.
 *
 * One worker runs one adapter (only `sim` so far) in the broker group, partitions
 * shared by the range assignor. Each command is decoded (bad bytes: dead letter and
 * alert), passed through the mode gate to the adapter, and every report that follows
 * is published keyed by portfolio_id, so it lands on the partition number of the
 * order (co-partitioning). Order offsets are committed only after the reports they
 * caused are delivered (te_dlog.h: without a producer flush on the way, which stopped
 * the loop for ~40 ms every commit interval on the mock cluster); replays repeat
 * deterministic report ids. The sim's open orders live only in its memory, so with each
 * offset the worker commits the offset of the oldest order still open (metadata
 * "replay_from=N") and, on every assignment, rebuilds the book by replaying from there
 * without publishing (README "Resting orders and broker restarts"; broker.h).
 *
 * Safety in front of the adapter (broker_guard.h): orders older than order.max_age.ms
 * are EXPIRED instead of sent late, and limits.* (max quantity, notional, orders/s)
 * reject with the limit named; orders of the other mode are refused by the mode gate
 * with a CRITICAL mode_refused Alert. When the adapter reports itself disconnected
 * (ops->connected; fault.script can script it, broker_faulty.h) the worker pauses its
 * partitions, puts back the order it could not place, publishes BROKER_STATE DOWN on
 * its reports partitions and a broker_down Alert; when it is back it reconciles (poll),
 * publishes BROKER_STATE UP and resumes. On every partition assignment it also announces
 * its current state there (no Alert): planners hold targets while a worker says DOWN,
 * and a worker restarted or replaced during an outage must tell them it is up.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bars.h"
#include "broker.h"
#include "broker_faulty.h"
#include "broker_guard.h"
#include "broker_fix.h"
#include "broker_ibkr.h"
#include "broker_sim.h"
#include "te_buf.h"
#include "te_cfgtab.h"
#include "te_codec.h"
#include "te_dlog.h"
#include "te_emit.h"
#include "te_kafka.h"
#include "te_log.h"
#include "te_map.h"
#include "te_obs.h"
#include "te_proc.h"

#define PROC "exec-broker"

typedef struct conf_s {
        te_common_conf_t common;
        char group_id[128];
        char topic_orders[128];
        char topic_reports[128];
        char topic_alerts[128];
        char topic_deadletter[128];
        int64_t commit_interval_ms;
        int adapter;
        char bars_csv[1024];
        double slippage_bps;
        double commission_per_share;
        double commission_min;
        int bars_db;
        char bars_from[16], bars_to[16];
        int market_at;
        double participation, emergency_participation, emergency_cross_bps, impact_k;
        double lot, commission_max_frac, commission_per_order, price_increment;
        char price_increments[2048];
        int64_t max_stale_days;
        char broker_name[TE_NAME_MAX];
        char account[TE_NAME_MAX];
        char fault_script[256];
        double lim_max_qty, lim_max_notional, lim_max_rate;
        int64_t max_age_ms;
        char ibkr_host[256];
        int64_t ibkr_port, ibkr_client_id, ibkr_max_msgs, ibkr_reconnect_min_ms,
            ibkr_reconnect_max_ms, ibkr_commission_wait_ms, ibkr_timeout_ms,
            ibkr_position_check_ms;
        char ibkr_accounts[512];
        int ibkr_use_db;
        char fix_host[256], fix_sender[TE_FIX_COMPID_MAX], fix_target[TE_FIX_COMPID_MAX];
        char fix_account[TE_NAME_MAX], fix_order_types[128], fix_tifs[128];
        char fix_password_file[512];
        int64_t fix_port, fix_heartbt_int, fix_max_msgs, fix_reconnect_min_ms,
            fix_reconnect_max_ms, fix_reconcile_timeout_ms;
        int fix_reset_on_logon, fix_use_db;
} conf_t;

static const char *const adapters[] = {"sim", "ibkr", "fix", NULL};
enum { ADAPTER_SIM = 0, ADAPTER_IBKR = 1, ADAPTER_FIX = 2 };
static const char *const sim_market_at[] = {"close", "next_open", NULL};

static const te_cfg_item_t conf_items[] = {
    TE_CFG_COMMON(conf_t),
    TE_CFG_S(conf_t, "group.id", group_id, "exec-broker-sim", "consumer group"),
    TE_CFG_S(conf_t, "topic.orders", topic_orders, "exec.orders", "order commands topic"),
    TE_CFG_S(conf_t, "topic.reports", topic_reports, "exec.reports",
             "execution reports topic"),
    TE_CFG_S(conf_t, "topic.alerts", topic_alerts, "exec.alerts", "alerts topic"),
    TE_CFG_S(conf_t, "topic.deadletter", topic_deadletter, "exec.deadletter",
             "dead-letter topic (records refused, with the reason)"),
    TE_CFG_I(conf_t, "commit.interval.ms", commit_interval_ms, "500", 0, 60000,
             "flush reports and commit order offsets this often"),
    TE_CFG_E(conf_t, "adapter", adapter, "sim", adapters, "broker adapter"),
    TE_CFG_S(conf_t, "sim.bars_csv", bars_csv, "", "daily bars CSV for the simulator"),
    TE_CFG_D(conf_t, "sim.slippage_bps", slippage_bps, "5", 0, 10000,
             "fill price moved against the order by this much"),
    TE_CFG_D(conf_t, "sim.commission_per_share", commission_per_share, "0.005", 0, 100,
             "sim commission per share traded, in the order currency"),
    TE_CFG_D(conf_t, "sim.commission_min", commission_min, "1", 0, 1e6,
             "minimum commission per order"),
    /* sim fill model: defaults and rules documented in brokers/fill_model.h */
    TE_CFG_B(conf_t, "sim.bars_db", bars_db, "false",
             "load bars from PostgreSQL prices_daily (db.conninfo) instead of the CSV"),
    TE_CFG_S(conf_t, "sim.bars_from", bars_from, "",
             "sim.bars_db: first date YYYY-MM-DD"),
    TE_CFG_S(conf_t, "sim.bars_to", bars_to, "", "sim.bars_db: last date YYYY-MM-DD"),
    TE_CFG_E(conf_t, "sim.market_at", market_at, "close", sim_market_at,
             "MARKET orders: close of the event-time bar, or next bar's open"),
    TE_CFG_D(conf_t, "sim.participation", participation, "0.025", 0.0001, 1,
             "max share of a bar's volume one order fills"),
    TE_CFG_D(conf_t, "sim.emergency_participation", emergency_participation, "0.10",
             0.0001, 1, "the cap for aggressiveness EMERGENCY"),
    TE_CFG_D(conf_t, "sim.emergency_cross_bps", emergency_cross_bps, "10", 0, 10000,
             "extra slippage EMERGENCY pays to cross"),
    TE_CFG_D(conf_t, "sim.impact_k", impact_k, "1", 0, 1e6,
             "square-law impact: price x (1 +- k x share^2)"),
    TE_CFG_D(conf_t, "sim.lot", lot, "1", 1e-6, 1e6, "fill quantities are multiples"),
    TE_CFG_D(conf_t, "sim.commission_max_frac", commission_max_frac, "0.01", 0, 0.1,
             "max commission per order as a fraction of its value, 0.01 = 1% (0: none)"),
    TE_CFG_RENAMED_TO("sim.commission_max_pct", "sim.commission_max_frac",
                      "a fraction of the order value, at most 0.1: 0.01 means 1%"),
    TE_CFG_D(conf_t, "sim.commission_per_order", commission_per_order, "0", 0, 1e6,
             "fixed commission per order"),
    TE_CFG_D(conf_t, "sim.price_increment", price_increment, "0.0001", 1e-8, 1000,
             "fill and average prices are multiples of this"),
    TE_CFG_S(conf_t, "sim.price_increments", price_increments, "",
             "instruments with their own increment: TICKER=increment,..."),
    TE_CFG_I(conf_t, "sim.max_stale_days", max_stale_days, "5", 0, 3650,
             "an older reference bar means no market data"),
    TE_CFG_S(conf_t, "broker.name", broker_name, "sim", "written to reports and trades"),
    TE_CFG_S(conf_t, "broker.account", account, "SIM-1",
             "account written to reports and trades"),
    /* worker safety (brokers/broker_guard.h, brokers/broker_faulty.h) */
    TE_CFG_D(conf_t, "limits.max_qty", lim_max_qty, "0", 0, 1e15,
             "reject NEW/REPLACE above this quantity (0: off)"),
    TE_CFG_D(conf_t, "limits.max_notional", lim_max_notional, "0", 0, 1e18,
             "reject NEW/REPLACE above quantity x limit (else reference) price (0: off)"),
    TE_CFG_D(conf_t, "limits.max_orders_per_sec", lim_max_rate, "0", 0, 1e9,
             "reject NEW/REPLACE above this rate, wall clock (0: off)"),
    TE_CFG_I(conf_t, "order.max_age.ms", max_age_ms, "0", 0, 86400000,
             "EXPIRE orders older than this (Kafka timestamp) instead of sending them "
             "late, e.g. after a broker outage (0: off)"),
    TE_CFG_S(conf_t, "fault.script", fault_script, "",
             "fault injection for drills and tests, e.g. down_after=20,down_ms=3000,"
             "reject_ticker=XYZ (brokers/broker_faulty.h)"),
    /* adapter ibkr: TWS / IB Gateway (brokers/broker_ibkr.h; README "Interactive
       Brokers") */
    TE_CFG_S(conf_t, "ibkr.host", ibkr_host, "127.0.0.1", "TWS / IB Gateway host"),
    TE_CFG_I(conf_t, "ibkr.port", ibkr_port, "4002", 1, 65535,
             "API port (IB Gateway paper 4002, live 4001; TWS 7497 / 7496)"),
    TE_CFG_I(conf_t, "ibkr.client_id", ibkr_client_id, "1", 0, 2147483647,
             "API client id (one per worker)"),
    TE_CFG_S(conf_t, "ibkr.accounts", ibkr_accounts, "",
             "allow-list of IB accounts, comma separated; the first is the default"),
    TE_CFG_I(conf_t, "ibkr.max_msgs_per_sec", ibkr_max_msgs, "45", 1, 50,
             "outgoing API messages per second (TWS disconnects above 50)"),
    TE_CFG_I(conf_t, "ibkr.reconnect_min_ms", ibkr_reconnect_min_ms, "500", 1, 600000,
             "first reconnect delay (doubles up to ibkr.reconnect_max_ms)"),
    TE_CFG_I(conf_t, "ibkr.reconnect_max_ms", ibkr_reconnect_max_ms, "30000", 1, 3600000,
             "longest delay between reconnect attempts"),
    TE_CFG_I(conf_t, "ibkr.commission_wait_ms", ibkr_commission_wait_ms, "2000", 0,
             600000, "hold a fill this long for its commissionReport"),
    TE_CFG_I(conf_t, "ibkr.timeout_ms", ibkr_timeout_ms, "5000", 100, 600000,
             "connect, handshake and reconciliation deadline"),
    TE_CFG_I(conf_t, "ibkr.position_check_ms", ibkr_position_check_ms, "10000", 0, 600000,
             "after a reconciliation, how long IB's positions may differ from "
             "the runtime DB's before a position_mismatch alert (0: off)"),
    TE_CFG_B(conf_t, "ibkr.use_db", ibkr_use_db, "true",
             "persist TWS ids and delivered executions in the runtime DB"),
    /* adapter fix: a FIX 4.4 counterparty (brokers/broker_fix.h) */
    TE_CFG_S(conf_t, "fix.host", fix_host, "127.0.0.1", "FIX acceptor host"),
    TE_CFG_I(conf_t, "fix.port", fix_port, "9878", 1, 65535, "FIX acceptor port"),
    TE_CFG_S(conf_t, "fix.sender_comp_id", fix_sender, "", "our SenderCompID; required"),
    TE_CFG_S(conf_t, "fix.target_comp_id", fix_target, "",
             "the counterparty's CompID; required"),
    TE_CFG_I(conf_t, "fix.heartbt_int", fix_heartbt_int, "30", 1, 3600,
             "HeartBtInt in the Logon, seconds"),
    TE_CFG_S(conf_t, "fix.account", fix_account, "",
             "Account (1) on orders; empty: none"),
    TE_CFG_S(conf_t, "fix.order_types", fix_order_types, "MARKET,LIMIT,STOP,STOP_LIMIT",
             "order types the counterparty takes; others are REJECTED before sending"),
    TE_CFG_S(conf_t, "fix.tifs", fix_tifs, "DAY,GTC,IOC,FOK,OPG,CLS",
             "TimeInForce values the counterparty takes"),
    TE_CFG_I(conf_t, "fix.max_msgs_per_sec", fix_max_msgs, "45", 1, 1000,
             "outgoing orders, cancels, replaces and status requests per second "
             "(cancels first)"),
    TE_CFG_I(conf_t, "fix.reconnect_min_ms", fix_reconnect_min_ms, "500", 1, 600000,
             "first reconnect delay (doubles up to fix.reconnect_max_ms)"),
    TE_CFG_I(conf_t, "fix.reconnect_max_ms", fix_reconnect_max_ms, "30000", 1, 3600000,
             ""),
    TE_CFG_I(conf_t, "fix.reconcile_timeout_ms", fix_reconcile_timeout_ms, "5000", 100,
             600000, "wait this long for the status of open orders after a Logon"),
    TE_CFG_B(conf_t, "fix.reset_seq_on_logon", fix_reset_on_logon, "false",
             "Logon with ResetSeqNumFlag=Y: both sequence numbers restart at 1"),
    TE_CFG_S(conf_t, "fix.password_file", fix_password_file, "",
             "file whose first line is the Password (554); else $TE_FIX_PASSWORD; "
             "never logged"),
    TE_CFG_B(conf_t, "fix.use_db", fix_use_db, "true",
             "keep the session's sequence numbers in the runtime DB"),
};

typedef struct worker_s {
        conf_t conf;
        te_codec_t *codec;
        te_producer_t *producer;
        te_consumer_t *consumer;
        te_bars_t *bars;
        te_broker_t *broker;
        te_reports_t reports;
        te_order_cmd_t cmd;
        te_buf_t buf;
        uint64_t n_cmds, n_reports, n_dead;
        te_guard_t guard;
        int up;               /* adapter connected (last seen) */
        int64_t last_repause; /* while down: re-pause new assignments this often */
        int announce;         /* partitions assigned: publish the state to them */
        uint64_t n_expired, n_limit_rejects, n_outages;
        te_dlog_t *dlog; /* orders finished, waiting for their reports' delivery */
        /* Rebuild by replay (adapter sim, README "Resting orders"): `floor` is a
         * second ledger where a NEW is finished only when its order is terminal, so
         * its position is the oldest order still open: committed as the offsets'
         * metadata ("replay_from=N"), replayed from on assignment. NULL for ibkr. */
        te_broker_t *sim;  /* the simulator inside any fault wrapper, or NULL */
        te_dlog_t *floor;  /* NULL unless sim */
        te_map_t *resting; /* order_id -> resting_t: open orders' NEW offsets */
        int64_t pos[TE_DLOG_MAX_PARTS];          /* last committed offset, or -1 */
        int64_t floor_at[TE_DLOG_MAX_PARTS];     /* last committed replay floor */
        int64_t replay_until[TE_DLOG_MAX_PARTS]; /* below: rebuild, publish nothing */
        int rebuilding;                          /* the message in hand is below it */
        int decoded;                             /* the message in hand was decoded */
        int fatal;                               /* set by the rebalance callback */
        uint64_t n_replayed;
} worker_t;

typedef struct resting_s {
        int32_t partition;
        int64_t offset;
} resting_t;

/* Pause (or resume) every partition currently assigned. */
static void pause_all(worker_t *w, int pause)
{
        rd_kafka_t *rk = te_consumer_handle(w->consumer);
        rd_kafka_topic_partition_list_t *a = NULL;
        if (rd_kafka_assignment(rk, &a) != RD_KAFKA_RESP_ERR_NO_ERROR || !a)
                return;
        if (a->cnt)
                (void)(pause ? rd_kafka_pause_partitions(rk, a)
                             : rd_kafka_resume_partitions(rk, a));
        rd_kafka_topic_partition_list_destroy(a);
}

/* Publish a BROKER_STATE report to every exec.reports partition whose exec.orders
 * partition this worker owns (co-partitioning: the planner of those portfolios reads
 * it), or keyed by broker name when it owns none; and an Alert if `alert`.
 * @returns 0 or -1. */
static int publish_state(worker_t *w, int up, const char *why, int alert)
{
        char errstr[256];
        te_exec_report_t r;
        memset(&r, 0, sizeof r);
        int64_t now = te_proc_wall_ms();
        snprintf(r.report_id, sizeof r.report_id, "bs-%s-%s-%lld", w->broker->ops->name,
                 up ? "up" : "down", (long long)now);
        r.exec_type = TE_EXEC_BROKER_STATE;
        r.order_status = TE_OS_NEW;
        snprintf(r.reason, sizeof r.reason, "%s: %s", up ? "UP" : "DOWN", why);
        te_strlcpy(r.broker, w->broker->ops->name, sizeof r.broker);
        te_strlcpy(r.account, w->conf.account, sizeof r.account);
        r.mode = w->broker->ops->mode;
        r.event_time = now;
        if (te_codec_encode_exec_report(w->codec, &r, &w->buf, errstr, sizeof errstr) !=
            TE_CODEC_OK) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.encode", "%s", errstr);
                return -1;
        }
        const char *key = w->broker->ops->name;
        rd_kafka_t *prk = te_producer_handle(w->producer);
        rd_kafka_topic_partition_list_t *a = NULL;
        int sent = 0, rc = 0;
        if (rd_kafka_assignment(te_consumer_handle(w->consumer), &a) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            a) {
                for (int i = 0; i < a->cnt; i++) {
                        rd_kafka_resp_err_t err = rd_kafka_producev(
                            prk, RD_KAFKA_V_TOPIC(w->conf.topic_reports),
                            RD_KAFKA_V_PARTITION(a->elems[i].partition),
                            RD_KAFKA_V_KEY(key, strlen(key)),
                            RD_KAFKA_V_VALUE(w->buf.data, w->buf.len),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                        if (err) {
                                TE_LOG(TE_LOG_ERROR, NULL, "broker.send",
                                       "broker state: %s", rd_kafka_err2str(err));
                                rc = -1;
                        }
                        sent++;
                }
                rd_kafka_topic_partition_list_destroy(a);
        }
        if (!sent && te_producer_send(w->producer, w->conf.topic_reports, key,
                                      strlen(key), w->buf.data, w->buf.len, NULL, 0,
                                      errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.send", "broker state: %s", errstr);
                rc = -1;
        }
        if (alert)
                te_emit_alert(w->producer, w->codec, w->conf.topic_alerts,
                              up ? TE_SEV_INFO : TE_SEV_CRITICAL, PROC,
                              up ? "broker_up" : "broker_down", NULL, NULL, NULL,
                              "broker %s %s: %s", w->broker->ops->name,
                              up ? "up" : "down", why);
        return rc;
}

/* The replay floor a commit stored with the offset ("replay_from=N"), or -1. */
static int64_t parse_floor(const rd_kafka_topic_partition_t *t)
{
        static const char key[] = "replay_from=";
        char text[64];
        if (!t->metadata || t->metadata_size == 0 || t->metadata_size >= sizeof text)
                return -1;
        memcpy(text, t->metadata, t->metadata_size);
        text[t->metadata_size] = '\0';
        if (strncmp(text, key, sizeof key - 1) != 0)
                return -1;
        char *end = NULL;
        long long v = strtoll(text + sizeof key - 1, &end, 10);
        return end && *end == '\0' && end != text + sizeof key - 1 && v >= 0 ? v : -1;
}

/* Partitions assigned to a worker that rebuilds by replay: read each one's committed
 * offset and replay floor, and start it at the floor; the orders between the two are
 * rebuilt without publishing anything (their reports are already on exec.reports).
 * @returns 0 or -1 (the floor is unknown: going on would forget open orders). */
static int replay_start(worker_t *w, rd_kafka_t *rk,
                        rd_kafka_topic_partition_list_t *parts)
{
        rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
        rd_kafka_resp_err_t err = rd_kafka_committed(rk, c, 10000);
        int rc = 0;
        if (err) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.rebuild",
                       "committed offsets and replay floors: %s", rd_kafka_err2str(err));
                rd_kafka_topic_partition_list_destroy(c);
                return -1;
        }
        for (int i = 0; i < c->cnt; i++) {
                const rd_kafka_topic_partition_t *t = &c->elems[i];
                int32_t p = t->partition;
                if (p < 0 || p >= TE_DLOG_MAX_PARTS)
                        continue;
                if (t->err) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.rebuild", "%s[%d]: %s",
                               t->topic, (int)p, rd_kafka_err2str(t->err));
                        rc = -1;
                        continue;
                }
                if (t->offset < 0) /* nothing committed: everything is read anyway */
                        continue;
                int64_t from = parse_floor(t);
                w->pos[p] = t->offset;
                w->floor_at[p] = from >= 0 && from <= t->offset ? from : t->offset;
                if (from < 0 || from >= t->offset)
                        continue;
                w->replay_until[p] = t->offset;
                rd_kafka_topic_partition_t *a =
                    rd_kafka_topic_partition_list_find(parts, t->topic, p);
                if (a)
                        a->offset = from;
                TE_LOG(TE_LOG_INFO, NULL, "broker.rebuild",
                       "%s[%d]: replaying offsets %lld..%lld to rebuild the open orders",
                       t->topic, (int)p, (long long)from, (long long)t->offset - 1);
        }
        rd_kafka_topic_partition_list_destroy(c);
        return rc;
}

static void on_rebalance(te_consumer_t *c, rd_kafka_topic_partition_list_t *parts,
                         int assigned, void *opaque)
{
        worker_t *w = opaque;
        /* eager rebalance: every partition is revoked, then some assigned; what was not
         * committed is read again by whoever owns it now (replays are recognised) */
        te_dlog_clear(w->dlog);
        for (size_t i = 0; i < TE_DLOG_MAX_PARTS; i++)
                w->pos[i] = w->floor_at[i] = w->replay_until[i] = -1;
        if (w->floor) { /* the book is rebuilt from the floors of what we own now */
                te_dlog_clear(w->floor);
                te_map_destroy(w->resting, free);
                w->resting = te_map_new();
                if (!w->resting || te_sim_reset(w->sim) != 0) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.rebuild", "out of memory");
                        w->fatal = 1;
                }
        }
        if (!assigned)
                return;
        w->announce = 1; /* once the assignment is in effect (the loop) */
        if (w->floor && replay_start(w, te_consumer_handle(c), parts) != 0)
                w->fatal = 1;
}

/* Follow the adapter's connection: when it goes down, stop taking orders (pause every
 * partition), publish BROKER_STATE and an Alert; when it is back (the adapter has
 * reconciled; its findings come out of its poll, published by the loop), publish
 * BROKER_STATE UP and resume. @returns 0 or -1 (fatal). */
static int watch_broker(worker_t *w)
{
        int up = !w->broker->ops->connected || w->broker->ops->connected(w->broker);
        int64_t now = te_proc_mono_ms();
        if (!up && w->up) {
                w->up = 0;
                w->n_outages++;
                w->last_repause = now;
                pause_all(w, 1);
                te_obs_broker_up(adapters[w->conf.adapter], 0);
                te_obs_ready("broker", 0);
                TE_LOG(TE_LOG_ERROR, NULL, "broker.down",
                       "adapter %s disconnected: partitions paused, no orders taken",
                       w->broker->ops->name);
                return publish_state(w, 0, "not taking orders; partitions paused", 1);
        }
        if (!up && now - w->last_repause >= 250) { /* new assignments while down */
                w->last_repause = now;
                pause_all(w, 1);
        }
        if (up && !w->up) {
                w->up = 1;
                te_obs_broker_up(adapters[w->conf.adapter], 1);
                te_obs_ready("broker", 1);
                /* the adapter reconciled before it said connected; what it found comes
                 * out of its poll, which the loop publishes (publish_polled): polling
                 * here would drop those reports */
                TE_LOG(TE_LOG_WARN, NULL, "broker.up",
                       "adapter %s back: reconciled, partitions resumed",
                       w->broker->ops->name);
                int rc = publish_state(w, 1, "reconciled; taking orders again", 1);
                pause_all(w, 0);
                return rc;
        }
        return 0;
}

/* The adapter could not take `m` (went down): put it back so that it is read again
 * after the outage, and stop taking orders. */
static void put_back(worker_t *w, const rd_kafka_message_t *m)
{
        rd_kafka_t *rk = te_consumer_handle(w->consumer);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)
            ->offset = m->offset;
        pause_all(w, 1);
        rd_kafka_error_t *e = rd_kafka_seek_partitions(rk, l, 5000);
        if (e) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.seek",
                       "%s[%d] back to %lld: %s (re-read after a restart: not committed)",
                       rd_kafka_topic_name(m->rkt), (int)m->partition,
                       (long long)m->offset, rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
        }
        rd_kafka_topic_partition_list_destroy(l);
}

/* te_orders_tif_expired_total: orders the broker expired at the end of their time in
 * force (not an Alert: te_orders_final_total{state="EXPIRED"} counts every expiry). */
static void order_expired_event(const te_exec_report_t *r)
{
        static te_metric_t *expired;
        if (!expired && te_obs_registry())
                expired = te_metrics_counter(
                    te_obs_registry(), "te_orders_tif_expired_total",
                    "Orders the broker expired at the end of their time in force (DAY "
                    "at the session end, OPG/CLS not filled): a normal outcome.",
                    NULL);
        if (expired)
                te_metric_add(expired, NULL, 1);
        te_log_ids_t ids = {.decision_id = r->ids.decision_id,
                            .portfolio_id = r->ids.portfolio_id,
                            .order_id = r->order_id};
        TE_LOG(TE_LOG_INFO, &ids, "order.expired", "%s %s cum=%.10g leaves=%.10g: %s",
               r->ticker, te_side_name(r->side), r->cum_qty, r->leaves_qty, r->reason);
}

/* @returns 0 when the message is done, 1 when the adapter is down (the message is put
 * back, not done), -1 on a fatal error. */
static int on_order(worker_t *w, rd_kafka_message_t *m)
{
        char errstr[512];
        w->decoded = 0;
        w->rebuilding = m->partition >= 0 && m->partition < TE_DLOG_MAX_PARTS &&
                        m->offset < w->replay_until[m->partition];
        te_reports_clear(&w->reports);
        /* dead letters whose delivery failed since: CRITICAL alerts */
        te_emit_lost(w->producer, w->codec, w->conf.topic_alerts, PROC);
        te_codec_err_t cerr = te_codec_decode_order_cmd(w->codec, m->payload, m->len,
                                                        &w->cmd, errstr, sizeof errstr);
        if (cerr == TE_CODEC_OK) /* within the value bounds (te_msg.h) */
                cerr = te_codec_check_bounds(TE_MSG_ORDER_COMMAND, &w->cmd, errstr,
                                             sizeof errstr);
        if (cerr != TE_CODEC_OK) {
                char reason[640];
                snprintf(reason, sizeof reason, "%s: %s", te_codec_err_name(cerr),
                         errstr);
                if (w->rebuilding) /* dead-lettered the first time */
                        return 0;
                w->n_dead++;
                /* skipped (alerted) when even a cut copy cannot be queued: never a
                 * stop on this offset */
                if (te_emit_deadletter(w->producer, w->codec, w->conf.topic_deadletter,
                                       w->conf.topic_alerts, PROC, m, reason, errstr,
                                       sizeof errstr) == 0)
                        te_emit_alert(w->producer, w->codec, w->conf.topic_alerts,
                                      TE_SEV_WARNING, PROC, "bad_order", NULL, NULL, NULL,
                                      "order dead-lettered: %s", reason);
                return 0;
        }
        w->decoded = 1;
        w->n_cmds++;
        if (w->cmd.command == TE_CMD_NEW && !w->rebuilding)
                te_obs_order_received();
        int oom = 0;
        te_guard_verdict_t gv =
            te_guard_check(&w->guard, &w->cmd, rd_kafka_message_timestamp(m, NULL),
                           te_proc_wall_ms(), w->broker->ops->name, &w->reports, &oom);
        int mode_refused =
            w->cmd.command != TE_CMD_CLOCK && w->cmd.mode != w->broker->ops->mode;
        te_broker_err_t berr = oom ? TE_BROKER_ERR_FATAL
                               : gv == TE_GUARD_PASS
                                   ? te_broker_handle(w->broker, &w->cmd, &w->reports)
                                   : TE_BROKER_OK;
        w->n_expired += gv == TE_GUARD_EXPIRED;
        w->n_limit_rejects += gv == TE_GUARD_REJECTED;
        if (berr == TE_BROKER_ERR_RETRIABLE) {
                put_back(w, m);
                return 1;
        }
        if (berr != TE_BROKER_OK) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.adapter_error", "adapter error %d",
                       berr);
                return -1;
        }
        if (w->rebuilding) { /* its reports were delivered before the offset moved */
                w->n_replayed++;
                return 0;
        }
        for (size_t i = 0; i < w->reports.n; i++) {
                te_exec_report_t *r = &w->reports.items[i];
                if (te_codec_encode_exec_report(w->codec, r, &w->buf, errstr,
                                                sizeof errstr) != TE_CODEC_OK) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.encode", "%s", errstr);
                        return -1;
                }
                if (te_producer_send(w->producer, w->conf.topic_reports,
                                     r->ids.portfolio_id, strlen(r->ids.portfolio_id),
                                     w->buf.data, w->buf.len, NULL, 0, errstr,
                                     sizeof errstr) != 0) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.send", "%s", errstr);
                        return -1;
                }
                /* an order the broker expired at the end of its time in force (a DAY
                 * order at the session end, OPG/CLS not filled) is a normal outcome:
                 * an event and a metric, no Alert. One the worker expired because it
                 * waited too long to be sent (order.max_age.ms) asks for a look. */
                int tif_end = r->exec_type == TE_EXEC_EXPIRED && !mode_refused &&
                              gv != TE_GUARD_EXPIRED;
                if (tif_end)
                        order_expired_event(r);
                else if (r->exec_type == TE_EXEC_REJECTED ||
                         r->exec_type == TE_EXEC_EXPIRED)
                        te_emit_alert(w->producer, w->codec, w->conf.topic_alerts,
                                      mode_refused ? TE_SEV_CRITICAL : TE_SEV_WARNING,
                                      PROC,
                                      mode_refused                      ? "mode_refused"
                                      : r->exec_type == TE_EXEC_EXPIRED ? "order_expired"
                                      : gv == TE_GUARD_REJECTED         ? "limit_rejected"
                                                                : "order_rejected",
                                      r->ids.decision_id, r->ids.portfolio_id,
                                      r->order_id, "%s", r->reason);
                te_log_ids_t ids = {.decision_id = r->ids.decision_id,
                                    .portfolio_id = r->ids.portfolio_id,
                                    .order_id = r->order_id,
                                    .report_id = r->report_id};
                TE_LOG(TE_LOG_DEBUG, &ids, "report.sent", "%s %s qty=%.10g px=%.10g",
                       te_exec_type_name(r->exec_type), r->ticker, r->last_qty,
                       r->last_price);
                te_obs_report_sent(r, &w->cmd, rd_kafka_message_timestamp(m, NULL));
        }
        w->n_reports += w->reports.n;
        return 0;
}

/* Reports the adapter produced on its own (live brokers: fills, cancels, rejects).
 * @returns how many were published, or -1 on a fatal error. */
static int publish_polled(worker_t *w)
{
        char errstr[512];
        te_reports_clear(&w->reports);
        if (w->broker->ops->poll(w->broker, &w->reports) != TE_BROKER_OK) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.adapter_error", "poll failed");
                return -1;
        }
        for (size_t i = 0; i < w->reports.n; i++) {
                te_exec_report_t *r = &w->reports.items[i];
                if (te_codec_encode_exec_report(w->codec, r, &w->buf, errstr,
                                                sizeof errstr) != TE_CODEC_OK ||
                    te_producer_send(w->producer, w->conf.topic_reports,
                                     r->ids.portfolio_id, strlen(r->ids.portfolio_id),
                                     w->buf.data, w->buf.len, NULL, 0, errstr,
                                     sizeof errstr) != 0) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.send", "%s", errstr);
                        return -1;
                }
                if (r->exec_type == TE_EXEC_REJECTED)
                        te_emit_alert(w->producer, w->codec, w->conf.topic_alerts,
                                      TE_SEV_WARNING, PROC, "order_rejected",
                                      r->ids.decision_id, r->ids.portfolio_id,
                                      r->order_id, "%s", r->reason);
                te_obs_report_sent(r, NULL, 0);
        }
        w->n_reports += w->reports.n;
        return (int)w->reports.n;
}

/* Alerts the ibkr adapter raises (REPLACE refused, position mismatch, commission
 * missing or late) go to exec.alerts like the worker's own. */
static void ibkr_alert(void *ctx, te_severity_t sev, const char *code,
                       const char *decision_id, const char *portfolio_id,
                       const char *order_id, const char *message)
{
        worker_t *w = ctx;
        if (w->producer)
                te_emit_alert(w->producer, w->codec, w->conf.topic_alerts, sev, PROC,
                              code, decision_id, portfolio_id, order_id, "%s", message);
}

/* A comma-separated list of enum names as a bit set. @returns 0, or -1 with errstr. */
static int name_bits(const char *list, const char *const *names, int n, unsigned *bits,
                     char *errstr, size_t errstr_size)
{
        char tmp[128];
        te_strlcpy(tmp, list, sizeof tmp);
        *bits = 0;
        for (char *sv, *p = strtok_r(tmp, ", ", &sv); p; p = strtok_r(NULL, ", ", &sv)) {
                int v = te_enum_parse(names, n, p);
                if (v < 0) {
                        snprintf(errstr, errstr_size, "unknown name %s", p);
                        return -1;
                }
                *bits |= 1u << v;
        }
        return 0;
}

static void fix_alert(void *ctx, te_severity_t sev, const char *code,
                      const char *decision_id, const char *portfolio_id,
                      const char *order_id, const char *message)
{
        ibkr_alert(ctx, sev, code, decision_id, portfolio_id, order_id, message);
}

static te_broker_t *new_fix(worker_t *w, char *errstr, size_t errstr_size)
{
        const conf_t *c = &w->conf;
        te_fix_cfg_t fc;
        te_fix_cfg_defaults(&fc);
        te_strlcpy(fc.host, c->fix_host, sizeof fc.host);
        fc.port = (int)c->fix_port;
        te_strlcpy(fc.sender, c->fix_sender, sizeof fc.sender);
        te_strlcpy(fc.target, c->fix_target, sizeof fc.target);
        fc.heartbt_int = (int)c->fix_heartbt_int;
        te_strlcpy(fc.account, c->fix_account, sizeof fc.account);
        if (name_bits(c->fix_order_types, te_order_type_names, TE_OT__CNT,
                      &fc.order_types, errstr, errstr_size) != 0 ||
            name_bits(c->fix_tifs, te_tif_names, TE_TIF__CNT, &fc.tifs, errstr,
                      errstr_size) != 0)
                return NULL;
        fc.max_msgs_per_sec = (int)c->fix_max_msgs;
        fc.reconnect_min_ms = c->fix_reconnect_min_ms;
        fc.reconnect_max_ms = c->fix_reconnect_max_ms;
        fc.reconcile_timeout_ms = c->fix_reconcile_timeout_ms;
        fc.reset_on_logon = c->fix_reset_on_logon;
        fc.use_db = c->fix_use_db;
        te_strlcpy(fc.db_conninfo, c->common.db_conninfo, sizeof fc.db_conninfo);
        te_strlcpy(fc.broker_name, strcmp(c->broker_name, "sim") ? c->broker_name : "fix",
                   sizeof fc.broker_name);
        if (c->fix_password_file[0]) {
                FILE *f = fopen(c->fix_password_file, "r");
                if (!f || !fgets(fc.password, sizeof fc.password, f)) {
                        snprintf(errstr, errstr_size,
                                 "fix.password_file: cannot read it");
                        if (f)
                                fclose(f);
                        return NULL;
                }
                fclose(f);
                fc.password[strcspn(fc.password, "\r\n")] = '\0';
        } else if (getenv("TE_FIX_PASSWORD")) {
                te_strlcpy(fc.password, getenv("TE_FIX_PASSWORD"), sizeof fc.password);
        }
        fc.alert = fix_alert;
        fc.alert_ctx = w;
        te_broker_t *b = te_fix_new(&fc, errstr, errstr_size);
        memset(fc.password, 0, sizeof fc.password);
        return b;
}

static te_broker_t *new_ibkr(worker_t *w, char *errstr, size_t errstr_size)
{
        const conf_t *c = &w->conf;
        te_ibkr_cfg_t ic;
        te_ibkr_cfg_defaults(&ic);
        te_strlcpy(ic.host, c->ibkr_host, sizeof ic.host);
        ic.port = (int)c->ibkr_port;
        ic.client_id = (int)c->ibkr_client_id;
        te_strlcpy(ic.accounts, c->ibkr_accounts, sizeof ic.accounts);
        ic.max_msgs_per_sec = (int)c->ibkr_max_msgs;
        ic.reconnect_min_ms = c->ibkr_reconnect_min_ms;
        ic.reconnect_max_ms = c->ibkr_reconnect_max_ms;
        ic.commission_wait_ms = c->ibkr_commission_wait_ms;
        ic.connect_timeout_ms = c->ibkr_timeout_ms;
        ic.position_check_ms = c->ibkr_position_check_ms;
        ic.use_db = c->ibkr_use_db;
        te_strlcpy(ic.db_conninfo, c->common.db_conninfo, sizeof ic.db_conninfo);
        te_strlcpy(ic.broker_name,
                   strcmp(c->broker_name, "sim") ? c->broker_name : "ibkr",
                   sizeof ic.broker_name);
        ic.alert = ibkr_alert;
        ic.alert_ctx = w;
        return te_ibkr_new(&ic, errstr, errstr_size);
}

static int terminal(const te_exec_report_t *r)
{
        if (r->exec_type == TE_EXEC_CLOCK_ACK || r->exec_type == TE_EXEC_BROKER_STATE)
                return 0;
        return r->order_status == TE_OS_FILLED || r->order_status == TE_OS_CANCELED ||
               r->order_status == TE_OS_EXPIRED || r->order_status == TE_OS_REJECTED;
}

/* Orders of w->reports that ended (except `skip`): their NEW is finished in the floor
 * ledger once these reports (queued up to `seq`) are delivered. @returns 0 or -1. */
static int settle(worker_t *w, const char *skip, uint64_t seq)
{
        int rc = 0;
        for (size_t i = 0; i < w->reports.n; i++) {
                const te_exec_report_t *r = &w->reports.items[i];
                if (!terminal(r) || (skip && strcmp(r->order_id, skip) == 0))
                        continue;
                resting_t *e = te_map_del(w->resting, r->order_id);
                if (e && te_dlog_done(w->floor, e->partition, e->offset, seq) != 0)
                        rc = -1;
                free(e);
        }
        return rc;
}

/* Record the message just handled (decoded or dead-lettered) in the ledgers: finished
 * at once in `dlog`; in `floor` too, unless it is a NEW whose order now rests (ACKed,
 * not terminal), which stays unfinished until the order ends. @returns 0 or -1. */
static int record(worker_t *w, const rd_kafka_message_t *m)
{
        uint64_t seq = te_producer_sent_seq(w->producer);
        int32_t p = m->partition;
        if (te_dlog_consumed(w->dlog, p, m->offset) != 0 ||
            te_dlog_done(w->dlog, p, m->offset, seq) != 0)
                return -1;
        if (!w->floor)
                return 0;
        if (te_dlog_consumed(w->floor, p, m->offset) != 0)
                return -1;
        const char *own =
            w->decoded && w->cmd.command == TE_CMD_NEW ? w->cmd.order_id : NULL;
        int rests = 0;
        for (size_t i = 0; own && i < w->reports.n; i++) {
                const te_exec_report_t *r = &w->reports.items[i];
                if (strcmp(r->order_id, own) != 0)
                        continue;
                if (terminal(r)) {
                        rests = 0;
                        break;
                }
                if (r->exec_type == TE_EXEC_ACK)
                        rests = 1;
        }
        if (settle(w, rests ? own : NULL, seq) != 0)
                return -1;
        if (rests && !te_map_get(w->resting, own)) {
                resting_t *e = malloc(sizeof *e);
                if (!e)
                        return -1;
                *e = (resting_t){.partition = p, .offset = m->offset};
                if (te_map_put(w->resting, own, e) != 0) {
                        free(e);
                        return -1;
                }
                return 0;
        }
        return te_dlog_done(w->floor, p, m->offset, seq);
}

/* commit() for a worker that rebuilds by replay: each partition's offset with its
 * replay floor as metadata, committed explicitly (nothing is stored, so the commits
 * on revoke and close cannot overwrite the floor). @returns 0 or -1 (fatal). */
static int commit_with_floor(worker_t *w, uint64_t delivered)
{
        rd_kafka_topic_partition_list_t *l = NULL;
        for (int32_t p = 0; p < TE_DLOG_MAX_PARTS; p++) {
                int64_t next = te_dlog_committable(w->dlog, p, delivered);
                (void)te_dlog_committable(w->floor, p, delivered);
                if (next > w->pos[p]) /* a rebuild never moves it back */
                        w->pos[p] = next;
                else
                        next = -1;
                if (w->pos[p] < 0)
                        continue;
                int64_t fl = te_dlog_first(w->floor, p);
                if (fl < 0 || fl > w->pos[p])
                        fl = w->pos[p];
                if (next < 0 && fl == w->floor_at[p])
                        continue;
                char meta[64];
                int n = snprintf(meta, sizeof meta, "replay_from=%lld", (long long)fl);
                if (!l)
                        l = rd_kafka_topic_partition_list_new(8);
                rd_kafka_topic_partition_t *t =
                    rd_kafka_topic_partition_list_add(l, w->conf.topic_orders, p);
                t->offset = w->pos[p];
                t->metadata = malloc((size_t)n); /* freed with the list */
                if (!t->metadata) {
                        rd_kafka_topic_partition_list_destroy(l);
                        return -1;
                }
                memcpy(t->metadata, meta, (size_t)n);
                t->metadata_size = (size_t)n;
                w->floor_at[p] = fl;
        }
        if (!l)
                return 0;
        rd_kafka_resp_err_t err = rd_kafka_commit(te_consumer_handle(w->consumer), l, 0);
        rd_kafka_topic_partition_list_destroy(l);
        if (err) {
                TE_LOG(TE_LOG_ERROR, NULL, "kafka.commit_failed", "orders: %s",
                       rd_kafka_err2str(err));
                return -1;
        }
        return 0;
}

/* Commit the offsets of the orders whose reports are all delivered (te_dlog.h). An
 * adapter that must learn when its reports are delivered (ops->delivered: the ibkr
 * adapter records IB's executions as delivered) and the final commit flush first, so
 * that everything is delivered. A failed delivery is fatal, as it was for the flush:
 * the offsets never move past it, and a restart reads those orders again.
 * @returns 0 or -1 (fatal). */
static int commit(worker_t *w, int final)
{
        char errstr[256];
        uint64_t delivered;
        if (final || w->broker->ops->delivered) {
                if (te_producer_flush(w->producer, 30000, errstr, sizeof errstr) != 0) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.flush", "%s", errstr);
                        return -1;
                }
                if (w->broker->ops
                        ->delivered) /* every report so far is on exec.reports */
                        w->broker->ops->delivered(w->broker);
                delivered = UINT64_MAX;
        } else { /* delivery reports: served by the loop's te_producer_poll */
                delivered = te_producer_delivered_seq(w->producer);
        }
        uint64_t failed = te_producer_failed(w->producer);
        if (failed != 0) { /* the first one already stops the worker */
                TE_LOG(TE_LOG_ERROR, NULL, "broker.delivery",
                       "%llu report deliveries failed: orders not committed",
                       (unsigned long long)failed);
                return -1;
        }
        if (w->floor)
                return commit_with_floor(w, delivered);
        rd_kafka_topic_partition_list_t *l = NULL;
        for (int32_t p = 0; p < TE_DLOG_MAX_PARTS; p++) {
                int64_t next = te_dlog_committable(w->dlog, p, delivered);
                if (next < 0)
                        continue;
                if (!l)
                        l = rd_kafka_topic_partition_list_new(8);
                rd_kafka_topic_partition_list_add(l, w->conf.topic_orders, p)->offset =
                    next;
        }
        if (!l)
                return 0;
        rd_kafka_resp_err_t err =
            rd_kafka_offsets_store(te_consumer_handle(w->consumer), l);
        rd_kafka_topic_partition_list_destroy(l);
        if (err)
                TE_LOG(TE_LOG_WARN, NULL, "broker.store", "%s", rd_kafka_err2str(err));
        return te_consumer_commit(w->consumer, 1);
}

int main(int argc, char **argv)
{
        static worker_t w;
        char errstr[512];
        int rc = 1;
        te_cfg_t *cfg =
            te_cfgtab_start(PROC, conf_items, sizeof conf_items / sizeof conf_items[0],
                            &w.conf, &w.conf.common, argc, argv);
        if (!cfg)
                return te_cfgtab_exit_code();
        te_proc_install_signals();
        te_http_t *http = NULL;
        if (te_obs_start(&w.conf.common, PROC, TE_OBS_NEED_KAFKA | TE_OBS_NEED_BROKER,
                         &http, errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.metrics", "%s", errstr);
                goto out;
        }
        te_buf_init(&w.buf, TE_CODEC_MAX_MESSAGE);
        w.codec = te_codec_new(errstr, sizeof errstr);
        if (!w.codec) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.init", "%s", errstr);
                goto out;
        }
        if (w.conf.adapter == ADAPTER_IBKR) {
                w.broker = new_ibkr(&w, errstr, sizeof errstr);
                if (!w.broker) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.init", "ibkr: %s", errstr);
                        rc = 2;
                        goto out;
                }
                goto adapter_ready;
        }
        if (w.conf.adapter == ADAPTER_FIX) {
                w.broker = new_fix(&w, errstr, sizeof errstr);
                if (!w.broker) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.init", "fix: %s", errstr);
                        rc = 2;
                        goto out;
                }
                goto adapter_ready;
        }
        if (!w.conf.bars_csv[0] && !w.conf.bars_db) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.init",
                       "sim.bars_csv or sim.bars_db: required for adapter sim");
                rc = 2;
                goto out;
        }
        w.bars = te_bars_open(w.conf.bars_db ? NULL : w.conf.bars_csv,
                              w.conf.common.db_conninfo, w.conf.bars_from, w.conf.bars_to,
                              errstr, sizeof errstr);
        if (!w.bars) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.bars", "%s", errstr);
                goto out;
        }
        te_sim_cfg_t sc;
        te_sim_cfg_defaults(&sc);
        sc.fill.slippage_bps = w.conf.slippage_bps;
        sc.fill.commission_per_share = w.conf.commission_per_share;
        sc.fill.commission_min = w.conf.commission_min;
        sc.fill.market_at = (te_mkt_at_t)w.conf.market_at;
        sc.fill.participation = w.conf.participation;
        sc.fill.emergency_participation = w.conf.emergency_participation;
        sc.fill.emergency_cross_bps = w.conf.emergency_cross_bps;
        sc.fill.impact_k = w.conf.impact_k;
        sc.fill.lot = w.conf.lot;
        sc.fill.commission_max_frac = w.conf.commission_max_frac;
        sc.fill.commission_per_order = w.conf.commission_per_order;
        sc.fill.price_increment = w.conf.price_increment;
        if (te_sim_parse_ticks(&sc, w.conf.price_increments, errstr, sizeof errstr) !=
            0) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.init", "sim.price_increments: %s",
                       errstr);
                rc = 2;
                goto out;
        }
        sc.max_stale_days = (int)w.conf.max_stale_days;
        te_strlcpy(sc.broker_name, w.conf.broker_name, sizeof sc.broker_name);
        te_strlcpy(sc.account, w.conf.account, sizeof sc.account);
        w.broker = te_sim_new(&sc, w.bars);
        w.sim = w.broker;
        w.floor = te_dlog_new();
        w.resting = te_map_new();
        if (!w.floor || !w.resting) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.init", "out of memory");
                goto out;
        }
adapter_ready:
        w.producer = te_producer_new(cfg, w.conf.common.bootstrap, errstr, sizeof errstr);
        if (!w.broker || !w.producer) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.init", "%s",
                       w.broker ? errstr : "out of memory");
                goto out;
        }
        if (w.conf.fault_script[0]) {
                w.broker = te_faulty_new(w.broker, w.conf.fault_script, NULL, errstr,
                                         sizeof errstr);
                if (!w.broker) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.init", "%s", errstr);
                        rc = 2;
                        goto out;
                }
                TE_LOG(TE_LOG_WARN, NULL, "broker.fault_injection", "fault.script=%s",
                       w.conf.fault_script);
        }
        te_guard_cfg_t gc = {.max_qty = w.conf.lim_max_qty,
                             .max_notional = w.conf.lim_max_notional,
                             .max_orders_per_sec = w.conf.lim_max_rate,
                             .max_age_ms = w.conf.max_age_ms};
        te_guard_init(&w.guard, &gc);
        w.dlog = te_dlog_new();
        for (size_t i = 0; i < TE_DLOG_MAX_PARTS; i++)
                w.pos[i] = w.floor_at[i] = w.replay_until[i] = -1;
        if (!w.dlog) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.init", "out of memory");
                goto out;
        }
        /* a live adapter may still be connecting: take no orders until it is up */
        w.up = !w.broker->ops->connected || w.broker->ops->connected(w.broker);
        const char *topics[] = {w.conf.topic_orders};
        w.consumer = te_consumer_new(cfg, w.conf.common.bootstrap, w.conf.group_id,
                                     topics, 1, on_rebalance, &w, errstr, sizeof errstr);
        if (!w.consumer) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.consumer", "%s", errstr);
                goto out;
        }
        TE_LOG(TE_LOG_INFO, NULL, "broker.start",
               "adapter=%s bars=%zu tickers=%zu group=%s", adapters[w.conf.adapter],
               w.bars ? te_bars_count(w.bars) : 0,
               w.bars ? te_bars_ticker_count(w.bars) : 0, w.conf.group_id);
        te_obs_broker_up(adapters[w.conf.adapter], 1);
        te_obs_ready("broker", 1);

        int64_t last_commit = te_proc_mono_ms();
        int dirty = 0, fatal = 0;
        while (!te_proc_stop) {
                if (watch_broker(&w) != 0) {
                        fatal = 1;
                        break;
                }
                rd_kafka_message_t *m = te_consumer_poll(w.consumer, 50);
                if (w.fatal) {
                        if (m)
                                rd_kafka_message_destroy(m);
                        fatal = 1;
                        break;
                }
                if (w.announce && te_consumer_assigned_count(w.consumer) > 0) {
                        w.announce = 0; /* a failure is logged; the next change says it */
                        (void)publish_state(&w, w.up,
                                            w.up ? "assigned; taking orders"
                                                 : "assigned; not taking orders",
                                            0);
                }
                if (m && !w.up) { /* fetched before the pause: read it again later */
                        put_back(&w, m);
                        rd_kafka_message_destroy(m);
                        m = NULL;
                }
                if (m) {
                        int r = on_order(&w, m);
                        if (r == 0) {
                                /* finished: its reports are queued up to sent_seq */
                                if (record(&w, m) != 0) {
                                        TE_LOG(TE_LOG_ERROR, NULL, "broker.ledger",
                                               "cannot record %s[%d] offset %lld",
                                               rd_kafka_topic_name(m->rkt),
                                               (int)m->partition, (long long)m->offset);
                                        r = -1;
                                }
                                dirty = 1;
                        }
                        rd_kafka_message_destroy(m);
                        if (r < 0) {
                                fatal = 1;
                                break;
                        }
                }
                int np = publish_polled(&w);
                if (np < 0) {
                        fatal = 1;
                        break;
                }
                if (np > 0) {
                        dirty = 1;
                        if (w.floor &&
                            settle(&w, NULL, te_producer_sent_seq(w.producer)) != 0) {
                                fatal = 1;
                                break;
                        }
                }
                te_producer_poll(w.producer, 0);
                int64_t now = te_proc_mono_ms();
                if (dirty && now - last_commit >= w.conf.commit_interval_ms) {
                        if (commit(&w, 0) != 0) {
                                fatal = 1;
                                break;
                        }
                        dirty =
                            te_dlog_total(w.dlog) > 0 ||
                            (w.floor && te_dlog_total(w.floor) > te_map_count(w.resting));
                        last_commit = now;
                }
        }
        if (!fatal && dirty && commit(&w, 1) != 0)
                fatal = 1;
        TE_LOG(TE_LOG_INFO, NULL, "broker.stop",
               "commands=%llu reports=%llu dead_lettered=%llu expired=%llu "
               "limit_rejects=%llu outages=%llu replayed=%llu resting=%zu",
               (unsigned long long)w.n_cmds, (unsigned long long)w.n_reports,
               (unsigned long long)w.n_dead, (unsigned long long)w.n_expired,
               (unsigned long long)w.n_limit_rejects, (unsigned long long)w.n_outages,
               (unsigned long long)w.n_replayed, w.resting ? te_map_count(w.resting) : 0);
        rc = fatal ? 1 : 0;
out:
        te_consumer_destroy(w.consumer);
        te_producer_destroy(w.producer);
        te_broker_destroy(w.broker);
        te_bars_destroy(w.bars);
        te_dlog_destroy(w.dlog);
        te_dlog_destroy(w.floor);
        te_map_destroy(w.resting, free);
        te_reports_free(&w.reports);
        te_codec_destroy(w.codec);
        te_buf_free(&w.buf);
        te_obs_stop(http);
        te_cfg_destroy(cfg);
        return rc;
}
