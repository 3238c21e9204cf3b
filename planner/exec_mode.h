/*
 * exec_mode: the execution levels the Black Swan Engine publishes on exec.mode.
 *
 * Each message sets the level of one scope (a portfolio_id, or "*" for all). The
 * level of a portfolio is the one of the later of its own entry and the "*" entry:
 * later by effective_from, then by arrival. A portfolio with neither is NORMAL.
 *
 * A message the codec accepts can still be unusable: te_exec_mode_check says why, and the
 * planner dead-letters it instead of applying it. Scope must be exactly "*" or a
 * portfolio id: a pattern ("pf-*") or padding (" *") would silently match no portfolio,
 * leaving the operator believing a HALT is in force when it is not.
 */
#ifndef TE_EXEC_MODE_H
#define TE_EXEC_MODE_H

#include <stddef.h>
#include <stdint.h>

#include "te_msg.h"

typedef struct te_exec_mode_levels_s te_exec_mode_levels_t;

/** @returns an empty table, or NULL on OOM. */
te_exec_mode_levels_t *te_exec_mode_new(void);
void te_exec_mode_destroy(te_exec_mode_levels_t *m); /* accepts NULL */

/** Check a decoded mode message: scope "*" or a portfolio id (no '*', no control
 *  characters, no leading or trailing blank), level in range, effective_from >= 0.
 *  @returns NULL if it may be applied, else a stable reason code ("invalid_scope",
 *  "invalid_level", "invalid_effective_from") with the details in why. */
const char *te_exec_mode_check(const te_exec_mode_t *msg, char *why, size_t why_size);

/** Record a mode message. @returns 1 if some portfolio's level may have changed,
 *  0 if not, -1 on OOM or a message te_exec_mode_check refuses. */
int te_exec_mode_apply(te_exec_mode_levels_t *m, const te_exec_mode_t *msg);
/** Level in force for `portfolio_id`. */
te_level_t te_exec_mode_level(const te_exec_mode_levels_t *m, const char *portfolio_id);

#endif
