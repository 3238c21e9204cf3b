/*
 * fill_model: per-bar fill quantity and price (the rules are in fill_model.h).
 */
#include "fill_model.h"

#include <math.h>

double te_fill_round4(double v)
{
        return v < 0 ? -floor(-v * 10000.0 + 0.5) / 10000.0
                     : floor(v * 10000.0 + 0.5) / 10000.0;
}

/* Steps per unit when 1/inc is a whole number (divide by it: exact), else 0. */
static double steps_per_unit(double inc)
{
        double inv = 1.0 / inc, n = nearbyint(inv);
        return n >= 1 && fabs(inv - n) <= 1e-9 * inv ? n : 0;
}

double te_fill_round_to(double v, double inc)
{
        if (!(inc > 0) || !isfinite(v))
                return v;
        double n = steps_per_unit(inc), a = fabs(v);
        double r = n > 0 ? floor(a * n + 0.5) / n : floor(a / inc + 0.5) * inc;
        return v < 0 ? -r : r;
}

double te_fill_round_inside(double v, double inc, te_side_t side)
{
        if (!(inc > 0) || !isfinite(v))
                return v;
        double n = steps_per_unit(inc);
        /* a v already on the increment (within float noise) stays there */
        double k = n > 0 ? v * n : v / inc;
        double kk = side == TE_SIDE_BUY ? floor(k + 1e-7) : ceil(k - 1e-7);
        return n > 0 ? kk / n : kk * inc;
}

static double tick_of(const te_fill_cfg_t *c)
{
        return c->price_increment > 0 ? c->price_increment : 0.0001;
}

double te_fill_cap_qty(const te_fill_cfg_t *c, te_aggr_t aggr, double volume)
{
        if (!(volume > 0))
                return 0;
        double p =
            aggr == TE_AGGR_EMERGENCY ? c->emergency_participation : c->participation;
        double lot = c->lot > 0 ? c->lot : 1.0;
        /* the small epsilon keeps 2.5% of 40000 = 1000 from becoming 999.999... */
        return floor(p * volume / lot + 1e-9) * lot;
}

/* The price before rounding: ref moved against the order by slippage and impact. */
static double raw_price(const te_fill_cfg_t *c, te_side_t side, te_aggr_t aggr,
                        double ref, double qty, double volume)
{
        double share = volume > 0 ? qty / volume : 0;
        double bps =
            c->slippage_bps + (aggr == TE_AGGR_EMERGENCY ? c->emergency_cross_bps : 0);
        double move = bps / 10000.0 + c->impact_k * share * share;
        return side == TE_SIDE_BUY ? ref * (1.0 + move) : ref * (1.0 - move);
}

double te_fill_price(const te_fill_cfg_t *c, te_side_t side, te_aggr_t aggr, double ref,
                     double qty, double volume)
{
        return te_fill_round_to(raw_price(c, side, aggr, ref, qty, volume), tick_of(c));
}

double te_fill_commission_total(const te_fill_cfg_t *c, double cum_qty, double cum_value)
{
        if (!(cum_qty > 0))
                return 0;
        double v = cum_qty * c->commission_per_share;
        if (v < c->commission_min)
                v = c->commission_min;
        if (c->commission_max_frac > 0 && v > c->commission_max_frac * fabs(cum_value))
                v = c->commission_max_frac * fabs(cum_value);
        return te_fill_round4(v + c->commission_per_order);
}

/* "better than" for the order's side: a buy wants lower prices */
static int through(te_side_t side, double px, double limit)
{
        return side == TE_SIDE_BUY ? px < limit : px > limit;
}

static int touches(te_side_t side, double px, double limit)
{
        return side == TE_SIDE_BUY ? px <= limit : px >= limit;
}

/* Limit check for a reference price: strict (through), or touch for EMERGENCY. */
static int limit_ok(const te_fill_order_t *o, double px)
{
        return o->aggr == TE_AGGR_EMERGENCY ? touches(o->side, px, o->limit)
                                            : through(o->side, px, o->limit);
}

/* Best price of the bar's range for the order's side (low for a buy). */
static double best_of_range(te_side_t side, const te_bar_t *bar)
{
        return side == TE_SIDE_BUY ? bar->low : bar->high;
}

/* Does the stop trigger at price px (buy stop: px >= stop)? */
static int stop_hit(te_side_t side, double px, double stop)
{
        return side == TE_SIDE_BUY ? px >= stop : px <= stop;
}

static double stop_extreme(te_side_t side, const te_bar_t *bar)
{
        return side == TE_SIDE_BUY ? bar->high : bar->low;
}

/* Find the reference price, or return 0 when the order does not trade on this bar. */
static int reference(const te_fill_order_t *o, const te_bar_t *bar, te_bar_phase_t phase,
                     te_fill_t *out)
{
        int is_limit = o->type == TE_OT_LIMIT || o->type == TE_OT_STOP_LIMIT;
        int trig = o->triggered;
        out->triggered = trig;
        /* at-the-close-only orders and the close-only phase see a single price */
        if (phase == TE_PHASE_CLOSE_ONLY || o->tif == TE_TIF_CLS) {
                if (o->tif == TE_TIF_OPG)
                        return 0;
                double px = bar->close;
                if (o->type == TE_OT_STOP || o->type == TE_OT_STOP_LIMIT) {
                        if (!trig && !stop_hit(o->side, px, o->stop))
                                return 0;
                        out->triggered = 1;
                }
                if (is_limit && !limit_ok(o, px))
                        return 0;
                out->ref = px;
                return 1;
        }
        /* FULL bar: the open comes first */
        double open = bar->open;
        if (o->type == TE_OT_STOP || o->type == TE_OT_STOP_LIMIT) {
                if (!trig) {
                        if (stop_hit(o->side, open, o->stop)) {
                                trig = 1; /* gapped through: trades at the open */
                        } else if (o->tif != TE_TIF_OPG &&
                                   stop_hit(o->side, stop_extreme(o->side, bar),
                                            o->stop)) {
                                out->triggered = 1;
                                if (o->type == TE_OT_STOP_LIMIT && !limit_ok(o, o->stop))
                                        return 0;
                                out->ref = o->stop;
                                return 1;
                        } else {
                                return 0;
                        }
                }
                out->triggered = 1;
        }
        if (!is_limit) {
                out->ref = open;
                out->at_open = 1;
                return 1;
        }
        if (limit_ok(o, open)) {
                out->ref = open;
                out->at_open = 1;
                return 1;
        }
        if (o->tif == TE_TIF_OPG)
                return 0;
        if (limit_ok(o, best_of_range(o->side, bar))) {
                out->ref = o->limit;
                return 1;
        }
        return 0;
}

void te_fill_bar(const te_fill_cfg_t *c, const te_fill_order_t *o, const te_bar_t *bar,
                 te_bar_phase_t phase, te_fill_t *out)
{
        *out = (te_fill_t){0};
        out->triggered = o->triggered;
        if (!(o->leaves > 0) || !(bar->volume > 0))
                return;
        if (!reference(o, bar, phase, out))
                return;
        double cap = te_fill_cap_qty(c, o->aggr, bar->volume);
        double q = o->leaves < cap ? o->leaves : cap;
        if (o->tif == TE_TIF_FOK && q < o->leaves) {
                out->refused = 1;
                return;
        }
        if (!(q > 0))
                return;
        double tick = tick_of(c);
        double px = te_fill_round_to(
            raw_price(c, o->side, o->aggr, out->ref, q, bar->volume), tick);
        if (o->type == TE_OT_LIMIT || o->type == TE_OT_STOP_LIMIT) {
                /* capped at the limit, on the increment on the limit's good side */
                if ((o->side == TE_SIDE_BUY && px > o->limit) ||
                    (o->side == TE_SIDE_SELL && px < o->limit))
                        px = te_fill_round_inside(o->limit, tick, o->side);
        }
        out->qty = q;
        out->price = px;
}
