/*
 * bench_planner: planner.core — instrument deltas planned per second in process
 * (te_plan_run over 10,000-instrument portfolios: weights to quantities with the
 * message's NAV and prices, book lookups, working orders, lot and minimum-size rules,
 * child splitting, order ids and commands), against a plain loop computing the same
 * deltas (book lookup by ticker, weight -> quantity, minus position and working
 * quantity, lot rounding) with none of the planner's rules and no commands.
 *
 *   bench_planner [ROUNDS_PLANS]   plans per timed round (default 300); 3 rounds, best
 *
 * stdout, one line:
 *   BENCH name=planner.core value=<deltas/s> unit=deltas/s baseline=<deltas/s> ratio=<x>
 * stderr: orders per plan and details.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../plan_defaults.h"
#include "book.h"
#include "order_plan.h"
#include "te_buf.h"

#define N_INSTR 10000
#define ROUNDS  3
#define N_PF    4

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char pf_ids[N_PF][16];

/* Deterministic pseudo-random numbers (xorshift). */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double urand(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (double)(rng >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
        long plans = argc > 1 ? strtol(argv[1], NULL, 10) : 300;
        if (plans <= 0)
                plans = 300;
        te_book_t *book = te_book_new();
        te_plan_ws_t *ws = te_plan_ws_new(4 * N_INSTR);
        te_target_portfolio_t tps[N_PF];
        double nav = 1e8;
        if (!book || !ws)
                return 1;
        memset(tps, 0, sizeof tps);
        for (int p = 0; p < N_PF; p++) {
                snprintf(pf_ids[p], sizeof pf_ids[p], "pf-%d", p);
                te_target_portfolio_t *tp = &tps[p];
                snprintf(tp->ids.decision_id, sizeof tp->ids.decision_id,
                         "dec-20240603-%d", p);
                te_strlcpy(tp->ids.portfolio_id, pf_ids[p], sizeof tp->ids.portfolio_id);
                te_strlcpy(tp->ids.strategy_id, "momentum-us",
                           sizeof tp->ids.strategy_id);
                tp->mode = TE_MODE_PRODUCTION;
                tp->as_of = 1717428600000;
                tp->unit = TE_UNIT_WEIGHT;
                tp->has_nav = 1;
                tp->nav = nav;
                tp->full_replace = 1;
                for (int i = 0; i < N_INSTR; i++) {
                        te_target_t t;
                        memset(&t, 0, sizeof t);
                        snprintf(t.ticker, sizeof t.ticker, "T%05d", i);
                        double px = 10 + 190 * urand();
                        double w = 1.0 / N_INSTR * (0.5 + urand());
                        t.value = w;
                        t.has_ref_price = 1;
                        t.ref_price = px;
                        if (te_target_portfolio_add(tp, &t) != 0)
                                return 1;
                        /* held near target: about half the deltas round to nothing */
                        double q = floor(w * nav / px);
                        double held =
                            urand() < 0.5 ? q : floor(q * (0.8 + 0.3 * urand()));
                        te_book_set_position(book, pf_ids[p], t.ticker, held);
                        if (i % 100 == 0) { /* 1% with a working order */
                                char oid[48];
                                snprintf(oid, sizeof oid, "w-%d-%d", p, i);
                                te_book_add_order(book, oid, pf_ids[p], t.ticker,
                                                  TE_SIDE_BUY, 10, 0, TE_OS_NEW);
                        }
                }
        }
        te_plan_cfg_t cfg;
        te_plan_cfg_defaults(&cfg);
        cfg.min_notional = 100;
        cfg.max_qty = 5000;
        te_plan_env_t env = {.level = TE_LEVEL_NORMAL};

        double best = 0, best_base = 0;
        size_t orders = 0;
        char errstr[256];
        volatile double sink = 0;
        for (int r = 0; r < ROUNDS; r++) {
                double t0 = now_s();
                for (long k = 0; k < plans; k++) {
                        const te_order_cmd_t *out;
                        size_t n;
                        te_plan_err_t e =
                            te_plan_run(ws, &cfg, &env, book, &tps[k % N_PF], &out, &n,
                                        errstr, sizeof errstr);
                        if (e != TE_PLAN_OK) {
                                fprintf(stderr, "plan: %s\n", errstr);
                                return 1;
                        }
                        orders = n;
                }
                double rate = (double)plans * N_INSTR / (now_s() - t0);
                if (rate > best)
                        best = rate;

                /* baseline: the same deltas, plainly */
                t0 = now_s();
                for (long k = 0; k < plans; k++) {
                        const te_target_portfolio_t *tp = &tps[k % N_PF];
                        const te_book_pf_t *pf =
                            te_book_portfolio(book, tp->ids.portfolio_id);
                        double acc = 0;
                        for (size_t i = 0; i < tp->n_targets; i++) {
                                const te_target_t *t = &tp->targets[i];
                                const te_book_pos_t *p = te_book_pf_find(pf, t->ticker);
                                double q = t->value * tp->nav / t->ref_price;
                                double d = q - te_book_pos_qty(p) - te_book_pos_open(p);
                                acc += te_plan_round_lot(d, 1.0);
                        }
                        sink += acc;
                }
                rate = (double)plans * N_INSTR / (now_s() - t0);
                if (rate > best_base)
                        best_base = rate;
        }
        fprintf(stderr,
                "planner.core: %d instruments x %d portfolios, %zu commands per plan, "
                "%.0f deltas/s (plain loop %.0f/s)\n",
                N_INSTR, N_PF, orders, best, best_base);
        printf("BENCH name=planner.core value=%.0f unit=deltas/s baseline=%.0f "
               "ratio=%.3f\n",
               best, best_base, best / best_base);
        for (int p = 0; p < N_PF; p++)
                te_target_portfolio_free(&tps[p]);
        te_plan_ws_destroy(ws);
        te_book_destroy(book);
        return sink == 12345.678 ? 2 : 0;
}
