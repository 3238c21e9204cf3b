/*
 * book: the planner's view of its portfolios — positions, cash and open orders —
 * rebuilt from the runtime DB and then moved by execution reports and by the commands
 * the planner sends.
 *
 * Fills are applied by cumulative quantity per order (position moves by
 * report.cum_qty - the cum_qty already seen for that order), so a report seen twice,
 * or a report already reflected in a position loaded from the DB, moves nothing.
 * Illegal state transitions are counted and not applied (invariant 3).
 *
 * An order is *live* while it is not terminal and no CANCEL or REPLACE is unconfirmed
 * for it; the open quantity of a (portfolio, ticker) is the signed remaining quantity
 * of its live orders. An order with a CANCEL or REPLACE sent (or in PENDING_CANCEL /
 * PENDING_REPLACE) and not yet confirmed is *pending*: it still moves the position if
 * it fills first, and its leaves — the larger of the old and new leaves for a REPLACE —
 * count as what could still fill on its side (te_book_pos_pending) until the broker
 * confirms: a terminal report (CANCELED, FILLED, ...), REPLACED (the order takes the
 * new quantity, cum + leaves, and is live again), or REJECTED with a live status (the
 * CANCEL or REPLACE was refused; the order keeps its terms and is live again).
 *
 * State is kept per portfolio (te_book_pf_t), so the planner looks a portfolio up once
 * per target and then each ticker in that portfolio's own table.
 *
 * Finished orders are dropped, so the book does not grow with the length of a run. A
 * terminal order still matters while its target may be planned again (a target with
 * the same as_of — the only kind the planner plans again in one book — must find the
 * ids it sent, or it sends them twice), so the finished orders of a portfolio are
 * dropped when a target with a later as_of is recorded (te_book_set_last_as_of): after
 * that, no target before it can be planned in this book (an earlier as_of is either a
 * replay recognised from history or dead-lettered as going backwards), and a rebuild
 * starts a new book from the DB. Their ids are kept, oldest out first, in a bounded set
 * of tombstones: a late duplicate report of a dropped order is recognised as a
 * duplicate instead of being learned as a new order (which would book its fill twice),
 * and its id still counts as sent. The book therefore holds the live orders, the
 * finished orders of each portfolio's latest target, and at most the tombstone
 * capacity of ids (te_book_set_tombstones).
 */
#ifndef TE_BOOK_H
#define TE_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "te_msg.h"

/* Default tombstone capacity: ids of dropped orders remembered (about 150 bytes each). */
#define TE_BOOK_TOMBSTONES_DEFAULT 65536

typedef struct te_book_s te_book_t;
typedef struct te_book_pf_s te_book_pf_t;   /* one portfolio */
typedef struct te_book_pos_s te_book_pos_t; /* one (portfolio, ticker) */

typedef enum {
        TE_BOOK_APPLIED = 0,   /* state changed */
        TE_BOOK_DUPLICATE = 1, /* nothing new in it */
        TE_BOOK_IGNORED = 2,   /* control report (CLOCK_ACK, BROKER_STATE) */
        TE_BOOK_ILLEGAL = 3,   /* illegal transition: counted, not applied */
        TE_BOOK_ERROR = -1,    /* out of memory */
} te_book_result_t;

/* A live order as the planner sees it. */
typedef struct te_book_live_s {
        const char *order_id; /* owned by the book; valid until the book changes */
        te_side_t side;
        double remaining; /* > 0 */
        double cum;       /* filled so far (as reported) */
        int no_replace;   /* a REPLACE of it was refused: cancel it instead */
} te_book_live_t;

/** @returns a new empty book, or NULL on OOM. */
te_book_t *te_book_new(void);
void te_book_destroy(te_book_t *b); /* accepts NULL */

/** Set a position (used when loading from the DB). @returns 0 or -1 (OOM). */
int te_book_set_position(te_book_t *b, const char *portfolio_id, const char *ticker,
                         double qty);
/** Set a portfolio's cash balance (loaded from the DB). @returns 0 or -1 (OOM). */
int te_book_set_cash(te_book_t *b, const char *portfolio_id, double cash);
/** Record an order with its current state (loaded from the DB, read back from
 *  exec.orders, or just sent with status PENDING_NEW and cum 0). An order already
 *  known (or dropped, see the top) keeps its state. @returns 0 or -1 (OOM). */
int te_book_add_order(te_book_t *b, const char *order_id, const char *portfolio_id,
                      const char *ticker, te_side_t side, double qty, double cum_qty,
                      te_order_status_t status);
/** te_book_add_order that tells a new order from a known one (one lookup instead of
 *  te_book_has_order then te_book_add_order). @returns 0 when added, 1 when the book
 *  already knows `order_id` (nothing changed), -1 on OOM or an over-long id. */
int te_book_add_new_order(te_book_t *b, const char *order_id, const char *portfolio_id,
                          const char *ticker, te_side_t side, double qty, double cum_qty,
                          te_order_status_t status);
/** Note that a CANCEL or REPLACE (`command`; a REPLACE to a total of `new_qty`) was
 *  sent for `order_id` at `now_ms` (0: unknown, the clock starts at the next
 *  te_book_overdue): it is pending (see the top) until confirmed. A terminal order is
 *  left as it is. @returns 0, or -1 if the order is unknown. */
int te_book_mark_pending(te_book_t *b, const char *order_id, te_command_t command,
                         double new_qty, int64_t now_ms);
/** @returns 1 if the book knows `order_id` (sent, loaded or learned; or dropped when
 *  finished and still among the tombstones), else 0. */
int te_book_has_order(const te_book_t *b, const char *order_id);
/** Apply an execution report. A report of an order dropped when finished (still among
 *  the tombstones) is a TE_BOOK_DUPLICATE: nothing may follow a terminal state. */
te_book_result_t te_book_apply_report(te_book_t *b, const te_exec_report_t *r);

/** Mode (PRODUCTION/TRAINING) of a portfolio's orders, learned from its targets and
 *  reports; cancels the planner sends on its own carry it. */
te_mode_t te_book_mode(const te_book_t *b, const char *portfolio_id);
/** @returns 0 or -1 (OOM). */
int te_book_set_mode(te_book_t *b, const char *portfolio_id, te_mode_t mode);

/** Last as_of planned for a portfolio. @returns 1 and sets *as_of, or 0 if none. */
int te_book_last_as_of(const te_book_t *b, const char *portfolio_id, int64_t *as_of);
/** Remember the as_of of a target planned in this life. When it is later than the
 *  portfolio's last as_of, the portfolio's finished orders are dropped first (see the
 *  top). @returns 0 or -1 (OOM). */
int te_book_set_last_as_of(te_book_t *b, const char *portfolio_id, int64_t as_of);
/** Learn from history (DB, commands read back) that a target with `as_of` was planned
 *  before: the last as_of becomes the larger of both, marked learned. @returns 0/-1. */
int te_book_learn_as_of(te_book_t *b, const char *portfolio_id, int64_t as_of);
/** @returns 1 if the portfolio's last as_of was learned from history and no target has
 *  been planned since (a target before it is a replay, not an error), else 0. */
int te_book_as_of_learned(const te_book_t *b, const char *portfolio_id);

/** Call `fn` for every live order, of one portfolio or (portfolio_id NULL) of all,
 *  with the position of its ticker. `fn` must not change the book; collect first. */
void te_book_foreach_live(const te_book_t *b, const char *portfolio_id,
                          void (*fn)(const char *portfolio_id, const char *ticker,
                                     const te_book_live_t *o, double position,
                                     void *opaque),
                          void *opaque);

/* ---- fast read access for the planner ---- */

/** @returns the portfolio, or NULL if the book has nothing for it. */
const te_book_pf_t *te_book_portfolio(const te_book_t *b, const char *portfolio_id);
/** @returns the (portfolio, ticker) entry, or NULL (then position and open are 0). */
const te_book_pos_t *te_book_pf_find(const te_book_pf_t *pf, const char *ticker);
/** Cash (the DB balance moved by the fills seen since); 0 for NULL. */
double te_book_pf_cash(const te_book_pf_t *pf);
/** Entries of the portfolio that are held (position != 0) or have live or pending orders,
 * kept up to date by every change: a full_replace plan scans the book only when some of
 *  them are absent from its message. */
size_t te_book_pf_active(const te_book_pf_t *pf);
/** @returns 1 if the entry is held (position != 0) or has live or pending orders: what a
 *  full_replace target takes to zero when absent, and what te_book_pf_active counts. */
int te_book_pos_active(const te_book_pos_t *p);
double te_book_pos_qty(const te_book_pos_t *p);
double te_book_pos_open(const te_book_pos_t *p);
const char *te_book_pos_ticker(const te_book_pos_t *p);
/** Copy up to `cap` live orders of the entry into out. @returns how many it has
 *  (may exceed cap). */
size_t te_book_pos_live(const te_book_pos_t *p, te_book_live_t *out, size_t cap);
/** Iterate a portfolio's entries: start with *it = 0; @returns the next entry, or
 *  NULL at the end. */
const te_book_pos_t *te_book_pf_next(const te_book_pf_t *pf, size_t *it);

/** Pending orders of the entry; *buy and *sell (may be NULL) get the leaves that could
 *  still fill on each side (>= 0). */
size_t te_book_pos_pending(const te_book_pos_t *p, double *buy, double *sell);
/** Pending orders of a portfolio / of the whole book. */
size_t te_book_pf_pending(const te_book_pf_t *pf);
size_t te_book_pending_count(const te_book_t *b);
/** Call `fn` once for every pending order whose CANCEL or REPLACE has waited at least
 *  `timeout_ms` at `now_ms` for its confirmation (an order pending with no send time
 *  starts its clock here). Nothing to do when nothing is pending. @returns how many. */
size_t te_book_overdue(te_book_t *b, int64_t now_ms, int64_t timeout_ms,
                       void (*fn)(const char *portfolio_id, const char *ticker,
                                  const char *order_id, int is_replace, int64_t age_ms,
                                  void *opaque),
                       void *opaque);

/** Keep at most `cap` tombstones (0: none; the oldest go first). @returns 0 or -1
 *  (OOM; unchanged). */
int te_book_set_tombstones(te_book_t *b, size_t cap);

/** Counters: illegal transitions; orders held (live and finished, not dropped);
 *  tombstones held; orders dropped since creation. */
uint64_t te_book_illegal_count(const te_book_t *b);
size_t te_book_order_count(const te_book_t *b);
size_t te_book_tombstone_count(const te_book_t *b);
uint64_t te_book_dropped_count(const te_book_t *b);

#endif
