/*
 * fix_store: the FIX adapter's durable state in the runtime DB (migration
 * 0008_fix.sql): the session's sequence numbers per SenderCompID/TargetCompID, the
 * orders the adapter accepted (fix_orders) and the ExecIDs delivered (fix_execs).
 * Synchronous libpq calls on the adapter's own connection; every call reports
 * failure as -1 with errstr.
 */
#ifndef TE_FIX_STORE_H
#define TE_FIX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "te_msg.h"

typedef struct te_fix_store_s te_fix_store_t;

/** Connect (conninfo "" = PG* environment) and apply migrations. @returns NULL with
 *  errstr on failure. */
te_fix_store_t *te_fix_store_open(const char *conninfo, const char *sender,
                                  const char *target, char *errstr, size_t errsz);
void te_fix_store_close(te_fix_store_t *s); /* accepts NULL */

/** The saved numbers. @returns 1 found, 0 none saved yet, -1 error. */
int te_fix_store_load_seqs(te_fix_store_t *s, int64_t *next_out, int64_t *next_in,
                           char *errstr, size_t errsz);
/** Save the numbers (insert or update). @returns 0 or -1. */
int te_fix_store_save_seqs(te_fix_store_t *s, int64_t next_out, int64_t next_in,
                           char *errstr, size_t errsz);

/* One order row. */
typedef struct te_fix_order_row_s {
        te_order_cmd_t cmd; /* current terms */
        char live_clordid[80];
        int n_cancel, n_replace, sent, terminal;
        double cum, value;
} te_fix_order_row_t;

/** Insert or update an order row. @returns 0 or -1. */
int te_fix_store_save_order(te_fix_store_t *s, const te_fix_order_row_t *row,
                            char *errstr, size_t errsz);
/** Record delivered ExecIDs (idempotent), `ids` holding n (order_id, exec_id) pairs.
 *  @returns 0 or -1. */
int te_fix_store_add_execs(te_fix_store_t *s, const char (*ids)[2][TE_ID_MAX], size_t n,
                           char *errstr, size_t errsz);

/** Call cb with the id of each order of this session that ended (terminal) within the
 *  last `days` days, newest first, at most `max` of them. A callback returning non-zero
 *  stops with -1. @returns the number of ids, or -1. */
int te_fix_store_load_ended(te_fix_store_t *s, int days, size_t max,
                            int (*cb)(void *ctx, const char *order_id), void *ctx,
                            char *errstr, size_t errsz);

typedef int (*te_fix_row_cb)(void *ctx, const te_fix_order_row_t *row);
typedef int (*te_fix_exec_cb)(void *ctx, const char *order_id, const char *exec_id);
/** Call row_cb for each open order of this session, then exec_cb for each delivered
 *  ExecID of those orders. A callback returning non-zero stops with -1.
 *  @returns 0 or -1. */
int te_fix_store_load_open(te_fix_store_t *s, te_fix_row_cb row_cb,
                           te_fix_exec_cb exec_cb, void *ctx, char *errstr, size_t errsz);

#endif
