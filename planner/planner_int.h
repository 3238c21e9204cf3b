/*
 * planner_int: the exec-planner's private state and the functions its modules share.
 * Not a public interface: only planner*.c include it.
 *
 *   planner.c         life cycle, main loop, commit (DB state, Kafka offsets of the
 *                     targets whose messages are delivered)
 *   planner_sync.c    assignment: rebuild the book from the DB, exec.orders read back
 *                     and exec.reports; Kafka helpers (aux consumers, catch-up reads)
 *   planner_target.c  targets: validation, TRAINING clock barrier (pipelined across
 *                     portfolios, target_queue.h), planning, sending, dead letters;
 *                     execution reports
 *   planner_mode.c    exec.mode: levels, cancels on a level change, EMERGENCY re-plan
 *                     (again once its cancels are confirmed)
 *   planner_hold.c    broker DOWN/UP: targets held while their broker is down
 *   planner_route.c   targets on another partition than their portfolio's: re-published
 */
#ifndef TE_PLANNER_INT_H
#define TE_PLANNER_INT_H

#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>

#include "book.h"
#include "exec_mode.h"
#include "order_plan.h"
#include "plan_rules.h"
#include "planner.h"
#include "planner_db.h"
#include "te_buf.h"
#include "te_codec.h"
#include "te_emit.h"
#include "te_kafka.h"
#include "te_map.h"
#include "te_metrics.h"
#include "target_queue.h"

#define TE_PL_MAX_PARTS    1024
#define TE_PL_MAX_ORDERS   1000000
#define TE_PL_PROC         "exec-planner"
#define TE_PL_META_TIMEOUT 10000
#define TE_PL_MAX_INFLIGHT 10000 /* targets in flight (waiting or queued) */

struct te_planner_s {
        te_planner_conf_t conf;
        const te_cfg_t *cfg;
        te_plan_cfg_t plan;
        te_plan_rules_t *rules;
        te_codec_t *codec;
        te_producer_t *producer;
        te_emitter_t emit; /* dead letters and alerts: producer, codec, topics */
        te_consumer_t *targets;
        rd_kafka_t *reports; /* manually assigned, never commits */
        rd_kafka_t *modes;   /* every partition of exec.mode, never commits */
        PGconn *db;
        te_price_cache_t *prices;
        te_book_t *book;
        te_plan_ws_t *ws;
        te_modes_t *levels;
        te_buf_t buf;
        te_exec_report_t rep;
        te_exec_mode_t mode_msg;
        te_order_cmd_t cmd;
        int32_t n_parts; /* partitions of exec.targets (= orders = reports) */
        unsigned char owned[TE_PL_MAX_PARTS];
        /* targets in flight, the offsets ledger, planned as_ofs (target_queue.h) */
        te_tq_t *tq;
        te_tq_item_t **ready; /* CLOCK_ACKed targets, planned by te_pl_after_reports */
        size_t n_ready, cap_ready;
        /* targets whose price lookup failed (the DB is unreachable): each first in its
         * portfolio's lane, its partition paused, retried with backoff */
        struct te_pl_stalled_s {
                te_tq_item_t *it;
                int acked; /* its CLOCK_ACK had come: plan it directly */
        } * stalled;
        size_t n_stalled, cap_stalled;
        int64_t stall_at, stall_delay; /* next retry (monotonic ms), backoff; 0: none */
        unsigned char stall_paused[TE_PL_MAX_PARTS]; /* paused for a stalled target */
        char stall_err[256];                         /* why the last lookup failed */
        int divert_due;           /* a partition went DOWN: hold its targets in flight */
        int64_t next_clock_check; /* ms: next look for overdue CLOCK_ACKs */
        int dirty;                /* something may be committable */
        int64_t pending[TE_PL_MAX_PARTS]; /* target offset to commit next; -1 */
        uint64_t planned_seq; /* every target planned up to this message: saved */
        int64_t next_settle;  /* ms: next te_pl_settle */
        int64_t now_ns;       /* monotonic ns at the loop's last poll */
        /* end of our delivered writes to each exec.orders partition since the
         * assignment (delivery reports) with the sequence number of the last one, the
         * same as of the previous commit, and the value last saved; -1: none */
        int64_t orders_end[TE_PL_MAX_PARTS];
        uint64_t orders_seq[TE_PL_MAX_PARTS];
        int64_t orders_cp_end[TE_PL_MAX_PARTS];
        uint64_t orders_cp_seq[TE_PL_MAX_PARTS];
        int64_t orders_saved[TE_PL_MAX_PARTS];
        uint64_t failed_seen; /* producer delivery failures already seen */
        uint64_t
            n_read_back;   /* commands read back from exec.orders in the last rebuild */
        te_map_t *planned; /* portfolio_id -> int64_t* last as_of planned since commit */
        te_map_t *last; /* portfolio_id -> te_target_portfolio_t* last target planned */
        int fatal;
        int64_t last_report_poll;
        /* broker state (planner_hold.c), per exec.reports (= targets) partition */
        unsigned char down[TE_PL_MAX_PARTS]; /* plan.route reported DOWN there */
        int n_down;                          /* partitions down */
        int release_due;                     /* a partition with held targets is UP */
        te_map_t *held;                      /* portfolio_id -> held target */
        int n_held[TE_PL_MAX_PARTS];         /* held targets per partition */
        int catching_up;                     /* reading reports in a rebuild */
        /* EMERGENCY re-plans waiting for their cancels to be confirmed
         * (planner_mode.c): portfolio_id -> int* next leg base */
        te_map_t *emergency_wait;
        int emergency_due; /* one of them has nothing pending any more */
        /* an assignment whose rebuild is not done yet (planner_sync.c) */
        rd_kafka_topic_partition_list_t *assigned;
        int assigned_paused;
        int64_t rebuild_at, rebuild_delay; /* next attempt (monotonic ms), backoff */
        int rebuild_refusals;              /* DB errors on a healthy connection */
        char rebuild_err[512];
        /* targets on the wrong partition (planner_route.c) */
        te_map_t *rerouted_alerted;   /* producer -> int64_t* ms of its last Alert */
        te_metric_t *rerouted_metric; /* te_planner_targets_rerouted_total */
        /* TRAINING as_of horizon: the end of the last day of prices_daily (read at a
         * rebuild and at most once a minute; a failed read keeps the last answer) */
        int bars_state;  /* 0: never read, 1: rows (bars_end_ms), 2: table empty */
        int bars_logged; /* the state last logged (which limit applies) */
        int64_t bars_end_ms;
        int64_t bars_next; /* monotonic ms: next read */
        te_planner_stats_t st;
};

/* planner.c */
/** Log a fatal error and stop the loop. */
void te_pl_fail(te_planner_t *pl, const char *what, const char *why);
/** Save the DB state and commit the exec.targets offsets of the targets that are
 *  finished and whose messages are delivered (no flush unless `flush`: a revoke or the
 *  shutdown hands over everything). @returns 0 or -1 (fatal). */
int te_pl_commit(te_planner_t *pl, int flush);
/** Take what the producer has delivered so far: as_ofs planned go to the DB state of
 *  the next commit, finished targets' offsets become committable. Cheap; the loop calls
 *  it every few ms so that the queues of targets in flight stay short. */
void te_pl_settle(te_planner_t *pl);
/** Forget the orders offsets recorded from delivery reports (a new assignment). */
void te_pl_orders_reset(te_planner_t *pl);

/* planner_target.c */
/** Read the last date of prices_daily again (the TRAINING as_of horizon) if `force` or
 *  its minute is up. A failed read keeps the last known date (or the wall clock when
 *  none was ever read): it never dead-letters anything. */
void te_pl_bars_refresh(te_planner_t *pl, int64_t now, int force);

/* planner_sync.c */
/** @returns the partition of `portfolio_id` (murmur2, as the producers key it). */
int32_t te_pl_partition_of(const te_planner_t *pl, const char *portfolio_id);
/** @returns 1 if this instance owns the partition of `portfolio_id`. */
int te_pl_owns(void *opaque, const char *portfolio_id);
/** A consumer that is never subscribed (manual assignment, no commits) in `group`.
 *  @returns NULL with errstr. */
rd_kafka_t *te_pl_aux_consumer(te_planner_t *pl, const char *group, char *errstr,
                               size_t errstr_size);
/** @returns the partition count of `topic`, or -1 with errstr. */
int32_t te_pl_partition_count(rd_kafka_t *rk, const char *topic, char *errstr,
                              size_t errstr_size);
/** Read `rk` (assigned to `list`, offsets set) until every partition reaches the high
 *  watermark it had at the start, handing each message to fn.
 *  @returns 0, or -1 with errstr on timeout. */
int te_pl_read_to_end(te_planner_t *pl, rd_kafka_t *rk,
                      rd_kafka_topic_partition_list_t *list,
                      void (*fn)(te_planner_t *pl, rd_kafka_message_t *m), char *errstr,
                      size_t errstr_size);
/** Note that a target of `portfolio_id` with `as_of` was planned: the next commit
 *  records it in the DB. @returns 0 or -1 (OOM). */
int te_pl_remember_planned(te_planner_t *pl, const char *portfolio_id, int64_t as_of);
/** The targets consumer's rebalance callback (te_rebalance_cb_t). An assignment is
 *  only recorded in pl->assigned: the loop rebuilds (te_pl_rebuild_step). */
void te_pl_on_rebalance(te_consumer_t *c, rd_kafka_topic_partition_list_t *parts,
                        int assigned, void *opaque);

/** Rebuild the book for pl->assigned. While the DB is unreachable the assignment is
 *  paused and the rebuild retried with backoff (50 ms doubling to 5 s) at the next call
 *  after `now` passes the next attempt. @returns 0 when done, 1 while waiting, -1 when
 *  fatal. */
int te_pl_rebuild_step(te_planner_t *pl, int64_t now);
/** A target consumed before its assignment's rebuild: seek its partition back to it
 *  (and pause the assignment), so it is read again once the rebuild is done. */
void te_pl_put_back(te_planner_t *pl, const rd_kafka_message_t *m);

/* planner_target.c */
/** Encode and produce one command. @returns 0 or -1 (fatal). */
int te_pl_send_cmd(te_planner_t *pl, const te_order_cmd_t *o);
/** Send planned commands, recording them in the book; a NEW whose id the book already
 *  knows is not sent twice. @returns 0 or -1 (fatal). */
int te_pl_send_all(te_planner_t *pl, const te_order_cmd_t *cmds, size_t n);
/** Free a kept target copy (te_map value destructor). */
void te_pl_free_target(void *v);
/** Apply one report message; a CLOCK_ACK a target waits for makes it ready. */
void te_pl_on_report(te_planner_t *pl, rd_kafka_message_t *m);
/** Read every report waiting on the reports consumer, the first poll waiting up to
 *  timeout_ms. */
void te_pl_drain_reports(te_planner_t *pl, int64_t now, int timeout_ms);
/** After reports were read: plan the targets whose CLOCK_ACK came (and what queued
 *  behind them), hold the targets in flight of partitions gone DOWN, alert on overdue
 *  ACKs, retry the targets waiting for the DB when their backoff is due.
 *  @returns 0 or -1 (stop). */
int te_pl_after_reports(te_planner_t *pl, int64_t now);
/** Handle one target message (`fresh`: just consumed, already in the ledger; 0: a held
 *  one released). Takes `m` (released, kept in flight or held). @returns 0, or -1 to
 *  stop. */
int te_pl_on_target(te_planner_t *pl, rd_kafka_message_t *m, int64_t now, int fresh);
/** The id a target waits under for its portfolio's confirmations (te_tq_wait). */
void te_pl_confirm_id(char *out, size_t outsz, const char *portfolio_id);
/** A report took an order of `portfolio_id` out of pending (book.h): when nothing of
 *  the portfolio is pending any more, the target waiting for that is made ready and a
 *  waiting EMERGENCY re-plan is due. */
void te_pl_on_confirmed(te_planner_t *pl, const char *portfolio_id);
/** Alert once for each CANCEL or REPLACE unconfirmed for longer than
 *  plan.confirm_timeout_ms. */
void te_pl_check_confirms(te_planner_t *pl, int64_t now);
/** The ledger entry of the target in `m` is finished (its messages so far sent). */
void te_pl_target_done(te_planner_t *pl, const rd_kafka_message_t *m);
/** Drop the targets in flight (revoke, shutdown): not committed, consumed again. */
void te_pl_drop_in_flight(te_planner_t *pl);
/** Dead-letter a target message with "code: why", an Alert and the counters. */
void te_pl_dead_letter_target(te_planner_t *pl, const rd_kafka_message_t *m,
                              const char *code, const char *why,
                              const te_target_portfolio_t *tp);

/* planner_route.c */
/** If `m` (decoded into `tp`) is not on its portfolio's partition, re-publish it there
 *  (or dead-letter it if it was re-published before), with the counter and the Alert.
 *  The caller then finishes its ledger entry. @returns 0 when it is on its partition
 *  (plan it), 1 when re-published or dead-lettered, -1 on a fatal error. */
int te_pl_reroute(te_planner_t *pl, const rd_kafka_message_t *m,
                  const te_target_portfolio_t *tp, int64_t now);

/* planner_mode.c */
/** Bring open orders in line with the levels in force (scope NULL: all portfolios).
 *  @returns 0 or -1 (fatal). */
int te_pl_act_on_modes(te_planner_t *pl, const char *scope, int64_t event_time);
/** One exec.mode message read during start-up (recorded, not acted on). */
void te_pl_on_mode_startup(te_planner_t *pl, rd_kafka_message_t *m);
/** Read every exec.mode message waiting and act on each. */
void te_pl_drain_modes(te_planner_t *pl);
/** Run the EMERGENCY re-plans whose cancels are all confirmed now. @returns 0 or -1. */
int te_pl_emergency_confirmed(te_planner_t *pl);

/* planner_hold.c */
/** @returns 0 or -1 (OOM). */
int te_pl_hold_init(te_planner_t *pl);
/** Free the held targets. */
void te_pl_hold_term(te_planner_t *pl);
/** Forget held targets and broker states (the partitions were revoked). */
void te_pl_hold_reset(te_planner_t *pl);
/** A BROKER_STATE report read on reports partition `partition`. */
void te_pl_on_broker_state(te_planner_t *pl, int32_t partition,
                           const te_exec_report_t *r);
/** @returns 1 if a target of `portfolio_id` on `partition` must be held (its broker
 *  is down, or an earlier target of the portfolio is held), else 0. */
int te_pl_must_hold(const te_planner_t *pl, int32_t partition, const char *portfolio_id);
/** Hold the (valid) target `tp` decoded from `m`, replacing the portfolio's held one.
 *  @returns 1 held (owns m), 0 dead-lettered (as_of before the held one's), -1 fatal. */
int te_pl_hold(te_planner_t *pl, rd_kafka_message_t *m, const te_target_portfolio_t *tp);
/** After a rebuild's catch-up of exec.reports: alert once if the broker is down. */
void te_pl_hold_caught_up(te_planner_t *pl);
/** Plan the held targets of partitions that are UP again. @returns 0 or -1 (stop). */
int te_pl_release(te_planner_t *pl, int64_t now);

#endif
