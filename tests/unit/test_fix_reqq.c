/*
 * test_fix_reqq: the FIX adapter's request FIFOs, rate window and sent ring
 * (brokers/fix_reqq.c): status requests first, then cancels, then the rest; only
 * status requests while reconciling; no more than max_per_sec within 1000 ms; a full
 * FIFO refuses; the ring answers for the last TE_FIX_REQQ_SENT numbers only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fix_reqq.h"

/* Take what may leave at `now` and return it as "kind:order_id ..." */
static const char *drain(te_fix_reqq_t *q, int64_t now, int only_status)
{
        static char out[256];
        te_fix_req_t r;
        out[0] = '\0';
        while (te_fix_reqq_next(q, now, only_status, &r)) {
                size_t n = strlen(out);
                snprintf(out + n, sizeof out - n, "%s%c:%s", n ? " " : "", r.kind,
                         r.order_id);
        }
        return out;
}

static void test_fix_reqq_order_and_rate(void **state)
{
        (void)state;
        assert_null(te_fix_reqq_new(0));
        assert_null(te_fix_reqq_new(TE_FIX_REQQ_RATE_MAX + 1));
        te_fix_reqq_t *q = te_fix_reqq_new(3);
        assert_non_null(q);
        assert_int_equal(te_fix_reqq_push(q, TE_FIX_Q_NORMAL, "A", 'D'), 0);
        assert_int_equal(te_fix_reqq_push(q, TE_FIX_Q_NORMAL, "B", 'G'), 0);
        assert_int_equal(te_fix_reqq_push(q, TE_FIX_Q_URGENT, "C", 'F'), 0);
        assert_int_equal(te_fix_reqq_push(q, TE_FIX_Q_STATUS, "E", 'H'), 0);
        /* reconciling: only the status request */
        assert_string_equal(drain(q, 0, 1), "H:E");
        /* then the cancel first, and 3 per second in all */
        assert_string_equal(drain(q, 10, 0), "F:C D:A");
        assert_string_equal(drain(q, 999, 0), "");
        /* the status request of t=0 leaves the window at t=1000 */
        assert_string_equal(drain(q, 1000, 0), "G:B");
        assert_int_equal(te_fix_reqq_queued(q, TE_FIX_Q_NORMAL), 0);
        /* clear */
        assert_int_equal(te_fix_reqq_push(q, TE_FIX_Q_STATUS, "X", 'H'), 0);
        te_fix_reqq_clear(q, TE_FIX_Q_STATUS);
        assert_string_equal(drain(q, 5000, 1), "");
        te_fix_reqq_destroy(q);
        te_fix_reqq_destroy(NULL);
}

static void test_fix_reqq_full(void **state)
{
        (void)state;
        te_fix_reqq_t *q = te_fix_reqq_new(1000);
        for (int i = 0; i < TE_FIX_REQQ_MAX; i++)
                assert_int_equal(te_fix_reqq_push(q, TE_FIX_Q_URGENT, "O", 'F'), 0);
        assert_int_equal(te_fix_reqq_push(q, TE_FIX_Q_URGENT, "O", 'F'), -1);
        assert_int_equal(te_fix_reqq_push(q, TE_FIX_Q_NORMAL, "O", 'D'), 0);
        te_fix_reqq_destroy(q);
}

static void test_fix_reqq_sent_ring(void **state)
{
        (void)state;
        te_fix_reqq_t *q = te_fix_reqq_new(10);
        assert_null(te_fix_reqq_by_seq(q, 0));
        assert_null(te_fix_reqq_by_seq(q, 7));
        te_fix_reqq_sent(q, 7, "O7", 'D');
        const te_fix_req_t *r = te_fix_reqq_by_seq(q, 7);
        assert_non_null(r);
        assert_string_equal(r->order_id, "O7");
        assert_true(r->kind == 'D');
        /* a number TE_FIX_REQQ_SENT later takes the slot: the old one is forgotten */
        te_fix_reqq_sent(q, 7 + TE_FIX_REQQ_SENT, "O8", 'F');
        assert_null(te_fix_reqq_by_seq(q, 7));
        assert_string_equal(te_fix_reqq_by_seq(q, 7 + TE_FIX_REQQ_SENT)->order_id, "O8");
        /* a sequence reset forgets every sent message */
        te_fix_reqq_sent(q, 3, "O3", 'G');
        te_fix_reqq_forget_sent(q);
        assert_null(te_fix_reqq_by_seq(q, 3));
        assert_null(te_fix_reqq_by_seq(q, 7 + TE_FIX_REQQ_SENT));
        te_fix_reqq_sent(q, 3, "N3", 'D');
        assert_string_equal(te_fix_reqq_by_seq(q, 3)->order_id, "N3");
        te_fix_reqq_destroy(q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fix_reqq_order_and_rate),
            cmocka_unit_test(test_fix_reqq_full),
            cmocka_unit_test(test_fix_reqq_sent_ring),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
