/*
 * backtest_spawn: the processes of one backtest run (exec-sink, exec-broker,
 * exec-planner) and the run's topics. Which options each process gets is one table of
 * {processes, key, value} rows; this module builds the command lines from it, starts the
 * processes with their output in OUT/<process>.log, watches and stops them, and creates
 * the run's topics through the dev stack's control socket (backtest.h: isolation).
 */
#ifndef TE_BACKTEST_SPAWN_H
#define TE_BACKTEST_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "backtest.h"
#include "bt_stages.h" /* TE_BT_SINK, TE_BT_BROKER, TE_BT_PLANNER, TE_BT_NPROC */

#define TE_BT_ARGV_MAX 96

/* librdkafka settings the runner passes to its child processes (name, value pairs,
 * NULL-terminated) unless the run's config sets the same kafka.* key: a backtest is a
 * stream of small batches, so the consumers must not wait fetch.wait.max.ms (500 ms by
 * default) for data that is not coming, and a restarted group must settle fast. */
extern const char *const te_bt_kafka_defaults[];

/* What a run's processes are told: the cluster, the run's topics, groups and database. */
typedef struct te_bt_names_s {
        char bootstrap[1024];
        char run_conninfo[700];
        char t_targets[300], t_orders[300], t_reports[300];
        char g_planner[128], g_broker[128], g_sink[128];
} te_bt_names_t;

/* One start of the run's processes. */
typedef struct te_bt_spawn_s {
        const te_bt_conf_t *c;
        const te_cfg_t *cfg; /* kafka.* pass-through */
        const char *self;    /* argv[0]: the sibling binaries are beside it */
        const te_bt_names_t *nm;
        const int *port; /* [TE_BT_NPROC] metrics ports (0: none), or NULL */
} te_bt_spawn_t;

/* A command line: argv points into store. */
typedef struct te_bt_argv_s {
        char *argv[TE_BT_ARGV_MAX];
        int argc;
        size_t used;
        char store[16384];
} te_bt_argv_t;

/** Topic and group names of run `run_id`: bt.<id>.targets/.orders/.reports and
 *  bt-<id>-planner/-broker/-sink (bootstrap and run_conninfo are the caller's). */
void te_bt_names_init(te_bt_names_t *nm, const char *run_id);

/** Path of the sibling binary `bin`: in conf->bin_dir, else in the folder of `self`. */
void te_bt_bin_path(const te_bt_spawn_t *s, const char *bin, char *out, size_t outsz);

/** The command line of process `which`: `bin`, then "-o" "key=value" pairs: the
 *  cluster and log level, the low-latency kafka.* defaults the config does not set, the
 *  config's kafka.* settings, the process's rows, and last the user's options for it
 *  (conf->planner_opts ...). @returns 0, or -1 if too many or too long options. */
int te_bt_argv(te_bt_argv_t *a, int which, const char *bin, const te_bt_spawn_t *s);

/** Start every process, in slot order, stdout and stderr appended to OUT/<name>.log.
 *  pid[] gets the pids (0 for one not started). @returns 0, or -1 with errstr. */
int te_bt_spawn(const te_bt_spawn_t *s, pid_t pid[TE_BT_NPROC], char *errstr,
                size_t errsz);

/** @returns 0 while every started process runs, -1 (errstr names the log) if one
 *  exited; its pid is set to 0. */
int te_bt_procs_alive(pid_t pid[TE_BT_NPROC], const char *out_dir, char *errstr,
                      size_t errsz);

/** SIGTERM each process (the planner first), wait up to 30 s each, then SIGKILL.
 *  @returns 0 if every one exited 0. pid[] are all 0 after. */
int te_bt_procs_stop(pid_t pid[TE_BT_NPROC]);

/** Create the run's three topics with `partitions` each through the dev stack's
 *  control socket (conf->ctl_socket; "" on a real cluster: nothing to do).
 *  @returns 0, or -1 with errstr. */
int te_bt_create_topics(const te_bt_spawn_t *s, int partitions, char *errstr,
                        size_t errsz);

#endif
