/*
 * test_book: the planner's book — fills applied by cumulative quantity, duplicates,
 * open quantity, illegal transitions, control reports, orders learned from reports,
 * per-portfolio iteration.
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

#include "../book_read.h"
#include "book.h"
#include "book_report.h"
#include "te_buf.h"

#define B_APPLIED TE_BOOK_APPLIED
#define B_DUP     TE_BOOK_DUPLICATE
#define B_IGNORED TE_BOOK_IGNORED
#define B_ILLEGAL TE_BOOK_ILLEGAL

/* One report and the book's state right after it. */
typedef struct step_s {
        te_exec_type_t et;
        te_order_status_t os;
        double cum, leaves;
        te_book_result_t expect;
        double position;  /* of the order's (portfolio, ticker) */
        double open_qty;  /* signed */
        uint64_t illegal; /* counter after the step */
} step_t;

typedef struct scenario_s {
        const char *name;
        te_side_t side;
        double qty;
        double start_position;
        te_order_status_t start_status; /* as added (sent or loaded) */
        double start_cum;
        double start_open; /* expected open quantity right after add */
        step_t steps[10];
        int n;
} scenario_t;

#define ACK     TE_EXEC_ACK
#define PARTIAL TE_EXEC_PARTIAL_FILL
#define FILL    TE_EXEC_FILL
#define CXL     TE_EXEC_CANCELED
#define REJ     TE_EXEC_REJECTED
#define EXPD    TE_EXEC_EXPIRED
#define CLK     TE_EXEC_CLOCK_ACK
#define BST     TE_EXEC_BROKER_STATE

static const scenario_t scenarios[] = {
    {"buy: ack, partial, full, duplicates, illegal FILLED->NEW, control",
     TE_SIDE_BUY,
     100,
     0,
     TE_OS_PENDING_NEW,
     0,
     100,
     {
         {ACK, TE_OS_NEW, 0, 100, B_APPLIED, 0, 100, 0},
         {ACK, TE_OS_NEW, 0, 100, B_DUP, 0, 100, 0},
         {PARTIAL, TE_OS_PARTIALLY_FILLED, 40, 60, B_APPLIED, 40, 60, 0},
         {PARTIAL, TE_OS_PARTIALLY_FILLED, 40, 60, B_DUP, 40, 60, 0},
         {PARTIAL, TE_OS_PARTIALLY_FILLED, 70, 30, B_APPLIED, 70, 30, 0},
         {FILL, TE_OS_FILLED, 100, 0, B_APPLIED, 100, 0, 0},
         {FILL, TE_OS_FILLED, 100, 0, B_DUP, 100, 0, 0},
         {ACK, TE_OS_NEW, 0, 100, B_ILLEGAL, 100, 0, 1},
         {CLK, TE_OS_NEW, 0, 0, B_IGNORED, 100, 0, 1},
         {BST, TE_OS_NEW, 0, 0, B_IGNORED, 100, 0, 1},
     },
     10},
    {"sell from a loaded position: partial, cancel pending, canceled",
     TE_SIDE_SELL,
     50,
     200,
     TE_OS_PENDING_NEW,
     0,
     -50,
     {
         {ACK, TE_OS_NEW, 0, 50, B_APPLIED, 200, -50, 0},
         {PARTIAL, TE_OS_PARTIALLY_FILLED, 20, 30, B_APPLIED, 180, -30, 0},
         /* the cancel is unconfirmed: its 30 leave the open quantity for the
          * pending counts (test_book_pending) */
         {CXL, TE_OS_PENDING_CANCEL, 20, 30, B_APPLIED, 180, 0, 0},
         {CXL, TE_OS_CANCELED, 20, 0, B_APPLIED, 180, 0, 0},
         /* a late fill report after CANCELED is illegal and moves nothing */
         {PARTIAL, TE_OS_PARTIALLY_FILLED, 30, 20, B_ILLEGAL, 180, 0, 1},
     },
     5},
    {"fill straight from PENDING_NEW",
     TE_SIDE_BUY,
     10,
     5,
     TE_OS_PENDING_NEW,
     0,
     10,
     {
         {FILL, TE_OS_FILLED, 10, 0, B_APPLIED, 15, 0, 0},
     },
     1},
    {"rejected: open drops to 0, position unchanged",
     TE_SIDE_BUY,
     300,
     100,
     TE_OS_PENDING_NEW,
     0,
     300,
     {
         {REJ, TE_OS_REJECTED, 0, 0, B_APPLIED, 100, 0, 0},
         {REJ, TE_OS_REJECTED, 0, 0, B_DUP, 100, 0, 0},
         {FILL, TE_OS_FILLED, 300, 0, B_ILLEGAL, 100, 0, 1},
     },
     3},
    {"expired after a partial",
     TE_SIDE_SELL,
     80,
     -10,
     TE_OS_NEW,
     0,
     -80,
     {
         {PARTIAL, TE_OS_PARTIALLY_FILLED, 25, 55, B_APPLIED, -35, -55, 0},
         {EXPD, TE_OS_EXPIRED, 25, 0, B_APPLIED, -35, 0, 0},
     },
     2},
    {"loaded partially filled: the fill already in the position moves nothing",
     TE_SIDE_BUY,
     100,
     40,
     TE_OS_PARTIALLY_FILLED,
     40,
     60,
     {
         {PARTIAL, TE_OS_PARTIALLY_FILLED, 40, 60, B_DUP, 40, 60, 0},
         /* an older report (lower cum) arrives late: nothing moves back */
         {PARTIAL, TE_OS_PARTIALLY_FILLED, 10, 90, B_DUP, 40, 60, 0},
         {FILL, TE_OS_FILLED, 100, 0, B_APPLIED, 100, 0, 0},
     },
     3},
    {"fill report jumps over partials: whole remaining in one step",
     TE_SIDE_SELL,
     100,
     0,
     TE_OS_PENDING_NEW,
     0,
     -100,
     {
         {ACK, TE_OS_NEW, 0, 100, B_APPLIED, 0, -100, 0},
         {FILL, TE_OS_FILLED, 100, 0, B_APPLIED, -100, 0, 0},
         /* illegal FILLED -> PARTIALLY_FILLED with a larger cum: not applied */
         {PARTIAL, TE_OS_PARTIALLY_FILLED, 150, 0, B_ILLEGAL, -100, 0, 1},
         {FILL, TE_OS_FILLED, 100, 0, B_DUP, -100, 0, 1},
     },
     4},
    {"loaded terminal order: no open quantity",
     TE_SIDE_BUY,
     100,
     100,
     TE_OS_FILLED,
     100,
     0,
     {
         {FILL, TE_OS_FILLED, 100, 0, B_DUP, 100, 0, 0},
         {ACK, TE_OS_NEW, 0, 100, B_ILLEGAL, 100, 0, 1},
     },
     2},
    {"out-of-range status in a report is illegal",
     TE_SIDE_BUY,
     10,
     0,
     TE_OS_NEW,
     0,
     10,
     {
         {PARTIAL, (te_order_status_t)10, 5, 5, B_ILLEGAL, 0, 10, 1},
         {PARTIAL, TE_OS_PARTIALLY_FILLED, 5, 5, B_APPLIED, 5, 5, 1},
     },
     2},
};

static void test_book_report_sequences(void **state)
{
        (void)state;
        for (size_t c = 0; c < sizeof scenarios / sizeof scenarios[0]; c++) {
                const scenario_t *sc = &scenarios[c];
                te_book_t *b = te_book_new();
                assert_non_null(b);
                if (sc->start_position != 0)
                        assert_int_equal(
                            te_book_set_position(b, "P1", "AAA", sc->start_position), 0);
                assert_int_equal(te_book_add_order(b, "O1", "P1", "AAA", sc->side,
                                                   sc->qty, sc->start_cum,
                                                   sc->start_status),
                                 0);
                if (te_book_open_qty(b, "P1", "AAA") != sc->start_open) {
                        print_error("%s: open %g after add, expected %g\n", sc->name,
                                    te_book_open_qty(b, "P1", "AAA"), sc->start_open);
                        fail();
                }
                for (int i = 0; i < sc->n; i++) {
                        const step_t *s = &sc->steps[i];
                        te_exec_report_t r = report("O1", "P1", "AAA", sc->side, s->et,
                                                    s->os, s->cum, s->leaves);
                        te_book_result_t got = te_book_apply_report(b, &r);
                        double pos = te_book_position(b, "P1", "AAA");
                        double open = te_book_open_qty(b, "P1", "AAA");
                        uint64_t ill = te_book_illegal_count(b);
                        if (got != s->expect || pos != s->position ||
                            open != s->open_qty || ill != s->illegal) {
                                print_error(
                                    "%s: step %d: result %d pos %g open %g illegal "
                                    "%llu; expected %d %g %g %llu\n",
                                    sc->name, i, (int)got, pos, open,
                                    (unsigned long long)ill, (int)s->expect, s->position,
                                    s->open_qty, (unsigned long long)s->illegal);
                                fail();
                        }
                }
                assert_int_equal(te_book_order_count(b), 1);
                te_book_destroy(b);
        }
}

/* Orders of the same ticker add up; other tickers and portfolios stay apart. */
static void test_book_open_qty_sums_orders(void **state)
{
        (void)state;
        te_book_t *b = te_book_new();
        assert_non_null(b);
        static const struct {
                const char *id, *pf, *ticker;
                te_side_t side;
                double qty, cum;
                te_order_status_t st;
        } orders[] = {
            {"O1", "P1", "AAA", TE_SIDE_BUY, 100, 0, TE_OS_NEW},
            {"O2", "P1", "AAA", TE_SIDE_BUY, 50, 20, TE_OS_PARTIALLY_FILLED},
            {"O3", "P1", "AAA", TE_SIDE_SELL, 30, 0, TE_OS_PENDING_NEW},
            {"O4", "P1", "AAA", TE_SIDE_BUY, 999, 0, TE_OS_CANCELED},
            {"O5", "P1", "BBB", TE_SIDE_SELL, 70, 10, TE_OS_PENDING_CANCEL},
            {"O6", "P2", "AAA", TE_SIDE_BUY, 5, 0, TE_OS_NEW},
            /* same id again: the first state is kept */
            {"O1", "P1", "AAA", TE_SIDE_BUY, 1000, 0, TE_OS_NEW},
        };
        for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
                assert_int_equal(te_book_add_order(b, orders[i].id, orders[i].pf,
                                                   orders[i].ticker, orders[i].side,
                                                   orders[i].qty, orders[i].cum,
                                                   orders[i].st),
                                 0);
        static const struct {
                const char *pf, *ticker;
                double open, pos;
        } expect[] = {
            {"P1", "AAA", 100 + 30 - 30, 0}, /* O1 100, O2 50-20, O3 -30, O4 done */
            {"P1", "BBB", 0, 0}, /* O5's cancel unconfirmed: pending, not open */
            {"P2", "AAA", 5, 0},
            {"P2", "BBB", 0, 0},
            {"P3", "ZZZ", 0, 0},
        };
        for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
                assert_true(te_book_open_qty(b, expect[i].pf, expect[i].ticker) ==
                            expect[i].open);
                assert_true(te_book_position(b, expect[i].pf, expect[i].ticker) ==
                            expect[i].pos);
        }
        assert_int_equal(te_book_order_count(b), 6);
        te_book_destroy(b);
}

/* A report for an order the book never saw: the order is learned from it (quantity =
 * cum + leaves) and its fills move the position. */
static void test_book_unknown_order_learned(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                te_side_t side;
                te_exec_type_t et;
                te_order_status_t os;
                double cum, leaves;
                te_book_result_t expect;
                double position, open_qty;
                uint64_t illegal;
                size_t orders; /* orders in the book after the report */
                /* then a FILL to FILLED with cum = cum + leaves */
                te_book_result_t then_expect;
                double then_position;
        } cases[] = {
            {"ack", TE_SIDE_BUY, ACK, TE_OS_NEW, 0, 100, B_APPLIED, 0, 100, 0, 1,
             B_APPLIED, 100},
            {"partial sell", TE_SIDE_SELL, PARTIAL, TE_OS_PARTIALLY_FILLED, 30, 70,
             B_APPLIED, -30, -70, 0, 1, B_APPLIED, -100},
            {"fill", TE_SIDE_BUY, FILL, TE_OS_FILLED, 60, 0, B_APPLIED, 60, 0, 0, 1,
             B_DUP, 60},
            {"canceled after partial", TE_SIDE_BUY, CXL, TE_OS_CANCELED, 15, 0, B_APPLIED,
             15, 0, 0, 1, B_ILLEGAL, 15},
            {"rejected", TE_SIDE_BUY, REJ, TE_OS_REJECTED, 0, 0, B_APPLIED, 0, 0, 0, 1,
             B_ILLEGAL, 0},
            /* after a restart the first report seen for an order can be any state,
             * e.g. a replace in flight: learned in that state, not refused */
            {"pending replace", TE_SIDE_BUY, TE_EXEC_ACK, TE_OS_PENDING_REPLACE, 20, 80,
             B_APPLIED, 20, 0, 0, 1, B_APPLIED, 100}, /* 80 pending, not open */
            {"replaced after partial", TE_SIDE_SELL, TE_EXEC_REPLACED, TE_OS_REPLACED, 40,
             0, B_APPLIED, -40, 0, 0, 1, B_ILLEGAL, -40},
            /* garbage status: counted, nothing learned, nothing moved */
            {"status out of range", TE_SIDE_BUY, PARTIAL, (te_order_status_t)42, 10, 10,
             B_ILLEGAL, 0, 0, 1, 0, B_APPLIED, 20},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_book_t *b = te_book_new();
                assert_non_null(b);
                te_exec_report_t r = report("X1", "P9", "BBB", cases[i].side, cases[i].et,
                                            cases[i].os, cases[i].cum, cases[i].leaves);
                te_book_result_t got = te_book_apply_report(b, &r);
                if (got != cases[i].expect ||
                    te_book_position(b, "P9", "BBB") != cases[i].position ||
                    te_book_open_qty(b, "P9", "BBB") != cases[i].open_qty ||
                    te_book_illegal_count(b) != cases[i].illegal) {
                        print_error("%s: result %d pos %g open %g illegal %llu\n",
                                    cases[i].name, (int)got,
                                    te_book_position(b, "P9", "BBB"),
                                    te_book_open_qty(b, "P9", "BBB"),
                                    (unsigned long long)te_book_illegal_count(b));
                        fail();
                }
                assert_int_equal(te_book_order_count(b), cases[i].orders);
                double total = cases[i].cum + cases[i].leaves;
                te_exec_report_t f = report("X1", "P9", "BBB", cases[i].side, FILL,
                                            TE_OS_FILLED, total, 0);
                got = te_book_apply_report(b, &f);
                if (got != cases[i].then_expect ||
                    te_book_position(b, "P9", "BBB") != cases[i].then_position ||
                    te_book_open_qty(b, "P9", "BBB") != 0) {
                        print_error("%s: then FILL: result %d pos %g open %g\n",
                                    cases[i].name, (int)got,
                                    te_book_position(b, "P9", "BBB"),
                                    te_book_open_qty(b, "P9", "BBB"));
                        fail();
                }
                te_book_destroy(b);
        }
}

static void test_book_control_reports_ignored(void **state)
{
        (void)state;
        te_book_t *b = te_book_new();
        assert_non_null(b);
        te_exec_report_t r = report("C1", "P1", "", TE_SIDE_BUY, CLK, TE_OS_NEW, 0, 0);
        assert_int_equal(te_book_apply_report(b, &r), B_IGNORED);
        r = report("C2", "P1", "", TE_SIDE_BUY, BST, TE_OS_NEW, 0, 0);
        assert_int_equal(te_book_apply_report(b, &r), B_IGNORED);
        /* nothing learned from control reports */
        assert_int_equal(te_book_order_count(b), 0);
        assert_int_equal(te_book_illegal_count(b), 0);
        te_book_destroy(b);
}

typedef struct seen_s {
        char ticker[8][TE_TICKER_MAX];
        double position[8], open_qty[8];
        int n;
} seen_t;

static void collect(const char *ticker, double position, double open_qty, void *opaque)
{
        seen_t *s = opaque;
        assert_true(s->n < 8);
        te_strlcpy(s->ticker[s->n], ticker, sizeof s->ticker[s->n]);
        s->position[s->n] = position;
        s->open_qty[s->n] = open_qty;
        s->n++;
}

static void test_book_foreach_ticker(void **state)
{
        (void)state;
        te_book_t *b = te_book_new();
        assert_non_null(b);
        assert_int_equal(te_book_set_position(b, "P1", "AAA", 100), 0);
        assert_int_equal(te_book_set_position(b, "P1", "BBB", 0), 0); /* flat: skipped */
        assert_int_equal(te_book_set_position(b, "P1", "CCC", -25), 0);
        assert_int_equal(te_book_set_position(b, "P2", "AAA", 50),
                         0); /* other portfolio */
        assert_int_equal(te_book_set_position(b, "P10", "DDD", 5),
                         0); /* prefix of P1? no */
        assert_int_equal(
            te_book_add_order(b, "O1", "P1", "EEE", TE_SIDE_BUY, 40, 0, TE_OS_NEW),
            0); /* flat but working */
        assert_int_equal(
            te_book_add_order(b, "O2", "P1", "FFF", TE_SIDE_SELL, 40, 0, TE_OS_CANCELED),
            0); /* flat, order done: skipped */
        assert_int_equal(te_book_add_order(b, "O3", "P1", "AAA", TE_SIDE_SELL, 30, 10,
                                           TE_OS_PARTIALLY_FILLED),
                         0);
        /* a position set twice keeps the last value */
        assert_int_equal(te_book_set_position(b, "P1", "CCC", -20), 0);

        static const struct {
                const char *ticker;
                double position, open_qty;
        } expect[] = {
            {"AAA", 100, -20},
            {"CCC", -20, 0},
            {"EEE", 0, 40},
        };
        enum { N = sizeof expect / sizeof expect[0] };
        seen_t s;
        memset(&s, 0, sizeof s);
        te_book_foreach_ticker(b, "P1", collect, &s);
        assert_int_equal(s.n, N);
        for (int i = 0; i < N; i++) {
                int found = 0;
                for (int j = 0; j < s.n; j++) {
                        if (strcmp(s.ticker[j], expect[i].ticker) != 0)
                                continue;
                        found++;
                        assert_true(s.position[j] == expect[i].position);
                        assert_true(s.open_qty[j] == expect[i].open_qty);
                }
                assert_int_equal(found, 1);
        }

        memset(&s, 0, sizeof s);
        te_book_foreach_ticker(b, "P-none", collect, &s);
        assert_int_equal(s.n, 0);
        te_book_destroy(b);
        te_book_destroy(NULL);
}

/* A CANCEL sent: the order stops counting as open, yet a fill that beats the cancel
 * still moves the position; the live list follows. */
static void test_book_cancel_marked(void **state)
{
        (void)state;
        static const struct {
                const char *what;
                int mark;          /* mark the cancel before the report */
                te_exec_type_t et; /* report after it (ACK: none) */
                te_order_status_t os;
                double cum, leaves;
                double position, open_qty;
                size_t live;
        } cases[] = {
            {"not marked, nothing", 0, TE_EXEC_ACK, TE_OS_NEW, 0, 100, 0, 100, 1},
            {"marked, nothing yet", 1, TE_EXEC_ACK, TE_OS_NEW, 0, 100, 0, 0, 0},
            {"marked, then filled 30 before the cancel", 1, TE_EXEC_PARTIAL_FILL,
             TE_OS_PARTIALLY_FILLED, 30, 70, 30, 0, 0},
            {"marked, then canceled", 1, TE_EXEC_CANCELED, TE_OS_CANCELED, 0, 0, 0, 0, 0},
            {"not marked, partly filled", 0, TE_EXEC_PARTIAL_FILL, TE_OS_PARTIALLY_FILLED,
             40, 60, 40, 60, 1},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_book_t *b = te_book_new();
                assert_non_null(b);
                assert_int_equal(te_book_add_order(b, "o1", "pf", "AAA", TE_SIDE_BUY, 100,
                                                   0, TE_OS_NEW),
                                 0);
                if (cases[i].mark)
                        assert_int_equal(te_book_mark_cancel(b, "o1"), 0);
                te_exec_report_t r = report("o1", "pf", "AAA", TE_SIDE_BUY, cases[i].et,
                                            cases[i].os, cases[i].cum, cases[i].leaves);
                te_book_apply_report(b, &r);
                const te_book_pos_t *p =
                    te_book_pf_find(te_book_portfolio(b, "pf"), "AAA");
                if (te_book_position(b, "pf", "AAA") != cases[i].position ||
                    te_book_open_qty(b, "pf", "AAA") != cases[i].open_qty ||
                    te_book_pos_live(p, NULL, 0) != cases[i].live) {
                        print_error("%s: position %g open %g live %zu\n", cases[i].what,
                                    te_book_position(b, "pf", "AAA"),
                                    te_book_open_qty(b, "pf", "AAA"),
                                    te_book_pos_live(p, NULL, 0));
                        fail();
                }
                assert_int_equal(te_book_mark_cancel(b, "nope"), -1);
                te_book_destroy(b);
        }
}

/* Cash moves by -(side x value) - commission, once per fill (by cumulative value). */
static void test_book_cash_follows_fills(void **state)
{
        (void)state;
        te_book_t *b = te_book_new();
        assert_int_equal(te_book_set_cash(b, "pf", 10000), 0);
        assert_int_equal(
            te_book_add_order(b, "b1", "pf", "AAA", TE_SIDE_BUY, 100, 0, TE_OS_NEW), 0);
        te_exec_report_t r = report("b1", "pf", "AAA", TE_SIDE_BUY, TE_EXEC_PARTIAL_FILL,
                                    TE_OS_PARTIALLY_FILLED, 40, 60);
        r.last_qty = 40;
        r.last_price = 10;
        r.avg_price = 10;
        r.commission = 1;
        te_book_apply_report(b, &r);
        assert_true(te_book_cash(b, "pf") == 10000 - 400 - 1);
        te_book_apply_report(b, &r); /* the same report again: nothing */
        assert_true(te_book_cash(b, "pf") == 10000 - 400 - 1);
        /* the rest at 13: avg (40x10 + 60x13)/100 = 11.8 */
        te_exec_report_t f =
            report("b1", "pf", "AAA", TE_SIDE_BUY, TE_EXEC_FILL, TE_OS_FILLED, 100, 0);
        f.last_qty = 60;
        f.last_price = 13;
        f.avg_price = 11.8;
        f.commission = 2;
        te_book_apply_report(b, &f);
        assert_true(fabs(te_book_cash(b, "pf") - (10000 - 1180 - 3)) < 1e-9);
        /* a sell adds */
        assert_int_equal(
            te_book_add_order(b, "s1", "pf", "AAA", TE_SIDE_SELL, 50, 0, TE_OS_NEW), 0);
        te_exec_report_t s =
            report("s1", "pf", "AAA", TE_SIDE_SELL, TE_EXEC_FILL, TE_OS_FILLED, 50, 0);
        s.last_qty = 50;
        s.last_price = 20;
        s.avg_price = 20;
        te_book_apply_report(b, &s);
        assert_true(fabs(te_book_cash(b, "pf") - (10000 - 1180 - 3 + 1000)) < 1e-9);
        assert_true(te_book_position(b, "pf", "AAA") == 50);
        assert_true(te_book_cash(b, "other") == 0);
        te_book_destroy(b);
}

/* Portfolios are separate: the same ticker in two portfolios, the last as_of and
 * the mode per portfolio, orders known by id. */
static void test_book_portfolios_separate(void **state)
{
        (void)state;
        te_book_t *b = te_book_new();
        int64_t t;
        assert_int_equal(te_book_set_position(b, "p1", "AAA", 5), 0);
        assert_int_equal(te_book_set_position(b, "p2", "AAA", -7), 0);
        assert_int_equal(
            te_book_add_order(b, "o1", "p2", "AAA", TE_SIDE_SELL, 3, 0, TE_OS_NEW), 0);
        assert_true(te_book_position(b, "p1", "AAA") == 5);
        assert_true(te_book_position(b, "p2", "AAA") == -7);
        assert_true(te_book_open_qty(b, "p1", "AAA") == 0);
        assert_true(te_book_open_qty(b, "p2", "AAA") == -3);
        assert_int_equal(te_book_last_as_of(b, "p1", &t), 0);
        assert_int_equal(te_book_set_last_as_of(b, "p1", 42), 0);
        assert_int_equal(te_book_last_as_of(b, "p1", &t), 1);
        assert_true(t == 42);
        assert_int_equal(te_book_last_as_of(b, "p2", &t), 0);
        assert_int_equal(te_book_mode(b, "p1"), TE_MODE_PRODUCTION);
        assert_int_equal(te_book_set_mode(b, "p1", TE_MODE_TRAINING), 0);
        assert_int_equal(te_book_mode(b, "p1"), TE_MODE_TRAINING);
        assert_int_equal(te_book_has_order(b, "o1"), 1);
        assert_int_equal(te_book_has_order(b, "o2"), 0);
        assert_null(te_book_portfolio(b, "p3"));
        assert_null(te_book_pf_find(te_book_portfolio(b, "p1"), "BBB"));
        te_book_destroy(b);
}

/* te_book_pf_active recounted the slow way: entries held or with live orders. */
static size_t recount_active(const te_book_pf_t *pf)
{
        size_t it = 0, n = 0;
        const te_book_pos_t *p;
        while ((p = te_book_pf_next(pf, &it)) != NULL)
                n += te_book_pos_qty(p) != 0 || te_book_pos_live(p, NULL, 0) > 0 ||
                     te_book_pos_pending(p, NULL, NULL) > 0;
        return n;
}

/* The active count by hand through each kind of change, then kept equal to a recount
 * over a long random sequence of positions, orders, cancels and reports. */
static void test_book_active_count(void **state)
{
        (void)state;
        te_book_t *b = te_book_new();
        assert_int_equal(te_book_set_position(b, "p1", "AAA", 0), 0);
        const te_book_pf_t *pf = te_book_portfolio(b, "p1");
        assert_int_equal(te_book_pf_active(pf), 0); /* an entry at 0, nothing working */
        assert_int_equal(te_book_set_position(b, "p1", "AAA", 10), 0);
        assert_int_equal(te_book_pf_active(pf), 1);
        assert_int_equal(
            te_book_add_order(b, "o1", "p1", "BBB", TE_SIDE_BUY, 5, 0, TE_OS_NEW), 0);
        assert_int_equal(te_book_pf_active(pf), 2); /* working, not held */
        te_exec_report_t r =
            report("o1", "p1", "BBB", TE_SIDE_BUY, TE_EXEC_FILL, TE_OS_FILLED, 5, 0);
        assert_int_equal(te_book_apply_report(b, &r), B_APPLIED);
        assert_int_equal(te_book_pf_active(pf), 2); /* now held, no longer working */
        assert_int_equal(
            te_book_add_order(b, "o2", "p1", "BBB", TE_SIDE_SELL, 5, 0, TE_OS_NEW), 0);
        r = report("o2", "p1", "BBB", TE_SIDE_SELL, TE_EXEC_FILL, TE_OS_FILLED, 5, 0);
        assert_int_equal(te_book_apply_report(b, &r), B_APPLIED);
        assert_int_equal(te_book_pf_active(pf), 1); /* BBB flat again */
        assert_int_equal(
            te_book_add_order(b, "o3", "p1", "CCC", TE_SIDE_BUY, 5, 0, TE_OS_NEW), 0);
        assert_int_equal(te_book_pf_active(pf), 2);
        assert_int_equal(te_book_mark_cancel(b, "o3"), 0);
        /* cancel sent: not working, but still active until confirmed */
        assert_int_equal(te_book_pf_active(pf), 2);
        r = report("o3", "p1", "CCC", TE_SIDE_BUY, TE_EXEC_CANCELED, TE_OS_CANCELED, 0,
                   0);
        assert_int_equal(te_book_apply_report(b, &r), B_APPLIED);
        assert_int_equal(te_book_pf_active(pf), 1);
        assert_int_equal(te_book_set_position(b, "p1", "AAA", 0), 0);
        assert_int_equal(te_book_pf_active(pf), 0);
        /* keys live in the entries: a key too long for them is refused, not cut */
        char long_ticker[64];
        memset(long_ticker, 'T', sizeof long_ticker - 1);
        long_ticker[sizeof long_ticker - 1] = '\0';
        assert_int_equal(te_book_set_position(b, "p1", long_ticker, 1), -1);
        assert_int_equal(te_book_pf_active(pf), 0);
        /* add-new tells a new order from a known one and leaves the known one alone */
        assert_int_equal(
            te_book_add_new_order(b, "o4", "p1", "DDD", TE_SIDE_BUY, 7, 0, TE_OS_NEW), 0);
        assert_true(te_book_open_qty(b, "p1", "DDD") == 7);
        assert_int_equal(
            te_book_add_new_order(b, "o4", "p1", "DDD", TE_SIDE_SELL, 9, 0, TE_OS_NEW),
            1);
        assert_true(te_book_open_qty(b, "p1", "DDD") == 7);
        assert_int_equal(
            te_book_add_new_order(b, "o3", "p1", "CCC", TE_SIDE_BUY, 5, 0, TE_OS_NEW),
            1); /* known, cancel sent */
        char long_id[TE_ID_MAX + 8];
        memset(long_id, 'o', sizeof long_id - 1);
        long_id[sizeof long_id - 1] = '\0';
        assert_int_equal(
            te_book_add_new_order(b, long_id, "p1", "EEE", TE_SIDE_BUY, 1, 0, TE_OS_NEW),
            -1); /* an id too long for the book */
        te_book_destroy(b);

        static const char *const pfs[] = {"pa", "pb"};
        static const char *const tks[] = {"A", "B", "C", "D", "E", "F"};
        static const te_order_status_t ends[] = {TE_OS_FILLED, TE_OS_CANCELED,
                                                 TE_OS_REJECTED, TE_OS_PARTIALLY_FILLED};
        uint64_t x = 0x2545f4914f6cdd1dull;
        b = te_book_new();
        for (int step = 0; step < 5000; step++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                const char *pid = pfs[x % 2], *tk = tks[(x >> 8) % 6];
                char oid[32];
                int k = (int)((x >> 16) % 40);
                snprintf(oid, sizeof oid, "o-%s-%s-%d", pid, tk, k);
                switch ((x >> 24) % 4) {
                case 0:
                        assert_int_equal(
                            te_book_set_position(b, pid, tk, (double)((x >> 32) % 3)), 0);
                        break;
                case 1:
                        assert_int_equal(te_book_add_order(b, oid, pid, tk, TE_SIDE_BUY,
                                                           4, 0, TE_OS_NEW),
                                         0);
                        break;
                case 2:
                        (void)te_book_mark_cancel(b, oid); /* -1: not in the book */
                        break;
                default: {
                        te_order_status_t os = ends[(x >> 40) % 4];
                        double cum = os == TE_OS_FILLED             ? 4
                                     : os == TE_OS_PARTIALLY_FILLED ? 2
                                                                    : 0;
                        r = report(oid, pid, tk, TE_SIDE_BUY,
                                   cum > 0 ? TE_EXEC_FILL : TE_EXEC_CANCELED, os, cum,
                                   os == TE_OS_PARTIALLY_FILLED ? 2 : 0);
                        (void)te_book_apply_report(b, &r);
                        break;
                }
                }
                for (int i = 0; i < 2; i++) {
                        pf = te_book_portfolio(b, pfs[i]);
                        assert_int_equal(te_book_pf_active(pf), recount_active(pf));
                }
        }
        te_book_destroy(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_book_report_sequences),
            cmocka_unit_test(test_book_open_qty_sums_orders),
            cmocka_unit_test(test_book_unknown_order_learned),
            cmocka_unit_test(test_book_control_reports_ignored),
            cmocka_unit_test(test_book_foreach_ticker),
            cmocka_unit_test(test_book_cancel_marked),
            cmocka_unit_test(test_book_cash_follows_fills),
            cmocka_unit_test(test_book_portfolios_separate),
            cmocka_unit_test(test_book_active_count),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
