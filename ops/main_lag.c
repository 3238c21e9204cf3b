/*
 * exec-lag: consumer lag per group, topic and partition.
 *
 *   exec-lag -b BOOTSTRAP | --bootstrap-file PATH
 *            [--kafka GROUP:TOPIC]...   lag of Kafka-committed offsets
 *            [--db GROUP:TOPIC]...      lag of offsets the sink keeps in PostgreSQL
 *            [--max-lag N] [--json]
 *
 * Lag = high watermark - committed offset (a partition with no commit counts from the
 * low watermark). Prints a table (or JSON lines: one object per partition, then one
 * summary object per check with total_lag, max_lag and over) and exits 0 if every
 * group's total lag is <= --max-lag (default 0), 1 if not, 2 on error, so it can gate
 * scripts and cron jobs. The DB is reached through libpq's environment (PG* variables).
 * The same figures, per partition, are in each process's /metrics as
 * te_kafka_consumer_lag_messages (from librdkafka's statistics).
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_kafka.h"
#include "te_pg.h"

#define MAX_CHECKS 32
#define MAX_PARTS  1024

typedef struct check_s {
        char group[128];
        char topic[128];
        int from_db;
} check_t;

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

static int partition_count(rd_kafka_t *rk, const char *topic)
{
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        int n = -1;
        if (!rkt)
                return -1;
        if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (md->topic_cnt == 1 && !md->topics[0].err)
                        n = md->topics[0].partition_cnt;
                rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(rkt);
        return n;
}

static rd_kafka_t *consumer_for(const char *bootstrap, const char *group, char *errstr,
                                size_t errsz)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, errsz) ||
            rd_kafka_conf_set(conf, "group.id", group, errstr, errsz) ||
            rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errsz) ||
            rd_kafka_conf_set(conf, "log_level", "3", errstr, errsz)) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errsz);
        if (!rk)
                rd_kafka_conf_destroy(conf);
        return rk;
}

static int db_offsets(PGconn *db, const check_t *c, int64_t *off, int n)
{
        const char *p[2] = {c->group, c->topic};
        PGresult *r =
            PQexecParams(db,
                         "SELECT kafka_partition, next_offset FROM consumer_offsets "
                         "WHERE consumer_group = $1 AND topic = $2",
                         2, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, "exec-lag: %s", PQerrorMessage(db));
                PQclear(r);
                return -1;
        }
        for (int i = 0; i < PQntuples(r); i++) {
                long part = strtol(PQgetvalue(r, i, 0), NULL, 10);
                if (part >= 0 && part < n)
                        off[part] = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        }
        PQclear(r);
        return 0;
}

int main(int argc, char **argv)
{
        check_t checks[MAX_CHECKS];
        int n_checks = 0, json = 0, any_db = 0, rc = 2;
        long long max_lag = 0;
        char bootstrap[1024] = "", errstr[512];
        PGconn *db = NULL;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (strcmp(a, "--json") == 0) {
                        json = 1;
                } else if (v && strcmp(a, "-b") == 0) {
                        te_strlcpy(bootstrap, v, sizeof bootstrap);
                        i++;
                } else if (v && strcmp(a, "--bootstrap-file") == 0) {
                        if (te_kafka_wait_bootstrap_file(v, 10000, bootstrap,
                                                         sizeof bootstrap, errstr,
                                                         sizeof errstr) != 0) {
                                fprintf(stderr, "exec-lag: %s\n", errstr);
                                return 2;
                        }
                        i++;
                } else if (v && (strcmp(a, "--kafka") == 0 || strcmp(a, "--db") == 0) &&
                           n_checks < MAX_CHECKS) {
                        int is_db = strcmp(a, "--db") == 0;
                        if (split(v, &checks[n_checks], is_db) != 0) {
                                fprintf(stderr, "exec-lag: %s: expected GROUP:TOPIC\n",
                                        v);
                                return 2;
                        }
                        any_db |= is_db;
                        n_checks++;
                        i++;
                } else if (v && strcmp(a, "--max-lag") == 0) {
                        char *end;
                        max_lag = strtoll(v, &end, 10);
                        if (*end || max_lag < 0) {
                                fprintf(stderr, "exec-lag: --max-lag: not a count: %s\n",
                                        v);
                                return 2;
                        }
                        i++;
                } else {
                        fprintf(stderr,
                                "usage: exec-lag -b BOOTSTRAP|--bootstrap-file PATH "
                                "[--kafka GROUP:TOPIC]... [--db GROUP:TOPIC]... "
                                "[--max-lag N] [--json]\n");
                        return 2;
                }
        }
        if (!bootstrap[0] || n_checks == 0) {
                fprintf(stderr, "exec-lag: need a bootstrap and at least one check\n");
                return 2;
        }
        if (any_db) {
                db = te_pg_connect("", errstr, sizeof errstr);
                if (!db) {
                        fprintf(stderr, "exec-lag: %s\n", errstr);
                        return 2;
                }
        }
        int over = 0;
        if (!json)
                printf("%-24s %-16s %4s %12s %12s %10s\n", "GROUP", "TOPIC", "PART",
                       "COMMITTED", "HIGH", "LAG");
        for (int c = 0; c < n_checks; c++) {
                const check_t *ck = &checks[c];
                rd_kafka_t *rk =
                    consumer_for(bootstrap, ck->group, errstr, sizeof errstr);
                if (!rk) {
                        fprintf(stderr, "exec-lag: %s\n", errstr);
                        goto out;
                }
                int np = partition_count(rk, ck->topic);
                if (np <= 0 || np > MAX_PARTS) {
                        fprintf(stderr, "exec-lag: %s: no such topic or no metadata\n",
                                ck->topic);
                        rd_kafka_destroy(rk);
                        goto out;
                }
                int64_t off[MAX_PARTS];
                for (int p = 0; p < np; p++)
                        off[p] = -1;
                if (ck->from_db) {
                        if (db_offsets(db, ck, off, np) != 0) {
                                rd_kafka_destroy(rk);
                                goto out;
                        }
                } else {
                        rd_kafka_topic_partition_list_t *l =
                            rd_kafka_topic_partition_list_new(np);
                        for (int p = 0; p < np; p++)
                                rd_kafka_topic_partition_list_add(l, ck->topic, p);
                        rd_kafka_resp_err_t err = rd_kafka_committed(rk, l, 10000);
                        if (err) {
                                fprintf(stderr, "exec-lag: committed(%s): %s\n",
                                        ck->group, rd_kafka_err2str(err));
                                rd_kafka_topic_partition_list_destroy(l);
                                rd_kafka_destroy(rk);
                                goto out;
                        }
                        for (int p = 0; p < np; p++)
                                off[p] =
                                    l->elems[p].offset >= 0 ? l->elems[p].offset : -1;
                        rd_kafka_topic_partition_list_destroy(l);
                }
                long long total = 0;
                for (int p = 0; p < np; p++) {
                        int64_t lo, hi;
                        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
                            rk, ck->topic, p, &lo, &hi, 10000);
                        if (err) {
                                fprintf(stderr, "exec-lag: watermarks %s[%d]: %s\n",
                                        ck->topic, p, rd_kafka_err2str(err));
                                rd_kafka_destroy(rk);
                                goto out;
                        }
                        int64_t from = off[p] >= 0 ? off[p] : lo;
                        long long lag = hi > from ? (long long)(hi - from) : 0;
                        total += lag;
                        if (json)
                                printf(
                                    "{\"group\":\"%s\",\"topic\":\"%s\",\"partition\":%d,"
                                    "\"committed\":%lld,\"high\":%lld,\"lag\":%lld,"
                                    "\"source\":\"%s\"}\n",
                                    ck->group, ck->topic, p, (long long)off[p],
                                    (long long)hi, lag, ck->from_db ? "db" : "kafka");
                        else
                                printf("%-24s %-16s %4d %12lld %12lld %10lld\n",
                                       ck->group, ck->topic, p, (long long)off[p],
                                       (long long)hi, lag);
                }
                if (total > max_lag)
                        over = 1;
                if (json)
                        printf("{\"group\":\"%s\",\"topic\":\"%s\",\"partitions\":%d,"
                               "\"total_lag\":%lld,\"max_lag\":%lld,\"over\":%s,"
                               "\"source\":\"%s\"}\n",
                               ck->group, ck->topic, np, total, max_lag,
                               total > max_lag ? "true" : "false",
                               ck->from_db ? "db" : "kafka");
                if (!json)
                        printf("%-24s %-16s %4s %12s %12s %10lld%s\n", ck->group,
                               ck->topic, "*", "", "", total, ck->from_db ? " (db)" : "");
                rd_kafka_destroy(rk);
        }
        rc = over ? 1 : 0;
out:
        if (db)
                PQfinish(db);
        return rc;
}
