/*
 * test_bars: date parsing, ms -> day, at-or-before lookup, bar validation, CSV loading
 * of good and bad files with their "path:line: why" errors.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bars.h"

static void test_bars_parse_date(void **state)
{
        (void)state;
        static const struct {
                const char *s;
                int rc;
                int32_t day;
        } cases[] = {
            {"1970-01-01", 0, 0},
            {"1970-01-02", 0, 1},
            {"1969-12-31", 0, -1},
            {"2023-12-31", 0, 19722},
            {"2024-01-01", 0, 19723},
            {"2024-01-02", 0, 19724},
            {"2024-02-29", 0, 19782}, /* leap day */
            {"2024-03-01", 0, 19783},
            {"2000-02-29", 0, 11016}, /* divisible by 400: leap */
            {"1900-01-01", 0, -25567},
            {"2024-12-31", 0, 20088},
            {"2023-02-29", -1, 0}, /* not a leap year */
            {"2100-02-29", -1, 0}, /* divisible by 100, not 400 */
            {"1900-02-29", -1, 0},
            {"2024-02-30", -1, 0},
            {"2024-04-31", -1, 0},
            {"2024-13-01", -1, 0},
            {"2024-00-10", -1, 0},
            {"2024-01-00", -1, 0},
            {"2024-01-32", -1, 0},
            {"1899-12-31", -1, 0},  /* before the supported range */
            {"2024-1-01", -1, 0},   /* wrong length */
            {"2024-01-011", -1, 0}, /* wrong length */
            {"24-01-01", -1, 0},
            {"", -1, 0},
            {"garbage!!!", -1, 0}, /* 10 chars */
            {"2024/01/02", -1, 0},
            {"2024-01-0a", -1, 0},
            {"+024-01-02", -1, 0},
            {"2024-01- 2", -1, 0},
            {"20240102  ", -1, 0},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                int32_t day = 424242;
                int rc = te_bars_parse_date(cases[i].s, &day);
                if (rc != cases[i].rc || (rc == 0 && day != cases[i].day)) {
                        print_error(
                            "parse_date(\"%s\") = %d day %d, expected %d day %d\n",
                            cases[i].s, rc, day, cases[i].rc, cases[i].day);
                        fail();
                }
                if (rc != 0 && day != 424242) {
                        print_error("parse_date(\"%s\") wrote day on failure\n",
                                    cases[i].s);
                        fail();
                }
        }
}

static void test_bars_day_of_ms(void **state)
{
        (void)state;
        static const struct {
                int64_t ms;
                int32_t day;
        } cases[] = {
            {0, 0},
            {1, 0},
            {86399999, 0},
            {86400000, 1},
            {-1, -1},
            {-86399999, -1},
            {-86400000, -1},
            {-86400001, -2},
            {INT64_C(1704153600000), 19724}, /* 2024-01-02T00:00:00Z */
            {INT64_C(1704214800000), 19724}, /* 2024-01-02T17:00:00Z */
            {INT64_C(1704239999999), 19724}, /* 2024-01-02T23:59:59.999Z */
            {INT64_C(1704240000000), 19725},
            {INT64_C(-2208988800000), -25567}, /* 1900-01-01 */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                int32_t got = te_bars_day_of_ms(cases[i].ms);
                if (got != cases[i].day) {
                        print_error("day_of_ms(%lld) = %d, expected %d\n",
                                    (long long)cases[i].ms, got, cases[i].day);
                        fail();
                }
        }
}

static te_bar_t bar(int32_t day, double close)
{
        te_bar_t b = {.day = day,
                      .open = close,
                      .high = close,
                      .low = close,
                      .close = close,
                      .volume = 1000};
        return b;
}

static void test_bars_at_or_before(void **state)
{
        (void)state;
        te_bars_t *b = te_bars_new();
        assert_non_null(b);
        char err[128];
        /* added out of order: 2024-01-08, 01-02, 01-05, 01-03 */
        static const struct {
                int32_t day;
                double close;
        } added[] = {{19730, 13.0}, {19724, 10.0}, {19727, 12.0}, {19725, 11.0}};
        for (size_t i = 0; i < sizeof added / sizeof added[0]; i++) {
                te_bar_t x = bar(added[i].day, added[i].close);
                assert_int_equal(te_bars_add(b, "AAA", &x, err, sizeof err), 0);
        }
        te_bar_t y = bar(19700, 99.0);
        assert_int_equal(te_bars_add(b, "ZZZ", &y, err, sizeof err), 0);
        assert_int_equal(te_bars_ticker_count(b), 2);
        assert_int_equal(te_bars_count(b), 5);

        static const struct {
                const char *ticker;
                int32_t day;
                int found;
                int32_t bar_day;
                double close;
        } cases[] = {
            {"AAA", 19724, 1, 19724, 10.0}, /* exact first day */
            {"AAA", 19725, 1, 19725, 11.0}, /* exact */
            {"AAA", 19726, 1, 19725, 11.0}, /* gap: previous bar */
            {"AAA", 19727, 1, 19727, 12.0},
            {"AAA", 19728, 1, 19727, 12.0}, /* weekend: Friday's bar */
            {"AAA", 19729, 1, 19727, 12.0},
            {"AAA", 19730, 1, 19730, 13.0}, /* exact last day */
            {"AAA", 30000, 1, 19730, 13.0}, /* after the last: the last */
            {"AAA", 19723, 0, 0, 0},        /* before the first */
            {"AAA", -5, 0, 0, 0},
            {"ZZZ", 19724, 1, 19700, 99.0},
            {"ZZZ", 19699, 0, 0, 0},
            {"BBB", 19724, 0, 0, 0}, /* unknown ticker */
            {"", 19724, 0, 0, 0},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const te_bar_t *got =
                    te_bars_at_or_before(b, cases[i].ticker, cases[i].day);
                if (!cases[i].found) {
                        if (got) {
                                print_error("%s@%d: found day %d, expected none\n",
                                            cases[i].ticker, cases[i].day, got->day);
                                fail();
                        }
                        continue;
                }
                if (!got || got->day != cases[i].bar_day ||
                    got->close != cases[i].close) {
                        print_error("%s@%d: got %s day %d, expected day %d\n",
                                    cases[i].ticker, cases[i].day, got ? "bar" : "NULL",
                                    got ? got->day : 0, cases[i].bar_day);
                        fail();
                }
        }
        /* adding after a lookup keeps lookups right (series re-sorted) */
        te_bar_t z = bar(19726, 11.5);
        assert_int_equal(te_bars_add(b, "AAA", &z, err, sizeof err), 0);
        const te_bar_t *g = te_bars_at_or_before(b, "AAA", 19726);
        assert_non_null(g);
        assert_int_equal(g->day, 19726);
        g = te_bars_at_or_before(b, "AAA", 19730);
        assert_non_null(g);
        assert_int_equal(g->day, 19730);
        te_bars_destroy(b);
        te_bars_destroy(NULL);
}

static void test_bars_add_validation(void **state)
{
        (void)state;
        static const char *const price_err = "prices must be finite and > 0, volume >= 0";
        static const char *const range_err = "need low <= open,close <= high";
        static const struct {
                const char *ticker;
                te_bar_t bar;
                const char *err; /* NULL: accepted */
        } cases[] = {
            {"AAA", {19724, 10, 11, 9, 10.5, 100}, NULL},
            {"AAA", {19725, 10, 10, 10, 10, 0}, NULL}, /* zero volume is a bar */
            {"ABCDEFGHIJKLMNOPQRSTUVW", {19724, 1, 1, 1, 1, 1}, NULL}, /* 23 chars */
            {"ABCDEFGHIJKLMNOPQRSTUVWX", {19724, 1, 1, 1, 1, 1}, "bad ticker"},
            {"", {19724, 1, 1, 1, 1, 1}, "bad ticker"},
            {"AAA", {19724, 0, 1, 1, 1, 1}, price_err},
            {"AAA", {19724, 1, 1, 1, -1, 1}, price_err},
            {"AAA", {19724, 1, 1, 1, 1, -1}, price_err},
            {"AAA", {19724, NAN, 1, 1, 1, 1}, price_err},
            {"AAA", {19724, 1, INFINITY, 1, 1, 1}, price_err},
            {"AAA", {19724, 1, 1, 1, 1, NAN}, price_err},
            {"AAA", {19724, 10, 11, 9, 11.5, 1}, range_err},    /* high < close */
            {"AAA", {19724, 11.5, 11, 9, 10, 1}, range_err},    /* high < open */
            {"AAA", {19724, 10, 11, 10.5, 10.7, 1}, range_err}, /* low > open */
            {"AAA", {19724, 10.7, 11, 10.5, 10, 1}, range_err}, /* low > close */
        };
        te_bars_t *b = te_bars_new();
        assert_non_null(b);
        size_t accepted = 0;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char err[128] = "";
                int rc = te_bars_add(b, cases[i].ticker, &cases[i].bar, err, sizeof err);
                if (cases[i].err == NULL) {
                        if (rc != 0) {
                                print_error("case %zu refused: %s\n", i, err);
                                fail();
                        }
                        accepted++;
                } else if (rc != -1 || strcmp(err, cases[i].err) != 0) {
                        print_error("case %zu: rc %d err \"%s\", expected \"%s\"\n", i,
                                    rc, err, cases[i].err);
                        fail();
                }
        }
        assert_int_equal(te_bars_count(b), accepted);
        te_bars_destroy(b);
}

/* Write `content` to a fresh temp file; the caller unlinks `path`. */
static void write_tmp(char *path, size_t pathsz, const char *content)
{
        snprintf(path, pathsz, "%s", "/tmp/test_bars_XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        size_t len = strlen(content);
        assert_int_equal(write(fd, content, len), (ssize_t)len);
        assert_int_equal(close(fd), 0);
}

#define HDR "date,ticker,open,high,low,close,volume\n"

static void test_bars_load_good_csv(void **state)
{
        (void)state;
        char path[64], err[256] = "";
        write_tmp(path, sizeof path,
                  "# daily bars for the unit test\n"
                  "\n" HDR "2024-01-03,AAA,10.5,11,10,10.75,1000\r\n"
                  "\n"
                  "2024-01-02,AAA,10,10.5,9.5,10.25,2000\n"
                  "# a comment between rows\n"
                  "2024-01-02,BBB,50,51,49,50.5,0\n"
                  "2024-01-05,AAA,11,12,10.5,11.5,1.5e3"); /* no newline at the end */
        te_bars_t *b = te_bars_load_csv(path, err, sizeof err);
        unlink(path);
        if (!b) {
                print_error("load failed: %s\n", err);
                fail();
        }
        assert_int_equal(te_bars_ticker_count(b), 2);
        assert_int_equal(te_bars_count(b), 4);

        static const struct {
                const char *ticker;
                int32_t day;
                int32_t bar_day;
                double open, high, low, close, volume;
        } cases[] = {
            {"AAA", 19724, 19724, 10, 10.5, 9.5, 10.25, 2000}, /* sorted before 01-03 */
            {"AAA", 19725, 19725, 10.5, 11, 10, 10.75, 1000},  /* CRLF row */
            {"AAA", 19726, 19725, 10.5, 11, 10, 10.75, 1000},
            {"AAA", 19727, 19727, 11, 12, 10.5, 11.5, 1500},
            {"BBB", 19800, 19724, 50, 51, 49, 50.5, 0},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const te_bar_t *g =
                    te_bars_at_or_before(b, cases[i].ticker, cases[i].day);
                assert_non_null(g);
                assert_int_equal(g->day, cases[i].bar_day);
                assert_true(g->open == cases[i].open && g->high == cases[i].high &&
                            g->low == cases[i].low && g->close == cases[i].close &&
                            g->volume == cases[i].volume);
        }
        assert_null(te_bars_at_or_before(b, "AAA", 19723));
        te_bars_destroy(b);

        /* a header and nothing else is an empty set, not an error */
        write_tmp(path, sizeof path, "# empty\n" HDR);
        b = te_bars_load_csv(path, err, sizeof err);
        unlink(path);
        assert_non_null(b);
        assert_int_equal(te_bars_count(b), 0);
        assert_int_equal(te_bars_ticker_count(b), 0);
        te_bars_destroy(b);
}

/* Files with a line longer than the loader's 511-character limit, built at run time. */
static char long_comment_file[1024];
static char long_row_file[1024];

static void build_long_files(void)
{
        char comment[700];
        memset(comment, 'x', sizeof comment - 1);
        comment[0] = '#';
        comment[sizeof comment - 1] = '\0';
        snprintf(long_comment_file, sizeof long_comment_file, "%s%s\n", HDR, comment);
        snprintf(long_row_file, sizeof long_row_file,
                 "%s2024-01-02,AAA,1,1,1,1,1\n2024-01-02,AAA,1,1,1,1,%0600d\n", HDR, 1);
}

static void test_bars_load_bad_csv(void **state)
{
        (void)state;
        build_long_files();

        static const struct {
                const char *name;
                const char *content;
                const char *why; /* the expected error after "path" */
        } cases[] = {
            {"wrong header", "date,ticker,open,high,low,close\n2024-01-02,AAA,1,1,1,1\n",
             ":1: expected header date,ticker,open,high,low,close,volume"},
            {"header in capitals after comments",
             "# c\n\nDate,Ticker,Open,High,Low,Close,Volume\n",
             ":3: expected header date,ticker,open,high,low,close,volume"},
            {"no header, data first", "2024-01-02,AAA,1,1,1,1,1\n",
             ":1: expected header date,ticker,open,high,low,close,volume"},
            {"6 fields", HDR "2024-01-02,AAA,1,1,1,1\n", ":2: expected 7 fields"},
            {"8 fields", HDR "2024-01-02,AAA,1,1,1,1,1,1\n", ":2: expected 7 fields"},
            {"one field", HDR "hello\n", ":2: expected 7 fields"},
            {"bad date month 13", HDR "2024-13-01,AAA,1,1,1,1,1\n",
             ":2: bad date '2024-13-01'"},
            {"bad date 2023-02-29", HDR "2023-02-29,AAA,1,1,1,1,1\n",
             ":2: bad date '2023-02-29'"},
            {"bad date garbage", HDR "yesterday,AAA,1,1,1,1,1\n",
             ":2: bad date 'yesterday'"},
            {"bad date quoted at most 16 chars",
             HDR "2024-01-02T00:00:00Z,AAA,1,1,1,1,1\n",
             ":2: bad date '2024-01-02T00:00'"},
            {"bad number on line 3",
             HDR "2024-01-02,AAA,1,1,1,1,1\n2024-01-03,AAA,abc,1,1,1,1\n",
             ":3: bad number"},
            {"trailing junk in number", HDR "2024-01-02,AAA,1,1,1,1.5x,1\n",
             ":2: bad number"},
            {"empty number", HDR "2024-01-02,AAA,1,,1,1,1\n", ":2: bad number"},
            {"number out of range", HDR "2024-01-02,AAA,1,1e999,1,1,1\n",
             ":2: bad number"},
            {"high < close", HDR "2024-01-02,AAA,10,10.5,9.5,11,100\n",
             ":2: need low <= open,close <= high"},
            {"low > open", HDR "2024-01-02,AAA,10,11,10.1,10.5,100\n",
             ":2: need low <= open,close <= high"},
            {"negative volume", HDR "2024-01-02,AAA,10,11,9,10.5,-1\n",
             ":2: prices must be finite and > 0, volume >= 0"},
            {"NaN close", HDR "2024-01-02,AAA,10,11,9,nan,100\n",
             ":2: prices must be finite and > 0, volume >= 0"},
            {"infinite volume", HDR "2024-01-02,AAA,10,11,9,10,inf\n",
             ":2: prices must be finite and > 0, volume >= 0"},
            {"zero open", HDR "2024-01-02,AAA,0,11,9,10,1\n",
             ":2: prices must be finite and > 0, volume >= 0"},
            {"empty ticker", HDR "2024-01-02,,10,11,9,10,1\n", ":2: bad ticker"},
            {"overlong comment line", long_comment_file, ":2: line too long"},
            {"overlong data line", long_row_file, ":3: line too long"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char path[64], err[512] = "", want[512];
                write_tmp(path, sizeof path, cases[i].content);
                te_bars_t *b = te_bars_load_csv(path, err, sizeof err);
                unlink(path);
                snprintf(want, sizeof want, "%s%s", path, cases[i].why);
                if (b || strcmp(err, want) != 0) {
                        print_error("%s: %s \"%s\", expected \"%s\"\n", cases[i].name,
                                    b ? "loaded," : "error", err, want);
                        te_bars_destroy(b);
                        fail();
                }
        }
}

static void test_bars_load_missing_file(void **state)
{
        (void)state;
        char err[256] = "";
        te_bars_t *b = te_bars_load_csv("/nonexistent-dir/bars.csv", err, sizeof err);
        assert_null(b);
        assert_string_equal(err, "/nonexistent-dir/bars.csv: No such file or directory");
}

/* Bars in (after, upto], in date order whatever order they were added in. */
static void test_bars_range(void **state)
{
        (void)state;
        te_bars_t *b = te_bars_new();
        assert_non_null(b);
        char err[128];
        static const int32_t days[] = {105, 101, 103, 102}; /* 104 missing: a gap */
        for (size_t i = 0; i < 4; i++) {
                te_bar_t x = {days[i], 10, 11, 9, 10, 100 * days[i]};
                assert_int_equal(te_bars_add(b, "AAA", &x, err, sizeof err), 0);
        }
        static const struct {
                int32_t after, upto;
                size_t n;
                int32_t first_day;
        } cases[] = {
            {100, 105, 4, 101}, /* all */
            {101, 103, 2, 102}, /* after is exclusive, upto inclusive */
            {103, 104, 0, 0},   /* only the missing day */
            {103, 105, 1, 105}, /* across the gap */
            {105, 200, 0, 0},   /* after the last */
            {0, 100, 0, 0},     /* before the first */
            {104, 103, 0, 0},   /* empty interval */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const te_bar_t *f = NULL;
                size_t n = te_bars_range(b, "AAA", cases[i].after, cases[i].upto, &f);
                if (n != cases[i].n || (n && f->day != cases[i].first_day) || (!n && f)) {
                        print_error("case %zu: n %zu first %d\n", i, n, f ? f->day : -1);
                        fail();
                }
                for (size_t k = 1; k < n; k++)
                        assert_true(f[k].day > f[k - 1].day);
        }
        const te_bar_t *f = NULL;
        assert_int_equal(te_bars_range(b, "NOPE", 0, 1000, &f), 0);
        assert_null(f);
        assert_int_equal(te_bars_has(b, "AAA"), 1);
        assert_int_equal(te_bars_has(b, "NOPE"), 0);
        te_bars_destroy(b);
}

static int n_cb;
static void split_cb(void *ctx, const char *ticker, int32_t day, double ratio)
{
        (void)ctx;
        n_cb++;
        assert_string_equal(ticker, "SPL");
        assert_int_equal(day, 3);
        assert_true(fabs(ratio - 0.5) < 1e-12);
}

/* An unadjusted 2:1 split shows as an overnight halving; normal moves do not. */
static void test_bars_check_splits(void **state)
{
        (void)state;
        te_bars_t *b = te_bars_new();
        assert_non_null(b);
        char err[128];
        static const struct {
                const char *tk;
                te_bar_t bar;
        } rows[] = {
            {"SPL", {1, 100, 101, 99, 100, 1000}}, {"SPL", {2, 100, 101, 99, 100, 1000}},
            {"SPL", {3, 50, 51, 49, 50, 2000}}, /* open 50 / previous close 100 */
            {"OK", {1, 100, 101, 99, 100, 1000}},  {"OK", {2, 150, 151, 149, 150, 1000}},
            {"OK", {3, 90, 91, 89, 90, 1000}}, /* +50%, -40%: under 1.8x */
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
                assert_int_equal(
                    te_bars_add(b, rows[i].tk, &rows[i].bar, err, sizeof err), 0);
        n_cb = 0;
        assert_int_equal(te_bars_check_splits(b, 1.8, split_cb, NULL), 1);
        assert_int_equal(n_cb, 1);
        assert_int_equal(te_bars_check_splits(b, 2.5, NULL, NULL), 0);
        te_bars_destroy(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_bars_parse_date),
            cmocka_unit_test(test_bars_day_of_ms),
            cmocka_unit_test(test_bars_at_or_before),
            cmocka_unit_test(test_bars_add_validation),
            cmocka_unit_test(test_bars_load_good_csv),
            cmocka_unit_test(test_bars_load_bad_csv),
            cmocka_unit_test(test_bars_load_missing_file),
            cmocka_unit_test(test_bars_range),
            cmocka_unit_test(test_bars_check_splits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
