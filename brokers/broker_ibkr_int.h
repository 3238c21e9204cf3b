/*
 * broker_ibkr_int: internals shared by the modules of the ibkr adapter (not a public
 * interface; the adapter's interface is broker_ibkr.h).
 *
 *   broker_ibkr.c         configuration, te_broker_ops_t functions, construction
 *   broker_ibkr_orders.c  order bookkeeping, the report queue, the order -> placeOrder
 *                         mapping and the inbound order events (status, openOrder,
 *                         execDetails, commissionReport, order errors)
 *   broker_ibkr_conn.c    the connection state machine: socket, handshake, framing,
 *                         dispatch of inbound frames, connection-level IB errors
 *   broker_ibkr_recon.c   reconciliation on every (re)connect
 *   broker_ibkr_replace.c REPLACE: placeOrder again with the same TWS order id
 *   broker_ibkr_pos.c     IB's positions against the runtime DB's
 *   broker_ibkr_comm.c    commissions: joined to fills, missing, or late
 *
 * Everything runs on the caller's thread (the worker's poll loop); nothing locks.
 */
#ifndef TE_BROKER_IBKR_INT_H
#define TE_BROKER_IBKR_INT_H

#include <stddef.h>
#include <stdint.h>

#include "broker_ibkr.h"
#include "ibkr_store.h"
#include "te_buf.h"
#include "te_map.h"
#include "tws_pacer.h"
#include "tws_proto.h"

#define EPS          1e-9
#define MAX_ACCOUNTS 16

typedef struct iorder_s {
        te_order_cmd_t cmd;
        char account[TE_NAME_MAX];
        int64_t tws_id; /* 0: waiting for a connection */
        double cum, value;
        int acked, terminal, cancel_sent, seen;
        int cancel_waiting; /* CANCELED waits for fills TWS already counted */
        double cancel_hint;
        int64_t cancel_deadline;
        char cancel_reason[TE_TEXT_MAX];
        int replace_pending; /* a modification was sent; `repl` holds its terms */
        te_order_cmd_t repl;
} iorder_t;

/* One execution seen (the values of b->execs): the commission booked with its fill. */
typedef struct iexec_s {
        char order_id[TE_ID_MAX];
        double commission;
        int has_commission; /* 0: its fill left without IB's commissionReport */
} iexec_t;

typedef struct pend_s {
        te_exec_report_t r;
        char wait_exec[TE_TWS_STR]; /* commission pending for this exec ("" = ready) */
        int64_t deadline;
        int has_exec;
        te_ibkr_exec_row_t x;
        int terminal; /* record the order's final status on delivery */
} pend_t;

/* One position by account and ticker: IB's and the runtime DB's quantity. */
typedef struct ibkr_pos_s {
        char account[TE_NAME_MAX];
        char ticker[TE_TICKER_MAX];
        double ib, db;
} ibkr_pos_t;

/* The runtime DB's positions of one account, through a callback per ticker (the
 * store's te_ibkr_store_positions by default; a test may put its own). */
typedef int (*ibkr_pos_db_fn)(void *db_ctx, const char *account, te_ibkr_pos_cb cb,
                              void *cb_ctx);

typedef struct status_upd_s {
        char order_id[TE_ID_MAX];
        char status[24];
} status_upd_t;

typedef struct ib_s {
        te_broker_t base;
        te_ibkr_cfg_t cfg;
        char allow[MAX_ACCOUNTS][TE_NAME_MAX];
        int n_allow;
        char managed[TE_TWS_TEXT];
        te_ibkr_store_t *store;
        te_tws_pacer_t *pacer;
        /* connection */
        te_ibkr_state_t state;
        int fd;
        int server_version;
        te_buf_t rbuf, wbuf, scratch;
        int64_t deadline;     /* for CONNECTING .. RECONCILING */
        int64_t next_connect; /* DISCONNECTED: when to try again */
        int64_t backoff_ms;
        int64_t next_id; /* next TWS order id to use */
        int64_t exec_req_id;
        int open_end, exec_end, pos_end;
        /* orders */
        te_map_t *by_ref; /* order_id -> iorder_t */
        te_map_t *by_tws; /* decimal TWS id -> iorder_t (borrowed) */
        iorder_t **olist;
        size_t n_orders, cap_orders;
        te_map_t *execs; /* exec id -> iexec_t (owned) */
        /* outbound reports */
        pend_t *pend;
        size_t n_pend, cap_pend;
        te_ibkr_exec_row_t *hx; /* handed out, not yet delivered */
        size_t n_hx, cap_hx;
        status_upd_t *hs;
        size_t n_hs, cap_hs;
        te_ibkr_stats_t st;
        int oom;
        /* positions (broker_ibkr_pos.c) */
        ibkr_pos_t *pos;
        size_t n_pos, cap_pos;
        int pos_state; /* IBKR_POS_* */
        int64_t pos_deadline, pos_next_try;
        ibkr_pos_db_fn pos_db;
        void *pos_db_ctx;
} ib_t;

enum {
        IBKR_POS_IDLE = 0, /* no check to do */
        IBKR_POS_COLLECT,  /* reconciling: position messages fill the snapshot */
        IBKR_POS_CHECK,    /* snapshot complete: compare until equal or deadline */
};

/* ---- broker_ibkr_orders.c ---------------------------------------------------- */

int64_t ibkr_now_ms(void);
/** Grow *p (elements of `elem` bytes) to hold `need`. @returns 0 or -1 (OOM). */
int ibkr_grow(void **p, size_t *cap, size_t need, size_t elem);
iorder_t *ibkr_find_tws(ib_t *b, int64_t id);
/** The order with orderRef `ref`, loading it from the DB if it is not in memory. */
iorder_t *ibkr_find_ref(ib_t *b, const char *ref);
int ibkr_set_tws(ib_t *b, iorder_t *o, int64_t id);
iorder_t *ibkr_add_order(ib_t *b, const te_order_cmd_t *cmd, const char *account,
                         int64_t tws_id);
/* ibkr_store load callbacks (ctx: ib_t) */
int ibkr_row_cb(void *ctx, const te_ibkr_row_t *row);
int ibkr_exec_cb(void *ctx, const te_ibkr_exec_row_t *x);

pend_t *ibkr_push_pend(ib_t *b, iorder_t *o, te_exec_type_t et, te_order_status_t os,
                       const char *report_id);
void ibkr_emit_ack(ib_t *b, iorder_t *o);
/** A final CANCELED or REJECTED. */
void ibkr_emit_end(ib_t *b, iorder_t *o, te_exec_type_t et, const char *reason);
/** Move the reports that may leave (in order) to `out`. */
te_broker_err_t ibkr_move_ready(ib_t *b, te_reports_t *out);

/** Queue b->scratch (one frame) in the pacer. @returns 0 or -1 (queue full). */
int ibkr_queue_frame(ib_t *b, int urgent);
/** IB's orderType for ours, or NULL when IB has no equivalent. */
const char *ibkr_order_type(te_order_type_t t);
/** placeOrder for `o` with the terms (quantity, type, prices, TIF) of `terms`:
 *  o->cmd for a new order, a modification's terms for a REPLACE. */
int ibkr_send_terms(ib_t *b, iorder_t *o, const te_order_cmd_t *terms);
int ibkr_send_order(ib_t *b, iorder_t *o);
/** Log an alert and hand it to cfg.alert; `c` (may be NULL) gives the related ids. */
void ibkr_alert(ib_t *b, te_severity_t sev, const char *code, const te_order_cmd_t *c,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/** The allowed account an order's route names (its default: the first), or NULL. */
const char *ibkr_pick_account(ib_t *b, const te_order_cmd_t *cmd);
/** Give a waiting order the next TWS id (persisted first) and queue it. */
int ibkr_release_order(ib_t *b, iorder_t *o);

void ibkr_cancel_seen(ib_t *b, iorder_t *o, double hint, const char *reason);
void ibkr_on_order_status(ib_t *b, const te_tws_order_status_t *s);
void ibkr_on_open_order(ib_t *b, const te_tws_open_order_t *oo);
void ibkr_on_exec(ib_t *b, const te_tws_exec_t *x);
/** An IB error naming one of our orders (not error 100 or a connection code). */
void ibkr_on_order_error(ib_t *b, iorder_t *o, const te_tws_error_t *e);
/** IB codes that are informational (logged, never end an order). */
int ibkr_info_code(int64_t code);

/* ---- broker_ibkr_comm.c ------------------------------------------------------ */

/** Record an execution as seen. @returns it, or NULL (b->oom) when out of memory. */
iexec_t *ibkr_exec_add(ib_t *b, const char *exec_id, const char *order_id,
                       int has_commission, double commission);
void ibkr_on_commission(ib_t *b, const te_tws_commission_t *c);
/** A fill's commission wait is over without its commissionReport: it leaves with
 *  commission 0; count and alert. */
void ibkr_commission_missing(ib_t *b, const pend_t *p);

/* ---- broker_ibkr_replace.c --------------------------------------------------- */

/** A REPLACE command (see broker_ibkr_replace.c). @returns TE_BROKER_OK, or
 *  TE_BROKER_ERR_RETRIABLE when the connection is not READY. */
te_broker_err_t ibkr_replace(ib_t *b, const te_order_cmd_t *cmd);
/** openOrder for an order with a pending modification: confirm it if it shows the
 *  new terms. */
void ibkr_replace_seen(ib_t *b, iorder_t *o, const te_tws_order_t *w);
/** The order's pending modification is over without being confirmed (IB error,
 *  order ended, reconciliation): the order keeps its terms. */
void ibkr_replace_refused(ib_t *b, iorder_t *o, const char *why);
/** An execution is about to be booked for `o` with a modification pending: if it
 *  goes beyond the old quantity, IB applied the modification. */
void ibkr_replace_on_exec(ib_t *b, iorder_t *o, double shares);

/* ---- broker_ibkr_pos.c ------------------------------------------------------- */

/** A reconciliation starts: forget the last snapshot, collect IB's positions. */
void ibkr_pos_begin(ib_t *b);
void ibkr_pos_on_position(ib_t *b, const te_tws_position_t *p);
/** positionEnd: stop IB's position updates and schedule the comparison. */
void ibkr_pos_on_end(ib_t *b);
/** A fill booked after the snapshot moves IB's position. */
void ibkr_pos_on_fill(ib_t *b, const char *account, const char *ticker, double qty);
/** Called from pump while READY: compare when due. */
void ibkr_pos_poll(ib_t *b);
/** Compare IB's and the DB's quantity of every position in b->pos. @returns how many
 *  differ by more than 1e-6. */
size_t ibkr_pos_mismatches(const ib_t *b);
/** ibkr_pos_db_fn over b->store (db_ctx: the ib_t). */
int ibkr_pos_store_db(void *db_ctx, const char *account, te_ibkr_pos_cb cb, void *cb_ctx);

/* ---- broker_ibkr_conn.c ------------------------------------------------------ */

/** Close the socket, stop submitting, schedule a reconnect with backoff. */
void ibkr_conn_close(ib_t *b, const char *why);
/** Drive the connection without blocking (connect, read, dispatch, write). */
void ibkr_pump(ib_t *b);

/* ---- broker_ibkr_recon.c ----------------------------------------------------- */

/** Request open orders, executions and positions; state RECONCILING. */
void ibkr_start_reconcile(ib_t *b);
/** Called after each inbound frame while RECONCILING: once every answer is in,
 *  resolve unknown orders, send the waiting ones, state READY. */
void ibkr_finish_reconcile(ib_t *b);

#endif
