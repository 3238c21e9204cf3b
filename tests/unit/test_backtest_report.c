/*
 * test_backtest_report: the pure helpers of the backtest runner — run id to database
 * name (accepted and refused ids) and day numbers to dates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "backtest.h"
#include "backtest_report.h"

static void test_backtest_db_name(void **state)
{
        (void)state;
        static const struct {
                const char *id, *db; /* NULL db: refused */
        } cases[] = {
            {"demo", "bt_demo"},
            {"Det-A.2", "bt_det_a_2"},
            {"x_1", "bt_x_1"},
            {"", NULL},
            {"bad/id", NULL},
            {"semi;colon", NULL},
            {"sp ace", NULL},
            {"quote'", NULL},
            {"0123456789012345678901234567890123456789",
             "bt_0123456789012345678901234567890123456789"},
            {"01234567890123456789012345678901234567890", NULL}, /* 41 > 40 */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char out[64];
                int rc = te_bt_db_name(cases[i].id, out, sizeof out);
                if (cases[i].db) {
                        assert_int_equal(rc, 0);
                        assert_string_equal(out, cases[i].db);
                } else if (rc != -1) {
                        print_error("case %zu (%s) accepted as %s\n", i, cases[i].id,
                                    out);
                        fail();
                }
        }
        char small[8];
        assert_int_equal(te_bt_db_name("toolong", small, sizeof small), -1);
}

static void test_backtest_day_str(void **state)
{
        (void)state;
        static const struct {
                int32_t day;
                const char *s;
        } cases[] = {
            {0, "1970-01-01"},     {19724, "2024-01-02"}, {19782, "2024-02-29"},
            {14610, "2010-01-01"}, {-1, "1969-12-31"},    {20453, "2025-12-31"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char out[16];
                te_bt_day_str(cases[i].day, out, sizeof out);
                assert_string_equal(out, cases[i].s);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_backtest_db_name),
            cmocka_unit_test(test_backtest_day_str),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
