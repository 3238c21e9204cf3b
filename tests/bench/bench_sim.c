/*
 * bench_sim: sim.core — bar evaluations (fills evaluated) per second of the simulator
 * in process: 500 tickers x 2520 days of synthetic bars, one portfolio; every day a
 * CLOCK, then one GTC MARKET order per ticker of about 4% of the day's volume (so each
 * fills over two bars at a 2.5% cap). The baseline is te_fill_bar alone over the same
 * number of (order, bar) pairs: the pure fill model without book, ids and reports.
 *
 *   BENCH name=sim.core value=<evals/s> unit=evals/s baseline=<evals/s> ratio=<x>
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../broker_defaults.h"
#include "broker_sim.h"
#include "te_buf.h"
#include "te_ids.h"
#include "te_proc.h"

#define TICKERS 500
#define DAYS    2520
#define DAY0    14610 /* 2010-01-01 */
#define MS_DAY  INT64_C(86400000)

static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (double)(rng >> 11) / 9007199254740992.0;
}

int main(void)
{
        te_bars_t *bars = te_bars_new();
        char err[128], tk[TICKERS][16];
        if (!bars)
                return 1;
        for (int t = 0; t < TICKERS; t++) {
                snprintf(tk[t], sizeof tk[t], "T%03d", t);
                double px = 20 + 80 * urand();
                for (int d = 0; d < DAYS; d++) {
                        double o = px * (1 + 0.01 * (urand() - 0.5));
                        double c = o * (1 + 0.02 * (urand() - 0.5));
                        double h = (o > c ? o : c) * (1 + 0.01 * urand());
                        double l = (o < c ? o : c) * (1 - 0.01 * urand());
                        te_bar_t b = {
                            DAY0 + d, o, h, l, c, 20000 + (double)(int)(80000 * urand())};
                        if (te_bars_add(bars, tk[t], &b, err, sizeof err) != 0) {
                                fprintf(stderr, "bench_sim: %s\n", err);
                                return 1;
                        }
                        px = c;
                }
        }
        te_sim_cfg_t cfg;
        te_sim_cfg_defaults(&cfg);
        te_broker_t *s = te_sim_new(&cfg, bars);
        te_reports_t out = {0};
        te_order_cmd_t c;
        memset(&c, 0, sizeof c);
        c.mode = TE_MODE_TRAINING;
        te_strlcpy(c.ids.portfolio_id, "P1", sizeof c.ids.portfolio_id);
        te_strlcpy(c.ids.decision_id, "D", sizeof c.ids.decision_id);
        c.order_type = TE_OT_MARKET;
        c.tif = TE_TIF_GTC;
        int64_t t0 = te_proc_mono_ns();
        for (int d = 0; d < DAYS; d++) {
                int64_t t = (int64_t)(DAY0 + d) * MS_DAY + 22 * INT64_C(3600000);
                c.command = TE_CMD_CLOCK;
                c.event_time = t;
                te_id_clock(c.order_id, sizeof c.order_id, "P1", t);
                te_reports_clear(&out);
                if (te_broker_handle(s, &c, &out) != TE_BROKER_OK)
                        return 1;
                c.command = TE_CMD_NEW;
                for (int k = 0; k < TICKERS; k++) {
                        snprintf(c.order_id, sizeof c.order_id, "o-%d-%d", d, k);
                        te_strlcpy(c.ticker, tk[k], sizeof c.ticker);
                        c.side = (d + k) % 2 ? TE_SIDE_BUY : TE_SIDE_SELL;
                        c.quantity = 2000;
                        te_reports_clear(&out);
                        if (te_broker_handle(s, &c, &out) != TE_BROKER_OK)
                                return 1;
                }
        }
        int64_t t1 = te_proc_mono_ns();
        te_sim_stats_t st;
        te_sim_stats(s, &st);
        double rate = (double)st.evals / ((double)(t1 - t0) / 1e9);

        /* baseline: the pure model over as many (order, bar) pairs */
        const te_bar_t *first = NULL;
        size_t nb = te_bars_range(bars, tk[0], DAY0 - 1, DAY0 + DAYS, &first);
        te_fill_order_t fo = {
            TE_SIDE_BUY, TE_OT_MARKET, TE_TIF_GTC, TE_AGGR_NORMAL, 2000, 0, 0, 0};
        te_fill_t f;
        double sink = 0;
        int64_t b0 = te_proc_mono_ns();
        for (uint64_t i = 0; i < st.evals; i++) {
                fo.side = i & 1 ? TE_SIDE_BUY : TE_SIDE_SELL;
                te_fill_bar(&cfg.fill, &fo, &first[i % nb], TE_PHASE_FULL, &f);
                sink += f.price;
        }
        int64_t b1 = te_proc_mono_ns();
        double base = (double)st.evals / ((double)(b1 - b0) / 1e9);
        fprintf(stderr,
                "bench_sim: %" PRIu64 " evals, %" PRIu64 " fills, %" PRIu64
                " open at the end (checksum %.1f)\n",
                st.evals, st.fills, st.open_orders, sink);
        printf("BENCH name=sim.core value=%.0f unit=evals/s baseline=%.0f ratio=%.3f\n",
               rate, base, rate / base);
        te_reports_free(&out);
        te_broker_destroy(s);
        te_bars_destroy(bars);
        return 0;
}
