/*
 * test_map: te_map put/get/replace/del, backward-shift deletion under heavy probing,
 * iteration, destroy with a value destructor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "te_map.h"

/* Distinct non-NULL values to store: &vals[i]. */
static int vals[16];
#define V(i) ((void *)&vals[(i)])

typedef enum { OP_PUT, OP_GET, OP_DEL } op_t;

typedef struct map_step_s {
        op_t op;
        const char *key;
        void *value;         /* PUT: value to store */
        void *expect;        /* GET/DEL: value returned (NULL = absent) */
        size_t expect_count; /* count after the step */
} map_step_t;

static void run_steps(const map_step_t *steps, size_t n)
{
        te_map_t *m = te_map_new();
        assert_non_null(m);
        for (size_t i = 0; i < n; i++) {
                const map_step_t *s = &steps[i];
                switch (s->op) {
                case OP_PUT:
                        assert_int_equal(te_map_put(m, s->key, s->value), 0);
                        break;
                case OP_GET:
                        if (te_map_get(m, s->key) != s->expect) {
                                print_error(
                                    "step %zu: get(\"%s\") gave the wrong value\n", i,
                                    s->key);
                                fail();
                        }
                        break;
                case OP_DEL:
                        if (te_map_del(m, s->key) != s->expect) {
                                print_error(
                                    "step %zu: del(\"%s\") gave the wrong value\n", i,
                                    s->key);
                                fail();
                        }
                        break;
                }
                if (te_map_count(m) != s->expect_count) {
                        print_error("step %zu: count %zu, expected %zu\n", i,
                                    te_map_count(m), s->expect_count);
                        fail();
                }
        }
        te_map_destroy(m, NULL);
}

static void test_map_put_get_del(void **state)
{
        (void)state;
        static const map_step_t steps[] = {
            {OP_GET, "AAPL", NULL, NULL, 0},
            {OP_DEL, "AAPL", NULL, NULL, 0},
            {OP_PUT, "AAPL", V(1), NULL, 1},
            {OP_GET, "AAPL", NULL, V(1), 1},
            {OP_GET, "aapl", NULL, NULL, 1}, /* keys are case-sensitive */
            {OP_GET, "AAP", NULL, NULL, 1},  /* prefix is another key */
            {OP_GET, "AAPLX", NULL, NULL, 1},
            {OP_PUT, "MSFT", V(2), NULL, 2},
            {OP_PUT, "", V(3), NULL, 3}, /* the empty string is a key */
            {OP_GET, "", NULL, V(3), 3},
            {OP_GET, "MSFT", NULL, V(2), 3},
            {OP_DEL, "AAPL", NULL, V(1), 2},
            {OP_GET, "AAPL", NULL, NULL, 2},
            {OP_DEL, "AAPL", NULL, NULL, 2}, /* second delete finds nothing */
            {OP_GET, "MSFT", NULL, V(2), 2},
            {OP_PUT, "AAPL", V(4), NULL, 3}, /* re-insert after delete */
            {OP_GET, "AAPL", NULL, V(4), 3},
            {OP_DEL, "", NULL, V(3), 2},
            {OP_DEL, "MSFT", NULL, V(2), 1},
            {OP_DEL, "AAPL", NULL, V(4), 0},
            {OP_GET, "MSFT", NULL, NULL, 0},
        };
        run_steps(steps, sizeof steps / sizeof steps[0]);
}

static void test_map_replace(void **state)
{
        (void)state;
        static const map_step_t steps[] = {
            {OP_PUT, "k", V(1), NULL, 1},
            {OP_PUT, "k", V(2), NULL, 1}, /* replace: count unchanged */
            {OP_GET, "k", NULL, V(2), 1},
            {OP_PUT, "k", NULL, NULL, 1}, /* a NULL value is stored too */
            {OP_GET, "k", NULL, NULL, 1},
            {OP_PUT, "k", V(5), NULL, 1},
            {OP_DEL, "k", NULL, V(5), 0},
        };
        run_steps(steps, sizeof steps / sizeof steps[0]);
}

static void test_map_key_is_copied(void **state)
{
        (void)state;
        te_map_t *m = te_map_new();
        assert_non_null(m);
        char key[16];
        snprintf(key, sizeof key, "%s", "IBM");
        assert_int_equal(te_map_put(m, key, V(7)), 0);
        snprintf(key, sizeof key, "%s", "XXX");
        assert_ptr_equal(te_map_get(m, "IBM"), V(7));
        assert_null(te_map_get(m, "XXX"));
        te_map_destroy(m, NULL);
}

#define MANY 10000

/* value i is stored as (void *)(uintptr_t)(i + 1) so no value is NULL */
static void *many_val(size_t i)
{
        return (void *)(uintptr_t)(i + 1);
}

static void many_key(char *buf, size_t sz, size_t i)
{
        snprintf(buf, sz, "T%zu", i);
}

static void test_map_many_delete_every_third(void **state)
{
        (void)state;
        te_map_t *m = te_map_new();
        assert_non_null(m);
        char key[32];
        for (size_t i = 0; i < MANY; i++) {
                many_key(key, sizeof key, i);
                assert_int_equal(te_map_put(m, key, many_val(i)), 0);
        }
        assert_int_equal(te_map_count(m), MANY);
        size_t deleted = 0;
        for (size_t i = 0; i < MANY; i += 3) {
                many_key(key, sizeof key, i);
                assert_ptr_equal(te_map_del(m, key), many_val(i));
                deleted++;
        }
        assert_int_equal(deleted, 3334);
        assert_int_equal(te_map_count(m), MANY - 3334);
        for (size_t i = 0; i < MANY; i++) {
                many_key(key, sizeof key, i);
                void *got = te_map_get(m, key);
                if (i % 3 == 0 && got != NULL) {
                        print_error("deleted key %s still found\n", key);
                        fail();
                }
                if (i % 3 != 0 && got != many_val(i)) {
                        print_error("key %s lost after deletions\n", key);
                        fail();
                }
        }
        /* every remaining key is visited exactly once */
        unsigned char *seen = calloc(MANY, 1);
        assert_non_null(seen);
        size_t pos = 0, visits = 0;
        const char *k;
        void *v;
        while (te_map_next(m, &pos, &k, &v)) {
                size_t i = (size_t)(uintptr_t)v - 1;
                assert_true(i < MANY);
                assert_true(i % 3 != 0);
                many_key(key, sizeof key, i);
                assert_string_equal(k, key);
                assert_int_equal(seen[i], 0);
                seen[i] = 1;
                visits++;
        }
        assert_int_equal(visits, MANY - 3334);
        free(seen);
        te_map_destroy(m, NULL);
}

/* Small maps stay at 16 or 32 slots, so probe clusters wrap around the end of the
 * table often. A reference array checks every operation of a fixed pseudo-random
 * sequence; any key lost or resurrected by a backward shift shows up at once. */
static void test_map_random_ops_match_reference(void **state)
{
        (void)state;
        enum { POOL = 12, OPS = 200000 };
        te_map_t *m = te_map_new();
        assert_non_null(m);
        void *ref[POOL] = {0};
        size_t ref_count = 0;
        uint32_t x = 12345;
        char key[8];
        for (int op = 0; op < OPS; op++) {
                x = x * 1103515245u + 12345u;
                unsigned k = (x >> 16) % POOL;
                int del = (x >> 8) & 1;
                snprintf(key, sizeof key, "k%u", k);
                if (del) {
                        assert_ptr_equal(te_map_del(m, key), ref[k]);
                        if (ref[k])
                                ref_count--;
                        ref[k] = NULL;
                } else {
                        void *v = many_val((size_t)op);
                        assert_int_equal(te_map_put(m, key, v), 0);
                        if (!ref[k])
                                ref_count++;
                        ref[k] = v;
                }
                assert_int_equal(te_map_count(m), ref_count);
                for (unsigned j = 0; j < POOL; j++) {
                        snprintf(key, sizeof key, "k%u", j);
                        if (te_map_get(m, key) != ref[j]) {
                                print_error("op %d: key k%u disagrees with reference\n",
                                            op, j);
                                fail();
                        }
                }
        }
        te_map_destroy(m, NULL);
}

/* Borrowed keys: an entry keyed by a string inside its value. Lookups compare the
 * contents (another buffer with the same text finds it), a replacing value brings its
 * own key, deletion and growth keep working, and destroy frees values, not keys
 * (under valgrind a freed key would show as an invalid free). */
typedef struct entry_s {
        char name[16];
        int n;
} entry_t;

static void test_map_borrowed_keys(void **state)
{
        (void)state;
        enum { N = 300 };
        te_map_t *m = te_map_new_borrowed();
        assert_non_null(m);
        char key[16];
        for (int i = 0; i < N; i++) {
                entry_t *e = calloc(1, sizeof *e);
                assert_non_null(e);
                snprintf(e->name, sizeof e->name, "E%d", i);
                e->n = i;
                assert_int_equal(te_map_put(m, e->name, e), 0);
        }
        assert_int_equal(te_map_count(m), N);
        for (int i = 0; i < N; i++) {
                snprintf(key, sizeof key, "E%d", i);
                entry_t *e = te_map_get(m, key);
                assert_non_null(e);
                assert_int_equal(e->n, i);
        }
        /* replace E5: the old value (and its key) can go, the new key is used */
        entry_t *old = te_map_get(m, "E5");
        entry_t *rep = calloc(1, sizeof *rep);
        assert_non_null(rep);
        snprintf(rep->name, sizeof rep->name, "E5");
        rep->n = 1005;
        assert_int_equal(te_map_put(m, rep->name, rep), 0);
        memset(old->name, 'x', sizeof old->name - 1); /* a key still in use would break */
        free(old);
        assert_int_equal(((entry_t *)te_map_get(m, "E5"))->n, 1005);
        size_t pos = 0;
        const char *k;
        void *v;
        int seen5 = 0;
        while (te_map_next(m, &pos, &k, &v))
                seen5 += strcmp(k, "E5") == 0 && v == rep;
        assert_int_equal(seen5, 1);
        /* delete every other entry; the rest stay reachable */
        for (int i = 0; i < N; i += 2) {
                snprintf(key, sizeof key, "E%d", i);
                entry_t *e = te_map_del(m, key);
                assert_non_null(e);
                free(e);
        }
        assert_int_equal(te_map_count(m), N / 2);
        for (int i = 0; i < N; i++) {
                snprintf(key, sizeof key, "E%d", i);
                if (i % 2)
                        assert_non_null(te_map_get(m, key));
                else
                        assert_null(te_map_get(m, key));
        }
        te_map_destroy(m, free);
}

static void test_map_iterate_each_once(void **state)
{
        (void)state;
        static const struct {
                const char *key;
                int idx;
        } cases[] = {
            {"AAPL", 0},  {"MSFT", 1}, {"GOOG", 2},  {"AMZN", 3},
            {"TSLA", 4},  {"NVDA", 5}, {"META", 6},  {"IBM", 7},
            {"ORCL", 8},  {"INTC", 9}, {"AMD", 10},  {"CSCO", 11},
            {"QCOM", 12}, {"TXN", 13}, {"ADBE", 14}, {"CRM", 15},
        };
        enum { N = sizeof cases / sizeof cases[0] };
        te_map_t *m = te_map_new();
        assert_non_null(m);

        size_t pos = 0;
        const char *k;
        void *v;
        assert_int_equal(te_map_next(m, &pos, &k, &v), 0); /* empty map */

        for (size_t i = 0; i < N; i++)
                assert_int_equal(te_map_put(m, cases[i].key, V(cases[i].idx)), 0);

        int seen[N] = {0};
        pos = 0;
        while (te_map_next(m, &pos, &k, &v)) {
                int idx = (int)((int *)v - vals);
                assert_true(idx >= 0 && idx < N);
                assert_string_equal(k, cases[idx].key);
                seen[idx]++;
        }
        for (size_t i = 0; i < N; i++)
                assert_int_equal(seen[i], 1);
        /* the end stays the end */
        assert_int_equal(te_map_next(m, &pos, &k, &v), 0);
        te_map_destroy(m, NULL);
}

static int freed;
static void count_free(void *p)
{
        assert_non_null(p);
        freed++;
        free(p);
}

static void test_map_destroy_frees_values(void **state)
{
        (void)state;
        te_map_t *m = te_map_new();
        assert_non_null(m);
        char key[16];
        for (int i = 0; i < 100; i++) {
                snprintf(key, sizeof key, "v%d", i);
                int *p = malloc(sizeof *p);
                assert_non_null(p);
                *p = i;
                assert_int_equal(te_map_put(m, key, p), 0);
        }
        free(te_map_del(m, "v7")); /* the caller owns a deleted value */
        freed = 0;
        te_map_destroy(m, count_free);
        assert_int_equal(freed, 99);
        te_map_destroy(NULL, count_free); /* accepts NULL */
        assert_int_equal(freed, 99);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_map_put_get_del),
            cmocka_unit_test(test_map_replace),
            cmocka_unit_test(test_map_key_is_copied),
            cmocka_unit_test(test_map_many_delete_every_third),
            cmocka_unit_test(test_map_random_ops_match_reference),
            cmocka_unit_test(test_map_iterate_each_once),
            cmocka_unit_test(test_map_borrowed_keys),
            cmocka_unit_test(test_map_destroy_frees_values),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
