/*
 * broker_ibkr_int: internals shared by the modules of the ibkr adapter (not a public
 * interface; the adapter's interface is broker_ibkr.h).
 *
 *   broker_ibkr.c         configuration, te_broker_ops_t functions, construction
 *   broker_ibkr_orders.c  order bookkeeping, the reports orders make, the order ->
 *                         placeOrder mapping and the inbound order events (status,
 *                         openOrder, execDetails, commissionReport, order errors)
 *   broker_ibkr_reports.c the outbound report queue and what waits for delivery
 *                         (own state: ibkr_reports_t)
 *   broker_ibkr_conn.c    the connection state machine: socket, handshake, framing,
 *                         dispatch of inbound frames, connection-level IB errors
 *   broker_ibkr_recon.c   reconciliation on every (re)connect
 *   broker_ibkr_replace.c REPLACE: placeOrder again with the same TWS order id
 *   broker_ibkr_pos.c     IB's positions against the runtime DB's (own state:
 *                         ibkr_pos_check_t)
 *   broker_ibkr_comm.c    commissions: joined to fills, missing, or late
 *   broker_ibkr_util.c    the clock, growable arrays, the frame queue, alerts, the
 *                         account of an order: used by all, uses none of them
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

typedef struct ibkr_reports_s ibkr_reports_t;     /* broker_ibkr_reports.c */
typedef struct ibkr_pos_check_s ibkr_pos_check_t; /* broker_ibkr_pos.c */

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
        te_map_t *execs;       /* exec id -> iexec_t (owned) */
        ibkr_reports_t *rq;    /* outbound reports */
        ibkr_pos_check_t *pos; /* the position check */
        te_ibkr_stats_t st;
        int oom;
} ib_t;

/* ---- broker_ibkr_util.c ------------------------------------------------------ */

int64_t ibkr_now_ms(void);
/** Grow *p (elements of `elem` bytes) to hold `need`. @returns 0 or -1 (OOM). */
int ibkr_grow(void **p, size_t *cap, size_t need, size_t elem);
/** Queue b->scratch (one frame) in the pacer. @returns 0 or -1 (queue full). */
int ibkr_queue_frame(ib_t *b, int urgent);
/** Log an alert and hand it to cfg.alert; `c` (may be NULL) gives the related ids. */
void ibkr_alert(ib_t *b, te_severity_t sev, const char *code, const te_order_cmd_t *c,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/** The allowed account an order's route names (its default: the first), or NULL. */
const char *ibkr_pick_account(ib_t *b, const te_order_cmd_t *cmd);
/** The name of a connection state ("READY", ...). */
const char *ibkr_state_name(te_ibkr_state_t s);

/* ---- broker_ibkr_reports.c --------------------------------------------------- */

/** An empty queue. @returns NULL on OOM. */
ibkr_reports_t *ibkr_reports_new(void);
/** Takes NULL. */
void ibkr_reports_destroy(ibkr_reports_t *rq);
/** A new zeroed report at the end of the queue, or NULL (OOM). */
pend_t *ibkr_reports_push(ibkr_reports_t *rq);
/** Move the reports that may leave at `now` (in order, up to the first fill still
 *  waiting for its commission) to `out`; a fill whose wait is over leaves after
 *  `missing(ctx, p)`. What left with an execution or a final status waits for
 *  ibkr_reports_delivered. @returns TE_BROKER_OK or TE_BROKER_ERR_FATAL (OOM). */
te_broker_err_t ibkr_reports_move_ready(ibkr_reports_t *rq, int64_t now,
                                        te_reports_t *out,
                                        void (*missing)(void *ctx, const pend_t *p),
                                        void *ctx);
/** The queued fill of execution `exec_id`, or NULL. */
pend_t *ibkr_reports_waiting_exec(ibkr_reports_t *rq, const char *exec_id);
/** The execution `exec_id` handed out and not yet delivered, or NULL. */
te_ibkr_exec_row_t *ibkr_reports_handed_exec(ibkr_reports_t *rq, const char *exec_id);
/** @returns 1 while reports wait to leave or to be delivered. */
int ibkr_reports_busy(const ibkr_reports_t *rq);
/** The reports handed out are delivered: record their executions and final statuses
 *  in `store` (may be NULL); on a DB error they are kept and written next time. */
void ibkr_reports_delivered(ibkr_reports_t *rq, te_ibkr_store_t *store);

/* ---- broker_ibkr_orders.c ---------------------------------------------------- */

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

/** IB's orderType for ours, or NULL when IB has no equivalent. */
const char *ibkr_order_type(te_order_type_t t);
/** placeOrder for `o` with the terms (quantity, type, prices, TIF) of `terms`:
 *  o->cmd for a new order, a modification's terms for a REPLACE. */
int ibkr_send_terms(ib_t *b, iorder_t *o, const te_order_cmd_t *terms);
int ibkr_send_order(ib_t *b, iorder_t *o);
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

/** ibkr_pos_compare's answers. */
enum { IBKR_POS_OOM = -1, IBKR_POS_WAIT = 0, IBKR_POS_DONE = 1 };

/** A check that waits up to `check_ms` after each snapshot (0: never checks).
 *  @returns NULL on OOM. */
ibkr_pos_check_t *ibkr_pos_new(int64_t check_ms);
/** Takes NULL. */
void ibkr_pos_destroy(ibkr_pos_check_t *pc);
/** Compare the positions of `account` too. @returns 0, or -1 (too many, too long). */
int ibkr_pos_add_account(ibkr_pos_check_t *pc, const char *account);
/** Where the DB's positions come from (NULL: no check). */
void ibkr_pos_set_db(ibkr_pos_check_t *pc, ibkr_pos_db_fn fn, void *db_ctx);
/** A reconciliation starts: forget the last snapshot, collect IB's positions. */
void ibkr_pos_begin(ibkr_pos_check_t *pc);
/** One of IB's position messages (logged; kept if collecting, its account allowed and
 *  a stock). @returns 0 or -1 (OOM). */
int ibkr_pos_on_position(ibkr_pos_check_t *pc, const te_tws_position_t *p);
/** positionEnd at `now`: the comparison is due from now until now + check_ms. */
void ibkr_pos_on_end(ibkr_pos_check_t *pc, int64_t now);
/** A live fill booked after the snapshot moves IB's position. @returns 0 or -1. */
int ibkr_pos_on_fill(ibkr_pos_check_t *pc, const char *account, const char *ticker,
                     double qty);
/** Compare when due at `now` (`busy`: reports of the reconciliation are still on
 *  their way, wait for them until the deadline): again every 500 ms while positions
 *  differ; at the end each position still different goes to bad_fn once.
 *  @returns IBKR_POS_DONE when a comparison ended, IBKR_POS_WAIT, IBKR_POS_OOM. */
int ibkr_pos_compare(ibkr_pos_check_t *pc, int64_t now, int busy,
                     void (*bad_fn)(void *ctx, const ibkr_pos_t *e), void *ctx);
/** @returns how many positions of the snapshot differ by more than 1e-6. */
size_t ibkr_pos_mismatches(const ibkr_pos_check_t *pc);
/** positionEnd on the adapter: cancelPositions, then ibkr_pos_on_end. */
void ibkr_pos_end(ib_t *b);
/** Called from pump while READY: compare when due; counters and Alerts. */
void ibkr_pos_poll(ib_t *b);
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
