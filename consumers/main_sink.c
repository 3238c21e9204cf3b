/*
 * exec-sink: exec.reports -> runtime DB, exactly once.
 *
 * This file is the config table and the process life cycle; the worker itself (batches,
 * the DB apply with its offsets, retries and reconnects, seeking back to the DB's
 * offsets, dead letters) is sink_worker.c, and the rows and offsets it writes are
 * pg_sink.c's.
 */
#include <stdio.h>

#include "sink_worker.h"
#include "te_cfgtab.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_proc.h"

#define PROC      "exec-sink"
#define MAX_BATCH 100000

typedef te_sink_worker_conf_t conf_t;

static const te_cfg_item_t conf_items[] = {
    TE_CFG_COMMON(conf_t),
    TE_CFG_S(conf_t, "group.id", group_id, "exec-sink", "consumer group (offsets in DB)"),
    TE_CFG_TOPIC(conf_t, reports, "execution reports topic"),
    TE_CFG_TOPIC(conf_t, alerts, "alerts topic"),
    TE_CFG_TOPIC(conf_t, deadletter,
                 "dead-letter topic (records refused, with the reason)"),
    TE_CFG_I(conf_t, "batch.max", batch_max, "2000", 1, MAX_BATCH,
             "most reports in one DB transaction"),
    TE_CFG_I(conf_t, "batch.linger.ms", batch_linger_ms, "20", 0, 10000,
             "how long a batch waits for more reports after its first"),
    TE_CFG_B(conf_t, "db.migrate", db_migrate, "true",
             "apply pending migrations at start"),
    TE_CFG_B(conf_t, "db.synchronous_commit", db_sync_commit, "false",
             "wait for each batch's WAL flush at COMMIT (safe off: offsets commit "
             "with the data)"),
    TE_CFG_B(conf_t, "db.direct", db_direct, "true",
             "COPY a batch straight into the final tables when it allows (false: always "
             "through the staging tables)"),
    TE_CFG_I(conf_t, "db.retry.max.ms", retry_max_ms, "5000", 10, 600000,
             "longest backoff between DB retries"),
};

int main(int argc, char **argv)
{
        static conf_t conf;
        char errstr[512];
        int rc = 1, stopped = 0;
        te_cfg_t *cfg =
            te_cfgtab_start(PROC, conf_items, sizeof conf_items / sizeof conf_items[0],
                            &conf, &conf.common, argc, argv);
        if (!cfg)
                return te_cfgtab_exit_code();
        te_proc_install_signals();
        te_http_t *http = NULL;
        te_sink_worker_t *w = NULL;
        if (te_obs_start(&conf.common, PROC, TE_OBS_NEED_KAFKA | TE_OBS_NEED_DB, &http,
                         errstr, sizeof errstr) != 0)
                TE_LOG(TE_LOG_ERROR, NULL, "sink.metrics", "%s", errstr);
        else if (!(w = te_sink_worker_new(&conf, cfg, &stopped, errstr, sizeof errstr)))
                rc = stopped ? 0 : 1; /* logged, unless stopped while waiting */
        else
                rc = te_sink_worker_run(w) == 0 ? 0 : 1;
        te_sink_worker_destroy(w);
        te_obs_stop(http);
        te_cfg_destroy(cfg);
        return rc;
}
