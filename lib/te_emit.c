/*
 * te_emit: dead-letter records and alerts.
 */
#include "te_emit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "te_buf.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_proc.h"

int te_emit_deadletter(te_producer_t *p, const char *topic, const rd_kafka_message_t *src,
                       const char *reason, char *errstr, size_t errstr_size)
{
        char part[16], off[24];
        const char *src_topic = src->rkt ? rd_kafka_topic_name(src->rkt) : "";
        snprintf(part, sizeof part, "%d", (int)src->partition);
        snprintf(off, sizeof off, "%lld", (long long)src->offset);
        te_kafka_header_t hdrs[] = {
            {"te.reason", reason, strlen(reason)},
            {"te.source.topic", src_topic, strlen(src_topic)},
            {"te.source.partition", part, strlen(part)},
            {"te.source.offset", off, strlen(off)},
        };
        TE_LOG(TE_LOG_WARN, NULL, "deadletter", "%s[%s]@%s: %s", src_topic, part, off,
               reason);
        te_obs_deadletter(reason);
        return te_producer_send(p, topic, src->key, src->key_len, src->payload, src->len,
                                hdrs, sizeof hdrs / sizeof hdrs[0], errstr, errstr_size);
}

int te_emit_deadletter_ids(te_producer_t *p, const char *topic,
                           const rd_kafka_message_t *src, const char *reason,
                           const char *portfolio_id, const char *decision_id,
                           char *errstr, size_t errstr_size)
{
        char part[16], off[24], key[2 * TE_ID_MAX + 2];
        const char *src_topic = src->rkt ? rd_kafka_topic_name(src->rkt) : "";
        const char *pid = portfolio_id ? portfolio_id : "";
        const char *did = decision_id ? decision_id : "";
        snprintf(part, sizeof part, "%d", (int)src->partition);
        snprintf(off, sizeof off, "%lld", (long long)src->offset);
        snprintf(key, sizeof key, "%.*s/%.*s", TE_ID_MAX - 1, pid, TE_ID_MAX - 1, did);
        te_kafka_header_t hdrs[] = {
            {"te.reason", reason, strlen(reason)},
            {"te.source.topic", src_topic, strlen(src_topic)},
            {"te.source.partition", part, strlen(part)},
            {"te.source.offset", off, strlen(off)},
            {"te.portfolio_id", pid, strlen(pid)},
            {"te.decision_id", did, strlen(did)},
            {"te.source.key", src->key, src->key ? src->key_len : 0},
        };
        te_log_ids_t ids = {.decision_id = did, .portfolio_id = pid};
        TE_LOG(TE_LOG_WARN, &ids, "deadletter", "%s[%s]@%s: %s", src_topic, part, off,
               reason);
        te_obs_deadletter(reason);
        return te_producer_send(p, topic, key, strlen(key), src->payload, src->len, hdrs,
                                sizeof hdrs / sizeof hdrs[0], errstr, errstr_size);
}

int te_emit_alert(te_producer_t *p, te_codec_t *codec, const char *topic,
                  te_severity_t sev, const char *source, const char *code,
                  const char *decision_id, const char *portfolio_id, const char *order_id,
                  const char *fmt, ...)
{
        te_alert_t a;
        te_buf_t buf;
        char errstr[256];
        int rc = -1;
        memset(&a, 0, sizeof a);
        a.severity = sev;
        te_strlcpy(a.source, source, sizeof a.source);
        te_strlcpy(a.code, code, sizeof a.code);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(a.message, sizeof a.message, fmt, ap);
        va_end(ap);
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
        if (te_producer_send(p, topic, key, strlen(key), buf.data, buf.len, NULL, 0,
                             errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "alert.send_failed", "%s", errstr);
                goto done;
        }
        rc = 0;
done:
        te_buf_free(&buf);
        return rc;
}
