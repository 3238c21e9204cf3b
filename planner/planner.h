/*
 * planner: the exec-planner process's objects and loop (main_planner.c parses the
 * config and calls these).
 *
 * Consumers: exec.targets in the planner group (range assignor); exec.reports, same
 * partition numbers, manually assigned (co-partitioning: one instance owns each
 * portfolio end to end); exec.mode, every partition from the beginning (read whole,
 * never committed).
 *
 * On every assignment the book is rebuilt for the owned portfolios only:
 *   1. the runtime DB: positions, cash, orders; the sink's offsets of exec.reports;
 *   2. exec.orders of the owned partitions, from the broker group's committed offset to
 *      the end: orders sent but not yet reflected in any report the planner can read
 *      (the broker commits an order's offset only after flushing its reports, so every
 *      order before that offset has its reports in the DB or after the sink's offsets);
 *   3. exec.reports from the sink's offsets to the end.
 * The rebuild runs in the loop, not in the rebalance callback: while the DB cannot be
 * read the assigned partitions are paused and the rebuild retried with backoff (50 ms
 * doubling to 5 s), so no target is consumed before the book is whole; at start-up the
 * connection is retried the same way. Saving the planner's state at a commit retries
 * too (the target offsets wait for it).
 * Target offsets are stored only after the orders they produced are delivered (the
 * producer's delivery reports, no flush on the way), never past a target still in
 * flight or held, and on a revoke the planner flushes and commits before giving the
 * partitions up. A target consumed again (after a crash or a rebalance) plans the same
 * order ids, and an id the book already knows is not sent again.
 *
 * In TRAINING, a target with as_of t is planned only after CLOCK(t) has been
 * acknowledged on the reports partition (docs/DESIGN.md invariant 6); waiting longer than
 * clock.timeout.ms raises an alert and keeps waiting. The barrier is per portfolio:
 * many portfolios' CLOCKs are outstanding at once, each portfolio's targets in order
 * (target_queue.h).
 *
 * While the broker of a portfolio reports DOWN, its targets are held, not planned
 * (planner_hold.c); exec.mode messages that cannot be applied are dead-lettered.
 */
#ifndef TE_PLANNER_H
#define TE_PLANNER_H

#include <stdint.h>

#include "order_plan.h"
#include "te_cfgtab.h"
#include "te_config.h"

/* The process's settings (planner_conf.h's table; plan.* rows point into `plan`). */
typedef struct te_planner_conf_s {
        te_common_conf_t common;
        char group_id[128];
        char sink_group[128];
        char broker_group[128];
        char topic_targets[128];
        char topic_orders[128];
        char topic_reports[128];
        char topic_mode[128];
        char topic_alerts[128];
        char topic_deadletter[128];
        int db_enabled;
        int mode_enabled;
        int64_t clock_timeout_ms;
        int64_t clock_flush_ms;
        int64_t commit_interval_ms;
        int64_t catchup_timeout_ms;
        int64_t report_poll_ms;
        int64_t book_tombstones;
        int64_t as_of_horizon_days;
        te_order_plan_cfg_t plan; /* plan.* (its `rules` are set by te_planner_new) */
        char rules_file[1024];
        int64_t confirm_timeout_ms; /* plan.confirm_timeout_ms */
} te_planner_conf_t;

typedef struct te_planner_s te_planner_t;

/** Build the planner's objects (rules, DB, producer, consumers). `cfg` supplies kafka.*
 *  pass-through; `conf` is copied. @returns the planner, or NULL with errstr. */
te_planner_t *te_planner_new(const te_planner_conf_t *conf, const te_cfg_t *cfg,
                             char *errstr, size_t errsz);
/** Run until te_proc_stop is set or a fatal error. @returns 0, or -1 (logged). */
int te_planner_run(te_planner_t *pl);
/** Close consumers, flush, commit, free. Accepts NULL. */
void te_planner_destroy(te_planner_t *pl);

/* Counters (for the summary line and metrics). */
typedef struct te_planner_stats_s {
        uint64_t targets, orders, cancels, dead_lettered, reports, mode_changes,
            skipped_known, halted, replayed, idle_polls, bad_modes, held, superseded,
            released, replaces, replans, confirm_overdue,
            db_waits;      /* db_waits: plans put off, a price lookup failed */
        uint64_t rerouted; /* targets on another partition than their portfolio's */
        int64_t first_target_ms, last_target_ms; /* monotonic */
} te_planner_stats_t;

#endif
