/*
 * backtest_report: the numbers of a finished backtest, from its run database and the
 * bars, written into OUT/: report.txt (the summary lines), equity.csv (one row per
 * day), equity.png (equity and drawdown), portfolios.png (cumulative P&L per
 * portfolio) and tearsheet.html (one self-contained page: the charts, the metrics,
 * the monthly returns, the run's parameters and the trades hash; bt_tearsheet.h).
 *
 *   equity         capital + cash movements of the trades (price x size and
 *                  commissions) + positions marked at the close of the latest bar on or
 *                  before each day; per portfolio the same without the capital (P&L);
 *   returns, CAGR, volatility, Sharpe, Sortino, drawdown, monthly returns: bt_metrics.h;
 *   turnover       traded value / mean daily equity (one-way: buys plus sells, in
 *                  multiples of the mean equity), and that per year (x 252 / days);
 *   commissions    sum over trades (and in bps of the traded value);
 *   slippage       value-weighted (price - arrival) / arrival in bps, signed so that a
 *                  positive number is a cost; arrival = close of the latest bar on or
 *                  before the order's first event time (the target's as_of);
 *   fill ratio     filled / ordered quantity over orders that were accepted (ordered =
 *                  the largest cum + leaves any report of the order carried);
 *   orders by final state, and an md5 of the trades ordered by trade_id (the
 *   determinism check: equal inputs give equal hashes).
 * The equity curve has one row per day with a bar for any instrument the run traded,
 * from the first trade (or first_day) to last_day.
 */
#ifndef TE_BACKTEST_REPORT_H
#define TE_BACKTEST_REPORT_H

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>

#include "bars.h"
#include "bt_metrics.h"
#include "bt_params.h"

typedef struct te_bt_summary_s {
        double capital, final_equity, total_return;
        double traded_value, turnover, turnover_annual, commissions, commission_bps;
        double slippage_bps, fill_ratio;
        long trades, orders, days, portfolios;
        int32_t first_day, last_day; /* of the equity curve (-1 when empty) */
        te_bt_metrics_t m;
        char states[512];    /* "EXPIRED=3 FILLED=120 ..." */
        char trades_md5[40]; /* hex */
} te_bt_summary_t;

/** Compute the summary and write the report files into out_dir; p->capital is the
 *  starting equity. @returns 0, or -1 with errstr. */
int te_bt_report(PGconn *db, te_bars_t *bars, const te_bt_params_t *p, int32_t first_day,
                 int32_t last_day, const char *out_dir, te_bt_summary_t *s, char *errstr,
                 size_t errsz);

/** Print the summary as "key: value" lines. */
void te_bt_summary_print(const te_bt_summary_t *s, const char *run_id, FILE *fp);

/** YYYY-MM-DD of a day number into out (11 bytes). */
void te_bt_day_str(int32_t day, char *out, size_t outsz);

#endif
