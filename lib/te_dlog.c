/*
 * te_dlog: one ring per partition of (offset, done, seq), in offset order (te_dlog.h).
 */
#include "te_dlog.h"

#include <stdlib.h>

typedef struct {
        int64_t offset;
        uint64_t seq;
        int done;
} entry_t;

/* Consumed messages of one partition in offset order: a ring. */
typedef struct {
        entry_t *e;
        size_t cap, head, n; /* cap a power of two; e[(head + i) & (cap-1)] */
} ring_t;

struct te_dlog_s {
        ring_t part[TE_DLOG_MAX_PARTS];
        size_t total; /* sum of the rings' n */
};

te_dlog_t *te_dlog_new(void)
{
        return calloc(1, sizeof(te_dlog_t));
}

void te_dlog_destroy(te_dlog_t *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < TE_DLOG_MAX_PARTS; i++)
                free(d->part[i].e);
        free(d);
}

static entry_t *at(ring_t *l, size_t i)
{
        return &l->e[(l->head + i) & (l->cap - 1)];
}

int te_dlog_consumed(te_dlog_t *d, int32_t partition, int64_t offset)
{
        if (partition < 0 || partition >= TE_DLOG_MAX_PARTS)
                return -1;
        ring_t *l = &d->part[partition];
        if (l->n && at(l, l->n - 1)->offset >= offset)
                return -1;
        if (l->n == l->cap) {
                size_t ncap = l->cap ? l->cap * 2 : 64;
                entry_t *ne = malloc(ncap * sizeof *ne);
                if (!ne)
                        return -1;
                for (size_t i = 0; i < l->n; i++)
                        ne[i] = *at(l, i);
                free(l->e);
                l->e = ne;
                l->cap = ncap;
                l->head = 0;
        }
        *at(l, l->n) = (entry_t){.offset = offset};
        l->n++;
        d->total++;
        return 0;
}

int te_dlog_done(te_dlog_t *d, int32_t partition, int64_t offset, uint64_t seq)
{
        if (partition < 0 || partition >= TE_DLOG_MAX_PARTS)
                return -1;
        ring_t *l = &d->part[partition];
        size_t lo = 0, hi = l->n; /* binary search: offsets increase */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (at(l, mid)->offset < offset)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo == l->n)
                return -1;
        entry_t *e = at(l, lo);
        if (e->offset != offset || e->done)
                return -1;
        e->done = 1;
        e->seq = seq;
        return 0;
}

int64_t te_dlog_committable(te_dlog_t *d, int32_t partition, uint64_t delivered)
{
        if (partition < 0 || partition >= TE_DLOG_MAX_PARTS)
                return -1;
        ring_t *l = &d->part[partition];
        int64_t next = -1;
        while (l->n) {
                entry_t *e = at(l, 0);
                if (!e->done || e->seq > delivered)
                        break;
                next = e->offset + 1;
                l->head = (l->head + 1) & (l->cap - 1);
                l->n--;
                d->total--;
        }
        return next;
}

int64_t te_dlog_first(const te_dlog_t *d, int32_t partition)
{
        if (partition < 0 || partition >= TE_DLOG_MAX_PARTS || !d->part[partition].n)
                return -1;
        const ring_t *l = &d->part[partition];
        return l->e[l->head & (l->cap - 1)].offset;
}

size_t te_dlog_count(const te_dlog_t *d, int32_t partition)
{
        return partition >= 0 && partition < TE_DLOG_MAX_PARTS ? d->part[partition].n : 0;
}

size_t te_dlog_total(const te_dlog_t *d)
{
        return d->total;
}

void te_dlog_clear(te_dlog_t *d)
{
        d->total = 0;
        for (size_t i = 0; i < TE_DLOG_MAX_PARTS; i++)
                d->part[i].n = d->part[i].head = 0;
}
