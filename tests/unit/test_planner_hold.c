/*
 * test_planner_hold: the planner's held targets on their own (planner/planner_hold.h),
 * without Kafka or a planner: broker states per partition (only the planner's broker
 * counts, only UP/DOWN, one change at a time), which targets must be held, the latest
 * target per portfolio kept (an older as_of refused), the release of the partitions
 * that are UP again in arrival order, the reset on revoke. Held "messages" are small
 * heap objects; the free function counts them, so a leak or a double free shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "planner_hold.h"

typedef struct msg_s {
        int id;
} msg_t;

static int n_freed;

static void free_msg(void *v)
{
        n_freed++;
        free(v);
}

static msg_t *msg(int id)
{
        msg_t *m = malloc(sizeof *m);
        assert_non_null(m);
        m->id = id;
        return m;
}

static te_planner_hold_t *new_hold(void)
{
        n_freed = 0;
        te_planner_hold_t *h = te_planner_hold_new("sim", free_msg);
        assert_non_null(h);
        return h;
}

/* Hold `id` for portfolio `pf` (as_of `as_of`) on p/offset: must be held, no
 * replacement. */
static void put_new(te_planner_hold_t *h, int id, int32_t p, int64_t off, const char *pf,
                    int64_t as_of)
{
        void *old = (void *)1;
        int64_t held = -1;
        assert_int_equal(te_planner_hold_put(h, msg(id), p, off, pf, as_of, &old, &held),
                         1);
        assert_null(old);
}

static void test_broker_state(void **state)
{
        (void)state;
        te_planner_hold_t *h = new_hold();
        /* another broker, a state that is neither UP nor DOWN: nothing */
        assert_int_equal(te_planner_hold_broker_state(h, 3, "ibkr", "DOWN: socket"),
                         TE_PLANNER_HOLD_SAME);
        assert_int_equal(te_planner_hold_broker_state(h, 3, "sim", "SLOW"),
                         TE_PLANNER_HOLD_SAME);
        assert_int_equal(te_planner_hold_n_down(h), 0);
        assert_false(te_planner_hold_down(h, 3));
        assert_int_equal(te_planner_hold_broker_state(h, 3, "sim", "DOWN: socket"),
                         TE_PLANNER_HOLD_DOWN);
        /* the same state again is no change; a second partition counts */
        assert_int_equal(te_planner_hold_broker_state(h, 3, "sim", "DOWN: again"),
                         TE_PLANNER_HOLD_SAME);
        assert_int_equal(te_planner_hold_broker_state(h, 5, "sim", "DOWN"),
                         TE_PLANNER_HOLD_DOWN);
        assert_int_equal(te_planner_hold_n_down(h), 2);
        assert_true(te_planner_hold_down(h, 3) && te_planner_hold_down(h, 5));
        assert_false(te_planner_hold_down(h, 4));
        /* partitions outside the table are ignored, never indexed */
        assert_int_equal(te_planner_hold_broker_state(h, -1, "sim", "DOWN"),
                         TE_PLANNER_HOLD_SAME);
        assert_int_equal(
            te_planner_hold_broker_state(h, TE_PLANNER_HOLD_MAX_PARTS, "sim", "DOWN"),
            TE_PLANNER_HOLD_SAME);
        assert_false(te_planner_hold_down(h, TE_PLANNER_HOLD_MAX_PARTS));
        assert_int_equal(te_planner_hold_broker_state(h, 3, "sim", "UP: back"),
                         TE_PLANNER_HOLD_UP);
        assert_int_equal(te_planner_hold_n_down(h), 1);
        /* UP with nothing held there: no release due */
        assert_false(te_planner_hold_release_due(h));
        te_planner_hold_destroy(h);
        te_planner_hold_destroy(NULL);
}

static void test_must_and_put(void **state)
{
        (void)state;
        te_planner_hold_t *h = new_hold();
        assert_false(te_planner_hold_must(h, 1, "P1"));
        te_planner_hold_broker_state(h, 1, "sim", "DOWN");
        assert_true(te_planner_hold_must(h, 1, "P1"));
        assert_false(te_planner_hold_must(h, 2, "P2"));
        put_new(h, 10, 1, 100, "P1", 1000);
        assert_int_equal(te_planner_hold_count(h), 1);
        /* a later target replaces the held one, handed back to the caller */
        void *old = NULL;
        int64_t held = 0;
        msg_t *m11 = msg(11);
        assert_int_equal(te_planner_hold_put(h, m11, 1, 101, "P1", 2000, &old, &held), 1);
        assert_non_null(old);
        assert_int_equal(((msg_t *)old)->id, 10);
        free_msg(old);
        assert_int_equal(te_planner_hold_count(h), 1);
        /* an older one is refused and stays the caller's */
        msg_t *m12 = msg(12);
        assert_int_equal(te_planner_hold_put(h, m12, 1, 102, "P1", 1500, &old, &held), 0);
        assert_null(old);
        assert_int_equal(held, 2000);
        free_msg(m12);
        /* once the broker is UP, a portfolio with a held target is still held (its
         * later targets wait behind it) until the release */
        assert_int_equal(te_planner_hold_broker_state(h, 1, "sim", "UP"),
                         TE_PLANNER_HOLD_UP);
        assert_true(te_planner_hold_release_due(h));
        assert_true(te_planner_hold_must(h, 1, "P1"));
        assert_false(te_planner_hold_must(h, 1, "P9"));
        n_freed = 0;
        te_planner_hold_destroy(h); /* frees the held message */
        assert_int_equal(n_freed, 1);
}

static void test_release_order(void **state)
{
        (void)state;
        te_planner_hold_t *h = new_hold();
        te_planner_hold_broker_state(h, 1, "sim", "DOWN");
        te_planner_hold_broker_state(h, 2, "sim", "DOWN");
        put_new(h, 27, 2, 7, "A", 1);
        put_new(h, 23, 2, 3, "B", 1);
        put_new(h, 19, 1, 9, "C", 1);
        put_new(h, 25, 2, 5, "D", 1);
        assert_int_equal(te_planner_hold_count(h), 4);
        te_planner_hold_broker_state(h, 2, "sim", "UP");
        assert_true(te_planner_hold_release_due(h));
        size_t n = 0;
        assert_int_equal(te_planner_hold_take_begin(h, &n), 0);
        assert_false(te_planner_hold_release_due(h));
        assert_int_equal(n, 3); /* partition 1 is still down */
        int want[] = {23, 25, 27};
        for (size_t i = 0; i < 3; i++) {
                msg_t *m = te_planner_hold_take_next(h);
                assert_non_null(m);
                assert_int_equal(m->id, want[i]);
                /* out of the set as soon as taken: planning it may hold it again */
                assert_int_equal(te_planner_hold_count(h), 3 - i);
                free_msg(m);
        }
        assert_null(te_planner_hold_take_next(h));
        te_planner_hold_take_end(h);
        assert_int_equal(te_planner_hold_count(h), 1);
        assert_false(te_planner_hold_must(h, 2, "A"));
        assert_true(te_planner_hold_must(h, 1, "C"));
        /* partition 1 comes back: the caller stops after the first; the rest stays */
        put_new(h, 18, 1, 8, "E", 1);
        te_planner_hold_broker_state(h, 1, "sim", "UP");
        assert_int_equal(te_planner_hold_take_begin(h, &n), 0);
        assert_int_equal(n, 2);
        msg_t *m = te_planner_hold_take_next(h);
        assert_int_equal(m->id, 18);
        free_msg(m);
        te_planner_hold_take_end(h);
        assert_int_equal(te_planner_hold_count(h), 1);
        assert_true(te_planner_hold_must(h, 1, "C"));
        assert_null(te_planner_hold_take_next(h)); /* ended: nothing more handed out */
        n_freed = 0;
        te_planner_hold_destroy(h);
        assert_int_equal(n_freed, 1);
}

static void test_reset(void **state)
{
        (void)state;
        te_planner_hold_t *h = new_hold();
        te_planner_hold_broker_state(h, 0, "sim", "DOWN");
        put_new(h, 1, 0, 1, "A", 1);
        put_new(h, 2, 0, 2, "B", 1);
        n_freed = 0;
        assert_int_equal(te_planner_hold_reset(h), 0);
        assert_int_equal(n_freed, 2);
        assert_int_equal(te_planner_hold_count(h), 0);
        assert_int_equal(te_planner_hold_n_down(h), 0);
        assert_false(te_planner_hold_must(h, 0, "A"));
        /* nothing taken after a reset, and the set is usable again */
        size_t n = 1;
        assert_int_equal(te_planner_hold_take_begin(h, &n), 0);
        assert_int_equal(n, 0);
        assert_null(te_planner_hold_take_next(h));
        te_planner_hold_broker_state(h, 0, "sim", "DOWN");
        put_new(h, 3, 0, 3, "A", 1);
        assert_int_equal(te_planner_hold_reset(NULL), 0);
        n_freed = 0;
        te_planner_hold_destroy(h);
        assert_int_equal(n_freed, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_broker_state),
            cmocka_unit_test(test_must_and_put),
            cmocka_unit_test(test_release_order),
            cmocka_unit_test(test_reset),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
