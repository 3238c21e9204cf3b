/*
 * test_plan_rules: the planner's production rules — sizing rules from a rules file
 * (precedence, child orders, fractional quantities, order shapes), NAV and prices
 * from the book and the market data, execution levels (REDUCE_ONLY, EMERGENCY,
 * HALT) and the cancels a level change sends, validation (unknown tickers,
 * leverage, as_of backwards), and the exec.mode table. Each plan case lists the
 * commands expected, written out by hand in output order.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../id_order.h"
#include "../book_read.h"
#include "../plan_defaults.h"
#include "exec_mode.h"
#include "order_plan.h"
#include "plan_rules.h"
#include "te_buf.h"
#include "te_ids.h"

#define MAXN      8
#define DECISION  "dec-7"
#define PORTFOLIO "pf-1"
#define STRATEGY  "mom"
#define AS_OF     INT64_C(1704214800000)

#define BUY  TE_SIDE_BUY
#define SELL TE_SIDE_SELL
#define NEW  TE_CMD_NEW
#define CXL  TE_CMD_CANCEL

#define OPEN     TE_INTENT_OPEN
#define CLOSE    TE_INTENT_CLOSE
#define INCREASE TE_INTENT_INCREASE
#define REDUCE   TE_INTENT_REDUCE

#define MKT  TE_OT_MARKET
#define LMT  TE_OT_LIMIT
#define STP  TE_OT_STOP
#define STPL TE_OT_STOP_LIMIT

#define NORMAL    TE_LEVEL_NORMAL
#define REDUCE_O  TE_LEVEL_REDUCE_ONLY
#define EMERGENCY TE_LEVEL_EMERGENCY
#define HALT      TE_LEVEL_HALT

typedef struct pos_in_s {
        const char *ticker;
        double qty;
} pos_in_t;

typedef struct open_in_s {
        const char *ticker;
        te_side_t side;
        double qty;
} open_in_t;

typedef struct tgt_in_s {
        const char *ticker;
        double value;
        double ref; /* 0: no ref_price in the message */
} tgt_in_t;

typedef struct px_in_s { /* the market data the environment knows */
        const char *ticker;
        double px;
} px_in_t;

typedef struct exp_s {
        te_command_t cmd;
        te_side_t side;
        const char *ticker; /* NULL ends the list */
        double qty;
        te_intent_t intent;
        int leg; /* NEW: te_id_order leg; CANCEL: index of the open order ("open-N") */
        te_order_type_t type;
        te_tif_t tif;
        te_aggr_t aggr;
        double limit; /* 0: none */
        double stop;  /* 0: none */
} exp_t;

typedef struct rcase_s {
        const char *name;
        const char *rules[4]; /* rules file lines */
        te_level_t level;
        pos_in_t pos[MAXN];
        double cash;
        open_in_t open[MAXN];
        px_in_t px[MAXN];
        int check_known; /* the environment says which tickers exist (px list) */
        te_unit_t unit;
        double nav; /* 0: none in the message */
        int full_replace;
        int64_t last_as_of; /* 0: none */
        double max_lev;
        double capital;
        int no_short;
        tgt_in_t tgt[MAXN];
        te_order_plan_err_t err;
        exp_t exp[MAXN];
} rcase_t;

#define Q   TE_UNIT_QUANTITY
#define W   TE_UNIT_WEIGHT
#define DAY TE_TIF_DAY
#define GTC TE_TIF_GTC
#define IOC TE_TIF_IOC
#define AN  TE_AGGR_NORMAL
#define AE  TE_AGGR_EMERGENCY

static const rcase_t rcases[] = {
    /* ---- sizing rules ---- */
    {.name = "max_qty 100 splits 250 into 100 + 100 + 50 (legs 0..2)",
     .rules = {"* * max_qty=100"},
     .unit = Q,
     .tgt = {{"AAA", 250, 0}},
     .exp = {{NEW, BUY, "AAA", 100, OPEN, 0, MKT, DAY, AN, 0, 0},
             {NEW, BUY, "AAA", 100, OPEN, 1, MKT, DAY, AN, 0, 0},
             {NEW, BUY, "AAA", 50, OPEN, 2, MKT, DAY, AN, 0, 0}}},
    {.name = "max_notional 5000 at 20 -> children of 250",
     .rules = {"* * max_notional=5000"},
     .unit = Q,
     .tgt = {{"AAA", 600, 20}},
     .exp = {{NEW, BUY, "AAA", 250, OPEN, 0, MKT, DAY, AN, 0, 0},
             {NEW, BUY, "AAA", 250, OPEN, 1, MKT, DAY, AN, 0, 0},
             {NEW, BUY, "AAA", 100, OPEN, 2, MKT, DAY, AN, 0, 0}}},
    {.name = "max_notional 1000 at 30 in lots of 10 -> children of 30",
     .rules = {"* * lot_size=10 max_notional=1000"},
     .unit = Q,
     .tgt = {{"AAA", 75, 30}},
     .exp = {{NEW, BUY, "AAA", 30, OPEN, 0, MKT, DAY, AN, 0, 0},
             {NEW, BUY, "AAA", 30, OPEN, 1, MKT, DAY, AN, 0, 0},
             {NEW, BUY, "AAA", 10, OPEN, 2, MKT, DAY, AN, 0, 0}}},
    {.name = "max_notional below one lot: sizing error",
     .rules = {"* * lot_size=100 max_notional=1000"},
     .unit = Q,
     .tgt = {{"AAA", 300, 20}},
     .err = TE_ORDER_PLAN_E_SIZING},
    {.name = "max_notional without any price: no_price",
     .rules = {"* * max_notional=1000"},
     .unit = Q,
     .tgt = {{"AAA", 300, 0}},
     .err = TE_ORDER_PLAN_E_NO_PRICE},
    {.name = "through zero with max_qty 40: CLOSE 50 as 40+10, OPEN 30 (legs 0,1,2)",
     .rules = {"* * max_qty=40"},
     .pos = {{"AAA", 50}},
     .unit = Q,
     .tgt = {{"AAA", -30, 0}},
     .exp = {{NEW, SELL, "AAA", 40, CLOSE, 0, MKT, DAY, AN, 0, 0},
             {NEW, SELL, "AAA", 10, CLOSE, 1, MKT, DAY, AN, 0, 0},
             {NEW, SELL, "AAA", 30, OPEN, 2, MKT, DAY, AN, 0, 0}}},
    {.name = "whole-unit instrument: 10.75 -> 10",
     .unit = Q,
     .tgt = {{"AAA", 10.75, 0}},
     .exp = {{NEW, BUY, "AAA", 10, OPEN, 0, MKT, DAY, AN, 0, 0}}},
    {.name = "fractional instrument, lot 0.01: 10.756 -> 10.75",
     .rules = {"* AAA fractional=true lot_size=0.01 min_qty=0.01"},
     .unit = Q,
     .tgt = {{"AAA", 10.756, 0}, {"BBB", 10.756, 0}},
     .exp = {{NEW, BUY, "AAA", 10.75, OPEN, 0, MKT, DAY, AN, 0, 0},
             {NEW, BUY, "BBB", 10, OPEN, 0, MKT, DAY, AN, 0, 0}}},
    {.name = "fractional allowed but delta below min_qty 1: nothing",
     .rules = {"* AAA fractional=true lot_size=0.001"},
     .unit = Q,
     .pos = {{"AAA", 10}},
     .tgt = {{"AAA", 10.5, 0}},
     .exp = {{0}}},
    {.name = "strategy rule: LIMIT GTC 10 bps; ticker rule wins for its ticker",
     .rules = {"mom * order_type=LIMIT tif=GTC limit_offset_bps=10",
               "mom BBB order_type=MARKET tif=IOC", "other * order_type=STOP"},
     .unit = Q,
     .tgt = {{"AAA", 100, 50}, {"BBB", 10, 20}},
     .exp = {{NEW, BUY, "AAA", 100, OPEN, 0, LMT, GTC, AN, 50.05, 0},
             {NEW, BUY, "BBB", 10, OPEN, 0, MKT, IOC, AN, 0, 0}}},
    {.name = "(* ticker) overrides (strategy *); (strategy ticker) overrides both",
     .rules = {"* * lot_size=1", "mom * lot_size=5", "* AAA lot_size=10",
               "mom BBB lot_size=20"},
     .unit = Q,
     .tgt = {{"AAA", 37, 0}, {"BBB", 37, 0}, {"CCC", 37, 0}},
     .exp = {{NEW, BUY, "AAA", 30, OPEN, 0, MKT, DAY, AN, 0, 0},
             {NEW, BUY, "BBB", 20, OPEN, 0, MKT, DAY, AN, 0, 0},
             {NEW, BUY, "CCC", 35, OPEN, 0, MKT, DAY, AN, 0, 0}}},
    {.name = "STOP buy 50 bps above 40 -> stop 40.2; sell below",
     .rules = {"* * order_type=STOP stop_offset_bps=50"},
     .pos = {{"BBB", 10}},
     .unit = Q,
     .tgt = {{"AAA", 5, 40}, {"BBB", 0, 10}},
     .exp = {{NEW, SELL, "BBB", 10, CLOSE, 0, STP, DAY, AN, 0, 9.95},
             {NEW, BUY, "AAA", 5, OPEN, 0, STP, DAY, AN, 0, 40.2}}},
    {.name = "STOP_LIMIT: stop 100 bps, limit 200 bps above 100",
     .rules = {"* * order_type=STOP_LIMIT stop_offset_bps=100 limit_offset_bps=200"},
     .unit = Q,
     .tgt = {{"AAA", 5, 100}},
     .exp = {{NEW, BUY, "AAA", 5, OPEN, 0, STPL, DAY, AN, 102, 101}}},
    {.name = "LIMIT without any price: no_price",
     .rules = {"* * order_type=LIMIT"},
     .unit = Q,
     .tgt = {{"AAA", 5, 0}},
     .err = TE_ORDER_PLAN_E_NO_PRICE},
    {.name = "LIMIT priced from the market data when the message has none",
     .rules = {"* * order_type=LIMIT limit_offset_bps=100"},
     .px = {{"AAA", 20}},
     .unit = Q,
     .tgt = {{"AAA", 5, 0}},
     .exp = {{NEW, BUY, "AAA", 5, OPEN, 0, LMT, DAY, AN, 20.2, 0}}},
    {.name = "min_notional from the rules, price from the market data: dropped",
     .rules = {"* * min_notional=1000"},
     .px = {{"AAA", 20}},
     .unit = Q,
     .tgt = {{"AAA", 49, 0}},
     .exp = {{0}}},

    /* ---- weights: NAV and prices ---- */
    {.name = "weights, NAV from the book: cash 5000 + 100 x 50 = 10000",
     .pos = {{"AAA", 100}},
     .cash = 5000,
     .px = {{"AAA", 50}, {"BBB", 25}},
     .unit = W,
     .tgt = {{"AAA", 0.25, 0}, {"BBB", 0.5, 0}},
     .exp = {{NEW, SELL, "AAA", 50, REDUCE, 0, MKT, DAY, AN, 0, 0},
             {NEW, BUY, "BBB", 200, OPEN, 0, MKT, DAY, AN, 0, 0}}},
    {.name = "weights, NAV = capital 8000 + cash -3000 (nothing held)",
     .cash = -3000,
     .capital = 8000,
     .unit = W,
     .tgt = {{"AAA", 0.5, 10}},
     .exp = {{NEW, BUY, "AAA", 250, OPEN, 0, MKT, DAY, AN, 0, 0}}},
    {.name = "weights, NAV needs the price of a held ticker nobody knows",
     .pos = {{"ZZZ", 10}},
     .cash = 1000,
     .unit = W,
     .tgt = {{"AAA", 0.5, 10}},
     .err = TE_ORDER_PLAN_E_NO_PRICE},
    {.name = "weights, the message's NAV wins over the book",
     .pos = {{"AAA", 100}},
     .cash = 5000,
     .px = {{"AAA", 50}},
     .unit = W,
     .nav = 20000,
     .tgt = {{"AAA", 0.5, 0}},
     .exp = {{NEW, BUY, "AAA", 100, INCREASE, 0, MKT, DAY, AN, 0, 0}}},
    {.name = "weights, the message's ref_price wins over the market data",
     .px = {{"AAA", 50}},
     .unit = W,
     .nav = 10000,
     .tgt = {{"AAA", 0.5, 40}},
     .exp = {{NEW, BUY, "AAA", 125, OPEN, 0, MKT, DAY, AN, 0, 0}}},

    /* ---- validation ---- */
    {.name = "unknown ticker (universe in the rules)",
     .rules = {"universe AAA BBB"},
     .unit = Q,
     .tgt = {{"AAA", 1, 0}, {"XXX", 1, 0}},
     .err = TE_ORDER_PLAN_E_UNKNOWN},
    {.name = "tickers in the universe plan",
     .rules = {"universe AAA BBB"},
     .unit = Q,
     .tgt = {{"BBB", 1, 0}},
     .exp = {{NEW, BUY, "BBB", 1, OPEN, 0, MKT, DAY, AN, 0, 0}}},
    {.name = "unknown ticker (not in the market data)",
     .px = {{"AAA", 10}},
     .check_known = 1,
     .unit = Q,
     .tgt = {{"AAA", 1, 0}, {"QQQ", 1, 0}},
     .err = TE_ORDER_PLAN_E_UNKNOWN},
    {.name = "gross leverage 1.2 above 1.0",
     .max_lev = 1.0,
     .unit = W,
     .nav = 1000,
     .tgt = {{"AAA", 0.7, 10}, {"BBB", -0.5, 10}},
     .err = TE_ORDER_PLAN_E_LEVERAGE},
    {.name = "gross leverage exactly 1.0 passes",
     .max_lev = 1.0,
     .unit = W,
     .nav = 1000,
     .tgt = {{"AAA", 0.5, 10}, {"BBB", -0.5, 10}},
     .exp = {{NEW, SELL, "BBB", 50, OPEN, 0, MKT, DAY, AN, 0, 0},
             {NEW, BUY, "AAA", 50, OPEN, 0, MKT, DAY, AN, 0, 0}}},
    {.name = "quantities: gross 300 x 10 / nav 1000 = 3 above 2",
     .max_lev = 2.0,
     .unit = Q,
     .nav = 1000,
     .tgt = {{"AAA", 300, 10}},
     .err = TE_ORDER_PLAN_E_LEVERAGE},
    {.name = "as_of before the last planned: stale",
     .last_as_of = AS_OF + 1,
     .unit = Q,
     .tgt = {{"AAA", 1, 0}},
     .err = TE_ORDER_PLAN_E_STALE},
    {.name = "as_of equal to the last planned: planned (same target again)",
     .last_as_of = AS_OF,
     .unit = Q,
     .tgt = {{"AAA", 1, 0}},
     .exp = {{NEW, BUY, "AAA", 1, OPEN, 0, MKT, DAY, AN, 0, 0}}},
    {.name = "negative weight, shorting not allowed",
     .no_short = 1,
     .unit = W,
     .nav = 1000,
     .tgt = {{"AAA", -0.1, 10}},
     .err = TE_ORDER_PLAN_E_SHORT},
    {.name = "duplicate ticker",
     .unit = Q,
     .tgt = {{"BBB", 1, 0}, {"AAA", 1, 0}, {"BBB", 2, 0}},
     .err = TE_ORDER_PLAN_E_DUPLICATE},
    {.name = "NaN value",
     .unit = Q,
     .tgt = {{"AAA", NAN, 0}},
     .err = TE_ORDER_PLAN_E_VALUE},
    {.name = "infinite value",
     .unit = W,
     .nav = 1000,
     .tgt = {{"AAA", INFINITY, 10}},
     .err = TE_ORDER_PLAN_E_VALUE},

    /* ---- execution levels ---- */
    {.name = "REDUCE_ONLY: increase dropped, reduction kept",
     .level = REDUCE_O,
     .pos = {{"AAA", 100}, {"BBB", 100}},
     .unit = Q,
     .tgt = {{"AAA", 150, 0}, {"BBB", 40, 0}},
     .exp = {{NEW, SELL, "BBB", 60, REDUCE, 0, MKT, DAY, AN, 0, 0}}},
    {.name = "REDUCE_ONLY: through zero only closes; opening from flat dropped",
     .level = REDUCE_O,
     .pos = {{"AAA", 100}},
     .unit = Q,
     .tgt = {{"AAA", -50, 0}, {"CCC", 10, 0}},
     .exp = {{NEW, SELL, "AAA", 100, CLOSE, 0, MKT, DAY, AN, 0, 0}}},
    {.name = "REDUCE_ONLY: a working buy growing a long is cancelled",
     .level = REDUCE_O,
     .pos = {{"AAA", 100}},
     .open = {{"AAA", BUY, 50}},
     .unit = Q,
     .tgt = {{"AAA", 150, 0}},
     .exp = {{CXL, BUY, "AAA", 50, 0, 0, MKT, DAY, AN, 0, 0}}},
    {.name = "REDUCE_ONLY: short covered partly",
     .level = REDUCE_O,
     .pos = {{"AAA", -80}},
     .unit = Q,
     .tgt = {{"AAA", -30, 0}},
     .exp = {{NEW, BUY, "AAA", 50, REDUCE, 0, MKT, DAY, AN, 0, 0}}},
    /* a ticker whose orders are being cancelled waits for the confirmation (its
     * cancelled order could still fill); the others trade at once */
    {.name = "EMERGENCY: working orders cancelled, MARKET EMERGENCY where nothing works",
     .level = EMERGENCY,
     .rules = {"* * order_type=LIMIT tif=GTC limit_offset_bps=10 min_qty=100"},
     .pos = {{"AAA", 100}, {"BBB", 100}},
     .open = {{"AAA", SELL, 50}, {"ZZZ", BUY, 5}},
     .unit = Q,
     .tgt = {{"AAA", 20, 10}, {"BBB", 20, 10}},
     .exp = {{CXL, SELL, "AAA", 50, 0, 0, MKT, DAY, AN, 0, 0},
             {CXL, BUY, "ZZZ", 5, 0, 1, MKT, DAY, AN, 0, 0},
             {NEW, SELL, "BBB", 80, REDUCE, 0, MKT, DAY, AE, 0, 0}}},
    {.name = "HALT: every working order cancelled, nothing new",
     .level = HALT,
     .pos = {{"AAA", 100}},
     .open = {{"AAA", SELL, 50}, {"BBB", BUY, 7}},
     .unit = Q,
     .tgt = {{"AAA", 0, 0}, {"CCC", 10, 0}},
     .exp = {{CXL, SELL, "AAA", 50, 0, 0, MKT, DAY, AN, 0, 0},
             {CXL, BUY, "BBB", 7, 0, 1, MKT, DAY, AN, 0, 0}}},
    {.name = "HALT with nothing working: nothing at all",
     .level = HALT,
     .pos = {{"AAA", 100}},
     .unit = Q,
     .tgt = {{"AAA", 0, 0}},
     .exp = {{0}}},
    {.name = "HALT still validates: an invalid target is an error",
     .level = HALT,
     .unit = Q,
     .tgt = {{"AAA", NAN, 0}},
     .err = TE_ORDER_PLAN_E_VALUE},
    {.name = "full_replace with market-data price for the absent ticker",
     .pos = {{"AAA", 10}, {"BBB", 20}},
     .px = {{"BBB", 5}},
     .unit = Q,
     .full_replace = 1,
     .tgt = {{"AAA", 10, 0}},
     .exp = {{NEW, SELL, "BBB", 20, CLOSE, 0, MKT, DAY, AN, 0, 0}}},
};

/* ---- environment: prices from the case ---- */
static int env_price(void *opaque, const char *ticker, int64_t as_of, double *px)
{
        const rcase_t *c = opaque;
        (void)as_of;
        for (int i = 0; i < MAXN && c->px[i].ticker; i++)
                if (strcmp(c->px[i].ticker, ticker) == 0) {
                        *px = c->px[i].px;
                        return 1;
                }
        return 0;
}

static int env_known(void *opaque, const char *ticker)
{
        double px;
        return env_price(opaque, ticker, 0, &px);
}

static int run_rcase(const rcase_t *c)
{
        te_target_portfolio_t tp;
        te_order_plan_cfg_t cfg;
        char err[256] = "";
        int ok = 1;
        memset(&tp, 0, sizeof tp);
        te_strlcpy(tp.ids.decision_id, DECISION, sizeof tp.ids.decision_id);
        te_strlcpy(tp.ids.portfolio_id, PORTFOLIO, sizeof tp.ids.portfolio_id);
        te_strlcpy(tp.ids.strategy_id, STRATEGY, sizeof tp.ids.strategy_id);
        tp.as_of = AS_OF;
        tp.unit = c->unit;
        tp.has_nav = c->nav != 0;
        tp.nav = c->nav;
        tp.full_replace = c->full_replace;
        for (int i = 0; i < MAXN && c->tgt[i].ticker; i++) {
                te_target_t t = {.value = c->tgt[i].value,
                                 .has_ref_price = c->tgt[i].ref != 0,
                                 .ref_price = c->tgt[i].ref};
                te_strlcpy(t.ticker, c->tgt[i].ticker, sizeof t.ticker);
                assert_int_equal(te_target_portfolio_add(&tp, &t), 0);
        }
        te_book_t *book = te_book_new();
        assert_non_null(book);
        assert_int_equal(te_book_set_cash(book, PORTFOLIO, c->cash), 0);
        for (int i = 0; i < MAXN && c->pos[i].ticker; i++)
                assert_int_equal(te_book_set_position(book, PORTFOLIO, c->pos[i].ticker,
                                                      c->pos[i].qty),
                                 0);
        for (int i = 0; i < MAXN && c->open[i].ticker; i++) {
                char oid[16];
                snprintf(oid, sizeof oid, "open-%d", i);
                assert_int_equal(te_book_add_order(book, oid, PORTFOLIO,
                                                   c->open[i].ticker, c->open[i].side,
                                                   c->open[i].qty, 0, TE_OS_NEW),
                                 0);
        }
        if (c->last_as_of)
                assert_int_equal(te_book_set_last_as_of(book, PORTFOLIO, c->last_as_of),
                                 0);
        te_plan_rules_t *rules = te_plan_rules_new();
        assert_non_null(rules);
        for (int i = 0; i < 4 && c->rules[i]; i++) {
                if (te_plan_rules_parse_line(rules, c->rules[i], "case", err,
                                             sizeof err)) {
                        print_error("%s: rules: %s\n", c->name, err);
                        ok = 0;
                        goto out;
                }
        }
        te_order_plan_cfg_defaults(&cfg);
        cfg.rules = rules;
        cfg.max_gross_leverage = c->max_lev;
        cfg.capital = c->capital;
        cfg.allow_short = !c->no_short;
        te_order_plan_env_t env = {.level = c->level,
                                   .price = env_price,
                                   .known = c->check_known ? env_known : NULL,
                                   .opaque = (void *)c};
        te_order_cmd_t out[MAXN];
        size_t n = 99;
        te_order_plan_err_t rc =
            te_order_plan_target(&cfg, &env, book, &tp, out, MAXN, &n, err, sizeof err);
        if (c->err) {
                if (rc != c->err || n != 0) {
                        print_error("%s: rc %d (%s) n %zu, expected %s\n", c->name, rc,
                                    err, n, te_order_plan_err_code(c->err));
                        ok = 0;
                }
                goto out;
        }
        size_t n_exp = 0;
        while (n_exp < MAXN && c->exp[n_exp].ticker)
                n_exp++;
        if (rc != TE_ORDER_PLAN_OK || n != n_exp) {
                print_error("%s: rc %d (%s), %zu commands, expected %zu\n", c->name, rc,
                            err, n, n_exp);
                for (size_t k = 0; rc == TE_ORDER_PLAN_OK && k < n; k++)
                        print_error("  got %s %s %s %.10g %s\n",
                                    te_command_name(out[k].command),
                                    te_side_name(out[k].side), out[k].ticker,
                                    out[k].quantity, te_intent_name(out[k].intent));
                ok = 0;
                goto out;
        }
        for (size_t k = 0; k < n; k++) {
                const te_order_cmd_t *o = &out[k];
                const exp_t *e = &c->exp[k];
                char id[TE_ID_MAX];
                if (e->cmd == CXL)
                        snprintf(id, sizeof id, "open-%d", e->leg);
                else
                        te_id_order(id, sizeof id, DECISION, PORTFOLIO, e->ticker,
                                    e->leg);
                int good = o->command == e->cmd && o->side == e->side &&
                           strcmp(o->ticker, e->ticker) == 0 &&
                           fabs(o->quantity - e->qty) < 1e-9 &&
                           strcmp(o->order_id, id) == 0;
                if (good && e->cmd == NEW)
                        good = o->intent == e->intent && o->order_type == e->type &&
                               o->tif == e->tif && o->aggressiveness == e->aggr &&
                               o->has_limit_price == (e->limit != 0) &&
                               (!e->limit || fabs(o->limit_price - e->limit) < 1e-9) &&
                               o->has_stop_price == (e->stop != 0) &&
                               (!e->stop || fabs(o->stop_price - e->stop) < 1e-9) &&
                               o->event_time == AS_OF &&
                               strcmp(o->ids.strategy_id, STRATEGY) == 0;
                if (!good) {
                        print_error(
                            "%s: command %zu: got %s %s %s %s %.10g %s type %s tif %s "
                            "aggr %s limit %g stop %g\n",
                            c->name, k, te_command_name(o->command), o->order_id,
                            te_side_name(o->side), o->ticker, o->quantity,
                            te_intent_name(o->intent), te_order_type_name(o->order_type),
                            te_tif_name(o->tif), te_aggr_name(o->aggressiveness),
                            o->has_limit_price ? o->limit_price : 0,
                            o->has_stop_price ? o->stop_price : 0);
                        ok = 0;
                }
        }
out:
        te_plan_rules_destroy(rules);
        te_book_destroy(book);
        te_target_portfolio_free(&tp);
        return ok;
}

static void test_plan_rules_cases(void **state)
{
        (void)state;
        size_t n = sizeof rcases / sizeof rcases[0], failed = 0;
        assert_true(n >= 40);
        for (size_t i = 0; i < n; i++)
                if (!run_rcase(&rcases[i]))
                        failed++;
        if (failed) {
                print_error("%zu of %zu cases failed\n", failed, n);
                fail();
        }
}

/* Bad rules lines: each error names where and which key. */
static void test_plan_rules_parse_errors(void **state)
{
        (void)state;
        static const struct {
                const char *line;
                const char *err; /* NULL: accepted */
        } cases[] = {
            {"* * lot_size=100 min_qty=100", NULL},
            {"   # only a comment", NULL},
            {"", NULL},
            {"mom AAA order_type=STOP_LIMIT tif=OPG   # trailing comment", NULL},
            {"* * lot_size=0", "r.txt:3: lot_size: not a number in range"},
            {"* * lot_size=abc", "r.txt:3: lot_size: not a number in range"},
            {"* * lot_size=0.5", "r.txt:3: lot_size: 0.5 below 1 needs fractional=true"},
            {"* * lot=10", "r.txt:3: lot: renamed: use lot_size"},
            {"mom AAA min_qty=1 lot=1", "r.txt:3: lot: renamed: use lot_size"},
            {"* * colour=red", "r.txt:3: colour: unknown key"},
            {"* * order_type=ICEBERG", "r.txt:3: order_type: expected MARKET"},
            {"* * tif=NEVER", "r.txt:3: tif: expected DAY"},
            {"* * fractional=maybe", "r.txt:3: fractional: expected true or false"},
            {"* * lot_size", "r.txt:3: lot_size: expected key=value"},
            {"* *", "r.txt:3: expected \"<strategy|*> <ticker|*> key=value ...\""},
            {"* * max_qty=-1", "r.txt:3: max_qty: not a number in range"},
            {"* * limit_offset_bps=20000", "r.txt:3: limit_offset_bps: not a number"},
            {"* AVERYLONGTICKERNAMETHATDOESNOTFIT lot_size=1",
             "r.txt:3: strategy or ticker"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_plan_rules_t *r = te_plan_rules_new();
                char err[256] = "";
                assert_non_null(r);
                int rc = te_plan_rules_parse_line(r, cases[i].line, "r.txt:3", err,
                                                  sizeof err);
                if (cases[i].err ? (rc == 0 || !strstr(err, cases[i].err)) : rc != 0) {
                        print_error("\"%s\": rc %d err \"%s\", expected \"%s\"\n",
                                    cases[i].line, rc, err,
                                    cases[i].err ? cases[i].err : "(ok)");
                        fail();
                }
                te_plan_rules_destroy(r);
        }
}

/* Rules that can never produce an order are refused at start-up, naming the line:
 * te_plan_rules_check over the base rule. */
static void test_plan_rules_check_refusals(void **state)
{
        (void)state;
        static const struct {
                const char *text;
                const char *err; /* NULL: accepted; else the suffix after "path" */
        } cases[] = {
            {"* * lot_size=10\nmom AAA max_qty=50 lot_size=5\n", NULL},
            {"# a comment\n* BRK.A max_qty=10\n", NULL},
            /* max_qty below its own lot */
            {"* * min_qty=0\n\nmom AAA lot_size=100 max_qty=50\n",
             ":3: max_qty: 50 is below the lot size 100: no order can be sent"},
            /* below a lot set on a less specific line */
            {"* * lot_size=100 min_qty=100\nmom * max_qty=50\n",
             ":2: max_qty: 50 is below the lot size 100"},
            /* below the base lot (base lot_size 1): max_qty=0.5 */
            {"* AAA max_qty=0.5\n", ":1: max_qty: 0.5 is below the lot size 1"},
            /* max_qty of 150 in lots of 100 is 100 < min_qty 120 */
            {"* * lot_size=100\n* AAA max_qty=150 min_qty=120\n",
             ":2: max_qty: 150 (100 in lots of 100) is below min_qty 120"},
            {"* * min_notional=5000 max_notional=1000\n",
             ":1: min_notional: 5000 is above max_notional 1000"},
            /* a (strategy *) line meeting a (* ticker) line */
            {"mom * lot_size=100\n* AAA max_qty=10\n",
             ":2: max_qty: 10 is below the lot size 100: no order can be sent (strategy "
             "mom on ticker AAA, with "},
            /* ... unless the (strategy ticker) line settles it */
            {"mom * lot_size=100\n* AAA max_qty=10\nmom AAA lot_size=10\n", NULL},
        };
        te_plan_rules_rule_t base = {.lot_size = 1, .min_qty = 1};
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char path[] = "/tmp/te-rules-XXXXXX";
                int fd = mkstemp(path);
                assert_true(fd >= 0);
                size_t len = strlen(cases[i].text);
                assert_int_equal(write(fd, cases[i].text, len), (ssize_t)len);
                close(fd);
                te_plan_rules_t *r = te_plan_rules_new();
                assert_non_null(r);
                char err[1024] = "", want[1200];
                assert_int_equal(te_plan_rules_load(r, path, err, sizeof err), 0);
                int rc = te_plan_rules_check(r, &base, err, sizeof err);
                if (cases[i].err)
                        snprintf(want, sizeof want, "%s%s", path, cases[i].err);
                if (cases[i].err ? (rc == 0 || strncmp(err, want, strlen(want)) != 0)
                                 : rc != 0) {
                        print_error("case %zu: rc %d err \"%s\", expected \"%s\"\n", i,
                                    rc, err, cases[i].err ? want : "(ok)");
                        fail();
                }
                te_plan_rules_destroy(r);
                unlink(path);
        }
        /* the base rule itself, as the planner checks the plan.* keys */
        te_plan_rules_rule_t bad = {.lot_size = 100, .min_qty = 1, .max_qty = 10};
        char err[256];
        assert_int_equal(te_plan_rules_check_rule(&bad, err, sizeof err), -1);
        assert_string_equal(err, "max_qty: 10 is below the lot size 100: no order can "
                                 "be sent");
}

/* A rules file: errors carry path:line; a good file loads and resolves. */
static void test_plan_rules_file(void **state)
{
        (void)state;
        char path[] = "/tmp/te-rules-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        const char *text =
            "# rules\n* * lot_size=10\n\nmom AAA max_qty=50 lot_size=5\n* * tif=XX\n";
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        te_plan_rules_t *r = te_plan_rules_new();
        char err[512];
        assert_int_equal(te_plan_rules_load(r, path, err, sizeof err), -1);
        char want[600];
        snprintf(want, sizeof want, "%s:5: tif: expected DAY", path);
        assert_non_null(strstr(err, want));
        te_plan_rules_destroy(r);

        /* the same file without the bad line */
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs("# rules\n* * lot_size=10\n\nmom AAA max_qty=50 lot_size=5\n", fp);
        fclose(fp);
        r = te_plan_rules_new();
        assert_int_equal(te_plan_rules_load(r, path, err, sizeof err), 0);
        te_plan_rules_rule_t base = {.lot_size = 1, .min_qty = 1}, s, t;
        te_plan_rules_strategy(r, &base, "mom", &s);
        assert_true(s.lot_size == 10 && s.max_qty == 0);
        assert_true(te_plan_rules_has_tickers(r));
        te_plan_rules_ticker(r, &s, "mom", "AAA", &t);
        assert_true(t.lot_size == 5 && t.max_qty == 50);
        te_plan_rules_ticker(r, &s, "other", "AAA", &t);
        assert_true(t.lot_size == 10 && t.max_qty == 0);
        te_plan_rules_destroy(r);
        r = te_plan_rules_new();
        assert_int_equal(te_plan_rules_load(r, "/nonexistent/rules", err, sizeof err),
                         -1);
        assert_non_null(strstr(err, "/nonexistent/rules: "));
        te_plan_rules_destroy(r);
        unlink(path);
}

/* A level change acts on working orders at once. */
typedef struct lvl_s {
        te_level_t level;
} lvl_t;
static te_level_t lvl_of(void *opaque, const char *pf)
{
        (void)pf;
        return ((const lvl_t *)opaque)->level;
}

static void test_plan_rules_mode_cancels(void **state)
{
        (void)state;
        static const struct {
                te_level_t level;
                size_t n;
                const char *ids[4]; /* expected cancelled order ids, any order */
        } cases[] = {
            {TE_LEVEL_NORMAL, 0, {NULL}},
            /* long 100 AAA: buy grows it (cancel), sell 40 shrinks it (kept);
             * flat BBB: any order opens (cancel); short -10 CCC: sell 5 grows (cancel),
             * buy 30 covers past zero (cancel) */
            {TE_LEVEL_REDUCE_ONLY, 4, {"o-buy-aaa", "o-bbb", "o-sell-ccc", "o-buy-ccc"}},
            {TE_LEVEL_EMERGENCY, 5, {NULL}},
            {TE_LEVEL_HALT, 5, {NULL}},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_book_t *b = te_book_new();
                assert_int_equal(te_book_set_position(b, "pf", "AAA", 100), 0);
                assert_int_equal(te_book_set_position(b, "pf", "CCC", -10), 0);
                assert_int_equal(te_book_set_mode(b, "pf", TE_MODE_TRAINING), 0);
                te_book_add_order(b, "o-buy-aaa", "pf", "AAA", BUY, 10, 0, TE_OS_NEW);
                te_book_add_order(b, "o-sell-aaa", "pf", "AAA", SELL, 40, 0, TE_OS_NEW);
                te_book_add_order(b, "o-bbb", "pf", "BBB", SELL, 1, 0, TE_OS_NEW);
                te_book_add_order(b, "o-sell-ccc", "pf", "CCC", SELL, 5, 0, TE_OS_NEW);
                te_book_add_order(b, "o-buy-ccc", "pf", "CCC", BUY, 30, 0, TE_OS_NEW);
                te_book_add_order(b, "o-done", "pf", "AAA", BUY, 10, 10, TE_OS_FILLED);
                te_order_plan_ws_t *ws = te_order_plan_ws_new(100);
                lvl_t l = {cases[i].level};
                const te_order_cmd_t *o;
                size_t n;
                assert_int_equal(te_order_plan_mode_cancels(ws, b, NULL, lvl_of, &l, 77,
                                                            "sim", &o, &n),
                                 0);
                assert_int_equal(n, cases[i].n);
                for (size_t k = 0; k < n; k++) {
                        assert_int_equal(o[k].command, TE_CMD_CANCEL);
                        assert_int_equal(o[k].mode, TE_MODE_TRAINING);
                        assert_string_equal(o[k].ids.portfolio_id, "pf");
                        assert_true(o[k].event_time == 77);
                        assert_string_not_equal(o[k].order_id, "o-done");
                        if (cases[i].ids[0]) {
                                int found = 0;
                                for (int j = 0; j < 4; j++)
                                        found |= !strcmp(cases[i].ids[j], o[k].order_id);
                                assert_true(found);
                        }
                }
                /* once the cancels are recorded, nothing is left to cancel */
                for (size_t k = 0; k < n; k++)
                        assert_int_equal(te_book_mark_cancel(b, o[k].order_id), 0);
                assert_int_equal(te_order_plan_mode_cancels(ws, b, NULL, lvl_of, &l, 77,
                                                            "sim", &o, &n),
                                 0);
                assert_int_equal(n, 0);
                te_order_plan_ws_destroy(ws);
                te_book_destroy(b);
        }
}

/* exec.mode: the later of the portfolio's and the "*" entry wins. */
static void test_plan_rules_exec_mode_table(void **state)
{
        (void)state;
        static const struct {
                const char *scope;
                te_level_t level;
                int64_t from;
                te_level_t pf1, pf2; /* levels after the message */
        } steps[] = {
            {"pf1", TE_LEVEL_REDUCE_ONLY, 100, TE_LEVEL_REDUCE_ONLY, TE_LEVEL_NORMAL},
            {"*", TE_LEVEL_HALT, 200, TE_LEVEL_HALT, TE_LEVEL_HALT},
            {"pf2", TE_LEVEL_NORMAL, 300, TE_LEVEL_HALT, TE_LEVEL_NORMAL},
            {"*", TE_LEVEL_EMERGENCY, 300, TE_LEVEL_EMERGENCY, TE_LEVEL_EMERGENCY},
            {"pf1", TE_LEVEL_NORMAL, 250, TE_LEVEL_EMERGENCY, TE_LEVEL_EMERGENCY},
            {"*", TE_LEVEL_NORMAL, 400, TE_LEVEL_NORMAL, TE_LEVEL_NORMAL},
        };
        te_exec_mode_levels_t *m = te_exec_mode_new();
        assert_non_null(m);
        assert_int_equal(te_exec_mode_level(m, "pf1"), TE_LEVEL_NORMAL);
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
                te_exec_mode_t msg;
                memset(&msg, 0, sizeof msg);
                te_strlcpy(msg.scope, steps[i].scope, sizeof msg.scope);
                msg.level = steps[i].level;
                msg.effective_from = steps[i].from;
                assert_int_equal(te_exec_mode_apply(m, &msg), 1);
                assert_int_equal(te_exec_mode_level(m, "pf1"), steps[i].pf1);
                assert_int_equal(te_exec_mode_level(m, "pf2"), steps[i].pf2);
        }
        te_exec_mode_t bad;
        memset(&bad, 0, sizeof bad);
        assert_int_equal(te_exec_mode_apply(m, &bad), -1); /* empty scope */
        te_strlcpy(bad.scope, "*", sizeof bad.scope);
        bad.level = (te_level_t)9;
        assert_int_equal(te_exec_mode_apply(m, &bad), -1);
        te_exec_mode_destroy(m);
}

/* A re-plan with a leg base (EMERGENCY acting on the last target) gets new ids. */
static void test_plan_rules_leg_base(void **state)
{
        (void)state;
        static const struct {
                int base;
                int legs[2];
        } cases[] = {{0, {0, 1}}, {1000, {1000, 1001}}, {12345600, {12345600, 12345601}}};
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_target_portfolio_t tp;
                memset(&tp, 0, sizeof tp);
                te_strlcpy(tp.ids.decision_id, DECISION, sizeof tp.ids.decision_id);
                te_strlcpy(tp.ids.portfolio_id, PORTFOLIO, sizeof tp.ids.portfolio_id);
                tp.unit = TE_UNIT_QUANTITY;
                te_target_t t = {.ticker = "AAA", .value = -30};
                assert_int_equal(te_target_portfolio_add(&tp, &t), 0);
                te_book_t *b = te_book_new();
                assert_int_equal(te_book_set_position(b, PORTFOLIO, "AAA", 50), 0);
                te_order_plan_cfg_t cfg;
                te_order_plan_cfg_defaults(&cfg);
                te_order_plan_env_t env = {.level = TE_LEVEL_EMERGENCY,
                                           .leg_base = cases[i].base};
                te_order_cmd_t out[MAXN];
                size_t n;
                char err[128];
                assert_int_equal(te_order_plan_target(&cfg, &env, b, &tp, out, MAXN, &n,
                                                      err, sizeof err),
                                 0);
                assert_int_equal(n, 2); /* CLOSE 50, OPEN 30 */
                for (size_t k = 0; k < 2; k++) {
                        char id[TE_ID_MAX];
                        te_id_order(id, sizeof id, DECISION, PORTFOLIO, "AAA",
                                    cases[i].legs[k]);
                        assert_string_equal(out[k].order_id, id);
                        assert_int_equal(out[k].aggressiveness, TE_AGGR_EMERGENCY);
                        assert_int_equal(out[k].order_type, TE_OT_MARKET);
                }
                te_book_destroy(b);
                te_target_portfolio_free(&tp);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_plan_rules_cases),
            cmocka_unit_test(test_plan_rules_parse_errors),
            cmocka_unit_test(test_plan_rules_file),
            cmocka_unit_test(test_plan_rules_check_refusals),
            cmocka_unit_test(test_plan_rules_mode_cancels),
            cmocka_unit_test(test_plan_rules_exec_mode_table),
            cmocka_unit_test(test_plan_rules_leg_base),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
