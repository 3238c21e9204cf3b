/*
 * te_kafka_producer: the idempotent producer wrapper (te_kafka.h): sends with a
 * delivery sequence, delivery reports checked one by one, side-channel failures kept
 * for the caller, and the Java-compatible partition of a key.
 */
#include "te_kafka.h"

#include "te_buf.h"
#include "te_kafka_int.h"
#include "te_log.h"
#include "te_proc.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TE_KAFKA_QUEUE_FULL_WAIT_MS 30000 /* te_producer_send gives up after this */
#define TE_KAFKA_QUEUE_FULL_POLL_MS 100
#define TE_KAFKA_DESTROY_FLUSH_MS   10000
#define TE_KAFKA_HEADERS_MAX        64
#define TE_KAFKA_SEND_POLL_EVERY    64 /* te_producer_send serves reports this often */
#define TE_KAFKA_LOST_MAX           64 /* side-channel failures kept for take_lost */
/* the opaque of a produced message: its sequence number, and this bit for TE_SEND_SIDE */
#define TE_KAFKA_SIDE_BIT ((uint64_t)1 << 62)

/* Producer properties: defaults (a kafka.* key may change them) and fixed ones.
 * The partitioner is fixed: co-partitioning of exec.targets/orders/reports relies on
 * every producer hashing keys the same way (Java-compatible murmur2). */
static const char *const te_producer_defaults[] = {"linger.ms", "5", NULL};
static const char *const te_producer_fixed[] = {"enable.idempotence", "true",
                                                "partitioner", "murmur2_random", NULL};

struct te_producer_s {
        rd_kafka_t *rk;
        atomic_uint_fast64_t delivered;
        atomic_uint_fast64_t failed;
        atomic_uint_fast64_t failed_since_flush;
        pthread_mutex_t lock; /* protects last_error and the sequence ring */
        char last_error[256];
        /* delivery sequence (te_producer_sent_seq): numbers seq_done+1..seq_sent are
         * in flight; ring[n & (ring_cap-1)] says whether number n has its report
         * (1 delivered, 2 failed: seq_done never passes it) */
        uint64_t seq_sent, seq_done;
        unsigned char *ring;
        size_t ring_cap; /* a power of two */
        te_delivery_hook_t *hook;
        void *hook_opaque;
        unsigned sends;     /* since delivery reports were last served by a send */
        uint64_t kicked;    /* seq_sent at the last te_producer_kick */
        size_t max_message; /* message.max.bytes */
        atomic_uint_fast64_t side_failed;
        te_kafka_lost_t lost[TE_KAFKA_LOST_MAX]; /* side failures not taken (lock) */
        size_t n_lost;
};

/* Record the delivery report of sequence number `s` (lock held). */
static void te_producer_seq_done(te_producer_t *p, uint64_t s, int failed)
{
        if (s <= p->seq_done || s > p->seq_sent)
                return;
        p->ring[s & (p->ring_cap - 1)] = failed ? 2 : 1;
        while (p->seq_done < p->seq_sent) {
                unsigned char *f = &p->ring[(p->seq_done + 1) & (p->ring_cap - 1)];
                if (*f != 1)
                        break;
                *f = 0;
                p->seq_done++;
        }
}

/* Room in the ring for one more number in flight (lock held). @returns 0 or -1. */
static int te_producer_seq_room(te_producer_t *p)
{
        if (p->seq_sent + 1 - p->seq_done < p->ring_cap)
                return 0;
        size_t ncap = p->ring_cap ? p->ring_cap * 2 : 1024;
        unsigned char *nr = calloc(ncap, 1);
        if (!nr)
                return -1;
        for (uint64_t s = p->seq_done + 1; s <= p->seq_sent; s++)
                nr[s & (ncap - 1)] = p->ring[s & (p->ring_cap - 1)];
        free(p->ring);
        p->ring = nr;
        p->ring_cap = ncap;
        return 0;
}

/* A header of m as a NUL-terminated string into out ("" when absent). */
static void te_kafka_header_str(const rd_kafka_message_t *m, const char *name, char *out,
                                size_t outsz)
{
        rd_kafka_headers_t *h = NULL;
        const void *v = NULL;
        size_t len = 0;
        out[0] = '\0';
        if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR || !h ||
            rd_kafka_header_get_last(h, name, &v, &len) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            !v)
                return;
        if (len >= outsz)
                len = outsz - 1;
        memcpy(out, v, len);
        out[len] = '\0';
}

/* A side-channel message could not be delivered: counted, logged with its source, and
 * kept for te_producer_take_lost. */
static void te_producer_side_lost(te_producer_t *p, const rd_kafka_message_t *m)
{
        te_kafka_lost_t l;
        char num[32];
        memset(&l, 0, sizeof l);
        te_strlcpy(l.dst, rd_kafka_topic_name(m->rkt), sizeof l.dst);
        te_strlcpy(l.error, rd_kafka_err2str(m->err), sizeof l.error);
        te_kafka_header_str(m, "te.source.topic", l.src_topic, sizeof l.src_topic);
        te_kafka_header_str(m, "te.source.partition", num, sizeof num);
        l.src_partition = num[0] ? (int32_t)strtol(num, NULL, 10) : -1;
        te_kafka_header_str(m, "te.source.offset", num, sizeof num);
        l.src_offset = num[0] ? strtoll(num, NULL, 10) : -1;
        atomic_fetch_add(&p->side_failed, 1);
        TE_LOG(TE_LOG_ERROR, NULL, "kafka.side_delivery_failed",
               "%s [%" PRId32 "]: %s (source %s[%" PRId32 "]@%" PRId64
               "): skipped, the sequence moves on",
               l.dst, m->partition, l.error, l.src_topic, l.src_partition, l.src_offset);
        pthread_mutex_lock(&p->lock);
        if (p->n_lost < TE_KAFKA_LOST_MAX)
                p->lost[p->n_lost++] = l;
        pthread_mutex_unlock(&p->lock);
}

static void te_producer_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        te_producer_t *p = opaque;
        uint64_t o = (uint64_t)(uintptr_t)m->_private;
        uint64_t s = o & ~TE_KAFKA_SIDE_BIT;
        int side = (o & TE_KAFKA_SIDE_BIT) != 0;
        (void)rk;
        TE_KAFKA_COUNT(produced, rd_kafka_topic_name(m->rkt), !m->err);
        if (s) {
                pthread_mutex_lock(&p->lock);
                /* a side message's failure does not stop the sequence */
                te_producer_seq_done(p, s, m->err != 0 && !side);
                pthread_mutex_unlock(&p->lock);
        }
        if (m->err && side) {
                te_producer_side_lost(p, m);
                return;
        }
        if (!m->err) {
                atomic_fetch_add(&p->delivered, 1);
                if (p->hook)
                        p->hook(p->hook_opaque, m, s);
                return;
        }
        atomic_fetch_add(&p->failed, 1);
        atomic_fetch_add(&p->failed_since_flush, 1);
        pthread_mutex_lock(&p->lock);
        snprintf(p->last_error, sizeof p->last_error, "%s [%" PRId32 "]: %s",
                 rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_err2str(m->err));
        pthread_mutex_unlock(&p->lock);
        TE_LOG(TE_LOG_ERROR, NULL, "kafka.delivery_failed", "%s [%" PRId32 "]: %s",
               rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_err2str(m->err));
}

te_producer_t *te_producer_new(const te_cfg_t *cfg, const char *bootstrap, char *errstr,
                               size_t errsz)
{
        char why[512];
        te_producer_t *p = calloc(1, sizeof *p);
        if (!p) {
                te_errf(errstr, errsz, "out of memory");
                return NULL;
        }
        atomic_init(&p->delivered, 0);
        atomic_init(&p->failed, 0);
        atomic_init(&p->failed_since_flush, 0);
        pthread_mutex_init(&p->lock, NULL);

        rd_kafka_conf_t *conf = te_kafka_conf_build_for(RD_KAFKA_PRODUCER, cfg, bootstrap,
                                                        te_producer_defaults,
                                                        te_producer_fixed, errstr, errsz);
        if (!conf)
                goto err;
        char mmb[32];
        size_t mmb_len = sizeof mmb;
        p->max_message = 1000000; /* librdkafka's default */
        if (rd_kafka_conf_get(conf, "message.max.bytes", mmb, &mmb_len) ==
            RD_KAFKA_CONF_OK)
                p->max_message = (size_t)strtoull(mmb, NULL, 10);
        atomic_init(&p->side_failed, 0);
        rd_kafka_conf_set_dr_msg_cb(conf, te_producer_dr_cb);
        rd_kafka_conf_set_opaque(conf, p);
        p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
        if (!p->rk) {
                rd_kafka_conf_destroy(conf);
                te_errf(errstr, errsz, "producer: %s", why);
                goto err;
        }
        /* conf is now owned by rk */
        return p;

err:
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
}

int32_t te_kafka_partition_of(const void *key, size_t keylen, int32_t n_partitions)
{
        if (n_partitions <= 0 || !key)
                return -1;
        /* librdkafka's murmur2 partitioner: the Java client's hash and positive mask,
         * the one partitioner=murmur2_random uses for a non-empty key */
        return rd_kafka_msg_partitioner_murmur2(NULL, key, keylen, n_partitions, NULL,
                                                NULL);
}

int te_producer_send(te_producer_t *p, const char *topic, const void *key, size_t keylen,
                     const void *value, size_t vallen, const te_kafka_header_t *hdrs,
                     size_t n_hdrs, char *errstr, size_t errsz)
{
        return te_producer_send_to(p, topic, RD_KAFKA_PARTITION_UA, key, keylen, value,
                                   vallen, hdrs, n_hdrs, errstr, errsz);
}

int te_producer_send_to(te_producer_t *p, const char *topic, int32_t partition,
                        const void *key, size_t keylen, const void *value, size_t vallen,
                        const te_kafka_header_t *hdrs, size_t n_hdrs, char *errstr,
                        size_t errsz)
{
        return te_producer_send_ex(p, topic, partition, key, keylen, value, vallen, hdrs,
                                   n_hdrs, 0, NULL, errstr, errsz);
}

size_t te_producer_max_message(const te_producer_t *p)
{
        return p->max_message;
}

uint64_t te_producer_side_failed(const te_producer_t *p)
{
        return atomic_load(&((te_producer_t *)p)->side_failed);
}

int te_producer_take_lost(te_producer_t *p, te_kafka_lost_t *out)
{
        int got = 0;
        if (atomic_load(&p->side_failed) == 0)
                return 0; /* the usual case, without the lock */
        pthread_mutex_lock(&p->lock);
        if (p->n_lost > 0) {
                *out = p->lost[0];
                memmove(p->lost, p->lost + 1, (p->n_lost - 1) * sizeof p->lost[0]);
                p->n_lost--;
                got = 1;
        }
        pthread_mutex_unlock(&p->lock);
        return got;
}

int te_producer_send_ex(te_producer_t *p, const char *topic, int32_t partition,
                        const void *key, size_t keylen, const void *value, size_t vallen,
                        const te_kafka_header_t *hdrs, size_t n_hdrs, unsigned flags,
                        rd_kafka_resp_err_t *errp, char *errstr, size_t errsz)
{
        rd_kafka_headers_t *h = NULL;
        rd_kafka_resp_err_t err;
        uint64_t side = (flags & TE_SEND_SIDE) ? TE_KAFKA_SIDE_BIT : 0;
        if (errp)
                *errp = RD_KAFKA_RESP_ERR_NO_ERROR;

        if (n_hdrs > TE_KAFKA_HEADERS_MAX) {
                te_errf(errstr, errsz, "%s: too many headers (%zu, max %d)", topic,
                        n_hdrs, TE_KAFKA_HEADERS_MAX);
                return -1;
        }
        if (n_hdrs) {
                h = rd_kafka_headers_new(n_hdrs);
                for (size_t i = 0; i < n_hdrs; i++) {
                        err = rd_kafka_header_add(h, hdrs[i].name, -1, hdrs[i].value,
                                                  (ssize_t)hdrs[i].len);
                        if (err) {
                                te_errf(errstr, errsz, "%s: header %s: %s", topic,
                                        hdrs[i].name, rd_kafka_err2str(err));
                                rd_kafka_headers_destroy(h);
                                return -1;
                        }
                }
        }

        int64_t deadline = te_proc_mono_ms() + TE_KAFKA_QUEUE_FULL_WAIT_MS;
        for (;;) {
                pthread_mutex_lock(&p->lock);
                if (te_producer_seq_room(p) != 0) {
                        pthread_mutex_unlock(&p->lock);
                        if (h)
                                rd_kafka_headers_destroy(h);
                        te_errf(errstr, errsz, "%s: out of memory", topic);
                        return -1;
                }
                uint64_t s = p->seq_sent + 1;
                /* the message owns the headers only if producev succeeds; its number
                 * is taken under the lock, before a delivery report can name it */
                err = rd_kafka_producev(
                    p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                    RD_KAFKA_V_KEY(key, keylen),
                    RD_KAFKA_V_VALUE((void *)(uintptr_t)value, vallen),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                    RD_KAFKA_V_OPAQUE((void *)(uintptr_t)(s | side)), RD_KAFKA_V_END);
                if (!err)
                        p->seq_sent = s;
                pthread_mutex_unlock(&p->lock);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || te_proc_mono_ms() >= deadline)
                        break;
                rd_kafka_poll(p->rk, TE_KAFKA_QUEUE_FULL_POLL_MS);
        }
        if (err) {
                if (h)
                        rd_kafka_headers_destroy(h);
                if (errp)
                        *errp = err;
                te_errf(errstr, errsz, "%s: produce failed: %s", topic,
                        rd_kafka_err2str(err));
                return -1;
        }
        /* serve delivery reports without blocking, every so many sends: a poll per
         * message costs more than the send on a busy producer, and its callers poll in
         * their loops and flush anyway */
        if (++p->sends >= TE_KAFKA_SEND_POLL_EVERY) {
                p->sends = 0;
                rd_kafka_poll(p->rk, 0);
        }
        return 0;
}

void te_producer_poll(te_producer_t *p, int timeout_ms)
{
        rd_kafka_poll(p->rk, timeout_ms);
}

void te_producer_kick(te_producer_t *p, int timeout_ms)
{
        uint64_t s = te_producer_sent_seq(p);
        if (timeout_ms <= 0 || s == p->kicked)
                return;
        p->kicked = s;
        /* librdkafka's flush sends at once whatever linger.ms still holds back (it
         * marks the producer as flushing and wakes its broker threads), then waits
         * for the delivery reports; its TIMED_OUT only means some are not back yet */
        (void)rd_kafka_flush(p->rk, timeout_ms);
}

int te_producer_flush(te_producer_t *p, int timeout_ms, char *errstr, size_t errsz)
{
        rd_kafka_resp_err_t err = rd_kafka_flush(p->rk, timeout_ms);
        uint64_t failed = atomic_exchange(&p->failed_since_flush, 0);
        if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
                te_errf(errstr, errsz,
                        "flush timed out after %d ms with %d messages queued, %" PRIu64
                        " failed",
                        timeout_ms, rd_kafka_outq_len(p->rk), failed);
                return -1;
        }
        if (failed) {
                char last[sizeof p->last_error];
                pthread_mutex_lock(&p->lock);
                memcpy(last, p->last_error, sizeof last);
                pthread_mutex_unlock(&p->lock);
                te_errf(errstr, errsz,
                        "%" PRIu64 " deliveries failed since the last flush; last: %s",
                        failed, last);
                return -1;
        }
        return 0;
}

uint64_t te_producer_sent_seq(te_producer_t *p)
{
        pthread_mutex_lock(&p->lock);
        uint64_t s = p->seq_sent;
        pthread_mutex_unlock(&p->lock);
        return s;
}

uint64_t te_producer_delivered_seq(te_producer_t *p)
{
        pthread_mutex_lock(&p->lock);
        uint64_t s = p->seq_done;
        pthread_mutex_unlock(&p->lock);
        return s;
}

void te_producer_set_delivery_hook(te_producer_t *p, te_delivery_hook_t *hook,
                                   void *opaque)
{
        p->hook = hook;
        p->hook_opaque = opaque;
}

uint64_t te_producer_delivered(const te_producer_t *p)
{
        return atomic_load(&((te_producer_t *)p)->delivered);
}

uint64_t te_producer_failed(const te_producer_t *p)
{
        return atomic_load(&((te_producer_t *)p)->failed);
}

rd_kafka_t *te_producer_handle(te_producer_t *p)
{
        return p->rk;
}

void te_producer_destroy(te_producer_t *p)
{
        char errstr[512];
        if (!p)
                return;
        if (te_producer_flush(p, TE_KAFKA_DESTROY_FLUSH_MS, errstr, sizeof errstr) != 0)
                TE_LOG(TE_LOG_ERROR, NULL, "kafka.producer_close", "%s", errstr);
        rd_kafka_destroy(p->rk);
        pthread_mutex_destroy(&p->lock);
        free(p->ring);
        free(p);
}
