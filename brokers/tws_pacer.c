/*
 * tws_pacer: sliding-window message pacing with an urgent lane (see tws_pacer.h).
 */
#include "tws_pacer.h"

#include <stdlib.h>
#include <string.h>

typedef struct frame_s {
        uint8_t *data;
        size_t len;
} frame_t;

typedef struct fifo_s {
        frame_t *items;
        size_t head, n, cap;
} fifo_t;

struct te_tws_pacer_s {
        int max_per_sec;
        int64_t backoff_ms;
        int64_t paused_until;                /* no sending before this */
        int64_t slow_until;                  /* half rate before this */
        int64_t sent[TE_TWS_PACER_MAX_RATE]; /* ring of send times */
        size_t sent_head, sent_n;
        fifo_t q[2]; /* 0 urgent, 1 normal */
};

te_tws_pacer_t *te_tws_pacer_new(int max_per_sec, int64_t backoff_ms, size_t max_queued)
{
        if (max_per_sec < 1 || max_per_sec > TE_TWS_PACER_MAX_RATE || max_queued == 0)
                return NULL;
        te_tws_pacer_t *p = calloc(1, sizeof *p);
        if (!p)
                return NULL;
        p->max_per_sec = max_per_sec;
        p->backoff_ms = backoff_ms;
        for (int i = 0; i < 2; i++) {
                p->q[i].cap = max_queued;
                p->q[i].items = calloc(max_queued, sizeof(frame_t));
                if (!p->q[i].items)
                        goto err;
        }
        return p;
err:
        te_tws_pacer_destroy(p);
        return NULL;
}

void te_tws_pacer_clear(te_tws_pacer_t *p)
{
        for (int i = 0; i < 2; i++) {
                fifo_t *f = &p->q[i];
                for (size_t k = 0; k < f->n; k++)
                        free(f->items[(f->head + k) % f->cap].data);
                f->head = f->n = 0;
        }
}

void te_tws_pacer_destroy(te_tws_pacer_t *p)
{
        if (!p)
                return;
        if (p->q[0].items && p->q[1].items)
                te_tws_pacer_clear(p);
        free(p->q[0].items);
        free(p->q[1].items);
        free(p);
}

int te_tws_pacer_push(te_tws_pacer_t *p, int urgent, const uint8_t *frame, size_t len)
{
        fifo_t *f = &p->q[urgent ? 0 : 1];
        if (f->n == f->cap || len == 0)
                return -1;
        uint8_t *copy = malloc(len);
        if (!copy)
                return -1;
        memcpy(copy, frame, len);
        f->items[(f->head + f->n) % f->cap] = (frame_t){copy, len};
        f->n++;
        return 0;
}

int te_tws_pacer_rate(const te_tws_pacer_t *p, int64_t now_ms)
{
        if (now_ms < p->slow_until) {
                int r = p->max_per_sec / 2;
                return r < 1 ? 1 : r;
        }
        return p->max_per_sec;
}

int te_tws_pacer_release(te_tws_pacer_t *p, int64_t now_ms, te_buf_t *out)
{
        int moved = 0;
        if (now_ms < p->paused_until)
                return 0;
        int rate = te_tws_pacer_rate(p, now_ms);
        for (;;) {
                /* forget sends that left the one-second window */
                while (p->sent_n && p->sent[p->sent_head] <= now_ms - 1000) {
                        p->sent_head = (p->sent_head + 1) % TE_TWS_PACER_MAX_RATE;
                        p->sent_n--;
                }
                if ((int)p->sent_n >= rate)
                        break;
                fifo_t *f = p->q[0].n ? &p->q[0] : &p->q[1];
                if (!f->n)
                        break;
                frame_t *fr = &f->items[f->head];
                if (te_buf_append(out, fr->data, fr->len) != 0)
                        return -1;
                free(fr->data);
                fr->data = NULL;
                f->head = (f->head + 1) % f->cap;
                f->n--;
                p->sent[(p->sent_head + p->sent_n) % TE_TWS_PACER_MAX_RATE] = now_ms;
                p->sent_n++;
                moved++;
        }
        return moved;
}

void te_tws_pacer_backoff(te_tws_pacer_t *p, int64_t now_ms)
{
        p->paused_until = now_ms + p->backoff_ms;
        p->slow_until = now_ms + 2 * p->backoff_ms;
}

size_t te_tws_pacer_queued(const te_tws_pacer_t *p)
{
        return p->q[0].n + p->q[1].n;
}
