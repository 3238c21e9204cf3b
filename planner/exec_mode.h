/*
 * exec_mode: the execution levels the Black Swan Engine publishes on exec.mode.
 *
 * Each message sets the level of one scope (a portfolio_id, or "*" for all). The
 * level of a portfolio is the one of the later of its own entry and the "*" entry:
 * later by effective_from, then by arrival. A portfolio with neither is NORMAL.
 *
 * A message the codec accepts can still be unusable: te_modes_check says why, and the
 * planner dead-letters it instead of applying it. Scope must be exactly "*" or a
 * portfolio id: a pattern ("pf-*") or padding (" *") would silently match no portfolio,
 * leaving the operator believing a HALT is in force when it is not.
 */
#ifndef TE_EXEC_MODE_H
#define TE_EXEC_MODE_H

#include <stddef.h>
#include <stdint.h>

#include "te_msg.h"

typedef struct te_modes_s te_modes_t;

/** @returns an empty table, or NULL on OOM. */
te_modes_t *te_modes_new(void);
void te_modes_destroy(te_modes_t *m); /* accepts NULL */

/** Check a decoded mode message: scope "*" or a portfolio id (no '*', no control
 *  characters, no leading or trailing blank), level in range, effective_from >= 0.
 *  @returns NULL if it may be applied, else a stable reason code ("invalid_scope",
 *  "invalid_level", "invalid_effective_from") with the details in why. */
const char *te_modes_check(const te_exec_mode_t *msg, char *why, size_t why_size);

/** Record a mode message. @returns 1 if some portfolio's level may have changed,
 *  0 if not, -1 on OOM or a message te_modes_check refuses. */
int te_modes_apply(te_modes_t *m, const te_exec_mode_t *msg);
/** Level in force for `portfolio_id`. */
te_level_t te_modes_level(const te_modes_t *m, const char *portfolio_id);

#endif
