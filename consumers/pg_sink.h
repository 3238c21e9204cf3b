/*
 * pg_sink: execution reports into the runtime DB, exactly once (DESIGN.md invariant 2).
 *
 * A batch is one transaction: every report goes through te_apply_report() (the SQL
 * function of migration 0001: idempotent on report_id and trade_id; books the trade,
 * the order row, the event log, position and cash), then the next offset of every
 * partition consumed is upserted into consumer_offsets, then COMMIT. After a crash the
 * sink resumes from the offsets in the DB, so each report is applied once.
 */
#ifndef TE_PG_SINK_H
#define TE_PG_SINK_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "te_msg.h"

typedef struct te_pg_sink_s te_pg_sink_t;

/** Prepare the statements on `conn` (borrowed; must outlive the sink).
 *  @returns NULL with errstr on failure. */
te_pg_sink_t *te_pg_sink_new(PGconn *conn, const char *group, char *errstr, size_t errsz);
void te_pg_sink_destroy(te_pg_sink_t *s); /* accepts NULL */
/** Re-prepare after the connection was reset. @returns 0 or -1 with errstr. */
int te_pg_sink_prepare(te_pg_sink_t *s, char *errstr, size_t errsz);

int te_pg_sink_begin(te_pg_sink_t *s, char *errstr, size_t errsz);
/** Apply one report inside the open transaction; *applied is 1 when it changed the DB,
 *  0 for a duplicate or a control report. @returns 0 or -1 with errstr. */
int te_pg_sink_apply(te_pg_sink_t *s, const te_exec_report_t *r, const char *topic,
                     int32_t partition, int64_t offset, int *applied, char *errstr,
                     size_t errsz);
/** Record that `topic`/`partition` is consumed up to (excluding) next_offset. */
int te_pg_sink_store_offset(te_pg_sink_t *s, const char *topic, int32_t partition,
                            int64_t next_offset, char *errstr, size_t errsz);
int te_pg_sink_commit(te_pg_sink_t *s, char *errstr, size_t errsz);
void te_pg_sink_rollback(te_pg_sink_t *s);
/** Next offset stored for a partition. @returns the offset, -1 if none, -2 on error. */
int64_t te_pg_sink_load_offset(te_pg_sink_t *s, const char *topic, int32_t partition,
                               char *errstr, size_t errsz);

#endif
