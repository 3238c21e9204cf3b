/*
 * te_cfgtab: shorthand for declaring a process's config table (te_config.h) and the
 * settings every process shares (log level, Kafka bootstrap, database).
 */
#ifndef TE_CFGTAB_H
#define TE_CFGTAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "te_config.h"

/* One row of a table over `type`. `field` may name a member of a member (nested
 * offsetof): a process's conf embeds each module's own config struct and its rows point
 * into it (e.g. sim.fill.slippage_bps), so the table's default is the only default and
 * nothing is copied field by field. Every row records sizeof(field): te_config writes
 * an INT into an int or an int64_t field, and refuses a table whose field does not fit
 * its type. */
#define TE_CFG__SZ(type, field) sizeof(((type *)0)->field)
#define TE_CFG_S(type, name, field, def, help)                                           \
        {                                                                                \
                name, TE_CFG_STRING, offsetof(type, field), TE_CFG__SZ(type, field),     \
                    def, 0, 0, NULL, help                                                \
        }
#define TE_CFG_I(type, name, field, def, lo, hi, help)                                   \
        {                                                                                \
                name, TE_CFG_INT, offsetof(type, field), TE_CFG__SZ(type, field), def,   \
                    lo, hi, NULL, help                                                   \
        }
#define TE_CFG_D(type, name, field, def, lo, hi, help)                                   \
        {                                                                                \
                name, TE_CFG_DOUBLE, offsetof(type, field), TE_CFG__SZ(type, field),     \
                    def, lo, hi, NULL, help                                              \
        }
#define TE_CFG_B(type, name, field, def, help)                                           \
        {                                                                                \
                name, TE_CFG_BOOL, offsetof(type, field), TE_CFG__SZ(type, field), def,  \
                    0, 0, NULL, help                                                     \
        }
#define TE_CFG_E(type, name, field, def, names, help)                                    \
        {                                                                                \
                name, TE_CFG_ENUM, offsetof(type, field), TE_CFG__SZ(type, field), def,  \
                    0, 0, names, help                                                    \
        }
/* A set of `names` (an unsigned field, bit i = names[i]), given as "A,B,..." */
#define TE_CFG_F(type, name, field, def, names, help)                                    \
        {                                                                                \
                name, TE_CFG_FLAGS, offsetof(type, field), TE_CFG__SZ(type, field), def, \
                    0, 0, names, help                                                    \
        }
/* A topic row: TE_CFG_TOPIC(conf_t, orders, help) is key "topic.orders" over the member
 * topic_orders, default "exec.orders" (the topics manifest's name). */
#define TE_CFG_TOPIC(type, name, help)                                                   \
        TE_CFG_S(type, "topic." #name, topic_##name, "exec." #name, help)

extern const char *const te_cfg_log_levels[]; /* debug, info, warn, error */

/* A key that was renamed to `newname`: setting it is refused with a message naming
 * `newname` (and `note`, e.g. what changed in its meaning). */
#define TE_CFG_RENAMED_TO(oldname, newname, note)                                        \
        {                                                                                \
                oldname, TE_CFG_RENAMED, 0, 0, newname, 0, 0, NULL, note                 \
        }

/* Settings every process has; embed as the first member `common` of its conf. */
typedef struct te_common_conf_s {
        int log_level;             /* index into te_cfg_log_levels == te_log_level_t */
        char bootstrap[1024];      /* bootstrap.servers (also kafka.bootstrap.servers) */
        char bootstrap_file[1024]; /* wait for this file and read the bootstrap list */
        int64_t bootstrap_wait_ms;
        char db_conninfo[512];    /* libpq conninfo without password; "" = PG* env */
        char metrics_listen[64];  /* te_obs.h: /metrics bind address */
        int64_t metrics_port;     /* 0 = no HTTP server */
        int64_t metrics_stats_ms; /* librdkafka statistics interval */
} te_common_conf_t;

#define TE_CFG_COMMON(type)                                                              \
        TE_CFG_E(type, "log.level", common.log_level, "info", te_cfg_log_levels,         \
                 "minimum log level"),                                                   \
            TE_CFG_S(type, "bootstrap.servers", common.bootstrap, "",                    \
                     "Kafka bootstrap list (or kafka.bootstrap.servers)"),               \
            TE_CFG_S(type, "bootstrap.file", common.bootstrap_file, "",                  \
                     "file holding the bootstrap list (the dev stack writes it)"),       \
            TE_CFG_I(type, "bootstrap.wait.ms", common.bootstrap_wait_ms, "30000", 0,    \
                     3600000, "how long to wait for bootstrap.file"),                    \
            TE_CFG_S(type, "db.conninfo", common.db_conninfo, "",                        \
                     "libpq conninfo without password; empty = PG* environment"),        \
            TE_CFG_S(type, "metrics.listen", common.metrics_listen, "127.0.0.1",         \
                     "address of the /metrics /healthz /readyz server"),                 \
            TE_CFG_I(type, "metrics.port", common.metrics_port, "0", 0, 65535,           \
                     "port of the metrics server; 0 = disabled"),                        \
            TE_CFG_I(type, "metrics.kafka_stats.ms", common.metrics_stats_ms, "1000",    \
                     100, 3600000, "librdkafka statistics interval (lag metrics)")

/** Parse argv (-c FILE, -o key=value ..., -h/--help, --version), load config, check
 *  the kafka.* properties with librdkafka and that a bootstrap is given (before
 *  anything connects), init logging, resolve the bootstrap list into
 *  common->bootstrap (from bootstrap.file if set, waiting bootstrap.wait.ms at most).
 *  @returns the config (caller destroys), or NULL: after -h or --version (printed on
 *  stdout) or after printing one error line to stderr. The caller then exits with
 *  te_cfgtab_exit_code(): 0 after -h/--version, 2 on a usage or config error. */
te_cfg_t *te_cfgtab_start(const char *proc_name, const te_cfg_item_t *items,
                          size_t n_items, void *conf, te_common_conf_t *common, int argc,
                          char **argv);
int te_cfgtab_exit_code(void);
/** The -h text of a process: flags, every key with its description, default and
 *  environment name, the kafka.* pass-through and the exit statuses. */
void te_cfgtab_usage(FILE *fp, const char *proc, const te_cfg_item_t *items, size_t n);
/** The settings part of it: each key with its description, default and environment
 *  name (also for the tools' -h). */
void te_cfgtab_usage_keys(FILE *fp, const te_cfg_item_t *items, size_t n);
/** Check every kafka.* property against librdkafka (unknown name, bad value).
 *  @returns 0, or -1 with errstr "kafka.NAME: why". */
int te_cfgtab_check_kafka(const te_cfg_t *cfg, char *errstr, size_t errsz);

/* ---- command-line tools (exec-tail, exec-publish) --------------------------------
 * A tool parses its own flags with getopt_long; the flags every tool has (-c CONFIG,
 * -o KEY=VALUE, -b BOOTSTRAP, --bootstrap-file PATH) are taken by te_tool_opt. Its
 * config is defaults < -c file < EXEC_* environment < -o < flags, with the bootstrap
 * list in kafka.bootstrap.servers (-b, or read from bootstrap.file). */

/* Settings every tool has; embed as the first member `tool` of its conf. */
typedef struct te_tool_conf_s {
        int log_level; /* index into te_cfg_log_levels == te_log_level_t */
        char bootstrap_file[1024];
        int64_t bootstrap_wait_ms;
} te_tool_conf_t;

#define TE_CFG_TOOL(type, log_level_def)                                                 \
        TE_CFG_E(type, "log.level", tool.log_level, log_level_def, te_cfg_log_levels,    \
                 "minimum level of the JSON log lines on stderr"),                       \
            TE_CFG_S(type, "bootstrap.file", tool.bootstrap_file, "",                    \
                     "wait for this file (written by exec-devstack) and use its "        \
                     "bootstrap list"),                                                  \
            TE_CFG_I(type, "bootstrap.wait.ms", tool.bootstrap_wait_ms, "30000", 0,      \
                     3600000, "how long to wait for bootstrap.file")

#define TE_TOOL_MAX_OVERRIDES 64
#define TE_TOOL_OPT_BFILE     0x1000 /* getopt_long code of --bootstrap-file */
#define TE_TOOL_OPT_VERSION   0x1001 /* getopt_long code of --version */
#define TE_TOOL_SHORTOPTS     "b:c:o:"
/* getopt_long entries of the shared flags (the tool includes <getopt.h>) */
/* clang-format off */
#define TE_TOOL_LONGOPTS                                                                 \
        {"bootstrap", required_argument, NULL, 'b'},                                     \
        {"config", required_argument, NULL, 'c'},                                        \
        {"bootstrap-file", required_argument, NULL, TE_TOOL_OPT_BFILE},                  \
        {"version", no_argument, NULL, TE_TOOL_OPT_VERSION}
/* clang-format on */

typedef struct te_tool_args_s {
        const char *config;                     /* -c */
        const char *bootstrap;                  /* -b */
        const char *bootstrap_file;             /* --bootstrap-file */
        char *overrides[TE_TOOL_MAX_OVERRIDES]; /* -o, in order */
        size_t n_overrides;
} te_tool_args_t;

/** Take getopt_long's `ch` (argument `arg`) if it is a shared flag.
 *  @returns 1 if taken, 0 if not a shared flag, 2 after --version (printed on stdout:
 *  the tool exits 0), -1 on an error (printed "proc: why"). */
int te_tool_opt(te_tool_args_t *a, const char *proc, int ch, char *arg);
/** After getopt_long returned '?' (with opterr = 0): print one line naming the
 *  unknown option or the option that lacks its value. */
void te_tool_bad_opt(const char *proc, char **argv, const char *shortopts);
/** After the flags: -b and --bootstrap-file exclude each other.
 *  @returns 0, or -1 (printed). */
int te_tool_args_check(const te_tool_args_t *a, const char *proc);
/** Create the config over `conf` and load the -c file, the environment, the -o
 *  overrides, then --bootstrap-file (bootstrap.file) or -b (kafka.bootstrap.servers,
 *  and no bootstrap.file). The tool then sets its own flags with te_cfg_set.
 *  @returns the config (caller destroys), or NULL with errstr. */
te_cfg_t *te_tool_cfg_load(const te_cfg_item_t *items, size_t n_items, void *conf,
                           const te_tool_args_t *a, char *errstr, size_t errsz);
/** For a tool without a Kafka client: @returns 0 if no kafka.* key was given, else -1
 *  with errstr naming the first. */
int te_tool_no_kafka(const te_cfg_t *cfg, char *errstr, size_t errsz);
/** @returns 0 if the config names a cluster (bootstrap.file or
 *  kafka.bootstrap.servers), else -1 with errstr saying how to give one. */
int te_tool_need_bootstrap(const te_cfg_t *cfg, const te_tool_conf_t *tc, char *errstr,
                           size_t errsz);
/** If bootstrap.file is set, wait for it (bootstrap.wait_ms) and set
 *  kafka.bootstrap.servers to its list. @returns 0, or -1 with errstr. */
int te_tool_resolve_bootstrap(te_cfg_t *cfg, const te_tool_conf_t *tc, char *errstr,
                              size_t errsz);

#endif
