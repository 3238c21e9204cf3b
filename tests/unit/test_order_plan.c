/*
 * test_order_plan: target portfolio + book -> orders. Each case is a starting book,
 * a target portfolio, a plan config and the orders expected, written out by hand in
 * output order (sells first, then buys, each sorted by ticker, CLOSE leg before OPEN).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../id_order.h"
#include "../book_read.h"
#include "../plan_defaults.h"
#include "order_plan.h"
#include "te_buf.h"
#include "te_ids.h"

#define MAXN 8

#define BUY  TE_SIDE_BUY
#define SELL TE_SIDE_SELL

#define OPEN     TE_INTENT_OPEN
#define CLOSE    TE_INTENT_CLOSE
#define INCREASE TE_INTENT_INCREASE
#define REDUCE   TE_INTENT_REDUCE

#define QTY    TE_UNIT_QUANTITY
#define WEIGHT TE_UNIT_WEIGHT

typedef struct pos_in_s {
        const char *ticker; /* NULL ends the list */
        double qty;
} pos_in_t;

typedef struct open_in_s {
        const char *ticker; /* NULL ends the list */
        te_side_t side;
        double qty, cum;
} open_in_t;

typedef struct tgt_in_s {
        const char *ticker; /* NULL ends the list */
        double value;
        int has_ref;
        double ref;
} tgt_in_t;

typedef struct cfg_in_s {
        double lot, min_qty, min_notional;
        int allow_short;
        te_order_type_t type;
        double offset_bps;
} cfg_in_t;

typedef struct exp_order_s {
        te_side_t side;
        const char *ticker; /* NULL ends the list */
        double qty;
        te_intent_t intent;
        int leg; /* 1 for the OPEN leg of a move through zero, else 0 */
        int has_limit;
        double limit;
        int cancel; /* 1: a CANCEL of the case's open order number `leg` */
} exp_order_t;

typedef struct plan_case_s {
        const char *name;
        const char *pos_portfolio; /* portfolio of .pos; NULL: the target's */
        pos_in_t pos[MAXN];
        open_in_t open[MAXN];
        te_unit_t unit;
        int has_nav;
        double nav;
        int full_replace;
        tgt_in_t tgt[MAXN];
        cfg_in_t cfg;
        size_t cap;      /* 0: MAXN */
        const char *err; /* expected error substring, NULL when the plan succeeds */
        exp_order_t exp[MAXN];
} plan_case_t;

/*                         lot  min_qty min_notional short type         offset */
#define CFG_DEFAULT                                                                      \
        {                                                                                \
                1, 1, 0, 1, TE_OT_MARKET, 0                                              \
        }
#define CFG_LOT(l)                                                                       \
        {                                                                                \
                l, 1, 0, 1, TE_OT_MARKET, 0                                              \
        }
#define CFG_MINQ(q)                                                                      \
        {                                                                                \
                1, q, 0, 1, TE_OT_MARKET, 0                                              \
        }
#define CFG_MINN(n)                                                                      \
        {                                                                                \
                1, 1, n, 1, TE_OT_MARKET, 0                                              \
        }
#define CFG_NOSHORT                                                                      \
        {                                                                                \
                1, 1, 0, 0, TE_OT_MARKET, 0                                              \
        }
#define CFG_LIMIT(bps)                                                                   \
        {                                                                                \
                1, 1, 0, 1, TE_OT_LIMIT, bps                                             \
        }

static const plan_case_t plan_cases[] = {
    /* ---- basic moves ---- */
    {.name = "buy from flat",
     .unit = QTY,
     .tgt = {{"AAA", 100, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{BUY, "AAA", 100, OPEN, 0, 0, 0}}},
    {.name = "increase long",
     .pos = {{"AAA", 100}},
     .unit = QTY,
     .tgt = {{"AAA", 250, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{BUY, "AAA", 150, INCREASE, 0, 0, 0}}},
    {.name = "sell down",
     .pos = {{"AAA", 300}},
     .unit = QTY,
     .tgt = {{"AAA", 100, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "AAA", 200, REDUCE, 0, 0, 0}}},
    {.name = "short from flat",
     .unit = QTY,
     .tgt = {{"AAA", -50, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "AAA", 50, OPEN, 0, 0, 0}}},
    {.name = "increase short",
     .pos = {{"AAA", -50}},
     .unit = QTY,
     .tgt = {{"AAA", -80, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "AAA", 30, INCREASE, 0, 0, 0}}},
    {.name = "cover part of a short",
     .pos = {{"AAA", -80}},
     .unit = QTY,
     .tgt = {{"AAA", -20, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{BUY, "AAA", 60, REDUCE, 0, 0, 0}}},
    {.name = "already at target",
     .pos = {{"AAA", 100}},
     .unit = QTY,
     .tgt = {{"AAA", 100, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{0}}},
    {.name = "nothing held, nothing wanted",
     .unit = QTY,
     .cfg = CFG_DEFAULT,
     .exp = {{0}}},
    {.name = "another portfolio's position does not count",
     .pos_portfolio = "P2",
     .pos = {{"AAA", 100}},
     .unit = QTY,
     .tgt = {{"BBB", 10, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{BUY, "BBB", 10, OPEN, 0, 0, 0}}},

    /* ---- closing ---- */
    {.name = "close long to zero",
     .pos = {{"AAA", 100}},
     .unit = QTY,
     .tgt = {{"AAA", 0, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "AAA", 100, CLOSE, 0, 0, 0}}},
    {.name = "close short to zero",
     .pos = {{"AAA", -40}},
     .unit = QTY,
     .tgt = {{"AAA", 0, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{BUY, "AAA", 40, CLOSE, 0, 0, 0}}},
    {.name = "close below min qty is still sent",
     .pos = {{"AAA", 5}},
     .unit = QTY,
     .tgt = {{"AAA", 0, 0, 0}},
     .cfg = CFG_MINQ(10),
     .exp = {{SELL, "AAA", 5, CLOSE, 0, 0, 0}}},
    {.name = "close below min notional is still sent",
     .pos = {{"AAA", 3}},
     .unit = QTY,
     .tgt = {{"AAA", 0, 1, 10.0}},
     .cfg = CFG_MINN(1000),
     .exp = {{SELL, "AAA", 3, CLOSE, 0, 0, 0}}},
    {.name = "close an odd lot is not rounded",
     .pos = {{"AAA", 157}},
     .unit = QTY,
     .tgt = {{"AAA", 0, 0, 0}},
     .cfg = CFG_LOT(100),
     .exp = {{SELL, "AAA", 157, CLOSE, 0, 0, 0}}},

    /* ---- through zero ---- */
    {.name = "long to short: CLOSE then OPEN, both sells",
     .pos = {{"AAA", 100}},
     .unit = QTY,
     .tgt = {{"AAA", -50, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "AAA", 100, CLOSE, 0, 0, 0}, {SELL, "AAA", 50, OPEN, 1, 0, 0}}},
    {.name = "short to long: CLOSE then OPEN, both buys",
     .pos = {{"AAA", -30}},
     .unit = QTY,
     .tgt = {{"AAA", 70, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{BUY, "AAA", 30, CLOSE, 0, 0, 0}, {BUY, "AAA", 70, OPEN, 1, 0, 0}}},
    {.name = "through zero: OPEN leg rounds to the lot, CLOSE leg does not",
     .pos = {{"AAA", 130}},
     .unit = QTY,
     .tgt = {{"AAA", -157, 0, 0}},
     .cfg = CFG_LOT(100),
     .exp = {{SELL, "AAA", 130, CLOSE, 0, 0, 0}, {SELL, "AAA", 100, OPEN, 1, 0, 0}}},
    {.name = "through zero: OPEN leg below min qty dropped, CLOSE kept",
     .pos = {{"AAA", 100}},
     .unit = QTY,
     .tgt = {{"AAA", -5, 0, 0}},
     .cfg = CFG_MINQ(10),
     .exp = {{SELL, "AAA", 100, CLOSE, 0, 0, 0}}},

    /* ---- lot rounding toward zero ---- */
    {.name = "lot: buy delta 157 -> 100",
     .unit = QTY,
     .tgt = {{"AAA", 157, 0, 0}},
     .cfg = CFG_LOT(100),
     .exp = {{BUY, "AAA", 100, OPEN, 0, 0, 0}}},
    {.name = "lot: buy delta 157 from an odd position -> 100",
     .pos = {{"AAA", 43}},
     .unit = QTY,
     .tgt = {{"AAA", 200, 0, 0}},
     .cfg = CFG_LOT(100),
     .exp = {{BUY, "AAA", 100, INCREASE, 0, 0, 0}}},
    {.name = "lot: sell delta -157 (257 -> 100) -> SELL 100",
     .pos = {{"AAA", 257}},
     .unit = QTY,
     .tgt = {{"AAA", 100, 0, 0}},
     .cfg = CFG_LOT(100),
     .exp = {{SELL, "AAA", 100, REDUCE, 0, 0, 0}}},
    {.name = "lot: sell delta -157 (300 -> 143) -> SELL 100, never more than the delta",
     .pos = {{"AAA", 300}},
     .unit = QTY,
     .tgt = {{"AAA", 143, 0, 0}},
     .cfg = CFG_LOT(100),
     .exp = {{SELL, "AAA", 100, REDUCE, 0, 0, 0}}},
    {.name = "lot: cover delta +157 (-300 -> -143) -> BUY 100",
     .pos = {{"AAA", -300}},
     .unit = QTY,
     .tgt = {{"AAA", -143, 0, 0}},
     .cfg = CFG_LOT(100),
     .exp = {{BUY, "AAA", 100, REDUCE, 0, 0, 0}}},
    {.name = "lot: delta 50 rounds to nothing from a position",
     .pos = {{"AAA", 100}},
     .unit = QTY,
     .tgt = {{"AAA", 150, 0, 0}},
     .cfg = CFG_LOT(100),
     .exp = {{0}}},
    {.name = "lot: delta 99 from flat rounds to nothing",
     .unit = QTY,
     .tgt = {{"AAA", 99, 0, 0}},
     .cfg = CFG_LOT(100),
     .exp = {{0}}},
    {.name = "lot 1: fractional quantity rounds toward zero",
     .unit = QTY,
     .tgt = {{"AAA", 10.9, 0, 0}, {"BBB", -10.9, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "BBB", 10, OPEN, 0, 0, 0}, {BUY, "AAA", 10, OPEN, 0, 0, 0}}},

    /* ---- minimum size / notional ---- */
    {.name = "min qty: 5 < 10 dropped",
     .pos = {{"AAA", 100}},
     .unit = QTY,
     .tgt = {{"AAA", 105, 0, 0}},
     .cfg = CFG_MINQ(10),
     .exp = {{0}}},
    {.name = "min qty: exactly 10 kept",
     .pos = {{"AAA", 100}},
     .unit = QTY,
     .tgt = {{"AAA", 110, 0, 0}},
     .cfg = CFG_MINQ(10),
     .exp = {{BUY, "AAA", 10, INCREASE, 0, 0, 0}}},
    {.name = "min notional: 10 x 50 = 500 < 1000 dropped",
     .unit = QTY,
     .tgt = {{"AAA", 10, 1, 50.0}},
     .cfg = CFG_MINN(1000),
     .exp = {{0}}},
    {.name = "min notional: 20 x 50 = 1000 kept",
     .unit = QTY,
     .tgt = {{"AAA", 20, 1, 50.0}},
     .cfg = CFG_MINN(1000),
     .exp = {{BUY, "AAA", 20, OPEN, 0, 0, 0}}},
    {.name = "min notional without a price cannot be checked: kept",
     .unit = QTY,
     .tgt = {{"AAA", 10, 0, 0}},
     .cfg = CFG_MINN(1000),
     .exp = {{BUY, "AAA", 10, OPEN, 0, 0, 0}}},

    /* ---- open orders count in the delta ---- */
    /* a working order that does not get us to the target is cancelled first and the
     * ticker is planned from its position: never a second order on a working one */
    /* a working order that no longer fits is cancelled and nothing new goes out for
     * its ticker until the cancel is confirmed (it could still fill): the residual is
     * planned then (test_overfill.c) */
    {.name = "100 + 50 working, target 200 -> CANCEL the 50 only",
     .pos = {{"AAA", 100}},
     .open = {{"AAA", BUY, 50, 0}},
     .unit = QTY,
     .tgt = {{"AAA", 200, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{BUY, "AAA", 50, 0, 0, 0, 0, 1}}},
    {.name = "100 + 50 working, target 120 -> CANCEL the 50 only",
     .pos = {{"AAA", 100}},
     .open = {{"AAA", BUY, 50, 0}},
     .unit = QTY,
     .tgt = {{"AAA", 120, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{BUY, "AAA", 50, 0, 0, 0, 0, 1}}},
    {.name = "100 + 50 working, target 80 -> CANCEL the 50 only",
     .pos = {{"AAA", 100}},
     .open = {{"AAA", BUY, 50, 0}},
     .unit = QTY,
     .tgt = {{"AAA", 80, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{BUY, "AAA", 50, 0, 0, 0, 0, 1}}},
    {.name = "working order within the lot of the target is kept",
     .pos = {{"AAA", 100}},
     .open = {{"AAA", BUY, 100, 0}},
     .unit = QTY,
     .tgt = {{"AAA", 250, 0, 0}},
     .cfg = CFG_LOT(100),
     .exp = {{0}}},
    {.name = "two working orders on a ticker, target moved: both cancelled",
     .open = {{"AAA", BUY, 30, 0}, {"AAA", BUY, 20, 0}},
     .unit = QTY,
     .tgt = {{"AAA", 10, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{BUY, "AAA", 20, 0, 1, 0, 0, 1}, {BUY, "AAA", 30, 0, 0, 0, 0, 1}}},
    {.name = "cancels come before every sell; the cancelled ticker waits",
     .pos = {{"AAA", 100}, {"BBB", 50}},
     .open = {{"BBB", SELL, 10, 0}},
     .unit = QTY,
     .tgt = {{"AAA", 0, 0, 0}, {"BBB", 60, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "BBB", 10, 0, 0, 0, 0, 1}, {SELL, "AAA", 100, CLOSE, 0, 0, 0}}},
    {.name = "open buy covers the target: nothing",
     .pos = {{"AAA", 100}},
     .open = {{"AAA", BUY, 100, 0}},
     .unit = QTY,
     .tgt = {{"AAA", 200, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{0}}},
    {.name = "partly filled open sell counts its remaining only: it closes, kept",
     .pos = {{"AAA", 50}},
     .open = {{"AAA", SELL, 80, 30}}, /* 50 still working */
     .unit = QTY,
     .tgt = {{"AAA", 0, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{0}}},
    {.name = "partly filled open sell short of the target: cancel its 50 only",
     .pos = {{"AAA", 100}},
     .open = {{"AAA", SELL, 80, 30}}, /* 50 still working */
     .unit = QTY,
     .tgt = {{"AAA", 0, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "AAA", 50, 0, 0, 0, 0, 1}}},

    /* ---- full_replace ---- */
    {.name = "full_replace: absent tickers go to zero",
     .pos = {{"AAA", 100}, {"BBB", -20}, {"CCC", 0}, {"DDD", 30}},
     .unit = QTY,
     .full_replace = 1,
     .tgt = {{"AAA", 100, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "DDD", 30, CLOSE, 0, 0, 0}, {BUY, "BBB", 20, CLOSE, 0, 0, 0}}},
    {.name = "no full_replace: absent tickers are left alone",
     .pos = {{"AAA", 100}, {"BBB", -20}, {"CCC", 0}, {"DDD", 30}},
     .unit = QTY,
     .tgt = {{"AAA", 100, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{0}}},
    {.name = "full_replace with no targets closes everything",
     .pos = {{"ZZZ", 7}, {"AAA", 3}},
     .unit = QTY,
     .full_replace = 1,
     .cfg = CFG_MINQ(10),
     .exp = {{SELL, "AAA", 3, CLOSE, 0, 0, 0}, {SELL, "ZZZ", 7, CLOSE, 0, 0, 0}}},

    /* ---- output order ---- */
    {.name = "sells before buys, each sorted by ticker, input order irrelevant",
     .pos = {{"ZZZ", 100}, {"AAA", 50}},
     .unit = QTY,
     .tgt = {{"MMM", 10, 0, 0},
             {"ZZZ", 40, 0, 0},
             {"CCC", 30, 0, 0},
             {"AAA", 20, 0, 0},
             {"BBB", 5, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "AAA", 30, REDUCE, 0, 0, 0},
             {SELL, "ZZZ", 60, REDUCE, 0, 0, 0},
             {BUY, "BBB", 5, OPEN, 0, 0, 0},
             {BUY, "CCC", 30, OPEN, 0, 0, 0},
             {BUY, "MMM", 10, OPEN, 0, 0, 0}}},
    {.name = "legs of two tickers through zero interleave by side",
     .pos = {{"BBB", 10}, {"AAA", -10}},
     .unit = QTY,
     .tgt = {{"AAA", 5, 0, 0}, {"BBB", -5, 0, 0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "BBB", 10, CLOSE, 0, 0, 0},
             {SELL, "BBB", 5, OPEN, 1, 0, 0},
             {BUY, "AAA", 10, CLOSE, 0, 0, 0},
             {BUY, "AAA", 5, OPEN, 1, 0, 0}}},

    /* ---- weights ---- */
    {.name = "weight 0.25 of nav 100000 at 50 -> 500 shares",
     .unit = WEIGHT,
     .has_nav = 1,
     .nav = 100000,
     .tgt = {{"AAA", 0.25, 1, 50.0}},
     .cfg = CFG_DEFAULT,
     .exp = {{BUY, "AAA", 500, OPEN, 0, 0, 0}}},
    {.name = "weight 0.1 of 100000 at 30 = 333.33 -> 333 (lot 1)",
     .unit = WEIGHT,
     .has_nav = 1,
     .nav = 100000,
     .tgt = {{"AAA", 0.1, 1, 30.0}, {"BBB", 0.1, 1, 30.0}},
     .cfg = CFG_DEFAULT,
     .exp = {{BUY, "AAA", 333, OPEN, 0, 0, 0}, {BUY, "BBB", 333, OPEN, 0, 0, 0}}},
    {.name = "weight with lot 100: 333.33 -> 300",
     .unit = WEIGHT,
     .has_nav = 1,
     .nav = 100000,
     .tgt = {{"AAA", 0.1, 1, 30.0}},
     .cfg = CFG_LOT(100),
     .exp = {{BUY, "AAA", 300, OPEN, 0, 0, 0}}},
    {.name = "weight 0.2 at 40 = 500 from 1000 held -> SELL 500",
     .pos = {{"AAA", 1000}},
     .unit = WEIGHT,
     .has_nav = 1,
     .nav = 100000,
     .tgt = {{"AAA", 0.2, 1, 40.0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "AAA", 500, REDUCE, 0, 0, 0}}},
    {.name = "negative weight -0.1 at 25 -> short 400",
     .unit = WEIGHT,
     .has_nav = 1,
     .nav = 100000,
     .tgt = {{"AAA", -0.1, 1, 25.0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "AAA", 400, OPEN, 0, 0, 0}}},
    {.name = "weight 0 closes",
     .pos = {{"AAA", 12}},
     .unit = WEIGHT,
     .has_nav = 1,
     .nav = 100000,
     .tgt = {{"AAA", 0, 1, 25.0}},
     .cfg = CFG_DEFAULT,
     .exp = {{SELL, "AAA", 12, CLOSE, 0, 0, 0}}},

    /* ---- LIMIT prices: ref +/- offset ---- */
    {.name = "LIMIT buy 20 bps above 50.00 -> 50.10",
     .unit = QTY,
     .tgt = {{"AAA", 100, 1, 50.0}},
     .cfg = CFG_LIMIT(20),
     .exp = {{BUY, "AAA", 100, OPEN, 0, 1, 50.10}}},
    {.name = "LIMIT sell 25 bps below 80.00 -> 79.80",
     .pos = {{"AAA", 100}},
     .unit = QTY,
     .tgt = {{"AAA", 0, 1, 80.0}},
     .cfg = CFG_LIMIT(25),
     .exp = {{SELL, "AAA", 100, CLOSE, 0, 1, 79.80}}},
    {.name = "LIMIT both legs through zero priced as sells: 120 - 10 bps = 119.88",
     .pos = {{"AAA", 10}},
     .unit = QTY,
     .tgt = {{"AAA", -10, 1, 120.0}},
     .cfg = CFG_LIMIT(10),
     .exp = {{SELL, "AAA", 10, CLOSE, 0, 1, 119.88},
             {SELL, "AAA", 10, OPEN, 1, 1, 119.88}}},
    {.name = "LIMIT with offset 0 is the ref price",
     .unit = QTY,
     .tgt = {{"AAA", 1, 1, 33.25}},
     .cfg = CFG_LIMIT(0),
     .exp = {{BUY, "AAA", 1, OPEN, 0, 1, 33.25}}},

    /* ---- invalid targets: an error, nothing planned ---- */
    {.name = "weight without nav",
     .unit = WEIGHT,
     .tgt = {{"AAA", 0.5, 1, 10.0}},
     .cfg = CFG_DEFAULT,
     .err = "weight target without a positive nav"},
    {.name = "weight with nav 0",
     .unit = WEIGHT,
     .has_nav = 1,
     .nav = 0,
     .tgt = {{"AAA", 0.5, 1, 10.0}},
     .cfg = CFG_DEFAULT,
     .err = "nav 0 is not a positive number"},
    {.name = "weight without ref_price",
     .unit = WEIGHT,
     .has_nav = 1,
     .nav = 1000,
     .tgt = {{"AAA", 0.5, 1, 10.0}, {"BBB", 0.5, 0, 0}},
     .cfg = CFG_DEFAULT,
     .err = "targets[1] BBB: weight target without a price"},
    {.name = "negative target without shorting",
     .unit = QTY,
     .tgt = {{"AAA", 10, 0, 0}, {"BBB", -1, 0, 0}},
     .cfg = CFG_NOSHORT,
     .err = "targets[1] BBB: negative target and shorting not allowed"},
    {.name = "NaN target",
     .unit = QTY,
     .tgt = {{"AAA", NAN, 0, 0}},
     .cfg = CFG_DEFAULT,
     .err = "targets[0] AAA: value not finite"},
    {.name = "infinite target",
     .unit = QTY,
     .tgt = {{"AAA", 1, 0, 0}, {"BBB", -INFINITY, 0, 0}},
     .cfg = CFG_DEFAULT,
     .err = "targets[1] BBB: value not finite"},
    {.name = "NaN ref price",
     .unit = QTY,
     .tgt = {{"AAA", 1, 1, NAN}},
     .cfg = CFG_DEFAULT,
     .err = "targets[0] AAA: bad ref_price"},
    {.name = "zero ref price",
     .unit = QTY,
     .tgt = {{"AAA", 1, 1, 0.0}},
     .cfg = CFG_DEFAULT,
     .err = "targets[0] AAA: bad ref_price"},
    /* ---- values that overflow the bounds while planning (te_msg.h) ---- */
    {.name = "weight x nav / price overflows to inf",
     .unit = WEIGHT,
     .has_nav = 1,
     .nav = 1e200,
     .tgt = {{"AAA", 1e200, 1, 1.0}},
     .cfg = CFG_DEFAULT,
     .err = "AAA: target quantity inf out of range"},
    {.name = "target quantity above the quantity bound",
     .unit = WEIGHT,
     .has_nav = 1,
     .nav = 1e15,
     .tgt = {{"AAA", 1000, 1, 1e-6}},
     .cfg = CFG_DEFAULT,
     .err = "AAA: target quantity 1e+24 out of range"},
    {.name = "position beyond the bounds (a DB row rebuilt as 1e300)",
     .pos = {{"AAA", 1e300}},
     .unit = QTY,
     .tgt = {{"AAA", 10, 0, 0}},
     .cfg = CFG_DEFAULT,
     .err = "AAA: order quantity 1e+300"},
    {.name = "notional above the notional bound",
     .unit = QTY,
     .tgt = {{"AAA", 2e6, 1, 9e8}},
     .cfg = CFG_DEFAULT,
     .err = "AAA: order quantity 2e+06 (notional 1.8e+15) out of range"},
    {.name = "duplicate ticker",
     .unit = QTY,
     .tgt = {{"BBB", 1, 0, 0}, {"AAA", 2, 0, 0}, {"BBB", 3, 0, 0}},
     .cfg = CFG_DEFAULT,
     .err = "duplicate ticker BBB"},
    {.name = "cap too small for two tickers",
     .unit = QTY,
     .tgt = {{"AAA", 1, 0, 0}, {"BBB", 1, 0, 0}},
     .cfg = CFG_DEFAULT,
     .cap = 1,
     .err = "more than 1 orders"},
    {.name = "cap too small for two legs",
     .pos = {{"AAA", 10}},
     .unit = QTY,
     .tgt = {{"AAA", -10, 0, 0}},
     .cfg = CFG_DEFAULT,
     .cap = 1,
     .err = "more than 1 orders"},
    {.name = "cap exactly enough",
     .pos = {{"AAA", 10}},
     .unit = QTY,
     .tgt = {{"AAA", -10, 0, 0}},
     .cfg = CFG_DEFAULT,
     .cap = 2,
     .exp = {{SELL, "AAA", 10, CLOSE, 0, 0, 0}, {SELL, "AAA", 10, OPEN, 1, 0, 0}}},
};

#define DECISION  "D-2024-01-02-001"
#define PORTFOLIO "P1"
#define AS_OF     INT64_C(1704214800000) /* 2024-01-02T17:00:00Z */

static void build_target(te_target_portfolio_t *tp, const plan_case_t *c)
{
        memset(tp, 0, sizeof *tp);
        te_strlcpy(tp->ids.decision_id, DECISION, sizeof tp->ids.decision_id);
        te_strlcpy(tp->ids.portfolio_id, PORTFOLIO, sizeof tp->ids.portfolio_id);
        te_strlcpy(tp->ids.strategy_id, "S1", sizeof tp->ids.strategy_id);
        te_strlcpy(tp->ids.profile_version_id, "PV1", sizeof tp->ids.profile_version_id);
        te_strlcpy(tp->ids.regime_id, "R1", sizeof tp->ids.regime_id);
        te_strlcpy(tp->ids.universe_id, "U1", sizeof tp->ids.universe_id);
        tp->mode = TE_MODE_TRAINING;
        tp->as_of = AS_OF;
        tp->unit = c->unit;
        tp->has_nav = c->has_nav;
        tp->nav = c->nav;
        tp->full_replace = c->full_replace;
        for (int i = 0; i < MAXN && c->tgt[i].ticker; i++) {
                te_target_t t;
                memset(&t, 0, sizeof t);
                te_strlcpy(t.ticker, c->tgt[i].ticker, sizeof t.ticker);
                t.value = c->tgt[i].value;
                t.has_ref_price = c->tgt[i].has_ref;
                t.ref_price = c->tgt[i].ref;
                assert_int_equal(te_target_portfolio_add(tp, &t), 0);
        }
}

static te_book_t *build_book(const plan_case_t *c)
{
        te_book_t *b = te_book_new();
        assert_non_null(b);
        const char *pf = c->pos_portfolio ? c->pos_portfolio : PORTFOLIO;
        for (int i = 0; i < MAXN && c->pos[i].ticker; i++)
                assert_int_equal(
                    te_book_set_position(b, pf, c->pos[i].ticker, c->pos[i].qty), 0);
        for (int i = 0; i < MAXN && c->open[i].ticker; i++) {
                char oid[32];
                snprintf(oid, sizeof oid, "open-%d", i);
                assert_int_equal(
                    te_book_add_order(b, oid, PORTFOLIO, c->open[i].ticker,
                                      c->open[i].side, c->open[i].qty, c->open[i].cum,
                                      c->open[i].cum > 0 ? TE_OS_PARTIALLY_FILLED
                                                         : TE_OS_NEW),
                    0);
        }
        return b;
}

static void build_cfg(te_order_plan_cfg_t *cfg, const plan_case_t *c)
{
        te_order_plan_cfg_defaults(cfg);
        cfg->lot_size = c->cfg.lot;
        cfg->min_qty = c->cfg.min_qty;
        cfg->min_notional = c->cfg.min_notional;
        cfg->allow_short = c->cfg.allow_short;
        cfg->order_type = c->cfg.type;
        cfg->limit_offset_bps = c->cfg.offset_bps;
}

static const tgt_in_t *find_tgt(const plan_case_t *c, const char *ticker)
{
        for (int i = 0; i < MAXN && c->tgt[i].ticker; i++)
                if (strcmp(c->tgt[i].ticker, ticker) == 0)
                        return &c->tgt[i];
        return NULL;
}

static int check_order(const plan_case_t *c, size_t k, const te_order_cmd_t *o,
                       const exp_order_t *e, const te_target_portfolio_t *tp,
                       const te_order_plan_cfg_t *cfg)
{
        char want_id[TE_ID_MAX];
        te_id_order(want_id, sizeof want_id, DECISION, PORTFOLIO, e->ticker, e->leg);
        if (e->cancel) {
                snprintf(want_id, sizeof want_id, "open-%d", e->leg);
                if (o->command != TE_CMD_CANCEL || strcmp(o->order_id, want_id) != 0 ||
                    strcmp(o->ticker, e->ticker) != 0 || o->side != e->side ||
                    fabs(o->quantity - e->qty) > 1e-9) {
                        print_error(
                            "%s: order %zu: got %s %s %s %s %.10g, expected CANCEL "
                            "%s\n",
                            c->name, k, te_command_name(o->command), o->order_id,
                            te_side_name(o->side), o->ticker, o->quantity, want_id);
                        return 0;
                }
                return 1;
        }
        const tgt_in_t *t = find_tgt(c, e->ticker);
        int has_ref = t && t->has_ref;
#define CHECK(cond, ...)                                                                 \
        do {                                                                             \
                if (!(cond)) {                                                           \
                        print_error("%s: order %zu: ", c->name, k);                      \
                        print_error(__VA_ARGS__);                                        \
                        print_error("\n");                                               \
                        return 0;                                                        \
                }                                                                        \
        } while (0)
        CHECK(o->command == TE_CMD_NEW, "command %d", (int)o->command);
        CHECK(o->side == e->side, "side %s, expected %s", te_side_name(o->side),
              te_side_name(e->side));
        CHECK(strcmp(o->ticker, e->ticker) == 0, "ticker %s, expected %s", o->ticker,
              e->ticker);
        CHECK(fabs(o->quantity - e->qty) < 1e-9, "quantity %.10g, expected %.10g",
              o->quantity, e->qty);
        CHECK(o->intent == e->intent, "intent %s, expected %s", te_intent_name(o->intent),
              te_intent_name(e->intent));
        CHECK(strcmp(o->order_id, want_id) == 0, "order_id %s, expected %s (leg %d)",
              o->order_id, want_id, e->leg);
        CHECK(o->has_limit_price == e->has_limit, "has_limit_price %d, expected %d",
              o->has_limit_price, e->has_limit);
        if (e->has_limit)
                CHECK(fabs(o->limit_price - e->limit) < 1e-9,
                      "limit %.10g, expected %.10g", o->limit_price, e->limit);
        CHECK(o->has_ref_price == has_ref, "has_ref_price %d", o->has_ref_price);
        if (has_ref)
                CHECK(o->ref_price == t->ref, "ref_price %.10g", o->ref_price);
        CHECK(o->order_type == cfg->order_type, "order_type %d", (int)o->order_type);
        CHECK(o->tif == TE_TIF_DAY, "tif %d", (int)o->tif);
        CHECK(o->aggressiveness == TE_AGGR_NORMAL, "aggressiveness %d",
              (int)o->aggressiveness);
        CHECK(o->mode == tp->mode, "mode %d", (int)o->mode);
        CHECK(o->event_time == tp->as_of, "event_time %lld", (long long)o->event_time);
        CHECK(strcmp(o->route, "sim") == 0, "route %s", o->route);
        CHECK(memcmp(&o->ids, &tp->ids, sizeof o->ids) == 0, "attribution ids differ");
        CHECK(!o->has_stop_price, "has_stop_price set");
#undef CHECK
        return 1;
}

static int run_case(const plan_case_t *c)
{
        te_target_portfolio_t tp;
        te_order_plan_cfg_t cfg;
        te_order_cmd_t out[MAXN];
        size_t n = 999;
        char err[256] = "";
        int ok = 1;

        build_target(&tp, c);
        te_book_t *book = build_book(c);
        build_cfg(&cfg, c);
        memset(out, 0, sizeof out);
        int rc = te_order_plan_target(&cfg, NULL, book, &tp, out, c->cap ? c->cap : MAXN,
                                      &n, err, sizeof err);
        if (c->err) {
                if (rc >= 0 || n != 0 || !strstr(err, c->err)) {
                        print_error("%s: rc %d n %zu err \"%s\", expected error \"%s\"\n",
                                    c->name, rc, n, err, c->err);
                        ok = 0;
                }
                goto out;
        }
        size_t n_exp = 0;
        while (n_exp < MAXN && c->exp[n_exp].ticker)
                n_exp++;
        if (rc != 0 || n != n_exp) {
                print_error("%s: rc %d err \"%s\", %zu orders, expected %zu\n", c->name,
                            rc, err, n, n_exp);
                for (size_t k = 0; rc == 0 && k < n; k++)
                        print_error("  got %s %s %.10g %s\n", te_side_name(out[k].side),
                                    out[k].ticker, out[k].quantity,
                                    te_intent_name(out[k].intent));
                ok = 0;
                goto out;
        }
        for (size_t k = 0; k < n; k++)
                if (!check_order(c, k, &out[k], &c->exp[k], &tp, &cfg))
                        ok = 0;
        /* planning does not change the book */
        for (int i = 0; i < MAXN && c->pos[i].ticker; i++) {
                const char *pf = c->pos_portfolio ? c->pos_portfolio : PORTFOLIO;
                if (te_book_position(book, pf, c->pos[i].ticker) != c->pos[i].qty) {
                        print_error("%s: book position of %s changed\n", c->name,
                                    c->pos[i].ticker);
                        ok = 0;
                }
        }
out:
        te_book_destroy(book);
        te_target_portfolio_free(&tp);
        return ok;
}

static void test_order_plan_cases(void **state)
{
        (void)state;
        size_t n = sizeof plan_cases / sizeof plan_cases[0];
        size_t failed = 0;
        assert_true(n >= 30);
        for (size_t i = 0; i < n; i++)
                if (!run_case(&plan_cases[i]))
                        failed++;
        if (failed) {
                print_error("%zu of %zu cases failed\n", failed, n);
                fail();
        }
}

static void test_order_plan_round_lot(void **state)
{
        (void)state;
        static const struct {
                double q, lot, expect;
        } cases[] = {
            {157, 100, 100},
            {-157, 100, -100},
            {99, 100, 0},
            {-99, 100, 0},
            {100, 100, 100},
            {200, 100, 200},
            {0, 100, 0},
            {10.9, 1, 10},
            {-10.9, 1, -10},
            {7, 5, 5},
            {0.75, 0.25, 0.75},
            {0.8, 0.25, 0.75},
            /* floating-point noise just below a multiple counts as the multiple */
            {299.99999999999, 100, 300},
            {0.1 + 0.2, 0.1, 0.3},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                double got = te_order_plan_round_lot(cases[i].q, cases[i].lot);
                if (fabs(got - cases[i].expect) > 1e-9) {
                        print_error("round_lot(%.17g, %g) = %.17g, expected %g\n",
                                    cases[i].q, cases[i].lot, got, cases[i].expect);
                        fail();
                }
        }
}

/* Two tickers, one through zero: enough to exercise every id the planner makes. */
static void plan_sample(te_order_cmd_t *out, size_t *n, te_mode_t mode, int64_t as_of,
                        int reversed)
{
        te_target_portfolio_t tp;
        memset(&tp, 0, sizeof tp);
        te_strlcpy(tp.ids.decision_id, DECISION, sizeof tp.ids.decision_id);
        te_strlcpy(tp.ids.portfolio_id, PORTFOLIO, sizeof tp.ids.portfolio_id);
        tp.mode = mode;
        tp.as_of = as_of;
        tp.unit = QTY;
        te_target_t a = {.ticker = "AAA", .value = -20};
        te_target_t b = {
            .ticker = "BBB", .value = 30, .has_ref_price = 1, .ref_price = 9.5};
        assert_int_equal(te_target_portfolio_add(&tp, reversed ? &b : &a), 0);
        assert_int_equal(te_target_portfolio_add(&tp, reversed ? &a : &b), 0);
        te_book_t *book = te_book_new();
        assert_non_null(book);
        assert_int_equal(te_book_set_position(book, PORTFOLIO, "AAA", 50), 0);
        te_order_plan_cfg_t cfg;
        te_order_plan_cfg_defaults(&cfg);
        char err[128];
        assert_int_equal(
            te_order_plan_target(&cfg, NULL, book, &tp, out, MAXN, n, err, sizeof err),
            0);
        te_book_destroy(book);
        te_target_portfolio_free(&tp);
}

static void test_order_plan_deterministic_ids(void **state)
{
        (void)state;
        te_order_cmd_t a[MAXN], b[MAXN], c[MAXN];
        size_t na, nb, nc;
        plan_sample(a, &na, TE_MODE_TRAINING, AS_OF, 0);
        plan_sample(b, &nb, TE_MODE_TRAINING, AS_OF, 0);
        plan_sample(c, &nc, TE_MODE_TRAINING, AS_OF, 1); /* targets in another order */
        assert_int_equal(na, 3);
        assert_int_equal(nb, 3);
        assert_int_equal(nc, 3);
        for (size_t i = 0; i < na; i++) {
                assert_string_equal(a[i].order_id, b[i].order_id);
                assert_string_equal(a[i].order_id, c[i].order_id);
                assert_true(a[i].quantity == b[i].quantity && a[i].side == b[i].side);
                assert_true(a[i].quantity == c[i].quantity && a[i].side == c[i].side);
        }

        /* the ids are te_id_order's of (decision, portfolio, ticker, leg) */
        static const struct {
                const char *ticker;
                int leg;
                te_intent_t intent;
        } expect[] = {
            {"AAA", 0, CLOSE},
            {"AAA", 1, OPEN},
            {"BBB", 0, OPEN},
        };
        for (size_t i = 0; i < 3; i++) {
                char id[TE_ID_MAX];
                te_id_order(id, sizeof id, DECISION, PORTFOLIO, expect[i].ticker,
                            expect[i].leg);
                assert_string_equal(a[i].ticker, expect[i].ticker);
                assert_int_equal(a[i].intent, expect[i].intent);
                assert_string_equal(a[i].order_id, id);
                assert_int_equal(strlen(a[i].order_id), 1 + TE_ID_HEX_LEN);
                assert_int_equal(a[i].order_id[0], 'o');
        }
        /* legs of one ticker get different ids, and every id is distinct */
        assert_string_not_equal(a[0].order_id, a[1].order_id);
        assert_string_not_equal(a[0].order_id, a[2].order_id);
        assert_string_not_equal(a[1].order_id, a[2].order_id);
}

static void test_order_plan_mode_and_time_copied(void **state)
{
        (void)state;
        static const struct {
                te_mode_t mode;
                int64_t as_of;
        } cases[] = {
            {TE_MODE_TRAINING, INT64_C(1704214800000)},
            {TE_MODE_PRODUCTION, INT64_C(1735689600123)},
            {TE_MODE_TRAINING, 0},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_order_cmd_t out[MAXN];
                size_t n;
                plan_sample(out, &n, cases[i].mode, cases[i].as_of, 0);
                assert_int_equal(n, 3);
                for (size_t k = 0; k < n; k++) {
                        assert_int_equal(out[k].mode, cases[i].mode);
                        assert_true(out[k].event_time == cases[i].as_of);
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_order_plan_cases),
            cmocka_unit_test(test_order_plan_round_lot),
            cmocka_unit_test(test_order_plan_deterministic_ids),
            cmocka_unit_test(test_order_plan_mode_and_time_copied),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
