/*
 * planner_int: the exec-planner's private state and the functions its modules share.
 * Not a public interface: only planner*.c include it.
 *
 *   planner.c         life cycle, main loop
 *   planner_commit.c  commit: delivered exec.orders ends, DB state, Kafka offsets of
 *                     the targets whose messages are delivered
 *   planner_send.c    commands on exec.orders (used by every file sending them)
 *   planner_sync.c    assignment: rebuild the book from the DB, exec.orders read back
 *                     and exec.reports; Kafka helpers (aux consumers, catch-up reads)
 *   planner_target.c  targets: validation, TRAINING clock barrier (pipelined across
 *                     portfolios, target_queue.h), planning, sending, dead letters;
 *                     execution reports
 *   planner_mode.c    exec.mode: levels, cancels on a level change, EMERGENCY re-plan
 *                     (again once its cancels are confirmed)
 *   planner_hold.c    broker DOWN/UP: targets held while their broker is down
 *                     (standalone, planner_hold.h)
 *   planner_route.c   targets on another partition than their portfolio's: re-published
 *                     (standalone, planner_route.h)
 *
 * The files call each other downwards only: planner.c -> planner_sync.c ->
 * planner_target.c -> planner_mode.c -> planner_send.c, with planner_commit.c,
 * planner_hold.c and planner_route.c below their callers; what all of them use (the
 * fatal stop, the partition of a portfolio) is inline below. Each file keeps the state
 * it changes in a struct of its own (hold, route, mode, target, commit); what stays in
 * te_planner_s is shared: the clients, the book, the queue, the settings.
 */
#ifndef TE_PLANNER_INT_H
#define TE_PLANNER_INT_H

#include <string.h>

#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>

#include "book.h"
#include "exec_mode.h"
#include "order_plan.h"
#include "plan_rules.h"
#include "planner.h"
#include "planner_db.h"
#include "planner_hold.h"
#include "planner_route.h"
#include "te_buf.h"
#include "te_codec.h"
#include "te_emit.h"
#include "te_kafka.h"
#include "te_log.h"
#include "te_map.h"
#include "te_metrics.h"
#include "te_proc.h"
#include "target_queue.h"

#define TE_PLANNER_MAX_PARTS    TE_PLANNER_HOLD_MAX_PARTS
#define TE_PLANNER_MAX_ORDERS   1000000
#define TE_PLANNER_PROC         "exec-planner"
#define TE_PLANNER_META_TIMEOUT 10000
#define TE_PLANNER_MAX_INFLIGHT 10000 /* targets in flight (waiting or queued) */

typedef struct te_planner_mode_s te_planner_mode_t;
typedef struct te_planner_target_s te_planner_target_t;
typedef struct te_planner_commit_s te_planner_commit_t;

struct te_planner_s {
        te_planner_conf_t conf;
        const te_cfg_t *cfg;
        te_order_plan_cfg_t plan;
        te_plan_rules_t *rules;
        te_codec_t *codec;
        te_producer_t *producer;
        te_emitter_t emit; /* dead letters and alerts: producer, codec, topics */
        te_consumer_t *targets;
        rd_kafka_t *reports; /* manually assigned, never commits */
        rd_kafka_t *modes;   /* every partition of exec.mode, never commits */
        PGconn *db;
        te_planner_db_prices_t *prices;
        te_book_t *book;
        te_order_plan_ws_t *ws;
        te_planner_mode_t *mode; /* levels, EMERGENCY re-plans (planner_mode.c) */
        te_buf_t buf;
        te_exec_report_t rep;
        te_order_cmd_t cmd;
        int32_t n_parts; /* partitions of exec.targets (= orders = reports) */
        unsigned char owned[TE_PLANNER_MAX_PARTS];
        /* targets in flight, the offsets ledger, planned as_ofs (target_queue.h) */
        te_target_queue_t *tq;
        /* targets ready, waiting for the DB, the TRAINING horizon (planner_target.c) */
        te_planner_target_t *ts;
        /* the offsets and DB state of the next commit (planner_commit.c) */
        te_planner_commit_t *cs;
        int dirty;           /* something may be committable */
        int clock_sent;      /* a CLOCK was queued this turn: kick the producer */
        int64_t next_settle; /* ms: next te_planner_commit_settle */
        int64_t now_ns;      /* monotonic ns at the loop's last poll */
        uint64_t
            n_read_back; /* commands read back from exec.orders in the last rebuild */
        te_map_t *last;  /* portfolio_id -> te_target_portfolio_t* last target planned */
        int fatal;
        /* broker state per exec.reports (= targets) partition and the targets held
         * while it is DOWN (planner_hold.h) */
        te_planner_hold_t *hold;
        int catching_up; /* reading reports in a rebuild */
        /* an assignment whose rebuild is not done yet (planner_sync.c) */
        rd_kafka_topic_partition_list_t *assigned;
        int assigned_paused;
        int64_t rebuild_at, rebuild_delay; /* next attempt (monotonic ms), backoff */
        int rebuild_refusals;              /* DB errors on a healthy connection */
        char rebuild_err[512];
        /* targets on the wrong partition (planner_route.c) */
        te_planner_route_t *route;
        te_planner_stats_t st;
};

/** Log a fatal error and stop the loop. */
static inline void te_planner_fail(te_planner_t *pl, const char *what, const char *why)
{
        TE_LOG(TE_LOG_ERROR, NULL, "planner.fatal", "%s: %s", what, why);
        pl->fatal = 1;
        te_proc_stop = 1;
}

/** @returns the partition of `portfolio_id` (murmur2, as the producers key it). */
static inline int32_t te_planner_partition_of(const te_planner_t *pl,
                                              const char *portfolio_id)
{
        return te_kafka_partition_of(portfolio_id, strlen(portfolio_id), pl->n_parts);
}

/* planner_send.c */
/** Encode and produce one command. @returns 0 or -1 (fatal). */
int te_planner_send_cmd(te_planner_t *pl, const te_order_cmd_t *o);
/** Send planned commands, recording them in the book; a NEW whose id the book already
 *  knows is not sent twice. @returns 0 or -1 (fatal). */
int te_planner_send_all(te_planner_t *pl, const te_order_cmd_t *cmds, size_t n);

/* planner_commit.c */
/** The commit state (nothing to commit, no delivered write). @returns NULL on OOM. */
te_planner_commit_t *te_planner_commit_new(void);
/** Takes NULL. */
void te_planner_commit_destroy(te_planner_commit_t *cs);
/** Delivery hook of the producer (te_kafka.h): the end of our delivered writes to each
 *  exec.orders partition and the sequence number of the last one. */
void te_planner_commit_on_delivered(void *opaque, const rd_kafka_message_t *m,
                                    uint64_t seq);
/** Save the DB state and commit the exec.targets offsets of the targets that are
 *  finished and whose messages are delivered (no flush unless `flush`: a revoke or the
 *  shutdown hands over everything). @returns 0 or -1 (fatal). */
int te_planner_commit(te_planner_t *pl, int flush);
/** Take what the producer has delivered so far: as_ofs planned go to the DB state of
 *  the next commit, finished targets' offsets become committable. Cheap; the loop calls
 *  it every few ms so that the queues of targets in flight stay short. */
void te_planner_commit_settle(te_planner_t *pl);
/** Forget the target offsets to commit and the orders offsets recorded from delivery
 *  reports (a new assignment). */
void te_planner_commit_reset(te_planner_t *pl);
/** Note that a target of `portfolio_id` with `as_of` was planned: the next commit
 *  records it in the DB. @returns 0 or -1 (OOM). */
int te_planner_commit_remember(te_planner_t *pl, const char *portfolio_id, int64_t as_of);

/* planner_target.c */
/** The state of the targets' path (nothing ready, nothing waiting for the DB, the
 *  horizon never read). @returns NULL on OOM. */
te_planner_target_t *te_planner_target_new(void);
/** Takes NULL (the items it points to belong to the target queue). */
void te_planner_target_destroy(te_planner_target_t *ts);
/** Read the last date of prices_daily again (the TRAINING as_of horizon) if `force` or
 *  its minute is up. A failed read keeps the last known date (or the wall clock when
 *  none was ever read): it never dead-letters anything. */
void te_planner_target_bars_refresh(te_planner_t *pl, int64_t now, int force);

/* planner_sync.c */
/** @returns 1 if this instance owns the partition of `portfolio_id`. */
int te_planner_sync_owns(void *opaque, const char *portfolio_id);
/** The targets consumer's rebalance callback (te_rebalance_cb_t). An assignment is
 *  only recorded in pl->assigned: the loop rebuilds (te_planner_sync_rebuild_step). */
void te_planner_sync_on_rebalance(te_consumer_t *c,
                                  rd_kafka_topic_partition_list_t *parts, int assigned,
                                  void *opaque);

/** Rebuild the book for pl->assigned. While the DB is unreachable the assignment is
 *  paused and the rebuild retried with backoff (50 ms doubling to 5 s) at the next call
 *  after `now` passes the next attempt. @returns 0 when done, 1 while waiting, -1 when
 *  fatal. */
int te_planner_sync_rebuild_step(te_planner_t *pl, int64_t now);
/** A target consumed before its assignment's rebuild: seek its partition back to it
 *  (and pause the assignment), so it is read again once the rebuild is done. */
void te_planner_sync_put_back(te_planner_t *pl, const rd_kafka_message_t *m);

/* planner_target.c */
/** Free a kept target copy (te_map value destructor). */
void te_planner_target_free_copy(void *v);
/** Apply one report message; a CLOCK_ACK a target waits for makes it ready. */
void te_planner_target_on_report(te_planner_t *pl, rd_kafka_message_t *m);
/** Read every report waiting on the reports consumer, the first poll waiting up to
 *  timeout_ms. */
void te_planner_target_drain_reports(te_planner_t *pl, int64_t now, int timeout_ms);
/** After reports were read: plan the targets whose CLOCK_ACK came (and what queued
 *  behind them), hold the targets in flight of partitions gone DOWN, alert on overdue
 *  ACKs, retry the targets waiting for the DB when their backoff is due.
 *  @returns 0 or -1 (stop). */
int te_planner_target_after_reports(te_planner_t *pl, int64_t now);
/** Handle one target message (`fresh`: just consumed, already in the ledger; 0: a held
 *  one released). Takes `m` (released, kept in flight or held). @returns 0, or -1 to
 *  stop. */
int te_planner_target_on_message(te_planner_t *pl, rd_kafka_message_t *m, int64_t now,
                                 int fresh);
/** The id a target waits under for its portfolio's confirmations (te_target_queue_wait).
 */
void te_planner_target_confirm_id(char *out, size_t outsz, const char *portfolio_id);
/** A report took an order of `portfolio_id` out of pending (book.h): when nothing of
 *  the portfolio is pending any more, the target waiting for that is made ready and a
 *  waiting EMERGENCY re-plan is due. */
void te_planner_target_on_confirmed(te_planner_t *pl, const char *portfolio_id);
/** Alert once for each CANCEL or REPLACE unconfirmed for longer than
 *  plan.confirm_timeout_ms. */
void te_planner_target_check_confirms(te_planner_t *pl, int64_t now);
/** The ledger entry of the target in `m` is finished (its messages so far sent). */
void te_planner_target_done(te_planner_t *pl, const rd_kafka_message_t *m);
/** Drop the targets in flight (revoke, shutdown): not committed, consumed again. */
void te_planner_target_drop_in_flight(te_planner_t *pl);
/** Dead-letter a target message with "code: why", an Alert and the counters. */
void te_planner_target_dead_letter(te_planner_t *pl, const rd_kafka_message_t *m,
                                   const char *code, const char *why,
                                   const te_target_portfolio_t *tp);

/* planner_mode.c: its own state */
/** The levels in force (none yet) and no EMERGENCY re-plan waiting. @returns NULL on
 *  OOM. */
te_planner_mode_t *te_planner_mode_new(void);
/** Takes NULL. */
void te_planner_mode_destroy(te_planner_mode_t *md);
/** @returns the level in force for `portfolio_id`. */
te_level_t te_planner_mode_level(const te_planner_mode_t *md, const char *portfolio_id);
/** Nothing of `portfolio_id` is pending any more: its waiting EMERGENCY re-plan (if
 *  any) is due (te_planner_mode_emergency_confirmed). */
void te_planner_mode_confirmed(te_planner_mode_t *md, const char *portfolio_id);
/** Forget the waiting EMERGENCY re-plans (their partitions were revoked).
 *  @returns 0 or -1 (OOM). */
int te_planner_mode_drop_waits(te_planner_mode_t *md);

/* planner_mode.c */
/** Bring open orders in line with the levels in force (scope NULL: all portfolios).
 *  @returns 0 or -1 (fatal). */
int te_planner_mode_act(te_planner_t *pl, const char *scope, int64_t event_time);
/** One exec.mode message read during start-up (recorded, not acted on). */
void te_planner_mode_on_startup(void *pl,
                                rd_kafka_message_t *m); /* a te_kafka_msg_fn_t */
/** Read every exec.mode message waiting and act on each. */
void te_planner_mode_drain(te_planner_t *pl);
/** Run the EMERGENCY re-plans whose cancels are all confirmed now (nothing unless one
 *  became due). @returns 0 or -1. */
int te_planner_mode_emergency_confirmed(te_planner_t *pl);

/* planner_target.c: the held targets (the set itself is planner_hold.h) */
/** A BROKER_STATE report read on reports partition `partition`. */
void te_planner_target_on_broker_state(te_planner_t *pl, int32_t partition,
                                       const te_exec_report_t *r);
/** After a rebuild's catch-up of exec.reports: alert once if the broker is down. */
void te_planner_target_hold_caught_up(te_planner_t *pl);
/** Plan the held targets of partitions that are UP again. @returns 0 or -1 (stop). */
int te_planner_target_release(te_planner_t *pl, int64_t now);

#endif
