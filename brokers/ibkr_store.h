/*
 * ibkr_store: the Interactive Brokers adapter's durable state in the runtime DB
 * (migration 0005_ibkr.sql): the TWS order-id high-water mark per client id and
 * account, the orderRef <-> TWS id map with each order's command fields, and the
 * executions already delivered. Synchronous libpq calls on the adapter's own
 * connection; every call reports failure as -1 with errstr.
 */
#ifndef TE_IBKR_STORE_H
#define TE_IBKR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "te_msg.h"

typedef struct te_ibkr_store_s te_ibkr_store_t;

/* One order row as loaded. */
typedef struct te_ibkr_row_s {
        te_order_cmd_t cmd;
        char account[TE_NAME_MAX];
        int64_t tws_id; /* 0 = not sent yet */
        int terminal;
        char status[24];
} te_ibkr_row_t;

/* One delivered execution. */
typedef struct te_ibkr_exec_row_s {
        char exec_id[64];
        char order_id[TE_ID_MAX];
        double shares, price, commission;
} te_ibkr_exec_row_t;

/** Connect (conninfo "" = PG* environment) and apply migrations.
 *  @returns NULL with errstr on failure. */
te_ibkr_store_t *te_ibkr_store_open(const char *conninfo, int client_id,
                                    const char *account, char *errstr, size_t errsz);
void te_ibkr_store_close(te_ibkr_store_t *s); /* accepts NULL */

/** The persisted next TWS order id (0 when none). @returns 0 or -1. */
int te_ibkr_store_next_id(te_ibkr_store_t *s, int64_t *next_id, char *errstr,
                          size_t errsz);
/** Insert an accepted order (tws_id 0 = waiting) and, when tws_id > 0, raise the
 *  high-water mark to tws_id + 1, in one transaction.
 *  @returns 1 inserted, 0 the order_id was already there (duplicate), -1 error. */
int te_ibkr_store_add_order(te_ibkr_store_t *s, const te_order_cmd_t *cmd,
                            const char *account, int64_t tws_id, char *errstr,
                            size_t errsz);
/** Give a waiting order its TWS id and raise the high-water mark. @returns 0 or -1. */
int te_ibkr_store_set_tws_id(te_ibkr_store_t *s, const char *order_id, int64_t tws_id,
                             char *errstr, size_t errsz);
/** Record the order's status (and terminal flag). @returns 0 or -1. */
int te_ibkr_store_set_status(te_ibkr_store_t *s, const char *order_id, const char *status,
                             int terminal, char *errstr, size_t errsz);
/** Record an order's new terms after IB confirmed a modification (REPLACE).
 *  @returns 0 or -1. */
int te_ibkr_store_set_terms(te_ibkr_store_t *s, const te_order_cmd_t *cmd, char *errstr,
                            size_t errsz);
/** IB's commission for a delivered execution, reported after its fill left.
 *  @returns 0 or -1. */
int te_ibkr_store_set_exec_commission(te_ibkr_store_t *s, const char *exec_id,
                                      double commission, char *errstr, size_t errsz);
/** Record delivered executions (idempotent). @returns 0 or -1. */
int te_ibkr_store_add_execs(te_ibkr_store_t *s, const te_ibkr_exec_row_t *x, size_t n,
                            char *errstr, size_t errsz);

/* One position of the runtime DB (table positions) attributed to an IB account. */
typedef int (*te_ibkr_pos_cb)(void *ctx, const char *ticker, double quantity);
/** The runtime DB's positions of `account`: the sum, per ticker, of the positions of
 *  the portfolios whose orders the ibkr adapter sent to that account (ibkr_orders, any
 *  client id) and to no other. `*shared` gets the number of portfolios whose orders
 *  went to several accounts (their positions cannot be split by account, so they are
 *  left out). A callback returning non-zero stops with -1. @returns 0 or -1. */
int te_ibkr_store_positions(te_ibkr_store_t *s, const char *account, te_ibkr_pos_cb cb,
                            void *ctx, long *shared, char *errstr, size_t errsz);

typedef int (*te_ibkr_row_cb)(void *ctx, const te_ibkr_row_t *row);
typedef int (*te_ibkr_exec_cb)(void *ctx, const te_ibkr_exec_row_t *x);
/** Call row_cb for each non-terminal order of this client id, then exec_cb for each
 *  delivered execution of those orders. A callback returning non-zero stops with -1.
 *  @returns 0 or -1. */
int te_ibkr_store_load_open(te_ibkr_store_t *s, te_ibkr_row_cb row_cb,
                            te_ibkr_exec_cb exec_cb, void *ctx, char *errstr,
                            size_t errsz);
/** Load one order (any state) with its delivered executions.
 *  @returns 1 found, 0 not found, -1 error. */
int te_ibkr_store_load_order(te_ibkr_store_t *s, const char *order_id,
                             te_ibkr_row_cb row_cb, te_ibkr_exec_cb exec_cb, void *ctx,
                             char *errstr, size_t errsz);

#endif
