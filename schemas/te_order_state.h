/*
 * te_order_state: the order state machine of docs/DESIGN.md invariant 3.
 *
 *   PENDING_NEW -> NEW -> PARTIALLY_FILLED -> FILLED
 *   any live state -> PENDING_CANCEL -> CANCELED
 *   any live state -> PENDING_REPLACE -> REPLACED (the order lives on under a new id)
 *   PENDING_NEW / NEW / PENDING_* -> REJECTED ; live states -> EXPIRED
 *
 * Terminal states (FILLED, CANCELED, REPLACED, REJECTED, EXPIRED) are final.
 * Staying in the same live state is legal (e.g. a second partial fill).
 */
#ifndef TE_ORDER_STATE_H
#define TE_ORDER_STATE_H

#include "te_msg.h"

/** @returns 1 if `s` is terminal. */
int te_os_is_terminal(te_order_status_t s);
/** @returns 1 if moving from `from` to `to` is allowed, 0 otherwise (including any
 *  out-of-range value). */
int te_os_transition_ok(te_order_status_t from, te_order_status_t to);

#endif
