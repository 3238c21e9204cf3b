/*
 * broker_sim: the TRAINING market simulator behind the broker interface.
 *
 * An open-order book on an event-time clock (docs/DESIGN.md invariant 6); the per-bar
 * rules are fill_model.h's. Time is event time only, per portfolio:
 *
 *   NEW at t      ACK (or REJECTED: unknown ticker, no bar within max_stale_days of t,
 *                 or the reference bar has no volume = halted). With market_at=close
 *                 the order is evaluated at once against the close of the latest bar
 *                 on or before t (the foundation's "close of the as_of bar"); with
 *                 market_at=next_open it waits for the next bar.
 *   CLOCK(t)      for each open order of that portfolio (in arrival order): evaluate
 *                 every bar after the last one it saw up to day(t) (FULL phase), then
 *                 expire what expires; publish CLOCK_ACK(t) LAST. The clock state
 *                 is each order's own: a CLOCK before the order's event time, or not
 *                 after the last CLOCK it saw, does nothing to it.
 *   CANCEL        a live order: CANCELED (cum, leaves 0). Unknown or finished: logged,
 *                 no report (cancel too late).
 *   REPLACE       modifies a live order in place (same order_id): `quantity` is the new
 *                 total (must exceed cum), limit/stop/tif from the command; reports
 *                 REPLACED with the live status and the new leaves. Unknown or
 *                 finished: logged, no report. Invalid for a live order (other side
 *                 or ticker, quantity not above cum, bad values): REJECTED with the
 *                 order's live status, cum and leaves on its old terms and reason
 *                 "replace refused: ..." (the order keeps working).
 *
 * TIF: DAY expires after its session bar (the first bar evaluated), at that CLOCK
 * (or the next CLOCK when it was evaluated on arrival); GTC rests until filled or
 * cancelled; IOC cancels what the first bar leaves; FOK fills in full on its first
 * bar or is cancelled; OPG trades only at the next open, CLS only at a close, then
 * expire. Fill event time: the bar's day at 14:30 / 21:00 UTC, never after
 * the clock and never before the order; fills on arrival carry the order's time.
 * Report ids: te_id_sim_report(order_id, kind, seq): ack/0, fill/1.., cancel/0,
 * expire/0, replace/n, replace_refused/n, reject/0, clock/0. A NEW for an order id
 * already seen is ignored (duplicate delivery).
 *
 * Rebuilt by replay (broker.h): what happens to an order depends only on the commands
 * from its NEW on (its own bars, volume cap and clock; nothing shared with the other
 * orders), so the worker, which stores the offset of the oldest open order with its
 * committed offsets, rebuilds exactly the lost book by replaying from there after
 * te_sim_reset.
 */
#ifndef TE_BROKER_SIM_H
#define TE_BROKER_SIM_H

#include <stdint.h>

#include "bars.h"
#include "broker.h"
#include "fill_model.h"

#define TE_SIM_MAX_TICKS 256

/* One instrument's own price increment (others use fill.price_increment). */
typedef struct te_sim_tick_s {
        char ticker[TE_TICKER_MAX];
        double increment;
} te_sim_tick_t;

/* The simulator's settings; their defaults are exec-broker's (sim.*, broker.name,
 * broker.account: broker_conf.c). */
typedef struct te_sim_cfg_s {
        te_fill_cfg_t fill;                    /* fill_model.h */
        te_sim_tick_t ticks[TE_SIM_MAX_TICKS]; /* per-instrument price increments */
        size_t n_ticks;
        int max_stale_days;            /* an older reference bar means no market data */
        char broker_name[TE_NAME_MAX]; /* written to reports */
        char account[TE_NAME_MAX];
} te_sim_cfg_t;

/** Create a simulator over `bars` (borrowed: must outlive it).
 *  @returns NULL on OOM. */
te_broker_t *te_sim_new(const te_sim_cfg_t *cfg, te_bars_t *bars);

/** Forget every order (open or finished): the worker's partitions changed and it
 *  rebuilds the book by replay. @returns 0, or -1 on OOM (the book is unchanged). */
int te_sim_reset(te_broker_t *b);

/** Counters: bar evaluations (fills tried) and fills made, open orders. */
typedef struct te_sim_stats_s {
        uint64_t evals, fills, open_orders;
} te_sim_stats_t;
void te_sim_stats(const te_broker_t *b, te_sim_stats_t *out);

/** Parse "TICKER=increment,..." (spaces allowed around items; "" clears) into
 *  cfg->ticks: each increment > 0 and at most 1000, a ticker at most once.
 *  @returns 0, or -1 with errstr naming the item (cfg->ticks unchanged). */
int te_sim_parse_ticks(te_sim_cfg_t *cfg, const char *spec, char *errstr, size_t errsz);
/** The price increment of `ticker`: its own, else cfg->fill.price_increment. */
double te_sim_tick_of(const te_sim_cfg_t *cfg, const char *ticker);

#endif
