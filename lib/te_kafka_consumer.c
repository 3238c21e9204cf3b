/*
 * te_kafka_consumer: the group consumer with caller-stored offsets (te_kafka.h): the
 * rebalance callback that lets the caller set start offsets, and the retention gaps
 * (an offset out of range, or a start offset beyond the high watermark) that pause a
 * partition instead of skipping what it lost.
 */
#include "te_kafka.h"

#include "te_buf.h"
#include "te_kafka_int.h"
#include "te_log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Consumer properties. The assignor is fixed to range (co-partitioning, and the
 * eager rebalance callback below uses rd_kafka_assign). group.id is fixed by
 * te_consumer_new's argument. */
static const char *const te_consumer_defaults[] = {"auto.offset.reset", "earliest",
                                                   "enable.partition.eof", "false", NULL};
/* An offset that fell out of retention must stop the partition, never skip ahead
 * silently: librdkafka's "offset reset" log line (at offset N >= 0) is caught by
 * te_kafka_log_cb and recorded as a pending gap; the first message of that partition
 * afterwards is not delivered, the partition is paused and the gap reported
 * (te_consumer_poll). With auto.offset.reset=error set by the caller, the error event
 * does the same. */
static const char *const te_consumer_fixed[] = {"enable.auto.commit",
                                                "false",
                                                "enable.auto.offset.store",
                                                "false",
                                                "partition.assignment.strategy",
                                                "range",
                                                NULL};
struct te_consumer_s {
        rd_kafka_t *rk;
        te_rebalance_cb_t *cb;
        void *opaque;
        te_gap_cb_t *gap_cb;
        void *gap_opaque;
};

/* The fetch position `offset` of topic[partition] is out of range: pause the
 * partition, count what retention dropped (low watermark - offset) and tell the
 * caller. Never seeks anywhere by itself. */
static void te_consumer_gap(te_consumer_t *c, const char *topic, int32_t partition,
                            int64_t offset)
{
        int64_t lo = -1, hi = -1, lost = -1;
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(c->rk, topic, partition, &lo, &hi, 5000);
        if (!err && offset < lo)
                lost = lo - offset;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, partition);
        rd_kafka_pause_partitions(c->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        TE_KAFKA_COUNT(stopped);
        TE_LOG(TE_LOG_ERROR, NULL, "kafka.retention_gap",
               "%s [%" PRId32 "]: offset %" PRId64 " out of range (low %" PRId64
               ", high %" PRId64 "): %" PRId64
               " messages lost to retention; partition paused, not skipped",
               topic, partition, offset, lo, hi, lost);
        if (c->gap_cb)
                c->gap_cb(c, topic, partition, offset, lo, hi, lost, c->gap_opaque);
}

/* Start offsets the rebalance callback set (offset >= 0) that lie beyond the high
 * watermark: the cluster lost the data the stored offsets refer to (a new or rebuilt
 * cluster). Fetching there would make librdkafka reset to the beginning; instead such
 * partitions are left out of the assignment, the process turns not ready (check
 * "offsets") and the gap callback hears of it with offset > high.
 * @returns a copy of parts without them (the caller destroys it), or NULL when none is
 * ahead (or the watermarks could not be read: the out-of-range path still stops it). */
static rd_kafka_topic_partition_list_t *
te_consumer_drop_ahead(te_consumer_t *c, const rd_kafka_topic_partition_list_t *parts)
{
        rd_kafka_topic_partition_list_t *keep = NULL;
        for (int i = 0; i < parts->cnt; i++) {
                const rd_kafka_topic_partition_t *tp = &parts->elems[i];
                int64_t lo = -1, hi = -1;
                int ahead = 0;
                if (tp->offset >= 0) {
                        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
                            c->rk, tp->topic, tp->partition, &lo, &hi, 5000);
                        if (err)
                                TE_LOG(TE_LOG_WARN, NULL, "kafka.watermarks",
                                       "%s [%" PRId32 "]: %s; start offset %" PRId64
                                       " not checked against the high watermark",
                                       tp->topic, tp->partition, rd_kafka_err2str(err),
                                       tp->offset);
                        else
                                ahead = tp->offset > hi;
                }
                if (ahead && !keep) { /* first one: copy what came before */
                        keep = rd_kafka_topic_partition_list_new(parts->cnt);
                        for (int j = 0; j < i; j++)
                                rd_kafka_topic_partition_list_add(
                                    keep, parts->elems[j].topic,
                                    parts->elems[j].partition)
                                    ->offset = parts->elems[j].offset;
                }
                if (!ahead) {
                        if (keep)
                                rd_kafka_topic_partition_list_add(keep, tp->topic,
                                                                  tp->partition)
                                    ->offset = tp->offset;
                        continue;
                }
                TE_KAFKA_COUNT(stopped);
                TE_LOG(TE_LOG_ERROR, NULL, "kafka.offset_ahead",
                       "%s [%" PRId32 "]: stored offset %" PRId64
                       " is beyond the high watermark %" PRId64 " (low %" PRId64
                       "): the cluster does not hold the messages before it; partition "
                       "not consumed, not reset",
                       tp->topic, tp->partition, tp->offset, hi, lo);
                if (c->gap_cb)
                        c->gap_cb(c, tp->topic, tp->partition, tp->offset, lo, hi, -1,
                                  c->gap_opaque);
        }
        return keep;
}

void te_consumer_set_gap_cb(te_consumer_t *c, te_gap_cb_t *cb, void *opaque)
{
        c->gap_cb = cb;
        c->gap_opaque = opaque;
}

/* "topic[p]@offset,..." for the log, bounded. */
static void te_kafka_parts_text(char *dst, size_t dstsz,
                                const rd_kafka_topic_partition_list_t *parts)
{
        te_buf_t b;
        te_buf_init(&b, dstsz > 1 ? dstsz - 1 : 0);
        dst[0] = '\0';
        for (int i = 0; parts && i < parts->cnt; i++) {
                const rd_kafka_topic_partition_t *tp = &parts->elems[i];
                if (te_buf_printf(&b, "%s%s[%" PRId32 "]", i ? "," : "", tp->topic,
                                  tp->partition) != 0) {
                        te_buf_reset(&b);
                        te_buf_printf(&b, "%d partitions", parts->cnt);
                        break;
                }
        }
        if (te_buf_cstr(&b))
                te_strlcpy(dst, (const char *)b.data, dstsz);
        te_buf_free(&b);
}

static void te_consumer_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                     rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        te_consumer_t *c = opaque;
        char text[512];
        rd_kafka_resp_err_t aerr;

        te_kafka_parts_text(text, sizeof text, parts);
        switch (err) {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
                /* the callback may set start offsets in parts before they apply */
                if (c->cb)
                        c->cb(c, parts, 1, c->opaque);
                TE_LOG(TE_LOG_INFO, NULL, "kafka.assign", "%s: %s", rd_kafka_name(rk),
                       text);
                rd_kafka_topic_partition_list_t *keep = te_consumer_drop_ahead(c, parts);
                aerr = rd_kafka_assign(rk, keep ? keep : parts);
                if (keep)
                        rd_kafka_topic_partition_list_destroy(keep);
                if (aerr)
                        TE_LOG(TE_LOG_ERROR, NULL, "kafka.assign_failed", "%s: %s",
                               rd_kafka_name(rk), rd_kafka_err2str(aerr));
                break;

        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
                TE_LOG(TE_LOG_INFO, NULL, "kafka.revoke", "%s: %s", rd_kafka_name(rk),
                       text);
                if (rd_kafka_assignment_lost(rk)) {
                        TE_LOG(TE_LOG_WARN, NULL, "kafka.assignment_lost",
                               "%s: not committing: assignment lost", rd_kafka_name(rk));
                } else {
                        aerr = rd_kafka_commit(rk, NULL, 0);
                        if (aerr && aerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
                                TE_LOG(TE_LOG_ERROR, NULL, "kafka.commit_failed",
                                       "%s: on revoke: %s", rd_kafka_name(rk),
                                       rd_kafka_err2str(aerr));
                }
                if (c->cb)
                        c->cb(c, parts, 0, c->opaque);
                rd_kafka_assign(rk, NULL);
                break;

        default:
                TE_LOG(TE_LOG_ERROR, NULL, "kafka.rebalance_error", "%s: %s",
                       rd_kafka_name(rk), rd_kafka_err2str(err));
                rd_kafka_assign(rk, NULL);
                break;
        }
}

te_consumer_t *te_consumer_new(const te_cfg_t *cfg, const char *bootstrap,
                               const char *group_id, const char *const *topics,
                               size_t n_topics, te_rebalance_cb_t *cb, void *opaque,
                               char *errstr, size_t errsz)
{
        char why[512];
        rd_kafka_topic_partition_list_t *subs = NULL;
        rd_kafka_conf_t *conf = NULL;
        te_consumer_t *c = calloc(1, sizeof *c);
        if (!c) {
                te_errf(errstr, errsz, "out of memory");
                return NULL;
        }
        c->cb = cb;
        c->opaque = opaque;
        if (!group_id || !*group_id || n_topics == 0) {
                te_errf(errstr, errsz, "consumer needs a group id and topics");
                goto err;
        }
        conf = te_kafka_conf_build_for(RD_KAFKA_CONSUMER, cfg, bootstrap,
                                       te_consumer_defaults, te_consumer_fixed, errstr,
                                       errsz);
        if (!conf)
                goto err;
        if (te_kafka_conf_set(conf, "group.id", group_id, errstr, errsz) != 0)
                goto err;
        rd_kafka_conf_set_rebalance_cb(conf, te_consumer_rebalance_cb);
        rd_kafka_conf_set_opaque(conf, c);

        c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
        if (!c->rk) {
                te_errf(errstr, errsz, "consumer: %s", why);
                goto err;
        }
        conf = NULL; /* now owned by rk */
        rd_kafka_poll_set_consumer(c->rk);

        subs = rd_kafka_topic_partition_list_new((int)n_topics);
        for (size_t i = 0; i < n_topics; i++)
                rd_kafka_topic_partition_list_add(subs, topics[i], RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, subs);
        rd_kafka_topic_partition_list_destroy(subs);
        if (err) {
                te_errf(errstr, errsz, "subscribe: %s", rd_kafka_err2str(err));
                goto err;
        }
        return c;

err:
        if (conf)
                rd_kafka_conf_destroy(conf);
        if (c->rk) {
                rd_kafka_consumer_close(c->rk);
                rd_kafka_destroy(c->rk);
        }
        free(c);
        return NULL;
}

rd_kafka_message_t *te_consumer_poll(te_consumer_t *c, int timeout_ms)
{
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, timeout_ms);
        if (!m)
                return NULL;
        if (!m->err) {
                int64_t gap_at;
                if (te_kafka_take_gap(c->rk, rd_kafka_topic_name(m->rkt), m->partition,
                                      &gap_at)) {
                        /* librdkafka skipped ahead: stop here, deliver nothing after
                         * the gap (the stored offset stays before it) */
                        te_consumer_gap(c, rd_kafka_topic_name(m->rkt), m->partition,
                                        gap_at);
                        rd_kafka_message_destroy(m);
                        return NULL;
                }
                TE_KAFKA_COUNT(consumed, rd_kafka_topic_name(m->rkt));
                return m;
        }

        const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
        switch (m->err) {
        case RD_KAFKA_RESP_ERR__PARTITION_EOF:
                break;
        case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
        case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
                TE_LOG(TE_LOG_ERROR, NULL, "kafka.offset_out_of_range",
                       "%s [%" PRId32 "] at offset %" PRId64 ": %s", topic, m->partition,
                       m->offset, rd_kafka_message_errstr(m));
                if (m->rkt && m->offset >= 0)
                        te_consumer_gap(c, topic, m->partition, m->offset);
                break;
        default:
                TE_LOG(TE_LOG_ERROR, NULL, "kafka.consume_error",
                       "%s [%" PRId32 "]: %s: %s", topic, m->partition,
                       rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
                break;
        }
        rd_kafka_message_destroy(m);
        return NULL;
}

void te_consumer_store(te_consumer_t *c, const rd_kafka_message_t *m)
{
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(
            l, rd_kafka_topic_name(m->rkt), m->partition);
        tp->offset = m->offset + 1;
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(c->rk, l);
        if (!err)
                err = tp->err;
        if (err)
                TE_LOG(TE_LOG_WARN, NULL, "kafka.store_failed",
                       "%s [%" PRId32 "] offset %" PRId64 ": %s", tp->topic,
                       tp->partition, tp->offset, rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(l);
}

int te_consumer_commit(te_consumer_t *c, int sync)
{
        rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, NULL, sync ? 0 : 1);
        if (!err || err == RD_KAFKA_RESP_ERR__NO_OFFSET)
                return 0;
        TE_LOG(TE_LOG_ERROR, NULL, "kafka.commit_failed", "%s: %s", rd_kafka_name(c->rk),
               rd_kafka_err2str(err));
        return -1;
}

int te_consumer_assigned_count(te_consumer_t *c)
{
        rd_kafka_topic_partition_list_t *l = NULL;
        if (rd_kafka_assignment(c->rk, &l) != RD_KAFKA_RESP_ERR_NO_ERROR || !l)
                return 0;
        int n = l->cnt;
        rd_kafka_topic_partition_list_destroy(l);
        return n;
}

rd_kafka_t *te_consumer_handle(te_consumer_t *c)
{
        return c->rk;
}

void te_consumer_destroy(te_consumer_t *c)
{
        if (!c)
                return;
        te_consumer_commit(c, 1);
        rd_kafka_resp_err_t err = rd_kafka_consumer_close(c->rk);
        if (err)
                TE_LOG(TE_LOG_WARN, NULL, "kafka.consumer_close", "%s: %s",
                       rd_kafka_name(c->rk), rd_kafka_err2str(err));
        rd_kafka_destroy(c->rk);
        free(c);
}
