/*
 * bt_stages: where the wall time of one backtest goes, from the processes' own figures.
 *
 * With stages on (exec-backtest -o stages=true) the runner gives each child process a
 * metrics port, notes the times of its own phases, and at the end of the run, before it
 * stops the processes, reads each child's CPU time (/proc/<pid>/stat) and its /metrics
 * (histogram sums and counts). The lines it prints (and writes to OUT/stages.txt):
 *
 *   stage setup      DB create and migrate, topics, process start, group joins: start
 *                    of the run -> the first target planned
 *   stage publish    the runner reading, encoding and producing the targets (its CPU)
 *                    and the wall time it was held back by flow control
 *   stage clock      sum over targets of te_planner_target_to_order_seconds: target
 *                    consumed -> its orders produced, i.e. the TRAINING barrier (CLOCK
 *                    out, the simulator's day, CLOCK_ACK back) plus the planning; the
 *                    floor is one mock-cluster round trip per target
 *   stage kafka      clock - planner CPU - broker CPU: what the barrier spends in
 *                    Kafka hops and poll waits (an estimate: the CPU also counts work off
 *                    the critical path)
 *   stage planner / broker / sink   each process's CPU time (user + system)
 *   stage db_commit  sum of te_sink_db_commit_seconds: the sink's transactions
 *   stage idle       the planning phase (first target planned -> every target planned)
 *                    minus clock: the planner had no target in hand (waiting for the
 *                    runner's publishing, its poll loop)
 *   stage drain      every target planned -> every order terminal and in the DB (final
 *                    CLOCKs, cancels)
 *   stage report     stopping the processes and writing the report
 * CPU and the histogram sums overlap in time (processes run side by side); setup, the
 * planning phase, drain and report add up to the wall time.
 */
#ifndef TE_BT_STAGES_H
#define TE_BT_STAGES_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

enum { TE_BT_SINK, TE_BT_BROKER, TE_BT_PLANNER, TE_BT_NPROC };

typedef struct te_bt_hist_s {
        double sum;
        double count;
} te_bt_hist_t;

typedef struct te_bt_stages_s {
        /* monotonic ms */
        int64_t t_start, t_first_plan, t_published, t_planned, t_drained, t_end;
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
