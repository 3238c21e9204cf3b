/*
 * fix_reqq: the FIX adapter's outgoing requests before they get a MsgSeqNum, and the
 * application messages it sent (pure: no socket, time passed in).
 *
 * Three FIFOs: status requests (reconciliation), cancels, and the rest (new orders,
 * replaces). te_fix_reqq_next gives the request that may leave now: status requests
 * first, then (unless only status may leave) cancels, then the rest, and none once
 * `max_per_sec` requests left within the last 1000 ms. A request gets its MsgSeqNum
 * only when it leaves, so the counterparty sees our numbers in order whatever the
 * priority. te_fix_reqq_sent remembers which order and kind each MsgSeqNum carried
 * (the last TE_FIX_REQQ_SENT of them), for a Reject that names one; a sequence reset
 * forgets them all (te_fix_reqq_forget_sent).
 */
#ifndef TE_FIX_REQQ_H
#define TE_FIX_REQQ_H

#include <stddef.h>
#include <stdint.h>

#include "te_msg.h"

#define TE_FIX_REQQ_MAX      4096 /* queued requests per FIFO */
#define TE_FIX_REQQ_RATE_MAX 1000 /* max_per_sec bound */
#define TE_FIX_REQQ_SENT     4096 /* sent messages remembered */

typedef enum {
        TE_FIX_Q_STATUS = 0, /* OrderStatusRequest (reconciliation) */
        TE_FIX_Q_URGENT = 1, /* OrderCancelRequest */
        TE_FIX_Q_NORMAL = 2, /* NewOrderSingle, OrderCancelReplaceRequest */
        TE_FIX_Q__CNT
} te_fix_qcls_t;

typedef struct te_fix_req_s {
        char order_id[TE_ID_MAX];
        char kind; /* the MsgType: D F G H */
} te_fix_req_t;

typedef struct te_fix_reqq_s te_fix_reqq_t;

/** @returns an empty queue allowing max_per_sec (1..TE_FIX_REQQ_RATE_MAX) requests per
 *  second, or NULL (bad rate or OOM). */
te_fix_reqq_t *te_fix_reqq_new(int max_per_sec);
void te_fix_reqq_destroy(te_fix_reqq_t *q); /* accepts NULL */

/** Queue a request. @returns 0, or -1 when that FIFO is full. */
int te_fix_reqq_push(te_fix_reqq_t *q, te_fix_qcls_t cls, const char *order_id,
                     char kind);
/** Take the request that may leave at now_ms into *out (see above) and count it
 *  against the rate. @returns 1, or 0 when none may leave now. */
int te_fix_reqq_next(te_fix_reqq_t *q, int64_t now_ms, int only_status,
                     te_fix_req_t *out);
/** Drop every request of one FIFO. */
void te_fix_reqq_clear(te_fix_reqq_t *q, te_fix_qcls_t cls);
size_t te_fix_reqq_queued(const te_fix_reqq_t *q, te_fix_qcls_t cls);

/** Remember that MsgSeqNum seq carried `kind` for order_id. */
void te_fix_reqq_sent(te_fix_reqq_t *q, int64_t seq, const char *order_id, char kind);
/** What MsgSeqNum seq carried, or NULL when it was no request of ours or is too old. */
const te_fix_req_t *te_fix_reqq_by_seq(const te_fix_reqq_t *q, int64_t seq);
/** Forget every sent message: our MsgSeqNums restarted (a sequence reset), so a number
 *  named later is a message of the new sequence, never one remembered from before. */
void te_fix_reqq_forget_sent(te_fix_reqq_t *q);

#endif
