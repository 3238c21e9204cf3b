/*
 * planner_conf: the exec-planner config table. The plan.* rows point into the order
 * planner's own te_order_plan_cfg_t inside the conf, so each default is written once,
 * here.
 */
#include "planner_conf.h"

#include <string.h>

typedef te_planner_conf_t conf_t;

static const char *const order_types[] = {"MARKET", "LIMIT", "STOP", "STOP_LIMIT", NULL};
static const char *const tifs[] = {"DAY", "GTC", "IOC", "FOK", "OPG", "CLS", NULL};

const te_cfg_item_t te_planner_conf_items[] = {
    TE_CFG_COMMON(conf_t),
    TE_CFG_S(conf_t, "group.id", group_id, "exec-planner", "consumer group"),
    TE_CFG_S(conf_t, "sink.group", sink_group, "exec-sink",
             "sink group whose DB offsets mark what the DB already holds"),
    TE_CFG_S(conf_t, "broker.group", broker_group, "exec-broker-sim",
             "broker group: orders after its committed offsets are read back on "
             "assignment (empty: do not read back)"),
    TE_CFG_TOPIC(conf_t, targets, "target portfolios topic"),
    TE_CFG_TOPIC(conf_t, orders, "order commands topic"),
    TE_CFG_TOPIC(conf_t, reports, "execution reports topic"),
    TE_CFG_TOPIC(conf_t, mode, "execution modes topic"),
    TE_CFG_TOPIC(conf_t, alerts, "alerts topic"),
    TE_CFG_TOPIC(conf_t, deadletter,
                 "dead-letter topic (records refused, with the reason)"),
    TE_CFG_B(conf_t, "db.enabled", db_enabled, "true",
             "rebuild state and read prices from the runtime DB"),
    TE_CFG_B(conf_t, "mode.enabled", mode_enabled, "true", "read exec.mode"),
    TE_CFG_I(conf_t, "clock.timeout.ms", clock_timeout_ms, "10000", 100, 3600000,
             "TRAINING: alert when CLOCK_ACK takes longer (and keep waiting)"),
    TE_CFG_I(conf_t, "clock.flush.ms", clock_flush_ms, "5", 0, 1000,
             "TRAINING: after a turn that sent CLOCKs, send them (and the orders before "
             "them) at once instead of after kafka.linger.ms, waiting at most this long "
             "for their delivery; 0 = off"),
    TE_CFG_I(conf_t, "commit.interval.ms", commit_interval_ms, "500", 0, 60000,
             "flush orders and commit target offsets this often"),
    TE_CFG_I(conf_t, "catchup.timeout.ms", catchup_timeout_ms, "60000", 1000, 3600000,
             "reading exec.mode/orders/reports to their end on (re)assignment"),
    TE_CFG_I(conf_t, "reports.poll.ms", report_poll_ms, "0", 0, 10000,
             "PRODUCTION: read reports before a target at most this often"),
    TE_CFG_I(conf_t, "book.tombstones", book_tombstones, "65536", 0, 100000000,
             "ids of finished orders remembered after they are dropped from the book, so "
             "a late duplicate report is not booked twice (about 150 bytes each)"),
    TE_CFG_I(
        conf_t, "plan.as_of_horizon_days", as_of_horizon_days, "7", 0, 36500,
        "dead-letter a target whose as_of is more than this many days after the wall "
        "clock (both modes; 0: no limit)"),
    TE_CFG_D(conf_t, "plan.lot_size", plan.lot_size, "1", 1e-9, 1e9, "lot size"),
    TE_CFG_D(conf_t, "plan.min_qty", plan.min_qty, "1", 0, 1e12,
             "minimum order quantity"),
    TE_CFG_D(conf_t, "plan.min_notional", plan.min_notional, "0", 0, 1e15,
             "minimum order notional (needs a price)"),
    TE_CFG_D(conf_t, "plan.max_qty", plan.max_qty, "0", 0, 1e12,
             "larger orders split into children (0: no limit)"),
    TE_CFG_D(conf_t, "plan.max_notional", plan.max_notional, "0", 0, 1e15,
             "larger orders split into children (0: no limit)"),
    TE_CFG_B(conf_t, "plan.fractional", plan.fractional, "false",
             "allow fractional quantities"),
    TE_CFG_B(conf_t, "plan.allow_short", plan.allow_short, "true",
             "allow negative targets"),
    TE_CFG_E(conf_t, "plan.order_type", plan.order_type, "MARKET", order_types,
             "order type of the planned orders"),
    TE_CFG_E(conf_t, "plan.tif", plan.tif, "DAY", tifs,
             "time in force of the planned orders"),
    TE_CFG_D(conf_t, "plan.limit_offset_bps", plan.limit_offset_bps, "0", -10000, 10000,
             "LIMIT/STOP_LIMIT: limit = reference price x (1 + bps/10000) for a buy, "
             "x (1 - bps/10000) for a sell"),
    TE_CFG_D(conf_t, "plan.stop_offset_bps", plan.stop_offset_bps, "0", -10000, 10000,
             "STOP/STOP_LIMIT: stop = reference price x (1 + bps/10000) for a buy, "
             "x (1 - bps/10000) for a sell"),
    TE_CFG_D(conf_t, "plan.max_gross_leverage", plan.max_gross_leverage, "0", 0, 1000,
             "dead-letter targets above this gross leverage (0: no limit)"),
    TE_CFG_D(conf_t, "plan.capital", plan.capital, "0", -1e15, 1e15,
             "capital added to cash when NAV comes from the book"),
    TE_CFG_S(conf_t, "plan.rules.file", rules_file, "",
             "per-strategy/instrument sizing and order-shape rules (plan_rules.h)"),
    TE_CFG_S(conf_t, "plan.route", plan.route, "sim", "broker adapter name"),
    TE_CFG_B(conf_t, "plan.replace", plan.replace, "false",
             "resize a working order that no longer fits with REPLACE instead of CANCEL "
             "(the adapter must support REPLACE: sim, ibkr)"),
    TE_CFG_I(conf_t, "plan.confirm_timeout_ms", confirm_timeout_ms, "10000", 100, 3600000,
             "alert when a CANCEL or REPLACE waits longer for the broker's confirmation "
             "(nothing new is sent for its ticker meanwhile)"),
};

const size_t te_planner_conf_n_items =
    sizeof te_planner_conf_items / sizeof te_planner_conf_items[0];
