/*
 * broker_sim: the TRAINING market simulator behind the broker interface.
 *
 * Foundation fill model: a MARKET order fills in full, at once, at the close of the
 * latest bar on or before its event time (the target's as_of), moved against the
 * order by `slippage_bps`, rounded to the nearest 0.0001 (half away from zero).
 * Commission = max(commission_min, quantity * commission_per_share), rounded the
 * same way. No bar, or a bar with zero volume, rejects the order. Other order types
 * are rejected with a reason until the full fill model lands. Time is event time only.
 * A NEW for an order id already seen is ignored (duplicate delivery).
 */
#ifndef TE_BROKER_SIM_H
#define TE_BROKER_SIM_H

#include "bars.h"
#include "broker.h"

typedef struct te_sim_cfg_s {
        double slippage_bps;           /* default 5 */
        double commission_per_share;   /* default 0.005 */
        double commission_min;         /* default 1.00 */
        char broker_name[TE_NAME_MAX]; /* default "sim" */
        char account[TE_NAME_MAX];     /* default "SIM-1" */
} te_sim_cfg_t;

void te_sim_cfg_defaults(te_sim_cfg_t *cfg);

/** Create a simulator over `bars` (borrowed: must outlive it).
 *  @returns NULL on OOM. */
te_broker_t *te_sim_new(const te_sim_cfg_t *cfg, te_bars_t *bars);

/** Round to 4 decimals, half away from zero. */
double te_sim_round4(double v);

#endif
