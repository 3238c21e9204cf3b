/*
 * exec_mode: scope -> (level, effective_from, arrival sequence).
 */
#include "exec_mode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_map.h"

typedef struct entry_s {
        te_level_t level;
        int64_t effective_from;
        uint64_t seq;
} entry_t;

struct te_exec_mode_levels_s {
        te_map_t *scopes;
        uint64_t seq;
};

te_exec_mode_levels_t *te_exec_mode_new(void)
{
        te_exec_mode_levels_t *m = calloc(1, sizeof *m);
        if (!m)
                return NULL;
        m->scopes = te_map_new();
        if (!m->scopes) {
                free(m);
                return NULL;
        }
        return m;
}

void te_exec_mode_destroy(te_exec_mode_levels_t *m)
{
        if (!m)
                return;
        te_map_destroy(m->scopes, free);
        free(m);
}

const char *te_exec_mode_check(const te_exec_mode_t *msg, char *why, size_t why_size)
{
        const char *s = msg->scope;
        size_t n = strnlen(s, sizeof msg->scope);
        if (n == 0 || n == sizeof msg->scope) {
                snprintf(why, why_size, "scope %s", n ? "not terminated" : "is empty");
                return "invalid_scope";
        }
        if (strcmp(s, "*") != 0) {
                for (size_t i = 0; i < n; i++) {
                        unsigned char c = (unsigned char)s[i];
                        if (c < 0x20 || c == 0x7f) {
                                snprintf(why, why_size,
                                         "scope has a control character at byte %zu", i);
                                return "invalid_scope";
                        }
                        if (c == '*') {
                                snprintf(why, why_size,
                                         "scope \"%s\": only \"*\" alone means every "
                                         "portfolio (no patterns)",
                                         s);
                                return "invalid_scope";
                        }
                }
                if (s[0] == ' ' || s[n - 1] == ' ') {
                        snprintf(why, why_size,
                                 "scope \"%s\" has a leading or trailing blank", s);
                        return "invalid_scope";
                }
        }
        if ((unsigned)msg->level >= TE_LEVEL__CNT) {
                snprintf(why, why_size, "level %d out of range", (int)msg->level);
                return "invalid_level";
        }
        if (msg->effective_from < 0) {
                snprintf(why, why_size, "effective_from %lld is before 1970",
                         (long long)msg->effective_from);
                return "invalid_effective_from";
        }
        return NULL;
}

int te_exec_mode_apply(te_exec_mode_levels_t *m, const te_exec_mode_t *msg)
{
        char why[128];
        if (te_exec_mode_check(msg, why, sizeof why))
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

te_level_t te_exec_mode_level(const te_exec_mode_levels_t *m, const char *portfolio_id)
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
