/*
 * book_read: the planner's book (planner/book.h) read by portfolio and ticker, for
 * unit tests; written on the book's public read access, which the planner uses
 * directly (te_book_portfolio, te_book_pf_find, ...).
 */
#ifndef TE_TEST_BOOK_READ_H
#define TE_TEST_BOOK_READ_H

#include "book.h"

/* Position (signed) of a ticker in a portfolio; 0 when unknown. */
static inline double te_book_position(const te_book_t *b, const char *portfolio_id,
                                      const char *ticker)
{
        return te_book_pos_qty(
            te_book_pf_find(te_book_portfolio(b, portfolio_id), ticker));
}

/* Remaining quantity of live orders (signed: buys +, sells -). */
static inline double te_book_open_qty(const te_book_t *b, const char *portfolio_id,
                                      const char *ticker)
{
        return te_book_pos_open(
            te_book_pf_find(te_book_portfolio(b, portfolio_id), ticker));
}

/* Cash of a portfolio; 0 when unknown. */
static inline double te_book_cash(const te_book_t *b, const char *portfolio_id)
{
        return te_book_pf_cash(te_book_portfolio(b, portfolio_id));
}

/* te_book_mark_pending for a CANCEL at an unknown time. */
static inline int te_book_mark_cancel(te_book_t *b, const char *order_id)
{
        return te_book_mark_pending(b, order_id, TE_CMD_CANCEL, 0.0, 0);
}

/* Call `fn` for every ticker of `portfolio_id` with a non-zero position or open
 * quantity (order unspecified). */
static inline void te_book_foreach_ticker(const te_book_t *b, const char *portfolio_id,
                                          void (*fn)(const char *ticker, double position,
                                                     double open_qty, void *opaque),
                                          void *opaque)
{
        const te_book_pf_t *pf = te_book_portfolio(b, portfolio_id);
        const te_book_pos_t *p;
        size_t it = 0;
        while (pf && (p = te_book_pf_next(pf, &it)) != NULL)
                if (te_book_pos_qty(p) != 0.0 || te_book_pos_open(p) != 0.0)
                        fn(te_book_pos_ticker(p), te_book_pos_qty(p), te_book_pos_open(p),
                           opaque);
}

#endif
