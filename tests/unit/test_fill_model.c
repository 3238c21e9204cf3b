/*
 * test_fill_model: the per-bar fill rules of brokers/fill_model.h, with every expected
 * quantity and price worked out by hand in the comments (slippage 5 bps, participation
 * 2.5%, impact k as stated per case; prices rounded to 4 decimals).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../broker_defaults.h"
#include "fill_model.h"
#include "te_buf.h"

#define B   TE_SIDE_BUY
#define S   TE_SIDE_SELL
#define MKT TE_OT_MARKET
#define LMT TE_OT_LIMIT
#define STP TE_OT_STOP
#define STL TE_OT_STOP_LIMIT
#define CO  TE_PHASE_CLOSE_ONLY
#define FU  TE_PHASE_FULL

static void test_fill_model_defaults(void **state)
{
        (void)state;
        te_fill_cfg_t c;
        te_fill_cfg_defaults(&c);
        assert_int_equal(c.market_at, TE_MKT_AT_CLOSE);
        assert_true(c.participation == 0.025 && c.emergency_participation == 0.10);
        assert_true(c.slippage_bps == 5 && c.emergency_cross_bps == 10);
        assert_true(c.impact_k == 1 && c.lot == 1);
        assert_true(c.commission_per_share == 0.005 && c.commission_min == 1.0);
        assert_true(c.commission_max_frac == 0.01 && c.commission_per_order == 0);
}

static void test_fill_model_cap(void **state)
{
        (void)state;
        static const struct {
                te_aggr_t aggr;
                double lot, volume, cap;
        } cases[] = {
            {TE_AGGR_NORMAL, 1, 40000, 1000},    /* 2.5% of 40000 */
            {TE_AGGR_NORMAL, 1, 39999, 999},     /* 999.975 rounds down */
            {TE_AGGR_EMERGENCY, 1, 40000, 4000}, /* 10% */
            {TE_AGGR_NORMAL, 100, 40000, 1000},  /* 10 lots */
            {TE_AGGR_NORMAL, 100, 39999, 900},   /* 9.99975 lots -> 9 */
            {TE_AGGR_NORMAL, 1, 0, 0},           /* no volume, no fill */
            {TE_AGGR_NORMAL, 1, 39, 0},          /* 0.975 shares -> 0 */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_fill_cfg_t c;
                te_fill_cfg_defaults(&c);
                c.lot = cases[i].lot;
                double got = te_fill_cap_qty(&c, cases[i].aggr, cases[i].volume);
                if (got != cases[i].cap) {
                        print_error("case %zu: cap %g, expected %g\n", i, got,
                                    cases[i].cap);
                        fail();
                }
        }
}

static void test_fill_model_price(void **state)
{
        (void)state;
        static const struct {
                te_side_t side;
                te_aggr_t aggr;
                double k, ref, qty, volume, price;
        } cases[] = {
            /* share 1000/40000 = 0.025, share^2 = 0.000625; move 0.0005 + 0.000625 */
            {B, TE_AGGR_NORMAL, 1, 20.00, 1000, 40000, 20.0225}, /* 20 x 1.001125 */
            {S, TE_AGGR_NORMAL, 1, 20.00, 1000, 40000, 19.9775}, /* 20 x 0.998875 */
            {B, TE_AGGR_NORMAL, 0, 20.00, 1000, 40000, 20.0100}, /* slippage only */
            {B, TE_AGGR_NORMAL, 4, 20.00, 1000, 40000, 20.0600}, /* 0.0005+0.0025 */
            /* EMERGENCY adds 10 bps: 0.0005 + 0.001 + 0.000625 = 0.002125 */
            {B, TE_AGGR_EMERGENCY, 1, 20.00, 1000, 40000, 20.0425},
            /* share 500/40000 = 0.0125, ^2 = 0.00015625; 21 x 1.00065625 = 21.01378 */
            {B, TE_AGGR_NORMAL, 1, 21.00, 500, 40000, 21.0138},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_fill_cfg_t c;
                te_fill_cfg_defaults(&c);
                c.impact_k = cases[i].k;
                double got = te_fill_price(&c, cases[i].side, cases[i].aggr, cases[i].ref,
                                           cases[i].qty, cases[i].volume);
                if (got != cases[i].price) {
                        print_error("case %zu: %.10f, expected %.4f\n", i, got,
                                    cases[i].price);
                        fail();
                }
        }
}

static void test_fill_model_commission(void **state)
{
        (void)state;
        static const struct {
                double per_order, cum_qty, cum_value, total;
        } cases[] = {
            {0, 0, 0, 0},              /* nothing filled, nothing charged */
            {0, 100, 2000, 1.00},      /* 0.50 -> minimum 1.00 */
            {0, 1000, 20000, 5.00},    /* 1000 x 0.005 */
            {0, 10, 50, 0.50},         /* min 1.00 but max 1% of 50 = 0.50 wins */
            {0, 1000, 400, 4.00},      /* 5.00 capped at 1% of 400 */
            {0, 100000, 1e6, 500.00},  /* under the 10000 cap */
            {1.0, 1000, 20000, 6.00},  /* plus 1.00 per order */
            {0, 201, 4020, 1.005},     /* 201 x 0.005 */
            {0, 2500, 51052.5, 12.50}, /* the three-bar order of test_broker_sim */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_fill_cfg_t c;
                te_fill_cfg_defaults(&c);
                c.commission_per_order = cases[i].per_order;
                double got =
                    te_fill_commission_total(&c, cases[i].cum_qty, cases[i].cum_value);
                if (got != cases[i].total) {
                        print_error("case %zu: %.6f, expected %.4f\n", i, got,
                                    cases[i].total);
                        fail();
                }
        }
}

/* One order against one bar. impact_k = 0 unless stated, so prices are close/open/
 * limit/stop x (1 +- 0.0005). */
static void test_fill_model_bar(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                te_side_t side;
                te_order_type_t type;
                te_tif_t tif;
                te_aggr_t aggr;
                double leaves, limit, stop;
                int triggered;
                double open, high, low, close, volume;
                te_bar_phase_t phase;
                double qty, price;
                int trig_after, refused;
        } cases[] = {
            {"market at close", B, MKT, TE_TIF_DAY, 0, 100, 0, 0, 0, 10.0, 10.5, 9.9,
             10.2, 1e5, CO, 100, 10.2051, 0, 0}, /* 10.2 x 1.0005 */
            {"market at open", S, MKT, TE_TIF_DAY, 0, 100, 0, 0, 0, 10.0, 10.5, 9.9, 10.2,
             1e5, FU, 100, 9.9950, 0, 0}, /* 10 x 0.9995 */
            {"capped at 2.5%", B, MKT, TE_TIF_GTC, 0, 5000, 0, 0, 0, 20, 20, 20, 20,
             40000, FU, 1000, 20.0100, 0, 0},
            {"no volume: halted", B, MKT, TE_TIF_GTC, 0, 100, 0, 0, 0, 20, 20, 20, 20, 0,
             FU, 0, 0, 0, 0},
            /* limits: touching is not enough */
            {"buy limit touched", B, LMT, TE_TIF_DAY, 0, 100, 10.00, 0, 0, 10.2, 10.3,
             10.00, 10.1, 1e5, FU, 0, 0, 0, 0},
            {"buy limit crossed", B, LMT, TE_TIF_DAY, 0, 100, 10.00, 0, 0, 10.2, 10.3,
             9.99, 10.1, 1e5, FU, 100, 10.00, 0, 0}, /* at the limit, slippage capped */
            {"buy limit, open below", B, LMT, TE_TIF_DAY, 0, 100, 10.00, 0, 0, 9.8, 10.3,
             9.7, 10.1, 1e5, FU, 100, 9.8049, 0, 0}, /* 9.8 x 1.0005 = 9.8049 */
            {"sell limit touched", S, LMT, TE_TIF_DAY, 0, 100, 10.00, 0, 0, 9.8, 10.00,
             9.7, 9.9, 1e5, FU, 0, 0, 0, 0},
            {"sell limit crossed", S, LMT, TE_TIF_DAY, 0, 100, 10.00, 0, 0, 9.8, 10.01,
             9.7, 9.9, 1e5, FU, 100, 10.00, 0, 0},
            {"buy limit at close, equal", B, LMT, TE_TIF_DAY, 0, 100, 10.00, 0, 0, 9.0,
             10.5, 9.0, 10.00, 1e5, CO, 0, 0, 0, 0},
            {"buy limit at close, below", B, LMT, TE_TIF_DAY, 0, 100, 10.00, 0, 0, 9.0,
             10.5, 9.0, 9.80, 1e5, CO, 100, 9.8049, 0, 0},
            {"emergency limit crosses on touch", B, LMT, TE_TIF_DAY, TE_AGGR_EMERGENCY,
             100, 10.00, 0, 0, 10.2, 10.3, 10.00, 10.1, 1e5, FU, 100, 10.00, 0, 0},
            /* stops */
            {"buy stop gaps through", B, STP, TE_TIF_GTC, 0, 100, 0, 10.50, 0, 11.00,
             11.2, 10.9, 11.1, 1e5, FU, 100, 11.0055, 1, 0}, /* open 11 x 1.0005 */
            {"buy stop hit intrabar", B, STP, TE_TIF_GTC, 0, 100, 0, 10.40, 0, 10.20,
             10.6, 10.1, 10.3, 1e5, FU, 100, 10.4052, 1, 0}, /* stop 10.4 x 1.0005 */
            {"buy stop not reached", B, STP, TE_TIF_GTC, 0, 100, 0, 10.40, 0, 10.20,
             10.39, 10.1, 10.3, 1e5, FU, 0, 0, 0, 0},
            {"sell stop gaps through", S, STP, TE_TIF_GTC, 0, 100, 0, 9.50, 0, 9.00, 9.2,
             8.9, 9.1, 1e5, FU, 100, 8.9955, 1, 0}, /* 9 x 0.9995 */
            {"stop-limit triggered and filled", B, STL, TE_TIF_GTC, 0, 100, 10.45, 10.40,
             0, 10.20, 10.6, 10.1, 10.3, 1e5, FU, 100, 10.4052, 1, 0},
            {"stop-limit gap over the limit", B, STL, TE_TIF_GTC, 0, 100, 10.45, 10.40, 0,
             11.00, 11.2, 10.9, 11.1, 1e5, FU, 0, 0, 1, 0},
            {"stop-limit triggered before, open under limit", B, STL, TE_TIF_GTC, 0, 100,
             10.45, 10.40, 1, 10.20, 10.3, 10.1, 10.25, 1e5, FU, 100, 10.2051, 1, 0},
            /* time in force */
            {"FOK refused", B, MKT, TE_TIF_FOK, 0, 2000, 0, 0, 0, 20, 20, 20, 20, 40000,
             FU, 0, 0, 0, 1},
            {"FOK fits", B, MKT, TE_TIF_FOK, 0, 1000, 0, 0, 0, 20, 20, 20, 20, 40000, FU,
             1000, 20.0100, 0, 0},
            {"OPG waits at a close", B, MKT, TE_TIF_OPG, 0, 100, 0, 0, 0, 10, 10.5, 9.9,
             10.2, 1e5, CO, 0, 0, 0, 0},
            {"OPG at the open", B, MKT, TE_TIF_OPG, 0, 100, 0, 0, 0, 10, 10.5, 9.9, 10.2,
             1e5, FU, 100, 10.0050, 0, 0},
            {"CLS at the close of a full bar", B, MKT, TE_TIF_CLS, 0, 100, 0, 0, 0, 10,
             10.5, 9.9, 10.2, 1e5, FU, 100, 10.2051, 0, 0},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_fill_cfg_t c;
                te_fill_cfg_defaults(&c);
                c.impact_k = 0;
                te_fill_order_t o = {.side = cases[i].side,
                                     .type = cases[i].type,
                                     .tif = cases[i].tif,
                                     .aggr = cases[i].aggr,
                                     .leaves = cases[i].leaves,
                                     .limit = cases[i].limit,
                                     .stop = cases[i].stop,
                                     .triggered = cases[i].triggered};
                te_bar_t bar = {.day = 20000,
                                .open = cases[i].open,
                                .high = cases[i].high,
                                .low = cases[i].low,
                                .close = cases[i].close,
                                .volume = cases[i].volume};
                te_fill_t f;
                te_fill_bar(&c, &o, &bar, cases[i].phase, &f);
                if (f.qty != cases[i].qty || (f.qty > 0 && f.price != cases[i].price) ||
                    f.triggered != cases[i].trig_after || f.refused != cases[i].refused) {
                        print_error("%s: qty %g price %.10f trig %d refused %d; expected "
                                    "%g %.4f %d %d\n",
                                    cases[i].name, f.qty, f.price, f.triggered, f.refused,
                                    cases[i].qty, cases[i].price, cases[i].trig_after,
                                    cases[i].refused);
                        fail();
                }
        }
}

static void test_fill_model_round4(void **state)
{
        (void)state;
        assert_true(te_fill_round4(1.00005) == 1.0001);
        assert_true(te_fill_round4(-1.00005) == -1.0001);
        assert_true(te_fill_round4(2.00004) == 2.0);
        assert_true(te_fill_round4(0) == 0);
}

/* Rounding to a price increment: the double nearest the decimal (so it prints as the
 * decimal), half away from zero, and a limit cap on the limit's good side. */
static void test_fill_round_to_increment(void **state)
{
        (void)state;
        char buf[40];
        /* the value the sink stored before: prints 10.050600000000001 */
        double noisy = 10.050600000000001;
        assert_true(noisy != 10.0506);
        assert_true(te_fill_round_to(noisy, 0.0001) == 10.0506);
        assert_true(te_fmt_double(buf, sizeof buf, te_fill_round_to(noisy, 0.0001)) > 0);
        assert_string_equal(buf, "10.0506");
        assert_true(te_fill_round_to(10.050574999999998, 0.0001) == 10.0506);
        assert_true(te_fill_round_to(1.00005, 0.0001) == 1.0001);
        assert_true(te_fill_round_to(-1.00005, 0.0001) == -1.0001);
        assert_true(te_fill_round_to(20.0225, 0.05) == 20.0);
        assert_true(te_fill_round_to(20.026, 0.05) == 20.05);
        assert_true(te_fill_round_to(20.126, 0.25) == 20.25);
        assert_true(te_fill_round_to(12.3456, 0.01) == 12.35);
        /* 1/0.003 is not whole: multiples of 0.003 */
        assert_true(fabs(te_fill_round_to(1.0, 0.003) - 0.999) < 1e-12);
        assert_true(te_fill_round_to(5.5, 0) == 5.5); /* no increment: unchanged */
        /* inside a limit: a buy never above it, a sell never below */
        assert_true(te_fill_round_inside(50.05499, 0.01, TE_SIDE_BUY) == 50.05);
        assert_true(te_fill_round_inside(50.05499, 0.01, TE_SIDE_SELL) == 50.06);
        assert_true(te_fill_round_inside(50.050000000000004, 0.01, TE_SIDE_BUY) == 50.05);
        assert_true(te_fill_round_inside(50.049999999999997, 0.01, TE_SIDE_SELL) ==
                    50.05);
        /* the fill price of the model uses the configured increment */
        te_fill_cfg_t c;
        te_fill_cfg_defaults(&c);
        assert_true(c.price_increment == 0.0001);
        c.impact_k = 0;
        c.price_increment = 0.01;
        assert_true(te_fill_price(&c, TE_SIDE_BUY, TE_AGGR_NORMAL, 12.3456, 1, 1e6) ==
                    12.35);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fill_round_to_increment),
            cmocka_unit_test(test_fill_model_defaults),
            cmocka_unit_test(test_fill_model_cap),
            cmocka_unit_test(test_fill_model_price),
            cmocka_unit_test(test_fill_model_commission),
            cmocka_unit_test(test_fill_model_bar),
            cmocka_unit_test(test_fill_model_round4),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
