/*
 * test_bt_metrics: the tear sheet's figures on equity curves small enough to work out
 * by hand (the expected values and how they were obtained are in the table), the
 * drawdown dates, monthly returns across month ends, the calendar conversions, and
 * the refusals (capital <= 0, a non-finite equity).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "bt_metrics.h"

#define EPS 1e-6
#define NA  NAN

static void near(double got, double want, const char *what, int row)
{
        if (isnan(want)) {
                if (!isnan(got))
                        fail_msg("row %d %s: got %.9g, want n/a", row, what, got);
                return;
        }
        if (!(fabs(got - want) <= EPS * (1 + fabs(want))))
                fail_msg("row %d %s: got %.9g, want %.9g", row, what, got, want);
}

/* day offsets from 2024-01-02 (a Tuesday) */
typedef struct {
        double capital, rf;
        size_t n;
        double eq[6];
        double total, cagr, vol, sharpe, sortino, best, worst, max_dd;
        int peak, trough, recovery; /* index into the curve; -1 none/start */
} row_t;

/*
 * Row 0: capital 100, equity 110, 99, 108.9. Returns +10%, -10%, +10%: mean 1/30,
 *   deviations 2/30, -4/30, 2/30, squares sum 24/900, / (n-1) = 2 -> variance 1/75,
 *   stdev 0.11547005; vol = 0.11547005 x sqrt(252) = 1.83303028; Sharpe = (1/30) /
 *   0.11547005 x 15.8745079 = 4.58257569; downside: only -10% counts, sqrt(0.01 / 3) =
 *   0.05773503, Sortino = (1/30) / 0.05773503 x 15.8745079 = 9.16515139; total 8.9%;
 *   CAGR = 1.089^(252/3) - 1 = 1288.26413; drawdown 99/110 - 1 = -10% from day 0 to day
 *   1, never back to 110.
 * Row 1: the same with rf = 2.52% a year = 0.0001 a day: excess mean 1/30 - 0.0001 =
 *   0.03323333; Sharpe = 0.03323333 / 0.11547005 x 15.8745079 = 4.56882797; downside:
 *   r - rf = -0.1001 -> sqrt(0.01002001 / 3) = 0.05779277, Sortino = 9.12852741.
 * Row 2: capital 100, equity 95, 90, 100, 120: the peak is the capital (start), the
 *   trough 90 (-10%) on day 1, back at 100 on day 2; returns -5%, -5.2631579%,
 *   +11.111111%, +20%; stdev 0.12483310 -> vol 1.98166243, Sharpe 6.62787481; downside
 *   sqrt((0.05^2 + 0.052631579^2) / 4) = 0.03629767 -> Sortino 22.7942321; best +20%,
 *   worst -5.2631579%; CAGR = 1.2^63 - 1 = 97367.5048.
 * Row 3: a steady +1% a day: no deviation, so no volatility ratio (n/a), vol 0, no
 *   drawdown; CAGR = 1.01^252 - 1 = 11.2740021.
 * Row 4: one point (equity 98 on capital 100): one return -2%, no sample deviation
 *   (n/a), Sortino = -0.02 / 0.02 x sqrt(252) = -15.8745079, drawdown -2% not
 *   recovered, CAGR = 0.98^252 - 1 = -0.99384864
 */
/* clang-format off */
static const row_t rows[] = {
    /* capital rf  n  equity             total  cagr  vol  sharpe  sortino  best  worst  max_dd  peak trough recovery */
    {100, 0,      3, {110, 99, 108.9},       0.089,    1288.26413,   1.83303028, 4.58257569, 9.16515139,  0.10,  -0.10,        -0.10,  0, 1, -1},
    {100, 0.0252, 3, {110, 99, 108.9},       0.089,    1288.26413,   1.83303028, 4.56882797, 9.12852741,  0.10,  -0.10,        -0.10,  0, 1, -1},
    {100, 0,      4, {95, 90, 100, 120},     0.20,     97367.5048,   1.98166243, 6.62787481, 22.7942321,  0.20,  -0.052631579, -0.10, -1, 1,  2},
    {100, 0,      3, {101, 102.01, 103.0301}, 0.030301, 11.2740021,  0,          NA,         NA,          0.01,  0.01,          0,    -1, -1, -1},
    {100, 0,      1, {98},                   -0.02,    -0.993848641, NA,         NA,         -15.8745079, -0.02, -0.02,        -0.02, -1, 0, -1},
};
/* clang-format on */

static void test_metrics_table(void **state)
{
        (void)state;
        int32_t d0 = te_bt_day_of(2024, 1, 2);
        for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
                const row_t *w = &rows[k];
                int32_t days[6];
                for (size_t i = 0; i < w->n; i++)
                        days[i] = d0 + (int32_t)i;
                te_bt_metrics_t m;
                assert_int_equal(te_bt_metrics(days, w->eq, w->n, w->capital, w->rf, &m),
                                 0);
                assert_int_equal(m.n, (long)w->n);
                near(m.total_return, w->total, "total return", (int)k);
                near(m.cagr, w->cagr, "cagr", (int)k);
                near(m.vol, w->vol, "volatility", (int)k);
                near(m.sharpe, w->sharpe, "sharpe", (int)k);
                near(m.sortino, w->sortino, "sortino", (int)k);
                near(m.best_day, w->best, "best day", (int)k);
                near(m.worst_day, w->worst, "worst day", (int)k);
                near(m.max_dd, w->max_dd, "max drawdown", (int)k);
                assert_int_equal(m.dd_peak_day, w->peak < 0 ? -1 : days[w->peak]);
                assert_int_equal(m.dd_trough_day, w->trough < 0 ? -1 : days[w->trough]);
                assert_int_equal(m.dd_recovery_day,
                                 w->recovery < 0 ? -1 : days[w->recovery]);
        }
}

static void test_metrics_refused(void **state)
{
        (void)state;
        int32_t days[2] = {1, 2};
        double eq[2] = {100, NAN};
        te_bt_metrics_t m;
        assert_int_equal(te_bt_metrics(days, eq, 2, 100, 0, &m), -1);
        eq[1] = 101;
        assert_int_equal(te_bt_metrics(days, eq, 2, 0, 0, &m), -1);
        assert_int_equal(te_bt_metrics(days, eq, 2, -5, 0, &m), -1);
        assert_int_equal(te_bt_metrics(days, eq, 2, 100, NAN, &m), -1);
        /* no points: nothing to measure, every ratio n/a */
        assert_int_equal(te_bt_metrics(days, eq, 0, 100, 0, &m), 0);
        assert_true(isnan(m.cagr) && isnan(m.sharpe) && isnan(m.vol));
        assert_true(m.max_dd == 0);
}

static void test_drawdown_series(void **state)
{
        (void)state;
        /* peak starts at the capital 100: 110 is a new peak, 99 = -10%, 108.9 = -1% */
        const double eq[] = {95, 110, 99, 108.9, 121};
        const double want[] = {-0.05, 0, -0.10, -0.01, 0};
        double dd[5];
        te_bt_drawdown(eq, 5, 100, dd);
        for (int i = 0; i < 5; i++)
                near(dd[i], want[i], "drawdown", i);
}

static void test_monthly(void **state)
{
        (void)state;
        /* Jan ends at 104 (+4% on 100), Feb at 99 (99/104 - 1 = -4.8076923%), Mar at
         * 110 (110/99 - 1 = +11.111111%); Dec 2023 -> Jan 2024 crosses a year */
        const int32_t days[] = {te_bt_day_of(2023, 12, 29), te_bt_day_of(2024, 1, 30),
                                te_bt_day_of(2024, 1, 31),  te_bt_day_of(2024, 2, 1),
                                te_bt_day_of(2024, 2, 29),  te_bt_day_of(2024, 3, 1)};
        const double eq[] = {100, 102, 104, 101, 99, 110};
        const struct {
                int y, m;
                double r;
        } want[] = {{2023, 12, 0},
                    {2024, 1, 0.04},
                    {2024, 2, -0.048076923},
                    {2024, 3, 0.11111111}};
        te_bt_month_t out[8];
        assert_int_equal(te_bt_monthly(days, eq, 6, 100, out, 8), 4);
        for (int i = 0; i < 4; i++) {
                assert_int_equal(out[i].year, want[i].y);
                assert_int_equal(out[i].month, want[i].m);
                near(out[i].ret, want[i].r, "monthly", i);
        }
        /* a short output array keeps the first months only */
        assert_int_equal(te_bt_monthly(days, eq, 6, 100, out, 2), 2);
        assert_int_equal(out[1].month, 1);
        assert_int_equal(te_bt_monthly(days, eq, 0, 100, out, 8), 0);
}

static void test_civil(void **state)
{
        (void)state;
        const struct {
                int y, m, d;
                int32_t day;
        } cases[] = {{1970, 1, 1, 0},      {1969, 12, 31, -1},  {2000, 3, 1, 11017},
                     {2024, 2, 29, 19782}, {2024, 3, 1, 19783}, {1900, 3, 1, -25508}};
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                assert_int_equal(te_bt_day_of(cases[i].y, cases[i].m, cases[i].d),
                                 cases[i].day);
                int y, m, d;
                te_bt_civil(cases[i].day, &y, &m, &d);
                assert_int_equal(y, cases[i].y);
                assert_int_equal(m, cases[i].m);
                assert_int_equal(d, cases[i].d);
        }
        for (int32_t day = -800000; day < 800000; day += 97) {
                int y, m, d;
                te_bt_civil(day, &y, &m, &d);
                assert_int_equal(te_bt_day_of(y, m, d), day);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_metrics_table),
            cmocka_unit_test(test_metrics_refused),
            cmocka_unit_test(test_drawdown_series),
            cmocka_unit_test(test_monthly),
            cmocka_unit_test(test_civil),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
