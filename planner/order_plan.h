/*
 * order_plan: from a target portfolio and the book to the commands that move the
 * portfolio there (docs/DESIGN.md "The planner"). Pure: no Kafka, no DB, no clock.
 *
 *   current = position + remaining quantity of live orders
 *   delta   = target - current
 *
 * Targets: quantities as they are; weights convert with NAV (the message's, else
 * capital + cash + sum of position x price) and a reference price (the message's,
 * else the environment's price source). full_replace: held tickers absent from the
 * message go to zero.
 *
 * Live orders: if the residual target - current rounds to nothing, the orders working
 * on a ticker are kept and nothing is sent; otherwise the ticker's live orders are
 * cancelled (or, with cfg.replace, its one live order is replaced so that position +
 * its new leaves = target, when that is one order of the same side that does not cross
 * zero and was never refused a REPLACE) and no NEW goes out for the ticker in this plan.
 * A ticker with a CANCEL or REPLACE unconfirmed (pending, book.h) gets no NEW either.
 * Such tickers are *deferred* (te_order_plan_deferred): the order could still fill until
 * the broker confirms, so the caller plans the same target again once the portfolio has
 * nothing pending, from the confirmed position. Hence no NEW is ever sized while
 * something of its ticker could still fill unseen, and position + everything that could
 * fill stays within max(what could already fill, target) (docs/DESIGN.md invariant 9).
 *
 * Sizing per (strategy, ticker) rule (plan_rules.h): the delta rounds toward zero to
 * the lot; below the minimum quantity or notional nothing is sent (a close to zero is
 * never dropped); orders above the maximum quantity or notional split into child
 * orders. A move through zero is a CLOSE of the whole position, then an OPEN.
 * Output order: CANCELs, then sells, then buys, each by ticker, then by leg. Every NEW
 * has order_id "o" + digest(decision, portfolio, ticker, leg) (te_ids.h), legs counted
 * per ticker from 0 in output order, so re-planning a target gives the same ids.
 *
 * Execution level (exec.mode): NORMAL plans as above; REDUCE_ONLY clamps each target
 * so |position| can only shrink; EMERGENCY cancels every live order of the portfolio
 * and trades toward target with MARKET orders marked EMERGENCY (no minimum size) on the
 * tickers with nothing live or pending (the others are deferred until the cancels are
 * confirmed); HALT cancels every live order of the portfolio and sends nothing new.
 */
#ifndef TE_ORDER_PLAN_H
#define TE_ORDER_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "book.h"
#include "plan_rules.h"
#include "te_msg.h"

/* The order planner's settings; their defaults are exec-planner's (plan.*:
 * planner_conf.c; te_order_plan_cfg_defaults of planner_conf.h). */
typedef struct te_order_plan_cfg_s {
        /* base rule (overridden per strategy/instrument by `rules`) */
        double lot_size;
        double min_qty;
        double min_notional;
        double max_qty;      /* 0: no maximum */
        double max_notional; /* 0: no maximum */
        int fractional;
        te_order_type_t order_type;
        te_tif_t tif;
        double limit_offset_bps;
        double stop_offset_bps;
        /* portfolio-wide */
        int allow_short;           /* 0: negative targets are invalid */
        double max_gross_leverage; /* > 0: sum |weight| (or |q x price| / NAV) above it is
                                      invalid; 0: no limit */
        double capital;            /* added to cash when NAV comes from the book */
        char route[TE_NAME_MAX];
        int replace; /* 1: a live order that no longer fits is replaced when it can be,
                        instead of cancelled (the adapter supports REPLACE) */
        const te_plan_rules_t *rules; /* may be NULL; not owned */
} te_order_plan_cfg_t;

/* Where the planner gets what the message does not carry. */
typedef struct te_order_plan_env_s {
        te_level_t level;
        /* reference price of `ticker` at or before as_of: 1 and *px, or 0 if none */
        int (*price)(void *opaque, const char *ticker, int64_t as_of, double *px);
        /* 1 if the market data knows `ticker` at all (NULL: every ticker is known) */
        int (*known)(void *opaque, const char *ticker);
        void *opaque;
        /* first leg number of each ticker (0 normally; a re-plan of a target already
         * planned, e.g. under EMERGENCY, starts elsewhere so its ids are new) */
        int leg_base;
} te_order_plan_env_t;

typedef enum {
        TE_ORDER_PLAN_OK = 0,
        TE_ORDER_PLAN_E_VALUE = -1,     /* non-finite value or ref_price, bad nav */
        TE_ORDER_PLAN_E_SHORT = -2,     /* negative target, shorting not allowed */
        TE_ORDER_PLAN_E_DUPLICATE = -3, /* a ticker twice in one message */
        TE_ORDER_PLAN_E_UNKNOWN = -4,   /* ticker not in the universe / market data */
        TE_ORDER_PLAN_E_LEVERAGE = -5,  /* gross leverage above the limit */
        TE_ORDER_PLAN_E_STALE = -6,     /* as_of before the last planned as_of */
        TE_ORDER_PLAN_E_NO_PRICE = -7,  /* a price is needed and none is known */
        TE_ORDER_PLAN_E_NO_NAV = -8,    /* weights without a positive NAV */
        TE_ORDER_PLAN_E_SIZING = -9,    /* a rule cannot size the order */
        TE_ORDER_PLAN_E_TOO_MANY = -10, /* more orders than the limit */
        TE_ORDER_PLAN_E_NOMEM = -11,
} te_order_plan_err_t;

/** Stable code for dead letters and alerts ("invalid_value", "duplicate_ticker", ...). */
const char *te_order_plan_err_code(te_order_plan_err_t e);

/* A reusable workspace: scratch arrays and the output commands, grown as needed so a
 * steady stream of targets allocates nothing. */
typedef struct te_order_plan_ws_s te_order_plan_ws_t;
/** @returns a workspace, or NULL on OOM. */
te_order_plan_ws_t *te_order_plan_ws_new(size_t max_orders);
void te_order_plan_ws_destroy(te_order_plan_ws_t *ws); /* accepts NULL */

/** Plan `tp` against `book` under `env` (NULL: NORMAL, no price source). On success
 *  *out points at *n_out commands owned by `ws` (valid until the next call). Does not
 *  change the book: the caller records what it sends (te_book_add_order,
 *  te_book_mark_pending, te_book_set_last_as_of).
 *  @returns TE_ORDER_PLAN_OK, or a te_order_plan_err_t with errstr; nothing is planned
 * then. */
te_order_plan_err_t
te_order_plan_run(te_order_plan_ws_t *ws, const te_order_plan_cfg_t *cfg,
                  const te_order_plan_env_t *env, const te_book_t *book,
                  const te_target_portfolio_t *tp, const te_order_cmd_t **out,
                  size_t *n_out, char *errstr, size_t errsz);

/** Tickers of the last te_order_plan_run left without new orders because a CANCEL or
 *  REPLACE of theirs is unconfirmed (sent now or before): plan the target again once
 *  the portfolio has nothing pending (te_book_pf_pending). */
size_t te_order_plan_deferred(const te_order_plan_ws_t *ws);
/** The plan.* sizing settings of `cfg` as a rule: the base the rules file builds on. */
te_plan_rules_rule_t te_order_plan_base_rule(const te_order_plan_cfg_t *cfg);

/** Commands that put a portfolio (or, with portfolio_id NULL, every portfolio) in line
 *  with a new execution level at once: HALT and EMERGENCY cancel every live order,
 *  REDUCE_ONLY cancels live orders that would grow |position|, NORMAL nothing.
 *  `level_of` gives each portfolio's level. Commands are owned by ws.
 *  @returns TE_ORDER_PLAN_OK or TE_ORDER_PLAN_E_NOMEM / TE_ORDER_PLAN_E_TOO_MANY. */
te_order_plan_err_t te_order_plan_mode_cancels(
    te_order_plan_ws_t *ws, const te_book_t *book, const char *portfolio_id,
    te_level_t (*level_of)(void *opaque, const char *portfolio_id), void *opaque,
    int64_t event_time, const char *route, const te_order_cmd_t **out, size_t *n_out);

/** Round |q| toward zero to a multiple of `lot`, keeping the sign. Values within 1e-9
 *  lots of the next multiple count as that multiple (floating-point noise). */
double te_order_plan_round_lot(double q, double lot);

#endif
