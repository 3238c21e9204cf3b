/*
 * test_broker_sim: the TRAINING simulator behind the broker interface — fill prices
 * with slippage, commissions, the ACK/FILL sequence, deterministic report ids,
 * duplicates, rejects, the mode gate of te_broker_handle, CLOCK, rounding.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../broker_defaults.h"
#include "broker.h"
#include "broker_sim.h"
#include "te_buf.h"
#include "te_ids.h"

#define DAY_0102   19724 /* 2024-01-02, a Tuesday */
#define DAY_0105   19727 /* 2024-01-05, a Friday */
#define MS_PER_DAY INT64_C(86400000)
/* 17:00 UTC on a day */
#define AT_17H(day) ((int64_t)(day)*MS_PER_DAY + 17 * INT64_C(3600000))

static te_bars_t *one_bar(const char *ticker, int32_t day, double close, double volume)
{
        te_bars_t *b = te_bars_new();
        assert_non_null(b);
        te_bar_t x = {.day = day,
                      .open = close,
                      .high = close,
                      .low = close,
                      .close = close,
                      .volume = volume};
        char err[128];
        assert_int_equal(te_bars_add(b, ticker, &x, err, sizeof err), 0);
        return b;
}

static te_order_cmd_t new_order(const char *order_id, const char *ticker, te_side_t side,
                                double qty, int64_t event_time)
{
        te_order_cmd_t c;
        memset(&c, 0, sizeof c);
        c.command = TE_CMD_NEW;
        te_strlcpy(c.order_id, order_id, sizeof c.order_id);
        te_strlcpy(c.ids.decision_id, "D1", sizeof c.ids.decision_id);
        te_strlcpy(c.ids.portfolio_id, "P1", sizeof c.ids.portfolio_id);
        te_strlcpy(c.ids.strategy_id, "S1", sizeof c.ids.strategy_id);
        te_strlcpy(c.ids.profile_version_id, "PV1", sizeof c.ids.profile_version_id);
        te_strlcpy(c.ids.regime_id, "R1", sizeof c.ids.regime_id);
        te_strlcpy(c.ids.universe_id, "U1", sizeof c.ids.universe_id);
        te_strlcpy(c.ticker, ticker, sizeof c.ticker);
        c.side = side;
        c.quantity = qty;
        c.order_type = TE_OT_MARKET;
        c.tif = TE_TIF_DAY;
        c.intent = TE_INTENT_OPEN;
        c.mode = TE_MODE_TRAINING;
        te_strlcpy(c.route, "sim", sizeof c.route);
        c.event_time = event_time;
        return c;
}

static te_broker_t *sim_with(te_bars_t *bars, double slippage_bps, double per_share,
                             double min_comm)
{
        te_sim_cfg_t cfg;
        te_sim_cfg_defaults(&cfg);
        cfg.fill.slippage_bps = slippage_bps;
        cfg.fill.commission_per_share = per_share;
        cfg.fill.commission_min = min_comm;
        cfg.fill.impact_k = 0; /* prices in these cases are worked out without impact */
        cfg.fill.commission_max_frac = 0;
        te_broker_t *s = te_sim_new(&cfg, bars);
        assert_non_null(s);
        return s;
}

static void test_broker_sim_defaults(void **state)
{
        (void)state;
        te_sim_cfg_t cfg;
        te_sim_cfg_defaults(&cfg);
        assert_true(cfg.fill.slippage_bps == 5.0);
        assert_true(cfg.fill.commission_per_share == 0.005);
        assert_true(cfg.fill.commission_min == 1.0);
        assert_true(cfg.fill.commission_max_frac == 0.01);
        assert_true(cfg.fill.commission_per_order == 0);
        assert_true(cfg.fill.participation == 0.025);
        assert_true(cfg.fill.emergency_participation == 0.10);
        assert_true(cfg.fill.impact_k == 1.0);
        assert_int_equal(cfg.fill.market_at, TE_MKT_AT_CLOSE);
        assert_int_equal(cfg.max_stale_days, 5);
        assert_string_equal(cfg.broker_name, "sim");
        assert_string_equal(cfg.account, "SIM-1");
}

static void test_broker_sim_fill_price(void **state)
{
        (void)state;
        static const struct {
                te_side_t side;
                double close, slippage_bps;
                double price; /* by hand, to 4 decimals */
        } cases[] = {
            {TE_SIDE_BUY, 100.00, 5, 100.05},    /* 100 * 1.0005 */
            {TE_SIDE_SELL, 100.00, 5, 99.95},    /* 100 * 0.9995 */
            {TE_SIDE_BUY, 33.3333, 5, 33.35},    /* 33.34996665 */
            {TE_SIDE_SELL, 33.3333, 5, 33.3166}, /* 33.31663335 */
            {TE_SIDE_BUY, 100.00, 0, 100.00},      {TE_SIDE_SELL, 100.00, 0, 100.00},
            {TE_SIDE_BUY, 250.00, 10, 250.25},     /* 250 * 1.001 */
            {TE_SIDE_SELL, 250.00, 10, 249.75},    /* 250 * 0.999 */
            {TE_SIDE_SELL, 80.00, 12.5, 79.90},    /* 80 * 0.99875 */
            {TE_SIDE_BUY, 12.3456, 100, 12.4691},  /* 12.469056 */
            {TE_SIDE_SELL, 12.3456, 100, 12.2221}, /* 12.222144 */
            {TE_SIDE_BUY, 0.0123, 5, 0.0123},      /* 0.01230615 */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_bars_t *bars = one_bar("AAA", DAY_0102, cases[i].close, 1e6);
                te_broker_t *s = sim_with(bars, cases[i].slippage_bps, 0.005, 1.0);
                te_reports_t out = {0};
                te_order_cmd_t c =
                    new_order("O1", "AAA", cases[i].side, 100, AT_17H(DAY_0102));
                assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
                assert_int_equal(out.n, 2);
                const te_exec_report_t *f = &out.items[1];
                if (f->last_price != cases[i].price || f->avg_price != cases[i].price) {
                        print_error(
                            "case %zu: %s at close %.4f + %g bps: %.10f, expected "
                            "%.4f\n",
                            i, te_side_name(cases[i].side), cases[i].close,
                            cases[i].slippage_bps, f->last_price, cases[i].price);
                        fail();
                }
                te_reports_free(&out);
                te_broker_destroy(s);
                te_bars_destroy(bars);
        }
}

static void test_broker_sim_commission(void **state)
{
        (void)state;
        static const struct {
                double qty, per_share, min;
                double commission; /* max(min, qty * per_share), 4 decimals */
        } cases[] = {
            {100, 0.005, 1.00, 1.00}, /* 0.50 -> minimum */
            {1000, 0.005, 1.00, 5.00},
            {200, 0.005, 1.00, 1.00}, /* exactly the minimum */
            {201, 0.005, 1.00, 1.005},
            {333, 0.005, 1.00, 1.665},
            {10000, 0.005, 1.00, 50.00},
            {1, 0.01, 0.00, 0.01},
            {150, 0.0035, 0.35, 0.525},
            {12345, 0.0035, 0.35, 43.2075},
            {7, 0.00001, 0.00, 0.0001}, /* 0.00007 rounds up to 0.0001 */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_bars_t *bars = one_bar("AAA", DAY_0102, 20.0, 1e9);
                te_broker_t *s = sim_with(bars, 5, cases[i].per_share, cases[i].min);
                te_reports_t out = {0};
                te_order_cmd_t c =
                    new_order("O1", "AAA", TE_SIDE_BUY, cases[i].qty, AT_17H(DAY_0102));
                assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
                assert_int_equal(out.n, 2);
                if (out.items[1].commission != cases[i].commission) {
                        print_error(
                            "case %zu: %g shares: commission %.10f, expected %.4f\n", i,
                            cases[i].qty, out.items[1].commission, cases[i].commission);
                        fail();
                }
                assert_true(out.items[0].commission == 0); /* none on the ACK */
                te_reports_free(&out);
                te_broker_destroy(s);
                te_bars_destroy(bars);
        }
}

static void check_common(const te_exec_report_t *r, const te_order_cmd_t *c)
{
        assert_string_equal(r->order_id, c->order_id);
        assert_string_equal(r->ticker, c->ticker);
        assert_int_equal(r->side, c->side);
        assert_int_equal(r->mode, c->mode);
        assert_true(r->event_time == c->event_time);
        assert_memory_equal(&r->ids, &c->ids, sizeof r->ids);
        assert_string_equal(r->broker, "sim");
        assert_string_equal(r->account, "SIM-1");
}

static void test_broker_sim_ack_then_fill(void **state)
{
        (void)state;
        te_bars_t *bars = one_bar("AAA", DAY_0102, 100.0, 1e6);
        te_broker_t *s = sim_with(bars, 5, 0.005, 1.0);
        te_reports_t out = {0};
        te_order_cmd_t c =
            new_order("O-ack-fill", "AAA", TE_SIDE_SELL, 300, AT_17H(DAY_0102));
        assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 2);

        char ack_id[TE_ID_MAX], fill_id[TE_ID_MAX];
        te_id_sim_report(ack_id, sizeof ack_id, "O-ack-fill", "ack", 0);
        te_id_sim_report(fill_id, sizeof fill_id, "O-ack-fill", "fill", 1);
        assert_string_not_equal(ack_id, fill_id);

        const te_exec_report_t *a = &out.items[0];
        check_common(a, &c);
        assert_string_equal(a->report_id, ack_id);
        assert_int_equal(a->exec_type, TE_EXEC_ACK);
        assert_int_equal(a->order_status, TE_OS_NEW);
        assert_true(a->last_qty == 0 && a->last_price == 0);
        assert_true(a->cum_qty == 0 && a->leaves_qty == 300);
        assert_true(a->avg_price == 0);
        assert_string_equal(a->reason, "");

        const te_exec_report_t *f = &out.items[1];
        check_common(f, &c);
        assert_string_equal(f->report_id, fill_id);
        assert_int_equal(f->exec_type, TE_EXEC_FILL);
        assert_int_equal(f->order_status, TE_OS_FILLED);
        assert_true(f->last_qty == 300);
        assert_true(f->last_price == 99.95);
        assert_true(f->cum_qty == 300 && f->leaves_qty == 0);
        assert_true(f->avg_price == 99.95);
        assert_true(f->commission == 1.5); /* 300 * 0.005 */
        assert_string_equal(f->reason, "");

        te_reports_free(&out);
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

static void assert_reports_equal(const te_exec_report_t *x, const te_exec_report_t *y)
{
        assert_string_equal(x->report_id, y->report_id);
        assert_string_equal(x->order_id, y->order_id);
        assert_int_equal(x->exec_type, y->exec_type);
        assert_int_equal(x->order_status, y->order_status);
        assert_string_equal(x->ticker, y->ticker);
        assert_int_equal(x->side, y->side);
        assert_true(x->last_qty == y->last_qty && x->last_price == y->last_price);
        assert_true(x->cum_qty == y->cum_qty && x->leaves_qty == y->leaves_qty);
        assert_true(x->avg_price == y->avg_price && x->commission == y->commission);
        assert_string_equal(x->reason, y->reason);
        assert_string_equal(x->broker, y->broker);
        assert_string_equal(x->account, y->account);
        assert_true(x->event_time == y->event_time);
        assert_memory_equal(&x->ids, &y->ids, sizeof x->ids);
        assert_int_equal(x->mode, y->mode);
}

/* Two simulators fed the same commands produce the same reports (invariant 6). */
static void test_broker_sim_deterministic(void **state)
{
        (void)state;
        te_bars_t *bars = one_bar("AAA", DAY_0102, 41.27, 1e6);
        te_broker_t *s1 = sim_with(bars, 5, 0.005, 1.0);
        te_broker_t *s2 = sim_with(bars, 5, 0.005, 1.0);
        te_reports_t r1 = {0}, r2 = {0};
        static const struct {
                const char *id;
                te_side_t side;
                double qty;
        } orders[] = {
            {"O1", TE_SIDE_BUY, 100},
            {"O2", TE_SIDE_SELL, 2500},
            {"O3", TE_SIDE_BUY, 1},
        };
        for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
                te_order_cmd_t c = new_order(orders[i].id, "AAA", orders[i].side,
                                             orders[i].qty, AT_17H(DAY_0102));
                assert_int_equal(te_broker_handle(s1, &c, &r1), TE_BROKER_OK);
                assert_int_equal(te_broker_handle(s2, &c, &r2), TE_BROKER_OK);
        }
        assert_int_equal(r1.n, 6);
        assert_int_equal(r2.n, 6);
        for (size_t i = 0; i < r1.n; i++)
                assert_reports_equal(&r1.items[i], &r2.items[i]);
        /* and every report id is distinct */
        for (size_t i = 0; i < r1.n; i++)
                for (size_t j = i + 1; j < r1.n; j++)
                        assert_string_not_equal(r1.items[i].report_id,
                                                r1.items[j].report_id);
        te_reports_free(&r1);
        te_reports_free(&r2);
        te_broker_destroy(s1);
        te_broker_destroy(s2);
        te_bars_destroy(bars);
}

static void test_broker_sim_duplicate_new_ignored(void **state)
{
        (void)state;
        te_bars_t *bars = one_bar("AAA", DAY_0102, 100.0, 1e6);
        te_broker_t *s = sim_with(bars, 5, 0.005, 1.0);
        te_reports_t out = {0};
        te_order_cmd_t c = new_order("O1", "AAA", TE_SIDE_BUY, 100, AT_17H(DAY_0102));
        assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 2);
        te_reports_clear(&out);
        assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 0);

        /* a rejected order re-delivered is ignored too */
        te_order_cmd_t l = new_order("O2", "AAA", TE_SIDE_BUY, 100, AT_17H(DAY_0102));
        l.order_type = TE_OT_LIMIT;
        assert_int_equal(te_broker_handle(s, &l, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 1);
        te_reports_clear(&out);
        assert_int_equal(te_broker_handle(s, &l, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 0);

        te_reports_free(&out);
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

static void test_broker_sim_rejects(void **state)
{
        (void)state;
        static const char *const no_data = "sim: no market data at or before event time";
        static const char *const no_volume = "sim: no volume on the bar (halted)";
        static const char *const no_limit =
            "sim: limit order without a valid limit_price";
        static const char *const no_stop = "sim: stop order without a valid stop_price";
        static const char *const stale =
            "sim: no bar within 5 days of event time (halted or delisted?)";
        static const struct {
                const char *name;
                const char *ticker;
                int64_t event_time;
                te_order_type_t type;
                const char *reason;
        } cases[] = {
            {"before the first bar", "AAA", AT_17H(DAY_0102 - 1), TE_OT_MARKET, no_data},
            {"last ms before the first bar's day", "AAA",
             (int64_t)DAY_0102 * MS_PER_DAY - 1, TE_OT_MARKET, no_data},
            {"unknown ticker", "NOPE", AT_17H(DAY_0102), TE_OT_MARKET, no_data},
            {"zero volume", "ZERO", AT_17H(DAY_0102), TE_OT_MARKET, no_volume},
            {"zero volume, later day", "ZERO", AT_17H(DAY_0105), TE_OT_MARKET, no_volume},
            {"LIMIT without a price", "AAA", AT_17H(DAY_0102), TE_OT_LIMIT, no_limit},
            {"STOP without a stop", "AAA", AT_17H(DAY_0102), TE_OT_STOP, no_stop},
            {"STOP_LIMIT without a stop", "AAA", AT_17H(DAY_0102), TE_OT_STOP_LIMIT,
             no_stop},
            {"bar 6 days old", "AAA", AT_17H(DAY_0102 + 6), TE_OT_MARKET, stale},
        };
        te_bars_t *bars = one_bar("AAA", DAY_0102, 100.0, 1e6);
        te_bar_t z = {
            .day = DAY_0102, .open = 5, .high = 5, .low = 5, .close = 5, .volume = 0};
        char err[128];
        assert_int_equal(te_bars_add(bars, "ZERO", &z, err, sizeof err), 0);
        te_broker_t *s = sim_with(bars, 5, 0.005, 1.0);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char oid[32], rid[TE_ID_MAX];
                snprintf(oid, sizeof oid, "OR%zu", i);
                te_order_cmd_t c =
                    new_order(oid, cases[i].ticker, TE_SIDE_BUY, 10, cases[i].event_time);
                c.order_type = cases[i].type;
                if (cases[i].type == TE_OT_STOP_LIMIT) {
                        c.has_limit_price = 1;
                        c.limit_price = 101;
                }
                te_reports_t out = {0};
                assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
                if (out.n != 1 || out.items[0].exec_type != TE_EXEC_REJECTED ||
                    out.items[0].order_status != TE_OS_REJECTED ||
                    strcmp(out.items[0].reason, cases[i].reason) != 0) {
                        print_error("%s: %zu reports, first reason \"%s\"\n",
                                    cases[i].name, out.n,
                                    out.n ? out.items[0].reason : "");
                        fail();
                }
                te_id_sim_report(rid, sizeof rid, oid, "reject", 0);
                assert_string_equal(out.items[0].report_id, rid);
                assert_true(out.items[0].cum_qty == 0 && out.items[0].leaves_qty == 0);
                assert_true(out.items[0].last_qty == 0);
                check_common(&out.items[0], &c);
                te_reports_free(&out);
        }
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

/* Invariant 5: the sim refuses PRODUCTION orders before they reach the adapter. */
static void test_broker_sim_mode_gate(void **state)
{
        (void)state;
        static const te_command_t commands[] = {TE_CMD_NEW, TE_CMD_CANCEL,
                                                TE_CMD_REPLACE};
        te_bars_t *bars = one_bar("AAA", DAY_0102, 100.0, 1e6);
        te_broker_t *s = sim_with(bars, 5, 0.005, 1.0);
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
                te_reports_t out = {0};
                te_order_cmd_t c =
                    new_order("OP1", "AAA", TE_SIDE_BUY, 100, AT_17H(DAY_0102));
                c.command = commands[i];
                c.mode = TE_MODE_PRODUCTION;
                assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
                assert_int_equal(out.n, 1);
                const te_exec_report_t *r = &out.items[0];
                char rid[TE_ID_MAX];
                te_id_sim_report(rid, sizeof rid, "OP1", "modereject", 0);
                assert_string_equal(r->report_id, rid);
                assert_int_equal(r->exec_type, TE_EXEC_REJECTED);
                assert_int_equal(r->order_status, TE_OS_REJECTED);
                assert_string_equal(
                    r->reason, "PRODUCTION order refused by sim broker (TRAINING only)");
                assert_string_equal(r->order_id, "OP1");
                assert_string_equal(r->broker, "sim");
                assert_int_equal(r->mode, TE_MODE_PRODUCTION);
                assert_true(r->cum_qty == 0 && r->leaves_qty == 0 && r->last_qty == 0);
                te_reports_free(&out);
        }
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

static void test_broker_sim_clock(void **state)
{
        (void)state;
        static const struct {
                int64_t t;
                te_mode_t mode;
        } cases[] = {
            {AT_17H(DAY_0102), TE_MODE_TRAINING},
            {0, TE_MODE_TRAINING},
            {INT64_C(1893456000000), TE_MODE_TRAINING},
            /* CLOCK is not an order: the mode gate lets it through */
            {AT_17H(DAY_0105), TE_MODE_PRODUCTION},
        };
        te_bars_t *bars = one_bar("AAA", DAY_0102, 100.0, 1e6);
        te_broker_t *s = sim_with(bars, 5, 0.005, 1.0);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_order_cmd_t c;
                memset(&c, 0, sizeof c);
                c.command = TE_CMD_CLOCK;
                c.mode = cases[i].mode;
                c.event_time = cases[i].t;
                te_strlcpy(c.ids.portfolio_id, "P1", sizeof c.ids.portfolio_id);
                te_id_clock(c.order_id, sizeof c.order_id, "P1", cases[i].t);
                te_reports_t out = {0};
                assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
                assert_int_equal(out.n, 1);
                const te_exec_report_t *r = &out.items[0];
                char rid[TE_ID_MAX];
                te_id_sim_report(rid, sizeof rid, c.order_id, "clock", 0);
                assert_int_equal(r->exec_type, TE_EXEC_CLOCK_ACK);
                assert_true(r->event_time == cases[i].t);
                assert_string_equal(r->order_id, c.order_id);
                assert_string_equal(r->report_id, rid);
                assert_string_equal(r->ids.portfolio_id, "P1");
                assert_true(r->last_qty == 0 && r->cum_qty == 0);
                te_reports_free(&out);
        }
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

/* An order filled at once is finished: cancel/replace of it are too late and report
 * nothing (logged only). */
static void test_broker_sim_cancel_replace_silent(void **state)
{
        (void)state;
        te_bars_t *bars = one_bar("AAA", DAY_0102, 100.0, 1e6);
        te_broker_t *s = sim_with(bars, 5, 0.005, 1.0);
        te_reports_t out = {0};
        te_order_cmd_t c = new_order("O1", "AAA", TE_SIDE_BUY, 100, AT_17H(DAY_0102));
        assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 2);
        te_reports_clear(&out);
        c.command = TE_CMD_CANCEL;
        assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
        c.command = TE_CMD_REPLACE;
        assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 0);
        te_reports_free(&out);
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

/* A CANCEL or REPLACE of an order the book never had is answered with a final
 * REJECTED (reason "<what>: unknown order", nothing filled), so the sender stops
 * waiting for its confirmation; the same id, again, gets the same report id. */
static void test_broker_sim_cancel_unknown(void **state)
{
        (void)state;
        te_bars_t *bars = one_bar("AAA", DAY_0102, 100.0, 1e6);
        te_broker_t *s = sim_with(bars, 5, 0.005, 1.0);
        te_reports_t out = {0};
        static const struct {
                te_command_t command;
                const char *reason;
        } cases[] = {{TE_CMD_CANCEL, "cancel: unknown order"},
                     {TE_CMD_REPLACE, "replace: unknown order"}};
        char first_id[sizeof out.items[0].report_id] = "";
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_order_cmd_t c =
                    new_order("NOPE", "AAA", TE_SIDE_BUY, 100, AT_17H(DAY_0102));
                c.command = cases[i].command;
                assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
                assert_int_equal(out.n, 1);
                const te_exec_report_t *r = &out.items[0];
                assert_int_equal(r->exec_type, TE_EXEC_REJECTED);
                assert_int_equal(r->order_status, TE_OS_REJECTED);
                assert_string_equal(r->order_id, "NOPE");
                assert_string_equal(r->reason, cases[i].reason);
                assert_true(r->last_qty == 0 && r->cum_qty == 0 && r->leaves_qty == 0);
                if (i == 0)
                        te_strlcpy(first_id, r->report_id, sizeof first_id);
                else
                        assert_string_equal(r->report_id, first_id);
                te_reports_clear(&out);
        }
        te_reports_free(&out);
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

/* The fill uses the latest bar on or before the order's event day. */
static void test_broker_sim_bar_lookup(void **state)
{
        (void)state;
        te_bars_t *bars = te_bars_new();
        assert_non_null(bars);
        char err[128];
        static const struct {
                int32_t day;
                double close;
        } added[] = {{DAY_0105, 20.0}, {DAY_0102, 10.0}};
        for (size_t i = 0; i < 2; i++) {
                te_bar_t x = {.day = added[i].day,
                              .open = added[i].close,
                              .high = added[i].close,
                              .low = added[i].close,
                              .close = added[i].close,
                              .volume = 1000};
                assert_int_equal(te_bars_add(bars, "AAA", &x, err, sizeof err), 0);
        }
        static const struct {
                int64_t t;
                double price; /* close with no slippage */
        } cases[] = {
            {(int64_t)DAY_0102 * MS_PER_DAY, 10.0},           /* midnight of the day */
            {(int64_t)(DAY_0102 + 1) * MS_PER_DAY - 1, 10.0}, /* its last ms */
            {AT_17H(DAY_0102 + 2), 10.0},                     /* gap: Thursday */
            {AT_17H(DAY_0105), 20.0},
            {AT_17H(DAY_0105 + 1), 20.0}, /* Saturday: Friday's close */
            {AT_17H(DAY_0105 + 3), 20.0}, /* Monday, no bar yet */
        };
        te_broker_t *s = sim_with(bars, 0, 0.005, 1.0);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char oid[16];
                snprintf(oid, sizeof oid, "OB%zu", i);
                te_reports_t out = {0};
                te_order_cmd_t c = new_order(oid, "AAA", TE_SIDE_BUY, 10, cases[i].t);
                assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
                assert_int_equal(out.n, 2);
                if (out.items[1].last_price != cases[i].price) {
                        print_error("case %zu: price %g, expected %g\n", i,
                                    out.items[1].last_price, cases[i].price);
                        fail();
                }
                te_reports_free(&out);
        }
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

static void test_broker_sim_round4(void **state)
{
        (void)state;
        static const struct {
                double v, expect;
        } cases[] = {
            {0.0, 0.0},
            {1.0, 1.0},
            {1.23456, 1.2346},
            {1.23454, 1.2345},
            {-1.23456, -1.2346},
            {-1.23454, -1.2345},
            {99.99995001, 100.0},
            {0.00004, 0.0},
            {-0.00004, 0.0},
            /* exact binary halves (k/32): half away from zero */
            {0.03125, 0.0313},
            {-0.03125, -0.0313},
            {0.15625, 0.1563},
            {-0.15625, -0.1563},
            {0.09375, 0.0938},
            {2.5, 2.5},
            /* products the simulator computes */
            {100.0 * 1.0005, 100.05},
            {33.3333 * 1.0005, 33.35},
            {1234567.89014, 1234567.8901},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                double got = te_fill_round4(cases[i].v);
                if (got != cases[i].expect) {
                        print_error("round4(%.17g) = %.17g, expected %.17g\n", cases[i].v,
                                    got, cases[i].expect);
                        fail();
                }
        }
}

static void test_broker_reports_list(void **state)
{
        (void)state;
        te_reports_t r = {0};
        for (int i = 0; i < 100; i++) {
                te_exec_report_t *e = te_reports_push(&r);
                assert_non_null(e);
                assert_int_equal(e->exec_type, 0);
                assert_string_equal(e->report_id, "");
                e->cum_qty = i;
        }
        assert_int_equal(r.n, 100);
        for (int i = 0; i < 100; i++)
                assert_true(r.items[i].cum_qty == i);
        te_reports_clear(&r);
        assert_int_equal(r.n, 0);
        te_exec_report_t *e = te_reports_push(&r);
        assert_non_null(e);
        assert_true(e->cum_qty == 0); /* zeroed again after clear */
        te_reports_free(&r);
        assert_null(r.items);
        assert_int_equal(r.n, 0);
        te_broker_destroy(NULL);
}

/* ---- open-order book and event-time clock ------------------------------------- */

#define DAY_0103 (DAY_0102 + 1)
#define DAY_0104 (DAY_0102 + 2)
#define OPEN_MS  INT64_C(52200000) /* 14:30 UTC */

/* XYZ: volume 40000 every day (cap 2.5% = 1000 shares) */
static te_bars_t *xyz_bars(void)
{
        static const te_bar_t rows[] = {
            {DAY_0102, 19.90, 20.00, 19.80, 20.00, 40000},
            {DAY_0103, 20.00, 20.50, 19.80, 20.20, 40000},
            {DAY_0104, 20.50, 20.90, 20.40, 20.80, 40000},
            {DAY_0105, 21.00, 21.30, 20.90, 21.10, 40000},
        };
        te_bars_t *b = te_bars_new();
        assert_non_null(b);
        char err[128];
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
                assert_int_equal(te_bars_add(b, "XYZ", &rows[i], err, sizeof err), 0);
        return b;
}

static te_broker_t *sim_full(te_bars_t *bars, te_mkt_at_t at)
{
        te_sim_cfg_t cfg;
        te_sim_cfg_defaults(&cfg); /* impact k = 1, IB-like commissions */
        cfg.fill.market_at = at;
        te_broker_t *s = te_sim_new(&cfg, bars);
        assert_non_null(s);
        return s;
}

static te_order_cmd_t clock_cmd(const char *pf, int64_t t)
{
        te_order_cmd_t c;
        memset(&c, 0, sizeof c);
        c.command = TE_CMD_CLOCK;
        c.mode = TE_MODE_TRAINING;
        c.event_time = t;
        te_strlcpy(c.ids.portfolio_id, pf, sizeof c.ids.portfolio_id);
        te_id_clock(c.order_id, sizeof c.order_id, pf, t);
        return c;
}

typedef struct want_s {
        te_exec_type_t et;
        te_order_status_t os;
        double last_qty, last_price, cum, leaves, commission;
        const char *kind;
        int seq;
} want_t;

static void check_reports(const te_reports_t *out, const want_t *w, size_t n,
                          const char *order_id)
{
        if (out->n != n) {
                print_error("%zu reports, expected %zu\n", out->n, n);
                for (size_t i = 0; i < out->n; i++)
                        print_error("  %s %s %g@%g\n",
                                    te_exec_type_name(out->items[i].exec_type),
                                    out->items[i].reason, out->items[i].last_qty,
                                    out->items[i].last_price);
                fail();
        }
        for (size_t i = 0; i < n; i++) {
                const te_exec_report_t *r = &out->items[i];
                if (r->exec_type != w[i].et || r->order_status != w[i].os ||
                    r->last_qty != w[i].last_qty || r->last_price != w[i].last_price ||
                    r->cum_qty != w[i].cum || r->leaves_qty != w[i].leaves ||
                    r->commission != w[i].commission) {
                        print_error(
                            "report %zu: %s/%s %g@%.6f cum %g leaves %g comm %.6f\n", i,
                            te_exec_type_name(r->exec_type),
                            te_order_status_name(r->order_status), r->last_qty,
                            r->last_price, r->cum_qty, r->leaves_qty, r->commission);
                        fail();
                }
                if (w[i].kind) {
                        char rid[TE_ID_MAX];
                        te_id_sim_report(rid, sizeof rid, order_id, w[i].kind, w[i].seq);
                        assert_string_equal(r->report_id, rid);
                }
        }
}

/* A GTC order four times the bar's cap... 2500 shares at 1000 per bar fills over
 * three bars at the next opens (market.at = next_open). */
static void test_broker_sim_partial_three_bars(void **state)
{
        (void)state;
        te_bars_t *bars = xyz_bars();
        te_broker_t *s = sim_full(bars, TE_MKT_AT_NEXT_OPEN);
        te_reports_t out = {0};
        te_order_cmd_t c = new_order("OG", "XYZ", TE_SIDE_BUY, 2500, AT_17H(DAY_0102));
        c.tif = TE_TIF_GTC;
        assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
        const want_t ack[] = {{TE_EXEC_ACK, TE_OS_NEW, 0, 0, 0, 2500, 0, "ack", 0}};
        check_reports(&out, ack, 1, "OG");

        /* day 1: 1000 at open 20.00 x (1 + 0.0005 + 1 x 0.025^2) = 20.0225;
         * commission 1000 x 0.005 = 5.00 */
        te_reports_clear(&out);
        te_order_cmd_t k1 = clock_cmd("P1", AT_17H(DAY_0103));
        assert_int_equal(te_broker_handle(s, &k1, &out), TE_BROKER_OK);
        const want_t w1[] = {
            {TE_EXEC_PARTIAL_FILL, TE_OS_PARTIALLY_FILLED, 1000, 20.0225, 1000, 1500, 5.0,
             "fill", 1},
            {TE_EXEC_CLOCK_ACK, TE_OS_NEW, 0, 0, 0, 0, 0, NULL, 0},
        };
        check_reports(&out, w1, 2, "OG");
        assert_true(out.items[0].event_time == (int64_t)DAY_0103 * MS_PER_DAY + OPEN_MS);
        assert_true(out.items[1].event_time == AT_17H(DAY_0103));

        /* day 2: 1000 at 20.50 x 1.001125 = 20.5230625 -> 20.5231; total 10.00 */
        te_reports_clear(&out);
        te_order_cmd_t k2 = clock_cmd("P1", AT_17H(DAY_0104));
        assert_int_equal(te_broker_handle(s, &k2, &out), TE_BROKER_OK);
        const want_t w2[] = {
            {TE_EXEC_PARTIAL_FILL, TE_OS_PARTIALLY_FILLED, 1000, 20.5231, 2000, 500, 5.0,
             "fill", 2},
            {TE_EXEC_CLOCK_ACK, TE_OS_NEW, 0, 0, 0, 0, 0, NULL, 0},
        };
        check_reports(&out, w2, 2, "OG");

        /* day 3: the last 500 (share 0.0125): 21 x (1.0005 + 0.00015625) = 21.0138;
         * total commission 12.50 -> 2.50 more; avg 51052.5 / 2500 = 20.421 */
        te_reports_clear(&out);
        te_order_cmd_t k3 = clock_cmd("P1", AT_17H(DAY_0105));
        assert_int_equal(te_broker_handle(s, &k3, &out), TE_BROKER_OK);
        const want_t w3[] = {
            {TE_EXEC_FILL, TE_OS_FILLED, 500, 21.0138, 2500, 0, 2.5, "fill", 3},
            {TE_EXEC_CLOCK_ACK, TE_OS_NEW, 0, 0, 0, 0, 0, NULL, 0},
        };
        check_reports(&out, w3, 2, "OG");
        assert_true(fabs(out.items[0].avg_price - 20.421) < 1e-9);

        te_sim_stats_t st;
        te_sim_stats(s, &st);
        assert_true(st.fills == 3 && st.open_orders == 0);
        te_reports_free(&out);
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

/* Fill and average prices are multiples of the instrument's price increment, stored
 * as the decimal they are: three fills of 1000 (20.0225, 20.5231, 21.0236) average
 * 61569.2 / 3000 = 20.5230666..., reported as 20.5231 (and printed so). */
static void test_broker_sim_avg_price_on_increment(void **state)
{
        (void)state;
        te_bars_t *bars = xyz_bars();
        te_broker_t *s = sim_full(bars, TE_MKT_AT_NEXT_OPEN);
        te_reports_t out = {0};
        te_order_cmd_t c = new_order("OA", "XYZ", TE_SIDE_BUY, 3000, AT_17H(DAY_0102));
        c.tif = TE_TIF_GTC;
        assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
        const int32_t days[] = {DAY_0103, DAY_0104, DAY_0105};
        const double avg[] = {20.0225, 20.2728, 20.5231};
        const char *const txt[] = {"20.0225", "20.2728", "20.5231"};
        for (int d = 0; d < 3; d++) {
                te_reports_clear(&out);
                te_order_cmd_t k = clock_cmd("P1", AT_17H(days[d]));
                assert_int_equal(te_broker_handle(s, &k, &out), TE_BROKER_OK);
                assert_true(out.n == 2);
                char buf[40];
                assert_true(te_fmt_double(buf, sizeof buf, out.items[0].avg_price) > 0);
                if (out.items[0].avg_price != avg[d] || strcmp(buf, txt[d]) != 0) {
                        print_error("day %d: avg %s, want %s\n", d, buf, txt[d]);
                        fail();
                }
        }
        assert_int_equal(out.items[0].exec_type, TE_EXEC_FILL);
        te_reports_free(&out);
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

/* An instrument with its own increment (sim.price_increments): XYZ in 0.05 fills at
 * 20.00 (20.0225 rounded), the others keep the default 0.0001. */
static void test_broker_sim_instrument_increment(void **state)
{
        (void)state;
        te_sim_cfg_t cfg;
        char err[128];
        te_sim_cfg_defaults(&cfg);
        assert_true(cfg.fill.price_increment == 0.0001);
        assert_int_equal(
            te_sim_parse_ticks(&cfg, " XYZ=0.05 , BRK.A=0.01", err, sizeof err), 0);
        assert_true(cfg.n_ticks == 2);
        assert_true(te_sim_tick_of(&cfg, "XYZ") == 0.05);
        assert_true(te_sim_tick_of(&cfg, "BRK.A") == 0.01);
        assert_true(te_sim_tick_of(&cfg, "ABC") == 0.0001);
        static const struct {
                const char *spec, *err;
        } bad[] = {
            {"XYZ", "XYZ: expected TICKER=increment"},
            {"=0.01", "=0.01: expected TICKER=increment"},
            {"XYZ=0", "XYZ: increment '0' is not a number in (0, 1000]"},
            {"XYZ=abc", "XYZ: increment 'abc' is not a number in (0, 1000]"},
            {"XYZ=0.01,XYZ=0.05", "XYZ: given twice"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                assert_int_equal(te_sim_parse_ticks(&cfg, bad[i].spec, err, sizeof err),
                                 -1);
                assert_string_equal(err, bad[i].err);
                assert_true(cfg.n_ticks == 2); /* unchanged */
        }
        assert_int_equal(te_sim_parse_ticks(&cfg, "XYZ=0.05", err, sizeof err), 0);
        cfg.fill.market_at = TE_MKT_AT_NEXT_OPEN;
        te_bars_t *bars = xyz_bars();
        te_broker_t *s = te_sim_new(&cfg, bars);
        assert_non_null(s);
        te_reports_t out = {0};
        te_order_cmd_t c = new_order("OI", "XYZ", TE_SIDE_BUY, 1000, AT_17H(DAY_0102));
        assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
        te_reports_clear(&out);
        te_order_cmd_t k = clock_cmd("P1", AT_17H(DAY_0103));
        assert_int_equal(te_broker_handle(s, &k, &out), TE_BROKER_OK);
        assert_int_equal(out.items[0].exec_type, TE_EXEC_FILL);
        assert_true(out.items[0].last_price == 20.0 && out.items[0].avg_price == 20.0);
        te_reports_free(&out);
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

/* market.at = close: TIFs on the order's own bar (close 20.00, cap 1000). */
static void test_broker_sim_tif(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                te_tif_t tif;
                double qty;
                size_t n;
                want_t w[3];
                const char *reason; /* of the last report */
        } cases[] = {
            /* IOC: 1000 at 20 x 1.001125 = 20.0225, the rest canceled */
            {"IOC remainder canceled",
             TE_TIF_IOC,
             2000,
             3,
             {{TE_EXEC_ACK, TE_OS_NEW, 0, 0, 0, 2000, 0, "ack", 0},
              {TE_EXEC_PARTIAL_FILL, TE_OS_PARTIALLY_FILLED, 1000, 20.0225, 1000, 1000, 5,
               "fill", 1},
              {TE_EXEC_CANCELED, TE_OS_CANCELED, 0, 0, 1000, 0, 0, "cancel", 0}},
             "IOC: remainder canceled after the first bar"},
            {"FOK refused",
             TE_TIF_FOK,
             2000,
             2,
             {{TE_EXEC_ACK, TE_OS_NEW, 0, 0, 0, 2000, 0, "ack", 0},
              {TE_EXEC_CANCELED, TE_OS_CANCELED, 0, 0, 0, 0, 0, "cancel", 0}},
             "FOK: the bar cannot fill it in full"},
            /* FOK within the cap: 800/40000 = 0.02, 20 x (1.0005 + 0.0004) = 20.018 */
            {"FOK filled",
             TE_TIF_FOK,
             800,
             2,
             {{TE_EXEC_ACK, TE_OS_NEW, 0, 0, 0, 800, 0, "ack", 0},
              {TE_EXEC_FILL, TE_OS_FILLED, 800, 20.018, 800, 0, 4, "fill", 1}},
             ""},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_bars_t *bars = xyz_bars();
                te_broker_t *s = sim_full(bars, TE_MKT_AT_CLOSE);
                te_reports_t out = {0};
                te_order_cmd_t c =
                    new_order("OT", "XYZ", TE_SIDE_BUY, cases[i].qty, AT_17H(DAY_0102));
                c.tif = cases[i].tif;
                assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
                print_message("%s\n", cases[i].name);
                check_reports(&out, cases[i].w, cases[i].n, "OT");
                assert_string_equal(out.items[out.n - 1].reason, cases[i].reason);
                te_sim_stats_t st;
                te_sim_stats(s, &st);
                assert_true(st.open_orders == 0);
                te_reports_free(&out);
                te_broker_destroy(s);
                te_bars_destroy(bars);
        }
}

/* DAY: 1000 of 2000 at its close; the next CLOCK expires the rest before any other
 * bar is used, then acknowledges. */
static void test_broker_sim_day_expiry(void **state)
{
        (void)state;
        te_bars_t *bars = xyz_bars();
        te_broker_t *s = sim_full(bars, TE_MKT_AT_CLOSE);
        te_reports_t out = {0};
        te_order_cmd_t c = new_order("OD", "XYZ", TE_SIDE_BUY, 2000, AT_17H(DAY_0102));
        assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
        const want_t w0[] = {
            {TE_EXEC_ACK, TE_OS_NEW, 0, 0, 0, 2000, 0, "ack", 0},
            {TE_EXEC_PARTIAL_FILL, TE_OS_PARTIALLY_FILLED, 1000, 20.0225, 1000, 1000, 5,
             "fill", 1},
        };
        check_reports(&out, w0, 2, "OD");
        assert_true(out.items[1].event_time == AT_17H(DAY_0102)); /* on arrival */
        te_reports_clear(&out);
        te_order_cmd_t k = clock_cmd("P1", AT_17H(DAY_0104));
        assert_int_equal(te_broker_handle(s, &k, &out), TE_BROKER_OK);
        const want_t w1[] = {
            {TE_EXEC_EXPIRED, TE_OS_EXPIRED, 0, 0, 1000, 0, 0, "expire", 0},
            {TE_EXEC_CLOCK_ACK, TE_OS_NEW, 0, 0, 0, 0, 0, NULL, 0},
        };
        check_reports(&out, w1, 2, "OD");
        assert_true(out.items[0].event_time == AT_17H(DAY_0104));
        assert_string_equal(out.items[0].reason, "DAY: session ended");
        te_reports_free(&out);
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

/* A resting limit (close 20.00 is not below 19.00) is replaced, then canceled. */
static void test_broker_sim_cancel_replace(void **state)
{
        (void)state;
        te_bars_t *bars = xyz_bars();
        te_broker_t *s = sim_full(bars, TE_MKT_AT_CLOSE);
        te_reports_t out = {0};
        te_order_cmd_t c = new_order("OL", "XYZ", TE_SIDE_BUY, 500, AT_17H(DAY_0102));
        c.tif = TE_TIF_GTC;
        c.order_type = TE_OT_LIMIT;
        c.has_limit_price = 1;
        c.limit_price = 19.00;
        assert_int_equal(te_broker_handle(s, &c, &out), TE_BROKER_OK);
        const want_t w0[] = {{TE_EXEC_ACK, TE_OS_NEW, 0, 0, 0, 500, 0, "ack", 0}};
        check_reports(&out, w0, 1, "OL");

        te_reports_clear(&out);
        te_order_cmd_t r = c;
        r.command = TE_CMD_REPLACE;
        r.quantity = 800;
        r.limit_price = 19.50;
        assert_int_equal(te_broker_handle(s, &r, &out), TE_BROKER_OK);
        const want_t w1[] = {
            {TE_EXEC_REPLACED, TE_OS_NEW, 0, 0, 0, 800, 0, "replace", 1}};
        check_reports(&out, w1, 1, "OL");

        /* a replace to a different side is refused: REJECTED in the live status, the
         * order keeps its terms (800 working) */
        te_reports_clear(&out);
        r.side = TE_SIDE_SELL;
        assert_int_equal(te_broker_handle(s, &r, &out), TE_BROKER_OK);
        const want_t wr[] = {
            {TE_EXEC_REJECTED, TE_OS_NEW, 0, 0, 0, 800, 0, "replace_refused", 1}};
        check_reports(&out, wr, 1, "OL");
        assert_non_null(strstr(out.items[0].reason, "replace refused: "));
        te_reports_clear(&out);

        /* next day the low 19.80 is not below 19.50: still resting */
        te_order_cmd_t k = clock_cmd("P1", AT_17H(DAY_0103));
        assert_int_equal(te_broker_handle(s, &k, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 1);
        assert_int_equal(out.items[0].exec_type, TE_EXEC_CLOCK_ACK);

        te_reports_clear(&out);
        te_order_cmd_t x = c;
        x.command = TE_CMD_CANCEL;
        x.event_time = AT_17H(DAY_0103) + 1;
        assert_int_equal(te_broker_handle(s, &x, &out), TE_BROKER_OK);
        const want_t w2[] = {
            {TE_EXEC_CANCELED, TE_OS_CANCELED, 0, 0, 0, 0, 0, "cancel", 0}};
        check_reports(&out, w2, 1, "OL");
        assert_true(out.items[0].event_time == x.event_time);

        te_reports_clear(
            &out); /* too late now: nothing; an unknown id: a final REJECTED */
        assert_int_equal(te_broker_handle(s, &x, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 0);
        te_strlcpy(x.order_id, "NOPE", sizeof x.order_id);
        assert_int_equal(te_broker_handle(s, &x, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 1);
        assert_int_equal(out.items[0].exec_type, TE_EXEC_REJECTED);
        assert_int_equal(out.items[0].order_status, TE_OS_REJECTED);
        te_reports_free(&out);
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

/* The clock is per portfolio: P1's CLOCK does not move P2's orders; an old CLOCK is
 * acknowledged without filling. */
static void test_broker_sim_clock_per_portfolio(void **state)
{
        (void)state;
        te_bars_t *bars = xyz_bars();
        te_broker_t *s = sim_full(bars, TE_MKT_AT_NEXT_OPEN);
        te_reports_t out = {0};
        te_order_cmd_t a = new_order("OA", "XYZ", TE_SIDE_BUY, 100, AT_17H(DAY_0102));
        te_order_cmd_t b = new_order("OB", "XYZ", TE_SIDE_SELL, 100, AT_17H(DAY_0102));
        te_strlcpy(b.ids.portfolio_id, "P2", sizeof b.ids.portfolio_id);
        assert_int_equal(te_broker_handle(s, &a, &out), TE_BROKER_OK);
        assert_int_equal(te_broker_handle(s, &b, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 2); /* two ACKs, nothing filled yet */
        te_reports_clear(&out);
        te_order_cmd_t k = clock_cmd("P2", AT_17H(DAY_0103));
        assert_int_equal(te_broker_handle(s, &k, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 2);
        assert_string_equal(out.items[0].order_id, "OB");
        /* 100/40000 = 0.0025, ^2 = 6.25e-6: 20 x (1 - 0.00050625) = 19.989875 */
        assert_true(out.items[0].last_price == 19.9899);
        assert_int_equal(out.items[1].exec_type, TE_EXEC_CLOCK_ACK);
        te_reports_clear(&out);
        te_order_cmd_t old = clock_cmd("P1", AT_17H(DAY_0102) - 1);
        assert_int_equal(te_broker_handle(s, &old, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 1); /* before OA's day: nothing to fill */
        te_reports_clear(&out);
        te_order_cmd_t k1 = clock_cmd("P1", AT_17H(DAY_0103));
        assert_int_equal(te_broker_handle(s, &k1, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 2);
        assert_string_equal(out.items[0].order_id, "OA");
        te_reports_free(&out);
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

/* Rebuild by replay: the worker commits no order offset past the oldest open order and,
 * after a restart, replays from there into an empty simulator. Whatever an order does
 * depends only on the commands from its NEW on, so from every such start the replay
 * gives the very reports of the first run (ids, quantities, prices), also with a late
 * order (older than its portfolio's last CLOCK) and a stale CLOCK after it. */
static void run_from(te_bars_t *bars, const te_order_cmd_t *cmds, size_t n, size_t from,
                     te_reports_t *out)
{
        te_broker_t *s = sim_full(bars, TE_MKT_AT_NEXT_OPEN);
        for (size_t i = from; i < n; i++)
                assert_int_equal(te_broker_handle(s, &cmds[i], out), TE_BROKER_OK);
        te_broker_destroy(s);
}

static void test_broker_sim_replay_rebuild(void **state)
{
        (void)state;
        te_bars_t *bars = xyz_bars();
        te_order_cmd_t c[9];
        c[0] = new_order("OA", "XYZ", TE_SIDE_BUY, 100, AT_17H(DAY_0102));
        c[0].tif = TE_TIF_GTC; /* filled at the next open: done at c[1] */
        c[1] = clock_cmd("P1", AT_17H(DAY_0104) + 3600000);
        c[2] = new_order("OC", "XYZ", TE_SIDE_BUY, 1500, AT_17H(DAY_0103));
        c[2].tif = TE_TIF_GTC;                    /* late: older than P1's clock */
        c[3] = clock_cmd("P1", AT_17H(DAY_0104)); /* stale for the portfolio */
        c[4] = new_order("OB", "XYZ", TE_SIDE_SELL, 2500, AT_17H(DAY_0104));
        c[4].tif = TE_TIF_GTC;
        c[5] = clock_cmd("P1", AT_17H(DAY_0104) + 7200000);
        c[6] = c[2]; /* delivered again: ignored */
        c[7] = c[0];
        c[7].command = TE_CMD_CANCEL; /* too late: OA is filled */
        c[8] = clock_cmd("P1", AT_17H(DAY_0105));
        const size_t n = sizeof c / sizeof c[0];
        te_reports_t all = {0};
        size_t first_of[sizeof c / sizeof c[0] + 1];
        te_broker_t *s = sim_full(bars, TE_MKT_AT_NEXT_OPEN);
        for (size_t i = 0; i < n; i++) {
                first_of[i] = all.n;
                assert_int_equal(te_broker_handle(s, &c[i], &all), TE_BROKER_OK);
        }
        first_of[n] = all.n;
        te_broker_destroy(s);
        /* OC filled 1000 on DAY_0104 at the stale CLOCK, not at the late NEW */
        assert_int_equal(first_of[4] - first_of[3], 2);
        /* starts where every order before is finished: 0, 2 (OA filled at c[1]). The
         * one difference a replay from 2 may show: c[7] cancels OA, which finished
         * before the start, so the replayed book never had it and answers a final
         * REJECTED "unknown order" where the whole run was silent ("too late"). Both
         * are final for the sender; a report on a finished order is an illegal
         * transition that the planner and the sink log, count and do not apply. */
        const size_t starts[] = {0, 2};
        for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++) {
                te_reports_t re = {0};
                run_from(bars, c, n, starts[k], &re);
                size_t off = first_of[starts[k]];
                if (starts[k] > 0) {
                        size_t at = first_of[7] - off; /* where c[7]'s answer goes */
                        assert_int_equal(first_of[8], first_of[7]); /* silent in all */
                        assert_true(at < re.n);
                        assert_string_equal(re.items[at].order_id, "OA");
                        assert_int_equal(re.items[at].exec_type, TE_EXEC_REJECTED);
                        assert_string_equal(re.items[at].reason, "cancel: unknown order");
                        memmove(&re.items[at], &re.items[at + 1],
                                (re.n - at - 1) * sizeof re.items[0]);
                        re.n--;
                }
                assert_int_equal(re.n, all.n - off);
                for (size_t i = 0; i < re.n; i++) {
                        const te_exec_report_t *a = &all.items[off + i],
                                               *b = &re.items[i];
                        assert_string_equal(a->report_id, b->report_id);
                        assert_int_equal(a->exec_type, b->exec_type);
                        assert_int_equal(a->order_status, b->order_status);
                        assert_true(a->last_qty == b->last_qty);
                        assert_true(a->last_price == b->last_price);
                        assert_true(a->cum_qty == b->cum_qty);
                        assert_true(a->commission == b->commission);
                        assert_true(a->event_time == b->event_time);
                }
                te_reports_free(&re);
        }
        te_reports_free(&all);
        te_bars_destroy(bars);
}

/* te_sim_reset forgets every order, open or finished: a NEW seen before is new again. */
static void test_broker_sim_reset(void **state)
{
        (void)state;
        te_bars_t *bars = xyz_bars();
        te_broker_t *s = sim_full(bars, TE_MKT_AT_NEXT_OPEN);
        te_reports_t out = {0};
        te_order_cmd_t a = new_order("OA", "XYZ", TE_SIDE_BUY, 2500, AT_17H(DAY_0102));
        a.tif = TE_TIF_GTC;
        assert_int_equal(te_broker_handle(s, &a, &out), TE_BROKER_OK);
        te_order_cmd_t k = clock_cmd("P1", AT_17H(DAY_0103));
        assert_int_equal(te_broker_handle(s, &k, &out), TE_BROKER_OK);
        te_sim_stats_t st;
        te_sim_stats(s, &st);
        assert_int_equal(st.open_orders, 1);
        assert_int_equal(te_sim_reset(s), 0);
        te_sim_stats(s, &st);
        assert_int_equal(st.open_orders, 0);
        te_reports_clear(&out);
        assert_int_equal(te_broker_handle(s, &k, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 1); /* CLOCK_ACK only: the book is empty */
        te_reports_clear(&out);
        assert_int_equal(te_broker_handle(s, &a, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 1);
        assert_int_equal(out.items[0].exec_type, TE_EXEC_ACK);
        te_reports_free(&out);
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

/* OPG waits for the next open then expires the rest; CLS trades at the arrival close
 * and expires the rest; EMERGENCY gets the 10% cap and 10 bps more. Close mode. */
static void test_broker_sim_opg_cls_emergency(void **state)
{
        (void)state;
        te_bars_t *bars = xyz_bars();
        te_broker_t *s = sim_full(bars, TE_MKT_AT_CLOSE);
        te_reports_t out = {0};
        te_order_cmd_t opg = new_order("OO", "XYZ", TE_SIDE_BUY, 2000, AT_17H(DAY_0102));
        opg.tif = TE_TIF_OPG;
        assert_int_equal(te_broker_handle(s, &opg, &out), TE_BROKER_OK);
        const want_t w0[] = {{TE_EXEC_ACK, TE_OS_NEW, 0, 0, 0, 2000, 0, "ack", 0}};
        check_reports(&out, w0, 1, "OO"); /* nothing at a close */
        te_reports_clear(&out);
        te_order_cmd_t k = clock_cmd("P1", AT_17H(DAY_0103));
        assert_int_equal(te_broker_handle(s, &k, &out), TE_BROKER_OK);
        /* open 20.00 x 1.001125 for the capped 1000, then the rest expires */
        const want_t w1[] = {
            {TE_EXEC_PARTIAL_FILL, TE_OS_PARTIALLY_FILLED, 1000, 20.0225, 1000, 1000, 5,
             "fill", 1},
            {TE_EXEC_EXPIRED, TE_OS_EXPIRED, 0, 0, 1000, 0, 0, "expire", 0},
            {TE_EXEC_CLOCK_ACK, TE_OS_NEW, 0, 0, 0, 0, 0, NULL, 0},
        };
        check_reports(&out, w1, 3, "OO");
        assert_string_equal(out.items[1].reason, "OPG: not filled at the open");

        /* CLS on day 2 (close 20.80): 1000 at 20.80 x 1.001125 = 20.8234, rest expired */
        te_reports_clear(&out);
        te_order_cmd_t cls = new_order("OC", "XYZ", TE_SIDE_BUY, 2000, AT_17H(DAY_0104));
        cls.tif = TE_TIF_CLS;
        assert_int_equal(te_broker_handle(s, &cls, &out), TE_BROKER_OK);
        const want_t w2[] = {
            {TE_EXEC_ACK, TE_OS_NEW, 0, 0, 0, 2000, 0, "ack", 0},
            {TE_EXEC_PARTIAL_FILL, TE_OS_PARTIALLY_FILLED, 1000, 20.8234, 1000, 1000, 5,
             "fill", 1},
            {TE_EXEC_EXPIRED, TE_OS_EXPIRED, 0, 0, 1000, 0, 0, "expire", 0},
        };
        check_reports(&out, w2, 3, "OC");

        /* EMERGENCY: cap 4000 fills all 2000 (share 0.05): 20.80 x (1 + 0.0005 + 0.001
         * + 0.0025) = 20.8832; commission 2000 x 0.005 = 10 */
        te_reports_clear(&out);
        te_order_cmd_t em = new_order("OE", "XYZ", TE_SIDE_BUY, 2000, AT_17H(DAY_0104));
        em.aggressiveness = TE_AGGR_EMERGENCY;
        assert_int_equal(te_broker_handle(s, &em, &out), TE_BROKER_OK);
        const want_t w3[] = {
            {TE_EXEC_ACK, TE_OS_NEW, 0, 0, 0, 2000, 0, "ack", 0},
            {TE_EXEC_FILL, TE_OS_FILLED, 2000, 20.8832, 2000, 0, 10, "fill", 1},
        };
        check_reports(&out, w3, 2, "OE");
        te_reports_free(&out);
        te_broker_destroy(s);
        te_bars_destroy(bars);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_broker_sim_defaults),
            cmocka_unit_test(test_broker_sim_fill_price),
            cmocka_unit_test(test_broker_sim_commission),
            cmocka_unit_test(test_broker_sim_ack_then_fill),
            cmocka_unit_test(test_broker_sim_deterministic),
            cmocka_unit_test(test_broker_sim_duplicate_new_ignored),
            cmocka_unit_test(test_broker_sim_rejects),
            cmocka_unit_test(test_broker_sim_mode_gate),
            cmocka_unit_test(test_broker_sim_clock),
            cmocka_unit_test(test_broker_sim_cancel_replace_silent),
            cmocka_unit_test(test_broker_sim_bar_lookup),
            cmocka_unit_test(test_broker_sim_round4),
            cmocka_unit_test(test_broker_reports_list),
            cmocka_unit_test(test_broker_sim_partial_three_bars),
            cmocka_unit_test(test_broker_sim_avg_price_on_increment),
            cmocka_unit_test(test_broker_sim_instrument_increment),
            cmocka_unit_test(test_broker_sim_tif),
            cmocka_unit_test(test_broker_sim_day_expiry),
            cmocka_unit_test(test_broker_sim_cancel_replace),
            cmocka_unit_test(test_broker_sim_cancel_unknown),
            cmocka_unit_test(test_broker_sim_clock_per_portfolio),
            cmocka_unit_test(test_broker_sim_replay_rebuild),
            cmocka_unit_test(test_broker_sim_reset),
            cmocka_unit_test(test_broker_sim_opg_cls_emergency),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
