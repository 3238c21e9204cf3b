/*
 * order_plan: target-minus-current planning with per-instrument sizing rules,
 * cancel or replace (then wait for the broker) for live orders that no longer fit,
 * child-order splitting,
 * zero-crossing legs, execution levels, and a deterministic order of output.
 */
#include "order_plan.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_ids.h"

#define LIVE_SCRATCH 64

/* One ticker to plan. */
typedef struct want_s {
        const char *ticker; /* in the message or the book; outlives the call */
        const te_book_pos_t *pos;
        double value;  /* as in the message (weight or quantity); 0 when absent */
        double target; /* quantity */
        int has_price;
        double price;
        int absent; /* full_replace: held but not in the message */
        /* decision */
        int cancel;  /* cancel every live order of the ticker first */
        int replace; /* replace its one live order: total replace_qty */
        double replace_qty;
        int n_legs; /* 0, 1 or 2 */
        double leg_qty[2];
        te_intent_t leg_intent[2];
        te_side_t side;
        const te_plan_rules_rule_t *rule; /* the strategy's, or ws->rules[i] per ticker */
} want_t;

struct te_order_plan_ws_s {
        want_t *wants;
        size_t cap_wants;
        te_plan_rules_rule_t *rules; /* per-ticker rules, when the rule set has any */
        size_t cap_rules;
        te_order_cmd_t *out;
        size_t n_out, cap_out, max_out;
        te_book_live_t *live;
        size_t cap_live;
        size_t n_deferred;        /* tickers left for when confirmations arrive */
        te_id_prefix_t id_prefix; /* the plan's decision_id and portfolio_id, hashed */
        te_order_cmd_t tmpl;      /* the plan's common fields (fill_common), else zero */
};

const char *te_order_plan_err_code(te_order_plan_err_t e)
{
        switch (e) {
        case TE_ORDER_PLAN_OK:
                return "ok";
        case TE_ORDER_PLAN_E_VALUE:
                return "invalid_value";
        case TE_ORDER_PLAN_E_SHORT:
                return "short_not_allowed";
        case TE_ORDER_PLAN_E_DUPLICATE:
                return "duplicate_ticker";
        case TE_ORDER_PLAN_E_UNKNOWN:
                return "unknown_ticker";
        case TE_ORDER_PLAN_E_LEVERAGE:
                return "leverage_limit";
        case TE_ORDER_PLAN_E_STALE:
                return "as_of_backwards";
        case TE_ORDER_PLAN_E_NO_PRICE:
                return "no_price";
        case TE_ORDER_PLAN_E_NO_NAV:
                return "no_nav";
        case TE_ORDER_PLAN_E_SIZING:
                return "sizing";
        case TE_ORDER_PLAN_E_TOO_MANY:
                return "too_many_orders";
        case TE_ORDER_PLAN_E_NOMEM:
                return "out_of_memory";
        }
        return "invalid_target";
}

double te_order_plan_round_lot(double q, double lot)
{
        double lots = lot == 1.0 ? fabs(q) : fabs(q) / lot; /* whole units: no divide */
        double whole = floor(lots + 1e-9);
        double r = whole * lot;
        return q < 0 ? -r : r;
}

te_order_plan_ws_t *te_order_plan_ws_new(size_t max_orders)
{
        te_order_plan_ws_t *ws = calloc(1, sizeof *ws);
        if (!ws)
                return NULL;
        ws->max_out = max_orders ? max_orders : 1;
        ws->cap_live = LIVE_SCRATCH;
        ws->live = malloc(ws->cap_live * sizeof *ws->live);
        if (!ws->live) {
                free(ws);
                return NULL;
        }
        return ws;
}

void te_order_plan_ws_destroy(te_order_plan_ws_t *ws)
{
        if (!ws)
                return;
        free(ws->wants);
        free(ws->out);
        free(ws->live);
        free(ws->rules);
        free(ws);
}

static int grow_rules(te_order_plan_ws_t *ws, size_t need)
{
        if (need <= ws->cap_rules)
                return 0;
        te_plan_rules_rule_t *nr = realloc(ws->rules, need * sizeof *nr);
        if (!nr)
                return -1;
        ws->rules = nr;
        ws->cap_rules = need;
        return 0;
}

/* @returns an uninitialised command slot, or NULL (errors set in *err) */
static te_order_cmd_t *push_slot(te_order_plan_ws_t *ws, te_order_plan_err_t *err)
{
        if (ws->n_out == ws->cap_out) {
                if (ws->n_out >= ws->max_out) {
                        *err = TE_ORDER_PLAN_E_TOO_MANY;
                        return NULL;
                }
                size_t ncap = ws->cap_out ? ws->cap_out * 2 : 64;
                if (ncap > ws->max_out)
                        ncap = ws->max_out;
                te_order_cmd_t *no = realloc(ws->out, ncap * sizeof *no);
                if (!no) {
                        *err = TE_ORDER_PLAN_E_NOMEM;
                        return NULL;
                }
                ws->out = no;
                ws->cap_out = ncap;
        }
        return &ws->out[ws->n_out++];
}

/* @returns a zeroed command slot, or NULL (errors set in *err) */
static te_order_cmd_t *push_out(te_order_plan_ws_t *ws, te_order_plan_err_t *err)
{
        te_order_cmd_t *o = push_slot(ws, err);
        if (o)
                memset(o, 0, sizeof *o);
        return o;
}

/* Live orders of an entry into ws->live. @returns the count, or (size_t)-1 on OOM. */
static size_t get_live(te_order_plan_ws_t *ws, const te_book_pos_t *p)
{
        size_t n = te_book_pos_live(p, ws->live, ws->cap_live);
        if (n > ws->cap_live) {
                te_book_live_t *nl = realloc(ws->live, n * sizeof *nl);
                if (!nl)
                        return (size_t)-1;
                ws->live = nl;
                ws->cap_live = n;
                n = te_book_pos_live(p, ws->live, ws->cap_live);
        }
        return n;
}

static int cmp_want(const void *a, const void *b)
{
        return strcmp(((const want_t *)a)->ticker, ((const want_t *)b)->ticker);
}

static const want_t *find_want(const want_t *w, size_t n, const char *ticker)
{
        want_t key;
        key.ticker = ticker;
        return bsearch(&key, w, n, sizeof *w, cmp_want);
}

/* Whole-unit instruments trade in lots of at least 1. */
static double eff_lot(const te_plan_rules_rule_t *r)
{
        return r->fractional ? r->lot_size : fmax(1.0, r->lot_size);
}

/* Size an opening/adjusting quantity: round to the lot, drop below the minimums
 * (not in an emergency). @returns the quantity, 0 when nothing is to be sent. */
static double size_qty(const te_plan_rules_rule_t *r, const want_t *w, double q,
                       int emergency)
{
        double s = fabs(te_order_plan_round_lot(q, eff_lot(r)));
        if (s <= 0)
                return 0;
        if (emergency)
                return s;
        if (s < r->min_qty)
                return 0;
        if (r->min_notional > 0 && w->has_price && s * w->price < r->min_notional)
                return 0;
        return s;
}

/* Decide the legs that move `current` to `target` into w. */
static void decide(want_t *w, double current, double target, int emergency)
{
        const te_plan_rules_rule_t *r = w->rule;
        double delta = target - current;
        w->n_legs = 0;
        if (delta == 0)
                return;
        w->side = delta > 0 ? TE_SIDE_BUY : TE_SIDE_SELL;
        if (current != 0 && target != 0 && (current > 0) != (target > 0)) {
                /* through zero: close all of current, then open the target */
                w->leg_qty[0] = fabs(current);
                w->leg_intent[0] = TE_INTENT_CLOSE;
                w->n_legs = 1;
                double open_qty = size_qty(r, w, target, emergency);
                if (open_qty > 0) {
                        w->leg_qty[1] = open_qty;
                        w->leg_intent[1] = TE_INTENT_OPEN;
                        w->n_legs = 2;
                }
                return;
        }
        if (target == 0) {
                /* closing is never dropped for size */
                w->leg_qty[0] = fabs(current);
                w->leg_intent[0] = TE_INTENT_CLOSE;
                w->n_legs = 1;
                return;
        }
        double qty = size_qty(r, w, delta, emergency);
        if (qty <= 0)
                return;
        w->leg_qty[0] = qty;
        w->leg_intent[0] = current == 0                   ? TE_INTENT_OPEN
                           : fabs(target) > fabs(current) ? TE_INTENT_INCREASE
                                                          : TE_INTENT_REDUCE;
        w->n_legs = 1;
}

/* REDUCE_ONLY: the target |position| may only shrink toward, never past, zero. */
static double clamp_reduce(double position, double target)
{
        if (position == 0)
                return 0;
        if ((position > 0) != (target > 0) || target == 0)
                return 0;
        return fabs(target) < fabs(position) ? target : position;
}

static void fill_common(te_order_cmd_t *o, const te_target_portfolio_t *tp,
                        const char *route, const char *ticker)
{
        o->ids = tp->ids;
        te_strlcpy(o->ticker, ticker, sizeof o->ticker);
        o->mode = tp->mode;
        te_strlcpy(o->route, route, sizeof o->route);
        o->event_time = tp->as_of;
}

/* New orders (children past the size limits) for one leg; the plan's common fields
 * come from ws->tmpl. */
static te_order_plan_err_t emit_new(te_order_plan_ws_t *ws, const want_t *w, double qty,
                                    te_intent_t intent, int *leg, int emergency,
                                    char *errstr, size_t errsz)
{
        const te_plan_rules_rule_t *r = w->rule;
        te_order_type_t type = emergency ? TE_OT_MARKET : r->order_type;
        double child = 0; /* largest child quantity, 0: no split */
        if (r->max_qty > 0)
                child = r->max_qty;
        if (r->max_notional > 0) {
                if (!w->has_price) {
                        snprintf(errstr, errsz, "%s: max_notional needs a price",
                                 w->ticker);
                        return TE_ORDER_PLAN_E_NO_PRICE;
                }
                double c = r->max_notional / w->price;
                child = child > 0 ? fmin(child, c) : c;
        }
        if (child > 0) {
                child = fabs(te_order_plan_round_lot(child, eff_lot(r)));
                if (child <= 0) {
                        snprintf(errstr, errsz,
                                 "%s: max order size is below one lot of %g", w->ticker,
                                 eff_lot(r));
                        return TE_ORDER_PLAN_E_SIZING;
                }
        }
        /* a quantity or notional past the bounds (an overflow of weight x nav / price,
         * a position rebuilt out of range) is the target's fault: refused here, before
         * the split below loops on it */
        if (!(qty <= TE_QTY_MAX) ||
            (w->has_price && !(qty * w->price <= TE_NOTIONAL_MAX))) {
                snprintf(errstr, errsz,
                         "%s: order quantity %g (notional %g) out of range (max %g, %g)",
                         w->ticker, qty, w->has_price ? qty * w->price : 0.0,
                         (double)TE_QTY_MAX, (double)TE_NOTIONAL_MAX);
                return TE_ORDER_PLAN_E_VALUE;
        }
        if (type != TE_OT_MARKET && !w->has_price) {
                snprintf(errstr, errsz, "%s: %s order needs a reference price", w->ticker,
                         te_order_type_name(type));
                return TE_ORDER_PLAN_E_NO_PRICE;
        }
        double left = qty;
        while (left > 1e-12) {
                double q = (child > 0 && left > child + 1e-9 * child) ? child : left;
                te_order_plan_err_t err = TE_ORDER_PLAN_OK;
                te_order_cmd_t *o = push_slot(ws, &err);
                if (!o) {
                        snprintf(errstr, errsz, "%s", te_order_plan_err_code(err));
                        return err;
                }
                *o = ws->tmpl; /* one copy instead of zeroing, then fill_common */
                o->command = TE_CMD_NEW;
                te_id_order_from(o->order_id, sizeof o->order_id, &ws->id_prefix,
                                 w->ticker, (*leg)++);
                te_strlcpy(o->ticker, w->ticker, sizeof o->ticker);
                o->side = w->side;
                o->quantity = q;
                o->order_type = type;
                o->tif = emergency ? TE_TIF_DAY : r->tif;
                o->aggressiveness = emergency ? TE_AGGR_EMERGENCY : TE_AGGR_NORMAL;
                o->intent = intent;
                if (w->has_price) {
                        int buy = w->side == TE_SIDE_BUY;
                        o->has_ref_price = 1;
                        o->ref_price = w->price;
                        if (type == TE_OT_LIMIT || type == TE_OT_STOP_LIMIT) {
                                double off = r->limit_offset_bps / 10000.0;
                                o->has_limit_price = 1;
                                o->limit_price =
                                    buy ? w->price * (1.0 + off) : w->price * (1.0 - off);
                        }
                        if (type == TE_OT_STOP || type == TE_OT_STOP_LIMIT) {
                                double off = r->stop_offset_bps / 10000.0;
                                o->has_stop_price = 1;
                                o->stop_price =
                                    buy ? w->price * (1.0 + off) : w->price * (1.0 - off);
                        }
                }
                left -= q;
        }
        return TE_ORDER_PLAN_OK;
}

static te_order_plan_err_t emit_cancel(te_order_plan_ws_t *ws,
                                       const te_target_portfolio_t *tp, const char *route,
                                       const char *ticker, const te_book_live_t *l)
{
        te_order_plan_err_t err = TE_ORDER_PLAN_OK;
        te_order_cmd_t *o = push_out(ws, &err);
        if (!o)
                return err;
        o->command = TE_CMD_CANCEL;
        te_strlcpy(o->order_id, l->order_id, sizeof o->order_id);
        fill_common(o, tp, route, ticker);
        o->side = l->side;
        o->quantity = l->remaining;
        o->order_type = TE_OT_MARKET;
        return TE_ORDER_PLAN_OK;
}

/* REPLACE the live order `l` of w's ticker with a total of w->replace_qty, on the terms
 * a new order of the rule would get (type, TIF, limit/stop from the reference price). */
static te_order_plan_err_t emit_replace(te_order_plan_ws_t *ws, const want_t *w,
                                        const te_book_live_t *l)
{
        char errstr[8];
        int leg = 0;
        size_t at = ws->n_out;
        want_t one = *w;
        one.side = l->side;
        te_plan_rules_rule_t r = *w->rule;
        r.max_qty = r.max_notional = 0; /* one command, checked by the caller */
        one.rule = &r;
        te_order_plan_err_t err = emit_new(ws, &one, w->replace_qty, TE_INTENT_OPEN, &leg,
                                           0, errstr, sizeof errstr);
        if (err != TE_ORDER_PLAN_OK)
                return err;
        te_order_cmd_t *o = &ws->out[at];
        o->command = TE_CMD_REPLACE;
        te_strlcpy(o->order_id, l->order_id, sizeof o->order_id);
        return TE_ORDER_PLAN_OK;
}

/* Whether the one live order `l` of w's ticker can be replaced so that position + its
 * new leaves = target: same side, no move through zero, the new leaves a sendable size
 * in one order, and no earlier refusal. Sets w->replace_qty (the new total). */
static int can_replace(want_t *w, const te_book_live_t *l, double pos, double target)
{
        const te_plan_rules_rule_t *r = w->rule;
        double need = target - pos;
        if (l->no_replace || need == 0 || (need > 0) != (l->side == TE_SIDE_BUY))
                return 0;
        if (pos != 0 && target != 0 && (pos > 0) != (target > 0))
                return 0;
        double leaves = size_qty(r, w, need, 0);
        if (leaves <= 0 || (r->max_qty > 0 && leaves > r->max_qty + 1e-9))
                return 0;
        if (r->max_notional > 0 && (!w->has_price || leaves * w->price > r->max_notional))
                return 0;
        if (r->order_type != TE_OT_MARKET && !w->has_price)
                return 0;
        w->replace_qty = l->cum + leaves;
        return 1;
}

/* Cancel every live order of the portfolio (HALT, EMERGENCY), by ticker order. */
static te_order_plan_err_t cancel_all(te_order_plan_ws_t *ws, const te_book_pf_t *pf,
                                      const te_target_portfolio_t *tp, const char *route)
{
        size_t it = 0, n = 0;
        const te_book_pos_t *p;
        /* collect entries with live orders, sorted by ticker for a stable output */
        while ((p = te_book_pf_next(pf, &it)) != NULL)
                if (te_book_pos_live(p, NULL, 0) > 0)
                        n++;
        if (n == 0)
                return TE_ORDER_PLAN_OK;
        if (te_grow((void **)&ws->wants, &ws->cap_wants, n, sizeof *ws->wants, 64) != 0)
                return TE_ORDER_PLAN_E_NOMEM;
        it = 0;
        size_t k = 0;
        while ((p = te_book_pf_next(pf, &it)) != NULL && k < n)
                if (te_book_pos_live(p, NULL, 0) > 0) {
                        ws->wants[k].ticker = te_book_pos_ticker(p);
                        ws->wants[k].pos = p;
                        k++;
                }
        qsort(ws->wants, k, sizeof *ws->wants, cmp_want);
        for (size_t i = 0; i < k; i++) {
                size_t nl = get_live(ws, ws->wants[i].pos);
                if (nl == (size_t)-1)
                        return TE_ORDER_PLAN_E_NOMEM;
                for (size_t j = 0; j < nl; j++) {
                        te_order_plan_err_t e =
                            emit_cancel(ws, tp, route, ws->wants[i].ticker, &ws->live[j]);
                        if (e != TE_ORDER_PLAN_OK)
                                return e;
                }
        }
        return TE_ORDER_PLAN_OK;
}

static int price_of(const te_order_plan_env_t *env, const char *ticker, int64_t as_of,
                    double *px)
{
        if (!env || !env->price)
                return 0;
        return env->price(env->opaque, ticker, as_of, px) && isfinite(*px) && *px > 0;
}

/* Build, check and convert the wants of the message. */
/* Target i refused before anything is planned: a value not finite, a short without
 * shorting, a bad ref_price, a ticker outside the rules' universe or the market data. */
static te_order_plan_err_t check_target(const te_order_plan_cfg_t *cfg,
                                        const te_order_plan_env_t *env,
                                        const te_target_t *t, size_t i, char *errstr,
                                        size_t errsz)
{
        if (!isfinite(t->value)) {
                snprintf(errstr, errsz, "targets[%zu] %s: value not finite", i,
                         t->ticker);
                return TE_ORDER_PLAN_E_VALUE;
        }
        if (t->value < 0 && !cfg->allow_short) {
                snprintf(errstr, errsz,
                         "targets[%zu] %s: negative target and shorting not allowed", i,
                         t->ticker);
                return TE_ORDER_PLAN_E_SHORT;
        }
        if (t->has_ref_price && (!isfinite(t->ref_price) || t->ref_price <= 0)) {
                snprintf(errstr, errsz, "targets[%zu] %s: bad ref_price", i, t->ticker);
                return TE_ORDER_PLAN_E_VALUE;
        }
        if (te_plan_rules_unknown(cfg->rules, t->ticker) ||
            (env && env->known && !env->known(env->opaque, t->ticker))) {
                snprintf(errstr, errsz, "targets[%zu] %s: unknown ticker", i, t->ticker);
                return TE_ORDER_PLAN_E_UNKNOWN;
        }
        return TE_ORDER_PLAN_OK;
}

/* NAV: the message's, else (weights) capital + cash + sum of position x price; a
 * weight target needs a positive one. *has_nav = 0 for quantities without one. */
static te_order_plan_err_t nav_of(const te_order_plan_cfg_t *cfg,
                                  const te_order_plan_env_t *env, const te_book_pf_t *pf,
                                  const te_target_portfolio_t *tp, const want_t *wants,
                                  size_t n, double *nav_out, int *has_nav, char *errstr,
                                  size_t errsz)
{
        double nav = 0;
        *has_nav = 0;
        if (tp->has_nav) {
                if (!isfinite(tp->nav) || tp->nav <= 0) {
                        snprintf(errstr, errsz, "nav %g is not a positive number",
                                 tp->nav);
                        return TE_ORDER_PLAN_E_VALUE;
                }
                nav = tp->nav;
                *has_nav = 1;
        } else if (tp->unit == TE_UNIT_WEIGHT) {
                nav = cfg->capital + (pf ? te_book_pf_cash(pf) : 0.0);
                size_t it = 0;
                const te_book_pos_t *p;
                while (pf && (p = te_book_pf_next(pf, &it)) != NULL) {
                        double q = te_book_pos_qty(p), px;
                        if (q == 0)
                                continue;
                        const want_t *w = find_want(wants, n, te_book_pos_ticker(p));
                        if (w && w->has_price)
                                px = w->price;
                        else if (!price_of(env, te_book_pos_ticker(p), tp->as_of, &px)) {
                                snprintf(errstr, errsz, "nav: no price for held %s",
                                         te_book_pos_ticker(p));
                                return TE_ORDER_PLAN_E_NO_PRICE;
                        }
                        nav += q * px;
                }
                *has_nav = 1;
        }
        *nav_out = nav;
        if (tp->unit == TE_UNIT_WEIGHT && (!*has_nav || !(nav > 0))) {
                snprintf(errstr, errsz, "weight target without a positive nav (%g)", nav);
                return TE_ORDER_PLAN_E_NO_NAV;
        }
        return TE_ORDER_PLAN_OK;
}

/* The gross leverage of the message against plan.max_gross_leverage; quantities
 * count only when every price is known (gross is NaN otherwise: 0 * missing price
 * stays finite, so check explicitly). */
static te_order_plan_err_t check_leverage(const te_order_plan_cfg_t *cfg,
                                          const te_target_portfolio_t *tp,
                                          const want_t *wants, size_t n, double gross,
                                          double nav, char *errstr, size_t errsz)
{
        int priced = 1;
        for (size_t i = 0; tp->unit == TE_UNIT_QUANTITY && i < n; i++)
                priced &= wants[i].has_price;
        double lev = tp->unit == TE_UNIT_WEIGHT ? gross : gross / nav;
        if (priced && lev > cfg->max_gross_leverage + 1e-12) {
                snprintf(errstr, errsz, "gross leverage %.6g above the limit %.6g", lev,
                         cfg->max_gross_leverage);
                return TE_ORDER_PLAN_E_LEVERAGE;
        }
        return TE_ORDER_PLAN_OK;
}

/* full_replace: what is held or working and absent from the message is wanted at 0
 * (appended to the n wants, which stay sorted). */
static te_order_plan_err_t
add_absent(te_order_plan_ws_t *ws, const te_order_plan_env_t *env, const te_book_pf_t *pf,
           const te_target_portfolio_t *tp, size_t covered, size_t *n_wants)
{
        size_t n = *n_wants, n_sorted = n;
        const te_book_pos_t *p;
        /* each want has its own entry (no duplicates), so when every active entry is
         * some want's, nothing is absent: skip the scan */
        size_t it = te_book_pf_active(pf) > covered ? 0 : SIZE_MAX;
        while (it != SIZE_MAX && (p = te_book_pf_next(pf, &it)) != NULL) {
                if (!te_book_pos_active(p) ||
                    find_want(ws->wants, n_sorted, te_book_pos_ticker(p)))
                        continue;
                if (te_grow((void **)&ws->wants, &ws->cap_wants, n + 1, sizeof *ws->wants,
                            64) != 0)
                        return TE_ORDER_PLAN_E_NOMEM;
                want_t *w = &ws->wants[n++];
                memset(w, 0, sizeof *w);
                w->ticker = te_book_pos_ticker(p);
                w->pos = p;
                w->absent = 1;
                w->has_price = price_of(env, w->ticker, tp->as_of, &w->price);
        }
        if (n > n_sorted)
                qsort(ws->wants, n, sizeof *ws->wants, cmp_want);
        *n_wants = n;
        return TE_ORDER_PLAN_OK;
}

static te_order_plan_err_t
build_wants(te_order_plan_ws_t *ws, const te_order_plan_cfg_t *cfg,
            const te_order_plan_env_t *env, const te_book_pf_t *pf,
            const te_target_portfolio_t *tp, size_t *n_wants, char *errstr, size_t errsz)
{
        size_t n = tp->n_targets;
        size_t covered = 0; /* wants whose entry is held or working */
        int sorted = 1, has_nav;
        double gross = 0, nav;
        te_order_plan_err_t err;
        if (te_grow((void **)&ws->wants, &ws->cap_wants, n + 16, sizeof *ws->wants, 64) !=
            0)
                return TE_ORDER_PLAN_E_NOMEM;
        want_t *wants = ws->wants;
        for (size_t i = 0; i < n; i++) {
                const te_target_t *t = &tp->targets[i];
                want_t *w = &wants[i];
                if ((err = check_target(cfg, env, t, i, errstr, errsz)))
                        return err;
                w->ticker = t->ticker;
                w->pos = te_book_pf_find(pf, t->ticker);
                covered += w->pos && te_book_pos_active(w->pos);
                w->value = t->value;
                w->absent = 0;
                w->has_price = t->has_ref_price;
                w->price = t->has_ref_price ? t->ref_price : 0.0;
                if (!w->has_price)
                        w->has_price = price_of(env, t->ticker, tp->as_of, &w->price);
                if (tp->unit == TE_UNIT_WEIGHT && !w->has_price) {
                        snprintf(errstr, errsz,
                                 "targets[%zu] %s: weight target without a price", i,
                                 t->ticker);
                        return TE_ORDER_PLAN_E_NO_PRICE;
                }
                gross += fabs(t->value) * (tp->unit == TE_UNIT_WEIGHT ? 1.0 : w->price);
                if (i > 0 && sorted && strcmp(wants[i - 1].ticker, w->ticker) >= 0)
                        sorted = 0;
        }
        if (!sorted) {
                qsort(wants, n, sizeof *wants, cmp_want);
                for (size_t i = 1; i < n; i++)
                        if (strcmp(wants[i - 1].ticker, wants[i].ticker) == 0) {
                                snprintf(errstr, errsz, "duplicate ticker %s",
                                         wants[i].ticker);
                                return TE_ORDER_PLAN_E_DUPLICATE;
                        }
        }
        if ((err = nav_of(cfg, env, pf, tp, wants, n, &nav, &has_nav, errstr, errsz)))
                return err;
        if (cfg->max_gross_leverage > 0 && has_nav && isfinite(gross) &&
            (err = check_leverage(cfg, tp, wants, n, gross, nav, errstr, errsz)))
                return err;
        for (size_t i = 0; i < n; i++) {
                wants[i].target = tp->unit == TE_UNIT_WEIGHT
                                      ? wants[i].value * nav / wants[i].price
                                      : wants[i].value;
                if (!(fabs(wants[i].target) <= TE_QTY_MAX)) {
                        snprintf(errstr, errsz,
                                 "%s: target quantity %g out of range (max %g)",
                                 wants[i].ticker, wants[i].target, (double)TE_QTY_MAX);
                        return TE_ORDER_PLAN_E_VALUE;
                }
        }
        *n_wants = n;
        return tp->full_replace && pf ? add_absent(ws, env, pf, tp, covered, n_wants)
                                      : TE_ORDER_PLAN_OK;
}

te_plan_rules_rule_t te_order_plan_base_rule(const te_order_plan_cfg_t *cfg)
{
        return (te_plan_rules_rule_t){
            .lot_size = cfg->lot_size,
            .min_qty = cfg->min_qty,
            .min_notional = cfg->min_notional,
            .max_qty = cfg->max_qty,
            .max_notional = cfg->max_notional,
            .fractional = cfg->fractional,
            .order_type = cfg->order_type,
            .tif = cfg->tif,
            .limit_offset_bps = cfg->limit_offset_bps,
            .stop_offset_bps = cfg->stop_offset_bps,
        };
}

/* What to do for want w at `level`: nothing yet (deferred), CANCEL or REPLACE its
 * working order, or the legs of new orders (decide). */
static void plan_want(te_order_plan_ws_t *ws, const te_order_plan_cfg_t *cfg, want_t *w,
                      te_level_t level)
{
        int emergency = level == TE_LEVEL_EMERGENCY;
        double pos = te_book_pos_qty(w->pos);
        double target = w->target;
        size_t n_live = te_book_pos_live(w->pos, NULL, 0);
        size_t n_pend = te_book_pos_pending(w->pos, NULL, NULL);
        w->cancel = w->replace = 0;
        w->n_legs = 0;
        if (level == TE_LEVEL_REDUCE_ONLY)
                target = clamp_reduce(pos, target);
        if (emergency) {
                /* cancel_all sent CANCELs for every live order: what could
                 * still fill is unknown until they are confirmed */
                if (n_live > 0 || n_pend > 0)
                        ws->n_deferred++;
                else
                        decide(w, pos, target, 1);
                return;
        }
        if (n_live > 0) {
                /* keep working orders only if they already get us there */
                decide(w, pos + te_book_pos_open(w->pos), target, 0);
                if (w->n_legs == 0) {
                        ws->n_deferred += n_pend > 0;
                        return;
                }
                w->n_legs = 0;
                /* no new order while anything of the ticker is unconfirmed:
                 * the rest is planned once the broker confirms */
                ws->n_deferred++;
                if (cfg->replace && n_live == 1 && n_pend == 0) {
                        size_t nl = get_live(ws, w->pos);
                        if (nl == 1 && can_replace(w, &ws->live[0], pos, target)) {
                                w->replace = 1;
                                return;
                        }
                }
                w->cancel = 1;
                return;
        }
        if (n_pend > 0) { /* a CANCEL or REPLACE of the ticker unconfirmed */
                ws->n_deferred++;
                return;
        }
        decide(w, pos, target, 0);
}

/* The CANCELs and REPLACEs the wants decided, by ticker. */
static te_order_plan_err_t emit_changes(te_order_plan_ws_t *ws,
                                        const te_target_portfolio_t *tp,
                                        const char *route, const want_t *wants, size_t n)
{
        te_order_plan_err_t err;
        for (size_t i = 0; i < n; i++) {
                if (!wants[i].cancel && !wants[i].replace)
                        continue;
                size_t nl = get_live(ws, wants[i].pos);
                if (nl == (size_t)-1)
                        return TE_ORDER_PLAN_E_NOMEM;
                if (wants[i].replace) {
                        if ((err = emit_replace(ws, &wants[i], &ws->live[0])) !=
                            TE_ORDER_PLAN_OK)
                                return err;
                        continue;
                }
                for (size_t j = 0; j < nl; j++)
                        if ((err = emit_cancel(ws, tp, route, wants[i].ticker,
                                               &ws->live[j])) != TE_ORDER_PLAN_OK)
                                return err;
        }
        return TE_ORDER_PLAN_OK;
}

/* The new orders the wants decided: sells, then buys; by ticker within each.
 * @returns TE_ORDER_PLAN_OK or an error with errstr. */
static te_order_plan_err_t emit_news(te_order_plan_ws_t *ws,
                                     const te_order_plan_env_t *env, const want_t *wants,
                                     size_t n, int emergency, char *errstr, size_t errsz)
{
        te_order_plan_err_t err;
        for (int pass = 0; pass < 2; pass++) {
                te_side_t side = pass == 0 ? TE_SIDE_SELL : TE_SIDE_BUY;
                for (size_t i = 0; i < n; i++) {
                        const want_t *w = &wants[i];
                        if (w->n_legs == 0 || w->side != side)
                                continue;
                        int leg = env ? env->leg_base : 0;
                        for (int k = 0; k < w->n_legs; k++) {
                                err = emit_new(ws, w, w->leg_qty[k], w->leg_intent[k],
                                               &leg, emergency, errstr, errsz);
                                if (err != TE_ORDER_PLAN_OK)
                                        return err;
                        }
                }
        }
        return TE_ORDER_PLAN_OK;
}

te_order_plan_err_t
te_order_plan_run(te_order_plan_ws_t *ws, const te_order_plan_cfg_t *cfg,
                  const te_order_plan_env_t *env, const te_book_t *book,
                  const te_target_portfolio_t *tp, const te_order_cmd_t **out,
                  size_t *n_out, char *errstr, size_t errsz)
{
        te_level_t level = env ? env->level : TE_LEVEL_NORMAL;
        int emergency = level == TE_LEVEL_EMERGENCY;
        const te_book_pf_t *pf = te_book_portfolio(book, tp->ids.portfolio_id);
        te_plan_rules_rule_t base, srule;
        te_order_plan_err_t err;
        size_t n = 0;
        int64_t last;

        ws->n_out = 0;
        ws->n_deferred = 0;
        *out = NULL;
        *n_out = 0;
        if (te_book_last_as_of(book, tp->ids.portfolio_id, &last) && tp->as_of < last) {
                snprintf(errstr, errsz, "as_of %lld is before the last planned %lld",
                         (long long)tp->as_of, (long long)last);
                return TE_ORDER_PLAN_E_STALE;
        }
        base = te_order_plan_base_rule(cfg);
        te_plan_rules_strategy(cfg->rules, &base, tp->ids.strategy_id, &srule);
        te_id_order_prefix(&ws->id_prefix, tp->ids.decision_id, tp->ids.portfolio_id);
        memset(&ws->tmpl, 0, sizeof ws->tmpl);
        fill_common(&ws->tmpl, tp, cfg->route, "");
        if (te_plan_rules_check_rule(&srule, errstr, errsz) != 0)
                return TE_ORDER_PLAN_E_SIZING;
        err = build_wants(ws, cfg, env, pf, tp, &n, errstr, errsz);
        if (err != TE_ORDER_PLAN_OK)
                return err;
        if (level == TE_LEVEL_HALT || emergency) {
                err = cancel_all(ws, pf, tp, cfg->route);
                if (err != TE_ORDER_PLAN_OK)
                        goto fail;
                if (level == TE_LEVEL_HALT)
                        goto done;
                /* cancel_all reused the wants array as scratch: rebuild it */
                err = build_wants(ws, cfg, env, pf, tp, &n, errstr, errsz);
                if (err != TE_ORDER_PLAN_OK)
                        return err;
        }

        int per_ticker = te_plan_rules_has_tickers(cfg->rules);
        want_t *wants = ws->wants;
        if (per_ticker && grow_rules(ws, n) != 0) {
                err = TE_ORDER_PLAN_E_NOMEM;
                goto fail;
        }
        for (size_t i = 0; i < n; i++) {
                want_t *w = &wants[i];
                if (per_ticker) {
                        te_plan_rules_ticker(cfg->rules, &srule, tp->ids.strategy_id,
                                             w->ticker, &ws->rules[i]);
                        if (te_plan_rules_check_rule(&ws->rules[i], errstr, errsz) != 0) {
                                err = TE_ORDER_PLAN_E_SIZING;
                                goto fail;
                        }
                        w->rule = &ws->rules[i];
                } else {
                        w->rule = &srule;
                }
                plan_want(ws, cfg, w, level);
        }

        /* CANCELs first, then sells, then buys */
        if ((err = emit_changes(ws, tp, cfg->route, wants, n)) != TE_ORDER_PLAN_OK)
                goto fail;
        if ((err = emit_news(ws, env, wants, n, emergency, errstr, errsz)) !=
            TE_ORDER_PLAN_OK)
                goto fail_msg;
done:
        *out = ws->out;
        *n_out = ws->n_out;
        return TE_ORDER_PLAN_OK;
fail:
        snprintf(errstr, errsz, "%s", te_order_plan_err_code(err));
fail_msg:
        ws->n_out = 0;
        ws->n_deferred = 0;
        return err;
}

size_t te_order_plan_deferred(const te_order_plan_ws_t *ws)
{
        return ws->n_deferred;
}

typedef struct mode_ctx_s {
        te_order_plan_ws_t *ws;
        te_level_t (*level_of)(void *, const char *);
        void *opaque;
        const te_book_t *book;
        int64_t event_time;
        const char *route;
        te_order_plan_err_t err;
} mode_ctx_t;

static void mode_cancel_one(const char *portfolio_id, const char *ticker,
                            const te_book_live_t *o, double position, void *opaque)
{
        mode_ctx_t *c = opaque;
        if (c->err != TE_ORDER_PLAN_OK)
                return;
        te_level_t level = c->level_of(c->opaque, portfolio_id);
        int cancel = 0;
        if (level == TE_LEVEL_HALT || level == TE_LEVEL_EMERGENCY)
                cancel = 1;
        else if (level == TE_LEVEL_REDUCE_ONLY)
                /* grows |position| unless it trades against a position it fits in */
                cancel = position == 0 || (o->side == TE_SIDE_BUY) == (position > 0) ||
                         o->remaining > fabs(position) + 1e-9;
        if (!cancel)
                return;
        te_target_portfolio_t tp;
        memset(&tp, 0, sizeof tp);
        te_strlcpy(tp.ids.portfolio_id, portfolio_id, sizeof tp.ids.portfolio_id);
        tp.mode = te_book_mode(c->book, portfolio_id);
        tp.as_of = c->event_time;
        c->err = emit_cancel(c->ws, &tp, c->route, ticker, o);
}

te_order_plan_err_t te_order_plan_mode_cancels(
    te_order_plan_ws_t *ws, const te_book_t *book, const char *portfolio_id,
    te_level_t (*level_of)(void *opaque, const char *portfolio_id), void *opaque,
    int64_t event_time, const char *route, const te_order_cmd_t **out, size_t *n_out)
{
        mode_ctx_t c = {ws, level_of, opaque, book, event_time, route, TE_ORDER_PLAN_OK};
        ws->n_out = 0;
        te_book_foreach_live(book, portfolio_id, mode_cancel_one, &c);
        if (c.err != TE_ORDER_PLAN_OK) {
                ws->n_out = 0;
                *n_out = 0;
                return c.err;
        }
        *out = ws->out;
        *n_out = ws->n_out;
        return TE_ORDER_PLAN_OK;
}
