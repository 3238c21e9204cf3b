/*
 * broker_guard: the broker worker's pre-trade checks and order expiry (docs/DESIGN.md
 * "Brokers"), in front of te_broker_handle's mode gate.
 *
 * For NEW and REPLACE commands, in this order:
 *   - expiry: a command older than max_age_ms when the worker can take it (its Kafka
 *     timestamp against the wall clock: e.g. it waited out a broker outage) is answered
 *     with EXPIRED and a reason instead of being sent late;
 *   - max quantity, then max notional (quantity x limit price, else x reference price;
 *     a command with neither price passes the notional check), then max orders per
 *     second (a token bucket over the wall clock: `rate` tokens per second, burst
 *     `rate`): a breach is answered with REJECTED and a reason naming the limit.
 * CANCEL and CLOCK always pass (cancelling is always allowed; the clock is not an
 * order). A limit of 0 is off. Report ids are deterministic (order id + kind).
 * Note: in TRAINING the wall-clock checks (expiry, orders/s) make a replay depend on
 * timing; they are off by default.
 */
#ifndef TE_BROKER_GUARD_H
#define TE_BROKER_GUARD_H

#include <stdint.h>

#include "broker.h"

typedef struct te_guard_cfg_s {
        double max_qty;            /* 0: no limit */
        double max_notional;       /* 0: no limit */
        double max_orders_per_sec; /* 0: no limit */
        int64_t max_age_ms;        /* 0: orders never expire */
} te_guard_cfg_t;

typedef enum {
        TE_GUARD_PASS = 0,
        TE_GUARD_REJECTED = 1,
        TE_GUARD_EXPIRED = 2,
} te_guard_verdict_t;

typedef struct te_guard_s {
        te_guard_cfg_t cfg;
        double tokens;
        int64_t last_ms; /* last refill; -1 before the first order */
} te_guard_t;

void te_guard_init(te_guard_t *g, const te_guard_cfg_t *cfg);
/** Check `cmd`, produced at `produced_ms` (Kafka timestamp, wall ms; <= 0: unknown, no
 *  expiry), at wall time `now_ms`. On REJECTED/EXPIRED one report is appended to `out`
 *  (broker `broker_name`); on PASS nothing. An OOM while appending is reported as
 *  PASS with *oom set. */
te_guard_verdict_t te_guard_check(te_guard_t *g, const te_order_cmd_t *cmd,
                                  int64_t produced_ms, int64_t now_ms,
                                  const char *broker_name, te_reports_t *out, int *oom);

#endif
