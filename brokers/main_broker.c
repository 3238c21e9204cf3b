/*
 * exec-broker: exec.orders -> adapter -> exec.reports.
 *
 * This file is the config table and the process life cycle; the worker itself (order
 * path, broker watch, commits, rebuild on assignment) is broker_worker.c, the adapter
 * it runs is built by broker_adapter.c (sim or ibkr, with the fault decorator), and
 * the offsets it commits are kept by order_ledger.c.
 */
#include <stdio.h>

#include "broker_worker.h"
#include "te_cfgtab.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_proc.h"

#define PROC "exec-broker"

typedef te_broker_worker_conf_t conf_t;

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
    TE_CFG_E(conf_t, "adapter", adapter, "sim", te_adapter_names, "broker adapter"),
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
    /* adapter fix: a FIX 4.4 or 4.2 counterparty (brokers/broker_fix.h) */
    TE_CFG_S(conf_t, "fix.begin_string", fix_begin_string, "FIX.4.4",
             "FIX version of the session: FIX.4.4 or FIX.4.2"),
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
    TE_CFG_S(conf_t, "fix.tifs", fix_tifs, "",
             "TimeInForce values the counterparty takes; empty: every one the FIX "
             "version has (DAY,GTC,IOC,FOK,OPG, and CLS in FIX.4.4)"),
    TE_CFG_I(conf_t, "fix.max_msgs_per_sec", fix_max_msgs, "45", 1, 1000,
             "outgoing orders, cancels, replaces and status requests per second "
             "(cancels first)"),
    TE_CFG_I(conf_t, "fix.reconnect_min_ms", fix_reconnect_min_ms, "500", 1, 600000,
             "first reconnect delay (doubles up to fix.reconnect_max_ms)"),
    TE_CFG_I(conf_t, "fix.reconnect_max_ms", fix_reconnect_max_ms, "30000", 1, 3600000,
             "longest reconnect delay"),
    TE_CFG_I(conf_t, "fix.reconcile_timeout_ms", fix_reconcile_timeout_ms, "5000", 100,
             600000, "wait this long for the status of open orders after a Logon"),
    TE_CFG_B(conf_t, "fix.mass_status", fix_mass_status, "off",
             "reconcile with one OrderMassStatusRequest (35=AF) instead of one "
             "OrderStatusRequest per open order (FIX.4.4 only)"),
    TE_CFG_B(conf_t, "fix.reset_seq_on_logon", fix_reset_on_logon, "false",
             "Logon with ResetSeqNumFlag=Y: both sequence numbers restart at 1"),
    TE_CFG_S(conf_t, "fix.password_file", fix_password_file, "",
             "file whose first line is the Password (554); else $TE_FIX_PASSWORD; "
             "never logged"),
    TE_CFG_B(conf_t, "fix.use_db", fix_use_db, "true",
             "keep the session's sequence numbers in the runtime DB"),
    TE_CFG_I(conf_t, "fix.ended_days", fix_ended_days, "7", 0, 3650,
             "with fix.use_db: orders ended within this many days stay known as "
             "ended over a restart (a late cancel of one needs no answer)"),
};

int main(int argc, char **argv)
{
        static conf_t conf;
        char errstr[512];
        int rc = 1, bad_setting = 0;
        te_cfg_t *cfg =
            te_cfgtab_start(PROC, conf_items, sizeof conf_items / sizeof conf_items[0],
                            &conf, &conf.common, argc, argv);
        if (!cfg)
                return te_cfgtab_exit_code();
        te_proc_install_signals();
        te_http_t *http = NULL;
        te_broker_worker_t *w = NULL;
        if (te_obs_start(&conf.common, PROC, TE_OBS_NEED_KAFKA | TE_OBS_NEED_BROKER,
                         &http, errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.metrics", "%s", errstr);
        } else if (!(w = te_broker_worker_new(&conf, cfg, NULL, &bad_setting, errstr,
                                              sizeof errstr))) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.init", "%s", errstr);
                rc = bad_setting ? 2 : 1;
        } else {
                rc = te_broker_worker_run(w) == 0 ? 0 : 1;
        }
        te_broker_worker_destroy(w);
        te_obs_stop(http);
        te_cfg_destroy(cfg);
        return rc;
}
