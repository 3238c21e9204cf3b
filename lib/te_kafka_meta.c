/*
 * te_kafka_meta: topic metadata, a group's committed offsets, watermarks, and the
 * never-subscribed consumer that reads partitions to their end (te_kafka_meta.h).
 */
#include "te_kafka_meta.h"

#include "te_buf.h"
#include "te_kafka.h"
#include "te_log.h"
#include "te_proc.h"

#include <stdlib.h>
#include <string.h>

#define TE_KAFKA_META_WATERMARK_MS 10000 /* each watermark te_kafka_read_to_end asks */
#define TE_KAFKA_META_POLL_MS      100

int te_kafka_partition_count(rd_kafka_t *rk, const char *topic, unsigned flags,
                             int timeout_ms, int32_t *n, char *errstr, size_t errsz)
{
        const struct rd_kafka_metadata *md = NULL;
        const struct rd_kafka_metadata_topic *mt = NULL;
        rd_kafka_topic_t *rkt = NULL;
        int rc = -1;
        if ((flags & TE_KAFKA_META_BY_NAME) &&
            !(rkt = rd_kafka_topic_new(rk, topic, NULL))) {
                te_errf(errstr, errsz, "topic %s: %s", topic,
                        rd_kafka_err2str(rd_kafka_last_error()));
                return -1;
        }
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, !rkt, rkt, &md, timeout_ms);
        for (int i = 0; !err && i < md->topic_cnt && !mt; i++)
                if (strcmp(md->topics[i].topic, topic) == 0)
                        mt = &md->topics[i];
        if (err)
                te_errf(errstr, errsz, "metadata: %s", rd_kafka_err2str(err));
        else if (!mt || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                te_errf(errstr, errsz, "topic %s does not exist", topic);
        else if (mt->err)
                te_errf(errstr, errsz, "topic %s: %s", topic, rd_kafka_err2str(mt->err));
        else if (mt->partition_cnt <= 0)
                te_errf(errstr, errsz, "topic %s has no partitions", topic);
        else {
                *n = mt->partition_cnt;
                rc = 0;
        }
        if (md)
                rd_kafka_metadata_destroy(md);
        if (rkt)
                rd_kafka_topic_destroy(rkt);
        return rc;
}

int te_kafka_committed(rd_kafka_t *rk, const char *topic, const int32_t *parts, int n,
                       int timeout_ms, int64_t *off, char *errstr, size_t errsz)
{
        rd_kafka_topic_partition_list_t *l =
            rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
        for (int i = 0; i < n; i++)
                rd_kafka_topic_partition_list_add(l, topic, parts ? parts[i] : i);
        rd_kafka_resp_err_t err = rd_kafka_committed(rk, l, timeout_ms);
        int found = 0;
        if (err) {
                char group[256];
                size_t gsz = sizeof group;
                if (rd_kafka_conf_get(rd_kafka_conf(rk), "group.id", group, &gsz) !=
                    RD_KAFKA_CONF_OK)
                        group[0] = '\0';
                te_errf(errstr, errsz, "committed offsets of %s on %s: %s", group, topic,
                        rd_kafka_err2str(err));
                found = -1;
        }
        for (int i = 0; !err && i < n; i++) {
                off[i] = l->elems[i].offset >= 0 ? l->elems[i].offset : -1;
                found += off[i] >= 0;
        }
        rd_kafka_topic_partition_list_destroy(l);
        return found;
}

int te_kafka_watermarks(rd_kafka_t *rk, const char *topic, const int32_t *parts, int n,
                        int timeout_ms, int64_t *lo, int64_t *hi, char *errstr,
                        size_t errsz)
{
        for (int i = 0; i < n; i++) {
                int32_t p = parts ? parts[i] : i;
                int64_t l = -1, h = -1;
                rd_kafka_resp_err_t err =
                    rd_kafka_query_watermark_offsets(rk, topic, p, &l, &h, timeout_ms);
                if (err) {
                        te_errf(errstr, errsz, "watermarks %s[%d]: %s", topic, (int)p,
                                rd_kafka_err2str(err));
                        return -1;
                }
                if (lo)
                        lo[i] = l;
                if (hi)
                        hi[i] = h;
        }
        return 0;
}

rd_kafka_t *te_kafka_aux_consumer(const te_cfg_t *cfg, const char *bootstrap,
                                  const char *group, char *errstr, size_t errsz)
{
        /* clang-format off */
        const char *const fixed[] = {"group.id", group,
                                     "enable.auto.commit", "false",
                                     "enable.auto.offset.store", "false",
                                     "enable.partition.eof", "false", NULL};
        /* clang-format on */
        char why[512];
        rd_kafka_conf_t *kc = te_kafka_conf_build_for(RD_KAFKA_CONSUMER, cfg, bootstrap,
                                                      NULL, fixed, errstr, errsz);
        if (!kc)
                return NULL;
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, why, sizeof why);
        if (!rk) {
                rd_kafka_conf_destroy(kc);
                te_errf(errstr, errsz, "consumer: %s", why);
                return NULL;
        }
        rd_kafka_poll_set_consumer(rk);
        return rk;
}

/* The index in l of topic[p] (tried first at index p, where a list of a topic's
 * partitions in order has it). @returns it, or -1. */
static int te_kafka_list_index(const rd_kafka_topic_partition_list_t *l,
                               const char *topic, int32_t p)
{
        if (p >= 0 && p < l->cnt && l->elems[p].partition == p &&
            strcmp(l->elems[p].topic, topic) == 0)
                return p;
        for (int i = 0; i < l->cnt; i++)
                if (l->elems[i].partition == p && strcmp(l->elems[i].topic, topic) == 0)
                        return i;
        return -1;
}

/* The end each partition of list is read to (its high watermark now), or -1 where the
 * start offset is there already. @returns how many are to be read, or -1 (errstr). */
static int te_kafka_ends(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *list,
                         int64_t *end, char *errstr, size_t errsz)
{
        int left = 0;
        for (int i = 0; i < list->cnt; i++) {
                const rd_kafka_topic_partition_t *tp = &list->elems[i];
                int64_t lo, hi;
                if (te_kafka_watermarks(rk, tp->topic, &tp->partition, 1,
                                        TE_KAFKA_META_WATERMARK_MS, &lo, &hi, errstr,
                                        errsz) != 0)
                        return -1;
                /* BEGINNING, or an offset retention has dropped: from the low mark */
                int64_t start = tp->offset < lo ? lo : tp->offset;
                end[i] = start < hi ? hi : -1;
                left += end[i] >= 0;
                TE_LOG(TE_LOG_DEBUG, NULL, "kafka.read_to_end",
                       "%s[%d] from %lld (asked %lld, low %lld) to %lld", tp->topic,
                       (int)tp->partition, (long long)start, (long long)tp->offset,
                       (long long)lo, (long long)hi);
        }
        return left;
}

int te_kafka_read_to_end(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *list,
                         int timeout_ms, te_kafka_msg_fn_t *fn, void *opaque,
                         char *errstr, size_t errsz)
{
        int rc = -1;
        int64_t *end = calloc(list->cnt > 0 ? (size_t)list->cnt : 1, sizeof *end);
        if (!end) {
                te_errf(errstr, errsz, "out of memory");
                return -1;
        }
        int left = te_kafka_ends(rk, list, end, errstr, errsz);
        if (left < 0)
                goto out;
        rd_kafka_resp_err_t err = rd_kafka_assign(rk, list);
        if (err) {
                te_errf(errstr, errsz, "assign: %s", rd_kafka_err2str(err));
                goto out;
        }
        int64_t deadline = te_proc_mono_ms() + timeout_ms;
        while (left > 0) {
                if (te_proc_mono_ms() > deadline || te_proc_stop) {
                        te_errf(errstr, errsz,
                                "catching up: %d partitions not read to the end", left);
                        goto out;
                }
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, TE_KAFKA_META_POLL_MS);
                if (!m)
                        continue;
                if (!m->err) {
                        fn(opaque, m);
                        int i = te_kafka_list_index(list, rd_kafka_topic_name(m->rkt),
                                                    m->partition);
                        if (i >= 0 && end[i] >= 0 && m->offset + 1 >= end[i]) {
                                end[i] = -1;
                                left--;
                        }
                }
                rd_kafka_message_destroy(m);
        }
        rc = 0;
out:
        free(end);
        return rc;
}
