/*
 * pg_sink_int.h: the sink's batch state, shared by pg_sink.c (staging, the staged
 * apply through te_apply_stage_fast(), offsets), pg_sink_direct.c (the direct path:
 * COPY straight into the final tables) and pg_sink_pipe.c (its pipelines and COPYs).
 */
#ifndef TE_PG_SINK_INT_H
#define TE_PG_SINK_INT_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "pg_sink.h"
#include "sink_dec.h"
#include "te_buf.h"
#include "te_map.h"
#include "te_msg.h"

#define MAX_OFFSETS 1024
/* batches of at most this many rows take the direct path's arrays (pg_sink_direct.c) */
#define TE_PG_SINK_SMALL_BATCH 64

/* te_stage's columns (pg_sink.c copy_sql): field indexes of a staged row */
enum {
        SF_SEQ,
        SF_REPORT_ID,
        SF_ORDER_ID,
        SF_EXEC_TYPE,
        SF_ORDER_STATUS,
        SF_TICKER,
        SF_SIDE,
        SF_LAST_QTY,
        SF_LAST_PRICE,
        SF_CUM_QTY,
        SF_LEAVES_QTY,
        SF_AVG_PRICE,
        SF_COMMISSION,
        SF_REASON,
        SF_BROKER,
        SF_ACCOUNT,
        SF_EVENT_MS,
        SF_DECISION_ID,
        SF_PORTFOLIO_ID,
        SF_STRATEGY_ID,
        SF_PROFILE_VERSION_ID,
        SF_REGIME_ID,
        SF_UNIVERSE_ID,
        SF_MODE,
        SF_TOPIC,
        SF_PARTITION,
        SF_OFFSET,
        SF_FIRST_OF_ORDER,
        SF_FIRST_OF_DECISION,
        SF_BLOCKED,
        SF__CNT
};

/* The batch's fold of one order's reports that are not blocked (pg_sink.h). */
typedef struct ord_agg_s {
        char order_id[TE_ID_MAX];
        size_t first_seq;
        long n, n_blocked;
        int terminal_seen; /* a report of the batch left it terminal */
        int known;         /* direct path: the orders table has a row for it */
        const char *status;
        double cum_v;
        char cum[40], leaves[40], avg[40]; /* avg: "" = none non-zero yet */
        char reason[TE_TEXT_MAX];          /* "" = none non-empty yet */
        int64_t last_ms;
        sink_dec_t commission; /* exact sum over the reports that are not blocked */
} ord_agg_t;

/* Where a staged row is and what the direct path needs to know of it. */
typedef struct srow_s {
        size_t off;               /* start of the row in rows */
        uint16_t fo[SF__CNT + 1]; /* field starts from off; fo[SF__CNT]: row length */
        size_t agg;               /* index into aggs */
        int64_t ms;               /* event time */
        int is_fill;              /* FILL/PARTIAL_FILL with last_qty > 0 */
        int first_of_order, first_of_decision;
} srow_t;

/* One statement of a pipeline: its parameters are copied into libpq's output buffer
 * when it is sent, so params[] can be refilled for the next one. */
typedef struct step_s {
        const char *what;
        ExecStatusType want;
        PGresult *res; /* kept for the caller when want is PGRES_TUPLES_OK */
} step_t;

typedef struct pipe_s {
        step_t st[8];
        int n;
        int rc; /* 0, or the first failure (-1) */
} pipe_t;

typedef struct stage_off_s {
        char topic[128];
        int32_t partition;
        int64_t next;
} stage_off_t;

struct te_pg_sink_s {
        PGconn *conn;
        char group[128];
        te_buf_t rows; /* COPY text rows of the staged batch (te_stage) */
        size_t n_rows;
        srow_t *srows; /* one per row */
        size_t cap_srows;
        te_buf_t orows;   /* COPY text rows of te_ostage, built at commit */
        te_buf_t dbuf[3]; /* direct path: COPY rows of order_events, orders, trades */
        int64_t ts_sec;   /* direct path: the last second formatted, and its text */
        char ts_text[24];
        te_buf_t params[24]; /* array literals of one statement */
        te_map_t *rids;      /* report_ids staged in this batch */
        te_map_t *oids;      /* order_id -> index + 1 into aggs */
        te_map_t *dids;      /* decision_ids with a fill staged in this batch */
        ord_agg_t *aggs;
        size_t n_aggs, cap_aggs;
        size_t n_fills, n_decisions;
        long n_dups;     /* duplicate report_ids dropped from this batch */
        int direct_ok;   /* every value of the batch suits the direct path */
        int direct_off;  /* te_pg_sink_set_direct(s, 0) */
        int sync_commit; /* synchronous_commit for this session (pg_sink.h) */
        int last_path;   /* TE_PG_SINK_DIRECT or TE_PG_SINK_STAGED */
        stage_off_t offs[MAX_OFFSETS];
        size_t n_offs;
        char sqlstate[6]; /* of the first error of the last attempt; "" none */
};

/** Keep the SQLSTATE of a failed result `r` (NULL: none) unless the attempt already
 *  has one: the first error is the cause, those after it follow from it. */
void te_pg_sink_note(te_pg_sink_t *s, const PGresult *r);

/** Append `v` (n bytes) as one COPY text field (escaped), then `sep`. */
int te_pg_sink_put_field(te_buf_t *b, const char *v, size_t n, char sep);
/** Append one element to the text array literal in `b` (which starts with "{"):
 *  quoted and escaped; NULL for v == NULL; `copy_escaped`: v holds COPY text escapes
 *  (\t, \n, \r, \\) to undo first. @returns 0 or -1. */
int te_pg_sink_arr_put(te_buf_t *b, const char *v, size_t n, int copy_escaped);
/** The direct path (pg_sink_direct.c): one transaction with the batch and offsets.
 *  @returns 0 committed, 1 when the staged path must apply the batch instead (a
 *  report or key already booked; nothing committed), -1 error with errstr. */
int te_pg_sink_commit_direct(te_pg_sink_t *s, long *applied, char *errstr, size_t errsz);
/* pg_sink_pipe.c. sink_fail: error of a result, 1 for a unique_violation (the staged
 * path decides) else -1, with errstr. A pipeline: sink_pipe_begin, sink_pipe_send per
 * statement ("te_*" names a prepared one; nothing is sent after a failure), sink_pipe_end
 * (sync, every result read, pipeline mode left: 0, 1 or -1; rows of PGRES_TUPLES_OK
 * statements kept in st[].res until sink_pipe_free). sink_copy_send starts a COPY and
 * sends all of b; sink_copy_wait reads its result (0, 1 or -1). */
int sink_fail(te_pg_sink_t *s, const PGresult *r, const char *what, char *errstr,
              size_t errsz);
int sink_pipe_begin(te_pg_sink_t *s, pipe_t *pl, char *errstr, size_t errsz);
void sink_pipe_send(te_pg_sink_t *s, pipe_t *pl, const char *what, const char *stmt,
                    int n, const char *const *v, ExecStatusType want, char *errstr,
                    size_t errsz);
int sink_pipe_end(te_pg_sink_t *s, pipe_t *pl, char *errstr, size_t errsz);
void sink_pipe_free(pipe_t *pl);
int sink_copy_send(te_pg_sink_t *s, const char *what, const char *sql, const te_buf_t *b,
                   char *errstr, size_t errsz);
int sink_copy_wait(te_pg_sink_t *s, const char *what, char *errstr, size_t errsz);
/** Prepare the direct path's statements (te_d_*) on the connection. @returns 0 or -1. */
int te_pg_sink_prepare_direct(te_pg_sink_t *s, char *errstr, size_t errsz);

/* A statement to prepare on the sink's connection: name, SQL, number of parameters. */
typedef struct te_pg_stmt_s {
        const char *name, *sql;
        int n;
} te_pg_stmt_t;
/** Prepare `n` statements on `conn`. @returns 0, or -1 with errstr set. */
int te_pg_sink_prepare_stmts(PGconn *conn, const te_pg_stmt_t *stmts, size_t n,
                             char *errstr, size_t errsz);
/** The offsets statement's three arrays (topic, partition, next offset) into
 *  params[0..2]. @returns 0 or -1. */
int te_pg_sink_offset_params(te_pg_sink_t *s);

#endif
