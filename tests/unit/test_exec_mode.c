/*
 * test_exec_mode: the execution-level table — which mode messages are refused (and
 * why), and which level is in force for a portfolio after a sequence of messages
 * (later effective_from wins, then later arrival; a portfolio's own entry against "*";
 * a refused message changes nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exec_mode.h"
#include "te_buf.h"

#define N  TE_LEVEL_NORMAL
#define RO TE_LEVEL_REDUCE_ONLY
#define EM TE_LEVEL_EMERGENCY
#define H  TE_LEVEL_HALT

static te_exec_mode_t msg(const char *scope, int level, int64_t effective_from)
{
        te_exec_mode_t m;
        memset(&m, 0, sizeof m);
        te_strlcpy(m.scope, scope, sizeof m.scope);
        m.level = (te_level_t)level;
        m.effective_from = effective_from;
        te_strlcpy(m.reason, "test", sizeof m.reason);
        return m;
}

typedef struct check_case_s {
        const char *name;
        const char *scope;
        int level;
        int64_t effective_from;
        const char *code; /* NULL: accepted */
        const char *why;  /* a part of the details */
} check_case_t;

static const check_case_t check_cases[] = {
    {"every portfolio", "*", H, 0, NULL, NULL},
    {"one portfolio", "pf-1", RO, 1738368000000, NULL, NULL},
    {"inner blank is part of an id", "desk a", EM, 5, NULL, NULL},
    {"empty scope", "", H, 0, "invalid_scope", "empty"},
    {"pattern", "pf-*", H, 0, "invalid_scope", "no patterns"},
    {"star with padding", " *", H, 0, "invalid_scope", "no patterns"},
    {"trailing blank", "pf-1 ", H, 0, "invalid_scope", "leading or trailing blank"},
    {"leading blank", " pf-1", H, 0, "invalid_scope", "leading or trailing blank"},
    {"tab", "pf\t1", H, 0, "invalid_scope", "control character at byte 2"},
    {"newline", "pf-1\n", H, 0, "invalid_scope", "control character at byte 4"},
    {"DEL", "pf\x7f", H, 0, "invalid_scope", "control character at byte 2"},
    {"level above HALT", "*", 4, 0, "invalid_level", "level 4 out of range"},
    {"negative level", "*", -1, 0, "invalid_level", "level -1 out of range"},
    {"before 1970", "pf-1", N, -1, "invalid_effective_from", "before 1970"},
};

static void test_exec_mode_check(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof check_cases / sizeof check_cases[0]; i++) {
                const check_case_t *c = &check_cases[i];
                te_exec_mode_t m = msg(c->scope, c->level, c->effective_from);
                char why[256] = "";
                const char *code = te_exec_mode_check(&m, why, sizeof why);
                print_message("case %s\n", c->name);
                if (!c->code) {
                        assert_null(code);
                        continue;
                }
                assert_non_null(code);
                assert_string_equal(code, c->code);
                assert_non_null(strstr(why, c->why));
                /* a refused message is never recorded */
                te_exec_mode_levels_t *t = te_exec_mode_new();
                assert_non_null(t);
                assert_int_equal(te_exec_mode_apply(t, &m), -1);
                assert_int_equal(te_exec_mode_level(t, c->scope), N);
                assert_int_equal(te_exec_mode_level(t, "pf-1"), N);
                te_exec_mode_destroy(t);
        }
}

static void test_exec_mode_unterminated_scope(void **state)
{
        (void)state;
        te_exec_mode_t m = msg("*", H, 0);
        memset(m.scope, 'a', sizeof m.scope); /* no terminator inside the field */
        char why[128];
        const char *code = te_exec_mode_check(&m, why, sizeof why);
        assert_non_null(code);
        assert_string_equal(code, "invalid_scope");
        assert_string_equal(why, "scope not terminated");
}

typedef struct step_s {
        const char *scope;
        int level;
        int64_t effective_from;
        int applied; /* te_exec_mode_apply's result */
} step_t;

typedef struct seq_case_s {
        const char *name;
        step_t steps[6];
        size_t n;
        te_level_t pf1, pf2; /* levels in force afterwards */
} seq_case_t;

static const seq_case_t seq_cases[] = {
    {"nothing: NORMAL", {{0}}, 0, N, N},
    {"star applies to all", {{"*", H, 10, 1}}, 1, H, H},
    {"own entry later than star wins", {{"*", H, 10, 1}, {"pf-1", N, 20, 1}}, 2, N, H},
    {"star later than own entry wins",
     {{"pf-1", EM, 10, 1}, {"*", RO, 20, 1}},
     2,
     RO,
     RO},
    {"same effective_from: later arrival wins",
     {{"*", H, 10, 1}, {"pf-1", N, 10, 1}},
     2,
     N,
     H},
    {"same effective_from, star arrives last",
     {{"pf-1", N, 10, 1}, {"*", H, 10, 1}},
     2,
     H,
     H},
    {"an entry replaces its scope's previous one",
     {{"pf-1", H, 30, 1}, {"pf-1", N, 5, 1}, {"*", RO, 10, 1}},
     3,
     RO,
     RO},
    {"refused messages in between change nothing",
     {{"*", H, 10, 1},
      {"pf-*", N, 99, -1},
      {"pf-1 ", N, 99, -1},
      {"pf-1", N, -5, -1},
      {"*", 9, 99, -1},
      {"pf-2", EM, 20, 1}},
     6,
     H,
     EM},
};

static void test_exec_mode_levels(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof seq_cases / sizeof seq_cases[0]; i++) {
                const seq_case_t *c = &seq_cases[i];
                print_message("case %s\n", c->name);
                te_exec_mode_levels_t *t = te_exec_mode_new();
                assert_non_null(t);
                for (size_t k = 0; k < c->n; k++) {
                        te_exec_mode_t m = msg(c->steps[k].scope, c->steps[k].level,
                                               c->steps[k].effective_from);
                        assert_int_equal(te_exec_mode_apply(t, &m), c->steps[k].applied);
                }
                assert_int_equal(te_exec_mode_level(t, "pf-1"), c->pf1);
                assert_int_equal(te_exec_mode_level(t, "pf-2"), c->pf2);
                te_exec_mode_destroy(t);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_exec_mode_check),
            cmocka_unit_test(test_exec_mode_unterminated_scope),
            cmocka_unit_test(test_exec_mode_levels),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
