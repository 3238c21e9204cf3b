/*
 * exec-planner: exec.targets (+ exec.mode, exec.reports) -> exec.orders.
 *
 * This file is the process life cycle over the config table of planner_conf.c; the
 * planner itself (rebuild on assignment, planning, execution levels, commits) is
 * planner*.c (see planner_int.h), the order logic order_plan.c, the sizing rules
 * plan_rules.c.
 */
#include <stdio.h>

#include "planner.h"
#include "planner_conf.h"
#include "te_cfgtab.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_proc.h"

#define PROC "exec-planner"

int main(int argc, char **argv)
{
        static te_planner_conf_t conf;
        char errstr[512];
        int rc = 1;
        te_cfg_t *cfg =
            te_cfgtab_start(PROC, te_planner_conf_items, te_planner_conf_n_items, &conf,
                            &conf.common, argc, argv);
        if (!cfg)
                return te_cfgtab_exit_code();
        te_proc_install_signals();
        te_http_t *http = NULL;
        if (te_obs_start(&conf.common, PROC,
                         TE_OBS_NEED_KAFKA | (conf.db_enabled ? TE_OBS_NEED_DB : 0u),
                         &http, errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "planner.metrics", "%s", errstr);
                te_cfg_destroy(cfg);
                return 1;
        }
        te_planner_t *pl = te_planner_new(&conf, cfg, errstr, sizeof errstr);
        if (!pl) {
                TE_LOG(TE_LOG_ERROR, NULL, "planner.init", "%s", errstr);
                goto out;
        }
        rc = te_planner_run(pl) == 0 ? 0 : 1;
out:
        te_planner_destroy(pl);
        te_obs_stop(http);
        te_cfg_destroy(cfg);
        return rc;
}
