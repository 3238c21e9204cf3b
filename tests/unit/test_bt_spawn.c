/*
 * test_bt_spawn: the command lines of a backtest's processes, from the option table:
 * each process's whole argv written out (bars from a CSV file and from the database,
 * with and without metrics ports), the low-latency kafka.* defaults giving way to the
 * config's, the user's options last, a malformed user option and an overlong value
 * refused; the names of a run and where the sibling binaries are looked for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "backtest_spawn.h"
#include "te_buf.h"

typedef struct fx_s {
        te_bt_conf_t c;
        te_bt_names_t nm;
        te_cfg_t *cfg;
        int dummy;
        int port[TE_BT_NPROC];
        te_bt_spawn_t s;
} fx_t;

static const te_cfg_item_t no_items[] = {
    {"dummy", TE_CFG_INT, 0, 0, "0", 0, 1, NULL, "unused"},
};

static int fx_setup(void **state)
{
        static fx_t fx;
        char err[256];
        memset(&fx, 0, sizeof fx);
        te_strlcpy(fx.c.out_dir, "/out", sizeof fx.c.out_dir);
        te_strlcpy(fx.c.bars_csv, "/data/bars.csv", sizeof fx.c.bars_csv);
        te_strlcpy(fx.c.common.db_conninfo, "host=/pg", sizeof fx.c.common.db_conninfo);
        fx.c.common.log_level = 2; /* warn */
        te_bt_names_init(&fx.nm, "r1");
        te_strlcpy(fx.nm.bootstrap, "127.0.0.1:9092", sizeof fx.nm.bootstrap);
        te_strlcpy(fx.nm.run_conninfo, "host=/pg dbname=bt_r1",
                   sizeof fx.nm.run_conninfo);
        fx.cfg = te_cfg_new(no_items, 1, &fx.dummy, err, sizeof err);
        assert_non_null(fx.cfg);
        fx.s = (te_bt_spawn_t){&fx.c, fx.cfg, "/usr/bin/exec-backtest", &fx.nm, fx.port};
        *state = &fx;
        return 0;
}

static int fx_teardown(void **state)
{
        fx_t *fx = *state;
        te_cfg_destroy(fx->cfg);
        return 0;
}

/* the options every process gets after its own rows: the kafka defaults */
#define KAFKA_DEFAULTS                                                                   \
        "-o", "kafka.fetch.wait.max.ms=1", "-o", "kafka.session.timeout.ms=6000", "-o",  \
            "kafka.heartbeat.interval.ms=500", "-o",                                     \
            "kafka.reconnect.backoff.max.ms=1000", "-o", "kafka.linger.ms=1"
#define COMMON "-o", "bootstrap.servers=127.0.0.1:9092", "-o", "bootstrap.file="
#define LEVEL  "-o", "log.level=warn"

static void expect_argv(const te_bt_argv_t *a, const char *const *want, size_t n)
{
        for (size_t i = 0; i < n && i < (size_t)a->argc; i++)
                if (strcmp(a->argv[i], want[i]) != 0)
                        fail_msg("argv[%zu] = \"%s\", want \"%s\"", i, a->argv[i],
                                 want[i]);
        assert_int_equal(a->argc, (int)n);
        assert_null(a->argv[a->argc]);
}

#define EXPECT(a, ...)                                                                   \
        do {                                                                             \
                static const char *const w_[] = {__VA_ARGS__};                           \
                expect_argv(a, w_, sizeof w_ / sizeof w_[0]);                            \
        } while (0)

static void test_sink(void **state)
{
        fx_t *fx = *state;
        te_bt_argv_t a;
        te_strlcpy(fx->c.sink_opts, "sink.batch=50  sink.x=a=b", sizeof fx->c.sink_opts);
        assert_int_equal(te_bt_argv(&a, TE_BT_SINK, "/b/exec-sink", &fx->s), 0);
        EXPECT(&a, "/b/exec-sink", COMMON, "-o", "group.id=bt-r1-sink", "-o",
               "topic.reports=bt.r1.reports", "-o", "db.conninfo=host=/pg dbname=bt_r1",
               LEVEL, KAFKA_DEFAULTS, "-o", "sink.batch=50", "-o", "sink.x=a=b");
}

static void test_broker_bars_csv_and_db(void **state)
{
        fx_t *fx = *state;
        te_bt_argv_t a;
        assert_int_equal(te_bt_argv(&a, TE_BT_BROKER, "exec-broker", &fx->s), 0);
        EXPECT(&a, "exec-broker", COMMON, "-o", "group.id=bt-r1-broker", "-o",
               "topic.orders=bt.r1.orders", "-o", "topic.reports=bt.r1.reports", "-o",
               "commit.interval.ms=100", LEVEL, "-o", "sim.bars_csv=/data/bars.csv",
               KAFKA_DEFAULTS);
        fx->c.bars_db = 1; /* the main database's prices_daily, not the run's */
        assert_int_equal(te_bt_argv(&a, TE_BT_BROKER, "exec-broker", &fx->s), 0);
        EXPECT(&a, "exec-broker", COMMON, "-o", "group.id=bt-r1-broker", "-o",
               "topic.orders=bt.r1.orders", "-o", "topic.reports=bt.r1.reports", "-o",
               "commit.interval.ms=100", LEVEL, "-o", "sim.bars_db=true", "-o",
               "db.conninfo=host=/pg", KAFKA_DEFAULTS);
}

static void test_planner_with_stages(void **state)
{
        fx_t *fx = *state;
        te_bt_argv_t a;
        fx->port[TE_BT_PLANNER] = 9401;
        /* a port without stages on is not passed */
        assert_int_equal(te_bt_argv(&a, TE_BT_PLANNER, "p", &fx->s), 0);
        for (int i = 0; i < a.argc; i++)
                assert_null(strstr(a.argv[i], "metrics.port"));
        fx->c.stages = 1;
        assert_int_equal(te_bt_argv(&a, TE_BT_PLANNER, "p", &fx->s), 0);
        EXPECT(&a, "p", COMMON, "-o", "group.id=bt-r1-planner", "-o",
               "sink.group=bt-r1-sink", "-o", "broker.group=bt-r1-broker", "-o",
               "topic.targets=bt.r1.targets", "-o", "topic.orders=bt.r1.orders", "-o",
               "topic.reports=bt.r1.reports", "-o", "commit.interval.ms=100", "-o",
               "db.conninfo=host=/pg dbname=bt_r1", LEVEL, "-o", "metrics.port=9401",
               KAFKA_DEFAULTS);
        fx->port[TE_BT_PLANNER] = 0;
        fx->c.stages = 0;
}

static void test_kafka_config_wins(void **state)
{
        fx_t *fx = *state;
        te_bt_argv_t a;
        char err[256];
        assert_int_equal(
            te_cfg_set(fx->cfg, "kafka.linger.ms", "7", "test", err, sizeof err), 0);
        assert_int_equal(te_cfg_set(fx->cfg, "kafka.security.protocol", "SSL", "test",
                                    err, sizeof err),
                         0);
        assert_int_equal(te_bt_argv(&a, TE_BT_SINK, "s", &fx->s), 0);
        EXPECT(&a, "s", COMMON, "-o", "group.id=bt-r1-sink", "-o",
               "topic.reports=bt.r1.reports", "-o", "db.conninfo=host=/pg dbname=bt_r1",
               LEVEL, "-o", "kafka.fetch.wait.max.ms=1", "-o",
               "kafka.session.timeout.ms=6000", "-o", "kafka.heartbeat.interval.ms=500",
               "-o", "kafka.reconnect.backoff.max.ms=1000", "-o", "kafka.linger.ms=7",
               "-o", "kafka.security.protocol=SSL");
}

static void test_refused(void **state)
{
        fx_t *fx = *state;
        te_bt_argv_t a;
        /* a user option without '=' */
        te_strlcpy(fx->c.planner_opts, "plan.x=1 oops", sizeof fx->c.planner_opts);
        assert_int_equal(te_bt_argv(&a, TE_BT_PLANNER, "p", &fx->s), -1);
        fx->c.planner_opts[0] = '\0';
        assert_int_equal(te_bt_argv(&a, TE_BT_PLANNER, "p", &fx->s), 0);
        /* more options than the argument vector holds */
        char many[1024] = "";
        for (int i = 0; i < 60; i++)
                strncat(many, "a=1 ", sizeof many - strlen(many) - 1);
        te_strlcpy(fx->c.broker_opts, many, sizeof fx->c.broker_opts);
        assert_int_equal(te_bt_argv(&a, TE_BT_BROKER, "b", &fx->s), -1);
        fx->c.broker_opts[0] = '\0';
        /* values that overflow the store (a kafka.* value may be 8 KiB, a PEM
         * blob): refused, argv stays bounded and terminated */
        static char big[8001];
        char err[256];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        assert_int_equal(
            te_cfg_set(fx->cfg, "kafka.ssl.ca.pem", big, "t", err, sizeof err), 0);
        assert_int_equal(te_bt_argv(&a, TE_BT_SINK, "s", &fx->s), 0); /* one fits */
        assert_int_equal(
            te_cfg_set(fx->cfg, "kafka.ssl.certificate.pem", big, "t", err, sizeof err),
            0);
        assert_int_equal(
            te_cfg_set(fx->cfg, "kafka.ssl.key.pem", big, "t", err, sizeof err), 0);
        assert_int_equal(te_bt_argv(&a, TE_BT_SINK, "s", &fx->s), -1);
        assert_true(a.argc < TE_BT_ARGV_MAX);
        assert_null(a.argv[a.argc]);
}

static void test_names_and_bins(void **state)
{
        fx_t *fx = *state;
        te_bt_names_t nm;
        char out[1300];
        te_bt_names_init(&nm, "x.2");
        assert_string_equal(nm.t_targets, "bt.x.2.targets");
        assert_string_equal(nm.t_orders, "bt.x.2.orders");
        assert_string_equal(nm.t_reports, "bt.x.2.reports");
        assert_string_equal(nm.g_planner, "bt-x.2-planner");
        assert_string_equal(nm.g_broker, "bt-x.2-broker");
        assert_string_equal(nm.g_sink, "bt-x.2-sink");
        te_bt_bin_path(&fx->s, "exec-sink", out, sizeof out);
        assert_string_equal(out, "/usr/bin/exec-sink");
        te_bt_spawn_t bare = fx->s;
        bare.self = "exec-backtest";
        te_bt_bin_path(&bare, "exec-sink", out, sizeof out);
        assert_string_equal(out, "./exec-sink");
        te_strlcpy(fx->c.bin_dir, "/opt/te", sizeof fx->c.bin_dir);
        te_bt_bin_path(&fx->s, "exec-broker", out, sizeof out);
        assert_string_equal(out, "/opt/te/exec-broker");
        fx->c.bin_dir[0] = '\0';
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_sink, fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_broker_bars_csv_and_db, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_planner_with_stages, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_kafka_config_wins, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_refused, fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_names_and_bins, fx_setup, fx_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
