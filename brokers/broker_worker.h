/*
 * broker_worker: the exec-broker process's objects and loop, exec.orders -> adapter ->
 * exec.reports (main_broker.c parses the config and calls these).
 *
 * One worker runs one adapter (broker_adapter.h) in the broker group, partitions shared
 * by the range assignor. Each command is decoded (bad bytes: dead letter and alert),
 * passed through the mode gate to the adapter, and every report that follows is
 * published keyed by portfolio_id, so it lands on the partition number of the order
 * (co-partitioning). Order offsets are committed only after the reports they caused
 * are delivered (order_ledger.h; no producer flush on the way, which stopped the loop
 * for ~40 ms every commit interval on the mock cluster); replays repeat deterministic
 * report ids. An adapter that rebuilds by replay (the simulator) keeps its open orders
 * only in memory, so with each offset the worker commits the offset of the oldest order
 * still open and, on every assignment, rebuilds the book by replaying from there
 * without publishing (README "Resting orders and broker restarts"; broker.h).
 *
 * Safety in front of the adapter (broker_guard.h): orders older than order.max_age.ms
 * are EXPIRED instead of sent late, and limits.* (max quantity, notional, orders/s)
 * reject with the limit named; orders of the other mode are refused by the mode gate
 * with a CRITICAL mode_refused Alert. When the adapter reports itself disconnected
 * (ops->connected; fault.script can script it, broker_faulty.h) the worker pauses its
 * partitions, puts back the order it could not place, publishes BROKER_STATE DOWN on
 * its reports partitions and a broker_down Alert; when it is back it reconciles (poll),
 * publishes BROKER_STATE UP and resumes. On every partition assignment it also
 * announces its current state there (no Alert): planners hold targets while a worker
 * says DOWN, and a worker restarted or replaced during an outage must tell them it is
 * up.
 */
#ifndef TE_BROKER_WORKER_H
#define TE_BROKER_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "broker_adapter.h"
#include "broker_fix.h"
#include "te_cfgtab.h"
#include "te_config.h"

typedef struct te_broker_worker_conf_s {
        te_common_conf_t common;
        char group_id[128];
        char topic_orders[128];
        char topic_reports[128];
        char topic_alerts[128];
        char topic_deadletter[128];
        int64_t commit_interval_ms;
        int adapter; /* te_adapter_kind_t */
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
        char fix_begin_string[16];
        char fix_password_file[512];
        int64_t fix_port, fix_heartbt_int, fix_max_msgs, fix_reconnect_min_ms,
            fix_reconnect_max_ms, fix_reconcile_timeout_ms;
        int fix_reset_on_logon, fix_use_db, fix_mass_status;
        int64_t fix_ended_days;
} te_broker_worker_conf_t;

typedef struct te_broker_worker_s te_broker_worker_t;

/** Build the worker: codec, the adapter (`adapter`, whose contents pass to the worker,
 *  also on failure, and are cleared; NULL: te_adapter_make from `conf`), producer and
 *  consumer. `cfg` supplies kafka.* pass-through; `conf` is copied. @returns the
 *  worker, or NULL with errstr; *bad_setting is then 1 when a setting is to blame
 *  (main exits 2), else 0. */
te_broker_worker_t *te_broker_worker_new(const te_broker_worker_conf_t *conf,
                                         const te_cfg_t *cfg, te_adapter_t *adapter,
                                         int *bad_setting, char *errstr,
                                         size_t errstr_size);
/** One turn of the loop: follow the adapter's connection, take at most one order
 *  (waiting up to timeout_ms), publish the adapter's own reports, commit what is
 *  delivered when commit.interval.ms has passed. @returns 0, or -1 on a fatal error
 *  (logged; the worker must stop). */
int te_broker_worker_poll(te_broker_worker_t *w, int timeout_ms);
/** Poll until te_proc_stop is set or a fatal error, then flush and commit.
 *  @returns 0, or -1 (logged). */
int te_broker_worker_run(te_broker_worker_t *w);
/** Close the consumer, free everything. Accepts NULL. */
void te_broker_worker_destroy(te_broker_worker_t *w);

/* Counters (for the summary line and tests). */
typedef struct te_broker_worker_stats_s {
        uint64_t commands, reports, dead_lettered, expired, limit_rejects, outages,
            replayed;
        size_t resting; /* open orders of a replay adapter */
} te_broker_worker_stats_t;
void te_broker_worker_stats(const te_broker_worker_t *w, te_broker_worker_stats_t *out);

#endif
