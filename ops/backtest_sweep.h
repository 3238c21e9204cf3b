/*
 * backtest_sweep: many variants of a strategy in one sweep on one stack.
 *
 * Each input is a targets file (one variant, named after the file without .jsonl) or a
 * directory (every *.jsonl in it, in name order). Variant V of sweep S is an ordinary
 * backtest (te_bt_run, in a child process of its own) under the run id S-V: its own
 * topics bt.S-V.*, consumer groups, database bt_S_V and report directory OUT/V/ (with
 * runner.log and run.out, the run's own output). At most `sweep.parallel` variants run
 * at once, the next one starting when one ends. Every variant shares the bars and the
 * run options.
 *
 * At the end: one row per variant with the figures of its report (te_bt_summary_t,
 * the same numbers as OUT/V/report.txt: total return, turnover, commissions,
 * slippage, max drawdown, Sharpe, trades and their hash), sorted by `sweep.sort`
 * (best first: highest return / Sharpe / drawdown nearest 0, lowest turnover /
 * commissions / slippage / wall time; COL:asc or COL:desc chooses), printed on `out`
 * and written to OUT/sweep.csv. One progress line covers the whole sweep.
 */
#ifndef TE_BACKTEST_SWEEP_H
#define TE_BACKTEST_SWEEP_H

#include <stdio.h>

#include "backtest.h"

#define TE_BT_SWEEP_MAX 256 /* variants in one sweep */

/** The columns --sort accepts, NULL-terminated. */
extern const char *const te_bt_sweep_columns[];

/** Run the sweep of `inputs` (files or directories). `base` is the run configuration
 *  every variant starts from (run_id is the sweep id, out_dir the sweep's directory).
 *  @returns 0 when every variant passed, 1 when a variant's check failed, 2 on errors
 *  (errstr; a variant's own error is in its row and its runner.log). */
int te_bt_sweep(const te_bt_conf_t *base, const te_cfg_t *cfg, const char *self,
                char *const *inputs, int n_inputs, FILE *out, char *errstr, size_t errsz);

#endif
