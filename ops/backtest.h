/*
 * backtest: the exec-backtest runner — one run of planner -> sim broker -> sink over a
 * range of targets, isolated under a run id, then a report.
 *
 * Isolation (why this shape): a run gets its own topics bt.<run>.targets/.orders/
 * .reports (created through the dev stack's control socket, or by the operator on a
 * real cluster), its own consumer groups bt-<run>-planner/-broker/-sink, and its own
 * PostgreSQL database bt_<run> (same schema, created and migrated by the runner).
 * The trades table keeps exactly its columns; the run id is the database name, and
 * the table backtest_runs in the main database (migration 0003) maps run ids to their
 * database, source range and summary. Two runs never share a topic, a group or a row,
 * so a run can be replayed, compared (per-database hash of the ordered trades) or
 * dropped (DROP DATABASE) without touching another.
 *
 * Source: a targets JSON-lines file, or a range of an existing targets topic (offsets
 * from..to per partition, and/or an as_of range). The runner copies the source into
 * bt.<run>.targets with flow control: it never has more than `max_ahead_bytes` of
 * targets the planner has not committed, nor more than `max_backlog` reports the sink
 * has not stored on any partition (the mock cluster keeps ~5 MiB per partition and
 * silently drops the rest). Then it waits until every target is planned (planned ==
 * published is checked), sends a final CLOCK per portfolio (expires DAY orders), then
 * CANCELs what still rests, waits until every order is terminal, stops the processes
 * and writes the report (backtest_report.h).
 */
#ifndef TE_BACKTEST_H
#define TE_BACKTEST_H

#include <stdint.h>
#include <stdio.h>

#include "te_cfgtab.h"

#define TE_BT_RUN_ID_MAX 40

struct te_bt_summary_s;

/* A caller's progress hook (a sweep): `planned` of `total` targets, as_of day `day`
 * (days since 1970-01-01) of the last one planned. */
typedef void te_bt_progress_fn(void *arg, size_t planned, size_t total, int32_t day);

typedef struct te_bt_conf_s {
        te_common_conf_t common;
        char run_id[64];
        char targets_file[1024];
        char source_topic[250];
        int64_t from_offset; /* per partition, inclusive; -1: the beginning */
        int64_t to_offset;   /* per partition, exclusive; -1: the end at start */
        char from_asof[40];  /* ISO or ms, inclusive; "": no bound */
        char to_asof[40];
        char bars_csv[1024];
        int bars_db; /* bars from prices_daily of the main database */
        char out_dir[1024];
        double capital;
        double risk_free; /* annual risk-free rate of Sharpe and Sortino */
        int64_t partitions;
        int64_t max_ahead_bytes;
        int64_t max_backlog;
        int64_t progress_days;
        int64_t timeout_s;
        char ctl_socket[1024]; /* dev stack control socket: create the run's topics */
        char bin_dir[1024];    /* where exec-planner/-broker/-sink are; "" = this one's */
        char planner_opts[1024], broker_opts[1024], sink_opts[1024]; /* "k=v k=v" */
        int progress_tty;       /* 1 terminal, 0 plain lines, -1 auto */
        int tty_mode;           /* config: plain, tty, auto */
        int stages;             /* measure the stages (bt_stages.h) and print them */
        char sweep_sort[40];    /* backtest_sweep.h: column of the summary table */
        int64_t sweep_parallel; /* variants at once */
        /* set by a program that runs backtests (the sweep), not by configuration: */
        te_bt_progress_fn *on_progress; /* progress goes here, not to stderr */
        void *progress_arg;
        struct te_bt_summary_s *summary_out; /* the report's summary is copied here */
} te_bt_conf_t;

/** Run one backtest. `cfg` carries kafka.* pass-through for every client; `self` is
 *  argv[0] (to find the sibling binaries). Prints progress on stderr (or hands it to
 *  conf->on_progress) and the report summary on `out` (then, with conf->stages, the
 *  stage lines; conf->summary_out gets the summary). @returns 0 on success, 1 when
 *  the run finished but a check failed (planned != published, orders not terminal),
 *  2 on errors (errstr). */
int te_bt_run(const te_bt_conf_t *conf, const te_cfg_t *cfg, const char *self, FILE *out,
              char *errstr, size_t errsz);

/** Database name of a run id: "bt_" + id, lower-cased, '-' and '.' as '_'.
 *  @returns 0, or -1 if the id is empty, too long or has other characters. */
int te_bt_db_name(const char *run_id, char *out, size_t outsz);

#endif
