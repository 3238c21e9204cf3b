/*
 * test_sink_dec: exact decimal sums with numeric's display scale (consumers/sink_dec.c):
 * parsing of the texts te_fmt_double writes (plain and exponent forms), sums of terms
 * of different scales, refusals (NaN, Infinity, too many digits, bad text, overflow).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sink_dec.h"
#include "te_buf.h"

/* Sum the terms and compare with numeric's text of the sum. */
static void expect_sum(const char *const *terms, size_t n, const char *want)
{
        sink_dec_t acc = {0, 0}, v;
        char out[64];
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(sink_dec_parse(terms[i], &v), 0);
                assert_int_equal(sink_dec_add(&acc, &v), 0);
        }
        assert_true(sink_dec_fmt(&acc, out, sizeof out) > 0);
        assert_string_equal(out, want);
}

static void test_parse_forms(void **state)
{
        (void)state;
        static const struct {
                const char *in, *out; /* out: what numeric prints for in */
        } cases[] = {
            {"0", "0"},           {"-0", "0"},
            {"1", "1"},           {"1.5", "1.5"},
            {"-2.25", "-2.25"},   {"0.000123", "0.000123"},
            {"1e-05", "0.00001"}, {"1.5e-07", "0.00000015"},
            {"3E+2", "300"},      {"1.5e+1", "15"},
            {"1.25e+1", "12.5"},  {"12.50", "12.50"},
            {".5", "0.5"},        {"1.", "1"},
            {"+7", "7"},          {"123456789012345678", "123456789012345678"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const char *t[1] = {cases[i].in};
                expect_sum(t, 1, cases[i].out);
        }
}

static void test_sums(void **state)
{
        (void)state;
        const char *a[] = {"0.1", "0.2"};
        expect_sum(a, 2, "0.3"); /* exact, unlike doubles */
        const char *b[] = {"1.5", "1"};
        expect_sum(b, 2, "2.5");
        const char *c[] = {"0", "0.25", "1e-05"};
        expect_sum(c, 3, "0.25001");
        const char *d[] = {"1", "1", "1"};
        expect_sum(d, 3, "3");
        const char *e[] = {"2.5", "-2.5"};
        expect_sum(e, 2, "0.0"); /* scale kept, as numeric does */
        const char *f[] = {"-1.25", "0.5"};
        expect_sum(f, 2, "-0.75");
}

/* Every double te_fmt_double writes in a commission's range sums like numeric would:
 * compare with a long-hand decimal sum done on the digits. */
static void test_fmt_double_texts(void **state)
{
        (void)state;
        const double v[] = {0.005, 1.0,       0.35,      12.3456,
                            1e-05, 0.1 + 0.2, 1234.5678, 99999.99};
        char txt[40];
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
                sink_dec_t d;
                char back[64];
                assert_true(te_fmt_double(txt, sizeof txt, v[i]) > 0);
                assert_int_equal(sink_dec_parse(txt, &d), 0);
                assert_true(sink_dec_fmt(&d, back, sizeof back) > 0);
                /* the same value: reads back as the same double */
                double rt;
                assert_int_equal(sscanf(back, "%lf", &rt), 1);
                assert_true(rt == v[i]);
        }
}

static void test_refused(void **state)
{
        (void)state;
        const char *bad[] = {"NaN",       "Infinity",
                             "-Infinity", "",
                             "-",         ".",
                             "1e",        "1e+",
                             "abc",       "1.2.3",
                             "1e99999",   "1234567890123456789",
                             "1e-19",     "1.2345678901234567e-05",
                             "1 ",        "0x10"};
        sink_dec_t d;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(sink_dec_parse(bad[i], &d), -1);
        /* overflow on add leaves the sum unchanged: 10 x 9e17 fits, 11 do not */
        sink_dec_t acc = {0, 0}, big;
        assert_int_equal(sink_dec_parse("900000000000000000", &big), 0);
        for (int i = 0; i < 10; i++)
                assert_int_equal(sink_dec_add(&acc, &big), 0);
        assert_int_equal(sink_dec_add(&acc, &big), -1);
        assert_true(acc.m == INT64_C(9000000000000000000));
        assert_int_equal(acc.scale, 0);
        /* a scale-up that overflows */
        sink_dec_t frac;
        assert_int_equal(sink_dec_parse("0.000000000000000001", &frac), 0);
        assert_int_equal(sink_dec_parse("900000000000000000", &acc), 0);
        assert_int_equal(sink_dec_add(&acc, &frac), -1);
        /* too small a buffer */
        char out[3];
        assert_int_equal(sink_dec_parse("123.45", &acc), 0);
        assert_int_equal(sink_dec_fmt(&acc, out, sizeof out), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_forms),
            cmocka_unit_test(test_sums),
            cmocka_unit_test(test_fmt_double_texts),
            cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
