/*
 * Unit tests for te_buf: hard bounds, printf growth, JSON string escaping, exact
 * double formatting and te_strlcpy truncation.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "te_buf.h"

static void test_buf_append_bounds(void **state)
{
        static const struct {
                size_t max;
                const char *first;
                const char *second;
                int second_rc;
                const char *content; /* after both appends */
        } cases[] = {
            {8, "hello", "abc", 0, "helloabc"},  /* exactly at max */
            {8, "hello", "abcd", -1, "hello"},   /* one past max: unchanged */
            {4, "hello", "", 0, ""},             /* first already too big */
            {0, "", "x", -1, ""},                /* zero bound */
            {64, "a", "bcdefgh", 0, "abcdefgh"}, /* well inside */
            {5, "abcde", "f", -1, "abcde"},      /* full buffer */
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_buf_t b;
                te_buf_init(&b, cases[i].max);
                int rc1 = te_buf_puts(&b, cases[i].first);
                if (strlen(cases[i].first) > cases[i].max)
                        assert_int_equal(rc1, -1);
                else
                        assert_int_equal(rc1, 0);
                assert_int_equal(te_buf_puts(&b, cases[i].second), cases[i].second_rc);
                assert_int_equal(b.len, strlen(cases[i].content));
                assert_string_equal(te_buf_cstr(&b), cases[i].content);
                assert_true(b.len <= b.max);
                te_buf_free(&b);
        }
}

static void test_buf_reserve_overflow(void **state)
{
        te_buf_t b;
        (void)state;
        te_buf_init(&b, 16);
        assert_int_equal(te_buf_puts(&b, "abc"), 0);
        assert_int_equal(te_buf_reserve(&b, SIZE_MAX), -1);
        assert_int_equal(te_buf_reserve(&b, SIZE_MAX - 1), -1);
        assert_int_equal(te_buf_reserve(&b, 13), 0);
        assert_int_equal(te_buf_reserve(&b, 14), -1);
        assert_string_equal(te_buf_cstr(&b), "abc");
        te_buf_reset(&b);
        assert_int_equal(b.len, 0);
        assert_string_equal(te_buf_cstr(&b), "");
        te_buf_free(&b);
        te_buf_free(NULL);
}

static void test_buf_printf_growth(void **state)
{
        static const struct {
                size_t max;
                size_t width; /* characters printed */
                int rc;
                size_t len_after;
        } cases[] = {
            {4096, 10, 0, 12},     /* small path */
            {4096, 255, 0, 257},   /* just under the stack buffer */
            {4096, 256, 0, 258},   /* exactly the stack buffer: second pass */
            {4096, 1000, 0, 1002}, /* heap growth */
            {4096, 4094, 0, 4096}, /* exactly at max */
            {4096, 4095, -1, 2},   /* one past max: unchanged */
            {100, 300, -1, 2},     /* large and too big */
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_buf_t b;
                te_buf_init(&b, cases[i].max);
                assert_int_equal(te_buf_puts(&b, "<>"), 0);
                assert_int_equal(te_buf_printf(&b, "%*d", (int)cases[i].width, 7),
                                 cases[i].rc);
                assert_int_equal(b.len, cases[i].len_after);
                const char *s = te_buf_cstr(&b);
                assert_non_null(s);
                assert_int_equal(strlen(s), cases[i].len_after);
                assert_memory_equal(s, "<>", 2);
                if (cases[i].rc == 0)
                        assert_int_equal(s[b.len - 1], '7');
                te_buf_free(&b);
        }
}

static void test_buf_json_escape(void **state)
{
        static const struct {
                const char *in;
                const char *out;
        } cases[] = {
            {"", "\"\""},
            {"abc", "\"abc\""},
            {"a\"b", "\"a\\\"b\""},
            {"back\\slash", "\"back\\\\slash\""},
            {"line\nfeed", "\"line\\nfeed\""},
            {"cr\rtab\t", "\"cr\\rtab\\t\""},
            {"\x01", "\"\\u0001\""},
            {"\x1f|\x7f", "\"\\u001f|\\u007f\""},
            {"caf\xc3\xa9", "\"caf\xc3\xa9\""}, /* UTF-8 passes through */
            {"/", "\"/\""},
            {"\"\"\\", "\"\\\"\\\"\\\\\""},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_buf_t b;
                te_buf_init(&b, 1024);
                assert_int_equal(te_buf_json_str(&b, cases[i].in), 0);
                assert_string_equal(te_buf_cstr(&b), cases[i].out);
                te_buf_free(&b);
        }
}

static void test_buf_json_escape_bound(void **state)
{
        te_buf_t b;
        (void)state;
        te_buf_init(&b, 7);
        /* "\u0001" needs 8 bytes with quotes: does not fit in 7 */
        assert_int_equal(te_buf_json_str(&b, "\x01"), -1);
        assert_true(b.len <= b.max);
        te_buf_free(&b);
}

static void test_buf_fmt_double_roundtrip(void **state)
{
        static const struct {
                double v;
                size_t dstsz;
                int rc; /* expected length, or -1 */
                const char *text;
        } cases[] = {
            {0.1, 32, 3, "0.1"},
            {1e-300, 32, 6, "1e-300"},
            {123.456, 32, 7, "123.456"},
            {1.0 / 3.0, 32, 18, "0.3333333333333333"},
            {-0.0, 32, 2, "-0"},
            {0.0, 32, 1, "0"},
            {2.0 / 3.0, 32, 18, "0.6666666666666666"},
            {1e21, 32, 5, "1e+21"},
            {NAN, 32, 3, "NaN"},
            {INFINITY, 32, 8, "Infinity"},
            {-INFINITY, 32, 9, "-Infinity"},
            {0.1, 3, -1, NULL}, /* "0.1" needs 4 bytes */
            {0.1, 4, 3, "0.1"}, /* exactly enough */
            {NAN, 3, -1, NULL}, /* "NaN" needs 4 bytes */
            {1.0 / 3.0, 10, -1, NULL},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char dst[32];
                memset(dst, 'x', sizeof dst);
                int rc = te_fmt_double(dst, cases[i].dstsz, cases[i].v);
                assert_int_equal(rc, cases[i].rc);
                if (rc < 0)
                        continue;
                assert_string_equal(dst, cases[i].text);
                if (isfinite(cases[i].v)) {
                        double back = strtod(dst, NULL);
                        assert_true(back == cases[i].v);
                        assert_int_equal(!!signbit(back), !!signbit(cases[i].v));
                }
        }
}

static void test_buf_strlcpy_truncation(void **state)
{
        static const struct {
                const char *src;
                size_t dstsz;
                int rc;
                const char *out;
        } cases[] = {
            {"hello", 6, 0, "hello"}, {"hello", 5, -1, "hell"}, {"hello", 1, -1, ""},
            {"", 1, 0, ""},           {"", 8, 0, ""},           {"ab", 3, 0, "ab"},
            {"abc", 3, -1, "ab"},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char dst[16];
                memset(dst, 'x', sizeof dst);
                assert_int_equal(te_strlcpy(dst, cases[i].src, cases[i].dstsz),
                                 cases[i].rc);
                assert_string_equal(dst, cases[i].out);
                assert_int_equal(dst[cases[i].dstsz], 'x'); /* nothing past dstsz */
        }
        char one[1] = {'x'};
        assert_int_equal(te_strlcpy(one, "abc", 0), -1);
        assert_int_equal(one[0], 'x');
}

/* te_grow: the first room is `first`, then doubling up to what is needed; a size whose
 * bytes would not fit a size_t is refused with the array left as it was. */
static void test_grow(void **state)
{
        (void)state;
        int *v = NULL;
        size_t cap = 0;
        assert_int_equal(te_grow((void **)&v, &cap, 1, sizeof *v, 4), 0);
        assert_non_null(v);
        assert_int_equal(cap, 4);
        assert_int_equal(te_grow((void **)&v, &cap, 4, sizeof *v, 4), 0);
        assert_int_equal(cap, 4); /* room enough: unchanged */
        assert_int_equal(te_grow((void **)&v, &cap, 5, sizeof *v, 4), 0);
        assert_int_equal(cap, 8);
        assert_int_equal(te_grow((void **)&v, &cap, 33, sizeof *v, 4), 0);
        assert_int_equal(cap, 64);
        v[63] = 7;
        int *before = v;
        assert_int_equal(te_grow((void **)&v, &cap, SIZE_MAX / 2, sizeof *v, 4), -1);
        assert_ptr_equal(v, before);
        assert_int_equal(cap, 64);
        assert_int_equal(v[63], 7);
        free(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_buf_append_bounds),
            cmocka_unit_test(test_buf_reserve_overflow),
            cmocka_unit_test(test_buf_printf_growth),
            cmocka_unit_test(test_buf_json_escape),
            cmocka_unit_test(test_buf_json_escape_bound),
            cmocka_unit_test(test_buf_fmt_double_roundtrip),
            cmocka_unit_test(test_buf_strlcpy_truncation),
            cmocka_unit_test(test_grow),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
