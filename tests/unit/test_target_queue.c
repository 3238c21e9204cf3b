/*
 * test_target_queue: the pipelined TRAINING clock barrier's bookkeeping without Kafka
 * (planner/target_queue.h): several portfolios' CLOCKs outstanding at once, ACKs in any
 * order, each portfolio's targets planned in their order, commit offsets that never
 * pass a target still in flight or one whose messages are not delivered, planned
 * as_ofs handed out only once delivered, the targets of a partition gone DOWN taken
 * out, overdue ACK alerts.
 *
 * The driver below does what planner_target.c does with the queue: a target of a busy
 * portfolio queues, any other sends its CLOCK (te_target_queue_wait); an ACK plans the
 * target (a "message" numbered by a counter, like te_producer_sent_seq), finishes it in
 * the ledger and moves on to the next of its portfolio.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "target_queue.h"

#define MAX_T 256

typedef struct drv_s {
        te_target_queue_t *q;
        uint64_t sent; /* messages "sent" so far (sequence numbers) */
        /* per target index: planned (order of planning), its seq */
        int planned_rank[MAX_T];
        int n_planned;
        int64_t order_of[MAX_T]; /* planning order -> target offset */
} drv_t;

static void clock_of(char *out, size_t n, const char *pf, int64_t as_of)
{
        char t[24];
        snprintf(t, sizeof t, "%lld", (long long)as_of);
        out[0] = '\0';
        strncat(out, "c-", n - 1);
        strncat(out, pf, n - 1 - strlen(out));
        strncat(out, "-", n - 1 - strlen(out));
        strncat(out, t, n - 1 - strlen(out));
}

static void drv_init(drv_t *d)
{
        memset(d, 0, sizeof *d);
        d->q = te_target_queue_new();
        assert_non_null(d->q);
        for (int i = 0; i < MAX_T; i++)
                d->planned_rank[i] = -1;
}

/* The first target of its lane: send its CLOCK (one message). */
static void drv_clock(drv_t *d, te_target_queue_item_t *it, int64_t now)
{
        char id[TE_ID_MAX];
        clock_of(id, sizeof id, it->tp.ids.portfolio_id, it->tp.as_of);
        d->sent++;
        assert_int_equal(te_target_queue_wait(d->q, it, id, now, 1000), 0);
}

/* Target at `offset` (as_of = 1000 + offset) of portfolio `pf` on `partition`. */
static void drv_consume(drv_t *d, const char *pf, int32_t partition, int64_t offset)
{
        assert_int_equal(te_target_queue_consumed(d->q, partition, offset), 0);
        te_target_queue_item_t *it = te_target_queue_item_new(d->q);
        assert_non_null(it);
        it->partition = partition;
        it->offset = offset;
        it->tp.as_of = 1000 + offset;
        snprintf(it->tp.ids.portfolio_id, sizeof it->tp.ids.portfolio_id, "%s", pf);
        it->msg = it; /* any non-NULL */
        if (te_target_queue_busy(d->q, pf))
                te_target_queue_queue(d->q, it);
        else
                drv_clock(d, it, 0);
}

/* An ACK for portfolio `pf`'s CLOCK at `as_of`: @returns the planned target's offset,
 * or -1 if nothing waited for it. `orders`: messages its plan sends. */
static int64_t drv_ack(drv_t *d, const char *pf, int64_t as_of, int orders)
{
        char id[TE_ID_MAX];
        clock_of(id, sizeof id, pf, as_of);
        te_target_queue_item_t *it = te_target_queue_ack(d->q, id);
        if (!it)
                return -1;
        int64_t off = it->offset;
        d->sent += (uint64_t)orders;
        assert_true(off >= 0 && off < MAX_T);
        assert_int_equal(d->planned_rank[off], -1);
        d->planned_rank[off] = d->n_planned;
        d->order_of[d->n_planned++] = off;
        assert_int_equal(te_target_queue_done(d->q, it->partition, off, d->sent), 0);
        assert_int_equal(te_target_queue_planned(d->q, pf, it->tp.as_of, d->sent), 0);
        te_target_queue_item_t *next = te_target_queue_pop(d->q, it);
        te_target_queue_item_free(d->q, it);
        if (next)
                drv_clock(d, next, 0);
        return off;
}

static void drv_term(drv_t *d)
{
        te_target_queue_destroy(d->q, NULL);
}

/* One partition: A@0 B@1 A@2 C@3 B@4 A@5; ACKs out of order. */
typedef struct ack_step_s {
        const char *pf;
        int64_t as_of;
        int64_t expect_planned; /* -1: the ACK names no waiting target */
        size_t expect_waiting;
        int64_t expect_commit; /* te_target_queue_committable with everything delivered */
} ack_step_t;

static void test_tq_acks_out_of_order_keep_portfolio_order(void **state)
{
        (void)state;
        drv_t d;
        drv_init(&d);
        static const char *const pfs[] = {"A", "B", "A", "C", "B", "A"};
        for (int i = 0; i < 6; i++)
                drv_consume(&d, pfs[i], 0, i);
        /* A, B and C each have their first CLOCK out: three at once */
        assert_int_equal(te_target_queue_waiting(d.q), 3);
        assert_int_equal(te_target_queue_count(d.q), 6);
        static const ack_step_t steps[] = {
            {"A", 1002, -1, 3, -1}, /* A@2's CLOCK is not out yet (A@0 first) */
            {"Z", 1000, -1, 3, -1}, /* nobody's */
            {"C", 1003, 3, 2, -1},  /* C@3 planned; offset 0 still in flight */
            {"C", 1003, -1, 2, -1}, /* a repeated ACK */
            {"B", 1001, 1, 2, -1},  /* B@1 planned; B@4 sends its CLOCK */
            {"A", 1000, 0, 2, 2},   /* A@0 planned: 0 and 1 done, A@2 in flight */
            {"A", 1002, 2, 2, 4},   /* A@2 planned: 2, 3 done; B@4 in flight */
            {"A", 1005, 5, 1, -1},  /* A@5 planned; B@4 still holds the position */
            {"B", 1004, 4, 0, 6},   /* all done */
        };
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
                const ack_step_t *s = &steps[i];
                assert_int_equal(drv_ack(&d, s->pf, s->as_of, 1), s->expect_planned);
                assert_int_equal(te_target_queue_waiting(d.q), s->expect_waiting);
                assert_int_equal(te_target_queue_committable(d.q, 0, d.sent),
                                 s->expect_commit);
        }
        assert_int_equal(te_target_queue_count(d.q), 0);
        assert_int_equal(te_target_queue_ledger_count(d.q, 0), 0);
        /* planning order: C3 B1 A0 A2 A5 B4 — per portfolio in consumption order */
        static const int64_t order[] = {3, 1, 0, 2, 5, 4};
        assert_int_equal(d.n_planned, 6);
        for (int i = 0; i < 6; i++)
                assert_int_equal(d.order_of[i], order[i]);
        drv_term(&d);
}

/* The position waits for the deliveries of a finished target's messages. */
static void test_tq_commit_waits_for_delivery(void **state)
{
        (void)state;
        te_target_queue_t *q = te_target_queue_new();
        assert_non_null(q);
        for (int64_t off = 10; off < 14; off++)
                assert_int_equal(te_target_queue_consumed(q, 3, off), 0);
        assert_int_equal(te_target_queue_consumed(q, 3, 13), -1); /* not after the last */
        assert_int_equal(te_target_queue_consumed(q, TE_TARGET_QUEUE_MAX_PARTS, 0), -1);
        assert_int_equal(te_target_queue_done(q, 3, 11, 7), 0);
        assert_int_equal(te_target_queue_done(q, 3, 11, 7), -1); /* already finished */
        assert_int_equal(te_target_queue_done(q, 3, 42, 7), -1); /* unknown */
        assert_int_equal(te_target_queue_committable(q, 3, 100), -1); /* 10 in flight */
        assert_int_equal(te_target_queue_done(q, 3, 10, 5), 0);
        static const struct {
                uint64_t delivered;
                int64_t expect;
        } steps[] = {
            {4, -1},           /* 10's messages not all delivered */
            {5, 11},           /* 10 delivered; 11's (seq 7) not yet */
            {6, -1},  {7, 12}, /* 11 delivered, 12 in flight */
            {99, -1},
        };
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
                assert_int_equal(te_target_queue_committable(q, 3, steps[i].delivered),
                                 steps[i].expect);
        assert_int_equal(te_target_queue_ledger_count(q, 3), 2);
        assert_int_equal(te_target_queue_done(q, 3, 13, 9), 0);
        assert_int_equal(te_target_queue_committable(q, 3, 99), -1); /* 12 in flight */
        assert_int_equal(te_target_queue_done(q, 3, 12, 8), 0);
        assert_int_equal(te_target_queue_committable(q, 3, 99), 14);
        assert_int_equal(te_target_queue_committable(q, 2, 99),
                         -1); /* other partitions apart */
        te_target_queue_clear_ledger(q);
        assert_int_equal(te_target_queue_consumed(q, 3, 0), 0); /* a new assignment */
        te_target_queue_destroy(q, NULL);
}

static void test_tq_planned_only_once_delivered(void **state)
{
        (void)state;
        te_target_queue_t *q = te_target_queue_new();
        assert_non_null(q);
        const char *pf;
        int64_t as_of;
        uint64_t seq = 0;
        for (int i = 0; i < 300; i++) { /* past the first ring size */
                char id[16];
                snprintf(id, sizeof id, "p%d", i % 7);
                assert_int_equal(
                    te_target_queue_planned(q, id, 100 + i, (uint64_t)(2 * i + 1)), 0);
        }
        assert_int_equal(te_target_queue_pop_planned(q, 0, &pf, &as_of, &seq), 0);
        assert_int_equal(te_target_queue_pop_planned(q, 1, &pf, &as_of, &seq), 1);
        assert_string_equal(pf, "p0");
        assert_int_equal(as_of, 100);
        assert_int_equal(seq, 1);
        assert_int_equal(te_target_queue_pop_planned(q, 2, &pf, &as_of, &seq),
                         0); /* seq 3 */
        int n = 1;
        while (te_target_queue_pop_planned(q, 401, &pf, &as_of, &seq))
                assert_int_equal(as_of, 100 + n++);
        assert_int_equal(n, 201); /* seqs 1..401: the first 201 entries */
        assert_int_equal(te_target_queue_planned_count(q), 99);
        te_target_queue_clear_planned(q);
        assert_int_equal(te_target_queue_planned_count(q), 0);
        te_target_queue_destroy(q, NULL);
}

static int freed_msgs;
static void count_free(void *msg)
{
        (void)msg;
        freed_msgs++;
}

/* A partition's broker went DOWN: its portfolios' targets in flight come out in
 * their order; late ACKs for them name nothing. */
static void test_tq_take_partition(void **state)
{
        (void)state;
        drv_t d;
        drv_init(&d);
        drv_consume(&d, "A", 0, 0);
        drv_consume(&d, "B", 1, 0);
        drv_consume(&d, "A", 0, 1);
        drv_consume(&d, "C", 1, 1);
        drv_consume(&d, "B", 1, 2);
        assert_int_equal(te_target_queue_waiting(d.q), 3);
        te_target_queue_item_t *it = te_target_queue_take_partition(d.q, 1);
        char got[64] = "";
        int n = 0;
        while (it) {
                te_target_queue_item_t *next = te_target_queue_next(it);
                char one[24];
                snprintf(one, sizeof one, "%c%lld ", it->tp.ids.portfolio_id[0],
                         (long long)it->offset);
                strncat(got, one, sizeof got - 1 - strlen(got));
                te_target_queue_item_free(d.q, it);
                it = next;
                n++;
        }
        assert_int_equal(n, 3);
        /* lanes in any order, each in its order */
        assert_true(strcmp(got, "B0 B2 C1 ") == 0 || strcmp(got, "C1 B0 B2 ") == 0);
        assert_int_equal(te_target_queue_waiting(d.q), 1);
        assert_int_equal(te_target_queue_count(d.q), 2);
        assert_int_equal(drv_ack(&d, "B", 1000, 1), -1);
        assert_false(te_target_queue_busy(d.q, "B"));
        assert_true(te_target_queue_busy(d.q, "A"));
        assert_null(te_target_queue_take_partition(d.q, 5));
        /* the ledger of partition 1 still has them: never committed past */
        assert_int_equal(te_target_queue_committable(d.q, 1, 1000), -1);
        /* revoke: lanes dropped, each message released */
        freed_msgs = 0;
        te_target_queue_clear_lanes(d.q, count_free);
        assert_int_equal(freed_msgs, 2);
        assert_int_equal(te_target_queue_count(d.q), 0);
        assert_int_equal(te_target_queue_waiting(d.q), 0);
        assert_int_equal(drv_ack(&d, "A", 1000, 1), -1);
        drv_term(&d);
}

/* A target that cannot be planned now (a failed price lookup) is parked first in its
 * lane: its portfolio's later targets queue behind it, it waits for no clock, the
 * ledger is not committed past it, and once planned it is popped as usual. */
static void test_tq_park(void **state)
{
        (void)state;
        drv_t d;
        drv_init(&d);
        assert_int_equal(te_target_queue_consumed(d.q, 0, 0), 0);
        te_target_queue_item_t *a = te_target_queue_item_new(d.q);
        assert_non_null(a);
        a->partition = 0;
        a->offset = 0;
        snprintf(a->tp.ids.portfolio_id, sizeof a->tp.ids.portfolio_id, "A");
        assert_false(te_target_queue_busy(d.q, "A"));
        assert_int_equal(te_target_queue_park(d.q, a), 0);
        assert_int_equal(te_target_queue_park(d.q, a), 0); /* again: already first */
        assert_true(te_target_queue_busy(d.q, "A"));
        assert_int_equal(te_target_queue_count(d.q), 1);
        assert_int_equal(te_target_queue_waiting(d.q), 0);
        /* the next target of A queues behind it; it may not be parked */
        assert_int_equal(te_target_queue_consumed(d.q, 0, 1), 0);
        te_target_queue_item_t *b = te_target_queue_item_new(d.q);
        assert_non_null(b);
        b->partition = 0;
        b->offset = 1;
        snprintf(b->tp.ids.portfolio_id, sizeof b->tp.ids.portfolio_id, "A");
        te_target_queue_queue(d.q, b);
        assert_int_equal(te_target_queue_park(d.q, b), -1);
        assert_int_equal(te_target_queue_count(d.q), 2);
        assert_int_equal(te_target_queue_committable(d.q, 0, 1000), -1);
        /* planned at last: finished, popped, the next one comes out */
        assert_int_equal(te_target_queue_done(d.q, 0, 0, 1), 0);
        assert_ptr_equal(te_target_queue_pop(d.q, a), b);
        te_target_queue_item_free(d.q, a);
        assert_int_equal(te_target_queue_committable(d.q, 0, 1000), 1);
        assert_int_equal(te_target_queue_done(d.q, 0, 1, 2), 0);
        assert_null(te_target_queue_pop(d.q, b));
        te_target_queue_item_free(d.q, b);
        assert_false(te_target_queue_busy(d.q, "A"));
        assert_int_equal(te_target_queue_count(d.q), 0);
        assert_int_equal(te_target_queue_committable(d.q, 0, 1000), 2);
        drv_term(&d);
}

static void test_tq_overdue_alerts_repeat(void **state)
{
        (void)state;
        te_target_queue_t *q = te_target_queue_new();
        assert_non_null(q);
        te_target_queue_item_t *a = te_target_queue_item_new(q),
                               *b = te_target_queue_item_new(q);
        snprintf(a->tp.ids.portfolio_id, sizeof a->tp.ids.portfolio_id, "A");
        snprintf(b->tp.ids.portfolio_id, sizeof b->tp.ids.portfolio_id, "B");
        assert_int_equal(te_target_queue_wait(q, a, "ca", 0, 100), 0);
        assert_int_equal(te_target_queue_wait(q, b, "cb", 60, 100), 0);
        static const struct {
                int64_t now;
                int expect;
        } steps[] = {{50, 0}, {100, 1}, {150, 0}, {160, 1}, {200, 1}, {259, 0}, {260, 1}};
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
                size_t pos = 0;
                int n = 0;
                while (te_target_queue_overdue(q, &pos, steps[i].now, 100))
                        n++;
                assert_int_equal(n, steps[i].expect);
        }
        assert_ptr_equal(te_target_queue_ack(q, "ca"), a);
        assert_null(te_target_queue_pop(q, a));
        te_target_queue_item_free(q, a);
        te_target_queue_destroy(q, NULL); /* b still in its lane: freed with the queue */
}

/* Many portfolios over 3 partitions, ACKs in a random order: every portfolio's targets
 * are planned in their order, and a partition's commit offset never passes a target
 * not yet planned. */
static void test_tq_random_acks(void **state)
{
        (void)state;
        drv_t d;
        drv_init(&d);
        enum { N = 200, PFS = 9 };
        int32_t part_of[N];
        int pf_of[N];
        int64_t off_of[N], next_off[3] = {0, 0, 0};
        srand(12345);
        for (int i = 0; i < N; i++) {
                char pf[8];
                pf_of[i] = rand() % PFS;
                part_of[i] = pf_of[i] % 3;
                off_of[i] = next_off[part_of[i]]++;
                snprintf(pf, sizeof pf, "p%d", pf_of[i]);
                /* offsets double as indexes: one ledger per partition, distinct per
                 * target across partitions via the as_of */
                assert_int_equal(te_target_queue_consumed(d.q, part_of[i], off_of[i]), 0);
                te_target_queue_item_t *it = te_target_queue_item_new(d.q);
                it->partition = part_of[i];
                it->offset = off_of[i];
                it->tp.as_of = i; /* the target's index */
                snprintf(it->tp.ids.portfolio_id, sizeof it->tp.ids.portfolio_id, "%s",
                         pf);
                if (te_target_queue_busy(d.q, pf)) {
                        te_target_queue_queue(d.q, it);
                } else {
                        char id[TE_ID_MAX];
                        clock_of(id, sizeof id, pf, i);
                        assert_int_equal(te_target_queue_wait(d.q, it, id, 0, 1000), 0);
                }
        }
        int done[N] = {0}, last_of_pf[PFS];
        for (int p = 0; p < PFS; p++)
                last_of_pf[p] = -1;
        int64_t committed[3] = {0, 0, 0};
        int left = N;
        while (left) {
                /* ACK a random waiting target */
                size_t pos = 0, k = (size_t)rand() % te_target_queue_waiting(d.q);
                te_target_queue_item_t *w;
                size_t j = 0;
                while ((w = te_target_queue_overdue(d.q, &pos, INT64_MAX / 2, 0)) &&
                       j < k)
                        j++;
                assert_non_null(w);
                char id[TE_ID_MAX];
                snprintf(id, sizeof id, "%s", w->clock_id);
                te_target_queue_item_t *it = te_target_queue_ack(d.q, id);
                assert_ptr_equal(it, w);
                int i = (int)it->tp.as_of;
                /* in order within its portfolio */
                assert_true(i > last_of_pf[pf_of[i]]);
                for (int e = 0; e < i; e++)
                        if (pf_of[e] == pf_of[i])
                                assert_true(done[e]);
                last_of_pf[pf_of[i]] = i;
                done[i] = 1;
                left--;
                assert_int_equal(te_target_queue_done(d.q, it->partition, it->offset, 0),
                                 0);
                te_target_queue_item_t *next = te_target_queue_pop(d.q, it);
                te_target_queue_item_free(d.q, it);
                if (next) {
                        clock_of(id, sizeof id, next->tp.ids.portfolio_id,
                                 next->tp.as_of);
                        assert_int_equal(te_target_queue_wait(d.q, next, id, 0, 1000), 0);
                }
                for (int32_t p = 0; p < 3; p++) {
                        int64_t c = te_target_queue_committable(d.q, p, 0);
                        if (c >= 0)
                                committed[p] = c;
                        /* every target before the committed offset is planned */
                        for (int e = 0; e < N; e++)
                                if (part_of[e] == p && off_of[e] < committed[p])
                                        assert_true(done[e]);
                }
        }
        for (int32_t p = 0; p < 3; p++)
                assert_int_equal(committed[p], next_off[p]);
        drv_term(&d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_tq_acks_out_of_order_keep_portfolio_order),
            cmocka_unit_test(test_tq_commit_waits_for_delivery),
            cmocka_unit_test(test_tq_planned_only_once_delivered),
            cmocka_unit_test(test_tq_take_partition),
            cmocka_unit_test(test_tq_park),
            cmocka_unit_test(test_tq_overdue_alerts_repeat),
            cmocka_unit_test(test_tq_random_acks),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
