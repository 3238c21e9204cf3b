/*
 * book_report.h: the execution report the planner's book tests feed it (test_book.c,
 * test_book_prune.c): ids, side, type and status, cumulative and leaves quantity; the
 * report_id is derived from the order, type and cum quantity.
 */
#ifndef TE_TEST_BOOK_REPORT_H
#define TE_TEST_BOOK_REPORT_H

#include <string.h>

#include "te_buf.h"
#include "te_msg.h"

static inline te_exec_report_t report(const char *order_id, const char *portfolio_id,
                                      const char *ticker, te_side_t side,
                                      te_exec_type_t et, te_order_status_t os, double cum,
                                      double leaves)
{
        te_exec_report_t r;
        memset(&r, 0, sizeof r);
        te_strlcpy(r.order_id, order_id, sizeof r.order_id);
        te_strlcpy(r.ids.portfolio_id, portfolio_id, sizeof r.ids.portfolio_id);
        te_strlcpy(r.ticker, ticker, sizeof r.ticker);
        te_errf(r.report_id, sizeof r.report_id, "r-%s-%d-%g", order_id, (int)et, cum);
        r.side = side;
        r.exec_type = et;
        r.order_status = os;
        r.cum_qty = cum;
        r.leaves_qty = leaves;
        return r;
}

#endif
