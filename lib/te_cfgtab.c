/*
 * te_cfgtab: start-up sequence shared by every process main().
 */
#include "te_cfgtab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_kafka.h"
#include "te_log.h"
#include "te_pg.h"

extern char **environ;

const char *const te_cfg_log_levels[] = {"debug", "info", "warn", "error", NULL};

static void usage(const char *proc, const te_cfg_item_t *items, size_t n)
{
        fprintf(stderr,
                "usage: %s [-c CONFIG] [-o key=value]...\n"
                "settings (file `key = value`, env EXEC_<KEY>, or -o):\n",
                proc);
        for (size_t i = 0; i < n; i++)
                if (items[i].type != TE_CFG_RENAMED)
                        fprintf(stderr, "  %-28s %s (default: %s)\n", items[i].name,
                                items[i].help ? items[i].help : "",
                                items[i].def ? items[i].def : "");
        fprintf(stderr, "  kafka.<property>             passed to librdkafka\n");
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
        if (!overrides)
                return NULL;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
                        path = argv[++i];
                } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
                        overrides[n_over++] = argv[++i];
                } else {
                        usage(proc_name, items, n_items);
                        goto err;
                }
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
        te_log_init(proc_name, (te_log_level_t)common->log_level);
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
                        "PGPASSWORD "
                        "or ~/.pgpass)\n",
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
                           const te_tool_args_t *a, char *errstr, size_t errstr_size)
{
        te_cfg_t *cfg = te_cfg_new(items, n_items, conf, errstr, errstr_size);
        if (!cfg)
                return NULL;
        if (te_cfg_load_all(cfg, a->config, environ, a->overrides, a->n_overrides, errstr,
                            errstr_size) != 0)
                goto err;
        if (a->bootstrap_file && te_cfg_set(cfg, "bootstrap.file", a->bootstrap_file,
                                            "--bootstrap-file", errstr, errstr_size) != 0)
                goto err;
        if (a->bootstrap &&
            (te_cfg_set(cfg, "kafka.bootstrap.servers", a->bootstrap, "-b", errstr,
                        errstr_size) != 0 ||
             te_cfg_set(cfg, "bootstrap.file", "", "-b", errstr, errstr_size) != 0))
                goto err;
        return cfg;
err:
        te_cfg_destroy(cfg);
        return NULL;
}

int te_tool_need_bootstrap(const te_cfg_t *cfg, const te_tool_conf_t *tc, char *errstr,
                           size_t errstr_size)
{
        if (tc->bootstrap_file[0] || te_cfg_kafka_get(cfg, "bootstrap.servers"))
                return 0;
        te_errf(errstr, errstr_size,
                "no bootstrap servers: use -b, --bootstrap-file or "
                "kafka.bootstrap.servers");
        return -1;
}

int te_tool_resolve_bootstrap(te_cfg_t *cfg, const te_tool_conf_t *tc, char *errstr,
                              size_t errstr_size)
{
        char bootstrap[1024];
        if (!tc->bootstrap_file[0])
                return 0;
        if (te_kafka_wait_bootstrap_file(tc->bootstrap_file, (int)tc->bootstrap_wait_ms,
                                         bootstrap, sizeof bootstrap, errstr,
                                         errstr_size) != 0)
                return -1;
        return te_cfg_set(cfg, "kafka.bootstrap.servers", bootstrap, "bootstrap.file",
                          errstr, errstr_size);
}
