/*
 * plan_defaults: the order planner's config with the defaults of the exec-planner table
 * (planner/planner_conf.c), for unit tests and benchmarks that plan without the process
 * (returns 0, or -1 when a table default does not parse: the struct is then zeroed and
 * the caller's asserts fail), and a one-shot plan into the caller's array.
 */
#ifndef TE_TEST_PLAN_DEFAULTS_H
#define TE_TEST_PLAN_DEFAULTS_H

#include <stdio.h>
#include <string.h>

#include "order_plan.h"
#include "planner_conf.h"

/* The plan.* defaults (no rules). */
static inline int te_order_plan_cfg_defaults(te_order_plan_cfg_t *cfg)
{
        te_planner_conf_t c;
        char errstr[256];
        memset(cfg, 0, sizeof *cfg);
        memset(&c, 0, sizeof c);
        if (te_cfg_defaults(te_planner_conf_items, te_planner_conf_n_items, &c, errstr,
                            sizeof errstr) != 0) {
                fprintf(stderr, "exec-planner table: %s\n", errstr);
                return -1;
        }
        *cfg = c.plan;
        return 0;
}

/* te_order_plan_run once, copying at most `cap` commands into `out`.
 * @returns TE_ORDER_PLAN_OK or an error (TE_ORDER_PLAN_E_TOO_MANY when more than cap). */
static inline te_order_plan_err_t
te_order_plan_target(const te_order_plan_cfg_t *cfg, const te_order_plan_env_t *env,
                     const te_book_t *book, const te_target_portfolio_t *tp,
                     te_order_cmd_t *out, size_t cap, size_t *n_out, char *errstr,
                     size_t errsz)
{
        const te_order_cmd_t *o;
        size_t n;
        *n_out = 0;
        te_order_plan_ws_t *ws = te_order_plan_ws_new(cap);
        if (!ws) {
                snprintf(errstr, errsz, "out of memory");
                return TE_ORDER_PLAN_E_NOMEM;
        }
        te_order_plan_err_t err =
            te_order_plan_run(ws, cfg, env, book, tp, &o, &n, errstr, errsz);
        if (err == TE_ORDER_PLAN_E_TOO_MANY)
                snprintf(errstr, errsz, "more than %zu orders", cap);
        if (err == TE_ORDER_PLAN_OK) {
                if (n)
                        memcpy(out, o, n * sizeof *o);
                *n_out = n;
        }
        te_order_plan_ws_destroy(ws);
        return err;
}

#endif
