/*
 * te_dlog: a ring of (partition, offset, seq) in the order messages were finished,
 * growing by doubling, plus each partition's last offset pushed (te_dlog.h).
 */
#include "te_dlog.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
        int64_t offset;
        uint64_t seq;
        int32_t partition;
} entry_t;

struct te_dlog_s {
        entry_t *ring;
        size_t cap, head, n; /* entries ring[head], ring[head+1], ... (mod cap) */
        uint64_t last_seq;
        int64_t last_off[TE_DLOG_MAX_PARTS]; /* -1: none pushed since the last clear */
};

te_dlog_t *te_dlog_new(void)
{
        te_dlog_t *d = calloc(1, sizeof *d);
        if (!d)
                return NULL;
        te_dlog_clear(d);
        return d;
}

void te_dlog_destroy(te_dlog_t *d)
{
        if (!d)
                return;
        free(d->ring);
        free(d);
}

static int grow(te_dlog_t *d)
{
        size_t cap = d->cap ? d->cap * 2 : 256;
        entry_t *r = malloc(cap * sizeof *r);
        if (!r)
                return -1;
        for (size_t i = 0; i < d->n; i++)
                r[i] = d->ring[(d->head + i) % d->cap];
        free(d->ring);
        d->ring = r;
        d->cap = cap;
        d->head = 0;
        return 0;
}

int te_dlog_push(te_dlog_t *d, int32_t partition, int64_t offset, uint64_t seq)
{
        if (partition < 0 || partition >= TE_DLOG_MAX_PARTS || offset < 0 ||
            seq < d->last_seq || offset <= d->last_off[partition])
                return -1;
        if (d->n == d->cap && grow(d) != 0)
                return -1;
        entry_t *e = &d->ring[(d->head + d->n) % d->cap];
        e->partition = partition;
        e->offset = offset;
        e->seq = seq;
        d->n++;
        d->last_seq = seq;
        d->last_off[partition] = offset;
        return 0;
}

size_t te_dlog_settle(te_dlog_t *d, uint64_t delivered, int64_t *next)
{
        size_t taken = 0;
        while (d->n > 0 && d->ring[d->head].seq <= delivered) {
                const entry_t *e = &d->ring[d->head];
                next[e->partition] = e->offset + 1;
                d->head = (d->head + 1) % d->cap;
                d->n--;
                taken++;
        }
        return taken;
}

size_t te_dlog_count(const te_dlog_t *d)
{
        return d->n;
}

void te_dlog_clear(te_dlog_t *d)
{
        d->head = d->n = 0;
        d->last_seq = 0;
        for (int i = 0; i < TE_DLOG_MAX_PARTS; i++)
                d->last_off[i] = -1;
}
