/*
 * broker_conf: the exec-broker config table. Its rows point into the worker's conf and
 * into the adapters' own config structs inside it (te_sim_cfg_t, te_ibkr_cfg_t,
 * te_fix_cfg_t, te_guard_cfg_t), so each default is written once, here.
 */
#include "broker_conf.h"

#include <string.h>

typedef te_broker_worker_conf_t conf_t;

static const char *const sim_market_at[] = {"close", "next_open", NULL}; /* te_mkt_at_t */
/* te_order_type_t and te_tif_t names, in their order, for fix.order_types / fix.tifs */
static const char *const order_types[] = {"MARKET", "LIMIT", "STOP", "STOP_LIMIT", NULL};
static const char *const tifs[] = {"DAY", "GTC", "IOC", "FOK", "OPG", "CLS", NULL};

const te_cfg_item_t te_broker_conf_items[] = {
    TE_CFG_COMMON(conf_t),
    TE_CFG_S(conf_t, "group.id", group_id, "exec-broker-sim", "consumer group"),
    TE_CFG_TOPIC(conf_t, orders, "order commands topic"),
    TE_CFG_TOPIC(conf_t, reports, "execution reports topic"),
    TE_CFG_TOPIC(conf_t, alerts, "alerts topic"),
    TE_CFG_TOPIC(conf_t, deadletter,
                 "dead-letter topic (records refused, with the reason)"),
    TE_CFG_I(conf_t, "commit.interval.ms", commit_interval_ms, "500", 0, 60000,
             "flush reports and commit order offsets this often"),
    TE_CFG_I(conf_t, "clock.flush.ms", clock_flush_ms, "5", 0, 1000,
             "TRAINING: once a CLOCK_ACK is queued and no order waits, send the reports "
             "at once instead of after kafka.linger.ms, waiting at most this long for "
             "their delivery; 0 = off"),
    TE_CFG_E(conf_t, "adapter", adapter, "sim", te_adapter_names, "broker adapter"),
    TE_CFG_S(conf_t, "sim.bars_csv", bars_csv, "", "daily bars CSV for the simulator"),
    TE_CFG_D(conf_t, "sim.slippage_bps", sim.fill.slippage_bps, "5", 0, 10000,
             "fill price moved against the order by this much"),
    TE_CFG_D(conf_t, "sim.commission_per_share", sim.fill.commission_per_share, "0.005",
             0, 100, "sim commission per share traded, in the order currency"),
    TE_CFG_D(conf_t, "sim.commission_min", sim.fill.commission_min, "1", 0, 1e6,
             "minimum commission per order"),
    /* sim fill model: defaults and rules documented in brokers/fill_model.h */
    TE_CFG_B(conf_t, "sim.bars_db", bars_db, "false",
             "load bars from PostgreSQL prices_daily (db.conninfo) instead of the CSV"),
    TE_CFG_S(conf_t, "sim.bars_from", bars_from, "",
             "sim.bars_db: first date YYYY-MM-DD"),
    TE_CFG_S(conf_t, "sim.bars_to", bars_to, "", "sim.bars_db: last date YYYY-MM-DD"),
    TE_CFG_E(conf_t, "sim.market_at", sim.fill.market_at, "close", sim_market_at,
             "MARKET orders: close of the event-time bar, or next bar's open"),
    TE_CFG_D(conf_t, "sim.participation", sim.fill.participation, "0.025", 0.0001, 1,
             "max share of a bar's volume one order fills"),
    TE_CFG_D(conf_t, "sim.emergency_participation", sim.fill.emergency_participation,
             "0.10", 0.0001, 1, "the cap for aggressiveness EMERGENCY"),
    TE_CFG_D(conf_t, "sim.emergency_cross_bps", sim.fill.emergency_cross_bps, "10", 0,
             10000, "extra slippage EMERGENCY pays to cross"),
    TE_CFG_D(conf_t, "sim.impact_k", sim.fill.impact_k, "1", 0, 1e6,
             "square-law impact: price x (1 +- k x share^2)"),
    TE_CFG_D(conf_t, "sim.lot", sim.fill.lot, "1", 1e-6, 1e6,
             "fill quantities are multiples"),
    TE_CFG_D(conf_t, "sim.commission_max_frac", sim.fill.commission_max_frac, "0.01", 0,
             0.1,
             "max commission per order as a fraction of its value, 0.01 = 1% (0: none)"),
    TE_CFG_RENAMED_TO("sim.commission_max_pct", "sim.commission_max_frac",
                      "a fraction of the order value, at most 0.1: 0.01 means 1%"),
    TE_CFG_D(conf_t, "sim.commission_per_order", sim.fill.commission_per_order, "0", 0,
             1e6, "fixed commission per order"),
    TE_CFG_D(conf_t, "sim.price_increment", sim.fill.price_increment, "0.0001", 1e-8,
             1000, "fill and average prices are multiples of this"),
    TE_CFG_S(conf_t, "sim.price_increments", price_increments, "",
             "instruments with their own increment: TICKER=increment,..."),
    TE_CFG_I(conf_t, "sim.max_stale_days", sim.max_stale_days, "5", 0, 3650,
             "an older reference bar means no market data"),
    TE_CFG_S(conf_t, "broker.name", broker_name, "sim", "written to reports and trades"),
    TE_CFG_S(conf_t, "broker.account", account, "SIM-1",
             "account written to reports and trades"),
    /* worker safety (brokers/broker_guard.h, brokers/broker_faulty.h) */
    TE_CFG_D(conf_t, "limits.max_qty", guard.max_qty, "0", 0, 1e15,
             "reject NEW/REPLACE above this quantity (0: off)"),
    TE_CFG_D(conf_t, "limits.max_notional", guard.max_notional, "0", 0, 1e18,
             "reject NEW/REPLACE above quantity x limit (else reference) price (0: off)"),
    TE_CFG_D(conf_t, "limits.max_orders_per_sec", guard.max_orders_per_sec, "0", 0, 1e9,
             "reject NEW/REPLACE above this rate, wall clock (0: off)"),
    TE_CFG_I(conf_t, "order.max_age.ms", guard.max_age_ms, "0", 0, 86400000,
             "EXPIRE orders older than this (Kafka timestamp) instead of sending them "
             "late, e.g. after a broker outage (0: off)"),
    TE_CFG_S(conf_t, "fault.script", fault_script, "",
             "fault injection for drills and tests, e.g. down_after=20,down_ms=3000,"
             "reject_ticker=XYZ (brokers/broker_faulty.h)"),
    /* adapter ibkr: TWS / IB Gateway (brokers/broker_ibkr.h; README "Interactive
       Brokers") */
    TE_CFG_S(conf_t, "ibkr.host", ibkr.host, "127.0.0.1", "TWS / IB Gateway host"),
    TE_CFG_I(conf_t, "ibkr.port", ibkr.port, "4002", 1, 65535,
             "API port (IB Gateway paper 4002, live 4001; TWS 7497 / 7496)"),
    TE_CFG_I(conf_t, "ibkr.client_id", ibkr.client_id, "1", 0, 2147483647,
             "API client id (one per worker)"),
    TE_CFG_S(conf_t, "ibkr.accounts", ibkr.accounts, "",
             "allow-list of IB accounts, comma separated; the first is the default"),
    TE_CFG_I(conf_t, "ibkr.max_msgs_per_sec", ibkr.max_msgs_per_sec, "45", 1, 50,
             "outgoing API messages per second (TWS disconnects above 50)"),
    TE_CFG_I(conf_t, "ibkr.reconnect_min_ms", ibkr.reconnect_min_ms, "500", 1, 600000,
             "first reconnect delay (doubles up to ibkr.reconnect_max_ms)"),
    TE_CFG_I(conf_t, "ibkr.reconnect_max_ms", ibkr.reconnect_max_ms, "30000", 1, 3600000,
             "longest delay between reconnect attempts"),
    TE_CFG_I(conf_t, "ibkr.commission_wait_ms", ibkr.commission_wait_ms, "2000", 0,
             600000, "hold a fill this long for its commissionReport"),
    TE_CFG_I(conf_t, "ibkr.timeout_ms", ibkr.connect_timeout_ms, "5000", 100, 600000,
             "connect, handshake and reconciliation deadline"),
    TE_CFG_I(conf_t, "ibkr.position_check_ms", ibkr.position_check_ms, "10000", 0, 600000,
             "after a reconciliation, how long IB's positions may differ from "
             "the runtime DB's before a position_mismatch alert (0: off)"),
    TE_CFG_B(conf_t, "ibkr.use_db", ibkr.use_db, "true",
             "persist TWS ids and delivered executions in the runtime DB"),
    /* adapter fix: a FIX 4.4 or 4.2 counterparty (brokers/broker_fix.h) */
    TE_CFG_S(conf_t, "fix.begin_string", fix.begin_string, "FIX.4.4",
             "FIX version of the session: FIX.4.4 or FIX.4.2"),
    TE_CFG_S(conf_t, "fix.host", fix.host, "127.0.0.1", "FIX acceptor host"),
    TE_CFG_I(conf_t, "fix.port", fix.port, "9878", 1, 65535, "FIX acceptor port"),
    TE_CFG_S(conf_t, "fix.sender_comp_id", fix.sender, "", "our SenderCompID; required"),
    TE_CFG_S(conf_t, "fix.target_comp_id", fix.target, "",
             "the counterparty's CompID; required"),
    TE_CFG_I(conf_t, "fix.heartbt_int", fix.heartbt_int, "30", 1, 3600,
             "HeartBtInt in the Logon, seconds"),
    TE_CFG_S(conf_t, "fix.account", fix.account, "",
             "Account (1) on orders; empty: none"),
    TE_CFG_F(conf_t, "fix.order_types", fix.order_types, "MARKET,LIMIT,STOP,STOP_LIMIT",
             order_types,
             "order types the counterparty takes; others are REJECTED before sending"),
    TE_CFG_F(conf_t, "fix.tifs", fix.tifs, "", tifs,
             "TimeInForce values the counterparty takes; empty: every one the FIX "
             "version has (DAY,GTC,IOC,FOK,OPG, and CLS in FIX.4.4)"),
    TE_CFG_I(conf_t, "fix.max_msgs_per_sec", fix.max_msgs_per_sec, "45", 1, 1000,
             "outgoing orders, cancels, replaces and status requests per second "
             "(cancels first)"),
    TE_CFG_I(conf_t, "fix.reconnect_min_ms", fix.reconnect_min_ms, "500", 1, 600000,
             "first reconnect delay (doubles up to fix.reconnect_max_ms)"),
    TE_CFG_I(conf_t, "fix.reconnect_max_ms", fix.reconnect_max_ms, "30000", 1, 3600000,
             "longest reconnect delay"),
    TE_CFG_I(conf_t, "fix.reconcile_timeout_ms", fix.reconcile_timeout_ms, "5000", 100,
             600000, "wait this long for the status of open orders after a Logon"),
    TE_CFG_B(conf_t, "fix.mass_status", fix.mass_status, "off",
             "reconcile with one OrderMassStatusRequest (35=AF) instead of one "
             "OrderStatusRequest per open order (FIX.4.4 only)"),
    TE_CFG_B(conf_t, "fix.reset_seq_on_logon", fix.reset_on_logon, "false",
             "Logon with ResetSeqNumFlag=Y: both sequence numbers restart at 1"),
    TE_CFG_S(conf_t, "fix.password_file", fix_password_file, "",
             "file whose first line is the Password (554); else $TE_FIX_PASSWORD; "
             "never logged"),
    TE_CFG_B(conf_t, "fix.use_db", fix.use_db, "true",
             "keep the session's sequence numbers in the runtime DB"),
    TE_CFG_I(conf_t, "fix.ended_days", fix.ended_days, "7", 0, 3650,
             "with fix.use_db: orders ended within this many days stay known as "
             "ended over a restart (a late cancel of one needs no answer)"),
};

const size_t te_broker_conf_n_items =
    sizeof te_broker_conf_items / sizeof te_broker_conf_items[0];
