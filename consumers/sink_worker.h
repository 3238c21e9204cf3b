/*
 * sink_worker: the exec-sink process's objects and loop, exec.reports -> runtime DB,
 * exactly once (main_sink.c parses the config and calls these).
 *
 * Reports are collected into batches (up to batch.max messages or batch.linger.ms
 * after the first), and each batch is applied in one PostgreSQL transaction together
 * with the next offset of every partition it consumed (pg_sink.h). On every partition
 * assignment consumption starts at the offsets stored in the DB. While building, the
 * worker waits for PostgreSQL (connect and migrate retried with backoff, readiness
 * false). A database error rolls the batch back; what happens next depends on its
 * SQLSTATE (te_pg_err_class): an outage or other transient failure is retried with
 * backoff, reconnecting as needed, for as long as it lasts (a new connection seeks
 * every assigned partition back to its offset in the DB); a report the DB refuses for
 * its data (class 22 or 23) is found by applying the batch report by report, each with
 * its offset in one transaction, and dead-lettered (reason db_refused, an Alert) while
 * the others are applied. Offsets never move past what is committed or dead-lettered.
 * Bad bytes are dead-lettered before the batch commits.
 */
#ifndef TE_SINK_WORKER_H
#define TE_SINK_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "te_cfgtab.h"
#include "te_config.h"

typedef struct te_sink_worker_conf_s {
        te_common_conf_t common;
        char group_id[128];
        char topic_reports[128];
        char topic_alerts[128];
        char topic_deadletter[128];
        int64_t batch_max;
        int64_t batch_linger_ms;
        int db_migrate;
        int db_sync_commit;
        int db_direct;
        int64_t retry_max_ms;
} te_sink_worker_conf_t;

typedef struct te_sink_worker_s te_sink_worker_t;

/** Build the worker: codec, the DB connection (waited for with backoff while the
 *  server cannot be reached; migrations when db.migrate), producer and consumer.
 *  `cfg` supplies kafka.* pass-through; `conf` is copied. @returns the worker, or NULL
 *  with errstr, logged; *stopped is then 1 when te_proc_stop was set while waiting for
 *  the DB (a clean stop, not an error: main exits 0), else 0. */
te_sink_worker_t *te_sink_worker_new(const te_sink_worker_conf_t *conf,
                                     const te_cfg_t *cfg, int *stopped, char *errstr,
                                     size_t errsz);
/** One turn of the loop: take a batch (waiting up to timeout_ms for its first report)
 *  and apply it with its offsets, retrying the DB until it commits or te_proc_stop.
 *  @returns 0, or -1 on a fatal error (logged; the worker must stop). */
int te_sink_worker_poll(te_sink_worker_t *w, int timeout_ms);
/** Poll until te_proc_stop is set or a fatal error, then log the counters.
 *  @returns 0, or -1 (logged). */
int te_sink_worker_run(te_sink_worker_t *w);
/** Drop a batch not applied, close the consumer, free everything. Accepts NULL. */
void te_sink_worker_destroy(te_sink_worker_t *w);

/* Counters (for the summary line and tests). */
typedef struct te_sink_worker_stats_s {
        uint64_t reports; /* consumed and committed or dead-lettered */
        uint64_t applied; /* reports that changed the DB */
        uint64_t dead;    /* dead-lettered: bad bytes or refused by the DB */
        uint64_t refused; /* of which refused by the DB */
        uint64_t batches; /* transactions committed */
        uint64_t retries; /* failed DB attempts retried */
} te_sink_worker_stats_t;
void te_sink_worker_stats(const te_sink_worker_t *w, te_sink_worker_stats_t *out);

#endif
