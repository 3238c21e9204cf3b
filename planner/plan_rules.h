/*
 * plan_rules: sizing and order-shape rules per strategy and per instrument.
 *
 * A rule says how to size and shape the orders of one (strategy, ticker): lot size,
 * minimum quantity and notional, maximum quantity and notional of one order (larger
 * deltas are split into child orders), whether fractional quantities are allowed, and
 * the order type, TIF and price offsets. The planner's config gives the base rule; a
 * rules file (planner config key plan.rules.file) overrides it field by field:
 *
 *     # <strategy|*> <ticker|*> key=value ...
 *     *      *      lot_size=1 min_qty=1
 *     mom-1  *      order_type=LIMIT tif=GTC limit_offset_bps=5
 *     *      BRK.A  max_qty=10
 *     mom-1  SPY    fractional=true lot_size=0.001
 *     universe AAA BBB CCC        (tickers the planner accepts; none = any)
 *
 * Precedence, lowest first: base, (* *), (strategy *), (* ticker), (strategy ticker).
 * Keys, named as the planner's plan.* config keys: lot_size, min_qty, min_notional,
 * max_qty, max_notional (0 = no maximum), fractional, order_type (MARKET LIMIT STOP
 * STOP_LIMIT), tif (DAY GTC IOC FOK OPG CLS), limit_offset_bps, stop_offset_bps. The
 * old spelling `lot` is refused with a message naming lot_size.
 *
 * At start-up (te_plan_rules_check) every line is checked as it applies on top of the
 * base rule and the lines below it in precedence: a rule that can never produce an order
 * (max_qty below one lot or below min_qty, min_notional above max_notional, a fractional
 * lot without fractional quantities) is refused as "file:line: key: why".
 */
#ifndef TE_PLAN_RULES_H
#define TE_PLAN_RULES_H

#include <stddef.h>

#include "te_msg.h"

typedef struct te_plan_rules_rule_s {
        double lot_size;     /* > 0; quantities round toward zero to a multiple */
        double min_qty;      /* orders below are dropped (closing orders never are) */
        double min_notional; /* orders below are dropped (needs a price) */
        double max_qty;      /* > 0: larger orders split into children; 0: no limit */
        double max_notional; /* > 0: same by notional (needs a price); 0: no limit */
        int fractional;      /* 0: quantities are whole numbers (lot at least 1) */
        te_order_type_t order_type;
        te_tif_t tif;
        double limit_offset_bps; /* LIMIT/STOP_LIMIT: buy above, sell below the price */
        double stop_offset_bps;  /* STOP/STOP_LIMIT: buy stop above, sell stop below */
} te_plan_rules_rule_t;

typedef struct te_plan_rules_s te_plan_rules_t;

/** @returns an empty rule set, or NULL on OOM. */
te_plan_rules_t *te_plan_rules_new(void);
void te_plan_rules_destroy(te_plan_rules_t *r); /* accepts NULL */

/** Parse one line of the rules format; `where` ("file:12") prefixes errors.
 *  @returns 0, or -1 with errstr "where: key: why". */
int te_plan_rules_parse_line(te_plan_rules_t *r, const char *line, const char *where,
                             char *errstr, size_t errsz);
/** Read a rules file. @returns 0, or -1 with errstr "path:line: key: why". */
int te_plan_rules_load(te_plan_rules_t *r, const char *path, char *errstr, size_t errsz);

/** Check a rule is usable: lot_size > 0, a whole lot when not fractional, and it can
 *  produce an order (max_qty at least one lot and min_qty, min_notional at most
 *  max_notional). @returns 0, or -1 with errstr "key: why". */
int te_plan_rules_check_rule(const te_plan_rules_rule_t *rule, char *errstr,
                             size_t errsz);
/** Check every rule in `r` as it applies over `base` (each line's own (strategy,
 *  ticker), and each (strategy *) line with each (* ticker) line).
 *  @returns 0, or -1 with errstr "file:line: key: why" naming the line. */
int te_plan_rules_check(const te_plan_rules_t *r, const te_plan_rules_rule_t *base,
                        char *errstr, size_t errsz);

/** The rule for a strategy (every ticker without its own rule): base overridden by
 *  (* *) and (strategy *). r may be NULL. */
void te_plan_rules_strategy(const te_plan_rules_t *r, const te_plan_rules_rule_t *base,
                            const char *strategy_id, te_plan_rules_rule_t *out);
/** 1 if some rule names a ticker (then te_plan_rules_ticker must be asked). */
int te_plan_rules_has_tickers(const te_plan_rules_t *r);
/** The rule for (strategy, ticker) on top of the strategy rule `srule`. */
void te_plan_rules_ticker(const te_plan_rules_t *r, const te_plan_rules_rule_t *srule,
                          const char *strategy_id, const char *ticker,
                          te_plan_rules_rule_t *out);
/** @returns 1 if the rules list a universe and `ticker` is not in it, else 0. */
int te_plan_rules_unknown(const te_plan_rules_t *r, const char *ticker);

#endif
