/*
 * broker_ibkr_int: internals shared by the modules of the ibkr adapter (not a public
 * interface; the adapter's interface is broker_ibkr.h).
 *
 *   broker_ibkr.c         configuration, te_broker_ops_t functions, construction
 *   broker_ibkr_orders.c  order bookkeeping, a report from an order, the order ->
 *                         placeOrder mapping
 *   broker_ibkr_events.c  the inbound order events (status, openOrder, execDetails,
 *                         order errors), the reports they make and their leaving
 *   broker_ibkr_reports.c the outbound report queue and what waits for delivery
 *                         (own state: te_ibkr_reports_t)
 *   broker_ibkr_conn.c    the connection state machine: socket, handshake, framing,
 *                         dispatch of inbound frames, connection-level IB errors
 *   broker_ibkr_recon.c   reconciliation on every (re)connect
 *   broker_ibkr_replace.c REPLACE: placeOrder again with the same TWS order id
 *   broker_ibkr_pos.c     IB's positions against the runtime DB's (own state:
 *                         te_ibkr_pos_check_t)
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

#define TE_IBKR_EPS          1e-9
#define TE_IBKR_MAX_ACCOUNTS 16

typedef struct te_ibkr_order_s {
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
} te_ibkr_order_t;

/* One execution seen (the values of b->execs): the commission booked with its fill. */
typedef struct te_ibkr_exec_s {
        char order_id[TE_ID_MAX];
        double commission;
        int has_commission; /* 0: its fill left without IB's commissionReport */
} te_ibkr_exec_t;

typedef struct te_ibkr_pend_s {
        te_exec_report_t r;
        char wait_exec[TE_TWS_STR]; /* commission pending for this exec ("" = ready) */
        int64_t deadline;
        int has_exec;
        te_ibkr_exec_row_t x;
        int terminal; /* record the order's final status on delivery */
} te_ibkr_pend_t;

/* One position by account and ticker: IB's and the runtime DB's quantity. */
typedef struct te_ibkr_pos_s {
        char account[TE_NAME_MAX];
        char ticker[TE_TICKER_MAX];
        double ib, db;
} te_ibkr_pos_t;

/* The runtime DB's positions of one account, through a callback per ticker (the
 * store's te_ibkr_store_positions by default; a test may put its own). */
typedef int (*te_ibkr_pos_db_fn)(void *db_ctx, const char *account, te_ibkr_pos_cb cb,
                                 void *cb_ctx);

typedef struct te_ibkr_status_upd_s {
        char order_id[TE_ID_MAX];
        char status[24];
} te_ibkr_status_upd_t;

typedef struct te_ibkr_reports_s te_ibkr_reports_t;     /* broker_ibkr_reports.c */
typedef struct te_ibkr_pos_check_s te_ibkr_pos_check_t; /* broker_ibkr_pos.c */

typedef struct te_ibkr_s {
        te_broker_t base;
        te_ibkr_cfg_t cfg;
        char allow[TE_IBKR_MAX_ACCOUNTS][TE_NAME_MAX];
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
        te_map_t *by_ref; /* order_id -> te_ibkr_order_t */
        te_map_t *by_tws; /* decimal TWS id -> te_ibkr_order_t (borrowed) */
        te_ibkr_order_t **olist;
        size_t n_orders, cap_orders;
        te_map_t *execs;          /* exec id -> te_ibkr_exec_t (owned) */
        te_ibkr_reports_t *rq;    /* outbound reports */
        te_ibkr_pos_check_t *pos; /* the position check */
        te_ibkr_stats_t st;
        int oom;
} te_ibkr_t;

/* ---- broker_ibkr_util.c ------------------------------------------------------ */

int64_t te_ibkr_util_now_ms(void);
/** Queue b->scratch (one frame) in the pacer. @returns 0 or -1 (queue full). */
int te_ibkr_util_queue_frame(te_ibkr_t *b, int urgent);
/** Log an alert and hand it to cfg.alert; `c` (may be NULL) gives the related ids. */
void te_ibkr_util_alert(te_ibkr_t *b, te_severity_t sev, const char *code,
                        const te_order_cmd_t *c, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/** The allowed account an order's route names (its default: the first), or NULL. */
const char *te_ibkr_util_pick_account(te_ibkr_t *b, const te_order_cmd_t *cmd);
/** The name of a connection state ("READY", ...). */
const char *te_ibkr_util_state_name(te_ibkr_state_t s);

/* ---- broker_ibkr_reports.c --------------------------------------------------- */

/** An empty queue. @returns NULL on OOM. */
te_ibkr_reports_t *te_ibkr_reports_new(void);
/** Takes NULL. */
void te_ibkr_reports_destroy(te_ibkr_reports_t *rq);
/** A new zeroed report at the end of the queue, or NULL (OOM). */
te_ibkr_pend_t *te_ibkr_reports_push(te_ibkr_reports_t *rq);
/** Move the reports that may leave at `now` (in order, up to the first fill still
 *  waiting for its commission) to `out`; a fill whose wait is over leaves after
 *  `missing(ctx, p)`. What left with an execution or a final status waits for
 *  te_ibkr_reports_delivered. @returns TE_BROKER_OK or TE_BROKER_ERR_FATAL (OOM). */
te_broker_err_t
te_ibkr_reports_move_ready(te_ibkr_reports_t *rq, int64_t now, te_reports_t *out,
                           void (*missing)(void *ctx, const te_ibkr_pend_t *p),
                           void *ctx);
/** The queued fill of execution `exec_id`, or NULL. */
te_ibkr_pend_t *te_ibkr_reports_waiting_exec(te_ibkr_reports_t *rq, const char *exec_id);
/** The execution `exec_id` handed out and not yet delivered, or NULL. */
te_ibkr_exec_row_t *te_ibkr_reports_handed_exec(te_ibkr_reports_t *rq,
                                                const char *exec_id);
/** @returns 1 while reports wait to leave or to be delivered. */
int te_ibkr_reports_busy(const te_ibkr_reports_t *rq);
/** The reports handed out are delivered: record their executions and final statuses
 *  in `store` (may be NULL); on a DB error they are kept and written next time. */
void te_ibkr_reports_delivered(te_ibkr_reports_t *rq, te_ibkr_store_t *store);

/* ---- broker_ibkr_orders.c ---------------------------------------------------- */

te_ibkr_order_t *te_ibkr_orders_find_tws(te_ibkr_t *b, int64_t id);
/** The order with orderRef `ref`, loading it from the DB if it is not in memory. */
te_ibkr_order_t *te_ibkr_orders_find_ref(te_ibkr_t *b, const char *ref);
int te_ibkr_orders_set_tws(te_ibkr_t *b, te_ibkr_order_t *o, int64_t id);
te_ibkr_order_t *te_ibkr_orders_add(te_ibkr_t *b, const te_order_cmd_t *cmd,
                                    const char *account, int64_t tws_id);
/* ibkr_store load callbacks (ctx: te_ibkr_t) */
int te_ibkr_orders_row_cb(void *ctx, const te_ibkr_row_t *row);
int te_ibkr_orders_exec_cb(void *ctx, const te_ibkr_exec_row_t *x);

te_ibkr_pend_t *te_ibkr_orders_push_report(te_ibkr_t *b, te_ibkr_order_t *o,
                                           te_exec_type_t et, te_order_status_t os,
                                           const char *report_id);

/** IB's orderType for ours, or NULL when IB has no equivalent. */
const char *te_ibkr_orders_type(te_order_type_t t);
/** placeOrder for `o` with the terms (quantity, type, prices, TIF) of `terms`:
 *  o->cmd for a new order, a modification's terms for a REPLACE. */
int te_ibkr_orders_send_terms(te_ibkr_t *b, te_ibkr_order_t *o,
                              const te_order_cmd_t *terms);
int te_ibkr_orders_send(te_ibkr_t *b, te_ibkr_order_t *o);
/** Give a waiting order the next TWS id (persisted first) and queue it. */
int te_ibkr_orders_release(te_ibkr_t *b, te_ibkr_order_t *o);

/* ---- broker_ibkr_events.c ---------------------------------------------------- */

void te_ibkr_events_emit_ack(te_ibkr_t *b, te_ibkr_order_t *o);
/** A final CANCELED or REJECTED. */
void te_ibkr_events_emit_end(te_ibkr_t *b, te_ibkr_order_t *o, te_exec_type_t et,
                             const char *reason);
/** Move the reports that may leave (in order) to `out`. */
te_broker_err_t te_ibkr_events_move_ready(te_ibkr_t *b, te_reports_t *out);
void te_ibkr_events_cancel_seen(te_ibkr_t *b, te_ibkr_order_t *o, double hint,
                                const char *reason);
void te_ibkr_events_on_status(te_ibkr_t *b, const te_tws_order_status_t *s);
void te_ibkr_events_on_open(te_ibkr_t *b, const te_tws_open_order_t *oo);
void te_ibkr_events_on_exec(te_ibkr_t *b, const te_tws_exec_t *x);
/** An IB error naming one of our orders (not error 100 or a connection code). */
void te_ibkr_events_on_error(te_ibkr_t *b, te_ibkr_order_t *o, const te_tws_error_t *e);
/** IB codes that are informational (logged, never end an order). */
int te_ibkr_events_info_code(int64_t code);

/* ---- broker_ibkr_comm.c ------------------------------------------------------ */

/** Record an execution as seen. @returns it, or NULL (b->oom) when out of memory. */
te_ibkr_exec_t *te_ibkr_comm_exec_add(te_ibkr_t *b, const char *exec_id,
                                      const char *order_id, int has_commission,
                                      double commission);
void te_ibkr_comm_on_report(te_ibkr_t *b, const te_tws_commission_t *c);
/** A fill's commission wait is over without its commissionReport: it leaves with
 *  commission 0; count and alert. */
void te_ibkr_comm_missing(te_ibkr_t *b, const te_ibkr_pend_t *p);

/* ---- broker_ibkr_replace.c --------------------------------------------------- */

/** A REPLACE command (see broker_ibkr_replace.c). @returns TE_BROKER_OK, or
 *  TE_BROKER_ERR_RETRIABLE when the connection is not READY. */
te_broker_err_t te_ibkr_replace(te_ibkr_t *b, const te_order_cmd_t *cmd);
/** openOrder for an order with a pending modification: confirm it if it shows the
 *  new terms. */
void te_ibkr_replace_seen(te_ibkr_t *b, te_ibkr_order_t *o, const te_tws_order_t *w);
/** The order's pending modification is over without being confirmed (IB error,
 *  order ended, reconciliation): the order keeps its terms. */
void te_ibkr_replace_refused(te_ibkr_t *b, te_ibkr_order_t *o, const char *why);
/** An execution is about to be booked for `o` with a modification pending: if it
 *  goes beyond the old quantity, IB applied the modification. */
void te_ibkr_replace_on_exec(te_ibkr_t *b, te_ibkr_order_t *o, double shares);

/* ---- broker_ibkr_pos.c ------------------------------------------------------- */

/** te_ibkr_pos_compare's answers. */
enum { TE_IBKR_POS_OOM = -1, TE_IBKR_POS_WAIT = 0, TE_IBKR_POS_DONE = 1 };

/** A check that waits up to `check_ms` after each snapshot (0: never checks).
 *  @returns NULL on OOM. */
te_ibkr_pos_check_t *te_ibkr_pos_new(int64_t check_ms);
/** Takes NULL. */
void te_ibkr_pos_destroy(te_ibkr_pos_check_t *pc);
/** Compare the positions of `account` too. @returns 0, or -1 (too many, too long). */
int te_ibkr_pos_add_account(te_ibkr_pos_check_t *pc, const char *account);
/** Where the DB's positions come from (NULL: no check). */
void te_ibkr_pos_set_db(te_ibkr_pos_check_t *pc, te_ibkr_pos_db_fn fn, void *db_ctx);
/** A reconciliation starts: forget the last snapshot, collect IB's positions. */
void te_ibkr_pos_begin(te_ibkr_pos_check_t *pc);
/** One of IB's position messages (logged; kept if collecting, its account allowed and
 *  a stock). @returns 0 or -1 (OOM). */
int te_ibkr_pos_on_position(te_ibkr_pos_check_t *pc, const te_tws_position_t *p);
/** positionEnd at `now`: the comparison is due from now until now + check_ms. */
void te_ibkr_pos_on_end(te_ibkr_pos_check_t *pc, int64_t now);
/** A live fill booked after the snapshot moves IB's position. @returns 0 or -1. */
int te_ibkr_pos_on_fill(te_ibkr_pos_check_t *pc, const char *account, const char *ticker,
                        double qty);
/** Compare when due at `now` (`busy`: reports of the reconciliation are still on
 *  their way, wait for them until the deadline): again every 500 ms while positions
 *  differ; at the end each position still different goes to bad_fn once.
 *  @returns TE_IBKR_POS_DONE when a comparison ended, TE_IBKR_POS_WAIT, TE_IBKR_POS_OOM.
 */
int te_ibkr_pos_compare(te_ibkr_pos_check_t *pc, int64_t now, int busy,
                        void (*bad_fn)(void *ctx, const te_ibkr_pos_t *e), void *ctx);
/** @returns how many positions of the snapshot differ by more than 1e-6. */
size_t te_ibkr_pos_mismatches(const te_ibkr_pos_check_t *pc);
/** positionEnd on the adapter: cancelPositions, then te_ibkr_pos_on_end. */
void te_ibkr_pos_end(te_ibkr_t *b);
/** Called from pump while READY: compare when due; counters and Alerts. */
void te_ibkr_pos_poll(te_ibkr_t *b);
/** te_ibkr_pos_db_fn over b->store (db_ctx: the te_ibkr_t). */
int te_ibkr_pos_store_db(void *db_ctx, const char *account, te_ibkr_pos_cb cb,
                         void *cb_ctx);

/* ---- broker_ibkr_conn.c ------------------------------------------------------ */

/** Close the socket, stop submitting, schedule a reconnect with backoff. */
void te_ibkr_conn_close(te_ibkr_t *b, const char *why);
/** Drive the connection without blocking (connect, read, dispatch, write). */
void te_ibkr_conn_pump(te_ibkr_t *b);

/* ---- broker_ibkr_recon.c ----------------------------------------------------- */

/** Request open orders, executions and positions; state RECONCILING.
 *  @returns NULL, or why the connection must be closed. */
const char *te_ibkr_recon_start(te_ibkr_t *b);
/** Called after each inbound frame while RECONCILING: once every answer is in,
 *  resolve unknown orders, send the waiting ones, state READY.
 *  @returns NULL, or why the connection must be closed. */
const char *te_ibkr_recon_finish(te_ibkr_t *b);

#endif
