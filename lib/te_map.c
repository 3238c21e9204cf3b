/*
 * te_map: open-addressing string hash map with tombstone-free deletion
 * (backward-shift), FNV-1a hashing, load factor kept at or below 1/2.
 */
#include "te_map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot_s {
        char *key; /* NULL = empty */
        uint64_t hash;
        void *value;
} slot_t;

struct te_map_s {
        slot_t *slots;
        size_t cap; /* power of two */
        size_t count;
        int borrowed; /* keys are the caller's, not copies */
};

static uint64_t hash_str(const char *s)
{
        uint64_t h = 0xcbf29ce484222325ull;
        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 0x100000001b3ull;
        }
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        return h;
}

te_map_t *te_map_new(void)
{
        te_map_t *m = calloc(1, sizeof *m);
        if (!m)
                return NULL;
        m->cap = 16;
        m->slots = calloc(m->cap, sizeof *m->slots);
        if (!m->slots) {
                free(m);
                return NULL;
        }
        return m;
}

te_map_t *te_map_new_borrowed(void)
{
        te_map_t *m = te_map_new();
        if (m)
                m->borrowed = 1;
        return m;
}

void te_map_destroy(te_map_t *m, void (*free_value)(void *))
{
        if (!m)
                return;
        for (size_t i = 0; i < m->cap; i++) {
                if (!m->slots[i].key)
                        continue;
                if (!m->borrowed)
                        free(m->slots[i].key);
                if (free_value)
                        free_value(m->slots[i].value);
        }
        free(m->slots);
        free(m);
}

static size_t find(const te_map_t *m, const char *key, uint64_t h)
{
        size_t mask = m->cap - 1;
        size_t i = (size_t)h & mask;
        while (m->slots[i].key) {
                if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
                        return i;
                i = (i + 1) & mask;
        }
        return i; /* empty slot */
}

void *te_map_get(const te_map_t *m, const char *key)
{
        size_t i = find(m, key, hash_str(key));
        return m->slots[i].key ? m->slots[i].value : NULL;
}

static int grow(te_map_t *m)
{
        size_t ncap = m->cap * 2;
        slot_t *ns = calloc(ncap, sizeof *ns);
        if (!ns)
                return -1;
        for (size_t i = 0; i < m->cap; i++) {
                if (!m->slots[i].key)
                        continue;
                size_t j = (size_t)m->slots[i].hash & (ncap - 1);
                while (ns[j].key)
                        j = (j + 1) & (ncap - 1);
                ns[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
        return 0;
}

int te_map_put(te_map_t *m, const char *key, void *value)
{
        uint64_t h = hash_str(key);
        size_t i = find(m, key, h);
        if (m->slots[i].key) {
                if (m->borrowed)
                        m->slots[i].key = (char *)key; /* the new value's key */
                m->slots[i].value = value;
                return 0;
        }
        if ((m->count + 1) * 2 > m->cap) {
                if (grow(m) != 0)
                        return -1;
                i = find(m, key, h);
        }
        char *k = m->borrowed ? (char *)key : strdup(key);
        if (!k)
                return -1;
        m->slots[i].key = k;
        m->slots[i].hash = h;
        m->slots[i].value = value;
        m->count++;
        return 0;
}

void *te_map_del(te_map_t *m, const char *key)
{
        size_t mask = m->cap - 1;
        size_t i = find(m, key, hash_str(key));
        if (!m->slots[i].key)
                return NULL;
        void *v = m->slots[i].value;
        if (!m->borrowed)
                free(m->slots[i].key);
        m->slots[i].key = NULL;
        m->count--;
        /* backward-shift the following cluster so lookups never stop early */
        size_t j = i;
        for (;;) {
                j = (j + 1) & mask;
                if (!m->slots[j].key)
                        break;
                size_t home = (size_t)m->slots[j].hash & mask;
                /* move j into i if home is not cyclically in (i, j] */
                int in_range =
                    (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
                if (!in_range) {
                        m->slots[i] = m->slots[j];
                        m->slots[j].key = NULL;
                        i = j;
                }
        }
        return v;
}

size_t te_map_count(const te_map_t *m)
{
        return m->count;
}

int te_map_next(const te_map_t *m, size_t *pos, const char **key, void **value)
{
        while (*pos < m->cap) {
                size_t i = (*pos)++;
                if (m->slots[i].key) {
                        *key = m->slots[i].key;
                        *value = m->slots[i].value;
                        return 1;
                }
        }
        return 0;
}
