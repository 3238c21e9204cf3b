/*
 * book: the planner's view of one set of portfolios — positions and open orders —
 * rebuilt from the runtime DB and then moved by execution reports.
 *
 * Fills are applied by cumulative quantity per order (position moves by
 * report.cum_qty - the cum_qty already seen for that order), so a report seen twice,
 * or a report already reflected in a position loaded from the DB, moves nothing.
 * Illegal state transitions are counted and not applied (invariant 3).
 */
#ifndef TE_BOOK_H
#define TE_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "te_msg.h"

typedef struct te_book_s te_book_t;

typedef enum {
        TE_BOOK_APPLIED = 0,   /* state changed */
        TE_BOOK_DUPLICATE = 1, /* nothing new in it */
        TE_BOOK_IGNORED = 2,   /* control report (CLOCK_ACK, BROKER_STATE) */
        TE_BOOK_ILLEGAL = 3,   /* illegal transition: counted, not applied */
        TE_BOOK_ERROR = -1,    /* out of memory */
} te_book_result_t;

/** @returns a new empty book, or NULL on OOM. */
te_book_t *te_book_new(void);
void te_book_destroy(te_book_t *b); /* accepts NULL */

/** Set a position (used when loading from the DB). @returns 0 or -1 (OOM). */
int te_book_set_position(te_book_t *b, const char *portfolio_id, const char *ticker,
                         double qty);
/** Record an order with its current state (loaded from the DB, or just sent with
 *  status PENDING_NEW and cum 0). An order already known keeps its state.
 *  @returns 0 or -1 (OOM). */
int te_book_add_order(te_book_t *b, const char *order_id, const char *portfolio_id,
                      const char *ticker, te_side_t side, double qty, double cum_qty,
                      te_order_status_t status);
/** Apply an execution report. */
te_book_result_t te_book_apply_report(te_book_t *b, const te_exec_report_t *r);

/** Position (signed) of a ticker in a portfolio; 0 when unknown. */
double te_book_position(const te_book_t *b, const char *portfolio_id, const char *ticker);
/** Remaining quantity of live orders (signed: buys +, sells -). */
double te_book_open_qty(const te_book_t *b, const char *portfolio_id, const char *ticker);

/** Call `fn` for every ticker of `portfolio_id` with a non-zero position or open
 *  quantity (order unspecified). */
void te_book_foreach_ticker(const te_book_t *b, const char *portfolio_id,
                            void (*fn)(const char *ticker, double position,
                                       double open_qty, void *opaque),
                            void *opaque);

/** Counters. */
uint64_t te_book_illegal_count(const te_book_t *b);
size_t te_book_order_count(const te_book_t *b);

#endif
