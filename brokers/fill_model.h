/*
 * fill_model: how much of an order a daily bar fills, and at what price — pure
 * functions, no state, no clock, so every rule is unit-tested by hand.
 *
 * One call evaluates one order against one bar. The simulator (broker_sim.c) keeps
 * the order's state (leaves, stop triggered, TIF) and calls this once per bar.
 *
 * Bar phases:
 *   TE_PHASE_CLOSE_ONLY  the order arrives at the bar's close (market.at = close, the
 *                        bar of the order's event time): only the close price exists.
 *   TE_PHASE_FULL        a bar after the order arrived: open first, then the range.
 *
 * Rules (buy side; sells mirror them):
 *   MARKET      fills at the reference price: the close (CLOSE_ONLY) or the open (FULL).
 *   LIMIT       fills only when the bar trades THROUGH the limit: open < limit fills at
 *               the open; else low < limit fills at the limit; low == limit (touched)
 *               fills nothing. CLOSE_ONLY: close < limit. The price is never worse than
 *               the limit (slippage and impact are capped at the limit).
 *   STOP        triggers when the open or the high reaches the stop; a gap (open >=
 *               stop) fills at the open, otherwise at the stop; then like MARKET.
 *   STOP_LIMIT  triggers like STOP; after the trigger it is a LIMIT whose first
 *               reference is the trigger price (fills when that is below the limit).
 *   TIF OPG     only the open of a FULL bar; CLS only the close (either phase).
 *   EMERGENCY   participation cap `emergency_participation`, `emergency_cross_bps`
 *               more slippage, and a LIMIT fills when touched (it crosses).
 * Quantity: min(leaves, floor(cap × volume / lot) × lot); nothing on a bar without
 * volume. FOK: when that is less than leaves, nothing fills and `refused` is set.
 * Price: ref × (1 ± (slippage_bps + cross)/1e4 ± k × share²), share = qty / volume,
 * rounded to price_increment (the instrument's, default 0.0001) half away from zero, then
 * capped at the limit for limit orders (a limit off the increment caps at the increment
 * inside it: a buy's rounded down, a sell's up), so every fill price is a multiple of the
 * increment. Commission for an order with cumulative quantity Q and value V: per_order +
 * clamp(Q × per_share, min, max_pct × V)  (max wins over min, as IB's fixed pricing caps
 * a small order at 1% of its value); 0 while Q = 0. Each fill is charged the increase of
 * that total, so min/max apply per order across partials.
 */
#ifndef TE_FILL_MODEL_H
#define TE_FILL_MODEL_H

#include "bars.h"
#include "te_msg.h"

typedef enum { TE_MKT_AT_CLOSE = 0, TE_MKT_AT_NEXT_OPEN = 1 } te_mkt_at_t;

/* The fill model's settings; their defaults are exec-broker's (sim.*, broker_conf.c). */
typedef struct te_fill_cfg_s {
        te_mkt_at_t market_at;          /* MARKET reference: the event-time close or the
                                         * next open */
        double participation;           /* share of bar volume one order fills */
        double emergency_participation; /* the same for EMERGENCY */
        double slippage_bps;
        double emergency_cross_bps; /* EMERGENCY's extra slippage */
        double impact_k;            /* square-law impact: k x share^2 */
        double lot;                 /* quantities are multiples */
        double commission_per_share;
        double commission_min;       /* per order */
        double commission_max_frac;  /* of order value; 0 off */
        double commission_per_order; /* fixed part */
        double price_increment;      /* fill prices are multiples (the simulator sets
                                      * the instrument's own) */
} te_fill_cfg_t;

typedef enum { TE_PHASE_CLOSE_ONLY = 0, TE_PHASE_FULL = 1 } te_bar_phase_t;

/* The part of an order the model looks at. */
typedef struct te_fill_order_s {
        te_side_t side;
        te_order_type_t type;
        te_tif_t tif;
        te_aggr_t aggr;
        double leaves; /* > 0 */
        double limit;  /* LIMIT, STOP_LIMIT */
        double stop;   /* STOP, STOP_LIMIT */
        int triggered; /* a stop that already triggered on an earlier bar */
} te_fill_order_t;

typedef struct te_fill_s {
        double qty;    /* 0: nothing on this bar */
        double price;  /* rounded, valid when qty > 0 */
        double ref;    /* price before slippage and impact */
        int triggered; /* the stop has triggered (on this bar or before) */
        int refused;   /* FOK that could not fill in full on this bar */
        int at_open;   /* the fill happened at the open (else later in the bar) */
} te_fill_t;

/** Evaluate `o` against `bar`. Always succeeds; out->qty = 0 means no fill. */
void te_fill_bar(const te_fill_cfg_t *c, const te_fill_order_t *o, const te_bar_t *bar,
                 te_bar_phase_t phase, te_fill_t *out);

/** Largest quantity the bar allows for this aggressiveness (a multiple of lot). */
double te_fill_cap_qty(const te_fill_cfg_t *c, te_aggr_t aggr, double volume);

/** Price after slippage and impact for `qty` of `volume` at `ref`, rounded. */
double te_fill_price(const te_fill_cfg_t *c, te_side_t side, te_aggr_t aggr, double ref,
                     double qty, double volume);

/** Total commission of an order with cumulative quantity `cum_qty` and value
 *  `cum_value` (0 when cum_qty is 0), rounded to 0.0001. */
double te_fill_commission_total(const te_fill_cfg_t *c, double cum_qty, double cum_value);

/** Round to 4 decimals, half away from zero. */
double te_fill_round4(double v);
/** Round v to a multiple of `inc` (> 0; else v unchanged), half away from zero. When
 *  1/inc is a whole number (0.01, 0.0001, ...) the result is k / (1/inc), the double
 *  nearest the decimal, so it prints as such (10.0506, not 10.050600000000001). */
double te_fill_round_to(double v, double inc);
/** The multiple of `inc` nearest to v on the side of a limit that a `side` order may
 *  take (BUY: at or below v; SELL: at or above). v > 0. */
double te_fill_round_inside(double v, double inc, te_side_t side);

#endif
