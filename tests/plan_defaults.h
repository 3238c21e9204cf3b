/*
 * plan_defaults: the order planner's config with the defaults of the exec-planner table
 * (planner/planner_conf.c), for unit tests and benchmarks that plan without the process.
 * Returns 0, or -1 when a table default does not parse (the struct is then zeroed and
 * the caller's asserts fail).
 */
#ifndef TE_TEST_PLAN_DEFAULTS_H
#define TE_TEST_PLAN_DEFAULTS_H

#include <stdio.h>
#include <string.h>

#include "planner_conf.h"

/* The plan.* defaults (no rules). */
static inline int te_plan_cfg_defaults(te_plan_cfg_t *cfg)
{
        te_planner_conf_t c;
        char errstr[256];
        memset(cfg, 0, sizeof *cfg);
        if (te_planner_conf_defaults(&c, errstr, sizeof errstr) != 0) {
                fprintf(stderr, "exec-planner table: %s\n", errstr);
                return -1;
        }
        *cfg = c.plan;
        return 0;
}

#endif
