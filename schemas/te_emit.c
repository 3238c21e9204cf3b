/*
 * te_emit: dead-letter records (cut to fit when too large), alerts, and the reject of
 * a consumed message (both).
 */
#include "te_emit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "te_buf.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_proc.h"
#include "te_sha256.h"

__attribute__((format(printf, 10, 0))) static int
emit_alert_v(te_producer_t *p, te_codec_t *codec, const char *topic, te_severity_t sev,
             const char *source, const char *code, const char *decision_id,
             const char *portfolio_id, const char *order_id, const char *fmt, va_list ap)
{
        te_alert_t a;
        te_buf_t buf;
        char errstr[256];
        int rc = -1;
        memset(&a, 0, sizeof a);
        a.severity = sev;
        te_strlcpy(a.source, source, sizeof a.source);
        te_strlcpy(a.code, code, sizeof a.code);
        vsnprintf(a.message, sizeof a.message, fmt, ap);
        a.event_time = te_proc_wall_ms();
        te_strlcpy(a.decision_id, decision_id ? decision_id : "", sizeof a.decision_id);
        te_strlcpy(a.portfolio_id, portfolio_id ? portfolio_id : "",
                   sizeof a.portfolio_id);
        te_strlcpy(a.order_id, order_id ? order_id : "", sizeof a.order_id);
        te_log_ids_t ids = {.decision_id = decision_id,
                            .portfolio_id = portfolio_id,
                            .order_id = order_id};
        TE_LOG(sev == TE_SEV_INFO ? TE_LOG_INFO : TE_LOG_ERROR, &ids, "alert", "%s: %s",
               code, a.message);
        te_obs_alert(code);
        te_buf_init(&buf, 64 * 1024);
        if (te_codec_encode_alert(codec, &a, &buf, errstr, sizeof errstr) !=
            TE_CODEC_OK) {
                TE_LOG(TE_LOG_ERROR, NULL, "alert.encode_failed", "%s", errstr);
                goto done;
        }
        const char *key = a.portfolio_id[0] ? a.portfolio_id : a.source;
        if (te_producer_send_ex(p, topic, RD_KAFKA_PARTITION_UA, key, strlen(key),
                                buf.data, buf.len, NULL, 0, TE_SEND_SIDE, NULL, errstr,
                                sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "alert.send_failed", "%s", errstr);
                goto done;
        }
        rc = 0;
done:
        te_buf_free(&buf);
        return rc;
}

static int emit_alert(te_producer_t *p, te_codec_t *codec, const char *topic,
                      te_severity_t sev, const char *source, const char *code,
                      const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int emit_alert(te_producer_t *p, te_codec_t *codec, const char *topic,
                      te_severity_t sev, const char *source, const char *code,
                      const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int rc =
            emit_alert_v(p, codec, topic, sev, source, code, NULL, NULL, NULL, fmt, ap);
        va_end(ap);
        return rc;
}

int te_emit_lost(te_producer_t *p, te_codec_t *codec, const char *alerts_topic,
                 const char *source)
{
        te_kafka_lost_t l;
        int n = 0;
        while (te_producer_take_lost(p, &l)) {
                n++;
                if (l.src_topic[0])
                        emit_alert(p, codec, alerts_topic, TE_SEV_CRITICAL, source,
                                   "deadletter_lost",
                                   "the dead letter of %s[%d]@%lld was not delivered to "
                                   "%s (%s): the message is skipped, not dead-lettered",
                                   l.src_topic, (int)l.src_partition,
                                   (long long)l.src_offset, l.dst, l.error);
                else
                        emit_alert(p, codec, alerts_topic, TE_SEV_CRITICAL, source,
                                   "side_message_lost",
                                   "a message to %s was not delivered (%s)", l.dst,
                                   l.error);
        }
        return n;
}

/* The header size of `h` as librdkafka counts it, with room for the varints. */
static size_t hdrs_size(const te_kafka_header_t *h, size_t n)
{
        size_t s = 0;
        for (size_t i = 0; i < n; i++)
                s += strlen(h[i].name) + h[i].len + 2 * 5;
        return s;
}

/* Dead-letter `src`; with ids (portfolio_id != NULL) keyed "<portfolio_id>/<decision_id>"
 * with the ids and the original key in headers, else under its own key. */
static int deadletter(te_producer_t *p, te_codec_t *codec, const char *topic,
                      const char *alerts_topic, const char *source,
                      const rd_kafka_message_t *src, const char *reason,
                      const char *portfolio_id, const char *decision_id, char *errstr,
                      size_t errsz)
{
        char part[16], off[24], olen[24], sha[TE_SHA256_HEX], idkey[2 * TE_ID_MAX + 2];
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        const char *src_topic = src->rkt ? rd_kafka_topic_name(src->rkt) : "";
        const char *pid = portfolio_id ? portfolio_id : "";
        const char *did = decision_id ? decision_id : "";
        const void *key = src->key;
        size_t keylen = src->key ? src->key_len : 0;
        te_emit_lost(p, codec, alerts_topic, source);
        snprintf(part, sizeof part, "%d", (int)src->partition);
        snprintf(off, sizeof off, "%lld", (long long)src->offset);
        te_kafka_header_t hdrs[9] = {
            {"te.reason", reason, strlen(reason)},
            {"te.source.topic", src_topic, strlen(src_topic)},
            {"te.source.partition", part, strlen(part)},
            {"te.source.offset", off, strlen(off)},
        };
        size_t n_base = 4;
        if (portfolio_id) {
                snprintf(idkey, sizeof idkey, "%.*s/%.*s", TE_ID_MAX - 1, pid,
                         TE_ID_MAX - 1, did);
                key = idkey;
                keylen = strlen(idkey);
                hdrs[n_base++] = (te_kafka_header_t){"te.portfolio_id", pid, strlen(pid)};
                hdrs[n_base++] = (te_kafka_header_t){"te.decision_id", did, strlen(did)};
                hdrs[n_base++] = (te_kafka_header_t){"te.source.key", src->key,
                                                     src->key ? src->key_len : 0};
        }
        te_log_ids_t ids = {.decision_id = decision_id, .portfolio_id = portfolio_id};
        TE_LOG(TE_LOG_WARN, &ids, "deadletter", "%s[%s]@%s: %s", src_topic, part, off,
               reason);
        te_obs_deadletter(reason);

        size_t max = te_producer_max_message(p);
        /* whole when it may fit (librdkafka has the last word), else cut */
        size_t whole = keylen + src->len + hdrs_size(hdrs, n_base);
        if (whole <= max) {
                if (te_producer_send_ex(p, topic, RD_KAFKA_PARTITION_UA, key, keylen,
                                        src->payload, src->len, hdrs, n_base,
                                        TE_SEND_SIDE, &err, errstr, errsz) == 0)
                        return 0;
                if (err != RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
                        goto skip;
        }
        /* cut to fit: the first bytes of the value, the original's length and hash */
        snprintf(olen, sizeof olen, "%zu", src->len);
        te_sha256_hex(src->payload, src->len, sha);
        hdrs[n_base] =
            (te_kafka_header_t){"te.truncated.original_len", olen, strlen(olen)};
        hdrs[n_base + 1] = (te_kafka_header_t){"te.truncated.sha256", sha, strlen(sha)};
        size_t n_all = n_base + 2;
        size_t fixed = keylen + hdrs_size(hdrs, n_all) + TE_EMIT_FRAMING;
        size_t cut = fixed < max ? max - fixed : 0;
        if (cut >= src->len)
                cut = src->len > 0 ? src->len - 1 : 0;
        if (te_producer_send_ex(p, topic, RD_KAFKA_PARTITION_UA, key, keylen,
                                src->payload, cut, hdrs, n_all, TE_SEND_SIDE, &err,
                                errstr, errsz) == 0) {
                TE_LOG(
                    TE_LOG_WARN, &ids, "deadletter.truncated",
                    "%s[%s]@%s: value of %zu bytes cut to %zu to fit message.max.bytes "
                    "%zu (sha256 %s)",
                    src_topic, part, off, src->len, cut, max, sha);
                return 0;
        }
skip:
        TE_LOG(TE_LOG_ERROR, &ids, "deadletter.skipped", "%s[%s]@%s: %s", src_topic, part,
               off, errstr);
        emit_alert(p, codec, alerts_topic, TE_SEV_CRITICAL, source, "deadletter_skipped",
                   "%s[%s]@%s could not be dead-lettered (%s) and is skipped: %.200s",
                   src_topic, part, off, errstr, reason);
        return 1;
}

int te_emit_deadletter(te_producer_t *p, te_codec_t *codec, const char *topic,
                       const char *alerts_topic, const char *source,
                       const rd_kafka_message_t *src, const char *reason, char *errstr,
                       size_t errsz)
{
        return deadletter(p, codec, topic, alerts_topic, source, src, reason, NULL, NULL,
                          errstr, errsz);
}

int te_emit_alert(te_producer_t *p, te_codec_t *codec, const char *topic,
                  te_severity_t sev, const char *source, const char *code,
                  const char *decision_id, const char *portfolio_id, const char *order_id,
                  const char *fmt, ...)
{
        te_emit_lost(p, codec, topic, source);
        va_list ap;
        va_start(ap, fmt);
        int rc = emit_alert_v(p, codec, topic, sev, source, code, decision_id,
                              portfolio_id, order_id, fmt, ap);
        va_end(ap);
        return rc;
}

int te_emitter_alert(const te_emitter_t *e, te_severity_t sev, const char *code,
                     const char *decision_id, const char *portfolio_id,
                     const char *order_id, const char *fmt, ...)
{
        te_emitter_lost(e);
        va_list ap;
        va_start(ap, fmt);
        int rc = emit_alert_v(e->producer, e->codec, e->topics.alerts, sev, e->proc, code,
                              decision_id, portfolio_id, order_id, fmt, ap);
        va_end(ap);
        return rc;
}

int te_emitter_lost(const te_emitter_t *e)
{
        return te_emit_lost(e->producer, e->codec, e->topics.alerts, e->proc);
}

int te_emit_reject(const te_emitter_t *e, const rd_kafka_message_t *m, const char *code,
                   const char *why, const te_reject_ctx_t *ctx)
{
        static const te_reject_ctx_t none;
        char reason[1024], errstr[512];
        const te_reject_ctx_t *c = ctx ? ctx : &none;
        snprintf(reason, sizeof reason, "%s: %s", code, why);
        int rc = deadletter(e->producer, e->codec, e->topics.deadletter, e->topics.alerts,
                            e->proc, m, reason,
                            c->keyed ? (c->portfolio_id ? c->portfolio_id : "") : NULL,
                            c->keyed ? c->decision_id : NULL, errstr, sizeof errstr);
        if (rc != 0) /* skipped: te_emit alerted (deadletter_skipped) */
                return rc;
        te_emitter_alert(
            e, TE_SEV_WARNING, c->alert_code ? c->alert_code : code, c->decision_id,
            c->portfolio_id, c->order_id, "%s dead-lettered (%s[%d]@%lld)%s%s: %s",
            c->what ? c->what : "message", m->rkt ? rd_kafka_topic_name(m->rkt) : "",
            (int)m->partition, (long long)m->offset, c->note ? ", " : "",
            c->note ? c->note : "", reason);
        return 0;
}
