/*
 * Unit tests for te_procstat: /proc/<pid>/stat and /proc/<pid>/limits parsing (names
 * with spaces and parentheses, short or bad lines, unlimited), the live read of
 * /proc/self, and the process_* families on the te_obs registry.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "te_buf.h"
#include "te_metrics.h"
#include "te_obs.h"
#include "te_procstat.h"

/* A real stat line (kernel 6.x, 52 fields) with utime 250, stime 50, vsize 104857600,
 * rss 2560. */
#define STAT_TAIL                                                                        \
        " S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 3 0 12345 104857600 "     \
        "2560 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 "   \
        "0 0 0 0\n"

static void test_stat_plain(void **state)
{
        (void)state;
        te_procstat_t ps = {0};
        assert_int_equal(
            te_procstat_parse_stat("1234 (exec-sink)" STAT_TAIL, 100, 4096, &ps), 0);
        assert_true(ps.cpu_seconds == 3.0); /* (250 + 50) / 100 */
        assert_true(ps.resident_bytes == 2560.0 * 4096);
        assert_true(ps.virtual_bytes == 104857600.0);
}

static void test_stat_odd_names(void **state)
{
        (void)state;
        static const char *names[] = {"(a b)", "(x) (y)", "())", "((", "( ) S 9 9 )"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                char line[512];
                snprintf(line, sizeof line, "77 %s%s", names[i], STAT_TAIL);
                te_procstat_t ps = {0};
                int rc = te_procstat_parse_stat(line, 100, 4096, &ps);
                if (strcmp(names[i], "((") == 0) {
                        /* no ')' in the name: the last ')' is missing altogether */
                        assert_int_equal(rc, -1);
                        continue;
                }
                assert_int_equal(rc, 0);
                assert_true(ps.cpu_seconds == 3.0);
                assert_true(ps.resident_bytes == 2560.0 * 4096);
        }
}

static void test_stat_bad(void **state)
{
        (void)state;
        te_procstat_t ps = {.cpu_seconds = 42};
        static const char *bad[] = {
            "",
            "1234",
            "1234 (x)",
            "1234 (x) S 1 2 3",                                            /* short */
            "1234 (x) S 1 1 1 0 -1 0 0 0 0 0 2x0 50 0 0 20 0 3 0 1 1 1\n", /* not a number
                                                                            */
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(te_procstat_parse_stat(bad[i], 100, 4096, &ps), -1);
        assert_int_equal(te_procstat_parse_stat("1 (x)" STAT_TAIL, 0, 4096, &ps), -1);
        assert_true(ps.cpu_seconds == 42); /* untouched on failure */
}

static void test_limits(void **state)
{
        (void)state;
        double max = 0;
        const char *text = "Limit                     Soft Limit           Hard Limit    "
                           "       Units     \n"
                           "Max cpu time              unlimited            unlimited     "
                           "       seconds   \n"
                           "Max open files            1024                 524288        "
                           "       files     \n"
                           "Max locked memory         8388608              8388608       "
                           "       bytes     \n";
        assert_int_equal(te_procstat_parse_limits(text, &max), 0);
        assert_true(max == 1024);
        assert_int_equal(
            te_procstat_parse_limits(
                "Max open files            unlimited   unlimited  files\n", &max),
            0);
        assert_true(max == -1);
        assert_int_equal(te_procstat_parse_limits("Max cpu time 1 1 seconds\n", &max),
                         -1);
        assert_int_equal(
            te_procstat_parse_limits("Max open files   lots  1 files\n", &max), -1);
        assert_int_equal(te_procstat_parse_limits("", &max), -1);
}

/* The live read sees a descriptor this test opens and some CPU time. */
static void test_read_self(void **state)
{
        (void)state;
        te_procstat_t before, after;
        assert_int_equal(te_procstat_read(&before), 0);
        int fd = open("/dev/null", O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(te_procstat_read(&after), 0);
        close(fd);
        assert_true(after.open_fds == before.open_fds + 1);
        assert_true(after.resident_bytes > 0);
        assert_true(after.virtual_bytes >= after.resident_bytes);
        assert_true(after.cpu_seconds >= 0);
        assert_true(after.max_fds == -1 || after.max_fds >= after.open_fds);
}

/* The te_obs registry renders the process_* families (values filled at render). */
static void test_obs_families(void **state)
{
        (void)state;
        te_metrics_t *r = te_obs_registry();
        assert_non_null(r);
        te_buf_t b;
        te_buf_init(&b, 1 << 20);
        assert_int_equal(te_metrics_render(r, &b), 0);
        const char *text = te_buf_cstr(&b);
        assert_non_null(text);
        assert_non_null(strstr(text, "# TYPE process_cpu_seconds_total counter\n"));
        assert_non_null(strstr(text, "\nprocess_cpu_seconds_total "));
        assert_non_null(strstr(text, "\nprocess_resident_memory_bytes "));
        assert_non_null(strstr(text, "\nprocess_open_fds "));
        assert_null(strstr(text, "\nprocess_resident_memory_bytes 0\n"));
        te_buf_free(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_stat_plain), cmocka_unit_test(test_stat_odd_names),
            cmocka_unit_test(test_stat_bad),   cmocka_unit_test(test_limits),
            cmocka_unit_test(test_read_self),  cmocka_unit_test(test_obs_families),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
