/*
 * id_order: the order id as DESIGN.md and lib/te_ids.h define it, "o" + digest(
 * decision_id, portfolio_id, ticker, leg as decimal text), written from that definition
 * over te_id_digest for the tests that compare the planner's ids (te_id_order_from,
 * the production form) against it. outsz >= 34.
 */
#ifndef TE_TEST_ID_ORDER_H
#define TE_TEST_ID_ORDER_H

#include <stdio.h>

#include "te_ids.h"

static inline void te_id_order(char *out, size_t outsz, const char *decision_id,
                               const char *portfolio_id, const char *ticker, int leg)
{
        char legs[16];
        const char *parts[] = {decision_id, portfolio_id, ticker, legs};
        snprintf(legs, sizeof legs, "%d", leg);
        if (outsz < TE_ID_HEX_LEN + 2) {
                if (outsz)
                        out[0] = '\0';
                return;
        }
        out[0] = 'o';
        te_id_digest(out + 1, outsz - 1, parts, 4);
}

#endif
