/*
 * test_msg: enum symbol tables and the TargetPortfolio targets array (te_msg.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "te_msg.h"

static void test_msg_enum_names(void **state)
{
        (void)state;
        const struct {
                const char *got;
                const char *want;
        } c[] = {
            {te_mode_name(TE_MODE_TRAINING), "TRAINING"},
            {te_unit_name(TE_UNIT_QUANTITY), "QUANTITY"},
            {te_level_name(TE_LEVEL_REDUCE_ONLY), "REDUCE_ONLY"},
            {te_command_name(TE_CMD_CLOCK), "CLOCK"},
            {te_side_name(TE_SIDE_SELL), "SELL"},
            {te_order_type_name(TE_OT_STOP_LIMIT), "STOP_LIMIT"},
            {te_tif_name(TE_TIF_CLS), "CLS"},
            {te_aggr_name(TE_AGGR_EMERGENCY), "EMERGENCY"},
            {te_intent_name(TE_INTENT_INCREASE), "INCREASE"},
            {te_exec_type_name(TE_EXEC_BROKER_STATE), "BROKER_STATE"},
            {te_exec_type_name(TE_EXEC_CLOCK_ACK), "CLOCK_ACK"},
            {te_order_status_name(TE_OS_PENDING_REPLACE), "PENDING_REPLACE"},
            {te_order_status_name(TE_OS_EXPIRED), "EXPIRED"},
            {te_severity_name(TE_SEV_CRITICAL), "CRITICAL"},
            {te_side_name((te_side_t)2), "?"},
            {te_tif_name((te_tif_t)-1), "?"},
            {te_exec_type_name(TE_EXEC__CNT), "?"},
        };
        for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
                assert_string_equal(c[i].got, c[i].want);
}

static void test_msg_enum_parse(void **state)
{
        static const struct {
                const char *const *names;
                int n;
                const char *s;
                int want;
        } cases[] = {
            {te_side_names, TE_SIDE__CNT, "BUY", TE_SIDE_BUY},
            {te_side_names, TE_SIDE__CNT, "SELL", TE_SIDE_SELL},
            {te_side_names, TE_SIDE__CNT, "sell", -1},
            {te_side_names, TE_SIDE__CNT, "", -1},
            {te_tif_names, TE_TIF__CNT, "OPG", TE_TIF_OPG},
            {te_order_status_names, TE_OS__CNT, "PARTIALLY_FILLED",
             TE_OS_PARTIALLY_FILLED},
            {te_exec_type_names, TE_EXEC__CNT, "FILL", TE_EXEC_FILL},
            {te_level_names, TE_LEVEL__CNT, "HALT", TE_LEVEL_HALT},
            {te_aggr_names, TE_AGGR__CNT, "NORMAL", TE_AGGR_NORMAL},
            {te_level_names, TE_LEVEL__CNT, NULL, -1},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_int_equal(te_enum_parse(cases[i].names, cases[i].n, cases[i].s),
                                 cases[i].want);
}

static void test_msg_targets_grow_to_the_cap(void **state)
{
        te_target_portfolio_t tp;
        te_target_t t;
        (void)state;
        memset(&tp, 0, sizeof tp);
        memset(&t, 0, sizeof t);
        te_target_portfolio_free(NULL);
        for (size_t i = 0; i < TE_TARGETS_MAX; i++) {
                t.value = (double)i;
                assert_int_equal(te_target_portfolio_add(&tp, &t), 0);
        }
        assert_int_equal(tp.n_targets, TE_TARGETS_MAX);
        assert_true(tp.cap_targets <= TE_TARGETS_MAX);
        assert_true(tp.targets[TE_TARGETS_MAX - 1].value == (double)(TE_TARGETS_MAX - 1));
        assert_int_equal(te_target_portfolio_add(&tp, &t), -1);
        assert_int_equal(tp.n_targets, TE_TARGETS_MAX);
        te_target_portfolio_free(&tp);
        assert_null(tp.targets);
        assert_int_equal(tp.n_targets, 0);
        assert_int_equal(tp.cap_targets, 0);
        /* usable again after free */
        assert_int_equal(te_target_portfolio_add(&tp, &t), 0);
        assert_int_equal(tp.n_targets, 1);
        te_target_portfolio_free(&tp);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_msg_enum_names),
            cmocka_unit_test(test_msg_enum_parse),
            cmocka_unit_test(test_msg_targets_grow_to_the_cap),
        };
        return cmocka_run_group_tests_name("msg", tests, NULL, NULL);
}
