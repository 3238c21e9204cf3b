/*
 * test_bt_stages: the stage breakdown's pieces: histogram sums and counts read from a
 * Prometheus page (label sets added up, a name that is only a prefix of another not
 * taken, a missing family refused), CPU time of a live process from /proc and of none,
 * a free port, and the printed lines (the phases add up, clock = planning - planner
 * CPU - broker CPU, the floor ratio).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bt_stages.h"

static const char page[] = "# HELP te_sink_db_commit_seconds one batch transaction\n"
                           "# TYPE te_sink_db_commit_seconds histogram\n"
                           "te_sink_db_commit_seconds_bucket{le=\"0.01\"} 3\n"
                           "te_sink_db_commit_seconds_sum 1.5\n"
                           "te_sink_db_commit_seconds_count 12\n"
                           "te_sink_db_commit_seconds_sum_other 99\n"
                           "te_x_seconds_sum{topic=\"a\"} 2\n"
                           "te_x_seconds_sum{topic=\"b\"} 0.25\n"
                           "te_x_seconds_count{topic=\"a\"} 4\n"
                           "te_x_seconds_count{topic=\"b\"} 1\n";

static void hist_sums(void **state)
{
        (void)state;
        te_bt_hist_t h;
        assert_int_equal(te_bt_stages_hist(page, "te_sink_db_commit_seconds", &h), 0);
        assert_true(h.sum == 1.5);    /* not the _sum_other line */
        assert_true(h.count == 12.0); /* not the bucket */
        assert_int_equal(te_bt_stages_hist(page, "te_x_seconds", &h), 0);
        assert_true(h.sum == 2.25);
        assert_true(h.count == 5.0);
        assert_int_equal(te_bt_stages_hist(page, "te_missing_seconds", &h), -1);
        assert_int_equal(te_bt_stages_hist("", "te_x_seconds", &h), -1);
}

static void cpu_times(void **state)
{
        (void)state;
        /* burn a little CPU so that the figures are above a clock tick */
        volatile double x = 0;
        for (long i = 0; i < 30000000L; i++)
                x += (double)i * 1e-9;
        double mine = te_bt_stages_proc_cpu(getpid());
        double self = te_bt_stages_self_cpu();
        assert_true(mine > 0);
        assert_true(self > 0);
        assert_true(mine <= self + 0.05 && self <= mine + 0.05);
        assert_true(te_bt_stages_proc_cpu(0x7ffffff0) < 0); /* no such process */
        int port = te_bt_stages_free_port();
        assert_true(port > 0 && port < 65536);
}

static double field(const char *text, const char *line_start, const char *key)
{
        const char *l = strstr(text, line_start);
        assert_non_null(l);
        const char *k = strstr(l, key);
        assert_non_null(k);
        return strtod(k + strlen(key), NULL);
}

static void printed(void **state)
{
        (void)state;
        te_bt_stages_t st;
        memset(&st, 0, sizeof st);
        st.t_start = 1000;
        st.t_spawn = 3000;
        st.t_first_plan = 5000;
        st.t_planned = 25000;
        st.t_drained = 26000;
        st.t_stopped = 26500;
        st.t_end = 30000;
        st.targets = 1000;
        st.clock_rtt_ms = 2.5;
        st.cpu_s[TE_BT_PLANNER] = 4;
        st.cpu_s[TE_BT_BROKER] = 1;
        st.cpu_s[TE_BT_SINK] = 2;
        st.db_commit.sum = 3;
        st.db_commit.count = 30;
        char buf[4096];
        FILE *fp = fmemopen(buf, sizeof buf, "w");
        assert_non_null(fp);
        te_bt_stages_print(&st, fp);
        fclose(fp);
        assert_true(field(buf, "stage wall", "wall=") == 29.0);
        assert_true(field(buf, "stage setup", "setup=") == 4.0);
        assert_true(field(buf, "stage planning", "planning=") == 20.0);
        assert_true(field(buf, "stage planning", "per_target=") == 20.0);
        /* 20 s - 4 s planner - 1 s broker; floor 1000 x 2.5 ms */
        assert_true(field(buf, "stage   clock", "clock=") == 15.0);
        assert_true(field(buf, "stage   clock", "floor=") == 2.5);
        assert_true(field(buf, "stage   clock", " x") == 6.0);
        assert_true(field(buf, "stage db_commit", "mean=") == 100.0);
        double sum = field(buf, "stage setup", "setup=") +
                     field(buf, "stage planning", "planning=") +
                     field(buf, "stage drain", "drain=") +
                     field(buf, "stage stop", "stop=") +
                     field(buf, "stage report", "report=");
        assert_true(sum == 29.0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(hist_sums),
            cmocka_unit_test(cpu_times),
            cmocka_unit_test(printed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
