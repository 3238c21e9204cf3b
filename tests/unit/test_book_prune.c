/*
 * test_book_prune: the book drops finished orders (book.h): it stays bounded over a
 * long run; what is dropped and when (only terminal orders, only when a target with a
 * later as_of is recorded, per portfolio); what stays safe (a target planned again
 * with the same as_of finds its ids; a late duplicate report of a dropped order moves
 * nothing while its tombstone lasts; the tombstones are bounded, oldest out first).
 */
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

static te_exec_report_t priced(const char *order_id, const char *portfolio_id,
                               const char *ticker, te_side_t side, te_exec_type_t et,
                               te_order_status_t os, double cum, double leaves)
{
        te_exec_report_t r =
            report(order_id, portfolio_id, ticker, side, et, os, cum, leaves);
        r.last_price = 10;
        return r;
}

static te_book_result_t fill(te_book_t *b, const char *oid, const char *pf,
                             const char *ticker, te_side_t side, double qty)
{
        te_exec_report_t r =
            priced(oid, pf, ticker, side, TE_EXEC_FILL, TE_OS_FILLED, qty, 0);
        return te_book_apply_report(b, &r);
}

/* A long run: 3 portfolios x 2000 targets, each target 4 orders that fill, 1 that is
 * rejected and 1 that rests (cancelled and confirmed at the next target). The book
 * holds at most the live orders and the finished ones of each portfolio's latest
 * target, and the tombstones at most their capacity; positions add up. */
static void test_book_prune_bounded_over_a_long_run(void **state)
{
        (void)state;
        enum { PFS = 3, TARGETS = 2000, FILLED = 4, CAP = 500 };
        static const char *const pfs[PFS] = {"pf-a", "pf-b", "pf-c"};
        te_book_t *b = te_book_new();
        assert_non_null(b);
        assert_int_equal(te_book_set_tombstones(b, CAP), 0);
        size_t most = 0;
        char oid[64], rest[64];
        for (int t = 0; t < TARGETS; t++) {
                for (int p = 0; p < PFS; p++) {
                        assert_int_equal(te_book_set_last_as_of(b, pfs[p], 1000 + t), 0);
                        /* the previous target's resting order: cancel confirmed now */
                        if (t > 0) {
                                snprintf(rest, sizeof rest, "%s-%d-rest", pfs[p], t - 1);
                                assert_int_equal(te_book_mark_cancel(b, rest), 0);
                                te_exec_report_t c =
                                    priced(rest, pfs[p], "RST", TE_SIDE_BUY,
                                           TE_EXEC_CANCELED, TE_OS_CANCELED, 0, 0);
                                assert_int_equal(te_book_apply_report(b, &c),
                                                 TE_BOOK_APPLIED);
                        }
                        for (int k = 0; k < FILLED; k++) {
                                snprintf(oid, sizeof oid, "%s-%d-%d", pfs[p], t, k);
                                assert_int_equal(te_book_add_order(b, oid, pfs[p], "AAA",
                                                                   TE_SIDE_BUY, 1, 0,
                                                                   TE_OS_PENDING_NEW),
                                                 0);
                                assert_int_equal(
                                    fill(b, oid, pfs[p], "AAA", TE_SIDE_BUY, 1),
                                    TE_BOOK_APPLIED);
                        }
                        snprintf(oid, sizeof oid, "%s-%d-rej", pfs[p], t);
                        assert_int_equal(te_book_add_order(b, oid, pfs[p], "BBB",
                                                           TE_SIDE_SELL, 5, 0,
                                                           TE_OS_PENDING_NEW),
                                         0);
                        te_exec_report_t rj =
                            priced(oid, pfs[p], "BBB", TE_SIDE_SELL, TE_EXEC_REJECTED,
                                   TE_OS_REJECTED, 0, 0);
                        assert_int_equal(te_book_apply_report(b, &rj), TE_BOOK_APPLIED);
                        snprintf(rest, sizeof rest, "%s-%d-rest", pfs[p], t);
                        assert_int_equal(te_book_add_order(b, rest, pfs[p], "RST",
                                                           TE_SIDE_BUY, 7, 0, TE_OS_NEW),
                                         0);
                }
                if (te_book_order_count(b) > most)
                        most = te_book_order_count(b);
        }
        /* per portfolio: 4 filled + 1 rejected of the latest target, the previous
         * target's resting order (cancelled at this one) and this one's */
        assert_int_equal(most, PFS * (FILLED + 1 + 2));
        assert_int_equal(te_book_order_count(b), PFS * (FILLED + 1 + 2));
        assert_int_equal(te_book_tombstone_count(b), CAP);
        assert_int_equal(te_book_dropped_count(b),
                         (uint64_t)PFS * (TARGETS - 1) * (FILLED + 1) +
                             (uint64_t)PFS * (TARGETS - 2));
        for (int p = 0; p < PFS; p++) {
                assert_true(te_book_position(b, pfs[p], "AAA") == TARGETS * FILLED);
                assert_true(te_book_position(b, pfs[p], "BBB") == 0);
                assert_true(te_book_open_qty(b, pfs[p], "RST") == 7);
        }
        te_book_destroy(b);
}

/* Planned again with the same as_of (a duplicate target, an EMERGENCY re-plan): the
 * finished orders of that target are still there, so its ids count as sent. */
static void test_book_prune_same_as_of_keeps(void **state)
{
        (void)state;
        te_book_t *b = te_book_new();
        assert_int_equal(te_book_set_last_as_of(b, "pf", 10), 0);
        assert_int_equal(te_book_add_order(b, "d1-0", "pf", "AAA", TE_SIDE_BUY, 5, 0,
                                           TE_OS_PENDING_NEW),
                         0);
        assert_int_equal(fill(b, "d1-0", "pf", "AAA", TE_SIDE_BUY, 5), TE_BOOK_APPLIED);
        assert_int_equal(te_book_set_last_as_of(b, "pf", 10), 0);
        assert_int_equal(te_book_order_count(b), 1);
        assert_int_equal(te_book_dropped_count(b), 0);
        assert_int_equal(te_book_has_order(b, "d1-0"), 1);
        /* an earlier as_of (the planner dead-letters it) drops nothing either */
        assert_int_equal(te_book_set_last_as_of(b, "pf", 9), 0);
        assert_int_equal(te_book_order_count(b), 1);
        /* a later one drops it */
        assert_int_equal(te_book_set_last_as_of(b, "pf", 11), 0);
        assert_int_equal(te_book_order_count(b), 0);
        assert_int_equal(te_book_dropped_count(b), 1);
        assert_int_equal(te_book_has_order(b, "d1-0"), 1); /* tombstone */
        assert_true(te_book_position(b, "pf", "AAA") == 5);
        te_book_destroy(b);
}

/* What is dropped at a later target: terminal orders only — not live ones, not one
 * whose CANCEL was sent but not confirmed (it may still fill), not another
 * portfolio's. */
typedef struct keep_case_s {
        const char *name;
        te_order_status_t status; /* after the reports below */
        double cum;
        int cancel_sent;
        int dropped;
} keep_case_t;

static const keep_case_t keep_cases[] = {
    {"pending new", TE_OS_PENDING_NEW, 0, 0, 0},
    {"working", TE_OS_NEW, 0, 0, 0},
    {"partially filled", TE_OS_PARTIALLY_FILLED, 4, 0, 0},
    {"cancel sent, not confirmed", TE_OS_NEW, 0, 1, 0},
    {"pending cancel", TE_OS_PENDING_CANCEL, 0, 1, 0},
    {"filled", TE_OS_FILLED, 10, 0, 1},
    {"partially filled then cancelled", TE_OS_CANCELED, 4, 1, 1},
    {"rejected", TE_OS_REJECTED, 0, 0, 1},
    {"expired", TE_OS_EXPIRED, 0, 0, 1},
};

static void test_book_prune_terminal_only(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof keep_cases / sizeof keep_cases[0]; i++) {
                const keep_case_t *c = &keep_cases[i];
                print_message("case %s\n", c->name);
                te_book_t *b = te_book_new();
                assert_int_equal(te_book_set_last_as_of(b, "pf", 1), 0);
                assert_int_equal(te_book_set_last_as_of(b, "other", 1), 0);
                assert_int_equal(te_book_add_order(b, "o", "pf", "AAA", TE_SIDE_BUY, 10,
                                                   0, TE_OS_PENDING_NEW),
                                 0);
                assert_int_equal(te_book_add_order(b, "x", "other", "AAA", TE_SIDE_BUY,
                                                   10, 0, TE_OS_PENDING_NEW),
                                 0);
                assert_int_equal(fill(b, "x", "other", "AAA", TE_SIDE_BUY, 10),
                                 TE_BOOK_APPLIED);
                if (c->cancel_sent)
                        assert_int_equal(te_book_mark_cancel(b, "o"), 0);
                if (c->status != TE_OS_PENDING_NEW) {
                        te_exec_report_t r =
                            priced("o", "pf", "AAA", TE_SIDE_BUY, TE_EXEC_ACK, c->status,
                                   c->cum, 10 - c->cum);
                        assert_int_equal(te_book_apply_report(b, &r), TE_BOOK_APPLIED);
                }
                assert_int_equal(te_book_set_last_as_of(b, "pf", 2), 0);
                assert_int_equal(te_book_dropped_count(b), c->dropped);
                assert_int_equal(te_book_order_count(b), 2 - c->dropped);
                assert_int_equal(te_book_has_order(b, "o"), 1);
                assert_int_equal(te_book_has_order(b, "x"), 1); /* other portfolio */
                assert_true(te_book_position(b, "pf", "AAA") == c->cum);
                /* a report of a kept order still applies; of a dropped one, nothing */
                te_exec_report_t f = priced("o", "pf", "AAA", TE_SIDE_BUY, TE_EXEC_FILL,
                                            TE_OS_FILLED, 10, 0);
                assert_int_equal(te_book_apply_report(b, &f),
                                 c->dropped ? TE_BOOK_DUPLICATE : TE_BOOK_APPLIED);
                assert_true(te_book_position(b, "pf", "AAA") ==
                            (c->dropped ? c->cum : 10));
                te_book_destroy(b);
        }
}

/* A portfolio with no as_of yet (its orders came from the DB and no history said which
 * target they belong to) drops nothing at its first target: that target may be one of
 * theirs, planned again. Learned history counts as an as_of. */
static void test_book_prune_first_target_keeps_loaded(void **state)
{
        (void)state;
        te_book_t *b = te_book_new();
        assert_int_equal(
            te_book_add_order(b, "db-1", "pf", "AAA", TE_SIDE_BUY, 3, 3, TE_OS_FILLED),
            0);
        assert_int_equal(
            te_book_add_order(b, "db-2", "pf2", "AAA", TE_SIDE_BUY, 3, 3, TE_OS_FILLED),
            0);
        assert_int_equal(te_book_learn_as_of(b, "pf2", 50), 0);
        assert_int_equal(te_book_set_last_as_of(b, "pf", 100), 0);
        assert_int_equal(te_book_set_last_as_of(b, "pf2", 100), 0);
        assert_int_equal(te_book_has_order(b, "db-1"), 1);
        assert_int_equal(te_book_order_count(b), 1); /* db-2 dropped: after 50 */
        assert_int_equal(te_book_tombstone_count(b), 1);
        assert_int_equal(te_book_set_last_as_of(b, "pf", 101), 0);
        assert_int_equal(te_book_order_count(b), 0);
        te_book_destroy(b);
}

/* A late duplicate of a dropped order's report moves nothing and is not learned as a
 * new order while its tombstone lasts; the tombstones keep the newest `cap` ids. Past
 * that bound the report would be learned again (the documented limit). */
static void test_book_prune_tombstones(void **state)
{
        (void)state;
        te_book_t *b = te_book_new();
        char oid[32];
        assert_int_equal(te_book_set_tombstones(b, 3), 0);
        for (int t = 0; t < 5; t++) {
                assert_int_equal(te_book_set_last_as_of(b, "pf", t), 0);
                snprintf(oid, sizeof oid, "o%d", t);
                assert_int_equal(te_book_add_order(b, oid, "pf", "AAA", TE_SIDE_BUY, 2, 0,
                                                   TE_OS_PENDING_NEW),
                                 0);
                assert_int_equal(fill(b, oid, "pf", "AAA", TE_SIDE_BUY, 2),
                                 TE_BOOK_APPLIED);
        }
        assert_int_equal(te_book_set_last_as_of(b, "pf", 5), 0);
        /* o0..o4 dropped; tombstones o2, o3, o4 */
        assert_int_equal(te_book_order_count(b), 0);
        assert_int_equal(te_book_tombstone_count(b), 3);
        assert_true(te_book_position(b, "pf", "AAA") == 10);
        static const struct {
                const char *id;
                int known;
        } ids[] = {{"o0", 0}, {"o1", 0}, {"o2", 1}, {"o3", 1}, {"o4", 1}};
        for (size_t i = 0; i < 5; i++)
                assert_int_equal(te_book_has_order(b, ids[i].id), ids[i].known);
        assert_int_equal(fill(b, "o3", "pf", "AAA", TE_SIDE_BUY, 2), TE_BOOK_DUPLICATE);
        assert_true(te_book_position(b, "pf", "AAA") == 10);
        assert_int_equal(te_book_order_count(b), 0);
        /* adding a dropped id again (a command read back) keeps it dropped */
        assert_int_equal(
            te_book_add_order(b, "o4", "pf", "AAA", TE_SIDE_BUY, 2, 0, TE_OS_PENDING_NEW),
            0);
        assert_int_equal(te_book_order_count(b), 0);
        assert_true(te_book_open_qty(b, "pf", "AAA") == 0);
        /* shrinking keeps the newest */
        assert_int_equal(te_book_set_tombstones(b, 1), 0);
        assert_int_equal(te_book_tombstone_count(b), 1);
        assert_int_equal(te_book_has_order(b, "o3"), 0);
        assert_int_equal(te_book_has_order(b, "o4"), 1);
        /* beyond the bound: the duplicate is learned again and moves the position */
        assert_int_equal(fill(b, "o0", "pf", "AAA", TE_SIDE_BUY, 2), TE_BOOK_APPLIED);
        assert_true(te_book_position(b, "pf", "AAA") == 12);
        /* no tombstones at all */
        assert_int_equal(te_book_set_tombstones(b, 0), 0);
        assert_int_equal(te_book_tombstone_count(b), 0);
        assert_int_equal(te_book_set_last_as_of(b, "pf", 6), 0);
        assert_int_equal(te_book_order_count(b), 0);
        assert_int_equal(te_book_tombstone_count(b), 0);
        te_book_destroy(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_book_prune_bounded_over_a_long_run),
            cmocka_unit_test(test_book_prune_same_as_of_keeps),
            cmocka_unit_test(test_book_prune_terminal_only),
            cmocka_unit_test(test_book_prune_first_target_keeps_loaded),
            cmocka_unit_test(test_book_prune_tombstones),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
