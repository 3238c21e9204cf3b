/*
 * tws_pacer: outgoing message pacing for the TWS API.
 *
 * TWS disconnects a client that sends more than 50 messages per second. The pacer
 * queues whole frames in two FIFOs, urgent (cancels) and normal (new orders,
 * requests), and releases them so that no sliding one-second window holds more than
 * `max_per_sec` messages; urgent frames always go first. After TWS reports error 100
 * ("max rate of messages per second has been exceeded") te_tws_pacer_backoff() stops
 * all sending for `backoff_ms` and halves the rate until the backoff has passed twice
 * without a new error. Time is passed in by the caller (monotonic ms), so tests are
 * deterministic.
 */
#ifndef TE_TWS_PACER_H
#define TE_TWS_PACER_H

#include <stddef.h>
#include <stdint.h>

#include "te_buf.h"

#define TE_TWS_PACER_MAX_RATE 1000

typedef struct te_tws_pacer_s te_tws_pacer_t;

/** @returns a pacer allowing `max_per_sec` (1..1000) messages per second, or NULL on
 *  OOM / bad rate. `max_queued` bounds each queue (frames). */
te_tws_pacer_t *te_tws_pacer_new(int max_per_sec, int64_t backoff_ms, size_t max_queued);
void te_tws_pacer_destroy(te_tws_pacer_t *p); /* accepts NULL */

/** Queue one whole frame (copied). @returns 0, or -1 when the queue is full / OOM. */
int te_tws_pacer_push(te_tws_pacer_t *p, int urgent, const uint8_t *frame, size_t len);
/** Move the frames allowed at `now_ms` to the end of `out` (in send order) and record
 *  them as sent. @returns how many were moved, or -1 if `out` is full. */
int te_tws_pacer_release(te_tws_pacer_t *p, int64_t now_ms, te_buf_t *out);
/** Error 100 seen at `now_ms`: pause and slow down. */
void te_tws_pacer_backoff(te_tws_pacer_t *p, int64_t now_ms);
/** Drop everything queued (connection lost). */
void te_tws_pacer_clear(te_tws_pacer_t *p);
size_t te_tws_pacer_queued(const te_tws_pacer_t *p);
/** The rate in force at `now_ms` (halved during a backoff). */
int te_tws_pacer_rate(const te_tws_pacer_t *p, int64_t now_ms);

#endif
