/*
 * Unit tests for te_cfgtab's command-line tool start-up (te_tool_*): the shared flags
 * taken from a getopt_long loop, -b against --bootstrap-file, the precedence
 * file < EXEC_* environment < -o < flags, the "no bootstrap servers" check and the
 * bootstrap file resolved into kafka.bootstrap.servers; the exec-broker and
 * exec-planner tables: their defaults are what the modules get, -c and -o reach the
 * modules' structs, unknown keys are refused.
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

#include "broker_adapter.h"
#include "../broker_defaults.h"
#include "../plan_defaults.h"
#include "te_buf.h"
#include "te_cfgtab.h"

typedef struct tool_conf_s {
        te_tool_conf_t tool;
        char topic[64];
} tool_conf_t;

static const te_cfg_item_t tool_items[] = {
    TE_CFG_TOOL(tool_conf_t, "warn"),
    TE_CFG_S(tool_conf_t, "topic", topic, "", "topic"),
};
#define N_ITEMS (sizeof tool_items / sizeof tool_items[0])

/* Write `content` to a new temp file; path receives its name. */
static void write_temp(char *path, size_t pathsz, const char *content)
{
        snprintf(path, pathsz, "/tmp/test_cfgtab_XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        FILE *fp = fdopen(fd, "w");
        assert_non_null(fp);
        fputs(content, fp);
        assert_int_equal(fclose(fp), 0);
}

static void test_tool_opt_takes_shared_flags(void **state)
{
        (void)state;
        te_tool_args_t a;
        char c[] = "cfg.conf", b[] = "h:1", f[] = "/tmp/bs", o1[] = "topic=x",
             o2[] = "log.level=debug";
        memset(&a, 0, sizeof a);
        assert_int_equal(te_tool_opt(&a, "t", 'c', c), 1);
        assert_int_equal(te_tool_opt(&a, "t", 'b', b), 1);
        assert_int_equal(te_tool_opt(&a, "t", TE_TOOL_OPT_BFILE, f), 1);
        assert_int_equal(te_tool_opt(&a, "t", 'o', o1), 1);
        assert_int_equal(te_tool_opt(&a, "t", 'o', o2), 1);
        assert_int_equal(te_tool_opt(&a, "t", 't', o1), 0); /* the tool's own flag */
        assert_int_equal(te_tool_opt(&a, "t", 'n', NULL), 0);
        assert_string_equal(a.config, "cfg.conf");
        assert_string_equal(a.bootstrap, "h:1");
        assert_string_equal(a.bootstrap_file, "/tmp/bs");
        assert_int_equal(a.n_overrides, 2);
        assert_string_equal(a.overrides[0], "topic=x");
        assert_string_equal(a.overrides[1], "log.level=debug");
        /* -b and --bootstrap-file together */
        assert_int_equal(te_tool_args_check(&a, "t"), -1);
        a.bootstrap = NULL;
        assert_int_equal(te_tool_args_check(&a, "t"), 0);
        /* at most TE_TOOL_MAX_OVERRIDES -o */
        while (a.n_overrides < TE_TOOL_MAX_OVERRIDES)
                assert_int_equal(te_tool_opt(&a, "t", 'o', o1), 1);
        assert_int_equal(te_tool_opt(&a, "t", 'o', o1), -1);
        assert_int_equal(a.n_overrides, TE_TOOL_MAX_OVERRIDES);
}

static void test_tool_cfg_precedence(void **state)
{
        (void)state;
        char path[64], errstr[256] = "";
        write_temp(path, sizeof path,
                   "topic = from-file\nlog.level = error\nbootstrap.wait.ms = 5\n"
                   "kafka.bootstrap.servers = file:1\n");
        static const struct {
                const char *env_topic; /* EXEC_TOPIC, or NULL */
                const char *override;  /* one -o, or NULL */
                const char *bootstrap; /* -b */
                const char *bfile;     /* --bootstrap-file */
                const char *topic, *servers, *bootstrap_file;
                int log_level;
        } cases[] = {
            {NULL, NULL, NULL, NULL, "from-file", "file:1", "", 3},
            {"from-env", NULL, NULL, NULL, "from-env", "file:1", "", 3},
            {"from-env", "topic=from-o", NULL, NULL, "from-o", "file:1", "", 3},
            {NULL, "log.level=info", "flag:2", NULL, "from-file", "flag:2", "", 1},
            {NULL, "bootstrap.file=/x", "flag:2", NULL, "from-file", "flag:2", "", 3},
            {NULL, NULL, NULL, "/tmp/bsf", "from-file", "file:1", "/tmp/bsf", 3},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                tool_conf_t conf;
                te_tool_args_t a;
                char ov[64];
                memset(&a, 0, sizeof a);
                a.config = path;
                if (cases[i].override) {
                        te_strlcpy(ov, cases[i].override, sizeof ov);
                        a.overrides[a.n_overrides++] = ov;
                }
                a.bootstrap = cases[i].bootstrap;
                a.bootstrap_file = cases[i].bfile;
                if (cases[i].env_topic)
                        setenv("EXEC_TOPIC", cases[i].env_topic, 1);
                else
                        unsetenv("EXEC_TOPIC");
                te_cfg_t *cfg = te_tool_cfg_load(tool_items, N_ITEMS, &conf, &a, errstr,
                                                 sizeof errstr);
                assert_non_null(cfg);
                assert_string_equal(conf.topic, cases[i].topic);
                assert_string_equal(te_cfg_kafka_get(cfg, "bootstrap.servers"),
                                    cases[i].servers);
                assert_string_equal(conf.tool.bootstrap_file, cases[i].bootstrap_file);
                assert_int_equal(conf.tool.log_level, cases[i].log_level);
                assert_int_equal(conf.tool.bootstrap_wait_ms, 5);
                te_cfg_destroy(cfg);
        }
        unsetenv("EXEC_TOPIC");

        /* errors name their origin */
        te_tool_args_t a;
        tool_conf_t conf;
        char bad[] = "nosuch.key=1";
        memset(&a, 0, sizeof a);
        a.overrides[a.n_overrides++] = bad;
        assert_null(
            te_tool_cfg_load(tool_items, N_ITEMS, &conf, &a, errstr, sizeof errstr));
        assert_non_null(strstr(errstr, "nosuch.key"));
        memset(&a, 0, sizeof a);
        a.config = "/nonexistent/tool.conf";
        assert_null(
            te_tool_cfg_load(tool_items, N_ITEMS, &conf, &a, errstr, sizeof errstr));
        assert_non_null(strstr(errstr, "/nonexistent/tool.conf"));
        unlink(path);
}

static void test_tool_bootstrap(void **state)
{
        (void)state;
        char errstr[256] = "", bs[64];
        tool_conf_t conf;
        te_tool_args_t a;
        memset(&a, 0, sizeof a);

        /* no cluster named at all */
        unsetenv("EXEC_KAFKA_BOOTSTRAP_SERVERS");
        unsetenv("EXEC_BOOTSTRAP_FILE");
        te_cfg_t *cfg =
            te_tool_cfg_load(tool_items, N_ITEMS, &conf, &a, errstr, sizeof errstr);
        assert_non_null(cfg);
        assert_int_equal(te_tool_need_bootstrap(cfg, &conf.tool, errstr, sizeof errstr),
                         -1);
        assert_non_null(strstr(errstr, "no bootstrap servers"));
        assert_int_equal(
            te_tool_resolve_bootstrap(cfg, &conf.tool, errstr, sizeof errstr),
            0); /* nothing to resolve */
        assert_null(te_cfg_kafka_get(cfg, "bootstrap.servers"));
        te_cfg_destroy(cfg);

        /* --bootstrap-file: its list becomes kafka.bootstrap.servers */
        write_temp(bs, sizeof bs, "127.0.0.1:9092,127.0.0.1:9093\n");
        a.bootstrap_file = bs;
        cfg = te_tool_cfg_load(tool_items, N_ITEMS, &conf, &a, errstr, sizeof errstr);
        assert_non_null(cfg);
        assert_int_equal(te_tool_need_bootstrap(cfg, &conf.tool, errstr, sizeof errstr),
                         0);
        assert_int_equal(
            te_tool_resolve_bootstrap(cfg, &conf.tool, errstr, sizeof errstr), 0);
        assert_string_equal(te_cfg_kafka_get(cfg, "bootstrap.servers"),
                            "127.0.0.1:9092,127.0.0.1:9093");
        te_cfg_destroy(cfg);
        unlink(bs);

        /* a bootstrap file that never appears: an error after bootstrap.wait.ms */
        char ov[] = "bootstrap.wait.ms=50";
        a.overrides[a.n_overrides++] = ov;
        cfg = te_tool_cfg_load(tool_items, N_ITEMS, &conf, &a, errstr, sizeof errstr);
        assert_non_null(cfg);
        assert_int_equal(
            te_tool_resolve_bootstrap(cfg, &conf.tool, errstr, sizeof errstr), -1);
        assert_non_null(strstr(errstr, "no bootstrap list after 50 ms"));
        assert_null(te_cfg_kafka_get(cfg, "bootstrap.servers"));
        te_cfg_destroy(cfg);
}

typedef struct proc_conf_s {
        te_common_conf_t common;
        int64_t n;
} proc_conf_t;

static const te_cfg_item_t proc_items[] = {
    TE_CFG_COMMON(proc_conf_t),
    TE_CFG_I(proc_conf_t, "n", n, "1", 0, 10, "a number"),
};
#define N_PROC (sizeof proc_items / sizeof proc_items[0])

/* te_cfgtab_start: -h and --version exit 0; a usage or config error is NULL with
 * exit code 2, before anything connects. */
static void test_start_flags_and_errors(void **state)
{
        (void)state;
        static const struct {
                const char *args[6];
                int ok;
                int rc;
        } cases[] = {
            {{"-h"}, 0, 0},
            {{"--help"}, 0, 0},
            {{"--version"}, 0, 0},
            {{"-x"}, 0, 2},        /* unknown flag */
            {{"-o"}, 0, 2},        /* missing value */
            {{"-o", "n=3"}, 0, 2}, /* no bootstrap at all */
            {{"-o", "bootstrap.servers=h:1", "-o", "kafka.nosuch=1"}, 0, 2},
            {{"-o", "bootstrap.servers=h:1", "-o", "kafka.linger.ms=abc"}, 0, 2},
            {{"-o", "bootstrap.servers=h:1", "-o", "n=11"}, 0, 2},
            {{"-o", "bootstrap.servers=h:1", "-o", "kafka.linger.ms=5"}, 1, 0},
            {{"-o", "kafka.bootstrap.servers=h:1", "-o", "n=3"}, 1, 0},
        };
        unsetenv("EXEC_BOOTSTRAP_SERVERS");
        unsetenv("EXEC_KAFKA_BOOTSTRAP_SERVERS");
        unsetenv("EXEC_BOOTSTRAP_FILE");
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *argv[8] = {"exec-test"};
                int argc = 1;
                for (int k = 0; cases[i].args[k]; k++)
                        argv[argc++] = (char *)cases[i].args[k];
                proc_conf_t conf;
                memset(&conf, 0, sizeof conf);
                te_cfg_t *cfg = te_cfgtab_start("exec-test", proc_items, N_PROC, &conf,
                                                &conf.common, argc, argv);
                if (cases[i].ok) {
                        assert_non_null(cfg);
                } else {
                        assert_null(cfg);
                        assert_int_equal(te_cfgtab_exit_code(), cases[i].rc);
                }
                te_cfg_destroy(cfg);
        }
        /* another process's EXEC_* variable does not stop start-up */
        setenv("EXEC_SIM_SLIPPAGE_BPS", "2", 1);
        char *argv[] = {"exec-test", "-o", "bootstrap.servers=h:1", NULL};
        proc_conf_t conf;
        te_cfg_t *cfg = te_cfgtab_start("exec-test", proc_items, N_PROC, &conf,
                                        &conf.common, 3, argv);
        assert_non_null(cfg);
        te_cfg_destroy(cfg);
        unsetenv("EXEC_SIM_SLIPPAGE_BPS");
}

/* Every key of the shared tables has a description in -h. */
static void test_usage_documents_every_key(void **state)
{
        (void)state;
        char *buf = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&buf, &len);
        assert_non_null(fp);
        te_cfgtab_usage(fp, "exec-test", proc_items, N_PROC);
        assert_int_equal(fclose(fp), 0);
        for (size_t i = 0; i < N_PROC; i++) {
                assert_true(proc_items[i].help && proc_items[i].help[0]);
                assert_non_null(strstr(buf, proc_items[i].name));
        }
        for (size_t i = 0; i < N_ITEMS; i++)
                assert_true(tool_items[i].help && tool_items[i].help[0]);
        assert_non_null(strstr(buf, "env EXEC_BOOTSTRAP_WAIT_MS"));
        assert_non_null(strstr(buf, "exit status"));
        free(buf);
}

static void test_tool_kafka_checked(void **state)
{
        (void)state;
        char errstr[256] = "", o[] = "kafka.fetch.wait.max.mz=1";
        tool_conf_t conf;
        te_tool_args_t a;
        memset(&a, 0, sizeof a);
        a.overrides[a.n_overrides++] = o;
        assert_null(
            te_tool_cfg_load(tool_items, N_ITEMS, &conf, &a, errstr, sizeof errstr));
        assert_non_null(strstr(errstr, "kafka.fetch.wait.max.mz"));
        assert_int_equal(te_tool_opt(&a, "t", TE_TOOL_OPT_VERSION, NULL), 2);
}

/* ---- the process tables and the modules' structs ------------------------------ */

static const te_cfg_item_t *row_of(const te_cfg_item_t *items, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(items[i].name, key) == 0)
                        return &items[i];
        fail_msg("no row %s", key);
        return NULL;
}

static double def_num(const te_cfg_item_t *items, size_t n, const char *key)
{
        const te_cfg_item_t *r = row_of(items, n, key);
        assert_true(r->type == TE_CFG_DOUBLE || r->type == TE_CFG_INT);
        return strtod(r->def, NULL);
}

static int def_enum(const te_cfg_item_t *items, size_t n, const char *key)
{
        const te_cfg_item_t *r = row_of(items, n, key);
        assert_int_equal(r->type, TE_CFG_ENUM);
        for (int i = 0; r->enum_names[i]; i++)
                if (!strcmp(r->enum_names[i], r->def))
                        return i;
        fail_msg("%s: default %s not a name", key, r->def);
        return -1;
}

#define BROKER(key) def_num(te_broker_conf_items, te_broker_conf_n_items, key)
#define PLAN(key)   def_num(te_planner_conf_items, te_planner_conf_n_items, key)

/* What a module gets by default is the table row's default text. */
static void test_table_default_is_module_default(void **state)
{
        (void)state;
        te_sim_cfg_t *sim = calloc(1, sizeof *sim);
        te_ibkr_cfg_t ibkr;
        te_fix_cfg_t fix;
        te_plan_cfg_t plan;
        assert_non_null(sim);
        assert_int_equal(te_sim_cfg_defaults(sim), 0);
        assert_int_equal(te_ibkr_cfg_defaults(&ibkr), 0);
        assert_int_equal(te_fix_cfg_defaults(&fix), 0);
        assert_int_equal(te_plan_cfg_defaults(&plan), 0);
        assert_true(sim->fill.slippage_bps == BROKER("sim.slippage_bps"));
        assert_true(sim->fill.slippage_bps == 5.0);
        assert_true(sim->fill.participation == BROKER("sim.participation"));
        assert_true(sim->fill.commission_max_frac == BROKER("sim.commission_max_frac"));
        assert_true(sim->fill.price_increment == BROKER("sim.price_increment"));
        assert_int_equal(
            sim->fill.market_at,
            def_enum(te_broker_conf_items, te_broker_conf_n_items, "sim.market_at"));
        assert_int_equal(sim->max_stale_days, (int)BROKER("sim.max_stale_days"));
        assert_string_equal(sim->broker_name, "sim");
        assert_string_equal(sim->account, "SIM-1");
        assert_int_equal(ibkr.port, (int)BROKER("ibkr.port"));
        assert_int_equal(ibkr.max_msgs_per_sec, (int)BROKER("ibkr.max_msgs_per_sec"));
        assert_true(ibkr.connect_timeout_ms == (int64_t)BROKER("ibkr.timeout_ms"));
        assert_true(ibkr.position_check_ms == (int64_t)BROKER("ibkr.position_check_ms"));
        assert_string_equal(ibkr.host, "127.0.0.1");
        assert_string_equal(ibkr.broker_name, "ibkr"); /* broker.name "sim" -> ibkr */
        assert_int_equal(ibkr.use_db, 1);
        assert_int_equal(fix.port, (int)BROKER("fix.port"));
        assert_int_equal(fix.heartbt_int, (int)BROKER("fix.heartbt_int"));
        assert_int_equal(fix.order_types, (1u << TE_OT__CNT) - 1); /* every type */
        assert_int_equal(fix.tifs, (1u << TE_TIF__CNT) - 1);
        assert_int_equal(fix.use_db, 1);
        assert_string_equal(fix.broker_name, "fix");
        assert_true(plan.lot_size == PLAN("plan.lot_size"));
        assert_true(plan.min_qty == PLAN("plan.min_qty"));
        assert_int_equal(
            plan.order_type,
            def_enum(te_planner_conf_items, te_planner_conf_n_items, "plan.order_type"));
        assert_int_equal(plan.tif, def_enum(te_planner_conf_items,
                                            te_planner_conf_n_items, "plan.tif"));
        assert_int_equal(plan.allow_short, 1);
        assert_string_equal(plan.route, "sim");
        free(sim);
}

/* A -c file and -o reach the module structs through te_cfgtab_start, -o winning. */
static void test_file_and_override_reach_modules(void **state)
{
        (void)state;
        char path[64], errstr[256];
        write_temp(path, sizeof path,
                   "sim.participation = 0.5\nsim.slippage_bps = 2\nibkr.port = 4001\n"
                   "fix.tifs = DAY,IOC\nsim.max_stale_days = 9\n");
        char *argv[] = {"exec-broker",
                        "-c",
                        path,
                        "-o",
                        "sim.slippage_bps=7.5",
                        "-o",
                        "ibkr.client_id=9",
                        "-o",
                        "fix.order_types=MARKET,LIMIT",
                        "-o",
                        "limits.max_qty=500",
                        "-o",
                        "bootstrap.servers=h:1",
                        NULL};
        unsetenv("EXEC_BOOTSTRAP_FILE");
        te_broker_worker_conf_t *c = calloc(1, sizeof *c);
        te_sim_cfg_t *sim = calloc(1, sizeof *sim);
        assert_true(c && sim);
        te_cfg_t *cfg =
            te_cfgtab_start("exec-broker", te_broker_conf_items, te_broker_conf_n_items,
                            c, &c->common, (int)(sizeof argv / sizeof argv[0]) - 1, argv);
        assert_non_null(cfg);
        assert_int_equal(te_adapter_sim_cfg(c, sim, errstr, sizeof errstr), 0);
        assert_true(sim->fill.slippage_bps == 7.5); /* -o over the file */
        assert_true(sim->fill.participation == 0.5);
        assert_int_equal(sim->max_stale_days, 9);
        te_ibkr_cfg_t ibkr;
        te_adapter_ibkr_cfg(c, &ibkr);
        assert_int_equal(ibkr.port, 4001);
        assert_int_equal(ibkr.client_id, 9);
        te_fix_cfg_t fix;
        te_adapter_fix_cfg(c, &fix);
        assert_int_equal(fix.order_types, (1u << TE_OT_MARKET) | (1u << TE_OT_LIMIT));
        assert_int_equal(fix.tifs, (1u << TE_TIF_DAY) | (1u << TE_TIF_IOC));
        assert_true(c->guard.max_qty == 500);
        te_cfg_destroy(cfg);
        free(sim);
        free(c);

        unlink(path);
        char *pargv[] = {"exec-planner",
                         "-c",
                         path,
                         "-o",
                         "plan.route=ibkr",
                         "-o",
                         "plan.max_qty=100",
                         "-o",
                         "plan.order_type=LIMIT",
                         "-o",
                         "bootstrap.servers=h:1",
                         NULL};
        write_temp(path, sizeof path, "plan.min_qty = 5\nplan.route = fix\n");
        te_planner_conf_t *pc = calloc(1, sizeof *pc);
        assert_non_null(pc);
        cfg = te_cfgtab_start("exec-planner", te_planner_conf_items,
                              te_planner_conf_n_items, pc, &pc->common,
                              (int)(sizeof pargv / sizeof pargv[0]) - 1, pargv);
        assert_non_null(cfg);
        assert_string_equal(pc->plan.route, "ibkr");
        assert_true(pc->plan.max_qty == 100 && pc->plan.min_qty == 5);
        assert_int_equal(pc->plan.order_type, TE_OT_LIMIT);
        te_cfg_destroy(cfg);
        free(pc);
        unlink(path);
}

/* Keys the tables do not have, or had under another name, and values out of range
 * are still refused with exit code 2. */
static void test_process_tables_refuse(void **state)
{
        (void)state;
        static const char *const bad[] = {
            "sim.nosuch=1",    "sim.commission_max_pct=0.01", "fix.order_types=BOGUS",
            "ibkr.port=70000", "sim.slippage_bps=abc",        "plan.lot_size=1",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char *argv[] = {"exec-broker", "-o",           "bootstrap.servers=h:1",
                                "-o",          (char *)bad[i], NULL};
                te_broker_worker_conf_t *c = calloc(1, sizeof *c);
                assert_non_null(c);
                te_cfg_t *cfg =
                    te_cfgtab_start("exec-broker", te_broker_conf_items,
                                    te_broker_conf_n_items, c, &c->common, 5, argv);
                if (cfg)
                        fail_msg("%s taken", bad[i]);
                assert_int_equal(te_cfgtab_exit_code(), 2);
                free(c);
        }
        char *argv[] = {"exec-planner",       "-o", "bootstrap.servers=h:1", "-o",
                        "sim.slippage_bps=1", NULL};
        te_planner_conf_t *pc = calloc(1, sizeof *pc);
        assert_non_null(pc);
        assert_null(te_cfgtab_start("exec-planner", te_planner_conf_items,
                                    te_planner_conf_n_items, pc, &pc->common, 5, argv));
        assert_int_equal(te_cfgtab_exit_code(), 2);
        free(pc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_tool_opt_takes_shared_flags),
            cmocka_unit_test(test_tool_cfg_precedence),
            cmocka_unit_test(test_tool_bootstrap),
            cmocka_unit_test(test_start_flags_and_errors),
            cmocka_unit_test(test_usage_documents_every_key),
            cmocka_unit_test(test_tool_kafka_checked),
            cmocka_unit_test(test_table_default_is_module_default),
            cmocka_unit_test(test_file_and_override_reach_modules),
            cmocka_unit_test(test_process_tables_refuse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
