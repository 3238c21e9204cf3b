/*
 * broker_defaults: the adapters' configs with the defaults of the exec-broker table
 * (brokers/broker_conf.c), for unit tests, tools and benchmarks that build an adapter
 * without the process (plan_defaults.h: the same for the planner). Each returns 0, or -1
 * when a table default does not parse (the struct is then zeroed and the caller's asserts
 * fail).
 */
#ifndef TE_TEST_BROKER_DEFAULTS_H
#define TE_TEST_BROKER_DEFAULTS_H

#include <stdio.h>
#include <string.h>

#include "broker_adapter.h"
#include "broker_conf.h"

/* The exec-broker conf with its table's defaults, or NULL (printed). */
static inline te_broker_worker_conf_t *te_test_broker_conf(te_broker_worker_conf_t *c)
{
        char errstr[256];
        memset(c, 0, sizeof *c);
        if (te_cfg_defaults(te_broker_conf_items, te_broker_conf_n_items, c, errstr,
                            sizeof errstr) == 0)
                return c;
        fprintf(stderr, "exec-broker table: %s\n", errstr);
        return NULL;
}

/* As exec-broker builds them: broker.name, broker.account, db.conninfo filled in. */
static inline int te_sim_cfg_defaults(te_sim_cfg_t *cfg)
{
        te_broker_worker_conf_t c;
        char errstr[256];
        memset(cfg, 0, sizeof *cfg);
        return te_test_broker_conf(&c)
                   ? te_adapter_sim_cfg(&c, cfg, errstr, sizeof errstr)
                   : -1;
}

static inline int te_fill_cfg_defaults(te_fill_cfg_t *cfg)
{
        te_broker_worker_conf_t c;
        memset(cfg, 0, sizeof *cfg);
        if (!te_test_broker_conf(&c))
                return -1;
        *cfg = c.sim.fill;
        return 0;
}

static inline int te_ibkr_cfg_defaults(te_ibkr_cfg_t *cfg)
{
        te_broker_worker_conf_t c;
        memset(cfg, 0, sizeof *cfg);
        if (!te_test_broker_conf(&c))
                return -1;
        te_adapter_ibkr_cfg(&c, cfg);
        return 0;
}

static inline int te_fix_cfg_defaults(te_fix_cfg_t *cfg)
{
        te_broker_worker_conf_t c;
        memset(cfg, 0, sizeof *cfg);
        if (!te_test_broker_conf(&c))
                return -1;
        te_adapter_fix_cfg(&c, cfg);
        return 0;
}

#endif
