/*
 * order_plan: target-minus-current order planning with lot rounding, minimum sizes,
 * zero-crossing legs and a deterministic order of output.
 */
#include "order_plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_ids.h"

void te_plan_cfg_defaults(te_plan_cfg_t *cfg)
{
        memset(cfg, 0, sizeof *cfg);
        cfg->lot_size = 1.0;
        cfg->min_qty = 1.0;
        cfg->min_notional = 0.0;
        cfg->allow_short = 1;
        cfg->order_type = TE_OT_MARKET;
        cfg->tif = TE_TIF_DAY;
        cfg->limit_offset_bps = 0.0;
        te_strlcpy(cfg->route, "sim", sizeof cfg->route);
}

double te_plan_round_lot(double q, double lot)
{
        double lots = fabs(q) / lot;
        double whole = floor(lots + 1e-9);
        double r = whole * lot;
        return q < 0 ? -r : r;
}

/* One ticker to plan: its target quantity and the price known for it. */
typedef struct want_s {
        char ticker[TE_TICKER_MAX];
        double target; /* quantity */
        int has_price;
        double price;
} want_t;

typedef struct plan_ctx_s {
        want_t *wants;
        size_t n, cap;
        size_t n_sorted; /* wants[0..n_sorted) are sorted by ticker */
        const te_target_portfolio_t *tp;
        int oom;
} plan_ctx_t;

static int cmp_want(const void *a, const void *b)
{
        return strcmp(((const want_t *)a)->ticker, ((const want_t *)b)->ticker);
}

/* full_replace: a held or working ticker absent from the message goes to zero */
static void add_absent(const char *ticker, double position, double open_qty, void *opaque)
{
        plan_ctx_t *ctx = opaque;
        (void)position;
        (void)open_qty;
        if (ctx->oom)
                return;
        want_t key;
        te_strlcpy(key.ticker, ticker, sizeof key.ticker);
        if (bsearch(&key, ctx->wants, ctx->n_sorted, sizeof *ctx->wants, cmp_want))
                return;
        if (ctx->n == ctx->cap) {
                size_t ncap = ctx->cap ? ctx->cap * 2 : 16;
                want_t *nw = realloc(ctx->wants, ncap * sizeof *nw);
                if (!nw) {
                        ctx->oom = 1;
                        return;
                }
                ctx->wants = nw;
                ctx->cap = ncap;
        }
        want_t *w = &ctx->wants[ctx->n++];
        memset(w, 0, sizeof *w);
        te_strlcpy(w->ticker, ticker, sizeof w->ticker);
}

static void fill_order(te_order_cmd_t *o, const te_plan_cfg_t *cfg,
                       const te_target_portfolio_t *tp, const want_t *w, te_side_t side,
                       double qty, te_intent_t intent, int leg)
{
        memset(o, 0, sizeof *o);
        o->command = TE_CMD_NEW;
        te_id_order(o->order_id, sizeof o->order_id, tp->ids.decision_id,
                    tp->ids.portfolio_id, w->ticker, leg);
        o->ids = tp->ids;
        te_strlcpy(o->ticker, w->ticker, sizeof o->ticker);
        o->side = side;
        o->quantity = qty;
        o->order_type = cfg->order_type;
        o->tif = cfg->tif;
        o->aggressiveness = TE_AGGR_NORMAL;
        o->intent = intent;
        o->mode = tp->mode;
        te_strlcpy(o->route, cfg->route, sizeof o->route);
        o->event_time = tp->as_of;
        if (w->has_price) {
                o->has_ref_price = 1;
                o->ref_price = w->price;
                if (cfg->order_type == TE_OT_LIMIT ||
                    cfg->order_type == TE_OT_STOP_LIMIT) {
                        double off = cfg->limit_offset_bps / 10000.0;
                        o->has_limit_price = 1;
                        o->limit_price = side == TE_SIDE_BUY ? w->price * (1.0 + off)
                                                             : w->price * (1.0 - off);
                }
        }
}

static int keep(const te_plan_cfg_t *cfg, const want_t *w, double qty)
{
        if (qty <= 0 || qty < cfg->min_qty)
                return 0;
        if (cfg->min_notional > 0 && w->has_price && qty * w->price < cfg->min_notional)
                return 0;
        return 1;
}

static int cmp_order(const void *a, const void *b)
{
        const te_order_cmd_t *x = a, *y = b;
        if (x->side != y->side)
                return x->side == TE_SIDE_SELL ? -1 : 1; /* sells first */
        int c = strcmp(x->ticker, y->ticker);
        if (c)
                return c;
        /* CLOSE leg before OPEN leg of the same ticker */
        return (x->intent == TE_INTENT_OPEN) - (y->intent == TE_INTENT_OPEN);
}

int te_plan_target(const te_plan_cfg_t *cfg, const te_book_t *book,
                   const te_target_portfolio_t *tp, te_order_cmd_t *out, size_t cap,
                   size_t *n_out, char *errstr, size_t errstr_size)
{
        plan_ctx_t ctx = {.tp = tp};
        size_t n = 0;
        int rc = -1;
        *n_out = 0;

        if (tp->unit == TE_UNIT_WEIGHT &&
            (!tp->has_nav || !isfinite(tp->nav) || tp->nav <= 0)) {
                snprintf(errstr, errstr_size, "weight target without a positive nav");
                goto done;
        }
        ctx.cap = tp->n_targets + 16;
        ctx.wants = calloc(ctx.cap, sizeof *ctx.wants);
        if (!ctx.wants) {
                snprintf(errstr, errstr_size, "out of memory");
                goto done;
        }
        for (size_t i = 0; i < tp->n_targets; i++) {
                const te_target_t *t = &tp->targets[i];
                if (!isfinite(t->value)) {
                        snprintf(errstr, errstr_size, "targets[%zu] %s: value not finite",
                                 i, t->ticker);
                        goto done;
                }
                if (t->value < 0 && !cfg->allow_short) {
                        snprintf(
                            errstr, errstr_size,
                            "targets[%zu] %s: negative target and shorting not allowed",
                            i, t->ticker);
                        goto done;
                }
                if (t->has_ref_price && (!isfinite(t->ref_price) || t->ref_price <= 0)) {
                        snprintf(errstr, errstr_size, "targets[%zu] %s: bad ref_price", i,
                                 t->ticker);
                        goto done;
                }
                want_t *w = &ctx.wants[ctx.n++];
                te_strlcpy(w->ticker, t->ticker, sizeof w->ticker);
                w->has_price = t->has_ref_price;
                w->price = t->ref_price;
                if (tp->unit == TE_UNIT_WEIGHT) {
                        if (!t->has_ref_price) {
                                snprintf(
                                    errstr, errstr_size,
                                    "targets[%zu] %s: weight target without ref_price", i,
                                    t->ticker);
                                goto done;
                        }
                        w->target = t->value * tp->nav / t->ref_price;
                } else {
                        w->target = t->value;
                }
        }
        qsort(ctx.wants, ctx.n, sizeof *ctx.wants, cmp_want);
        for (size_t i = 1; i < ctx.n; i++) {
                if (strcmp(ctx.wants[i - 1].ticker, ctx.wants[i].ticker) == 0) {
                        snprintf(errstr, errstr_size, "duplicate ticker %s",
                                 ctx.wants[i].ticker);
                        goto done;
                }
        }
        ctx.n_sorted = ctx.n;
        if (tp->full_replace) {
                te_book_foreach_ticker(book, tp->ids.portfolio_id, add_absent, &ctx);
                if (ctx.oom) {
                        snprintf(errstr, errstr_size, "out of memory");
                        goto done;
                }
        }

        for (size_t i = 0; i < ctx.n; i++) {
                const want_t *w = &ctx.wants[i];
                /* the delta is rounded, not the target: rounding the target toward zero
                 * first would make a reducing order larger than the delta (300 -> 143 in
                 * lots of 100 would sell 200, not 100) */
                double target = w->target;
                double current = te_book_position(book, tp->ids.portfolio_id, w->ticker) +
                                 te_book_open_qty(book, tp->ids.portfolio_id, w->ticker);
                double delta = target - current;
                te_side_t side = delta > 0 ? TE_SIDE_BUY : TE_SIDE_SELL;
                if (delta == 0)
                        continue;
                if (current != 0 && target != 0 && (current > 0) != (target > 0)) {
                        /* through zero: close all of current, then open the target */
                        double close_qty = fabs(current);
                        double open_qty = fabs(te_plan_round_lot(target, cfg->lot_size));
                        if (n + 2 > cap)
                                goto too_many;
                        fill_order(&out[n++], cfg, tp, w, side, close_qty,
                                   TE_INTENT_CLOSE, 0);
                        if (keep(cfg, w, open_qty))
                                fill_order(&out[n++], cfg, tp, w, side, open_qty,
                                           TE_INTENT_OPEN, 1);
                        continue;
                }
                double qty = fabs(delta);
                te_intent_t intent;
                if (target == 0) {
                        intent = TE_INTENT_CLOSE; /* closing is never dropped for size */
                } else {
                        qty = fabs(te_plan_round_lot(delta, cfg->lot_size));
                        if (!keep(cfg, w, qty))
                                continue;
                        intent = current == 0                   ? TE_INTENT_OPEN
                                 : fabs(target) > fabs(current) ? TE_INTENT_INCREASE
                                                                : TE_INTENT_REDUCE;
                }
                if (qty <= 0)
                        continue;
                if (n + 1 > cap)
                        goto too_many;
                fill_order(&out[n++], cfg, tp, w, side, qty, intent, 0);
        }
        qsort(out, n, sizeof *out, cmp_order);
        *n_out = n;
        rc = 0;
        goto done;
too_many:
        snprintf(errstr, errstr_size, "more than %zu orders", cap);
done:
        free(ctx.wants);
        return rc;
}
