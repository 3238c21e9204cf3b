/*
 * te_cfgtab: start-up sequence shared by every process main().
 */
#include "te_cfgtab.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_kafka.h"
#include "te_log.h"
#include "te_pg.h"
#include "te_proc.h"

extern char **environ;

const char *const te_cfg_log_levels[] = {"debug", "info", "warn", "error", NULL};

static int te_cfgtab_rc = 2;

int te_cfgtab_exit_code(void)
{
        return te_cfgtab_rc;
}

/* "EXEC_A_B" for "a.b" (the environment name of a key), for the help text. */
static void env_name(char *dst, size_t dstsz, const char *key)
{
        size_t o = 0;
        for (const char *p = "EXEC_"; *p && o + 1 < dstsz; p++)
                dst[o++] = *p;
        for (const char *p = key; *p && o + 1 < dstsz; p++)
                dst[o++] =
                    (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
        if (dstsz)
                dst[o] = '\0';
}

void te_cfgtab_usage_keys(FILE *fp, const te_cfg_item_t *items, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                char env[160];
                if (items[i].type == TE_CFG_RENAMED)
                        continue;
                env_name(env, sizeof env, items[i].name);
                fprintf(fp, "  %-28s %s\n  %-28s default: %s; env %s\n", items[i].name,
                        items[i].help ? items[i].help : "", "",
                        items[i].def && items[i].def[0] ? items[i].def : "(empty)", env);
        }
}

void te_cfgtab_usage(FILE *fp, const char *proc, const te_cfg_item_t *items, size_t n)
{
        fprintf(fp,
                "usage: %s [-c CONFIG] [-o KEY=VALUE]... | -h | --version\n"
                "  -c CONFIG     key = value file (# comments, quoted values allowed)\n"
                "  -o KEY=VALUE  set one key (repeatable; wins over the file and the "
                "environment)\n"
                "  -h, --help    this help;  --version  version and build commit\n"
                "settings (defaults < -c file < environment EXEC_<KEY> < -o):\n",
                proc);
        te_cfgtab_usage_keys(fp, items, n);
        fprintf(fp, "  %-28s %s\n", "kafka.<property>",
                "passed to librdkafka (env EXEC_KAFKA_<PROPERTY>, '_' for '.')");
        fprintf(fp, "EXEC_* variables of other processes are ignored (one env file can "
                    "serve all).\n"
                    "exit status: 0 stopped cleanly, 1 run-time failure, 2 usage or "
                    "configuration error\n");
}

int te_cfgtab_check_kafka(const te_cfg_t *cfg, char *errstr, size_t errsz)
{
        char why[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        int rc = 0;
        if (!conf) {
                te_errf(errstr, errsz, "out of memory");
                return -1;
        }
        for (size_t i = 0; i < te_cfg_kafka_count(cfg) && rc == 0; i++) {
                const char *name = te_cfg_kafka_name(cfg, i);
                if (rd_kafka_conf_set(conf, name, te_cfg_kafka_value(cfg, i), why,
                                      sizeof why) != RD_KAFKA_CONF_OK) {
                        te_errf(errstr, errsz, "kafka.%s: %s", name, why);
                        rc = -1;
                }
        }
        rd_kafka_conf_destroy(conf);
        return rc;
}

static void log_ignored_env(const te_cfg_t *cfg)
{
        size_t n = te_cfg_env_ignored_count(cfg);
        for (size_t i = 0; i < n; i++) {
                const char *name = te_cfg_env_ignored_name(cfg, i);
                if (!name)
                        break;
                TE_LOG(TE_LOG_DEBUG, NULL, "config.env_ignored",
                       "%s: not a setting of this process", name);
        }
}

te_cfg_t *te_cfgtab_start(const char *proc_name, const te_cfg_item_t *items,
                          size_t n_items, void *conf, te_common_conf_t *common, int argc,
                          char **argv)
{
        char errstr[512];
        const char *path = NULL;
        char **overrides = calloc((size_t)argc + 1, sizeof *overrides);
        size_t n_over = 0;
        te_cfg_t *cfg = NULL;
        te_cfgtab_rc = 2;
        if (!overrides)
                return NULL;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        te_cfgtab_usage(stdout, proc_name, items, n_items);
                        te_cfgtab_rc = fflush(stdout) == 0 ? 0 : 1;
                        goto err;
                }
                if (strcmp(a, "--version") == 0) {
                        te_proc_print_version(stdout, proc_name);
                        te_cfgtab_rc = fflush(stdout) == 0 ? 0 : 1;
                        goto err;
                }
                if (strcmp(a, "-c") == 0 || strcmp(a, "-o") == 0) {
                        if (i + 1 >= argc) {
                                fprintf(stderr, "%s: %s needs a value (see -h)\n",
                                        proc_name, a);
                                goto err;
                        }
                        if (a[1] == 'c')
                                path = argv[++i];
                        else
                                overrides[n_over++] = argv[++i];
                        continue;
                }
                fprintf(stderr, "%s: unknown option '%s' (see -h)\n", proc_name, a);
                goto err;
        }
        cfg = te_cfg_new(items, n_items, conf, errstr, sizeof errstr);
        if (!cfg) {
                fprintf(stderr, "%s: config: %s\n", proc_name, errstr);
                goto err;
        }
        if (te_cfg_load_all(cfg, path, environ, overrides, n_over, errstr,
                            sizeof errstr) != 0) {
                fprintf(stderr, "%s: config: %s\n", proc_name, errstr);
                goto err;
        }
        /* before anything connects anywhere */
        if (te_cfgtab_check_kafka(cfg, errstr, sizeof errstr) != 0) {
                fprintf(stderr, "%s: config: %s\n", proc_name, errstr);
                goto err;
        }
        if (!common->bootstrap[0] && !common->bootstrap_file[0] &&
            !te_cfg_kafka_get(cfg, "bootstrap.servers")) {
                fprintf(stderr,
                        "%s: config: no Kafka bootstrap: set bootstrap.servers or "
                        "bootstrap.file (-o, the file, or EXEC_BOOTSTRAP_SERVERS)\n",
                        proc_name);
                goto err;
        }
        te_log_init(proc_name, (te_log_level_t)common->log_level);
        log_ignored_env(cfg);
        if (common->bootstrap_file[0]) {
                if (te_kafka_wait_bootstrap_file(
                        common->bootstrap_file, (int)common->bootstrap_wait_ms,
                        common->bootstrap, sizeof common->bootstrap, errstr,
                        sizeof errstr) != 0) {
                        fprintf(stderr, "%s: %s\n", proc_name, errstr);
                        goto err;
                }
        }
        if (common->db_conninfo[0] && te_pg_conninfo_has_password(common->db_conninfo)) {
                fprintf(stderr,
                        "%s: config: db.conninfo: must not contain a password (use "
                        "PGPASSWORD or ~/.pgpass)\n",
                        proc_name);
                goto err;
        }
        free(overrides);
        return cfg;
err:
        free(overrides);
        te_cfg_destroy(cfg);
        return NULL;
}

/* ---- command-line tools ------------------------------------------------------------ */

int te_tool_opt(te_tool_args_t *a, const char *proc, int ch, char *arg)
{
        switch (ch) {
        case 'b':
                a->bootstrap = arg;
                return 1;
        case 'c':
                a->config = arg;
                return 1;
        case TE_TOOL_OPT_BFILE:
                a->bootstrap_file = arg;
                return 1;
        case TE_TOOL_OPT_VERSION:
                te_proc_print_version(stdout, proc);
                return 2;
        case 'o':
                if (a->n_overrides == TE_TOOL_MAX_OVERRIDES) {
                        fprintf(stderr, "%s: too many -o (max %d)\n", proc,
                                TE_TOOL_MAX_OVERRIDES);
                        return -1;
                }
                a->overrides[a->n_overrides++] = arg;
                return 1;
        default:
                return 0;
        }
}

int te_tool_args_check(const te_tool_args_t *a, const char *proc)
{
        if (a->bootstrap && a->bootstrap_file) {
                fprintf(stderr, "%s: use one of -b and --bootstrap-file\n", proc);
                return -1;
        }
        return 0;
}

te_cfg_t *te_tool_cfg_load(const te_cfg_item_t *items, size_t n_items, void *conf,
                           const te_tool_args_t *a, char *errstr, size_t errsz)
{
        te_cfg_t *cfg = te_cfg_new(items, n_items, conf, errstr, errsz);
        if (!cfg)
                return NULL;
        if (te_cfg_load_all(cfg, a->config, environ, a->overrides, a->n_overrides, errstr,
                            errsz) != 0)
                goto err;
        if (a->bootstrap_file && te_cfg_set(cfg, "bootstrap.file", a->bootstrap_file,
                                            "--bootstrap-file", errstr, errsz) != 0)
                goto err;
        if (a->bootstrap &&
            (te_cfg_set(cfg, "kafka.bootstrap.servers", a->bootstrap, "-b", errstr,
                        errsz) != 0 ||
             te_cfg_set(cfg, "bootstrap.file", "", "-b", errstr, errsz) != 0))
                goto err;
        if (te_cfgtab_check_kafka(cfg, errstr, errsz) != 0)
                goto err;
        return cfg;
err:
        te_cfg_destroy(cfg);
        return NULL;
}

int te_tool_no_kafka(const te_cfg_t *cfg, char *errstr, size_t errsz)
{
        if (te_cfg_kafka_count(cfg) == 0)
                return 0;
        te_errf(errstr, errsz, "kafka.%s: this tool has no Kafka client",
                te_cfg_kafka_name(cfg, 0));
        return -1;
}

int te_tool_need_bootstrap(const te_cfg_t *cfg, const te_tool_conf_t *tc, char *errstr,
                           size_t errsz)
{
        if (tc->bootstrap_file[0] || te_cfg_kafka_get(cfg, "bootstrap.servers"))
                return 0;
        te_errf(errstr, errsz,
                "no bootstrap servers: use -b, --bootstrap-file or "
                "kafka.bootstrap.servers");
        return -1;
}

int te_tool_resolve_bootstrap(te_cfg_t *cfg, const te_tool_conf_t *tc, char *errstr,
                              size_t errsz)
{
        char bootstrap[1024];
        if (!tc->bootstrap_file[0])
                return 0;
        if (te_kafka_wait_bootstrap_file(tc->bootstrap_file, (int)tc->bootstrap_wait_ms,
                                         bootstrap, sizeof bootstrap, errstr, errsz) != 0)
                return -1;
        return te_cfg_set(cfg, "kafka.bootstrap.servers", bootstrap, "bootstrap.file",
                          errstr, errsz);
}

void te_tool_bad_opt(const char *proc, char **argv, const char *shortopts)
{
        int i = optind > 1 ? optind - 1 : 1;
        const char *arg = argv[i] ? argv[i] : "?";
        /* getopt_long: optopt 0 for an unknown --name, the option's value for a
         * known one without its argument; plain getopt sees "--name" as '-' */
        if (optopt == 0 || (strncmp(arg, "--", 2) == 0 && optopt == '-'))
                fprintf(stderr, "%s: unknown option '%s' (see -h)\n", proc, arg);
        else if (strncmp(arg, "--", 2) == 0)
                fprintf(stderr, "%s: %s needs a value (see -h)\n", proc, arg);
        else if (optopt < 256 && strchr(shortopts, optopt))
                fprintf(stderr, "%s: -%c needs a value (see -h)\n", proc, optopt);
        else
                fprintf(stderr, "%s: unknown option '-%c' (see -h)\n", proc,
                        optopt < 256 ? optopt : '?');
}
