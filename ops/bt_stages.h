/*
 * bt_stages: where the wall time of one backtest goes, from the processes' own figures.
 *
 * With stages on (exec-backtest -o stages=true) the runner gives each child process a
 * metrics port, notes the times of its own phases, and at the end of the run, before it
 * stops the processes, reads each child's CPU time (/proc/<pid>/stat) and its /metrics
 * (histogram sums and counts). The lines it prints (and writes to OUT/stages.txt):
 *
 *   setup      start -> processes spawned: run database created and migrated, topics;
 *              then spawned -> the first target planned: process start-up, consumer
 *              group joins, the planner's catch-up reads (the runner reads the
 *              report's bars meanwhile)
 *   publish    the runner reading, encoding and producing the targets (its CPU), and
 *              the wall time flow control held it back (a planner behind by
 *              flow.max_ahead_bytes or a sink backlog over flow.max_backlog)
 *   planning   the first target planned -> every target planned. With one portfolio
 *              the TRAINING barrier makes it serial, per target: CLOCK out, the
 *              simulator's day, CLOCK_ACK and the fills back, the planner's plan and
 *              orders out. It splits into
 *     planner    the planner's CPU time (user + system), all of it counted here
 *     broker     the broker's (the simulator's) CPU time
 *     clock      planning - planner - broker: the round trips through Kafka and the
 *                processes' poll waits (idle waiting on the barrier); its floor is
 *                one mock-cluster round trip per target (clock_rtt_ms)
 *   sink       the sink's CPU time and its mean report -> commit latency: it works
 *              beside the planning, on its path only through flow control
 *   db_commit  sum and count of te_sink_db_commit_seconds (the sink's transactions)
 *   drain      every target planned -> every order terminal and in the DB (final
 *              CLOCKs, cancels, the sink catching up)
 *   stop       stopping the three processes
 *   report     the report's queries, figures, charts and files
 * setup, planning, drain, stop and report add up to the wall time (up to the runner's
 * poll steps); the CPU figures overlap each other and the phases.
 */
#ifndef TE_BT_STAGES_H
#define TE_BT_STAGES_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* one round trip on the mock cluster at fetch.wait.max.ms=1 (planner -> broker ->
 * planner), measured on the development machine: the floor of a TRAINING day */
#define TE_BT_CLOCK_RTT_FLOOR_MS 2.6

/* the runner's process slots, in its order */
enum { TE_BT_SINK, TE_BT_BROKER, TE_BT_PLANNER, TE_BT_NPROC };

typedef struct te_bt_hist_s {
        double sum;
        double count;
} te_bt_hist_t;

typedef struct te_bt_stages_s {
        /* monotonic ms */
        int64_t t_start, t_spawn, t_first_plan, t_published, t_planned, t_drained;
        int64_t t_stopped, t_end;
        size_t targets;        /* published */
        double runner_cpu_s;   /* up to the last target published */
        double flow_wait_s;    /* held back by flow control */
        int port[TE_BT_NPROC]; /* metrics ports given to the children, 0: none */
        double cpu_s[TE_BT_NPROC];
        te_bt_hist_t target_to_order, order_to_ack, report_to_commit, db_commit;
        double clock_rtt_ms; /* the floor's round trip, for the "floor" column */
} te_bt_stages_t;

/** A free TCP port on 127.0.0.1 (bound, read, released), or 0. */
int te_bt_stages_free_port(void);

/** CPU time (user + system) of a live process in seconds, or -1. */
double te_bt_stages_proc_cpu(pid_t pid);

/** This process's CPU time in seconds. */
double te_bt_stages_self_cpu(void);

/** Read the children's CPU time and metrics (ports in st->port) into st. */
void te_bt_stages_collect(te_bt_stages_t *st, const pid_t pid[TE_BT_NPROC]);

/** Sum and count of histogram `name` in a Prometheus text page (every label set
 *  added up). @returns 0, or -1 if the page does not have it. */
int te_bt_stages_hist(const char *page, const char *name, te_bt_hist_t *h);

/** The "stage ..." lines. */
void te_bt_stages_print(const te_bt_stages_t *st, FILE *fp);

#endif
