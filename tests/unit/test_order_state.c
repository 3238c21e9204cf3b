/*
 * test_order_state: the order state machine (docs/DESIGN.md invariant 3) — terminal
 * states, the full from/to table, happy paths walked step by step, out-of-range values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "te_order_state.h"

#define PN  TE_OS_PENDING_NEW
#define NEW TE_OS_NEW
#define PF  TE_OS_PARTIALLY_FILLED
#define FIL TE_OS_FILLED
#define PC  TE_OS_PENDING_CANCEL
#define CAN TE_OS_CANCELED
#define PR  TE_OS_PENDING_REPLACE
#define REP TE_OS_REPLACED
#define REJ TE_OS_REJECTED
#define EXP TE_OS_EXPIRED

static void test_order_state_terminal(void **state)
{
        (void)state;
        static const struct {
                int s;
                int terminal;
        } cases[] = {
            {PN, 0},  {NEW, 0}, {PF, 0},  {FIL, 1}, {PC, 0}, {CAN, 1},  {PR, 0},
            {REP, 1}, {REJ, 1}, {EXP, 1}, {-1, 0},  {10, 0}, {1000, 0},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                if (te_os_is_terminal((te_order_status_t)cases[i].s) !=
                    cases[i].terminal) {
                        print_error("case %zu: is_terminal(%d) != %d\n", i, cases[i].s,
                                    cases[i].terminal);
                        fail();
                }
        }
}

/*
 * The whole table, written from the state machine in te_order_state.h:
 *  - staying in a live state is legal; terminal states go nowhere, not even to
 *    themselves;
 *  - PENDING_NEW cannot be replaced before the broker acknowledges it;
 *  - PARTIALLY_FILLED cannot be REJECTED (the broker already took part of it) nor
 *    go back to NEW;
 *  - a refused cancel/replace takes PENDING_* back to NEW (or onwards to a fill);
 *  - PENDING_CANCEL cannot turn into a replace and PENDING_REPLACE cannot turn into
 *    a pending cancel.
 */
static const int legal[TE_OS__CNT][TE_OS__CNT] = {
    /*         PN NEW PF FIL PC CAN PR REP REJ EXP */
    [PN] = {1, 1, 1, 1, 1, 1, 0, 0, 1, 1},  [NEW] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    [PF] = {0, 0, 1, 1, 1, 1, 1, 1, 0, 1},  [FIL] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    [PC] = {0, 1, 1, 1, 1, 1, 0, 0, 1, 1},  [CAN] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    [PR] = {0, 1, 1, 1, 0, 1, 1, 1, 1, 1},  [REP] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    [REJ] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, [EXP] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
};

static void test_order_state_transition_table(void **state)
{
        (void)state;
        for (int from = 0; from < TE_OS__CNT; from++) {
                for (int to = 0; to < TE_OS__CNT; to++) {
                        int got = te_os_transition_ok((te_order_status_t)from,
                                                      (te_order_status_t)to);
                        if (got != legal[from][to]) {
                                print_error("%s -> %s: got %d, expected %d\n",
                                            te_order_status_name((te_order_status_t)from),
                                            te_order_status_name((te_order_status_t)to),
                                            got, legal[from][to]);
                                fail();
                        }
                }
        }
}

/* Every terminal state refuses every move, listed case by case. */
static void test_order_state_terminal_refuses_all(void **state)
{
        (void)state;
        static const int terminals[] = {FIL, CAN, REP, REJ, EXP};
        static const int targets[] = {PN, NEW, PF, FIL, PC, CAN, PR, REP, REJ, EXP};
        for (size_t i = 0; i < sizeof terminals / sizeof terminals[0]; i++)
                for (size_t j = 0; j < sizeof targets / sizeof targets[0]; j++)
                        assert_int_equal(
                            te_os_transition_ok((te_order_status_t)terminals[i],
                                                (te_order_status_t)targets[j]),
                            0);
}

/* Paths an order takes in practice: each step must be legal. */
static void test_order_state_happy_paths(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                int path[8];
                int n;
        } cases[] = {
            {"ack, fill", {PN, NEW, FIL}, 3},
            {"ack, partials, fill", {PN, NEW, PF, PF, PF, FIL}, 6},
            {"fill without ack", {PN, FIL}, 2},
            {"partial without ack", {PN, PF, FIL}, 3},
            {"reject before ack", {PN, REJ}, 2},
            {"reject after ack", {PN, NEW, REJ}, 3},
            {"cancel", {PN, NEW, PC, CAN}, 4},
            {"cancel after partial", {PN, NEW, PF, PC, CAN}, 5},
            {"cancel refused", {PN, NEW, PC, NEW, FIL}, 5},
            {"fill while cancel pending", {PN, NEW, PC, FIL}, 4},
            {"unsolicited cancel", {PN, NEW, CAN}, 3},
            {"replace", {PN, NEW, PR, REP}, 4},
            {"replace after partial", {PN, NEW, PF, PR, REP}, 5},
            {"replace refused", {PN, NEW, PR, NEW}, 4},
            {"partial while replace pending", {PN, NEW, PR, PF, FIL}, 5},
            {"expire", {PN, NEW, EXP}, 3},
            {"expire after partial", {PN, NEW, PF, EXP}, 4},
            {"expire unacked", {PN, EXP}, 2},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                for (int k = 1; k < cases[i].n; k++) {
                        te_order_status_t a = (te_order_status_t)cases[i].path[k - 1];
                        te_order_status_t b = (te_order_status_t)cases[i].path[k];
                        if (!te_os_transition_ok(a, b)) {
                                print_error("%s: step %d %s -> %s refused\n",
                                            cases[i].name, k, te_order_status_name(a),
                                            te_order_status_name(b));
                                fail();
                        }
                }
        }
}

static void test_order_state_out_of_range(void **state)
{
        (void)state;
        static const struct {
                int from, to;
        } cases[] = {
            {-1, NEW}, {NEW, -1},       {10, NEW},       {NEW, 10},
            {PN, 10},  {10, 10},        {-1, -1},        {1000000, FIL},
            {PF, 99},  {INT32_MIN, PN}, {PN, INT32_MAX},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                if (te_os_transition_ok((te_order_status_t)cases[i].from,
                                        (te_order_status_t)cases[i].to) != 0) {
                        print_error("case %zu: %d -> %d accepted\n", i, cases[i].from,
                                    cases[i].to);
                        fail();
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_order_state_terminal),
            cmocka_unit_test(test_order_state_transition_table),
            cmocka_unit_test(test_order_state_terminal_refuses_all),
            cmocka_unit_test(test_order_state_happy_paths),
            cmocka_unit_test(test_order_state_out_of_range),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
