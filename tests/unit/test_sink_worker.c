/*
 * Unit tests for sink_worker: the exec-sink's path end to end, exec.reports on
 * librdkafka's in-process mock cluster into a throwaway PostgreSQL (ops/pg.sh, started
 * once for the file on a unix socket in a temp dir), driven one loop turn at a time
 * (te_sink_worker_poll): reports applied once with the next offset of their partition,
 * bad bytes dead-lettered while the partition goes on, a worker restarted in the same
 * group resuming from the DB's offsets (not from Kafka's committed offsets, which the
 * test rewinds) without applying anything again, and a PostgreSQL restart mid-stream
 * waited out, the batch in hand dropped and read again from the DB's offsets.
 *
 * Every wait polls a condition with a deadline; nothing sleeps to synchronise. Each
 * test uses its own topics and group. Without PostgreSQL's initdb the file is skipped
 * (77); a server that is installed but does not start fails it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "sink_worker.h"
#include "te_buf.h"
#include "te_codec.h"
#include "te_config.h"
#include "te_kafka.h"
#include "te_log.h"
#include "te_proc.h"

#include "mock_cluster.h"

#define N_PARTS 4
/* the longest wait for a condition (a deadline, not a sleep: each wait ends as soon as
 * its condition holds); generous for a first group join under valgrind on a loaded
 * machine */
#define WAIT_MS   120000
#define SKIP_CODE 77 /* ctest's SKIP_RETURN_CODE for this test */

static te_codec_t *codec;
static char pg_dir[256];   /* the throwaway cluster's directory ("": none) */
static char conninfo[512]; /* libpq conninfo of its database "exec" */
static PGconn *db;         /* the test's own connection, to check what was applied */

/* ---- the throwaway PostgreSQL ------------------------------------------------------
 */

/* Run `te_pg_up` or `te_pg_down` of ops/pg.sh on pg_dir (output to pg_dir/sh.log).
 * @returns the shell's exit status. */
static int pg_sh(const char *fn, const char *extra)
{
        char cmd[1536];
        int n = snprintf(cmd, sizeof cmd,
                         "bash -c '. \"%s/ops/pg.sh\" && %s \"%s\"%s' >>\"%s.log\" 2>&1",
                         TE_SOURCE_DIR, fn, pg_dir, extra, pg_dir);
        if (n < 0 || (size_t)n >= sizeof cmd)
                return -1;
        return system(cmd);
}

/* A cluster of its own for this file. @returns 0, or -1 (message on stderr). */
static int pg_start(void)
{
        char tmpl[] = "/tmp/test_sink_worker.XXXXXX";
        if (!mkdtemp(tmpl) || chmod(tmpl, 0755) != 0) /* the server user must enter */
                return -1;
        snprintf(pg_dir, sizeof pg_dir, "%s/pg", tmpl);
        if (pg_sh("te_pg_up", " && echo \"$PGPORT\" >\"$PGHOST/../port\"") != 0) {
                fprintf(stderr, "test_sink_worker: no PostgreSQL (see %s.log)\n", pg_dir);
                return -1;
        }
        char path[300];
        snprintf(path, sizeof path, "%s/port", pg_dir);
        FILE *f = fopen(path, "r");
        long port = 0;
        if (!f || fscanf(f, "%ld", &port) != 1 || port <= 0 || port > 65535) {
                if (f)
                        fclose(f);
                return -1;
        }
        fclose(f);
        snprintf(conninfo, sizeof conninfo,
                 "host=%s/sock port=%ld user=postgres dbname=exec", pg_dir, port);
        return 0;
}

static void pg_stop(void)
{
        if (!pg_dir[0])
                return;
        pg_sh("te_pg_down", "");
        char *slash = strrchr(pg_dir, '/'); /* the temp dir around it */
        char log[300], parent[256];
        snprintf(log, sizeof log, "%s.log", pg_dir);
        remove(log);
        if (slash) {
                *slash = '\0';
                te_strlcpy(parent, pg_dir, sizeof parent);
                rmdir(parent);
        }
        pg_dir[0] = '\0';
}

/* pg_ctl on the cluster as its owner (ops/pg.sh), `args` after -D DIR/data. With
 * `after_s` > 0 it runs in the background after that many seconds: the length of an
 * outage the test stages, not a wait. @returns the shell's exit status (0 at once for a
 * background run). */
static int pg_ctl(const char *args, int after_s)
{
        char run[1024], cmd[1200];
        int n = snprintf(run, sizeof run,
                         "bash -c '. \"%s/ops/pg.sh\" && bin=$(_te_pg_bin) && "
                         "_te_pg_as \"$bin/pg_ctl\" -D \"%s/data\" %s' >>\"%s.log\" 2>&1",
                         TE_SOURCE_DIR, pg_dir, args, pg_dir);
        if (n < 0 || (size_t)n >= sizeof run)
                return -1;
        if (after_s <= 0)
                return system(run);
        n = snprintf(cmd, sizeof cmd, "(sleep %d; %s) &", after_s, run);
        if (n < 0 || (size_t)n >= sizeof cmd)
                return -1;
        return system(cmd);
}

/* One number from a query with one text parameter. */
static long long query_num(const char *sql, const char *param)
{
        const char *params[] = {param};
        PGresult *r = PQexecParams(db, sql, 1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
                fail_msg("%s: %s", sql, PQerrorMessage(db));
        long long v = PQgetisnull(r, 0, 0) ? -1 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        return v;
}

/* Rows in order_events from a topic, and trades of the orders whose ids start with
 * `prefix`. */
static long long events_of(const char *topic)
{
        return query_num("SELECT count(*) FROM order_events WHERE kafka_topic = $1",
                         topic);
}

static long long trades_of(const char *prefix)
{
        return query_num("SELECT count(*) FROM trades WHERE starts_with(order_id, $1)",
                         prefix);
}

/* The next offset the DB holds for a group's partition (-1: none). */
static long long db_offset(const char *group, int32_t partition)
{
        char sql[160];
        snprintf(sql, sizeof sql,
                 "SELECT coalesce(max(next_offset), -1) FROM consumer_offsets WHERE "
                 "consumer_group = $1 AND kafka_partition = %d",
                 (int)partition);
        return query_num(sql, group);
}

/* ---- the stack ----------------------------------------------------------------------
 */

/* One test's topics and group, named after the test. */
typedef struct names_s {
        char reports[64], alerts[64], dead[64], group[64];
} names_t;

static names_t names_for(const char *test)
{
        names_t n;
        snprintf(n.reports, sizeof n.reports, "%s.reports", test);
        snprintf(n.alerts, sizeof n.alerts, "%s.alerts", test);
        snprintf(n.dead, sizeof n.dead, "%s.dead", test);
        snprintf(n.group, sizeof n.group, "%s.group", test);
        const char *topics[] = {n.reports, n.alerts, n.dead};
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(rd_kafka_mock_topic_create(mock, topics[i], N_PARTS, 1),
                                 0);
        return n;
}

static te_sink_worker_conf_t conf_for(const names_t *n)
{
        te_sink_worker_conf_t c;
        memset(&c, 0, sizeof c);
        te_strlcpy(c.common.bootstrap, bootstrap, sizeof c.common.bootstrap);
        te_strlcpy(c.common.db_conninfo, conninfo, sizeof c.common.db_conninfo);
        te_strlcpy(c.group_id, n->group, sizeof c.group_id);
        te_strlcpy(c.topic_reports, n->reports, sizeof c.topic_reports);
        te_strlcpy(c.topic_alerts, n->alerts, sizeof c.topic_alerts);
        te_strlcpy(c.topic_deadletter, n->dead, sizeof c.topic_deadletter);
        c.batch_max = 100;
        c.batch_linger_ms = 20;
        c.db_migrate = 1;
        c.db_sync_commit = 0;
        c.db_direct = 1;
        c.retry_max_ms = 200;
        return c;
}

/* kafka.* settings for the mock cluster (mock_cluster.h). */
static te_cfg_t *kafka_cfg(void)
{
        char errstr[256] = "";
        te_cfg_t *cfg = mock_kafka_cfg(errstr, sizeof errstr);
        if (!cfg)
                fail_msg("kafka settings: %s", errstr);
        return cfg;
}

static te_sink_worker_t *worker_for(const names_t *n)
{
        char errstr[512] = "";
        te_sink_worker_conf_t c = conf_for(n);
        te_cfg_t *cfg = kafka_cfg();
        int stopped = -1;
        te_sink_worker_t *w =
            te_sink_worker_new(&c, cfg, &stopped, errstr, sizeof errstr);
        te_cfg_destroy(cfg);
        if (!w)
                fail_msg("te_sink_worker_new: %s", errstr);
        assert_int_equal(stopped, 0);
        return w;
}

static te_sink_worker_stats_t stats_of(const te_sink_worker_t *w)
{
        te_sink_worker_stats_t s;
        te_sink_worker_stats(w, &s);
        return s;
}

/* Turn the worker's loop until it has taken `want` reports (applied or dead-lettered)
 * in all. */
static void run_until_reports(te_sink_worker_t *w, uint64_t want)
{
        int64_t deadline = te_proc_mono_ms() + WAIT_MS;
        while (stats_of(w).reports < want && te_proc_mono_ms() < deadline)
                assert_int_equal(te_sink_worker_poll(w, 10), 0);
        assert_int_equal(stats_of(w).reports, want);
}

/* Stop a worker as main does: the loop ends, the counters logged, destroy. */
static void stop(te_sink_worker_t *w)
{
        te_proc_stop = 1;
        assert_int_equal(te_sink_worker_run(w), 0);
        te_proc_stop = 0;
        te_sink_worker_destroy(w);
}

/* ---- reports in ---------------------------------------------------------------------
 */

/* A report of order `order_id` of portfolio `pf`: ACK, or a FILL of 100 at 10. */
static te_exec_report_t report(const char *order_id, const char *pf, te_exec_type_t type)
{
        te_exec_report_t r;
        memset(&r, 0, sizeof r);
        snprintf(r.report_id, sizeof r.report_id, "%s-%s", order_id,
                 type == TE_EXEC_FILL ? "fill" : "ack");
        te_strlcpy(r.order_id, order_id, sizeof r.order_id);
        r.exec_type = type;
        te_strlcpy(r.ticker, "XYZ", sizeof r.ticker);
        r.side = TE_SIDE_BUY;
        if (type == TE_EXEC_FILL) {
                r.order_status = TE_OS_FILLED;
                r.last_qty = r.cum_qty = 100;
                r.last_price = r.avg_price = 10;
                r.commission = 1;
        } else {
                r.order_status = TE_OS_NEW;
                r.leaves_qty = 100;
        }
        te_strlcpy(r.broker, "sim", sizeof r.broker);
        te_strlcpy(r.account, "SIM-1", sizeof r.account);
        r.event_time = INT64_C(1704214800000); /* 2024-01-02 17:00 UTC */
        te_strlcpy(r.ids.decision_id, "D1", sizeof r.ids.decision_id);
        te_strlcpy(r.ids.portfolio_id, pf, sizeof r.ids.portfolio_id);
        te_strlcpy(r.ids.strategy_id, "S1", sizeof r.ids.strategy_id);
        te_strlcpy(r.ids.profile_version_id, "PV1", sizeof r.ids.profile_version_id);
        te_strlcpy(r.ids.regime_id, "R1", sizeof r.ids.regime_id);
        te_strlcpy(r.ids.universe_id, "U1", sizeof r.ids.universe_id);
        r.mode = TE_MODE_TRAINING;
        return r;
}

/* Produce raw bytes to `partition` and wait for the delivery. */
static void produce_raw(const char *topic, int32_t partition, const char *key,
                        const void *v, size_t len)
{
        char errstr[512] = "";
        te_cfg_t *cfg = kafka_cfg();
        te_producer_t *p = te_producer_new(cfg, bootstrap, errstr, sizeof errstr);
        te_cfg_destroy(cfg);
        assert_non_null(p);
        assert_int_equal(te_producer_send_to(p, topic, partition, key, strlen(key), v,
                                             len, NULL, 0, errstr, sizeof errstr),
                         0);
        assert_int_equal(te_producer_flush(p, WAIT_MS, errstr, sizeof errstr), 0);
        assert_int_equal(te_producer_failed(p), 0);
        te_producer_destroy(p);
}

static void produce_report(const char *topic, int32_t partition,
                           const te_exec_report_t *r)
{
        char errstr[512] = "";
        te_buf_t buf;
        te_buf_init(&buf, TE_CODEC_MAX_MESSAGE);
        assert_int_equal(
            te_codec_encode_exec_report(codec, r, &buf, errstr, sizeof errstr),
            TE_CODEC_OK);
        produce_raw(topic, partition, r->ids.portfolio_id, buf.data, buf.len);
        te_buf_free(&buf);
}

/* An ACK and a FILL for each of `n` orders `<prefix><i>`, order i on partition
 * i % N_PARTS; per_part[p] counts the messages of partition p. */
static void produce_orders(const char *topic, const char *prefix, int n,
                           int64_t per_part[N_PARTS])
{
        for (int i = 0; i < n; i++) {
                char id[32], pf[16];
                snprintf(id, sizeof id, "%s%d", prefix, i);
                snprintf(pf, sizeof pf, "P%d", i % N_PARTS);
                te_exec_report_t ack = report(id, pf, TE_EXEC_ACK);
                te_exec_report_t fill = report(id, pf, TE_EXEC_FILL);
                produce_report(topic, i % N_PARTS, &ack);
                produce_report(topic, i % N_PARTS, &fill);
                per_part[i % N_PARTS] += 2;
        }
}

/* Messages on a topic: the sum of its partitions' high watermarks (nothing is deleted
 * on the mock cluster in a test this short). */
static int64_t topic_size(const char *topic)
{
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                                           sizeof errstr),
                         RD_KAFKA_CONF_OK);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        assert_non_null(rk);
        int64_t sum = 0;
        for (int32_t p = 0; p < N_PARTS; p++) {
                int64_t lo = -1, hi = -1;
                assert_int_equal(
                    rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, WAIT_MS), 0);
                sum += hi;
        }
        rd_kafka_destroy(rk);
        return sum;
}

/* Set the group's committed offsets in Kafka to 0 on every partition of the reports
 * topic, as a member of the group (joined alone, then gone), and check that they are. */
static void rewind_kafka_offsets(const names_t *n)
{
        static const char *const kv[] = {"session.timeout.ms",
                                         MOCK_SESSION_TIMEOUT_MS,
                                         "heartbeat.interval.ms",
                                         "500",
                                         "enable.auto.commit",
                                         "false",
                                         "auto.offset.reset",
                                         "latest",
                                         NULL};
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                                           sizeof errstr),
                         RD_KAFKA_CONF_OK);
        assert_int_equal(
            rd_kafka_conf_set(conf, "group.id", n->group, errstr, sizeof errstr),
            RD_KAFKA_CONF_OK);
        for (size_t i = 0; kv[i]; i += 2)
                assert_int_equal(
                    rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof errstr),
                    RD_KAFKA_CONF_OK);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
        assert_non_null(rk);
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(sub, n->reports, RD_KAFKA_PARTITION_UA);
        assert_int_equal(rd_kafka_subscribe(rk, sub), 0);
        rd_kafka_topic_partition_list_destroy(sub);
        /* the whole topic assigned to this one member */
        rd_kafka_topic_partition_list_t *a = NULL;
        int cnt = 0;
        int64_t deadline = te_proc_mono_ms() + WAIT_MS;
        while (te_proc_mono_ms() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 10);
                if (m)
                        rd_kafka_message_destroy(m);
                assert_int_equal(rd_kafka_assignment(rk, &a), 0);
                cnt = a->cnt;
                rd_kafka_topic_partition_list_destroy(a);
                if (cnt == N_PARTS)
                        break;
        }
        assert_int_equal(cnt, N_PARTS);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(N_PARTS);
        for (int i = 0; i < N_PARTS; i++)
                rd_kafka_topic_partition_list_add(l, n->reports, i)->offset = 0;
        assert_int_equal(rd_kafka_commit(rk, l, 0), 0);
        for (int i = 0; i < N_PARTS; i++)
                l->elems[i].offset = -1;
        assert_int_equal(rd_kafka_committed(rk, l, WAIT_MS), 0);
        for (int i = 0; i < N_PARTS; i++)
                assert_int_equal(l->elems[i].offset, 0);
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
}

/* ---- tests ---------------------------------------------------------------------------
 */

/* Reports of eight orders on four partitions: every one applied once (an event row per
 * report, a trade per fill), the DB holding the next offset of every partition. */
static void test_sink_worker_applies_once_with_offsets(void **state)
{
        enum { N = 8 };
        (void)state;
        names_t n = names_for("sapply");
        int64_t per_part[N_PARTS] = {0};
        produce_orders(n.reports, "SA", N, per_part);
        te_sink_worker_t *w = worker_for(&n);
        run_until_reports(w, 2 * N);
        te_sink_worker_stats_t s = stats_of(w);
        assert_int_equal(s.applied, 2 * N);
        assert_int_equal(s.dead, 0);
        assert_true(s.batches >= 1);
        assert_int_equal(events_of(n.reports), 2 * N);
        assert_int_equal(trades_of("SA"), N);
        for (int32_t p = 0; p < N_PARTS; p++)
                assert_int_equal(db_offset(n.group, p), per_part[p]);
        assert_int_equal(topic_size(n.dead), 0);
        stop(w);
}

/* Bytes that are no ExecutionReport between two good reports of a partition: the bad
 * one is dead-lettered, the others applied, the offset moves past all three, and the
 * worker goes on with what comes next. */
static void test_sink_worker_bad_report_dead_lettered(void **state)
{
        static const char junk[] = "\x02not a report";
        (void)state;
        names_t n = names_for("sbad");
        te_exec_report_t a = report("SB1", "P1", TE_EXEC_ACK);
        produce_report(n.reports, 1, &a);
        produce_raw(n.reports, 1, "P1", junk, sizeof junk - 1);
        te_exec_report_t f = report("SB1", "P1", TE_EXEC_FILL);
        produce_report(n.reports, 1, &f);
        te_sink_worker_t *w = worker_for(&n);
        run_until_reports(w, 3);
        te_sink_worker_stats_t s = stats_of(w);
        assert_int_equal(s.dead, 1);
        assert_int_equal(s.refused, 0);
        assert_int_equal(s.applied, 2);
        assert_int_equal(events_of(n.reports), 2);
        assert_int_equal(trades_of("SB1"), 1);
        assert_int_equal(db_offset(n.group, 1), 3);
        assert_int_equal(topic_size(n.dead), 1); /* made durable before the commit */
        /* the worker goes on */
        te_exec_report_t b = report("SB2", "P1", TE_EXEC_ACK);
        produce_report(n.reports, 1, &b);
        run_until_reports(w, 4);
        assert_int_equal(stats_of(w).applied, 3);
        assert_int_equal(events_of(n.reports), 3);
        assert_int_equal(db_offset(n.group, 1), 4);
        stop(w);
}

/* A worker stopped after applying reports, Kafka's committed offsets of its group then
 * rewound to 0: the next worker of the group starts every partition at the DB's offset,
 * so it reads none of the old reports again and applies only the new ones. */
static void test_sink_worker_restart_resumes_from_db(void **state)
{
        enum { N = 6 };
        (void)state;
        names_t n = names_for("srestart");
        int64_t per_part[N_PARTS] = {0};
        produce_orders(n.reports, "SR", N, per_part);
        te_sink_worker_t *w = worker_for(&n);
        run_until_reports(w, 2 * N);
        assert_int_equal(stats_of(w).applied, 2 * N);
        stop(w);
        rewind_kafka_offsets(&n);

        w = worker_for(&n);
        te_exec_report_t a = report("SRX", "P2", TE_EXEC_ACK);
        produce_report(n.reports, 2, &a);
        per_part[2]++;
        run_until_reports(w, 1);
        /* a few more turns: anything read again from Kafka's offsets would show */
        for (int i = 0; i < 20; i++)
                assert_int_equal(te_sink_worker_poll(w, 10), 0);
        te_sink_worker_stats_t s = stats_of(w);
        assert_int_equal(s.reports, 1);
        assert_int_equal(s.applied, 1);
        assert_int_equal(events_of(n.reports), 2 * N + 1);
        assert_int_equal(trades_of("SR"), N);
        for (int32_t p = 0; p < N_PARTS; p++)
                assert_int_equal(db_offset(n.group, p), per_part[p]);
        stop(w);
}

/* PostgreSQL stopped between two batches and started again two seconds later: the
 * worker retries the second batch while the server is down, and when its connection is
 * reset it drops the batch and seeks its partitions back to the DB's offsets, so the
 * batch is read again and applied once: nothing lost, nothing read from before the
 * DB's offsets. */
static void test_sink_worker_db_outage_reseek(void **state)
{
        enum { N = 4 };
        (void)state;
        names_t n = names_for("soutage");
        int64_t per_part[N_PARTS] = {0};
        produce_orders(n.reports, "SO", N, per_part);
        te_sink_worker_t *w = worker_for(&n);
        run_until_reports(w, 2 * N);
        assert_int_equal(stats_of(w).retries, 0);
        assert_int_equal(pg_ctl("-m fast -w -t 60 stop", 0), 0);
        produce_orders(n.reports, "SP", N, per_part);
        char start[400];
        snprintf(start, sizeof start, "-l \"%s/log\" -w -t 60 start", pg_dir);
        assert_int_equal(pg_ctl(start, 2), 0);
        run_until_reports(w, 4 * N);
        te_sink_worker_stats_t s = stats_of(w);
        assert_true(s.retries >= 1);
        assert_int_equal(s.applied, 4 * N);
        assert_int_equal(s.dead, 0);
        PQreset(db); /* the test's own connection went with the server */
        assert_int_equal(PQstatus(db), CONNECTION_OK);
        assert_int_equal(events_of(n.reports), 4 * N);
        assert_int_equal(trades_of("SO"), N);
        assert_int_equal(trades_of("SP"), N);
        for (int32_t p = 0; p < N_PARTS; p++)
                assert_int_equal(db_offset(n.group, p), per_part[p]);
        stop(w);
}

/* ---- the stack for the file ----------------------------------------------------------
 */

static int stack_setup(void **state)
{
        char errstr[512];
        (void)state;
        codec = te_codec_new(errstr, sizeof errstr);
        if (!codec)
                return -1;
        db = PQconnectdb(conninfo);
        if (PQstatus(db) != CONNECTION_OK)
                return -1;
        return mock_cluster_start(NULL, 0, 1); /* each test creates its own topics */
}

static int stack_teardown(void **state)
{
        (void)state;
        mock_cluster_stop();
        PQfinish(db);
        db = NULL;
        te_codec_destroy(codec);
        return 0;
}

int main(void)
{
        const struct CMUnitTest on_stack[] = {
            cmocka_unit_test(test_sink_worker_applies_once_with_offsets),
            cmocka_unit_test(test_sink_worker_bad_report_dead_lettered),
            cmocka_unit_test(test_sink_worker_restart_resumes_from_db),
            cmocka_unit_test(test_sink_worker_db_outage_reseek),
        };
        te_log_init("test_sink_worker",
                    getenv("TE_TEST_VERBOSE") ? TE_LOG_DEBUG : TE_LOG_WARN);
        char initdb[512];
        const char *bin = getenv("TE_PG_BIN"); /* as ops/pg.sh */
        snprintf(initdb, sizeof initdb, "%s/initdb",
                 bin && bin[0] ? bin : "/usr/lib/postgresql/15/bin");
        if (access(initdb, X_OK) != 0) {
                fprintf(stderr, "test_sink_worker: no %s: skipped\n", initdb);
                return SKIP_CODE;
        }
        if (pg_start() != 0) {
                pg_stop();
                return 1;
        }
        const char *only = getenv("TE_TEST_FILTER"); /* e.g. *restart* */
        if (only && only[0])
                cmocka_set_test_filter(only);
        int rc = cmocka_run_group_tests_name("sink_worker", on_stack, stack_setup,
                                             stack_teardown);
        pg_stop();
        return rc;
}
