/*
 * sink_worker: the exec-sink worker (sink_worker.h): batches of exec.reports applied to
 * the runtime DB with their offsets, the DB waited for and reconnected, partitions
 * sought back to the DB's offsets, bad reports dead-lettered.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_sink.h"
#include "sink_worker.h"
#include "te_buf.h"
#include "te_codec.h"
#include "te_emit.h"
#include "te_kafka.h"
#include "te_kafka_seek.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_pg.h"
#include "te_proc.h"

#define PROC "exec-sink"

typedef te_sink_worker_conf_t conf_t;

struct te_sink_worker_s {
        conf_t conf;
        te_codec_t *codec;
        te_producer_t *producer;
        te_emitter_t emit; /* dead letters and alerts: producer, codec, topics */
        te_consumer_t *consumer;
        PGconn *db;
        te_pg_sink_t *pg;
        rd_kafka_message_t **batch;
        unsigned char *took; /* per batch message: its report was staged (has a row) */
        size_t n;
        int any_dead;    /* the batch dead-lettered something: flush before commit */
        int reconnected; /* db_backoff opened a new connection: see reseek */
        te_exec_report_t rep;
        uint64_t n_reports, n_applied, n_dead, n_batches, n_retries, n_refused;
};
typedef struct te_sink_worker_s sink_t;

static int db_backoff(sink_t *s, int64_t *delay);

/* The next offset the DB holds for a partition (-1: none), waiting out an outage with
 * db_backoff (`*delay` its backoff). @returns it, or -2 when stopped while waiting. */
static int64_t db_offset(sink_t *s, const rd_kafka_topic_partition_t *tp, int64_t *delay,
                         char *errstr, size_t errsz)
{
        int64_t off;
        while ((off = te_pg_sink_load_offset(s->pg, tp->topic, tp->partition, errstr,
                                             errsz)) == -2) {
                te_obs_ready("db", 0);
                TE_LOG(TE_LOG_ERROR, NULL, "sink.db_retry",
                       "offset of %s[%d]: %s; retry in %lld ms", tp->topic,
                       (int)tp->partition, errstr, (long long)*delay);
                if (db_backoff(s, delay) != 0)
                        break;
        }
        return off;
}

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
                int64_t delay = 50;
                /* the DB holds the truth: wait out an outage rather than start from
                 * the Kafka committed offset, which may be behind it */
                int64_t off = db_offset(s, tp, &delay, errstr, sizeof errstr);
                if (off == -2) /* stopping */
                        TE_LOG(TE_LOG_ERROR, NULL, "sink.offsets",
                               "%s; using the Kafka committed offset", errstr);
                else
                        te_obs_ready("db", 1);
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
        /* dead letters whose delivery failed since: CRITICAL alerts */
        te_emit_lost(s->producer, s->codec, s->conf.topic_alerts, PROC);
        int staged = 0;
        te_codec_err_t cerr = te_codec_decode_exec_report(s->codec, m->payload, m->len,
                                                          &s->rep, why, sizeof why);
        if (cerr == TE_CODEC_OK) /* quantities and prices the DB and planner can hold */
                cerr = te_codec_check_bounds(TE_MSG_EXECUTION_REPORT, &s->rep, why,
                                             sizeof why);
        if (cerr == TE_CODEC_OK) {
                if (te_pg_sink_stage(s->pg, &s->rep, topic, m->partition, m->offset,
                                     errstr, sizeof errstr) != 0)
                        return 1;
                staged = 1;
                te_log_ids_t ids = {.decision_id = s->rep.ids.decision_id,
                                    .portfolio_id = s->rep.ids.portfolio_id,
                                    .order_id = s->rep.order_id,
                                    .report_id = s->rep.report_id};
                TE_LOG(TE_LOG_DEBUG, &ids, "report.staged", "%s %s [%d]@%lld",
                       te_exec_type_name(s->rep.exec_type), s->rep.ticker,
                       (int)m->partition, (long long)m->offset);
        } else {
                /* skipped (alerted) when even a cut copy cannot be queued: the
                 * offset moves on either way */
                te_emit_reject(
                    &s->emit, m, te_codec_err_name(cerr), why,
                    &(te_reject_ctx_t){.what = "report", .alert_code = "bad_report"});
                s->n_dead++;
                s->any_dead = 1;
        }
        if (te_pg_sink_stage_offset(s->pg, topic, m->partition, m->offset + 1, errstr,
                                    sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "sink.offsets", "%s", errstr);
                return -1;
        }
        s->took[s->n] = (unsigned char)staged;
        s->batch[s->n++] = m;
        return 0;
}

/* After a failed attempt: sleep `*delay` ms (doubling it up to db.retry.max.ms) and
 * reconnect if the connection is gone. @returns 0, or -1 when stopping. */
static int db_backoff(sink_t *s, int64_t *delay)
{
        char errstr[512];
        if (te_proc_stop)
                return -1;
        backoff_sleep(*delay);
        *delay = *delay * 2 > s->conf.retry_max_ms ? s->conf.retry_max_ms : *delay * 2;
        if (PQstatus(s->db) != CONNECTION_OK) {
                PQreset(s->db);
                if (PQstatus(s->db) != CONNECTION_OK)
                        return 0;
                if (te_pg_sink_prepare(s->pg, errstr, sizeof errstr) != 0)
                        TE_LOG(TE_LOG_ERROR, NULL, "sink.db_prepare", "%s", errstr);
                else
                        TE_LOG(TE_LOG_INFO, NULL, "sink.db_reconnected",
                               "connection reset");
                s->reconnected = 1;
        }
        return 0;
}

static void release_batch(sink_t *s, int store);

/* The connection was lost and a new one opened. Commits the old one had acknowledged
 * may not have survived (synchronous_commit off, or a server crash loses its last
 * transactions), so the position in Kafka may be past what the DB holds: drop the batch
 * (not applied, not stored) and seek every assigned partition back to its offset in the
 * DB (none: its beginning). Reports read again are booked once (idempotent on
 * report_id). @returns 1 (the batch was dropped), or -1 when stopping. */
static int reseek(sink_t *s)
{
        char errstr[512];
        te_pg_sink_clear_stage(s->pg);
        release_batch(s, 0);
        s->any_dead = 0;
        s->reconnected = 0;
        rd_kafka_t *rk = te_consumer_handle(s->consumer);
        rd_kafka_topic_partition_list_t *l = NULL;
        rd_kafka_resp_err_t err = rd_kafka_assignment(rk, &l);
        if (err || !l) {
                TE_LOG(TE_LOG_ERROR, NULL, "sink.reseek", "assignment: %s",
                       rd_kafka_err2str(err));
                if (l)
                        rd_kafka_topic_partition_list_destroy(l);
                return 1; /* nothing assigned: nothing to move */
        }
        int64_t delay = 50;
        for (int i = 0; i < l->cnt; i++) {
                rd_kafka_topic_partition_t *tp = &l->elems[i];
                int64_t off = db_offset(s, tp, &delay, errstr, sizeof errstr);
                if (off == -2) { /* stopping */
                        rd_kafka_topic_partition_list_destroy(l);
                        return -1;
                }
                tp->offset = off >= 0 ? off : RD_KAFKA_OFFSET_BEGINNING;
        }
        s->reconnected = 0;
        /* not rd_kafka_seek_partitions(): librdkafka 2.0 waits a thousandth of its
         * timeout, and a busy main thread then made this a fatal timeout */
        rd_kafka_error_t *e = l->cnt ? te_kafka_seek_partitions(rk, l, 10000) : NULL;
        if (e) {
                /* not done within 10 s: the position is not known; stop rather than
                 * risk moving past lost commits */
                TE_LOG(TE_LOG_ERROR, NULL, "sink.reseek", "seek: %s",
                       rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
                rd_kafka_topic_partition_list_destroy(l);
                return -1;
        }
        for (int i = 0; i < l->cnt; i++)
                if (l->elems[i].err)
                        TE_LOG(TE_LOG_ERROR, NULL, "sink.reseek", "seek %s[%d]: %s",
                               l->elems[i].topic, (int)l->elems[i].partition,
                               rd_kafka_err2str(l->elems[i].err));
        TE_LOG(TE_LOG_WARN, NULL, "sink.reseek",
               "new DB connection: %d partitions back to their offsets in the DB, the "
               "batch in hand dropped",
               l->cnt);
        rd_kafka_topic_partition_list_destroy(l);
        return 1;
}

/* How to take a failed commit: a lost connection is transient whatever it said. */
static te_pg_err_class_t failure_class(const sink_t *s)
{
        if (PQstatus(s->db) != CONNECTION_OK)
                return TE_PG_ERR_TRANSIENT;
        return te_pg_err_class(te_pg_sink_sqlstate(s->pg));
}

/* `m`, whose report the DB refuses for its data: onto exec.deadletter with the reason
 * and an Alert, made durable before the offset that skips it. @returns 0 or -1. */
static int dead_letter_refused(sink_t *s, const rd_kafka_message_t *m, const char *why)
{
        char errstr[512], reason[768];
        snprintf(reason, sizeof reason, "SQLSTATE %s: %.700s", te_pg_sink_sqlstate(s->pg),
                 why);
        for (char *c = reason; *c; c++) /* libpq's messages span lines */
                if (*c == '\n' || *c == '\r' || *c == '\t')
                        *c = ' ';
        te_log_ids_t ids = {.decision_id = s->rep.ids.decision_id,
                            .portfolio_id = s->rep.ids.portfolio_id,
                            .order_id = s->rep.order_id,
                            .report_id = s->rep.report_id};
        TE_LOG(TE_LOG_ERROR, &ids, "sink.db_refused", "%s[%d]@%lld: db_refused: %s",
               rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
               reason);
        /* skipped (alerted by te_emit) when even a cut copy cannot be queued */
        te_emit_reject(&s->emit, m, "db_refused", reason,
                       &(te_reject_ctx_t){.what = "report",
                                          .decision_id = s->rep.ids.decision_id,
                                          .portfolio_id = s->rep.ids.portfolio_id,
                                          .order_id = s->rep.order_id});
        if (te_producer_flush(s->producer, 30000, errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "sink.deadletter", "%s", errstr);
                return -1;
        }
        s->n_dead++;
        s->n_refused++;
        return 0;
}

/* Commit what is staged for batch message i (its report, if it has one, and its
 * offset): transient failures are retried with backoff; a data error dead-letters the
 * report and commits its offset alone. @returns 0, 1 when a reconnect dropped the
 * batch (reseek), or -1 (stopping, or fatal). */
static int commit_one(sink_t *s, size_t i)
{
        char errstr[1024];
        const rd_kafka_message_t *m = s->batch[i];
        int has_row = s->took[i];
        int64_t delay = 50;
        for (;;) {
                long applied = 0;
                if (te_pg_sink_commit_stage(s->pg, &applied, errstr, sizeof errstr) ==
                    0) {
                        s->n_applied += (uint64_t)applied;
                        return 0;
                }
                te_pg_err_class_t cls = failure_class(s);
                if (cls == TE_PG_ERR_DATA && has_row) {
                        if (dead_letter_refused(s, m, errstr) != 0)
                                return -1;
                        /* its offset alone, past the dead letter */
                        te_pg_sink_clear_stage(s->pg);
                        if (te_pg_sink_stage_offset(s->pg, rd_kafka_topic_name(m->rkt),
                                                    m->partition, m->offset + 1, errstr,
                                                    sizeof errstr) != 0) {
                                TE_LOG(TE_LOG_ERROR, NULL, "sink.offsets", "%s", errstr);
                                return -1;
                        }
                        has_row = 0;
                        continue;
                }
                s->n_retries++;
                te_obs_ready("db", 0);
                TE_LOG(TE_LOG_ERROR, NULL, "sink.db_error",
                       "report %s[%d]@%lld not applied (%s, SQLSTATE %s; retry in %lld "
                       "ms): %s",
                       rd_kafka_topic_name(m->rkt), (int)m->partition,
                       (long long)m->offset, te_pg_err_class_name(cls),
                       te_pg_sink_sqlstate(s->pg)[0] ? te_pg_sink_sqlstate(s->pg)
                                                     : "none",
                       (long long)delay, errstr);
                if (db_backoff(s, &delay) != 0)
                        return -1;
                if (s->reconnected)
                        return reseek(s);
        }
}

/* The batch was refused for its data (some report the DB will not take): apply its
 * messages one by one, each report with its offset in one transaction, so that only
 * the refused report is dead-lettered. Rare, so one transaction per message is fine.
 * @returns 0 when all of the batch is committed or dead-lettered, 1 when a reconnect
 * dropped the rest of it (reseek), -1 (stopping or fatal). */
static int isolate(sink_t *s, const char *why)
{
        char errstr[640], dec[256];
        TE_LOG(TE_LOG_WARN, NULL, "sink.isolate",
               "batch of %zu refused (SQLSTATE %s: %s): applying it report by report",
               s->n, te_pg_sink_sqlstate(s->pg), why);
        te_pg_sink_clear_stage(s->pg);
        for (size_t i = 0; i < s->n; i++) {
                const rd_kafka_message_t *m = s->batch[i];
                const char *topic = rd_kafka_topic_name(m->rkt);
                if (s->took[i]) {
                        /* decoded and staged once already: the same again */
                        if (te_codec_decode_exec_report(s->codec, m->payload, m->len,
                                                        &s->rep, dec,
                                                        sizeof dec) != TE_CODEC_OK ||
                            te_pg_sink_stage(s->pg, &s->rep, topic, m->partition,
                                             m->offset, errstr, sizeof errstr) != 0) {
                                TE_LOG(TE_LOG_ERROR, NULL, "sink.isolate",
                                       "%s[%d]@%lld cannot be staged again", topic,
                                       (int)m->partition, (long long)m->offset);
                                return -1;
                        }
                }
                if (te_pg_sink_stage_offset(s->pg, topic, m->partition, m->offset + 1,
                                            errstr, sizeof errstr) != 0) {
                        TE_LOG(TE_LOG_ERROR, NULL, "sink.offsets", "%s", errstr);
                        return -1;
                }
                int r = commit_one(s, i);
                if (r != 0)
                        return r;
        }
        te_obs_ready("db", 1);
        return 0;
}

/* Apply the staged batch, retrying with backoff until it commits or we are stopped.
 * @returns 0 when committed, 1 when a new DB connection dropped it (reseek: consumed
 * again from the DB's offsets), -1 when stopping with the batch not applied. */
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
                te_pg_err_class_t cls = TE_PG_ERR_TRANSIENT;
                if (rc == 0) {
                        s->any_dead = 0; /* durable now */
                        rc = te_pg_sink_commit_stage(s->pg, &applied, errstr,
                                                     sizeof errstr);
                        if (rc != 0)
                                cls = failure_class(s);
                }
                if (rc != 0 && cls == TE_PG_ERR_DATA)
                        return isolate(s, errstr);
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
                       "batch of %zu not applied (%s, SQLSTATE %s; retry in %lld ms): %s",
                       s->n, te_pg_err_class_name(cls),
                       te_pg_sink_sqlstate(s->pg)[0] ? te_pg_sink_sqlstate(s->pg)
                                                     : "none",
                       (long long)delay, errstr);
                if (db_backoff(s, &delay) != 0)
                        return -1;
                if (s->reconnected)
                        return reseek(s);
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
 * @returns 0, 1 when the batch was dropped (reseek), or -1 on a fatal error. */
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
                        int a = apply_with_retry(s);
                        if (a != 0) {
                                rd_kafka_message_destroy(m);
                                return a;
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

/* Connect, migrate and prepare. While the server cannot be reached (or drops the
 * connection meanwhile), retry with backoff (50 ms doubling to db.retry.max.ms) until
 * stopped, readiness false: the sink joins its group only once it can write. A server
 * that answers and refuses (e.g. a migration) is fatal. @returns 0, or -1 with errstr
 * (or stopped: te_proc_stop). */
static int connect_db(sink_t *s, char *errstr, size_t errsz)
{
        int64_t delay = 50;
        for (;;) {
                s->db = te_pg_connect(s->conf.common.db_conninfo, errstr, errsz);
                int ok = s->db != NULL;
                if (ok && s->conf.db_migrate) {
                        int n = te_pg_migrate(s->db, errstr, errsz);
                        ok = n >= 0;
                        if (ok)
                                TE_LOG(TE_LOG_INFO, NULL, "sink.migrate",
                                       "%d migrations applied", n);
                }
                if (ok) {
                        s->pg = te_pg_sink_new(s->db, s->conf.group_id,
                                               (size_t)s->conf.batch_max * 4096,
                                               s->conf.db_sync_commit, errstr, errsz);
                        if (s->pg)
                                return 0;
                }
                if (s->db && PQstatus(s->db) == CONNECTION_OK)
                        return -1;
                if (s->db) {
                        PQfinish(s->db);
                        s->db = NULL;
                }
                te_obs_ready("db", 0);
                TE_LOG(TE_LOG_ERROR, NULL, "sink.db_retry",
                       "connect: %s; retry in %lld ms", errstr, (long long)delay);
                for (int64_t end = te_proc_mono_ms() + delay;
                     !te_proc_stop && te_proc_mono_ms() < end;)
                        backoff_sleep(20);
                if (te_proc_stop)
                        return -1;
                delay =
                    delay * 2 > s->conf.retry_max_ms ? s->conf.retry_max_ms : delay * 2;
        }
}

te_sink_worker_t *te_sink_worker_new(const te_sink_worker_conf_t *conf,
                                     const te_cfg_t *cfg, int *stopped, char *errstr,
                                     size_t errsz)
{
        *stopped = 0;
        sink_t *s = calloc(1, sizeof *s);
        if (!s) {
                snprintf(errstr, errsz, "out of memory");
                return NULL;
        }
        s->conf = *conf;
        s->batch = calloc((size_t)s->conf.batch_max, sizeof *s->batch);
        s->took = calloc((size_t)s->conf.batch_max, sizeof *s->took);
        s->codec = te_codec_new(errstr, errsz);
        if (!s->batch || !s->took || !s->codec) {
                if (s->codec)
                        snprintf(errstr, errsz, "out of memory");
                TE_LOG(TE_LOG_ERROR, NULL, "sink.init", "%s", errstr);
                goto fail;
        }
        if (connect_db(s, errstr, errsz) != 0) {
                *stopped = te_proc_stop != 0; /* stopped while waiting: a clean exit */
                if (!*stopped)
                        TE_LOG(TE_LOG_ERROR, NULL, "sink.db", "%s", errstr);
                goto fail;
        }
        te_obs_ready("db", 1);
        s->producer = te_producer_new(cfg, s->conf.common.bootstrap, errstr, errsz);
        s->emit =
            (te_emitter_t){.producer = s->producer,
                           .codec = s->codec,
                           .topics = {s->conf.topic_deadletter, s->conf.topic_alerts},
                           .proc = PROC};
        if (!s->pg || !s->producer) {
                TE_LOG(TE_LOG_ERROR, NULL, "sink.init", "%s", errstr);
                goto fail;
        }
        te_pg_sink_set_direct(s->pg, s->conf.db_direct);
        const char *topics[] = {s->conf.topic_reports};
        s->consumer = te_consumer_new(cfg, s->conf.common.bootstrap, s->conf.group_id,
                                      topics, 1, on_rebalance, s, errstr, errsz);
        if (!s->consumer) {
                TE_LOG(TE_LOG_ERROR, NULL, "sink.consumer", "%s", errstr);
                goto fail;
        }
        te_consumer_set_gap_cb(s->consumer, on_gap, s);
        TE_LOG(TE_LOG_INFO, NULL, "sink.start", "group=%s topic=%s batch.max=%lld",
               s->conf.group_id, s->conf.topic_reports, (long long)s->conf.batch_max);
        return s;
fail:
        te_sink_worker_destroy(s);
        return NULL;
}

int te_sink_worker_poll(te_sink_worker_t *s, int timeout_ms)
{
        rd_kafka_message_t *m = te_consumer_poll(s->consumer, timeout_ms);
        te_producer_poll(s->producer, 0);
        if (!m)
                return 0;
        int r = collect(s, m);
        if (r == 0)
                r = apply_with_retry(s);
        if (r > 0)
                return 0; /* dropped: read again from the DB's offsets */
        if (r < 0) {
                if (!te_proc_stop)
                        return -1;
                /* stopping with the batch not applied: neither stored nor committed */
                te_pg_sink_clear_stage(s->pg);
                release_batch(s, 0);
                return 0;
        }
        s->n_reports += s->n;
        s->n_batches++;
        release_batch(s, 1);
        te_consumer_commit(s->consumer, 0); /* for lag tools; the DB is the truth */
        return 0;
}

int te_sink_worker_run(te_sink_worker_t *s)
{
        int rc = 0;
        while (!te_proc_stop && rc == 0)
                rc = te_sink_worker_poll(s, 100);
        TE_LOG(
            TE_LOG_INFO, NULL, "sink.stop",
            "reports=%llu applied=%llu dead_lettered=%llu db_refused=%llu batches=%llu "
            "db_retries=%llu",
            (unsigned long long)s->n_reports, (unsigned long long)s->n_applied,
            (unsigned long long)s->n_dead, (unsigned long long)s->n_refused,
            (unsigned long long)s->n_batches, (unsigned long long)s->n_retries);
        return rc;
}

void te_sink_worker_stats(const te_sink_worker_t *s, te_sink_worker_stats_t *out)
{
        out->reports = s->n_reports;
        out->applied = s->n_applied;
        out->dead = s->n_dead;
        out->refused = s->n_refused;
        out->batches = s->n_batches;
        out->retries = s->n_retries;
}

void te_sink_worker_destroy(te_sink_worker_t *s)
{
        if (!s)
                return;
        if (s->pg)
                te_pg_sink_clear_stage(s->pg);
        release_batch(s, 0);
        te_consumer_destroy(s->consumer);
        te_producer_destroy(s->producer);
        te_pg_sink_destroy(s->pg);
        if (s->db)
                PQfinish(s->db);
        te_codec_destroy(s->codec);
        free(s->batch);
        free(s->took);
        free(s);
}
