/*
 * exec-broker: exec.orders -> adapter -> exec.reports.
 *
 * One worker runs one adapter (only `sim` so far) in the broker group, partitions
 * shared by the range assignor. Each command is decoded (bad bytes: dead letter and
 * alert), passed through the mode gate to the adapter, and every report that follows
 * is published keyed by portfolio_id, so it lands on the partition number of the
 * order (co-partitioning). Order offsets are committed only after the reports they
 * caused are delivered; replays repeat deterministic report ids.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bars.h"
#include "broker.h"
#include "broker_ibkr.h"
#include "broker_sim.h"
#include "te_buf.h"
#include "te_cfgtab.h"
#include "te_codec.h"
#include "te_emit.h"
#include "te_kafka.h"
#include "te_log.h"
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
        double lot, commission_max_pct, commission_per_order;
        int64_t max_stale_days;
        char broker_name[TE_NAME_MAX];
        char account[TE_NAME_MAX];
        char ibkr_host[256];
        int64_t ibkr_port, ibkr_client_id, ibkr_max_msgs, ibkr_reconnect_min_ms,
            ibkr_reconnect_max_ms, ibkr_commission_wait_ms, ibkr_timeout_ms;
        char ibkr_accounts[512];
        int ibkr_use_db;
} conf_t;

static const char *const adapters[] = {"sim", "ibkr", NULL};
enum { ADAPTER_SIM = 0, ADAPTER_IBKR = 1 };
static const char *const sim_market_at[] = {"close", "next_open", NULL};

static const te_cfg_item_t conf_items[] = {
    TE_CFG_COMMON(conf_t),
    TE_CFG_S(conf_t, "group.id", group_id, "exec-broker-sim", "consumer group"),
    TE_CFG_S(conf_t, "topic.orders", topic_orders, "exec.orders", ""),
    TE_CFG_S(conf_t, "topic.reports", topic_reports, "exec.reports", ""),
    TE_CFG_S(conf_t, "topic.alerts", topic_alerts, "exec.alerts", ""),
    TE_CFG_S(conf_t, "topic.deadletter", topic_deadletter, "exec.deadletter", ""),
    TE_CFG_I(conf_t, "commit.interval.ms", commit_interval_ms, "500", 0, 60000,
             "flush reports and commit order offsets this often"),
    TE_CFG_E(conf_t, "adapter", adapter, "sim", adapters, "broker adapter"),
    TE_CFG_S(conf_t, "sim.bars_csv", bars_csv, "", "daily bars CSV for the simulator"),
    TE_CFG_D(conf_t, "sim.slippage_bps", slippage_bps, "5", 0, 10000,
             "fill price moved against the order by this much"),
    TE_CFG_D(conf_t, "sim.commission_per_share", commission_per_share, "0.005", 0, 100,
             ""),
    TE_CFG_D(conf_t, "sim.commission_min", commission_min, "1", 0, 1e6,
             "minimum commission per order"),
    /* sim fill model: defaults and rules documented in brokers/fill_model.h */
    TE_CFG_B(conf_t, "sim.bars_db", bars_db, "false",
             "load bars from PostgreSQL prices_daily (db.conninfo) instead of the CSV"),
    TE_CFG_S(conf_t, "sim.bars_from", bars_from, "", "sim.bars_db: first date YYYY-MM-DD"),
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
    TE_CFG_D(conf_t, "sim.commission_max_pct", commission_max_pct, "0.01", 0, 1,
             "max commission per order as a fraction of its value (0: none)"),
    TE_CFG_D(conf_t, "sim.commission_per_order", commission_per_order, "0", 0, 1e6,
             "fixed commission per order"),
    TE_CFG_I(conf_t, "sim.max_stale_days", max_stale_days, "5", 0, 3650,
             "an older reference bar means no market data"),
    TE_CFG_S(conf_t, "broker.name", broker_name, "sim", "written to reports and trades"),
    TE_CFG_S(conf_t, "broker.account", account, "SIM-1", ""),
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
             ""),
    TE_CFG_I(conf_t, "ibkr.commission_wait_ms", ibkr_commission_wait_ms, "2000", 0,
             600000, "hold a fill this long for its commissionReport"),
    TE_CFG_I(conf_t, "ibkr.timeout_ms", ibkr_timeout_ms, "5000", 100, 600000,
             "connect, handshake and reconciliation deadline"),
    TE_CFG_B(conf_t, "ibkr.use_db", ibkr_use_db, "true",
             "persist TWS ids and delivered executions in the runtime DB"),
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
} worker_t;

/* @returns 0 when the message is done, -1 on a fatal error. */
static int on_order(worker_t *w, rd_kafka_message_t *m)
{
        char errstr[512];
        te_codec_err_t cerr = te_codec_decode_order_cmd(w->codec, m->payload, m->len,
                                                        &w->cmd, errstr, sizeof errstr);
        if (cerr != TE_CODEC_OK) {
                char reason[640];
                snprintf(reason, sizeof reason, "%s: %s", te_codec_err_name(cerr),
                         errstr);
                w->n_dead++;
                if (te_emit_deadletter(w->producer, w->conf.topic_deadletter, m, reason,
                                       errstr, sizeof errstr) != 0)
                        return -1;
                te_emit_alert(w->producer, w->codec, w->conf.topic_alerts, TE_SEV_WARNING,
                              PROC, "bad_order", NULL, NULL, NULL,
                              "order dead-lettered: %s", reason);
                return 0;
        }
        w->n_cmds++;
        if (w->cmd.command == TE_CMD_NEW)
                te_obs_order_received();
        te_reports_clear(&w->reports);
        te_broker_err_t berr = te_broker_handle(w->broker, &w->cmd, &w->reports);
        if (berr != TE_BROKER_OK) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.adapter_error", "adapter error %d",
                       berr);
                return -1;
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
                if (r->exec_type == TE_EXEC_REJECTED)
                        te_emit_alert(w->producer, w->codec, w->conf.topic_alerts,
                                      TE_SEV_WARNING, PROC, "order_rejected",
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
        }
        w->n_reports += w->reports.n;
        return (int)w->reports.n;
}

static te_broker_t *new_ibkr(const conf_t *c, char *errstr, size_t errstr_size)
{
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
        ic.use_db = c->ibkr_use_db;
        te_strlcpy(ic.db_conninfo, c->common.db_conninfo, sizeof ic.db_conninfo);
        te_strlcpy(ic.broker_name,
                   strcmp(c->broker_name, "sim") ? c->broker_name : "ibkr",
                   sizeof ic.broker_name);
        return te_ibkr_new(&ic, errstr, errstr_size);
}

static int commit(worker_t *w)
{
        char errstr[256];
        if (te_producer_flush(w->producer, 30000, errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.flush", "%s", errstr);
                return -1;
        }
        if (w->broker->ops->delivered) /* every report so far is on exec.reports */
                w->broker->ops->delivered(w->broker);
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
                return 2;
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
                w.broker = new_ibkr(&w.conf, errstr, sizeof errstr);
                if (!w.broker) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.init", "ibkr: %s", errstr);
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
        sc.fill.commission_max_pct = w.conf.commission_max_pct;
        sc.fill.commission_per_order = w.conf.commission_per_order;
        sc.max_stale_days = (int)w.conf.max_stale_days;
        te_strlcpy(sc.broker_name, w.conf.broker_name, sizeof sc.broker_name);
        te_strlcpy(sc.account, w.conf.account, sizeof sc.account);
        w.broker = te_sim_new(&sc, w.bars);
adapter_ready:
        w.producer = te_producer_new(cfg, w.conf.common.bootstrap, errstr, sizeof errstr);
        if (!w.broker || !w.producer) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.init", "%s",
                       w.broker ? errstr : "out of memory");
                goto out;
        }
        const char *topics[] = {w.conf.topic_orders};
        w.consumer = te_consumer_new(cfg, w.conf.common.bootstrap, w.conf.group_id,
                                     topics, 1, NULL, NULL, errstr, sizeof errstr);
        if (!w.consumer) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.consumer", "%s", errstr);
                goto out;
        }
        TE_LOG(TE_LOG_INFO, NULL, "broker.start",
               "adapter=%s bars=%zu tickers=%zu group=%s", adapters[w.conf.adapter],
               w.bars ? te_bars_count(w.bars) : 0, w.bars ? te_bars_ticker_count(w.bars) : 0,
               w.conf.group_id);
        te_obs_broker_up(adapters[w.conf.adapter], 1);
        te_obs_ready("broker", 1);

        int64_t last_commit = te_proc_mono_ms();
        int dirty = 0, fatal = 0;
        while (!te_proc_stop) {
                rd_kafka_message_t *m = te_consumer_poll(w.consumer, 50);
                if (m) {
                        int r = on_order(&w, m);
                        if (r == 0) {
                                te_consumer_store(w.consumer, m);
                                dirty = 1;
                        }
                        rd_kafka_message_destroy(m);
                        if (r != 0) {
                                fatal = 1;
                                break;
                        }
                }
                int np = publish_polled(&w);
                if (np < 0) {
                        fatal = 1;
                        break;
                }
                if (np > 0)
                        dirty = 1;
                te_producer_poll(w.producer, 0);
                int64_t now = te_proc_mono_ms();
                if (dirty && now - last_commit >= w.conf.commit_interval_ms) {
                        if (commit(&w) != 0) {
                                fatal = 1;
                                break;
                        }
                        dirty = 0;
                        last_commit = now;
                }
        }
        if (!fatal && dirty && commit(&w) != 0)
                fatal = 1;
        TE_LOG(TE_LOG_INFO, NULL, "broker.stop",
               "commands=%llu reports=%llu dead_lettered=%llu",
               (unsigned long long)w.n_cmds, (unsigned long long)w.n_reports,
               (unsigned long long)w.n_dead);
        rc = fatal ? 1 : 0;
out:
        te_consumer_destroy(w.consumer);
        te_producer_destroy(w.producer);
        te_broker_destroy(w.broker);
        te_bars_destroy(w.bars);
        te_reports_free(&w.reports);
        te_codec_destroy(w.codec);
        te_buf_free(&w.buf);
        te_obs_stop(http);
        te_cfg_destroy(cfg);
        return rc;
}
