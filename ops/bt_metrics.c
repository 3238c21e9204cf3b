/*
 * bt_metrics: performance figures of an equity curve (see bt_metrics.h).
 */
#include "bt_metrics.h"

#include <math.h>

void te_bt_civil(int32_t day, int *y, int *m, int *d)
{
        /* civil from days (proleptic Gregorian) */
        int64_t z = (int64_t)day + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        int64_t mm = mp < 10 ? mp + 3 : mp - 9;
        *d = (int)(doy - (153 * mp + 2) / 5 + 1);
        *m = (int)mm;
        *y = (int)(yoe + era * 400 + (mm <= 2));
}

int32_t te_bt_day_of(int y, int m, int d)
{
        int64_t yy = (int64_t)y - (m <= 2);
        int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
        int64_t yoe = yy - era * 400;
        int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return (int32_t)(era * 146097 + doe - 719468);
}

void te_bt_drawdown(const double *eq, size_t n, double capital, double *dd)
{
        double peak = capital;
        for (size_t i = 0; i < n; i++) {
                if (eq[i] > peak)
                        peak = eq[i];
                dd[i] = peak > 0 ? eq[i] / peak - 1 : 0;
        }
}

int te_bt_metrics(const int32_t *days, const double *eq, size_t n, double capital,
                  double rf_annual, te_bt_metrics_t *m)
{
        m->n = (long)n;
        m->total_return = m->cagr = m->vol = m->sharpe = m->sortino = NAN;
        m->mean_daily = m->stdev_daily = m->best_day = m->worst_day = NAN;
        m->max_dd = 0;
        m->dd_peak_day = m->dd_trough_day = m->dd_recovery_day = -1;
        if (!(capital > 0) || !isfinite(capital) || !isfinite(rf_annual))
                return -1;
        for (size_t i = 0; i < n; i++)
                if (!isfinite(eq[i]))
                        return -1;
        if (n == 0)
                return 0;
        double rf = rf_annual / TE_BT_DAYS_PER_YEAR;
        double sum = 0, prev = capital;
        m->best_day = -INFINITY;
        m->worst_day = INFINITY;
        for (size_t i = 0; i < n; i++) {
                double r = prev != 0 ? eq[i] / prev - 1 : 0;
                sum += r;
                m->best_day = r > m->best_day ? r : m->best_day;
                m->worst_day = r < m->worst_day ? r : m->worst_day;
                prev = eq[i];
        }
        double mean = sum / (double)n, ss = 0, down = 0;
        prev = capital;
        for (size_t i = 0; i < n; i++) {
                double r = prev != 0 ? eq[i] / prev - 1 : 0;
                ss += (r - mean) * (r - mean);
                double lo = r - rf < 0 ? r - rf : 0;
                down += lo * lo;
                prev = eq[i];
        }
        double ann = sqrt((double)TE_BT_DAYS_PER_YEAR);
        m->mean_daily = mean;
        m->total_return = eq[n - 1] / capital - 1;
        m->cagr =
            eq[n - 1] > 0
                ? pow(eq[n - 1] / capital, (double)TE_BT_DAYS_PER_YEAR / (double)n) - 1
                : -1;
        if (n >= 2) {
                m->stdev_daily = sqrt(ss / (double)(n - 1));
                m->vol = m->stdev_daily * ann;
                if (m->stdev_daily > TE_BT_TINY)
                        m->sharpe = (mean - rf) / m->stdev_daily * ann;
        }
        double dd_dev = sqrt(down / (double)n);
        if (dd_dev > TE_BT_TINY)
                m->sortino = (mean - rf) / dd_dev * ann;
        /* drawdown: the deepest trough below its running peak */
        double peak = capital;
        int32_t peak_day = -1;
        double peak_at_trough = capital;
        for (size_t i = 0; i < n; i++) {
                if (eq[i] > peak) {
                        peak = eq[i];
                        peak_day = days[i];
                }
                double dd = eq[i] / peak - 1;
                if (dd < m->max_dd) {
                        m->max_dd = dd;
                        m->dd_peak_day = peak_day;
                        m->dd_trough_day = days[i];
                        peak_at_trough = peak;
                }
        }
        if (m->max_dd < 0)
                for (size_t i = 0; i < n; i++)
                        if (days[i] > m->dd_trough_day && eq[i] >= peak_at_trough) {
                                m->dd_recovery_day = days[i];
                                break;
                        }
        return 0;
}

size_t te_bt_monthly(const int32_t *days, const double *eq, size_t n, double capital,
                     te_bt_month_t *out, size_t max)
{
        size_t k = 0;
        double base = capital;
        for (size_t i = 0; i < n && k < max; i++) {
                int y, mo, d, y2 = 0, mo2 = 0;
                te_bt_civil(days[i], &y, &mo, &d);
                if (i + 1 < n)
                        te_bt_civil(days[i + 1], &y2, &mo2, &d);
                if (i + 1 < n && y2 == y && mo2 == mo)
                        continue; /* not the month's last point */
                out[k].year = y;
                out[k].month = mo;
                out[k].ret = base != 0 ? eq[i] / base - 1 : 0;
                base = eq[i];
                k++;
        }
        return k;
}
