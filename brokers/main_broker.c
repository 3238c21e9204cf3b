/*
 * exec-broker: exec.orders -> adapter -> exec.reports.
 *
 * This file is the process life cycle over the config table of broker_conf.c (whose
 * rows point into the adapters' own config structs); the worker itself (order
 * path, broker watch, commits, rebuild on assignment) is broker_worker.c, the adapter
 * it runs is built by broker_adapter.c (sim, ibkr or fix, with the fault decorator), and
 * the offsets it commits are kept by order_ledger.c.
 */
#include <stdio.h>

#include "broker_conf.h"
#include "broker_worker.h"
#include "te_cfgtab.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_proc.h"

#define PROC "exec-broker"

int main(int argc, char **argv)
{
        static te_broker_worker_conf_t conf;
        char errstr[512];
        int rc = 1, bad_setting = 0;
        te_cfg_t *cfg =
            te_cfgtab_start(PROC, te_broker_conf_items, te_broker_conf_n_items, &conf,
                            &conf.common, argc, argv);
        if (!cfg)
                return te_cfgtab_exit_code();
        te_proc_install_signals();
        te_http_t *http = NULL;
        te_broker_worker_t *w = NULL;
        if (te_obs_start(&conf.common, PROC, TE_OBS_NEED_KAFKA | TE_OBS_NEED_BROKER,
                         &http, errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.metrics", "%s", errstr);
        } else if (!(w = te_broker_worker_new(&conf, cfg, NULL, &bad_setting, errstr,
                                              sizeof errstr))) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.init", "%s", errstr);
                rc = bad_setting ? 2 : 1;
        } else {
                rc = te_broker_worker_run(w) == 0 ? 0 : 1;
        }
        te_broker_worker_destroy(w);
        te_obs_stop(http);
        te_cfg_destroy(cfg);
        return rc;
}
