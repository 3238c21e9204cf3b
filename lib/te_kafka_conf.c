/*
 * te_kafka_conf: librdkafka configuration from te_config (kafka.* keys over our
 * defaults, fixed properties last), the bootstrap-file wait, and the log, error and
 * statistics callbacks every handle built here gets.
 *
 * librdkafka's log and error callbacks are routed into TE_LOG ("kafka.log",
 * "kafka.error"). An "offset reset" log line (an offset out of range: retention dropped
 * messages we had not consumed) is raised to error and recorded as a pending gap for
 * te_consumer_poll (te_kafka_consumer.c) to stop that partition.
 */
#include "te_kafka.h"

#include "te_buf.h"
#include "te_kafka_int.h"
#include "te_kafka_role.h"
#include "te_log.h"
#include "te_proc.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TE_KAFKA_BOOTSTRAP_POLL_MS 20
#define TE_KAFKA_BOOTSTRAP_MAX     4096 /* bytes of a bootstrap file */

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
                                 size_t outsz, char *errstr, size_t errsz)
{
        char why[128];
        char prev[TE_KAFKA_BOOTSTRAP_MAX + 1] = "";
        int64_t deadline = te_proc_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);

        if (!path || !*path)
                return 0;
        if (outsz < 2) {
                te_errf(errstr, errsz, "%s: output buffer too small", path);
                return -1;
        }
        for (;;) {
                int ends_nl = 0;
                int rc =
                    te_kafka_read_bootstrap(path, out, outsz, &ends_nl, why, sizeof why);
                if (rc < 0) {
                        te_errf(errstr, errsz, "%s: %s", path, why);
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
        te_errf(errstr, errsz, "%s: no bootstrap list after %d ms", path, timeout_ms);
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

int te_kafka_take_gap(const rd_kafka_t *rk, const char *topic, int32_t partition,
                      int64_t *offset)
{
        int found = 0;
        if (atomic_load(&te_kafka_n_gaps) == 0)
                return 0; /* the usual case, without the lock */
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

const te_kafka_counters_t *te_kafka_counters;

void te_kafka_set_counters(const te_kafka_counters_t *c)
{
        te_kafka_counters = c;
}

static int te_kafka_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        (void)opaque;
        if (te_kafka_stats_hook)
                te_kafka_stats_hook(rk, json, len);
        return 0; /* librdkafka frees json */
}

int te_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                      char *errstr, size_t errsz)
{
        char why[512];
        if (rd_kafka_conf_set(conf, name, value, why, sizeof why) != RD_KAFKA_CONF_OK) {
                te_errf(errstr, errsz, "kafka property %s: %s", name, why);
                return -1;
        }
        return 0;
}

static int te_kafka_conf_set_pairs(rd_kafka_conf_t *conf, const char *const *pairs,
                                   char *errstr, size_t errsz)
{
        for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2)
                if (te_kafka_conf_set(conf, pairs[i], pairs[i + 1], errstr, errsz) != 0)
                        return -1;
        return 0;
}

/* `type`: the kind of handle the conf is for (kafka.* keys only for the other kind are
 * left out), or -1 for any (all are set). */
static rd_kafka_conf_t *te_kafka_conf_build_type(int type, const te_cfg_t *cfg,
                                                 const char *bootstrap,
                                                 const char *const *defaults,
                                                 const char *const *fixed, char *errstr,
                                                 size_t errsz)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (!conf) {
                te_errf(errstr, errsz, "rd_kafka_conf_new failed");
                return NULL;
        }
        rd_kafka_conf_set_log_cb(conf, te_kafka_log_cb);
        rd_kafka_conf_set_error_cb(conf, te_kafka_error_cb);
        if (te_kafka_stats_hook) { /* metrics (te_obs.h); a kafka.* key may override */
                char iv[32];
                snprintf(iv, sizeof iv, "%d", te_kafka_stats_interval_ms);
                rd_kafka_conf_set_stats_cb(conf, te_kafka_stats_cb);
                if (te_kafka_conf_set(conf, "statistics.interval.ms", iv, errstr,
                                      errsz) != 0)
                        goto err;
        }

        if (te_kafka_conf_set_pairs(conf, defaults, errstr, errsz) != 0)
                goto err;
        for (size_t i = 0; cfg && i < te_cfg_kafka_count(cfg); i++) {
                const char *name = te_cfg_kafka_name(cfg, i);
                if (type >= 0 && te_kafka_prop_ignored_by(name, (rd_kafka_type_t)type))
                        continue; /* librdkafka would ignore it, with a CONFWARN */
                if (te_kafka_conf_set(conf, name, te_cfg_kafka_value(cfg, i), errstr,
                                      errsz) != 0)
                        goto err;
        }
        if (bootstrap && *bootstrap &&
            !(cfg && te_cfg_kafka_get(cfg, "bootstrap.servers")) &&
            te_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, errsz) != 0)
                goto err;
        if (te_kafka_conf_set_pairs(conf, fixed, errstr, errsz) != 0)
                goto err;
        return conf;

err:
        rd_kafka_conf_destroy(conf);
        return NULL;
}

rd_kafka_conf_t *te_kafka_conf_build(const te_cfg_t *cfg, const char *bootstrap,
                                     const char *const *defaults,
                                     const char *const *fixed, char *errstr, size_t errsz)
{
        return te_kafka_conf_build_type(-1, cfg, bootstrap, defaults, fixed, errstr,
                                        errsz);
}

rd_kafka_conf_t *te_kafka_conf_build_for(rd_kafka_type_t type, const te_cfg_t *cfg,
                                         const char *bootstrap,
                                         const char *const *defaults,
                                         const char *const *fixed, char *errstr,
                                         size_t errsz)
{
        return te_kafka_conf_build_type((int)type, cfg, bootstrap, defaults, fixed,
                                        errstr, errsz);
}
