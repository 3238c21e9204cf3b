/*
 * order_plan: from a target portfolio and the book to the orders that move the
 * portfolio there (DESIGN.md "Planner"). Pure: no Kafka, no DB, no clock.
 *
 *   current = position + remaining quantity of open orders
 *   delta   = target - current
 *
 * Quantity targets are used as they are; weight targets convert with the message's
 * NAV and each target's ref_price. A delta rounds toward zero to the lot size; orders
 * below the minimum quantity or notional are dropped. A move through zero becomes
 * a CLOSE leg (the whole current quantity) and an OPEN leg. Sells come before buys,
 * each side sorted by ticker, so the output does not depend on the input order.
 * Order ids are deterministic in (decision_id, portfolio_id, ticker, leg).
 */
#ifndef TE_ORDER_PLAN_H
#define TE_ORDER_PLAN_H

#include <stddef.h>

#include "book.h"
#include "te_msg.h"

typedef struct te_plan_cfg_s {
        double lot_size;     /* > 0; quantities round toward zero to a multiple */
        double min_qty;      /* orders below are dropped */
        double min_notional; /* orders below are dropped (needs a price) */
        int allow_short;     /* 0: negative targets are invalid */
        te_order_type_t order_type;
        te_tif_t tif;
        double limit_offset_bps; /* LIMIT: ref price +/- offset (buy above, sell below) */
        char route[TE_NAME_MAX];
} te_plan_cfg_t;

/** Defaults: lot 1, min qty 1, min notional 0, shorting allowed, MARKET DAY, route "sim".
 */
void te_plan_cfg_defaults(te_plan_cfg_t *cfg);

/** Plan the orders for `tp` against `book`. Writes up to `cap` orders into `out` and
 *  their count into *n_out. Does not change the book (the caller records the orders it
 *  actually sends with te_book_add_order).
 *  @returns 0, or -1 with errstr when the target is invalid (duplicate ticker,
 *  non-finite value, negative target without shorting, weight target without NAV or
 *  price, more orders than `cap`). Nothing is planned for an invalid target. */
int te_plan_target(const te_plan_cfg_t *cfg, const te_book_t *book,
                   const te_target_portfolio_t *tp, te_order_cmd_t *out, size_t cap,
                   size_t *n_out, char *errstr, size_t errstr_size);

/** Round |q| toward zero to a multiple of `lot`, keeping the sign. Values within 1e-9
 *  lots of the next multiple count as that multiple (floating-point noise). */
double te_plan_round_lot(double q, double lot);

#endif
