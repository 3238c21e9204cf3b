/*
 * exec_mode: scope -> (level, effective_from, arrival sequence).
 */
#include "exec_mode.h"

#include <stdlib.h>

#include "te_map.h"

typedef struct entry_s {
        te_level_t level;
        int64_t effective_from;
        uint64_t seq;
} entry_t;

struct te_modes_s {
        te_map_t *scopes;
        uint64_t seq;
};

te_modes_t *te_modes_new(void)
{
        te_modes_t *m = calloc(1, sizeof *m);
        if (!m)
                return NULL;
        m->scopes = te_map_new();
        if (!m->scopes) {
                free(m);
                return NULL;
        }
        return m;
}

void te_modes_destroy(te_modes_t *m)
{
        if (!m)
                return;
        te_map_destroy(m->scopes, free);
        free(m);
}

int te_modes_apply(te_modes_t *m, const te_exec_mode_t *msg)
{
        if (!msg->scope[0] || (unsigned)msg->level >= TE_LEVEL__CNT)
                return -1;
        entry_t *e = te_map_get(m->scopes, msg->scope);
        if (!e) {
                e = calloc(1, sizeof *e);
                if (!e || te_map_put(m->scopes, msg->scope, e) != 0) {
                        free(e);
                        return -1;
                }
        }
        e->level = msg->level;
        e->effective_from = msg->effective_from;
        e->seq = ++m->seq;
        return 1;
}

static int later(const entry_t *a, const entry_t *b)
{
        if (a->effective_from != b->effective_from)
                return a->effective_from > b->effective_from;
        return a->seq > b->seq;
}

te_level_t te_modes_level(const te_modes_t *m, const char *portfolio_id)
{
        const entry_t *all = te_map_get(m->scopes, "*");
        const entry_t *own = te_map_get(m->scopes, portfolio_id);
        if (all && own)
                return later(own, all) ? own->level : all->level;
        if (own)
                return own->level;
        if (all)
                return all->level;
        return TE_LEVEL_NORMAL;
}
