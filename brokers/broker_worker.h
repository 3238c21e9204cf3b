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
#include "broker_guard.h"
#include "broker_ibkr.h"
#include "broker_sim.h"
#include "te_cfgtab.h"
#include "te_config.h"

/* The process's settings (broker_conf.h's table). The modules' own config structs are
 * members: the table's rows point into them, so a setting has one default, the
 * table's, and reaches its module without a copy. */
typedef struct te_broker_worker_conf_s {
        te_common_conf_t common;
        char group_id[128];
        char topic_orders[128];
        char topic_reports[128];
        char topic_alerts[128];
        char topic_deadletter[128];
        int64_t commit_interval_ms;
        int64_t clock_flush_ms;        /* clock.flush.ms: te_producer_kick after an ACK */
        int adapter;                   /* te_adapter_kind_t */
        char broker_name[TE_NAME_MAX]; /* broker.name: "sim" becomes ibkr / fix there */
        char account[TE_NAME_MAX];     /* broker.account */
        char fault_script[256];
        te_guard_cfg_t guard; /* limits.*, order.max_age.ms */
        /* adapter sim: its bars and its fill model (sim.*) */
        char bars_csv[1024];
        int bars_db;
        char bars_from[16], bars_to[16];
        char price_increments[2048]; /* parsed into sim.ticks */
        te_sim_cfg_t sim;
        te_ibkr_cfg_t ibkr; /* ibkr.* */
        te_fix_cfg_t fix;   /* fix.* */
        char fix_password_file[512];
} te_broker_worker_conf_t;

typedef struct te_broker_worker_s te_broker_worker_t;

/** Build the worker: codec, the adapter (`adapter`, whose contents pass to the worker,
 *  also on failure, and are cleared; NULL: te_adapter_make from `conf`), producer and
 *  consumer. `cfg` supplies kafka.* pass-through; `conf` is copied. @returns the
 *  worker, or NULL with errstr; *bad_setting is then 1 when a setting is to blame
 *  (main exits 2), else 0. */
te_broker_worker_t *te_broker_worker_new(const te_broker_worker_conf_t *conf,
                                         const te_cfg_t *cfg, te_adapter_t *adapter,
                                         int *bad_setting, char *errstr, size_t errsz);
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
