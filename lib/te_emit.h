/*
 * te_emit: the two side channels every process writes to.
 *
 * Dead letters (DESIGN.md invariant 7): the original key and value bytes, unchanged,
 * on the dead-letter topic, with headers te.reason, te.source.topic,
 * te.source.partition and te.source.offset. A message that decoded (its values were
 * refused) is keyed by its ids instead, the original key kept in te.source.key. Nothing
 * is lost: the bytes can be inspected and re-published. Alerts: an Avro Alert on the
 * alerts topic, keyed by the related portfolio (or the source process when there is
 * none), and an error log line.
 */
#ifndef TE_EMIT_H
#define TE_EMIT_H

#include <librdkafka/rdkafka.h>

#include "te_codec.h"
#include "te_kafka.h"

/** Dead-letter `src` with `reason`. @returns 0, or -1 with errstr (not queued). */
int te_emit_deadletter(te_producer_t *p, const char *topic, const rd_kafka_message_t *src,
                       const char *reason, char *errstr, size_t errstr_size);

/** Dead-letter `src`, a message whose bytes decode, so that it can be tied to what its
 *  producer sent: the key is "<portfolio_id>/<decision_id>", headers te.portfolio_id
 *  and te.decision_id carry them apart, te.source.key the original key bytes (nothing
 *  is lost), beside the headers of te_emit_deadletter. Either id may be empty.
 *  @returns 0, or -1 with errstr (not queued). */
int te_emit_deadletter_ids(te_producer_t *p, const char *topic,
                           const rd_kafka_message_t *src, const char *reason,
                           const char *portfolio_id, const char *decision_id,
                           char *errstr, size_t errstr_size);

/** Publish an alert. Related ids may be NULL. @returns 0 or -1 (logged). */
int te_emit_alert(te_producer_t *p, te_codec_t *codec, const char *topic,
                  te_severity_t sev, const char *source, const char *code,
                  const char *decision_id, const char *portfolio_id, const char *order_id,
                  const char *fmt, ...) __attribute__((format(printf, 10, 11)));

#endif
