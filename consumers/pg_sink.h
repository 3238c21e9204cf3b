/*
 * pg_sink: execution reports into the runtime DB, exactly once (docs/DESIGN.md invariant
 * 2).
 *
 * A batch is one transaction. The reports of the batch are first staged as COPY text
 * rows in memory (te_pg_sink_stage): control reports (CLOCK_ACK, BROKER_STATE) and
 * report_ids already in the batch are left out, each row carries the flags of
 * migration 0006 (first report of its order, first fill of its decision, blocked by an
 * earlier terminal report of its order), and every order's reports are folded into one
 * aggregate (with the exact sum of its commissions). A commit then takes one of two
 * paths, both with the semantics of te_apply_report() of migration 0001 for every row
 * (idempotent on report_id and trade_id; the event log, the order row, trades,
 * positions with average cost and realized P&L, cash) and both storing the next offset
 * of every partition consumed in the same transaction:
 *   direct  (pg_sink_direct.c) COPY straight into order_events, orders and trades,
 *           set-based statements for the known orders, positions and cash;
 *   staged  BEGIN, COPY into the session's temp tables te_stage and te_ostage, one
 *           call of te_apply_stage_fast() (migration 0006), COMMIT; taken when a
 *           report or key is already booked (the direct path's COPY meets a
 *           unique_violation and is rolled back first), when a value does not suit
 *           the direct path, or when the direct path is off.
 * If an attempt fails the transaction is rolled back and the staged rows stay for the
 * next attempt. After a crash the sink resumes from the offsets in the DB, so each
 * report is applied once.
 *
 * With sync_commit off the session commits with synchronous_commit = off: COMMIT
 * returns before its WAL is flushed. That is safe here because the offsets are in the
 * same transaction as the data: a server crash can only lose whole recent batches
 * together with their offsets, and the sink then consumes those reports again (a
 * restart reads the offsets in the DB; a running sink seeks back to them whenever it
 * opens a new connection, sink_worker.c).
 */
#ifndef TE_PG_SINK_H
#define TE_PG_SINK_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "te_msg.h"

typedef struct te_pg_sink_s te_pg_sink_t;

/** Prepare the statements and staging tables on `conn` (borrowed; must outlive the
 *  sink). `max_stage_bytes` bounds the staged COPY text of one batch; `sync_commit`
 *  0 sets synchronous_commit off for the session (see above).
 *  @returns NULL with errstr on failure. */
te_pg_sink_t *te_pg_sink_new(PGconn *conn, const char *group, size_t max_stage_bytes,
                             int sync_commit, char *errstr, size_t errsz);
void te_pg_sink_destroy(te_pg_sink_t *s); /* accepts NULL */
/** Re-prepare after the connection was reset. @returns 0 or -1 with errstr. */
int te_pg_sink_prepare(te_pg_sink_t *s, char *errstr, size_t errsz);

/** Stage one report of the next batch (memory only; control reports and duplicates
 *  within the batch are taken without a row). @returns 0, or -1 with errstr when the
 *  staging buffer is full or memory ran out (apply what is staged first). */
int te_pg_sink_stage(te_pg_sink_t *s, const te_exec_report_t *r, const char *topic,
                     int32_t partition, int64_t offset, char *errstr, size_t errsz);
/** Record that `topic`/`partition` is consumed up to (excluding) next_offset: written
 *  in the same transaction as the staged reports. */
int te_pg_sink_stage_offset(te_pg_sink_t *s, const char *topic, int32_t partition,
                            int64_t next_offset, char *errstr, size_t errsz);
/** One attempt: the batch and its offsets in one transaction (direct or staged path,
 *  above). On success the stage is cleared and *applied is the number of reports that
 *  changed the DB. On failure the transaction is rolled back, the stage kept.
 *  @returns 0 or -1 with errstr. */
int te_pg_sink_commit_stage(te_pg_sink_t *s, long *applied, char *errstr, size_t errsz);
/** The SQLSTATE of the error that failed the last te_pg_sink_commit_stage ("" when the
 *  server gave none, e.g. the connection was lost): te_pg_err_class (te_pg.h) tells a
 *  report the DB refuses (data) from an outage (transient). */
const char *te_pg_sink_sqlstate(const te_pg_sink_t *s);
/* How the last committed batch was applied: COPY straight into the final tables, or
 * through the staging tables and te_apply_stage_fast() (a replay or key conflict). */
#define TE_PG_SINK_DIRECT 1
#define TE_PG_SINK_STAGED 2
/* direct, a small batch: its rows from arrays, one pipeline after the probe */
#define TE_PG_SINK_DIRECT_ARRAYS 3
int te_pg_sink_last_path(const te_pg_sink_t *s);
/** Use the direct path when a batch allows it (on by default); off: always staged. */
void te_pg_sink_set_direct(te_pg_sink_t *s, int on);
/** Drop what is staged (e.g. when stopping with a batch not applied). */
void te_pg_sink_clear_stage(te_pg_sink_t *s);

/** Next offset stored for a partition. @returns the offset, -1 if none, -2 on error. */
int64_t te_pg_sink_load_offset(te_pg_sink_t *s, const char *topic, int32_t partition,
                               char *errstr, size_t errsz);

#endif
