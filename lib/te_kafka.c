/*
 * te_kafka: librdkafka configuration from te_config, the idempotent producer wrapper
 * and the group consumer with caller-stored offsets.
 *
 * Every handle built here routes librdkafka's log and error callbacks into TE_LOG
 * ("kafka.log", "kafka.error"). An "offset reset" log line of librdkafka (an offset
 * out of range: retention dropped messages we had not consumed) is raised to error.
 */
#include "te_kafka.h"

#include "te_buf.h"
#include "te_kafka_role.h"
#include "te_log.h"
#include "te_proc.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TE_KAFKA_QUEUE_FULL_WAIT_MS 30000 /* te_producer_send gives up after this */
#define TE_KAFKA_QUEUE_FULL_POLL_MS 100
#define TE_KAFKA_BOOTSTRAP_POLL_MS  20
#define TE_KAFKA_BOOTSTRAP_MAX      4096 /* bytes of a bootstrap file */
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

/* ---- bootstrap file -------------------------------------------------------------- */

/* Read the file into out (trimmed). @returns 1 if it holds a complete-looking list,
 * 0 if absent/empty, -1 on a hard error (too long, bad characters). */
static int te_kafka_read_bootstrap(const char *path, char *out, size_t outsz,
                                   int *ends_nl, char *why, size_t whysz)
{
        char buf[TE_KAFKA_BOOTSTRAP_MAX + 1];
        FILE *fp = fopen(path, "r");
        if (!fp)
                return 0;
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        int more = fgetc(fp) != EOF;
        fclose(fp);
        if (more) {
                snprintf(why, whysz, "longer than %d bytes", TE_KAFKA_BOOTSTRAP_MAX);
                return -1;
        }
        buf[n] = '\0';
        *ends_nl = n > 0 && buf[n - 1] == '\n';
        while (n > 0 && isspace((unsigned char)buf[n - 1]))
                buf[--n] = '\0';
        const char *s = buf;
        while (isspace((unsigned char)*s))
                s++;
        if (!*s)
                return 0;
        for (const char *p = s; *p; p++) {
                if (!isalnum((unsigned char)*p) && !strchr(".:,-_[]", *p)) {
                        snprintf(why, whysz, "unexpected character 0x%02x",
                                 (unsigned char)*p);
                        return -1;
                }
        }
        if (te_strlcpy(out, s, outsz) != 0) {
                snprintf(why, whysz, "bootstrap list longer than %zu bytes", outsz - 1);
                return -1;
        }
        return 1;
}

int te_kafka_wait_bootstrap_file(const char *path, int timeout_ms, char *out,
                                 size_t outsz, char *errstr, size_t errstr_size)
{
        char why[128];
        char prev[TE_KAFKA_BOOTSTRAP_MAX + 1] = "";
        int64_t deadline = te_proc_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);

        if (!path || !*path)
                return 0;
        if (outsz < 2) {
                te_errf(errstr, errstr_size, "%s: output buffer too small", path);
                return -1;
        }
        for (;;) {
                int ends_nl = 0;
                int rc =
                    te_kafka_read_bootstrap(path, out, outsz, &ends_nl, why, sizeof why);
                if (rc < 0) {
                        te_errf(errstr, errstr_size, "%s: %s", path, why);
                        out[0] = '\0';
                        return -1;
                }
                /* a writer that did not rename into place may be caught half-way:
                 * take the content once it ends with a newline or reads the same twice */
                if (rc == 1 && (ends_nl || strcmp(prev, out) == 0))
                        return 0;
                if (rc == 1)
                        te_strlcpy(prev, out, sizeof prev);
                else
                        prev[0] = '\0';
                if (te_proc_mono_ms() >= deadline)
                        break;
                struct timespec ts = {0, TE_KAFKA_BOOTSTRAP_POLL_MS * 1000000L};
                nanosleep(&ts, NULL);
        }
        out[0] = '\0';
        te_errf(errstr, errstr_size, "%s: no bootstrap list after %d ms", path,
                timeout_ms);
        return -1;
}

/* ---- configuration ---------------------------------------------------------------- */

/* Offset resets librdkafka logged for an offset >= 0 (retention dropped it), waiting
 * for te_consumer_poll of that handle to stop the partition. */
#define TE_KAFKA_GAPS_MAX 64
typedef struct te_kafka_gap_s {
        const rd_kafka_t *rk;
        char topic[256];
        int32_t partition;
        int64_t offset;
} te_kafka_gap_t;
static pthread_mutex_t te_kafka_gaps_lock = PTHREAD_MUTEX_INITIALIZER;
static te_kafka_gap_t te_kafka_gaps[TE_KAFKA_GAPS_MAX];
static atomic_int te_kafka_n_gaps;

/* Parse "[thrd:..]: TOPIC [P]: offset reset (at offset N, ..." and record it.
 * Anything else (BEGINNING/END/INVALID resets of fresh partitions) is ignored. */
static void te_kafka_note_reset(const rd_kafka_t *rk, const char *buf)
{
        const char *s = buf;
        if (*s == '[') {
                const char *e = strstr(s, "]: ");
                if (!e)
                        return;
                s = e + 3;
        }
        const char *br = strstr(s, " [");
        const char *at = strstr(s, "]: offset reset (at offset ");
        if (!br || !at || at < br || (size_t)(br - s) >= sizeof te_kafka_gaps[0].topic)
                return;
        char *end;
        long part = strtol(br + 2, &end, 10);
        if (end != at || part < 0)
                return;
        const char *num = at + strlen("]: offset reset (at offset ");
        if (*num < '0' || *num > '9')
                return;
        long long off = strtoll(num, &end, 10);
        pthread_mutex_lock(&te_kafka_gaps_lock);
        int n = atomic_load(&te_kafka_n_gaps);
        if (n < TE_KAFKA_GAPS_MAX) {
                te_kafka_gap_t *g = &te_kafka_gaps[n];
                g->rk = rk;
                memcpy(g->topic, s, (size_t)(br - s));
                g->topic[br - s] = '\0';
                g->partition = (int32_t)part;
                g->offset = off;
                atomic_store(&te_kafka_n_gaps, n + 1);
        }
        pthread_mutex_unlock(&te_kafka_gaps_lock);
}

/* @returns 1 and the stored offset if a gap is pending for rk/topic/partition (and
 * forgets it), else 0. */
static int te_kafka_take_gap(const rd_kafka_t *rk, const char *topic, int32_t partition,
                             int64_t *offset)
{
        int found = 0;
        pthread_mutex_lock(&te_kafka_gaps_lock);
        int n = atomic_load(&te_kafka_n_gaps);
        for (int i = 0; i < n && !found; i++) {
                te_kafka_gap_t *g = &te_kafka_gaps[i];
                if (g->rk == rk && g->partition == partition &&
                    strcmp(g->topic, topic) == 0) {
                        *offset = g->offset;
                        te_kafka_gaps[i] = te_kafka_gaps[n - 1];
                        atomic_store(&te_kafka_n_gaps, n - 1);
                        found = 1;
                }
        }
        pthread_mutex_unlock(&te_kafka_gaps_lock);
        return found;
}

static void te_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                            const char *buf)
{
        te_log_level_t lvl = level <= 3   ? TE_LOG_ERROR
                             : level == 4 ? TE_LOG_WARN
                             : level <= 6 ? TE_LOG_INFO
                                          : TE_LOG_DEBUG;
        /* "offset reset (at offset N ...)": retention dropped what we had not read */
        if (fac && strcmp(fac, "OFFSET") == 0 && strstr(buf, "offset reset") &&
            !strstr(buf, "at offset BEGINNING") && !strstr(buf, "at offset END")) {
                TE_LOG(TE_LOG_ERROR, NULL, "kafka.offset_reset", "%s: %s",
                       rd_kafka_name(rk), buf);
                te_kafka_note_reset(rk, buf);
                return;
        }
        /* one set of kafka.* keys serves a process's producer and consumers: a handle
         * not built by te_kafka_conf_build_for ignoring the other kind's properties
         * is expected, not a warning */
        if (fac && strcmp(fac, "CONFWARN") == 0 &&
            strstr(buf, " property and will be ignored by this "))
                lvl = TE_LOG_DEBUG;
        TE_LOG(lvl, NULL, "kafka.log", "%s: %s: %s", rd_kafka_name(rk), fac ? fac : "",
               buf);
}

static void te_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        (void)opaque;
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                char fatal[512];
                rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, fatal, sizeof fatal);
                TE_LOG(TE_LOG_ERROR, NULL, "kafka.fatal", "%s: %s: %s", rd_kafka_name(rk),
                       rd_kafka_err2name(ferr), fatal);
                return;
        }
        te_log_level_t lvl =
            err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ? TE_LOG_ERROR : TE_LOG_WARN;
        TE_LOG(lvl, NULL, "kafka.error", "%s: %s: %s", rd_kafka_name(rk),
               rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static te_kafka_stats_hook_t *te_kafka_stats_hook;
static int te_kafka_stats_interval_ms;

void te_kafka_set_stats_hook(te_kafka_stats_hook_t *hook, int interval_ms)
{
        te_kafka_stats_hook = hook;
        te_kafka_stats_interval_ms = interval_ms > 0 ? interval_ms : 1000;
}

static const te_kafka_counters_t *te_kafka_counters;

void te_kafka_set_counters(const te_kafka_counters_t *c)
{
        te_kafka_counters = c;
}

/* the counting hooks, each a no-op when not installed */
#define TE_KAFKA_COUNT(hook, ...)                                                        \
        do {                                                                             \
                if (te_kafka_counters && te_kafka_counters->hook)                        \
                        te_kafka_counters->hook(__VA_ARGS__);                            \
        } while (0)

static int te_kafka_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        (void)opaque;
        if (te_kafka_stats_hook)
                te_kafka_stats_hook(rk, json, len);
        return 0; /* librdkafka frees json */
}

static int te_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                             char *errstr, size_t errstr_size)
{
        char why[512];
        if (rd_kafka_conf_set(conf, name, value, why, sizeof why) != RD_KAFKA_CONF_OK) {
                te_errf(errstr, errstr_size, "kafka property %s: %s", name, why);
                return -1;
        }
        return 0;
}

static int te_kafka_conf_set_pairs(rd_kafka_conf_t *conf, const char *const *pairs,
                                   char *errstr, size_t errstr_size)
{
        for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2)
                if (te_kafka_conf_set(conf, pairs[i], pairs[i + 1], errstr,
                                      errstr_size) != 0)
                        return -1;
        return 0;
}

/* `type`: the kind of handle the conf is for (kafka.* keys only for the other kind are
 * left out), or -1 for any (all are set). */
static rd_kafka_conf_t *te_kafka_conf_build_type(int type, const te_cfg_t *cfg,
                                                 const char *bootstrap,
                                                 const char *const *defaults,
                                                 const char *const *fixed, char *errstr,
                                                 size_t errstr_size)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (!conf) {
                te_errf(errstr, errstr_size, "rd_kafka_conf_new failed");
                return NULL;
        }
        rd_kafka_conf_set_log_cb(conf, te_kafka_log_cb);
        rd_kafka_conf_set_error_cb(conf, te_kafka_error_cb);
        if (te_kafka_stats_hook) { /* metrics (te_obs.h); a kafka.* key may override */
                char iv[32];
                snprintf(iv, sizeof iv, "%d", te_kafka_stats_interval_ms);
                rd_kafka_conf_set_stats_cb(conf, te_kafka_stats_cb);
                if (te_kafka_conf_set(conf, "statistics.interval.ms", iv, errstr,
                                      errstr_size) != 0)
                        goto err;
        }

        if (te_kafka_conf_set_pairs(conf, defaults, errstr, errstr_size) != 0)
                goto err;
        for (size_t i = 0; cfg && i < te_cfg_kafka_count(cfg); i++) {
                const char *name = te_cfg_kafka_name(cfg, i);
                if (type >= 0 && te_kafka_prop_ignored_by(name, (rd_kafka_type_t)type))
                        continue; /* librdkafka would ignore it, with a CONFWARN */
                if (te_kafka_conf_set(conf, name, te_cfg_kafka_value(cfg, i), errstr,
                                      errstr_size) != 0)
                        goto err;
        }
        if (bootstrap && *bootstrap &&
            !(cfg && te_cfg_kafka_get(cfg, "bootstrap.servers")) &&
            te_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                              errstr_size) != 0)
                goto err;
        if (te_kafka_conf_set_pairs(conf, fixed, errstr, errstr_size) != 0)
                goto err;
        return conf;

err:
        rd_kafka_conf_destroy(conf);
        return NULL;
}

rd_kafka_conf_t *te_kafka_conf_build(const te_cfg_t *cfg, const char *bootstrap,
                                     const char *const *defaults,
                                     const char *const *fixed, char *errstr,
                                     size_t errstr_size)
{
        return te_kafka_conf_build_type(-1, cfg, bootstrap, defaults, fixed, errstr,
                                        errstr_size);
}

rd_kafka_conf_t *te_kafka_conf_build_for(rd_kafka_type_t type, const te_cfg_t *cfg,
                                         const char *bootstrap,
                                         const char *const *defaults,
                                         const char *const *fixed, char *errstr,
                                         size_t errstr_size)
{
        return te_kafka_conf_build_type((int)type, cfg, bootstrap, defaults, fixed,
                                        errstr, errstr_size);
}

/* ---- producer --------------------------------------------------------------------- */

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
                               size_t errstr_size)
{
        char why[512];
        te_producer_t *p = calloc(1, sizeof *p);
        if (!p) {
                te_errf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        atomic_init(&p->delivered, 0);
        atomic_init(&p->failed, 0);
        atomic_init(&p->failed_since_flush, 0);
        pthread_mutex_init(&p->lock, NULL);

        rd_kafka_conf_t *conf = te_kafka_conf_build_for(
            RD_KAFKA_PRODUCER, cfg, bootstrap, te_producer_defaults, te_producer_fixed,
            errstr, errstr_size);
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
                te_errf(errstr, errstr_size, "producer: %s", why);
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
                     size_t n_hdrs, char *errstr, size_t errstr_size)
{
        return te_producer_send_to(p, topic, RD_KAFKA_PARTITION_UA, key, keylen, value,
                                   vallen, hdrs, n_hdrs, errstr, errstr_size);
}

int te_producer_send_to(te_producer_t *p, const char *topic, int32_t partition,
                        const void *key, size_t keylen, const void *value, size_t vallen,
                        const te_kafka_header_t *hdrs, size_t n_hdrs, char *errstr,
                        size_t errstr_size)
{
        return te_producer_send_ex(p, topic, partition, key, keylen, value, vallen, hdrs,
                                   n_hdrs, 0, NULL, errstr, errstr_size);
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
                        rd_kafka_resp_err_t *errp, char *errstr, size_t errstr_size)
{
        rd_kafka_headers_t *h = NULL;
        rd_kafka_resp_err_t err;
        uint64_t side = (flags & TE_SEND_SIDE) ? TE_KAFKA_SIDE_BIT : 0;
        if (errp)
                *errp = RD_KAFKA_RESP_ERR_NO_ERROR;

        if (n_hdrs > TE_KAFKA_HEADERS_MAX) {
                te_errf(errstr, errstr_size, "%s: too many headers (%zu, max %d)", topic,
                        n_hdrs, TE_KAFKA_HEADERS_MAX);
                return -1;
        }
        if (n_hdrs) {
                h = rd_kafka_headers_new(n_hdrs);
                for (size_t i = 0; i < n_hdrs; i++) {
                        err = rd_kafka_header_add(h, hdrs[i].name, -1, hdrs[i].value,
                                                  (ssize_t)hdrs[i].len);
                        if (err) {
                                te_errf(errstr, errstr_size, "%s: header %s: %s", topic,
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
                        te_errf(errstr, errstr_size, "%s: out of memory", topic);
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
                te_errf(errstr, errstr_size, "%s: produce failed: %s", topic,
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

int te_producer_flush(te_producer_t *p, int timeout_ms, char *errstr, size_t errstr_size)
{
        rd_kafka_resp_err_t err = rd_kafka_flush(p->rk, timeout_ms);
        uint64_t failed = atomic_exchange(&p->failed_since_flush, 0);
        if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
                te_errf(errstr, errstr_size,
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
                te_errf(errstr, errstr_size,
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

/* ---- consumer --------------------------------------------------------------------- */

struct te_consumer_s {
        rd_kafka_t *rk;
        te_rebalance_cb_t *cb;
        void *opaque;
        te_gap_cb_t *gap_cb;
        void *gap_opaque;
        uint64_t gaps;
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
        c->gaps++;
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
                c->gaps++;
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

uint64_t te_consumer_gaps(const te_consumer_t *c)
{
        return c->gaps;
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
                               char *errstr, size_t errstr_size)
{
        char why[512];
        rd_kafka_topic_partition_list_t *subs = NULL;
        rd_kafka_conf_t *conf = NULL;
        te_consumer_t *c = calloc(1, sizeof *c);
        if (!c) {
                te_errf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        c->cb = cb;
        c->opaque = opaque;
        if (!group_id || !*group_id || n_topics == 0) {
                te_errf(errstr, errstr_size, "consumer needs a group id and topics");
                goto err;
        }
        conf = te_kafka_conf_build_for(RD_KAFKA_CONSUMER, cfg, bootstrap,
                                       te_consumer_defaults, te_consumer_fixed, errstr,
                                       errstr_size);
        if (!conf)
                goto err;
        if (te_kafka_conf_set(conf, "group.id", group_id, errstr, errstr_size) != 0)
                goto err;
        rd_kafka_conf_set_rebalance_cb(conf, te_consumer_rebalance_cb);
        rd_kafka_conf_set_opaque(conf, c);

        c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
        if (!c->rk) {
                te_errf(errstr, errstr_size, "consumer: %s", why);
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
                te_errf(errstr, errstr_size, "subscribe: %s", rd_kafka_err2str(err));
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
                if (atomic_load(&te_kafka_n_gaps) > 0 &&
                    te_kafka_take_gap(c->rk, rd_kafka_topic_name(m->rkt), m->partition,
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
