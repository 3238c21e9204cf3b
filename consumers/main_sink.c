/*
 * exec-sink: exec.reports -> runtime DB, exactly once.
 *
 * Reports are collected into batches (up to batch.max messages or batch.linger.ms
 * after the first), and each batch is applied in one PostgreSQL transaction together
 * with the next offset of every partition it consumed (pg_sink.h). On every partition
 * assignment consumption starts at the offsets stored in the DB. A database error rolls
 * the batch back and retries it with backoff, reconnecting as needed: offsets never
 * move past what is committed. Bad bytes are dead-lettered before the batch commits.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_sink.h"
#include "te_buf.h"
#include "te_cfgtab.h"
#include "te_codec.h"
#include "te_emit.h"
#include "te_kafka.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_pg.h"
#include "te_proc.h"

#define PROC      "exec-sink"
#define MAX_BATCH 100000

typedef struct conf_s {
        te_common_conf_t common;
        char group_id[128];
        char topic_reports[128];
        char topic_alerts[128];
        char topic_deadletter[128];
        int64_t batch_max;
        int64_t batch_linger_ms;
        int db_migrate;
        int db_sync_commit;
        int db_direct;
        int64_t retry_max_ms;
} conf_t;

static const te_cfg_item_t conf_items[] = {
    TE_CFG_COMMON(conf_t),
    TE_CFG_S(conf_t, "group.id", group_id, "exec-sink", "consumer group (offsets in DB)"),
    TE_CFG_S(conf_t, "topic.reports", topic_reports, "exec.reports",
             "execution reports topic"),
    TE_CFG_S(conf_t, "topic.alerts", topic_alerts, "exec.alerts", "alerts topic"),
    TE_CFG_S(conf_t, "topic.deadletter", topic_deadletter, "exec.deadletter",
             "dead-letter topic (records refused, with the reason)"),
    TE_CFG_I(conf_t, "batch.max", batch_max, "2000", 1, MAX_BATCH,
             "most reports in one DB transaction"),
    TE_CFG_I(conf_t, "batch.linger.ms", batch_linger_ms, "20", 0, 10000,
             "how long a batch waits for more reports after its first"),
    TE_CFG_B(conf_t, "db.migrate", db_migrate, "true",
             "apply pending migrations at start"),
    TE_CFG_B(conf_t, "db.synchronous_commit", db_sync_commit, "false",
             "wait for each batch's WAL flush at COMMIT (safe off: offsets commit "
             "with the data)"),
    TE_CFG_B(conf_t, "db.direct", db_direct, "true",
             "COPY a batch straight into the final tables when it allows (false: always "
             "through the staging tables)"),
    TE_CFG_I(conf_t, "db.retry.max.ms", retry_max_ms, "5000", 10, 600000,
             "longest backoff between DB retries"),
};

typedef struct sink_s {
        conf_t conf;
        te_codec_t *codec;
        te_producer_t *producer;
        te_consumer_t *consumer;
        PGconn *db;
        te_pg_sink_t *pg;
        rd_kafka_message_t **batch;
        size_t n;
        int any_dead; /* the batch dead-lettered something: flush before commit */
        te_exec_report_t rep;
        uint64_t n_reports, n_applied, n_dead, n_batches, n_retries;
} sink_t;

static void on_rebalance(te_consumer_t *c, rd_kafka_topic_partition_list_t *parts,
                         int assigned, void *opaque)
{
        sink_t *s = opaque;
        char errstr[512];
        (void)c;
        if (!assigned)
                return;
        for (int i = 0; i < parts->cnt; i++) {
                rd_kafka_topic_partition_t *tp = &parts->elems[i];
                int64_t off = te_pg_sink_load_offset(s->pg, tp->topic, tp->partition,
                                                     errstr, sizeof errstr);
                if (off == -2)
                        TE_LOG(TE_LOG_ERROR, NULL, "sink.offsets",
                               "%s; using the Kafka committed offset", errstr);
                if (off >= 0)
                        tp->offset = off;
                TE_LOG(TE_LOG_INFO, NULL, "sink.assigned", "%s[%d] from %s %lld",
                       tp->topic, (int)tp->partition,
                       off >= 0 ? "db offset" : "committed/earliest", (long long)off);
        }
}

/* A partition's stored offset fell out of retention, or lies beyond what the cluster
 * holds (offset > high watermark: a cluster that lost its data): te_kafka stopped the
 * partition; say so. */
static void on_gap(te_consumer_t *c, const char *topic, int32_t partition, int64_t offset,
                   int64_t low, int64_t high, int64_t lost, void *opaque)
{
        sink_t *s = opaque;
        (void)c;
        if (high >= 0 && offset > high) {
                te_emit_alert(s->producer, s->codec, s->conf.topic_alerts,
                              TE_SEV_CRITICAL, PROC, "offset_ahead", NULL, NULL, NULL,
                              "%s[%d]: stored offset %lld is beyond the high watermark "
                              "%lld (low %lld): the cluster lost the messages before it; "
                              "partition stopped, not reset",
                              topic, (int)partition, (long long)offset, (long long)high,
                              (long long)low);
                return;
        }
        te_emit_alert(s->producer, s->codec, s->conf.topic_alerts, TE_SEV_CRITICAL, PROC,
                      "retention_gap", NULL, NULL, NULL,
                      "%s[%d]: next offset %lld is out of retention (low watermark %lld, "
                      "high %lld): %lld messages lost; partition paused, nothing skipped",
                      topic, (int)partition, (long long)offset, (long long)low,
                      (long long)high, (long long)lost);
}

static void backoff_sleep(int64_t ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
}

/* Decode one consumed message and stage it (or dead-letter it). The offset is staged
 * either way, so a bad message never blocks its partition.
 * @returns 0, 1 when the staging buffer is full (message not taken), -1 fatal. */
static int take(sink_t *s, rd_kafka_message_t *m)
{
        char errstr[640], why[512];
        const char *topic = rd_kafka_topic_name(m->rkt);
        te_codec_err_t cerr = te_codec_decode_exec_report(s->codec, m->payload, m->len,
                                                          &s->rep, why, sizeof why);
        if (cerr == TE_CODEC_OK) {
                if (te_pg_sink_stage(s->pg, &s->rep, topic, m->partition, m->offset,
                                     errstr, sizeof errstr) != 0)
                        return 1;
                te_log_ids_t ids = {.decision_id = s->rep.ids.decision_id,
                                    .portfolio_id = s->rep.ids.portfolio_id,
                                    .order_id = s->rep.order_id,
                                    .report_id = s->rep.report_id};
                TE_LOG(TE_LOG_DEBUG, &ids, "report.staged", "%s %s [%d]@%lld",
                       te_exec_type_name(s->rep.exec_type), s->rep.ticker,
                       (int)m->partition, (long long)m->offset);
        } else {
                char reason[640];
                snprintf(reason, sizeof reason, "%s: %s", te_codec_err_name(cerr), why);
                if (te_emit_deadletter(s->producer, s->conf.topic_deadletter, m, reason,
                                       errstr, sizeof errstr) != 0) {
                        TE_LOG(TE_LOG_ERROR, NULL, "sink.deadletter", "%s", errstr);
                        return -1;
                }
                te_emit_alert(s->producer, s->codec, s->conf.topic_alerts, TE_SEV_WARNING,
                              PROC, "bad_report", NULL, NULL, NULL,
                              "report dead-lettered: %s", reason);
                s->n_dead++;
                s->any_dead = 1;
        }
        if (te_pg_sink_stage_offset(s->pg, topic, m->partition, m->offset + 1, errstr,
                                    sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "sink.offsets", "%s", errstr);
                return -1;
        }
        s->batch[s->n++] = m;
        return 0;
}

/* Apply the staged batch, retrying with backoff until it commits or we are stopped.
 * @returns 0 when committed, -1 when stopping with the batch not applied. */
static int apply_with_retry(sink_t *s)
{
        char errstr[1024];
        int64_t delay = 50;
        for (;;) {
                long applied = 0;
                /* dead letters must be durable before the offsets that skip them */
                int rc = s->any_dead ? te_producer_flush(s->producer, 30000, errstr,
                                                         sizeof errstr)
                                     : 0;
                int64_t t0 = te_proc_mono_ns();
                if (rc == 0)
                        rc = te_pg_sink_commit_stage(s->pg, &applied, errstr,
                                                     sizeof errstr);
                if (rc == 0) {
                        te_obs_latency(TE_OBS_DB_COMMIT,
                                       (double)(te_proc_mono_ns() - t0) / 1e9);
                        for (size_t i = 0; i < s->n; i++)
                                te_obs_latency(TE_OBS_REPORT_TO_COMMIT,
                                               te_obs_since_ms(rd_kafka_message_timestamp(
                                                   s->batch[i], NULL)));
                        te_obs_ready("db", 1);
                        s->n_applied += (uint64_t)applied;
                        s->any_dead = 0;
                        return 0;
                }
                s->n_retries++;
                te_obs_ready("db", 0);
                TE_LOG(TE_LOG_ERROR, NULL, "sink.db_error",
                       "batch of %zu not applied (retry in %lld ms): %s", s->n,
                       (long long)delay, errstr);
                if (te_proc_stop)
                        return -1;
                backoff_sleep(delay);
                delay =
                    delay * 2 > s->conf.retry_max_ms ? s->conf.retry_max_ms : delay * 2;
                if (PQstatus(s->db) != CONNECTION_OK) {
                        PQreset(s->db);
                        if (PQstatus(s->db) != CONNECTION_OK)
                                continue;
                        if (te_pg_sink_prepare(s->pg, errstr, sizeof errstr) != 0)
                                TE_LOG(TE_LOG_ERROR, NULL, "sink.db_prepare", "%s",
                                       errstr);
                        else
                                TE_LOG(TE_LOG_INFO, NULL, "sink.db_reconnected",
                                       "connection reset");
                }
        }
}

static void release_batch(sink_t *s, int store)
{
        for (size_t i = 0; i < s->n; i++) {
                if (store)
                        te_consumer_store(s->consumer, s->batch[i]);
                rd_kafka_message_destroy(s->batch[i]);
        }
        s->n = 0;
}

/* Collect one batch: the first message, then whatever arrives within the linger time
 * up to batch.max or a full staging buffer. Under load the poll returns at once, so
 * batches fill up; when idle the linger bounds the added latency.
 * @returns 0, or -1 on a fatal error. */
static int collect(sink_t *s, rd_kafka_message_t *first)
{
        rd_kafka_message_t *m = first;
        int64_t deadline = te_proc_mono_ms() + s->conf.batch_linger_ms;
        for (;;) {
                int r = take(s, m);
                if (r < 0) {
                        rd_kafka_message_destroy(m);
                        return -1;
                }
                if (r > 0) {
                        /* staging full: apply what we have, this one goes next */
                        if (apply_with_retry(s) != 0) {
                                rd_kafka_message_destroy(m);
                                return -1;
                        }
                        s->n_reports += s->n;
                        s->n_batches++;
                        release_batch(s, 1);
                        if (take(s, m) != 0) {
                                rd_kafka_message_destroy(m);
                                return -1;
                        }
                }
                if (s->n >= (size_t)s->conf.batch_max)
                        return 0;
                int64_t left = deadline - te_proc_mono_ms();
                m = te_consumer_poll(s->consumer, left > 0 ? (int)left : 0);
                if (!m)
                        return 0;
        }
}

int main(int argc, char **argv)
{
        static sink_t s;
        char errstr[512];
        int rc = 1, fatal = 0;
        te_cfg_t *cfg =
            te_cfgtab_start(PROC, conf_items, sizeof conf_items / sizeof conf_items[0],
                            &s.conf, &s.conf.common, argc, argv);
        if (!cfg)
                return te_cfgtab_exit_code();
        te_proc_install_signals();
        te_http_t *http = NULL;
        if (te_obs_start(&s.conf.common, PROC, TE_OBS_NEED_KAFKA | TE_OBS_NEED_DB, &http,
                         errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "sink.metrics", "%s", errstr);
                goto out;
        }
        s.batch = calloc((size_t)s.conf.batch_max, sizeof *s.batch);
        s.codec = te_codec_new(errstr, sizeof errstr);
        if (!s.batch || !s.codec) {
                TE_LOG(TE_LOG_ERROR, NULL, "sink.init", "%s",
                       s.codec ? "out of memory" : errstr);
                goto out;
        }
        s.db = te_pg_connect(s.conf.common.db_conninfo, errstr, sizeof errstr);
        if (!s.db) {
                TE_LOG(TE_LOG_ERROR, NULL, "sink.db", "%s", errstr);
                goto out;
        }
        if (s.conf.db_migrate) {
                int n = te_pg_migrate(s.db, errstr, sizeof errstr);
                if (n < 0) {
                        TE_LOG(TE_LOG_ERROR, NULL, "sink.migrate", "%s", errstr);
                        goto out;
                }
                TE_LOG(TE_LOG_INFO, NULL, "sink.migrate", "%d migrations applied", n);
        }
        te_obs_ready("db", 1);
        s.pg = te_pg_sink_new(s.db, s.conf.group_id, (size_t)s.conf.batch_max * 4096,
                              s.conf.db_sync_commit, errstr, sizeof errstr);
        s.producer = te_producer_new(cfg, s.conf.common.bootstrap, errstr, sizeof errstr);
        if (!s.pg || !s.producer) {
                TE_LOG(TE_LOG_ERROR, NULL, "sink.init", "%s", errstr);
                goto out;
        }
        te_pg_sink_set_direct(s.pg, s.conf.db_direct);
        const char *topics[] = {s.conf.topic_reports};
        s.consumer = te_consumer_new(cfg, s.conf.common.bootstrap, s.conf.group_id,
                                     topics, 1, on_rebalance, &s, errstr, sizeof errstr);
        if (!s.consumer) {
                TE_LOG(TE_LOG_ERROR, NULL, "sink.consumer", "%s", errstr);
                goto out;
        }
        te_consumer_set_gap_cb(s.consumer, on_gap, &s);
        TE_LOG(TE_LOG_INFO, NULL, "sink.start", "group=%s topic=%s batch.max=%lld",
               s.conf.group_id, s.conf.topic_reports, (long long)s.conf.batch_max);

        while (!te_proc_stop) {
                rd_kafka_message_t *m = te_consumer_poll(s.consumer, 100);
                te_producer_poll(s.producer, 0);
                if (!m)
                        continue;
                if (collect(&s, m) != 0 || apply_with_retry(&s) != 0) {
                        fatal = !te_proc_stop;
                        break;
                }
                s.n_reports += s.n;
                s.n_batches++;
                release_batch(&s, 1);
                te_consumer_commit(s.consumer,
                                   0); /* for lag tools; the DB is the truth */
        }
        TE_LOG(
            TE_LOG_INFO, NULL, "sink.stop",
            "reports=%llu applied=%llu dead_lettered=%llu batches=%llu db_retries=%llu",
            (unsigned long long)s.n_reports, (unsigned long long)s.n_applied,
            (unsigned long long)s.n_dead, (unsigned long long)s.n_batches,
            (unsigned long long)s.n_retries);
        rc = fatal;
out:
        if (s.pg)
                te_pg_sink_clear_stage(s.pg);
        release_batch(&s, 0);
        te_consumer_destroy(s.consumer);
        te_producer_destroy(s.producer);
        te_pg_sink_destroy(s.pg);
        if (s.db)
                PQfinish(s.db);
        te_codec_destroy(s.codec);
        free(s.batch);
        te_obs_stop(http);
        te_cfg_destroy(cfg);
        return rc;
}
