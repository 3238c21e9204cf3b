/*
 * te_emit: the two side channels every process writes to.
 *
 * Dead letters (docs/DESIGN.md invariant 7): the original key and value bytes on the
 * dead-letter topic, with headers te.reason, te.source.topic, te.source.partition and
 * te.source.offset. Nothing is lost: the bytes can be inspected and re-published.
 * A message that decoded (its values were refused) is keyed by its ids instead, the
 * original key kept in te.source.key (te_emit_reject with te_reject_ctx_t.keyed).
 * A copy that would not fit the producer's message.max.bytes (key + value + headers) is
 * cut to fit: its value is the first bytes of the original, and the headers
 * te.truncated.original_len (the original value's length, decimal) and
 * te.truncated.sha256 (SHA-256 of the whole original value, hex) say so. When even the
 * cut copy cannot be queued (a key alone too large, the local queue full for 30 s) the
 * message is skipped: a CRITICAL alert "deadletter_skipped" names its topic, partition
 * and offset, and the caller moves on.
 * Both channels are sent with TE_SEND_SIDE (te_kafka.h): a failed delivery of a dead
 * letter or an alert never stops the process's delivery sequence or flush; it is logged
 * at once and raised as a CRITICAL alert "deadletter_lost" (with the source's topic,
 * partition and offset) by the next te_emit_* call on that producer, or by te_emit_lost,
 * which the consumers call for every message they take (cheap when nothing failed).
 * Alerts: an Avro Alert on the alerts topic, keyed by the related portfolio (or the
 * source process when there is none), and an error log line.
 * A consumed message the process refuses (its bytes do not decode, or its values are
 * not acceptable) goes through one call, te_emit_reject on the process's te_emitter_t:
 * its dead letter, then a WARNING Alert naming it. This is the layer above the codec:
 * lib/ below knows nothing of the wire contract.
 */
#ifndef TE_EMIT_H
#define TE_EMIT_H

#include <librdkafka/rdkafka.h>

#include "te_codec.h"
#include "te_kafka.h"

/* bytes kept free of the value for a record's framing when a copy is cut */
#define TE_EMIT_FRAMING 1024

/** Dead-letter `src` with `reason` on `topic`; alerts (skipped, lost) go to
 *  `alerts_topic` from `source` (the process name), encoded with `codec`.
 *  @returns 0 when the copy is queued (whole or cut), 1 when it was skipped (alerted;
 *  errstr says why). The caller moves past `src` either way. */
int te_emit_deadletter(te_producer_t *p, te_codec_t *codec, const char *topic,
                       const char *alerts_topic, const char *source,
                       const rd_kafka_message_t *src, const char *reason, char *errstr,
                       size_t errsz);

/** Publish an alert. Related ids may be NULL. @returns 0 or -1 (logged). */
int te_emit_alert(te_producer_t *p, te_codec_t *codec, const char *topic,
                  te_severity_t sev, const char *source, const char *code,
                  const char *decision_id, const char *portfolio_id, const char *order_id,
                  const char *fmt, ...) __attribute__((format(printf, 10, 11)));

/** The side channels of one process: its producer and codec, where its dead letters
 *  and alerts go, and its name (the alerts' source). Borrowed pointers: the owner of
 *  the producer and codec fills it in and keeps them alive while it is used. */
typedef struct te_emitter_s {
        te_producer_t *producer;
        te_codec_t *codec;
        struct {
                const char *deadletter;
                const char *alerts;
        } topics;
        const char *proc;
} te_emitter_t;

/** What the caller knows of a message it rejects; every member may be 0/NULL. */
typedef struct te_reject_ctx_s {
        const char *what;       /* the Alert reads "<what> dead-lettered (...)";
                                 * NULL: "message" */
        const char *alert_code; /* the Alert's code; NULL: the reject's code */
        const char *note;       /* said after the source: ", <note>: <reason>" */
        /* the message decoded: its dead letter is keyed "<portfolio_id>/<decision_id>"
         * with headers te.portfolio_id, te.decision_id, te.source.key (original key) */
        int keyed;
        const char *decision_id, *portfolio_id, *order_id; /* the Alert's related ids */
} te_reject_ctx_t;

/** Reject `m`: dead-letter it with te.reason "<code>: <why>", then (when the copy was
 *  queued) a WARNING Alert "<what> dead-lettered (<topic>[<partition>]@<offset>):
 *  <code>: <why>". A dead letter that cannot be queued is skipped with a CRITICAL
 *  alert (te_emit_deadletter); a delivery that fails later is raised by te_emit_lost.
 *  Neither stops the caller, which moves past `m` in every case. `ctx` may be NULL.
 *  @returns 0 when the dead letter was queued, 1 when it was skipped. */
int te_emit_reject(const te_emitter_t *e, const rd_kafka_message_t *m, const char *code,
                   const char *why, const te_reject_ctx_t *ctx);

/** Raise a CRITICAL alert for every side-channel delivery of `p` that failed since the
 *  last call (te_producer_take_lost). @returns how many. */
int te_emit_lost(te_producer_t *p, te_codec_t *codec, const char *alerts_topic,
                 const char *source);

/** te_emit_alert through `e` (its producer, codec, alerts topic and process). */
int te_emitter_alert(const te_emitter_t *e, te_severity_t sev, const char *code,
                     const char *decision_id, const char *portfolio_id,
                     const char *order_id, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/** te_emit_lost through `e`. */
int te_emitter_lost(const te_emitter_t *e);

#endif
