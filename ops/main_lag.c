/*
 * exec-lag: consumer lag per group, topic and partition.
 *
 *   exec-lag [-b BOOTSTRAP | --bootstrap-file PATH] [-c CONFIG] [-o KEY=VALUE]...
 *            [--kafka GROUP:TOPIC]...   lag of Kafka-committed offsets
 *            [--db GROUP:TOPIC]...      lag of offsets the sink keeps in PostgreSQL
 *            [--max-lag N] [--json]
 *
 * Lag = high watermark - committed offset (a partition without a commit counts from
 * the low watermark). A topic that does not exist, or a group that committed nothing
 * on the topic, is an error (the topic is never created: metadata is read without
 * auto-creation). Prints a table, or JSON lines: one object per partition, then one
 * summary per check with total_lag, max_partition_lag, threshold (--max-lag) and over.
 * Exit status: 0 every check's total lag <= --max-lag (default 0), 1 some check is
 * over it, 2 usage, configuration, unknown topic or group, or the cluster or database
 * could not be read. Settings as every tool: log.level, bootstrap.file,
 * bootstrap.wait.ms, db.conninfo (empty: libpq's PG* environment) and kafka.*
 * (SASL/SSL...), from -c FILE, EXEC_* variables, -o, then the flags.
 * The same figures, per partition, are in each process's /metrics as
 * te_kafka_consumer_lag_messages (from librdkafka's statistics).
 */
#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_cfgtab.h"
#include "te_kafka.h"
#include "te_kafka_meta.h"
#include "te_log.h"
#include "te_pg.h"

#define PROC       "exec-lag"
#define MAX_CHECKS 32
#define MAX_PARTS  1024
#define TIMEOUT_MS 10000
#define SHORTOPTS  TE_TOOL_SHORTOPTS "h"

typedef struct lag_conf_s {
        te_tool_conf_t tool; /* log.level, bootstrap.file, bootstrap.wait.ms */
        char db_conninfo[512];
} lag_conf_t;

static const te_cfg_item_t lag_items[] = {
    TE_CFG_TOOL(lag_conf_t, "warn"),
    TE_CFG_S(lag_conf_t, "db.conninfo", db_conninfo, "",
             "libpq conninfo for --db, without password; empty = PG* environment"),
};

typedef struct check_s {
        char group[128];
        char topic[128];
        int from_db;
} check_t;

typedef struct lag_args_s {
        te_tool_args_t tool;
        check_t checks[MAX_CHECKS];
        int n_checks;
        int json;
        int any_db;
        long long max_lag;
} lag_args_t;

static void usage(FILE *fp)
{
        fprintf(
            fp,
            "usage: " PROC " [-b BOOTSTRAP | --bootstrap-file PATH] [-c CONFIG] "
            "[-o KEY=VALUE]...\n"
            "               [--kafka GROUP:TOPIC]... [--db GROUP:TOPIC]... "
            "[--max-lag N] [--json]\n"
            "  -b BOOTSTRAP          Kafka bootstrap list (kafka.bootstrap.servers)\n"
            "  --bootstrap-file PATH wait for PATH (bootstrap.wait.ms) and use its "
            "list\n"
            "  -c CONFIG             key = value file (log.level, bootstrap.file,\n"
            "                        bootstrap.wait.ms, db.conninfo, kafka.*)\n"
            "  -o KEY=VALUE          set one key (repeatable), e.g.\n"
            "                        -o kafka.security.protocol=SASL_SSL\n"
            "  --kafka GROUP:TOPIC   lag of the group's offsets committed in Kafka\n"
            "  --db GROUP:TOPIC      lag of the group's offsets in PostgreSQL\n"
            "                        (consumer_offsets, as exec-sink keeps them)\n"
            "  --max-lag N           highest total lag per check that passes "
            "(default 0)\n"
            "  --json                JSON lines: one per partition, one summary per "
            "check\n"
            "                        (total_lag, max_partition_lag, threshold, over)\n"
            "  -h, --help            this help;  --version  version and commit\n"
            "environment: EXEC_BOOTSTRAP_FILE, EXEC_DB_CONNINFO, EXEC_KAFKA_<PROP>, "
            "PG*\n"
            "exit status: 0 every check within --max-lag, 1 a check over it,\n"
            "             2 usage or config error, unknown topic or group, or the "
            "cluster\n"
            "               or database could not be read\n");
}

static int split(const char *arg, check_t *c, int from_db)
{
        const char *colon = strchr(arg, ':');
        /* names as Kafka allows for topics (also keeps the JSON output plain) */
        static const char name_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "abcdefghijklmnopqrstuvwxyz0123456789._-:";
        if (strspn(arg, name_chars) != strlen(arg))
                return -1;
        if (!colon || colon == arg || !colon[1] || strchr(colon + 1, ':') ||
            (size_t)(colon - arg) >= sizeof c->group)
                return -1;
        memcpy(c->group, arg, (size_t)(colon - arg));
        c->group[colon - arg] = '\0';
        c->from_db = from_db;
        return te_strlcpy(c->topic, colon + 1, sizeof c->topic);
}

/* @returns 0, 1 after -h/--version (exit 0), or -1 (usage error, printed). */
static int parse_args(int argc, char **argv, lag_args_t *a)
{
        enum { OPT_KAFKA = 256, OPT_DB, OPT_MAX, OPT_JSON };
        static const struct option longopts[] = {
            TE_TOOL_LONGOPTS,
            {"kafka", required_argument, NULL, OPT_KAFKA},
            {"db", required_argument, NULL, OPT_DB},
            {"max-lag", required_argument, NULL, OPT_MAX},
            {"json", no_argument, NULL, OPT_JSON},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        int ch;
        memset(a, 0, sizeof *a);
        opterr = 0;
        while ((ch = getopt_long(argc, argv, SHORTOPTS, longopts, NULL)) != -1) {
                int taken = te_tool_opt(&a->tool, PROC, ch, optarg);
                if (taken < 0)
                        return -1;
                if (taken == 2)
                        return 1;
                if (taken)
                        continue;
                switch (ch) {
                case OPT_KAFKA:
                case OPT_DB:
                        if (a->n_checks == MAX_CHECKS) {
                                fprintf(stderr, PROC ": at most %d checks\n", MAX_CHECKS);
                                return -1;
                        }
                        if (split(optarg, &a->checks[a->n_checks], ch == OPT_DB) != 0) {
                                fprintf(stderr, PROC ": %s: expected GROUP:TOPIC\n",
                                        optarg);
                                return -1;
                        }
                        a->any_db |= ch == OPT_DB;
                        a->n_checks++;
                        break;
                case OPT_MAX: {
                        char *end;
                        errno = 0;
                        a->max_lag = strtoll(optarg, &end, 10);
                        if (end == optarg || *end || errno || a->max_lag < 0) {
                                fprintf(stderr, PROC ": --max-lag: not a count: %s\n",
                                        optarg);
                                return -1;
                        }
                        break;
                }
                case OPT_JSON:
                        a->json = 1;
                        break;
                case 'h':
                        usage(stdout);
                        return 1;
                default:
                        te_tool_bad_opt(PROC, argv, SHORTOPTS);
                        return -1;
                }
        }
        if (optind < argc) {
                fprintf(stderr, PROC ": unexpected argument '%s' (see -h)\n",
                        argv[optind]);
                return -1;
        }
        if (a->n_checks == 0) {
                fprintf(stderr, PROC ": no check: give --kafka GROUP:TOPIC or --db "
                                     "GROUP:TOPIC (see -h)\n");
                return -1;
        }
        return te_tool_args_check(&a->tool, PROC);
}

/* One check. @returns 0 within the threshold, 1 over, 2 on an error. */
static int run_check(const te_cfg_t *cfg, const lag_args_t *a, const check_t *ck,
                     PGconn *db)
{
        char errstr[512];
        int rc = 2;
        int64_t off[MAX_PARTS], lo[MAX_PARTS], hi[MAX_PARTS];
        int32_t np = 0;
        rd_kafka_t *rk =
            te_kafka_aux_consumer(cfg, NULL, ck->group, errstr, sizeof errstr);
        if (!rk) {
                fprintf(stderr, PROC ": %s\n", errstr);
                return 2;
        }
        if (te_kafka_partition_count(rk, ck->topic, 0, TIMEOUT_MS, &np, errstr,
                                     sizeof errstr) != 0) {
                fprintf(stderr, PROC ": %s\n", errstr);
                goto out;
        }
        if (np > MAX_PARTS) {
                fprintf(stderr, PROC ": topic %s: %d partitions (max %d)\n", ck->topic,
                        (int)np, MAX_PARTS);
                goto out;
        }
        for (int p = 0; p < np; p++)
                off[p] = -1;
        int found = ck->from_db ? te_pg_offsets(db, "consumer_offsets", ck->group,
                                                ck->topic, off, np)
                                : te_kafka_committed(rk, ck->topic, NULL, np, TIMEOUT_MS,
                                                     off, errstr, sizeof errstr);
        if (found < 0) {
                if (ck->from_db)
                        fprintf(stderr, PROC ": %s", PQerrorMessage(db));
                else
                        fprintf(stderr, PROC ": %s\n", errstr);
                goto out;
        }
        if (found == 0) {
                fprintf(
                    stderr,
                    PROC ": group %s has no %s offsets on topic %s (unknown group?)\n",
                    ck->group, ck->from_db ? "stored (consumer_offsets)" : "committed",
                    ck->topic);
                goto out;
        }
        if (te_kafka_watermarks(rk, ck->topic, NULL, np, TIMEOUT_MS, lo, hi, errstr,
                                sizeof errstr) != 0) {
                fprintf(stderr, PROC ": %s\n", errstr);
                goto out;
        }
        long long total = 0, largest = 0;
        const char *src = ck->from_db ? "db" : "kafka";
        for (int p = 0; p < np; p++) {
                int64_t from = off[p] >= 0 ? off[p] : lo[p];
                long long lag = hi[p] > from ? (long long)(hi[p] - from) : 0;
                total += lag;
                if (lag > largest)
                        largest = lag;
                if (a->json)
                        printf("{\"group\":\"%s\",\"topic\":\"%s\",\"partition\":%d,"
                               "\"committed\":%lld,\"high\":%lld,\"lag\":%lld,"
                               "\"source\":\"%s\"}\n",
                               ck->group, ck->topic, p, (long long)off[p],
                               (long long)hi[p], lag, src);
                else
                        printf("%-24s %-16s %4d %12lld %12lld %10lld\n", ck->group,
                               ck->topic, p, (long long)off[p], (long long)hi[p], lag);
        }
        int over = total > a->max_lag;
        if (a->json)
                printf("{\"group\":\"%s\",\"topic\":\"%s\",\"partitions\":%d,"
                       "\"total_lag\":%lld,\"max_partition_lag\":%lld,\"threshold\":%lld,"
                       "\"over\":%s,\"source\":\"%s\"}\n",
                       ck->group, ck->topic, np, total, largest, a->max_lag,
                       over ? "true" : "false", src);
        else
                printf("%-24s %-16s %4s %12s %12s %10lld%s\n", ck->group, ck->topic, "*",
                       "", "", total, ck->from_db ? " (db)" : "");
        rc = over ? 1 : 0;
out:
        rd_kafka_destroy(rk);
        return rc;
}

int main(int argc, char **argv)
{
        static lag_args_t a;
        lag_conf_t conf;
        te_cfg_t *cfg = NULL;
        char errstr[1024];
        PGconn *db = NULL;
        int rc = 2;

        te_log_init(PROC, TE_LOG_WARN);
        switch (parse_args(argc, argv, &a)) {
        case 1:
                return 0;
        case -1:
                return 2;
        }
        cfg = te_tool_cfg_load(lag_items, sizeof lag_items / sizeof lag_items[0], &conf,
                               &a.tool, errstr, sizeof errstr);
        if (!cfg || te_tool_need_bootstrap(cfg, &conf.tool, errstr, sizeof errstr) != 0) {
                fprintf(stderr, PROC ": config: %s\n", errstr);
                goto out;
        }
        te_log_init(PROC, (te_log_level_t)conf.tool.log_level);
        if (conf.db_conninfo[0] && te_pg_conninfo_has_password(conf.db_conninfo)) {
                fprintf(stderr, PROC ": config: db.conninfo: must not contain a password "
                                     "(use PGPASSWORD or ~/.pgpass)\n");
                goto out;
        }
        if (te_tool_resolve_bootstrap(cfg, &conf.tool, errstr, sizeof errstr) != 0) {
                fprintf(stderr, PROC ": %s\n", errstr);
                goto out;
        }
        if (a.any_db) {
                db = te_pg_connect(conf.db_conninfo, errstr, sizeof errstr);
                if (!db) {
                        fprintf(stderr, PROC ": %s\n", errstr);
                        goto out;
                }
        }
        if (!a.json)
                printf("%-24s %-16s %4s %12s %12s %10s\n", "GROUP", "TOPIC", "PART",
                       "COMMITTED", "HIGH", "LAG");
        int over = 0;
        for (int c = 0; c < a.n_checks; c++) {
                int r = run_check(cfg, &a, &a.checks[c], db);
                if (r == 2)
                        goto out;
                over |= r;
        }
        rc = over ? 1 : 0;
out:
        if (db)
                PQfinish(db);
        te_cfg_destroy(cfg);
        return rc;
}
