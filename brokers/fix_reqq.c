/*
 * fix_reqq: priority FIFOs, a sliding one-second rate window and a ring of sent
 * messages for the FIX adapter (see fix_reqq.h).
 */
#include <stdlib.h>
#include <string.h>

#include "fix_reqq.h"
#include "te_buf.h"

typedef struct fifo_s {
        te_fix_req_t *r; /* TE_FIX_REQQ_MAX slots, allocated on first use */
        size_t head, n;
} fifo_t;

typedef struct sent_s {
        int64_t seq;
        te_fix_req_t req;
} sent_t;

struct te_fix_reqq_s {
        fifo_t q[TE_FIX_Q__CNT];
        int max_per_sec;
        int64_t at[TE_FIX_REQQ_RATE_MAX]; /* times of the requests in the window */
        size_t at_head, at_n;
        sent_t sent[TE_FIX_REQQ_SENT]; /* by seq % TE_FIX_REQQ_SENT */
};

te_fix_reqq_t *te_fix_reqq_new(int max_per_sec)
{
        if (max_per_sec < 1 || max_per_sec > TE_FIX_REQQ_RATE_MAX)
                return NULL;
        te_fix_reqq_t *q = calloc(1, sizeof *q);
        if (q)
                q->max_per_sec = max_per_sec;
        return q;
}

void te_fix_reqq_destroy(te_fix_reqq_t *q)
{
        if (!q)
                return;
        for (int i = 0; i < TE_FIX_Q__CNT; i++)
                free(q->q[i].r);
        free(q);
}

int te_fix_reqq_push(te_fix_reqq_t *q, te_fix_qcls_t cls, const char *order_id, char kind)
{
        fifo_t *f = &q->q[cls];
        if (f->n == TE_FIX_REQQ_MAX)
                return -1;
        if (!f->r) {
                f->r = calloc(TE_FIX_REQQ_MAX, sizeof *f->r);
                if (!f->r)
                        return -1;
        }
        te_fix_req_t *r = &f->r[(f->head + f->n) % TE_FIX_REQQ_MAX];
        te_strlcpy(r->order_id, order_id, sizeof r->order_id);
        r->kind = kind;
        f->n++;
        return 0;
}

int te_fix_reqq_next(te_fix_reqq_t *q, int64_t now_ms, int only_status, te_fix_req_t *out)
{
        fifo_t *f = q->q[TE_FIX_Q_STATUS].n   ? &q->q[TE_FIX_Q_STATUS]
                    : only_status             ? NULL
                    : q->q[TE_FIX_Q_URGENT].n ? &q->q[TE_FIX_Q_URGENT]
                                              : &q->q[TE_FIX_Q_NORMAL];
        if (!f || f->n == 0)
                return 0;
        while (q->at_n && now_ms - q->at[q->at_head] >= 1000) {
                q->at_head = (q->at_head + 1) % TE_FIX_REQQ_RATE_MAX;
                q->at_n--;
        }
        if (q->at_n >= (size_t)q->max_per_sec)
                return 0;
        *out = f->r[f->head];
        f->head = (f->head + 1) % TE_FIX_REQQ_MAX;
        f->n--;
        q->at[(q->at_head + q->at_n) % TE_FIX_REQQ_RATE_MAX] = now_ms;
        q->at_n++;
        return 1;
}

void te_fix_reqq_clear(te_fix_reqq_t *q, te_fix_qcls_t cls)
{
        q->q[cls].head = q->q[cls].n = 0;
}

size_t te_fix_reqq_queued(const te_fix_reqq_t *q, te_fix_qcls_t cls)
{
        return q->q[cls].n;
}

void te_fix_reqq_sent(te_fix_reqq_t *q, int64_t seq, const char *order_id, char kind)
{
        sent_t *s = &q->sent[seq % TE_FIX_REQQ_SENT];
        s->seq = seq;
        te_strlcpy(s->req.order_id, order_id, sizeof s->req.order_id);
        s->req.kind = kind;
}

const te_fix_req_t *te_fix_reqq_by_seq(const te_fix_reqq_t *q, int64_t seq)
{
        if (seq < 1)
                return NULL;
        const sent_t *s = &q->sent[seq % TE_FIX_REQQ_SENT];
        return s->seq == seq ? &s->req : NULL;
}

void te_fix_reqq_forget_sent(te_fix_reqq_t *q)
{
        memset(q->sent, 0, sizeof q->sent);
}
