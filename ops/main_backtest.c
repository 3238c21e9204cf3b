/*
 * exec-backtest: run one backtest end to end and print its report (ops/backtest.h).
 *
 *   exec-backtest --run-id ID --bars BARS.csv --targets TARGETS.jsonl [options]
 *   exec-backtest --run-id SWEEP --bars BARS.csv --targets A.jsonl --targets B.jsonl
 *                 (or --targets DIR) [--sort COL] [--parallel N]   a sweep
 *                 (backtest_sweep.h): each file a variant, run id SWEEP-<file name>
 *   exec-backtest --run-id ID --bars-db --source-topic exec.targets
 *                 [--from-offset N] [--to-offset M] [--from-asof T] [--to-asof T]
 *
 * Every --long option is a shorthand for -o key=value (see -h for all keys);
 * -c FILE, -o key=value, EXEC_* environment and kafka.* pass-through work as in every
 * process. The dev stack: --bootstrap-file RUN/bootstrap --ctl RUN/ctl (the runner
 * creates the run's topics through the control socket). The child processes get the
 * low-latency Kafka settings of te_bt_kafka_defaults (listed by -h) unless the run's
 * config sets the same kafka.* key.
 * Exit status: 0 done and every check passed, 1 a check failed (planned != published,
 * orders not terminal, a process failed), 2 usage or runtime error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backtest.h"
#include "backtest_spawn.h"
#include "backtest_sweep.h"
#include "te_buf.h"
#include "te_cfgtab.h"
#include "te_log.h"
#include "te_proc.h"

#define PROC "exec-backtest"

static const char *const tty_modes[] = {"plain", "tty", "auto", NULL};

typedef te_bt_conf_t conf_t;

static const te_cfg_item_t items[] = {
    TE_CFG_COMMON(conf_t),
    TE_CFG_S(conf_t, "run.id", run_id, "", "run id: topics bt.<id>.*, database bt_<id>"),
    TE_CFG_S(conf_t, "targets.file", targets_file, "", "targets JSON lines to publish"),
    TE_CFG_S(conf_t, "source.topic", source_topic, "",
             "or replay this targets topic (range below)"),
    TE_CFG_I(conf_t, "source.from_offset", from_offset, "-1", -1, 9e18,
             "first offset per partition (-1: the earliest kept)"),
    TE_CFG_I(conf_t, "source.to_offset", to_offset, "-1", -1, 9e18,
             "end offset per partition, exclusive (-1: the end at start)"),
    TE_CFG_S(conf_t, "source.from_asof", from_asof, "",
             "only targets with as_of >= this"),
    TE_CFG_S(conf_t, "source.to_asof", to_asof, "", "only targets with as_of <= this"),
    TE_CFG_S(conf_t, "bars.csv", bars_csv, "", "daily bars CSV (sim and report)"),
    TE_CFG_B(conf_t, "bars.db", bars_db, "false", "bars from prices_daily instead"),
    TE_CFG_S(conf_t, "out.dir", out_dir, "", "report directory (default bt-<run.id>)"),
    TE_CFG_D(conf_t, "capital", capital, "0", 0, 1e15,
             "starting equity of the report (0: sum of each portfolio's first target "
             "nav, else 1000000)"),
    TE_CFG_D(conf_t, "report.risk_free", risk_free, "0", -1, 1,
             "annual risk-free rate of the tear sheet's Sharpe and Sortino (0.02 = 2%)"),
    TE_CFG_I(conf_t, "partitions", partitions, "8", 1, 256,
             "partitions of the run's topics"),
    TE_CFG_I(conf_t, "flow.max_ahead_bytes", max_ahead_bytes, "2097152", 1024,
             INT64_C(1) << 40, "targets published but not yet planned, at most"),
    TE_CFG_I(conf_t, "flow.max_backlog", max_backlog, "8000", 100, INT64_C(1) << 40,
             "reports not yet in the DB on any partition, at most"),
    TE_CFG_I(conf_t, "progress.days", progress_days, "250", 1, 100000,
             "not on a terminal: one line per this many days"),
    TE_CFG_E(conf_t, "progress.mode", tty_mode, "auto", tty_modes,
             "plain lines, one refreshed terminal line, or tty when stderr is one"),
    TE_CFG_I(conf_t, "timeout.s", timeout_s, "3600", 1, 864000, "give up after"),
    TE_CFG_S(conf_t, "devstack.ctl", ctl_socket, "",
             "dev stack control socket: create the run's topics there"),
    TE_CFG_S(conf_t, "bin.dir", bin_dir, "", "dir of exec-planner etc (default: ours)"),
    TE_CFG_S(conf_t, "planner.opts", planner_opts, "", "extra k=v for exec-planner"),
    TE_CFG_S(conf_t, "broker.opts", broker_opts, "", "extra k=v for exec-broker"),
    TE_CFG_S(conf_t, "sink.opts", sink_opts, "", "extra k=v for exec-sink"),
    TE_CFG_B(conf_t, "stages", stages, "false",
             "measure where the time goes (metrics ports for the processes) and print "
             "the stage lines (OUT/stages.txt)"),
    TE_CFG_S(conf_t, "sweep.sort", sweep_sort, "sharpe",
             "sweep: sort the table by variant, return, turnover, commissions, "
             "slippage, max_drawdown, sharpe, trades or wall (best first; COL:asc, "
             "COL:desc)"),
    TE_CFG_I(conf_t, "sweep.parallel", sweep_parallel, "8", 1, 64,
             "sweep: variants run at once (a run mostly waits on its CLOCK round "
             "trips: 8 at once fill 2 cores; each holds ~5 DB connections)"),
};

/* --long VALUE -> -o key=VALUE; flags without a value -> key=true */
static const struct {
        const char *opt, *key;
        int flag;
} longs[] = {
    {"--run-id", "run.id", 0},
    {"--targets", "targets.file", 0},
    {"--source-topic", "source.topic", 0},
    {"--from-offset", "source.from_offset", 0},
    {"--to-offset", "source.to_offset", 0},
    {"--from-asof", "source.from_asof", 0},
    {"--to-asof", "source.to_asof", 0},
    {"--bars", "bars.csv", 0},
    {"--bars-db", "bars.db", 1},
    {"--out", "out.dir", 0},
    {"--capital", "capital", 0},
    {"--ctl", "devstack.ctl", 0},
    {"--bootstrap-file", "bootstrap.file", 0},
    {"--planner-opts", "planner.opts", 0},
    {"--broker-opts", "broker.opts", 0},
    {"--sink-opts", "sink.opts", 0},
    {"--timeout", "timeout.s", 0},
    {"--stages", "stages", 1},
    {"--sort", "sweep.sort", 0},
    {"--parallel", "sweep.parallel", 0},
};

int main(int argc, char **argv)
{
        static conf_t conf;
        char **av = calloc((size_t)argc * 2 + 1, sizeof *av);
        char **owned = calloc((size_t)argc + 1, sizeof *owned);
        char **tgt = calloc((size_t)argc + 1, sizeof *tgt); /* --targets values */
        int n = 0, no = 0, nt = 0, rc = 2;
        te_cfg_t *cfg = NULL;
        if (!av || !owned || !tgt)
                goto out;
        av[n++] = argv[0];
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                        printf("shorthands: --OPTION VALUE is -o KEY=VALUE\n");
                        for (size_t k = 0; k < sizeof longs / sizeof longs[0]; k++)
                                printf("  %-18s %s%s\n", longs[k].opt, longs[k].key,
                                       longs[k].flag ? "=true" : "");
                        printf("  --targets given several times, or a directory: a "
                               "sweep, one run per file\n");
                        printf("Kafka settings passed to exec-planner, exec-broker and "
                               "exec-sink\n(a kafka.* key of this run's config wins):\n");
                        for (size_t k = 0; te_bt_kafka_defaults[k]; k += 2)
                                printf("  kafka.%s=%s\n", te_bt_kafka_defaults[k],
                                       te_bt_kafka_defaults[k + 1]);
                        if (strcmp(argv[i], "--help") == 0)
                                argv[i] = "-h";
                }
                if (strcmp(argv[i], "--targets") == 0) {
                        /* one file: a run; several, or a directory: a sweep */
                        if (i + 1 >= argc) {
                                fprintf(stderr, PROC ": --targets needs a value\n");
                                goto out;
                        }
                        tgt[nt++] = argv[++i];
                        continue;
                }
                size_t k = 0;
                for (; k < sizeof longs / sizeof longs[0]; k++)
                        if (strcmp(argv[i], longs[k].opt) == 0)
                                break;
                if (k == sizeof longs / sizeof longs[0]) {
                        av[n++] = argv[i];
                        continue;
                }
                const char *val = "true";
                if (!longs[k].flag) {
                        if (i + 1 >= argc) {
                                fprintf(stderr, PROC ": %s needs a value\n", argv[i]);
                                goto out;
                        }
                        val = argv[++i];
                }
                size_t len = strlen(longs[k].key) + strlen(val) + 2;
                char *kv = malloc(len);
                if (!kv)
                        goto out;
                snprintf(kv, len, "%s=%s", longs[k].key, val);
                owned[no++] = kv;
                av[n++] = "-o";
                av[n++] = kv;
        }
        struct stat st;
        int sweep = nt > 1 || (nt == 1 && stat(tgt[0], &st) == 0 && S_ISDIR(st.st_mode));
        if (nt == 1 && !sweep) {
                av[n++] = "-o";
                size_t len = strlen(tgt[0]) + sizeof "targets.file=";
                char *kv = malloc(len);
                if (!kv)
                        goto out;
                snprintf(kv, len, "targets.file=%s", tgt[0]);
                owned[no++] = kv;
                av[n++] = kv;
        }
        cfg = te_cfgtab_start(PROC, items, sizeof items / sizeof items[0], &conf,
                              &conf.common, n, av);
        if (!cfg) {
                rc = te_cfgtab_exit_code();
                goto out;
        }
        te_proc_install_signals();
        conf.progress_tty = conf.tty_mode == 2 ? -1 : conf.tty_mode;
        if (!conf.out_dir[0])
                snprintf(conf.out_dir, sizeof conf.out_dir, "bt-%s", conf.run_id);
        char errstr[1024];
        /* the children are found next to this binary: its real path, not argv[0]
         * (which is a bare name when it was found through PATH) */
        static char self[4096];
        ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
        if (sl > 0)
                self[sl] = '\0';
        else
                te_strlcpy(self, argv[0], sizeof self);
        if (sweep && conf.targets_file[0]) {
                fprintf(stderr, PROC ": targets.file and a sweep (--targets given a "
                                     "directory or several times): choose one\n");
                rc = 2;
                goto out;
        }
        if (sweep)
                rc =
                    te_bt_sweep(&conf, cfg, self, tgt, nt, stdout, errstr, sizeof errstr);
        else
                rc = te_bt_run(&conf, cfg, self, stdout, errstr, sizeof errstr);
        if (rc != 0)
                fprintf(stderr, PROC ": %s\n", errstr);
out:
        for (int i = 0; i < no; i++)
                free(owned[i]);
        free(owned);
        free(tgt);
        free(av);
        te_cfg_destroy(cfg);
        return rc;
}
