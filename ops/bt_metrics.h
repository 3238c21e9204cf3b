/*
 * bt_metrics: the performance figures of a backtest's daily equity curve, as pure
 * functions of (day, equity) points, so that the math is tested on hand-worked numbers.
 *
 * Definitions (README "Tear sheet" repeats them):
 *   returns        r_i = E_i / E_{i-1} - 1 for each point i of the curve, with
 *                  E_{-1} = the starting capital: n points give n daily returns;
 *   total return   E_{n-1} / capital - 1;
 *   CAGR           (E_{n-1} / capital)^(252 / n) - 1 (a year is 252 trading days);
 *   volatility     sample standard deviation of r (divisor n - 1) x sqrt(252);
 *   Sharpe         (mean(r) - rf / 252) / stdev(r) x sqrt(252), rf the annual
 *                  risk-free rate (0 unless configured);
 *   Sortino        (mean(r) - rf / 252) / DD x sqrt(252), DD = sqrt(sum over all n
 *                  returns of min(0, r_i - rf / 252)^2 / n) (downside deviation);
 *   max drawdown   min over i of E_i / max(capital, E_0..E_i) - 1, with the day of
 *                  that peak (the start when the peak is the capital), the day of the
 *                  trough and the first later day whose equity is back at the peak
 *                  (none when it never recovers);
 *   monthly return E at the last point of the month / E at the last point of the
 *                  previous month - 1 (capital for the first month); a year's return
 *                  is computed the same way from year ends.
 * A figure that is undefined (no returns, a deviation below TE_BT_TINY, i.e. zero up
 * to rounding) is NaN: printed "n/a".
 */
#ifndef TE_BT_METRICS_H
#define TE_BT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define TE_BT_DAYS_PER_YEAR 252
#define TE_BT_TINY          1e-12

typedef struct te_bt_metrics_s {
        long n; /* daily returns */
        double total_return, cagr, vol, sharpe, sortino;
        double mean_daily, stdev_daily, best_day, worst_day;
        double max_dd;                      /* <= 0 */
        int32_t dd_peak_day, dd_trough_day; /* -1: the start (capital) / none */
        int32_t dd_recovery_day;            /* -1: not recovered */
} te_bt_metrics_t;

typedef struct te_bt_month_s {
        int year, month; /* month 1..12 */
        double ret;
} te_bt_month_t;

/** Compute the metrics of the curve days[0..n) / eq[0..n) (days ascending).
 *  @returns 0, or -1 if capital <= 0 or a value is not finite. */
int te_bt_metrics(const int32_t *days, const double *eq, size_t n, double capital,
                  double rf_annual, te_bt_metrics_t *m);

/** Monthly returns of the curve into out[0..max): @returns how many months (at most
 *  max; the curve's later months are left out when it has more). */
size_t te_bt_monthly(const int32_t *days, const double *eq, size_t n, double capital,
                     te_bt_month_t *out, size_t max);

/** Daily drawdown series: dd[i] = eq[i] / max(capital, eq[0..i]) - 1. */
void te_bt_drawdown(const double *eq, size_t n, double capital, double *dd);

/** Civil date of a day number (days since 1970-01-01). */
void te_bt_civil(int32_t day, int *y, int *m, int *d);

/** Day number of a civil date. */
int32_t te_bt_day_of(int y, int m, int d);

#endif
