/*
 * te_dlog: offsets are handed out only once everything produced for them (and before
 * them) is delivered, per partition, in order; bad pushes change nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "te_dlog.h"

static void reset(int64_t *next)
{
        for (int i = 0; i < TE_DLOG_MAX_PARTS; i++)
                next[i] = -1;
}

static void test_settle_waits_for_delivery(void **state)
{
        (void)state;
        static int64_t next[TE_DLOG_MAX_PARTS];
        te_dlog_t *d = te_dlog_new();
        assert_non_null(d);
        assert_int_equal(te_dlog_push(d, 0, 10, 1), 0); /* its report is message 1 */
        assert_int_equal(te_dlog_push(d, 1, 5, 3), 0);  /* reports 2 and 3 */
        assert_int_equal(te_dlog_push(d, 0, 11, 3), 0); /* produced nothing more */
        assert_int_equal(te_dlog_push(d, 0, 12, 4), 0);
        assert_int_equal(te_dlog_count(d), 4);

        reset(next);
        assert_int_equal(te_dlog_settle(d, 0, next), 0); /* nothing delivered */
        assert_int_equal(next[0], -1);
        assert_int_equal(next[1], -1);

        assert_int_equal(te_dlog_settle(d, 2, next), 1); /* message 3 not yet */
        assert_int_equal(next[0], 11);
        assert_int_equal(next[1], -1);
        assert_int_equal(te_dlog_count(d), 3);

        reset(next);
        assert_int_equal(te_dlog_settle(d, 3, next), 2);
        assert_int_equal(next[0], 12);
        assert_int_equal(next[1], 6);
        assert_int_equal(te_dlog_count(d), 1);

        reset(next);
        assert_int_equal(te_dlog_settle(d, 100, next), 1);
        assert_int_equal(next[0], 13);
        assert_int_equal(next[1], -1);
        assert_int_equal(te_dlog_count(d), 0);
        assert_int_equal(te_dlog_settle(d, 100, next), 0);
        te_dlog_destroy(d);
}

static void test_bad_pushes_change_nothing(void **state)
{
        (void)state;
        static int64_t next[TE_DLOG_MAX_PARTS];
        te_dlog_t *d = te_dlog_new();
        assert_non_null(d);
        assert_int_equal(te_dlog_push(d, 2, 7, 5), 0);
        assert_int_equal(te_dlog_push(d, 2, 7, 6), -1);  /* offset not after 7 */
        assert_int_equal(te_dlog_push(d, 2, 6, 6), -1);  /* going back */
        assert_int_equal(te_dlog_push(d, 3, 1, 4), -1);  /* seq decreasing */
        assert_int_equal(te_dlog_push(d, -1, 1, 6), -1); /* partition out of range */
        assert_int_equal(te_dlog_push(d, TE_DLOG_MAX_PARTS, 1, 6), -1);
        assert_int_equal(te_dlog_push(d, 3, -1, 6), -1); /* no offset */
        assert_int_equal(te_dlog_count(d), 1);
        reset(next);
        assert_int_equal(te_dlog_settle(d, 5, next), 1);
        assert_int_equal(next[2], 8);
        assert_int_equal(next[3], -1);
        te_dlog_destroy(d);
}

static void test_clear_forgets_partitions(void **state)
{
        (void)state;
        static int64_t next[TE_DLOG_MAX_PARTS];
        te_dlog_t *d = te_dlog_new();
        assert_non_null(d);
        assert_int_equal(te_dlog_push(d, 0, 50, 9), 0);
        te_dlog_clear(d);
        assert_int_equal(te_dlog_count(d), 0);
        reset(next);
        assert_int_equal(te_dlog_settle(d, 100, next), 0);
        assert_int_equal(next[0], -1);
        /* after a rebalance the committed offset may be behind what was read */
        assert_int_equal(te_dlog_push(d, 0, 40, 2), 0);
        assert_int_equal(te_dlog_settle(d, 2, next), 1);
        assert_int_equal(next[0], 41);
        te_dlog_destroy(d);
        te_dlog_destroy(NULL);
}

/* Many entries over several partitions (the ring grows and wraps): settling at random
 * delivered points hands out, per partition, exactly the offset after the last entry
 * whose seq is delivered, as a direct recount says. */
static void test_random_against_recount(void **state)
{
        (void)state;
        enum { N = 5000, PARTS = 7 };
        static int32_t part[N];
        static int64_t off[N];
        static uint64_t seq[N];
        static int64_t next[TE_DLOG_MAX_PARTS], want[TE_DLOG_MAX_PARTS];
        int64_t last[PARTS];
        for (int p = 0; p < PARTS; p++)
                last[p] = 0;
        srand(42);
        te_dlog_t *d = te_dlog_new();
        assert_non_null(d);
        uint64_t s = 0, delivered = 0;
        size_t settled = 0, pushed = 0;
        while (settled < N) {
                if (pushed < N && rand() % 3 != 0) {
                        part[pushed] = rand() % PARTS;
                        off[pushed] = last[part[pushed]] += 1 + rand() % 3;
                        s += (uint64_t)(rand() % 3);
                        seq[pushed] = s;
                        assert_int_equal(
                            te_dlog_push(d, part[pushed], off[pushed], seq[pushed]), 0);
                        pushed++;
                        continue;
                }
                if (delivered < s)
                        delivered += (uint64_t)(rand() % 4);
                if (pushed == N)
                        delivered = s;
                reset(next);
                reset(want);
                size_t k = settled;
                while (k < pushed && seq[k] <= delivered) {
                        want[part[k]] = off[k] + 1;
                        k++;
                }
                assert_int_equal(te_dlog_settle(d, delivered, next), k - settled);
                for (int p = 0; p < PARTS; p++)
                        assert_int_equal(next[p], want[p]);
                settled = k;
                assert_int_equal(te_dlog_count(d), pushed - settled);
        }
        te_dlog_destroy(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_settle_waits_for_delivery),
            cmocka_unit_test(test_bad_pushes_change_nothing),
            cmocka_unit_test(test_clear_forgets_partitions),
            cmocka_unit_test(test_random_against_recount),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
