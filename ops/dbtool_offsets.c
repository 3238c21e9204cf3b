/*
 * dbtool_offsets: `exec-dbtool offsets`, the consumer offsets a group keeps in
 * PostgreSQL (consumer_offsets: exec-sink's, and any group consumed the same way).
 *
 *   offsets show [GROUP [TOPIC]]
 *   offsets set GROUP TOPIC PARTITION OFFSET (--dry-run | --execute)
 *   offsets reset GROUP TOPIC (--to-earliest | --to-latest) [--partition P]
 *                 (--dry-run | --execute) [-b BOOTSTRAP | --bootstrap-file PATH]
 *
 * set and reset print one line per partition, "GROUP TOPIC [P]: OLD -> NEW", and
 * change nothing with --dry-run; one of --dry-run and --execute is required, so that a
 * typo never moves a group. reset moves every partition the group has a row for (or
 * only --partition P) to the topic's low watermark (--to-earliest: the oldest record
 * the cluster keeps, the way out of a retention gap, skipping what was lost) or high
 * watermark (--to-latest: skip everything not read yet); it reads the watermarks from
 * the cluster: -b, --bootstrap-file or exec-dbtool's bootstrap.file
 * (EXEC_BOOTSTRAP_FILE), with its kafka.* settings. The change is one transaction. Stop
 * the group's consumers first: a running exec-sink would overwrite the row with its next
 * commit. Exit status: 0 done (or shown), 1 show found no rows, 2 usage, database or
 * cluster error.
 */
#include "dbtool_offsets.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>

#include "te_buf.h"
#include "te_config.h"
#include "te_kafka.h"
#include "te_kafka_meta.h"
#include "te_pg.h"

#define OFS_PROC       "exec-dbtool offsets"
#define OFS_MAX_PARTS  1024
#define OFS_TIMEOUT_MS 10000
#define OFS_POS_MAX    6

typedef struct ofs_args_s {
        const char *pos[OFS_POS_MAX]; /* positional arguments after the subcommand */
        int n_pos;
        int dry_run, execute;
        int to_earliest, to_latest;
        int64_t partition; /* -1: every stored partition */
        const char *bootstrap;
        const char *bootstrap_file;
        const te_dbtool_settings_t *set;
} ofs_args_t;

typedef struct ofs_move_s {
        int32_t partition;
        int64_t old_offset; /* -1: no row yet */
        int64_t new_offset;
} ofs_move_t;

void te_dbtool_offsets_usage(FILE *fp)
{
        fprintf(fp,
                "  offsets show [GROUP [TOPIC]]   offsets stored in consumer_offsets\n"
                "  offsets set GROUP TOPIC PARTITION OFFSET (--dry-run | --execute)\n"
                "  offsets reset GROUP TOPIC (--to-earliest | --to-latest) "
                "[--partition P]\n"
                "                (--dry-run | --execute) [-b BOOTSTRAP | "
                "--bootstrap-file PATH]\n"
                "      reset reads the topic's watermarks (bootstrap also from "
                "EXEC_BOOTSTRAP_FILE);\n"
                "      stop the group's consumers first\n");
}

/* @returns 0 or -1 (printed). */
static int parse_args(int argc, char **argv, ofs_args_t *a)
{
        memset(a, 0, sizeof *a);
        a->partition = -1;
        for (int i = 0; i < argc; i++) {
                const char *s = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (strcmp(s, "--dry-run") == 0) {
                        a->dry_run = 1;
                } else if (strcmp(s, "--execute") == 0) {
                        a->execute = 1;
                } else if (strcmp(s, "--to-earliest") == 0) {
                        a->to_earliest = 1;
                } else if (strcmp(s, "--to-latest") == 0) {
                        a->to_latest = 1;
                } else if (strcmp(s, "--partition") == 0 || strcmp(s, "-b") == 0 ||
                           strcmp(s, "--bootstrap-file") == 0) {
                        if (!v) {
                                fprintf(stderr, OFS_PROC ": %s needs a value\n", s);
                                return -1;
                        }
                        i++;
                        if (s[1] == 'b')
                                a->bootstrap = v;
                        else if (strcmp(s, "--bootstrap-file") == 0)
                                a->bootstrap_file = v;
                        else if (te_parse_i64(v, 0, INT32_MAX, &a->partition) != 0) {
                                fprintf(stderr,
                                        OFS_PROC ": --partition: not a partition: %s\n",
                                        v);
                                return -1;
                        }
                } else if (s[0] == '-' && s[1] != '\0') {
                        fprintf(stderr, OFS_PROC ": unknown option '%s' (see -h)\n", s);
                        return -1;
                } else if (a->n_pos == OFS_POS_MAX) {
                        fprintf(stderr, OFS_PROC ": too many arguments (see -h)\n");
                        return -1;
                } else {
                        a->pos[a->n_pos++] = s;
                }
        }
        return 0;
}

static int cmd_show(PGconn *db, const ofs_args_t *a)
{
        const char *p[2] = {a->n_pos > 1 ? a->pos[1] : "", a->n_pos > 2 ? a->pos[2] : ""};
        PGresult *r = PQexecParams(
            db,
            "SELECT consumer_group, topic, kafka_partition, next_offset, "
            "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
            "FROM consumer_offsets WHERE ($1 = '' OR consumer_group = $1) "
            "AND ($2 = '' OR topic = $2) ORDER BY 1, 2, 3",
            2, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, OFS_PROC ": %s", PQerrorMessage(db));
                PQclear(r);
                return 2;
        }
        int n = PQntuples(r);
        if (n == 0) {
                fprintf(stderr, OFS_PROC ": no stored offsets%s%s%s%s\n",
                        p[0][0] ? " for group " : "", p[0], p[1][0] ? " on topic " : "",
                        p[1]);
                PQclear(r);
                return 1;
        }
        printf("%-24s %-24s %4s %12s  %s\n", "GROUP", "TOPIC", "PART", "NEXT_OFFSET",
               "UPDATED");
        for (int i = 0; i < n; i++)
                printf("%-24s %-24s %4s %12s  %s\n", PQgetvalue(r, i, 0),
                       PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
                       PQgetvalue(r, i, 4));
        PQclear(r);
        return 0;
}

/* The stored offset of one partition, locked. @returns 0 (old = -1 if no row) or -1. */
static int stored_offset(PGconn *db, const char *group, const char *topic, int32_t part,
                         int64_t *old)
{
        char ps[16];
        snprintf(ps, sizeof ps, "%" PRId32, part);
        const char *p[3] = {group, topic, ps};
        PGresult *r = PQexecParams(db,
                                   "SELECT next_offset FROM consumer_offsets WHERE "
                                   "consumer_group = $1 AND topic = $2 AND "
                                   "kafka_partition = $3 FOR UPDATE",
                                   3, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, OFS_PROC ": %s", PQerrorMessage(db));
                PQclear(r);
                return -1;
        }
        *old = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
        PQclear(r);
        return 0;
}

static int exec_simple(PGconn *db, const char *sql)
{
        PGresult *r = PQexec(db, sql);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
                fprintf(stderr, OFS_PROC ": %s: %s", sql, PQerrorMessage(db));
        PQclear(r);
        return ok ? 0 : -1;
}

/* Print the moves and, with --execute, write them; inside the caller's transaction.
 * @returns 0 or -1. */
static int apply_moves(PGconn *db, const char *group, const char *topic,
                       const ofs_move_t *mv, int n, int execute)
{
        for (int i = 0; i < n; i++) {
                char old[32];
                if (mv[i].old_offset >= 0)
                        snprintf(old, sizeof old, "%" PRId64, mv[i].old_offset);
                else
                        te_strlcpy(old, "(none)", sizeof old);
                printf("%s %s [%" PRId32 "]: %s -> %" PRId64 "%s\n", group, topic,
                       mv[i].partition, old, mv[i].new_offset,
                       execute ? "" : " (dry run)");
                if (!execute)
                        continue;
                char ps[16], os[32];
                snprintf(ps, sizeof ps, "%" PRId32, mv[i].partition);
                snprintf(os, sizeof os, "%" PRId64, mv[i].new_offset);
                const char *p[4] = {group, topic, ps, os};
                PGresult *r = PQexecParams(
                    db,
                    "INSERT INTO consumer_offsets (consumer_group, topic, "
                    "kafka_partition, next_offset) VALUES ($1, $2, $3, $4) "
                    "ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE SET "
                    "next_offset = EXCLUDED.next_offset, updated_at = now()",
                    4, NULL, p, NULL, NULL, 0);
                int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
                if (!ok)
                        fprintf(stderr, OFS_PROC ": %s", PQerrorMessage(db));
                PQclear(r);
                if (!ok)
                        return -1;
        }
        return 0;
}

/* The partitions with a stored row (sorted). @returns their count or -1. */
static int stored_partitions(PGconn *db, const char *group, const char *topic,
                             int32_t *parts, int max)
{
        const char *p[2] = {group, topic};
        PGresult *r = PQexecParams(db,
                                   "SELECT kafka_partition FROM consumer_offsets WHERE "
                                   "consumer_group = $1 AND topic = $2 ORDER BY 1",
                                   2, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, OFS_PROC ": %s", PQerrorMessage(db));
                PQclear(r);
                return -1;
        }
        int n = PQntuples(r) < max ? PQntuples(r) : max;
        for (int i = 0; i < n; i++)
                parts[i] = (int32_t)strtol(PQgetvalue(r, i, 0), NULL, 10);
        PQclear(r);
        return n;
}

/* A handle to read watermarks. @returns it or NULL (printed). */
static rd_kafka_t *kafka_handle(const ofs_args_t *a)
{
        char bootstrap[1024] = "", errstr[512];
        const char *file = a->bootstrap_file ? a->bootstrap_file : a->set->bootstrap_file;
        if (a->bootstrap) {
                te_strlcpy(bootstrap, a->bootstrap, sizeof bootstrap);
        } else if (file && *file) {
                if (te_kafka_wait_bootstrap_file(file, OFS_TIMEOUT_MS, bootstrap,
                                                 sizeof bootstrap, errstr,
                                                 sizeof errstr) != 0) {
                        fprintf(stderr, OFS_PROC ": %s\n", errstr);
                        return NULL;
                }
        } else {
                fprintf(stderr, OFS_PROC ": reset reads the watermarks from the cluster: "
                                         "give -b BOOTSTRAP or --bootstrap-file PATH\n");
                return NULL;
        }
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        const te_cfg_t *cfg = a->set->cfg; /* kafka.* first: the bootstrap wins */
        for (size_t i = 0; cfg && i < te_cfg_kafka_count(cfg); i++) {
                if (rd_kafka_conf_set(conf, te_cfg_kafka_name(cfg, i),
                                      te_cfg_kafka_value(cfg, i), errstr,
                                      sizeof errstr) != RD_KAFKA_CONF_OK) {
                        fprintf(stderr, OFS_PROC ": kafka.%s: %s\n",
                                te_cfg_kafka_name(cfg, i), errstr);
                        rd_kafka_conf_destroy(conf);
                        return NULL;
                }
        }
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                              sizeof errstr) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) !=
                RD_KAFKA_CONF_OK) {
                fprintf(stderr, OFS_PROC ": %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (!rk) {
                fprintf(stderr, OFS_PROC ": %s\n", errstr);
                rd_kafka_conf_destroy(conf);
        }
        return rk;
}

static int cmd_move(PGconn *db, const ofs_args_t *a, int is_reset)
{
        static ofs_move_t mv[OFS_MAX_PARTS];
        static int32_t parts[OFS_MAX_PARTS];
        const char *group = a->pos[1], *topic = a->pos[2];
        rd_kafka_t *rk = NULL;
        int n = 0, rc = 2;

        if (exec_simple(db, "BEGIN") != 0)
                return 2;
        if (!is_reset) {
                int64_t part, off;
                if (te_parse_i64(a->pos[3], 0, INT32_MAX, &part) != 0 ||
                    te_parse_i64(a->pos[4], 0, INT64_MAX, &off) != 0) {
                        fprintf(stderr, OFS_PROC ": set: PARTITION and OFFSET must be "
                                                 "whole numbers >= 0\n");
                        goto out;
                }
                mv[0].partition = (int32_t)part;
                mv[0].new_offset = off;
                if (stored_offset(db, group, topic, mv[0].partition, &mv[0].old_offset))
                        goto out;
                n = 1;
        } else {
                int np;
                if (a->partition >= 0) {
                        parts[0] = (int32_t)a->partition;
                        np = 1;
                } else {
                        np = stored_partitions(db, group, topic, parts, OFS_MAX_PARTS);
                        if (np < 0)
                                goto out;
                        if (np == 0) {
                                fprintf(stderr,
                                        OFS_PROC ": group %s has no stored offsets on %s "
                                                 "(give --partition P to create one)\n",
                                        group, topic);
                                goto out;
                        }
                }
                rk = kafka_handle(a);
                if (!rk)
                        goto out;
                char errstr[512];
                int32_t tp;
                if (te_kafka_partition_count(rk, topic, 0, OFS_TIMEOUT_MS, &tp, errstr,
                                             sizeof errstr) != 0) {
                        fprintf(stderr, OFS_PROC ": %s\n", errstr);
                        goto out;
                }
                for (int i = 0; i < np; i++) {
                        int64_t lo, hi;
                        if (parts[i] >= tp) {
                                fprintf(stderr,
                                        OFS_PROC ": topic %s has no partition %" PRId32
                                                 "\n",
                                        topic, parts[i]);
                                goto out;
                        }
                        if (te_kafka_watermarks(rk, topic, &parts[i], 1, OFS_TIMEOUT_MS,
                                                &lo, &hi, errstr, sizeof errstr) != 0) {
                                fprintf(stderr, OFS_PROC ": %s\n", errstr);
                                goto out;
                        }
                        mv[n].partition = parts[i];
                        mv[n].new_offset = a->to_earliest ? lo : hi;
                        if (stored_offset(db, group, topic, parts[i], &mv[n].old_offset))
                                goto out;
                        n++;
                }
        }
        if (apply_moves(db, group, topic, mv, n, a->execute) != 0)
                goto out;
        if (exec_simple(db, a->execute ? "COMMIT" : "ROLLBACK") != 0)
                goto out;
        if (!a->execute)
                printf("dry run: nothing changed (--execute to apply)\n");
        rc = 0;
out:
        if (rc != 0)
                exec_simple(db, "ROLLBACK");
        if (rk)
                rd_kafka_destroy(rk);
        return rc;
}

int te_dbtool_offsets(const te_dbtool_settings_t *set, int argc, char **argv)
{
        ofs_args_t a;
        char errstr[512];
        if (parse_args(argc, argv, &a) != 0)
                return 2;
        a.set = set;
        const char *sub = a.n_pos > 0 ? a.pos[0] : "";
        int is_show = strcmp(sub, "show") == 0;
        int is_set = strcmp(sub, "set") == 0;
        int is_reset = strcmp(sub, "reset") == 0;
        if (!is_show && !is_set && !is_reset) {
                fprintf(stderr, OFS_PROC ": expected show, set or reset (see -h)\n");
                return 2;
        }
        if ((is_show && a.n_pos > 3) || (is_set && a.n_pos != 5) ||
            (is_reset && a.n_pos != 3)) {
                fprintf(stderr, OFS_PROC ": %s: wrong number of arguments (see -h)\n",
                        sub);
                return 2;
        }
        if (!is_show && a.dry_run + a.execute != 1) {
                fprintf(stderr, OFS_PROC ": %s: give one of --dry-run and --execute\n",
                        sub);
                return 2;
        }
        if (is_reset && a.to_earliest + a.to_latest != 1) {
                fprintf(stderr, OFS_PROC ": reset: give one of --to-earliest and "
                                         "--to-latest\n");
                return 2;
        }
        if ((!is_reset && (a.to_earliest || a.to_latest || a.partition >= 0 ||
                           a.bootstrap || a.bootstrap_file)) ||
            (is_show && (a.dry_run || a.execute))) {
                fprintf(stderr, OFS_PROC ": %s: option not valid here (see -h)\n", sub);
                return 2;
        }
        PGconn *db = te_pg_connect(set->db_conninfo, errstr, sizeof errstr);
        if (!db) {
                fprintf(stderr, OFS_PROC ": %s\n", errstr);
                return 2;
        }
        int rc = is_show ? cmd_show(db, &a) : cmd_move(db, &a, is_reset);
        PQfinish(db);
        return rc;
}
