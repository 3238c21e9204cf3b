/*
 * exec_mode: the execution levels the Black Swan Engine publishes on exec.mode.
 *
 * Each message sets the level of one scope (a portfolio_id, or "*" for all). The
 * level of a portfolio is the one of the later of its own entry and the "*" entry:
 * later by effective_from, then by arrival. A portfolio with neither is NORMAL.
 */
#ifndef TE_EXEC_MODE_H
#define TE_EXEC_MODE_H

#include <stdint.h>

#include "te_msg.h"

typedef struct te_modes_s te_modes_t;

/** @returns an empty table, or NULL on OOM. */
te_modes_t *te_modes_new(void);
void te_modes_destroy(te_modes_t *m); /* accepts NULL */

/** Record a mode message. @returns 1 if some portfolio's level may have changed,
 *  0 if not, -1 on OOM or an invalid message (empty scope, level out of range). */
int te_modes_apply(te_modes_t *m, const te_exec_mode_t *msg);
/** Level in force for `portfolio_id`. */
te_level_t te_modes_level(const te_modes_t *m, const char *portfolio_id);

#endif
