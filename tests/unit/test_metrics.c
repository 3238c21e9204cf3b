/*
 * test_metrics: te_metrics exposition text, byte for byte: counters, gauges, histograms
 * (_bucket with cumulative le labels, _sum, _count), label and HELP escaping, number
 * formatting, registration rules, series removal and the series limit.
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

#include "te_metrics.h"

static void assert_render(te_metrics_t *r, const char *want)
{
        te_buf_t b;
        te_buf_init(&b, 1 << 20);
        assert_int_equal(te_metrics_render(r, &b), 0);
        const char *got = te_buf_cstr(&b);
        if (!got)
                got = "";
        if (strcmp(got, want) != 0) {
                print_error("--- want\n%s--- got\n%s---\n", want, got);
                fail();
        }
        te_buf_free(&b);
}

static void test_metrics_counter_and_gauge(void **state)
{
        (void)state;
        te_metrics_t *r = te_metrics_new();
        te_metric_t *c = te_metrics_counter(r, "te_messages_consumed_total",
                                            "Messages consumed, by topic.", "topic");
        te_metric_t *g = te_metrics_gauge(r, "te_up", NULL, NULL);
        te_metric_t *l = te_metrics_gauge(r, "te_lag", "Lag.", "group,partition");
        assert_non_null(c);
        assert_non_null(g);
        assert_non_null(l);
        assert_int_equal(te_metric_add(c, TE_LV("exec.orders"), 1), 0);
        assert_int_equal(te_metric_add(c, TE_LV("exec.targets"), 2), 0);
        assert_int_equal(te_metric_add(c, TE_LV("exec.orders"), 40), 0);
        assert_int_equal(te_metric_set(g, NULL, 1), 0);
        assert_int_equal(te_metric_set(l, TE_LV("g", "0"), 7), 0);
        assert_int_equal(te_metric_add(l, TE_LV("g", "0"), -2.5), 0);
        assert_int_equal(te_metric_set(l, TE_LV("g", "1"), 0), 0);
        assert_render(r,
                      "# HELP te_messages_consumed_total Messages consumed, by topic.\n"
                      "# TYPE te_messages_consumed_total counter\n"
                      "te_messages_consumed_total{topic=\"exec.orders\"} 41\n"
                      "te_messages_consumed_total{topic=\"exec.targets\"} 2\n"
                      "# TYPE te_up gauge\n"
                      "te_up 1\n"
                      "# HELP te_lag Lag.\n"
                      "# TYPE te_lag gauge\n"
                      "te_lag{group=\"g\",partition=\"0\"} 4.5\n"
                      "te_lag{group=\"g\",partition=\"1\"} 0\n");
        double v = 0;
        assert_int_equal(te_metric_get(c, TE_LV("exec.orders"), &v), 0);
        assert_true(v == 41);
        assert_int_equal(te_metric_get(c, TE_LV("nope"), &v), -1);
        te_metrics_destroy(r);
}

static void test_metrics_histogram(void **state)
{
        (void)state;
        static const double b[] = {0.005, 0.01, 0.1, 1};
        te_metrics_t *r = te_metrics_new();
        te_metric_t *h =
            te_metrics_histogram(r, "te_latency_seconds", "Latency.", "stage", b, 4);
        te_metric_t *h0 = te_metrics_histogram(r, "te_plain_seconds", NULL, NULL, b, 2);
        assert_non_null(h);
        assert_non_null(h0);
        /* 0.005 is in le=0.005 (upper bounds are inclusive); 0.0075 in 0.01; 0.5 in 1;
         * 3 only in +Inf */
        const double obs[] = {0.005, 0.0075, 0.5, 3, 0.001};
        for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++)
                assert_int_equal(te_metric_observe(h, TE_LV("ack"), obs[i]), 0);
        assert_int_equal(te_metric_observe(h, TE_LV("ack"), NAN), -1);
        assert_int_equal(te_metric_observe(h0, NULL, 0.25), 0);
        assert_render(r, "# HELP te_latency_seconds Latency.\n"
                         "# TYPE te_latency_seconds histogram\n"
                         "te_latency_seconds_bucket{stage=\"ack\",le=\"0.005\"} 2\n"
                         "te_latency_seconds_bucket{stage=\"ack\",le=\"0.01\"} 3\n"
                         "te_latency_seconds_bucket{stage=\"ack\",le=\"0.1\"} 3\n"
                         "te_latency_seconds_bucket{stage=\"ack\",le=\"1\"} 4\n"
                         "te_latency_seconds_bucket{stage=\"ack\",le=\"+Inf\"} 5\n"
                         "te_latency_seconds_sum{stage=\"ack\"} 3.5135\n"
                         "te_latency_seconds_count{stage=\"ack\"} 5\n"
                         "# TYPE te_plain_seconds histogram\n"
                         "te_plain_seconds_bucket{le=\"0.005\"} 0\n"
                         "te_plain_seconds_bucket{le=\"0.01\"} 0\n"
                         "te_plain_seconds_bucket{le=\"+Inf\"} 1\n"
                         "te_plain_seconds_sum 0.25\n"
                         "te_plain_seconds_count 1\n");
        te_metrics_destroy(r);
}

static void test_metrics_escaping(void **state)
{
        (void)state;
        te_metrics_t *r = te_metrics_new();
        te_metric_t *c =
            te_metrics_counter(r, "te_deadletters_total",
                               "Dead letters\\by \"reason\"\nsecond line", "reason");
        assert_int_equal(te_metric_add(c, TE_LV("a\"b\\c\nd"), 1), 0);
        assert_int_equal(te_metric_add(c, TE_LV(""), 1), 0);
        assert_int_equal(te_metric_add(c, TE_LV("é ünïcode"), 1), 0);
        /* HELP escapes \ and newline, not quotes; label values escape all three */
        assert_render(
            r, "# HELP te_deadletters_total Dead letters\\\\by \"reason\"\\nsecond "
               "line\n"
               "# TYPE te_deadletters_total counter\n"
               "te_deadletters_total{reason=\"a\\\"b\\\\c\\nd\"} 1\n"
               "te_deadletters_total{reason=\"\"} 1\n"
               "te_deadletters_total{reason=\"é ünïcode\"} 1\n");
        te_metrics_destroy(r);
}

typedef struct fmt_case_s {
        double v;
        const char *want;
} fmt_case_t;

static void test_metrics_number_format(void **state)
{
        (void)state;
        static const fmt_case_t cases[] = {
            {0, "0"},
            {-0.0, "0"},
            {1, "1"},
            {-3, "-3"},
            {0.1, "0.1"},
            {1e20, "1e+20"},
            {123456789, "123456789"},
            {1.0 / 3, "0.3333333333333333"},
            {2.5e-7, "2.5e-07"},
            {INFINITY, "+Inf"},
            {-INFINITY, "-Inf"},
            {NAN, "NaN"},
        };
        char buf[64];
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                assert_true(te_metrics_fmt_value(buf, sizeof buf, cases[i].v) > 0);
                if (strcmp(buf, cases[i].want) != 0) {
                        print_error("case %zu: want %s got %s\n", i, cases[i].want, buf);
                        fail();
                }
        }
        assert_int_equal(te_metrics_fmt_value(buf, 3, 12345), -1);
}

typedef struct reg_case_s {
        int type; /* 0 counter, 1 gauge, 2 histogram */
        const char *name;
        const char *labels;
        int ok;
} reg_case_t;

static void test_metrics_registration(void **state)
{
        (void)state;
        static const double good[] = {1, 2};
        static const reg_case_t cases[] = {
            {0, "ok_total", "a,b", 1},
            {0, "ok_total", "a,b", 1},   /* same family again: returned, not duplicated */
            {1, "ok_total", "a,b", 0},   /* same name, other type */
            {0, "ok_total", "a", 0},     /* same name, other labels */
            {0, "1bad", NULL, 0},        /* name starts with a digit */
            {0, "bad-name", NULL, 0},    /* '-' not allowed */
            {0, "", NULL, 0},            /* empty */
            {1, "ns:sub_gauge", "x", 1}, /* ':' allowed in metric names */
            {1, "g2", "a:b", 0},         /* ... not in label names */
            {1, "g3", "__reserved", 0},  /* labels starting with __ */
            {1, "g4", "a,a", 0},         /* duplicate label */
            {1, "g5", "a,b,c,d,e", 0},   /* more than TE_METRICS_MAX_LABELS */
            {1, "g6", "a,", 0},          /* empty label name */
            {2, "h_seconds", "le", 0},   /* le is reserved in histograms */
            {2, "h2_seconds", "stage", 1},
        };
        te_metrics_t *r = te_metrics_new();
        te_metric_t *first = NULL;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const reg_case_t *c = &cases[i];
                te_metric_t *m =
                    c->type == 0 ? te_metrics_counter(r, c->name, NULL, c->labels)
                    : c->type == 1
                        ? te_metrics_gauge(r, c->name, NULL, c->labels)
                        : te_metrics_histogram(r, c->name, NULL, c->labels, good, 2);
                if ((m != NULL) != c->ok) {
                        print_error("case %zu (%s): want %s\n", i, c->name,
                                    c->ok ? "ok" : "NULL");
                        fail();
                }
                if (i == 0)
                        first = m;
                if (i == 1)
                        assert_ptr_equal(m, first);
        }
        static const double unsorted[] = {1, 1};
        static const double inf[] = {1, INFINITY};
        assert_null(te_metrics_histogram(r, "u_seconds", NULL, NULL, unsorted, 2));
        assert_null(te_metrics_histogram(r, "i_seconds", NULL, NULL, inf, 2));
        /* wrong operation for the type, negative counter increment */
        te_metric_t *c = te_metrics_counter(r, "c_total", NULL, NULL);
        te_metric_t *h = te_metrics_histogram(r, "h3_seconds", NULL, NULL, good, 2);
        assert_int_equal(te_metric_add(c, NULL, -1), -1);
        assert_int_equal(te_metric_set(c, NULL, 1), -1);
        assert_int_equal(te_metric_observe(c, NULL, 1), -1);
        assert_int_equal(te_metric_add(h, NULL, 1), -1);
        assert_int_equal(te_metric_add(NULL, NULL, 1), -1);
        te_metrics_destroy(r);
}

static void test_metrics_remove_and_limit(void **state)
{
        (void)state;
        te_metrics_t *r = te_metrics_new();
        te_metric_t *g = te_metrics_gauge(r, "lag", NULL, "group,partition");
        te_metric_set(g, TE_LV("a", "0"), 1);
        te_metric_set(g, TE_LV("b", "0"), 2);
        te_metric_set(g, TE_LV("a", "1"), 3);
        assert_int_equal(te_metric_remove(g, 0, "a"), 2);
        assert_render(r, "# TYPE lag gauge\nlag{group=\"b\",partition=\"0\"} 2\n");
        assert_int_equal(te_metric_remove(g, 0, NULL), 1);
        assert_render(r, "# TYPE lag gauge\n");

        /* long values are truncated consistently: the same series is found again */
        char lng[400];
        memset(lng, 'x', sizeof lng - 1);
        lng[sizeof lng - 1] = '\0';
        te_metric_t *c = te_metrics_counter(r, "c_total", NULL, "v");
        te_metric_add(c, TE_LV(lng), 1);
        te_metric_add(c, TE_LV(lng), 1);
        double v = 0;
        assert_int_equal(te_metric_get(c, TE_LV(lng), &v), 0);
        assert_true(v == 2);
        te_metric_remove(c, 0, NULL);

        char name[32];
        for (int i = 0; i < TE_METRICS_MAX_SERIES; i++) {
                snprintf(name, sizeof name, "s%d", i);
                assert_int_equal(te_metric_add(c, TE_LV(name), 1), 0);
        }
        assert_int_equal(te_metric_add(c, TE_LV("one-too-many"), 1), -1);
        assert_int_equal(te_metric_add(c, TE_LV("s0"), 1), 0); /* existing still works */
        assert_int_equal(te_metrics_dropped(r), 1);
        te_metrics_destroy(r);
}

static void test_metrics_render_bound(void **state)
{
        (void)state;
        te_metrics_t *r = te_metrics_new();
        te_metric_t *c =
            te_metrics_counter(r, "a_rather_long_metric_name_total", NULL, NULL);
        te_metric_add(c, NULL, 1);
        te_buf_t b;
        te_buf_init(&b, 16);
        assert_int_equal(te_metrics_render(r, &b), -1);
        te_buf_free(&b);
        te_metrics_destroy(r);
        te_metrics_destroy(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_metrics_counter_and_gauge),
            cmocka_unit_test(test_metrics_histogram),
            cmocka_unit_test(test_metrics_escaping),
            cmocka_unit_test(test_metrics_number_format),
            cmocka_unit_test(test_metrics_registration),
            cmocka_unit_test(test_metrics_remove_and_limit),
            cmocka_unit_test(test_metrics_render_bound),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
