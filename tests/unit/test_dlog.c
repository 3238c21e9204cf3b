/*
 * te_dlog, the offsets ledger (the planner's targets in flight are tested through it
 * in test_target_queue): a partition's position moves only past finished messages
 * whose answers are delivered, in order; bad calls change nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "te_dlog.h"

/* consumed and finished at once, as the broker worker does */
static void finish(te_dlog_t *d, int32_t p, int64_t off, uint64_t seq)
{
        assert_int_equal(te_dlog_consumed(d, p, off), 0);
        assert_int_equal(te_dlog_done(d, p, off, seq), 0);
}

static void test_committable_waits_for_delivery(void **state)
{
        (void)state;
        te_dlog_t *d = te_dlog_new();
        assert_non_null(d);
        finish(d, 0, 10, 1); /* its report is message 1 */
        finish(d, 1, 5, 3);  /* reports 2 and 3 */
        finish(d, 0, 11, 3); /* produced nothing more */
        finish(d, 0, 12, 4);
        assert_int_equal(te_dlog_total(d), 4);

        assert_int_equal(te_dlog_committable(d, 0, 0), -1); /* nothing delivered */
        assert_int_equal(te_dlog_committable(d, 1, 0), -1);

        assert_int_equal(te_dlog_committable(d, 0, 2), 11); /* 11 needs only message 1 */
        assert_int_equal(te_dlog_committable(d, 1, 2), -1); /* message 3 not yet */
        assert_int_equal(te_dlog_total(d), 3);

        assert_int_equal(te_dlog_committable(d, 0, 3), 12);
        assert_int_equal(te_dlog_committable(d, 1, 3), 6);
        assert_int_equal(te_dlog_count(d, 0), 1);
        assert_int_equal(te_dlog_count(d, 1), 0);

        assert_int_equal(te_dlog_committable(d, 0, 100), 13);
        assert_int_equal(te_dlog_committable(d, 0, 100), -1);
        assert_int_equal(te_dlog_total(d), 0);
        te_dlog_destroy(d);
}

/* A message not finished yet holds its partition back, however much is delivered, and
 * only its partition. */
static void test_unfinished_holds_its_partition(void **state)
{
        (void)state;
        te_dlog_t *d = te_dlog_new();
        assert_non_null(d);
        assert_int_equal(te_dlog_consumed(d, 4, 20), 0);
        finish(d, 4, 21, 1);
        finish(d, 5, 7, 2);
        assert_int_equal(te_dlog_committable(d, 4, 100), -1);
        assert_int_equal(te_dlog_committable(d, 5, 100), 8);
        assert_int_equal(te_dlog_done(d, 4, 20, 3), 0); /* finished after 21 */
        assert_int_equal(te_dlog_committable(d, 4, 2), -1);
        assert_int_equal(te_dlog_committable(d, 4, 3), 22);
        te_dlog_destroy(d);
}

/* te_dlog_first: the oldest offset still held (the broker worker's replay floor). */
static void test_first_is_the_oldest_held(void **state)
{
        (void)state;
        te_dlog_t *d = te_dlog_new();
        assert_non_null(d);
        assert_int_equal(te_dlog_first(d, 2), -1);
        assert_int_equal(te_dlog_first(d, -1), -1);
        assert_int_equal(te_dlog_first(d, TE_DLOG_MAX_PARTS), -1);
        finish(d, 2, 7, 1);
        assert_int_equal(te_dlog_consumed(d, 2, 9), 0); /* a resting order */
        finish(d, 2, 12, 2);
        assert_int_equal(te_dlog_first(d, 2), 7);
        assert_int_equal(te_dlog_committable(d, 2, 5), 8);
        assert_int_equal(te_dlog_first(d, 2), 9);
        assert_int_equal(te_dlog_done(d, 2, 9, 3), 0);
        assert_int_equal(te_dlog_committable(d, 2, 2), -1); /* 9 waits for message 3 */
        assert_int_equal(te_dlog_first(d, 2), 9);
        assert_int_equal(te_dlog_committable(d, 2, 3), 13);
        assert_int_equal(te_dlog_first(d, 2), -1);
        for (int64_t o = 100; o < 300; o++) /* across a ring growth and wrap */
                finish(d, 2, o, 4);
        assert_int_equal(te_dlog_committable(d, 2, 4), 300);
        for (int64_t o = 300; o < 340; o++)
                finish(d, 2, o, 5);
        assert_int_equal(te_dlog_first(d, 2), 300);
        te_dlog_destroy(d);
}

static void test_bad_calls_change_nothing(void **state)
{
        (void)state;
        te_dlog_t *d = te_dlog_new();
        assert_non_null(d);
        finish(d, 2, 7, 5);
        assert_int_equal(te_dlog_consumed(d, 2, 7), -1); /* offset not after 7 */
        assert_int_equal(te_dlog_consumed(d, 2, 6), -1); /* going back */
        assert_int_equal(te_dlog_consumed(d, -1, 1), -1);
        assert_int_equal(te_dlog_consumed(d, TE_DLOG_MAX_PARTS, 1), -1);
        assert_int_equal(te_dlog_done(d, 2, 7, 6), -1); /* finished twice */
        assert_int_equal(te_dlog_done(d, 2, 8, 6), -1); /* never consumed */
        assert_int_equal(te_dlog_done(d, 3, 7, 6), -1);
        assert_int_equal(te_dlog_done(d, TE_DLOG_MAX_PARTS, 7, 6), -1);
        assert_int_equal(te_dlog_committable(d, -1, 9), -1);
        assert_int_equal(te_dlog_count(d, TE_DLOG_MAX_PARTS), 0);
        assert_int_equal(te_dlog_total(d), 1);
        assert_int_equal(te_dlog_committable(d, 2, 5), 8); /* its seq is still 5 */
        te_dlog_destroy(d);
}

static void test_clear_forgets_partitions(void **state)
{
        (void)state;
        te_dlog_t *d = te_dlog_new();
        assert_non_null(d);
        finish(d, 0, 50, 9);
        assert_int_equal(te_dlog_consumed(d, 1, 3), 0);
        te_dlog_clear(d);
        assert_int_equal(te_dlog_total(d), 0);
        assert_int_equal(te_dlog_count(d, 0), 0);
        assert_int_equal(te_dlog_committable(d, 0, 100), -1);
        /* after a rebalance the committed offset may be behind what was read */
        finish(d, 0, 40, 2);
        assert_int_equal(te_dlog_committable(d, 0, 2), 41);
        te_dlog_destroy(d);
        te_dlog_destroy(NULL);
}

/* Many messages over several partitions (the rings grow and wrap), finished in a random
 * order: at random delivered points each partition's committable offset is exactly the
 * one after its longest finished-and-delivered prefix, as a direct recount says. */
static void test_random_against_recount(void **state)
{
        (void)state;
        enum { N = 5000, PARTS = 7 };
        static int32_t part[N];
        static int64_t off[N];
        static uint64_t seq[N];
        static int done[N], gone[N];
        int64_t last[PARTS];
        for (int p = 0; p < PARTS; p++)
                last[p] = 0;
        srand(42);
        te_dlog_t *d = te_dlog_new();
        assert_non_null(d);
        uint64_t s = 0, delivered = 0;
        size_t consumed = 0, left = 0;
        for (int round = 0; round < 20 * N && (consumed < N || left > 0); round++) {
                int r = rand() % 4;
                if (r == 0 && consumed < N) {
                        size_t i = consumed++;
                        part[i] = rand() % PARTS;
                        off[i] = last[part[i]] += 1 + rand() % 3;
                        assert_int_equal(te_dlog_consumed(d, part[i], off[i]), 0);
                        left++;
                } else if (r == 1 && consumed > 0) {
                        size_t i = (size_t)rand() % consumed;
                        if (done[i] || gone[i])
                                continue;
                        s += (uint64_t)(rand() % 3);
                        seq[i] = s;
                        done[i] = 1;
                        assert_int_equal(te_dlog_done(d, part[i], off[i], seq[i]), 0);
                } else {
                        if (delivered < s)
                                delivered += (uint64_t)(rand() % 4);
                        int32_t p = rand() % PARTS;
                        int64_t want = -1;
                        for (size_t i = 0; i < consumed; i++) { /* offset order */
                                if (part[i] != p || gone[i])
                                        continue;
                                if (!done[i] || seq[i] > delivered)
                                        break;
                                want = off[i] + 1;
                                gone[i] = 1;
                                left--;
                        }
                        assert_int_equal(te_dlog_committable(d, p, delivered), want);
                }
                if (consumed == N) /* finish the rest */
                        for (size_t i = 0; i < N; i++)
                                if (!done[i] && !gone[i]) {
                                        done[i] = 1;
                                        seq[i] = s;
                                        assert_int_equal(
                                            te_dlog_done(d, part[i], off[i], s), 0);
                                }
                if (consumed == N)
                        delivered = s;
                assert_int_equal(te_dlog_total(d), left);
        }
        assert_int_equal(left, 0);
        te_dlog_destroy(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_committable_waits_for_delivery),
            cmocka_unit_test(test_unfinished_holds_its_partition),
            cmocka_unit_test(test_first_is_the_oldest_held),
            cmocka_unit_test(test_bad_calls_change_nothing),
            cmocka_unit_test(test_clear_forgets_partitions),
            cmocka_unit_test(test_random_against_recount),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
