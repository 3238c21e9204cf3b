/*
 * broker_fix_int: internals shared by the modules of the fix adapter (not a public
 * interface; the adapter's interface is broker_fix.h).
 *
 *   broker_fix.c         configuration, te_broker_ops_t functions, construction
 *   broker_fix_conn.c    the connection life cycle: socket, framing, the session's
 *                        events, persistence before output, sending queued requests
 *   broker_fix_orders.c  order book-keeping: inbound ExecutionReports,
 *                        OrderCancelRejects and refusals as reports; ended orders
 *                        dropped from memory
 *   broker_fix_recon.c   reconciliation after every Logon (OrderStatusRequests, or
 *                        one OrderMassStatusRequest with fix.mass_status)
 *
 * Everything runs on the caller's thread (the worker's poll loop); nothing locks.
 */
#ifndef TE_BROKER_FIX_INT_H
#define TE_BROKER_FIX_INT_H

#include <stddef.h>
#include <stdint.h>

#include "broker_fix.h"
#include "fix_app.h"
#include "fix_reqq.h"
#include "fix_store.h"
#include "te_buf.h"
#include "te_map.h"

#define FIX_RBUF_MAX (4 * TE_FIX_MAX_FRAME)

typedef struct forder_s {
        te_order_cmd_t cmd;  /* current terms (after accepted replaces) */
        te_order_cmd_t repl; /* the replace in flight */
        char live_clordid[TE_FIX_CLORDID_MAX]; /* what the counterparty knows it by */
        int n_cancel, n_replace;               /* requests made (for their ClOrdIDs) */
        int sent, terminal, cancel_pending, repl_pending, recon_pending;
        int dirty;      /* its row in the store is behind */
        int end_queued; /* in fix_t.endv, to be dropped */
        /* a CANCEL (1) or REPLACE (2) the counterparty refused saying the order is
         * unknown or done: settled by the answer to the status request sent then */
        int refused_kind;
        char refused_why[160];
        double cum, value; /* booked quantity and cum * avg */
        te_order_status_t status;
} forder_t;

typedef enum { C_DOWN = 0, C_CONNECTING = 1, C_UP = 2 } conn_t;

typedef struct fix_s {
        te_broker_t base;
        te_fix_cfg_t cfg;
        te_fix_app_cfg_t app;
        te_fix_session_t *sess;
        te_fix_store_t *store;       /* NULL without use_db */
        int64_t saved_out, saved_in; /* what the store holds */
        forder_t **dirtyv;           /* orders whose row is behind, to save */
        size_t n_dirty, cap_dirty;
        char (*xpend)[2][TE_ID_MAX]; /* ExecIDs published, not yet known delivered */
        size_t n_xpend, cap_xpend;
        int db_failing;
        te_fix_execids_t *execs;
        te_map_t *orders; /* order_id -> forder_t* (owned): the orders not ended */
        te_map_t *ended;  /* order_id -> a mark: ended and dropped (FIX_ENDED_MAX) */
        forder_t **endv;  /* ended, to drop once their rows are saved */
        size_t n_endv, cap_endv;
        int fd;
        conn_t conn;
        te_buf_t rbuf;
        int64_t next_connect, backoff_ms, connect_deadline;
        int halted; /* our MsgSeqNum was refused as too low: no reconnect */
        int reconciling;
        int64_t recon_deadline;
        /* an OrderMassStatusRequest of this reconciliation awaits its last answer */
        int mass_pending;
        int mass_off; /* the counterparty refused one: order by order from now on */
        char mass_id[TE_FIX_MASSID_MAX];
        te_fix_reqq_t *reqq; /* requests waiting for a MsgSeqNum, messages sent */
        te_fix_msg_t msg;    /* the inbound frame being handled (large) */
        te_fix_stats_t st;
} fix_t;

#define FIX_XPEND_MAX 65536     /* ExecIDs waiting for the worker's delivered() */
#define FIX_ENDED_MAX (1 << 20) /* ended order ids remembered; older are unknown */

/* broker_fix.c */
void fx_alert(fix_t *b, te_severity_t sev, const char *code, const forder_t *o,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/** The order's row is behind the store: saved before the next output. */
void fx_dirty(fix_t *b, forder_t *o);
/** Logged on, reconciled and connected: orders may be sent. */
int fx_ready(fix_t *b);

/* broker_fix_conn.c */
void fx_conn_close(fix_t *b, const char *why);
void fx_conn_start(fix_t *b, int64_t now);
/** A connect in progress finished? Then log on. */
void fx_conn_check(fix_t *b, int64_t now);
/** Save the dirty order rows and the sequence numbers. @returns 0, or -1 (not saved). */
int fx_persist(fix_t *b);
/** Write what the session queued, once saved. @returns 0, or -1 when the connection
 *  failed. */
int fx_flush_out(fix_t *b);
void fx_on_sev(fix_t *b, const te_fix_sev_t *ev);
/** Send the queued requests the rate and the session allow. */
void fx_release(fix_t *b, int64_t now);
void fx_read_frames(fix_t *b, int64_t now, te_reports_t *out);

/* broker_fix_orders.c */
/** The order `order_id` while the adapter holds it; NULL if unknown or ended. */
forder_t *fx_find(fix_t *b, const char *order_id);
/** 1 if `order_id` ended and was dropped from memory (see fx_sweep). */
int fx_ended(fix_t *b, const char *order_id);
/** Remember `order_id` as ended (up to FIX_ENDED_MAX ids). @returns 0, or -1 (OOM). */
int fx_remember_ended(fix_t *b, const char *order_id);
/** `o` just ended (its final report is out): dropped at the next fx_sweep. */
void fx_mark_ended(fix_t *b, forder_t *o);
/** Drop from memory the orders that ended and whose rows are saved; their ids are
 *  remembered (up to FIX_ENDED_MAX) so that a late request on one is told apart from
 *  one on an order we never had. Call where no forder_t pointer is held. */
void fx_sweep(fix_t *b);
/** A CANCEL or REPLACE of an order the adapter never had (or no longer remembers):
 *  a final REJECTED report, so that whoever waits for its answer stops waiting. */
void fx_unknown_report(fix_t *b, const te_order_cmd_t *cmd, const char *what,
                       te_reports_t *out);
void fx_report_fill_diff(fix_t *b, forder_t *o, double cum, double avg,
                         te_order_status_t st, te_reports_t *out);
void fx_end_order(fix_t *b, forder_t *o, te_exec_type_t et, te_order_status_t st,
                  const char *reason, te_reports_t *out);
te_order_status_t fx_live_status(const forder_t *o);
void fx_refused_report(fix_t *b, forder_t *o, int is_replace, int n, const char *why,
                       te_reports_t *out);
void fx_on_app(fix_t *b, te_reports_t *out);
void fx_on_refused(fix_t *b, int64_t seq, const char *text, te_reports_t *out);

/* broker_fix_recon.c */
void fx_recon_done(fix_t *b, int complete);
void fx_recon_start(fix_t *b, int64_t now);
void fx_recon_check(fix_t *b);
void fx_on_status(fix_t *b, forder_t *o, const te_fix_exec_t *x, te_reports_t *out);
/** The OrderMassStatusRequest's answers are over (the last one came, or it was
 *  refused): an OrderStatusRequest for every open order it did not list. */
void fx_mass_done(fix_t *b);
/** Our OrderMassStatusRequest failed (`text` says how: refused by the counterparty,
 *  not encoded or queued): alert, ask order by order, now and from then on. */
void fx_mass_refused(fix_t *b, const char *text);
/** Encode and queue the OrderMassStatusRequest. @returns 0, -1 dropped, -2 session
 *  not active. */
int fx_send_mass(fix_t *b, int64_t now);

#endif
