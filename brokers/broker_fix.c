/*
 * broker_fix: the FIX 4.4 initiator adapter (see broker_fix.h): socket, orders,
 * request queue and rate limit, reconciliation; the protocol itself is in
 * fix_proto.c, fix_session.c and fix_app.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker_fix.h"
#include "fix_app.h"
#include "fix_reqq.h"
#include "fix_store.h"
#include "te_buf.h"
#include "te_ids.h"
#include "te_log.h"
#include "te_net.h"
#include "te_map.h"
#include "te_order_state.h"
#include "te_proc.h"

#define FIX_RBUF_MAX (4 * TE_FIX_MAX_FRAME)

typedef struct forder_s {
        te_order_cmd_t cmd;  /* current terms (after accepted replaces) */
        te_order_cmd_t repl; /* the replace in flight */
        char live_clordid[TE_FIX_CLORDID_MAX]; /* what the counterparty knows it by */
        int n_cancel, n_replace;               /* requests made (for their ClOrdIDs) */
        int sent, terminal, cancel_pending, repl_pending, recon_pending;
        int dirty; /* its row in the store is behind */
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
        te_map_t *orders; /* order_id -> forder_t* (owned) */
        int fd;
        conn_t conn;
        te_buf_t rbuf;
        int64_t next_connect, backoff_ms, connect_deadline;
        int reconciling;
        int64_t recon_deadline;
        te_fix_reqq_t *reqq; /* requests waiting for a MsgSeqNum, messages sent */
        te_fix_msg_t msg;    /* the inbound frame being handled (large) */
        te_fix_stats_t st;
} fix_t;

static const te_broker_ops_t fix_ops;
#define FIX_XPEND_MAX 65536 /* ExecIDs waiting for the worker's delivered() */

static fix_t *F(te_broker_t *b)
{
        return (fix_t *)b;
}

static void alert(fix_t *b, te_severity_t sev, const char *code, const forder_t *o,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void alert(fix_t *b, te_severity_t sev, const char *code, const forder_t *o,
                  const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        te_verrf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        b->st.alerts++;
        te_log_ids_t ids = {.order_id = o ? o->cmd.order_id : NULL};
        TE_LOG(sev == TE_SEV_INFO ? TE_LOG_INFO : TE_LOG_WARN, &ids, "fix.alert",
               "%s: %s", code, msg);
        if (b->cfg.alert)
                b->cfg.alert(b->cfg.alert_ctx, sev, code, o ? o->cmd.ids.decision_id : "",
                             o ? o->cmd.ids.portfolio_id : "", o ? o->cmd.order_id : "",
                             msg);
}

static void dirty(fix_t *b, forder_t *o)
{
        if (!b->store || o->dirty)
                return;
        if (b->n_dirty == b->cap_dirty) {
                size_t cap = b->cap_dirty ? 2 * b->cap_dirty : 64;
                void *p = realloc(b->dirtyv, cap * sizeof *b->dirtyv);
                if (!p) {
                        alert(b, TE_SEV_CRITICAL, "fix_db", o,
                              "out of memory: the order's row will not be saved");
                        return;
                }
                b->dirtyv = p;
                b->cap_dirty = cap;
        }
        o->dirty = 1;
        b->dirtyv[b->n_dirty++] = o;
}

/* ---- request queue and rate ------------------------------------------------ */

/* ---- connection ------------------------------------------------------------ */

static void conn_close(fix_t *b, const char *why)
{
        if (b->fd >= 0)
                close(b->fd);
        b->fd = -1;
        if (b->conn == C_UP)
                b->st.disconnects++;
        b->conn = C_DOWN;
        b->reconciling = 0;
        te_fix_reqq_clear(b->reqq, TE_FIX_Q_STATUS);
        te_buf_reset(&b->rbuf);
        te_fix_session_disconnected(b->sess);
        int64_t now = te_proc_wall_ms();
        b->next_connect = now + b->backoff_ms;
        TE_LOG(TE_LOG_WARN, NULL, "fix.disconnected", "%s; reconnect in %lld ms", why,
               (long long)b->backoff_ms);
        b->backoff_ms *= 2;
        if (b->backoff_ms > b->cfg.reconnect_max_ms)
                b->backoff_ms = b->cfg.reconnect_max_ms;
}

static void conn_start(fix_t *b, int64_t now)
{
        char err[256];
        int fd = te_net_connect_start(b->cfg.host, b->cfg.port, err, sizeof err);
        if (fd < 0) {
                conn_close(b, err);
                return;
        }
        b->fd = fd;
        b->conn = C_CONNECTING;
        b->connect_deadline = now + 5000;
        b->st.connects++;
}

static void on_sev(fix_t *b, const te_fix_sev_t *ev);

/* A connect in progress finished? Then log on. */
static void conn_check(fix_t *b, int64_t now)
{
        int err = 0;
        socklen_t len = sizeof err;
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        if (getpeername(b->fd, (struct sockaddr *)&peer, &plen) != 0) {
                if (getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) {
                        conn_close(b, strerror(err));
                        return;
                }
                if (now >= b->connect_deadline)
                        conn_close(b, "connect timed out");
                return; /* still connecting */
        }
        b->conn = C_UP;
        te_fix_sev_t ev;
        (void)te_fix_session_connected(b->sess, now, &ev);
        on_sev(b, &ev);
}

/* Save the sequence numbers if they changed. @returns 0, or -1 (not saved). */
static int persist(fix_t *b)
{
        char err[256];
        while (b->n_dirty) {
                forder_t *od = b->dirtyv[b->n_dirty - 1];
                te_fix_order_row_t row = {.cmd = od->cmd,
                                          .n_cancel = od->n_cancel,
                                          .n_replace = od->n_replace,
                                          .sent = od->sent,
                                          .terminal = od->terminal,
                                          .cum = od->cum,
                                          .value = od->value};
                te_strlcpy(row.live_clordid, od->live_clordid, sizeof row.live_clordid);
                if (te_fix_store_save_order(b->store, &row, err, sizeof err) != 0) {
                        if (!b->db_failing)
                                alert(b, TE_SEV_CRITICAL, "fix_db", od,
                                      "order not saved, holding output: %s", err);
                        b->db_failing = 1;
                        return -1;
                }
                od->dirty = 0;
                b->n_dirty--;
        }
        int64_t o, i;
        te_fix_session_seqs(b->sess, &o, &i);
        if (!b->store || (o == b->saved_out && i == b->saved_in))
                return 0;
        if (te_fix_store_save_seqs(b->store, o, i, err, sizeof err) != 0) {
                if (!b->db_failing)
                        alert(b, TE_SEV_CRITICAL, "fix_db", NULL,
                              "sequence numbers not saved, holding output: %s", err);
                b->db_failing = 1;
                return -1;
        }
        b->db_failing = 0;
        b->saved_out = o;
        b->saved_in = i;
        return 0;
}

/* Write what the session queued, once its numbers are saved. @returns 0, or -1 when
 * the connection failed. */
static int flush_out(fix_t *b)
{
        if (persist(b) != 0)
                return 0; /* held until the numbers are saved */
        for (;;) {
                const char *p;
                size_t n;
                te_fix_session_out(b->sess, &p, &n);
                if (n == 0)
                        return 0;
                ssize_t w = send(b->fd, p, n, MSG_NOSIGNAL);
                if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                        return 0;
                if (w <= 0) {
                        conn_close(b, w < 0 ? strerror(errno) : "send returned 0");
                        return -1;
                }
                te_fix_session_out_consume(b->sess, (size_t)w);
        }
}

/* ---- orders and reports ---------------------------------------------------- */

static te_exec_report_t *push(te_reports_t *out)
{
        return te_reports_push(out);
}

static void report_fill_diff(fix_t *b, forder_t *o, double cum, double avg,
                             te_order_status_t st, te_reports_t *out)
{
        double diff = cum - o->cum;
        if (!(diff > 1e-9))
                return;
        double value = cum * avg;
        double px = (value - o->value) / diff;
        te_exec_report_t *r = push(out);
        if (!r)
                return;
        te_broker_report_from_cmd(r, &o->cmd, b->cfg.broker_name);
        char cum_s[48];
        te_fmt_double(cum_s, sizeof cum_s, cum);
        const char *parts[] = {"fix", o->cmd.order_id, "cum", cum_s};
        r->report_id[0] = 'r';
        te_id_digest(r->report_id + 1, sizeof r->report_id - 1, parts, 4);
        te_strlcpy(r->account, b->cfg.account, sizeof r->account);
        r->exec_type = st == TE_OS_FILLED ? TE_EXEC_FILL : TE_EXEC_PARTIAL_FILL;
        r->order_status = st == TE_OS_FILLED ? TE_OS_FILLED : TE_OS_PARTIALLY_FILLED;
        r->last_qty = diff;
        r->last_price = px;
        r->cum_qty = cum;
        r->avg_price = avg;
        r->leaves_qty = st == TE_OS_FILLED ? 0 : o->cmd.quantity - cum;
        if (r->leaves_qty < 0)
                r->leaves_qty = 0;
        r->event_time = te_proc_wall_ms();
        te_strlcpy(r->reason, "fill found at reconciliation", sizeof r->reason);
        o->cum = cum;
        o->value = value;
        o->status = r->order_status;
        if (st == TE_OS_FILLED)
                o->terminal = 1;
        b->st.fills++;
        dirty(b, o);
}

static void end_order(fix_t *b, forder_t *o, te_exec_type_t et, te_order_status_t st,
                      const char *reason, te_reports_t *out)
{
        if (o->terminal)
                return;
        te_exec_report_t *r = push(out);
        if (!r)
                return;
        te_broker_report_from_cmd(r, &o->cmd, b->cfg.broker_name);
        const char *parts[] = {"fix", o->cmd.order_id, "end", te_exec_type_name(et)};
        r->report_id[0] = 'r';
        te_id_digest(r->report_id + 1, sizeof r->report_id - 1, parts, 4);
        te_strlcpy(r->account, b->cfg.account, sizeof r->account);
        r->exec_type = et;
        r->order_status = st;
        r->cum_qty = o->cum;
        r->avg_price = o->cum > 0 ? o->value / o->cum : 0;
        r->leaves_qty = 0;
        r->event_time = te_proc_wall_ms();
        te_strlcpy(r->reason, reason, sizeof r->reason);
        o->terminal = 1;
        o->status = st;
        dirty(b, o);
}

static void recon_done(fix_t *b, int complete)
{
        if (!b->reconciling)
                return;
        b->reconciling = 0;
        b->st.reconciles++;
        if (!complete) {
                size_t pos = 0, left = 0;
                const char *k;
                void *v;
                while (te_map_next(b->orders, &pos, &k, &v)) {
                        forder_t *o = v;
                        if (o->recon_pending)
                                left++;
                        o->recon_pending = 0;
                }
                alert(
                    b, TE_SEV_WARNING, "reconcile_incomplete", NULL,
                    "%zu open order(s) not confirmed by the counterparty; they stay open",
                    left);
        }
        TE_LOG(TE_LOG_INFO, NULL, "fix.ready", "session up and reconciled");
}

static void recon_start(fix_t *b, int64_t now)
{
        size_t pos = 0, n = 0;
        const char *k;
        void *v;
        b->reconciling = 1;
        b->recon_deadline = now + b->cfg.reconcile_timeout_ms;
        while (te_map_next(b->orders, &pos, &k, &v)) {
                forder_t *o = v;
                o->recon_pending = 0;
                if (!o->sent || o->terminal)
                        continue;
                /* a cancel in flight when the connection went may never have
                 * arrived: the status answer says where the order is, and a new
                 * CANCEL may be sent (a replace in flight stays pending: its
                 * request may still be queued) */
                o->cancel_pending = 0;
                if (te_fix_reqq_push(b->reqq, TE_FIX_Q_STATUS, o->cmd.order_id, 'H') ==
                    0) {
                        o->recon_pending = 1;
                        n++;
                }
        }
        if (n == 0)
                recon_done(b, 1);
}

static void recon_check(fix_t *b)
{
        if (!b->reconciling)
                return;
        size_t pos = 0;
        const char *k;
        void *v;
        while (te_map_next(b->orders, &pos, &k, &v))
                if (((forder_t *)v)->recon_pending)
                        return;
        recon_done(b, 1);
}

static void refused_report(fix_t *b, forder_t *o, int is_replace, int n, const char *why,
                           te_reports_t *out);
static void release(fix_t *b, int64_t now);

/* An OrderStatus answer (150=I). */
static void on_status(fix_t *b, forder_t *o, const te_fix_exec_t *x, te_reports_t *out)
{
        int st = te_fix_app_ord_status(x->ord_status, x->cum_qty);
        o->recon_pending = 0;
        if (x->ord_status == '8') {
                end_order(b, o, TE_EXEC_CANCELED, TE_OS_CANCELED,
                          x->text[0] ? x->text
                                     : "unknown to the counterparty at "
                                       "reconciliation",
                          out);
                alert(b, TE_SEV_WARNING, "order_unknown", o,
                      "order not known to the counterparty at reconciliation: resolved "
                      "as CANCELED");
        } else {
                report_fill_diff(
                    b, o, x->cum_qty, x->avg_px,
                    st == TE_OS_FILLED ? TE_OS_FILLED : TE_OS_PARTIALLY_FILLED, out);
                if (st == TE_OS_CANCELED || st == TE_OS_EXPIRED)
                        end_order(b, o,
                                  st == TE_OS_CANCELED ? TE_EXEC_CANCELED
                                                       : TE_EXEC_EXPIRED,
                                  (te_order_status_t)st, "ended while disconnected", out);
        }
        if (o->refused_kind) /* still working: the refused request is settled */
                refused_report(b, o, o->refused_kind == 2,
                               o->refused_kind == 2 ? o->n_replace : o->n_cancel,
                               o->refused_why, out);
        recon_check(b);
}

static void on_exec(fix_t *b, te_reports_t *out)
{
        te_fix_exec_t x;
        char err[256];
        if (te_fix_app_dec_exec(&b->msg, &x, err, sizeof err) != 0) {
                alert(b, TE_SEV_WARNING, "fix_bad_report", NULL, "%s", err);
                return;
        }
        forder_t *o = te_map_get(b->orders, x.order_id);
        if (!o) {
                alert(b, TE_SEV_WARNING, "fix_unknown_order", NULL,
                      "ExecutionReport %s for order %s we do not know", x.exec_id,
                      x.order_id);
                return;
        }
        te_exec_report_t r;
        char why[256] = "";
        te_fix_map_t k = te_fix_app_map_exec(&x, &o->cmd, b->cfg.broker_name,
                                             te_proc_wall_ms(), &r, why, sizeof why);
        if (k == TE_FIX_MAP_STATUS) {
                on_status(b, o, &x, out);
                return;
        }
        if (k == TE_FIX_MAP_ALERT) {
                alert(b, TE_SEV_CRITICAL, "fix_trade_correction", o, "%s", why);
                return;
        }
        int fresh = te_fix_execids_add(b->execs, x.order_id, x.exec_id);
        if (fresh == 0) {
                b->st.dup_execs++;
                return;
        }
        if (fresh < 0)
                alert(b, TE_SEV_WARNING, "fix_execid_set_full", o,
                      "ExecID %s not remembered: a resend of it would be published again",
                      x.exec_id);
        if (o->terminal) {
                alert(b, TE_SEV_WARNING, "fix_report_after_end", o,
                      "ExecutionReport %s (ExecType %c) after the order ended: ignored",
                      x.exec_id, x.exec_type);
                return;
        }
        if (!r.account[0])
                te_strlcpy(r.account, b->cfg.account, sizeof r.account);
        if (x.exec_type == 'F') {
                b->st.fills++;
                o->cum = x.cum_qty;
                o->value = x.cum_qty * x.avg_px;
        }
        if (x.exec_type == '5' && o->repl_pending) {
                o->cmd.quantity = o->repl.quantity;
                o->cmd.has_limit_price = o->repl.has_limit_price;
                o->cmd.limit_price = o->repl.limit_price;
                o->cmd.has_stop_price = o->repl.has_stop_price;
                o->cmd.stop_price = o->repl.stop_price;
                o->repl_pending = 0;
                te_strlcpy(o->live_clordid, x.clordid, sizeof o->live_clordid);
                te_broker_report_from_cmd(&r, &o->cmd, b->cfg.broker_name);
                r.event_time = te_proc_wall_ms();
        }
        o->status = r.order_status;
        if (te_os_is_terminal(r.order_status))
                o->terminal = 1;
        if (x.exec_type == '4')
                o->cancel_pending = 0;
        dirty(b, o);
        te_exec_report_t *slot = push(out);
        if (slot)
                *slot = r;
        if (b->store && fresh == 1) {
                if (b->n_xpend == b->cap_xpend && b->cap_xpend < FIX_XPEND_MAX) {
                        size_t cap = b->cap_xpend ? 2 * b->cap_xpend : 64;
                        void *p = realloc(b->xpend, cap * sizeof *b->xpend);
                        if (p) {
                                b->xpend = p;
                                b->cap_xpend = cap;
                        }
                }
                if (b->n_xpend < b->cap_xpend) {
                        te_strlcpy(b->xpend[b->n_xpend][0], x.order_id, TE_ID_MAX);
                        te_strlcpy(b->xpend[b->n_xpend][1], x.exec_id, TE_ID_MAX);
                        b->n_xpend++;
                }
        }
}

/* The order's status while it works (no request of ours pending). */
static te_order_status_t live_status(const forder_t *o)
{
        return o->cum > 1e-9 ? TE_OS_PARTIALLY_FILLED : TE_OS_NEW;
}

/* A CANCEL or REPLACE of a working order was refused and the order keeps its terms: a
 * REJECTED report carrying its live status tells whoever waits for the answer that the
 * request is settled (as the sim and ibkr adapters answer). `n` tells the refused
 * request apart in the report id. Nothing for an order that has ended: its own final
 * report settled it. */
static void refused_report(fix_t *b, forder_t *o, int is_replace, int n, const char *why,
                           te_reports_t *out)
{
        o->refused_kind = 0;
        if (o->terminal)
                return;
        te_exec_report_t *r = push(out);
        if (!r)
                return;
        te_broker_report_from_cmd(r, &o->cmd, b->cfg.broker_name);
        char n_s[16];
        snprintf(n_s, sizeof n_s, "%d", n);
        const char *parts[] = {"fix", o->cmd.order_id,
                               is_replace ? "replace_refused" : "cancel_refused", n_s};
        r->report_id[0] = 'r';
        te_id_digest(r->report_id + 1, sizeof r->report_id - 1, parts, 4);
        te_strlcpy(r->account, b->cfg.account, sizeof r->account);
        r->exec_type = TE_EXEC_REJECTED;
        r->order_status = live_status(o);
        r->cum_qty = o->cum;
        r->avg_price = o->cum > 0 ? o->value / o->cum : 0;
        r->leaves_qty = o->cmd.quantity - o->cum > 0 ? o->cmd.quantity - o->cum : 0;
        r->event_time = te_proc_wall_ms();
        te_errf(r->reason, sizeof r->reason, "%s refused: %s",
                is_replace ? "replace" : "cancel", why);
        o->status = r->order_status;
        dirty(b, o);
}

/* An OrderCancelReject (35=9). The order working on (OrdStatus live): REJECTED with
 * its live status. The counterparty saying the order is unknown (CxlRejReason 1) or
 * done (OrdStatus filled, canceled, rejected, expired, done for day) while it is open
 * for us: what is final is asked with an OrderStatusRequest (35=H), whose answer books
 * a fill we missed and ends the order (FILLED, CANCELED, EXPIRED; an order unknown to
 * the counterparty ends CANCELED, as at reconciliation) or, if it still works, gives
 * the REJECTED with its live status. */
static void on_cancel_reject(fix_t *b, te_reports_t *out)
{
        te_fix_cxl_rej_t c;
        char err[256], text[512];
        if (te_fix_app_dec_cancel_reject(&b->msg, &c, err, sizeof err) != 0) {
                alert(b, TE_SEV_WARNING, "fix_bad_report", NULL, "%s", err);
                return;
        }
        forder_t *o = te_map_get(b->orders, c.order_id);
        if (o) {
                if (c.is_replace)
                        o->repl_pending = 0;
                else
                        o->cancel_pending = 0;
        }
        te_fix_app_cancel_reject_text(&c, text, sizeof text);
        alert(b, TE_SEV_WARNING, c.is_replace ? "replace_refused" : "cancel_refused", o,
              "%s", text);
        if (!o || o->terminal)
                return;
        int done = c.reason == 1 || c.ord_status == '2' || c.ord_status == '3' ||
                   c.ord_status == '4' || c.ord_status == '8' || c.ord_status == 'C';
        if (done &&
            te_fix_reqq_push(b->reqq, TE_FIX_Q_STATUS, o->cmd.order_id, 'H') == 0) {
                o->refused_kind = c.is_replace ? 2 : 1;
                te_strlcpy(o->refused_why, text, sizeof o->refused_why);
                release(b, te_proc_wall_ms());
                return;
        }
        refused_report(b, o, c.is_replace, c.is_replace ? o->n_replace : o->n_cancel,
                       text, out);
}

/* The counterparty refused one of our messages (session Reject 35=3 or
 * BusinessMessageReject 35=j naming its MsgSeqNum). A refused CANCEL or REPLACE
 * leaves the order as it was: REJECTED with its live status. */
static void on_refused(fix_t *b, int64_t seq, const char *text, te_reports_t *out)
{
        const te_fix_req_t *sr = te_fix_reqq_by_seq(b->reqq, seq);
        forder_t *o = sr ? te_map_get(b->orders, sr->order_id) : NULL;
        if (!o)
                return; /* not an order message, or too old to know */
        char why[TE_TEXT_MAX];
        te_errf(why, sizeof why, "refused by the counterparty: %s", text);
        switch (sr->kind) {
        case 'D':
                b->st.rejects++;
                end_order(b, o, TE_EXEC_REJECTED, TE_OS_REJECTED, why, out);
                break;
        case 'F':
                o->cancel_pending = 0;
                alert(b, TE_SEV_WARNING, "cancel_refused", o, "cancel %s", why);
                refused_report(b, o, 0, o->n_cancel, why, out);
                break;
        case 'G':
                o->repl_pending = 0;
                alert(b, TE_SEV_WARNING, "replace_refused", o, "replace %s", why);
                refused_report(b, o, 1, o->n_replace, why, out);
                break;
        default:
                /* a status request asked after a refused CANCEL/REPLACE: the order
                 * stays as we know it */
                if (o->refused_kind)
                        refused_report(b, o, o->refused_kind == 2,
                                       o->refused_kind == 2 ? o->n_replace : o->n_cancel,
                                       o->refused_why, out);
                recon_done(b, 0); /* it does not answer status requests */
        }
}

static void on_app(fix_t *b, te_reports_t *out)
{
        const char *t = b->msg.msg_type;
        if (strcmp(t, "8") == 0) {
                on_exec(b, out);
        } else if (strcmp(t, "9") == 0) {
                on_cancel_reject(b, out);
        } else if (strcmp(t, "j") == 0) {
                char text[256] = "", ref[8] = "";
                int64_t seq = 0;
                (void)te_fix_get_str(&b->msg, TE_FIX_T_TEXT, text, sizeof text);
                (void)te_fix_get_str(&b->msg, TE_FIX_T_REFMSGTYPE, ref, sizeof ref);
                alert(b, TE_SEV_WARNING, "fix_business_reject", NULL,
                      "counterparty refused a 35=%s message: %s", ref, text);
                if (te_fix_get_int(&b->msg, TE_FIX_T_REFSEQNUM, &seq) == 0 && seq > 0)
                        on_refused(b, seq, text[0] ? text : "business reject", out);
        } else {
                TE_LOG(TE_LOG_DEBUG, NULL, "fix.ignored", "message type %s ignored", t);
        }
}

static void on_sev(fix_t *b, const te_fix_sev_t *ev)
{
        if (ev->alert[0])
                alert(b, TE_SEV_WARNING, "fix_session", NULL, "%s", ev->alert);
        if (ev->logged_on) {
                b->st.logons++;
                b->backoff_ms = b->cfg.reconnect_min_ms;
                recon_start(b, te_proc_wall_ms());
        }
}

/* ---- sending requests ------------------------------------------------------- */

/* Encode and queue one request; @returns 0 sent, -1 dropped (alerted). */
static int send_req(fix_t *b, const te_fix_req_t *q, int64_t now)
{
        forder_t *o = te_map_get(b->orders, q->order_id);
        if (!o)
                return -1;
        if (o->terminal && q->kind != 'H')
                return 0; /* ended while queued (a cancel before it was sent) */
        te_fix_enc_t e;
        char err[256] = "", cl[TE_FIX_CLORDID_MAX];
        const char *mt = q->kind == 'D'   ? "D"
                         : q->kind == 'F' ? "F"
                         : q->kind == 'G' ? "G"
                                          : "H";
        if (te_fix_session_app_begin(b->sess, &e, mt, now) != 0)
                return -2;
        int rc = -1;
        switch (q->kind) {
        case 'D':
                rc = te_fix_app_enc_new(&e, &b->app, &o->cmd, now, err, sizeof err);
                break;
        case 'F':
                rc = te_fix_clordid(cl, sizeof cl, o->cmd.order_id, 'c', o->n_cancel + 1);
                if (rc == 0)
                        rc = te_fix_app_enc_cancel(&e, &o->cmd, o->live_clordid, cl, now);
                break;
        case 'G':
                rc =
                    te_fix_clordid(cl, sizeof cl, o->cmd.order_id, 'r', o->n_replace + 1);
                if (rc == 0)
                        rc = te_fix_app_enc_replace(&e, &b->app, &o->cmd, &o->repl,
                                                    o->live_clordid, cl, now, err,
                                                    sizeof err);
                break;
        default:
                rc = te_fix_app_enc_status(&e, &o->cmd, o->live_clordid);
        }
        int64_t seq = rc == 0 ? te_fix_session_app_end(b->sess, &e) : -1;
        if (seq < 0) {
                alert(b, TE_SEV_WARNING, "fix_request_dropped", o,
                      "35=%s for the order could not be encoded: %s", mt,
                      err[0] ? err : "frame too large");
                if (q->kind == 'G')
                        o->repl_pending = 0;
                if (q->kind == 'F')
                        o->cancel_pending = 0;
                return -1;
        }
        te_fix_reqq_sent(b->reqq, seq, q->order_id, q->kind);
        switch (q->kind) {
        case 'D':
                o->sent = 1;
                b->st.orders_sent++;
                break;
        case 'F':
                o->n_cancel++;
                b->st.cancels_sent++;
                break;
        case 'G':
                o->n_replace++;
                b->st.replaces_sent++;
                break;
        default:
                b->st.status_sent++;
        }
        if (q->kind != 'H')
                dirty(b, o);
        return 0;
}

static void release(fix_t *b, int64_t now)
{
        if (te_fix_session_state(b->sess) != TE_FIX_ST_ACTIVE)
                return;
        te_fix_req_t r;
        /* during reconciliation only the status requests leave */
        while (te_fix_reqq_next(b->reqq, now, b->reconciling, &r))
                if (send_req(b, &r, now) == -2)
                        return;
}

/* ---- ops ------------------------------------------------------------------- */

static int ready(fix_t *b)
{
        return b->conn == C_UP && te_fix_session_state(b->sess) == TE_FIX_ST_ACTIVE &&
               !b->reconciling;
}

static void reject_now(fix_t *b, const te_order_cmd_t *cmd, const char *why,
                       te_reports_t *out)
{
        te_exec_report_t *r = push(out);
        if (!r)
                return;
        te_broker_report_from_cmd(r, cmd, b->cfg.broker_name);
        te_id_sim_report(r->report_id, sizeof r->report_id, cmd->order_id, "fix-reject",
                         0);
        te_strlcpy(r->account, b->cfg.account, sizeof r->account);
        r->exec_type = TE_EXEC_REJECTED;
        r->order_status = TE_OS_REJECTED;
        te_strlcpy(r->reason, why, sizeof r->reason);
}

static te_broker_err_t fix_submit(te_broker_t *bb, const te_order_cmd_t *cmd,
                                  te_reports_t *out)
{
        fix_t *b = F(bb);
        if (te_map_get(b->orders, cmd->order_id))
                return TE_BROKER_OK; /* a redelivered NEW */
        if (!ready(b))
                return TE_BROKER_ERR_RETRIABLE;
        /* check the order now: a refused one is rejected, not queued */
        char buf[TE_FIX_MAX_FRAME], err[256] = "";
        te_fix_hdr_t h = {"D", b->cfg.sender, b->cfg.target, 1, te_proc_wall_ms(), 0, 0};
        te_fix_enc_t e;
        te_fix_enc_begin(&e, buf, sizeof buf, &h);
        if (te_fix_app_enc_new(&e, &b->app, cmd, h.sending_ms, err, sizeof err) != 0 ||
            te_fix_enc_end(&e) < 0) {
                reject_now(b, cmd, err[0] ? err : "order does not fit a FIX frame", out);
                return TE_BROKER_OK;
        }
        forder_t *o = calloc(1, sizeof *o);
        if (!o)
                return TE_BROKER_ERR_RETRIABLE;
        o->cmd = *cmd;
        o->status = TE_OS_PENDING_NEW;
        te_strlcpy(o->live_clordid, cmd->order_id, sizeof o->live_clordid);
        if (te_map_put(b->orders, o->cmd.order_id, o) != 0) {
                free(o);
                return TE_BROKER_ERR_RETRIABLE;
        }
        if (te_fix_reqq_push(b->reqq, TE_FIX_Q_NORMAL, cmd->order_id, 'D') != 0) {
                free(te_map_del(b->orders, cmd->order_id));
                return TE_BROKER_ERR_RETRIABLE;
        }
        dirty(b, o);
        release(b, te_proc_wall_ms());
        if (b->conn == C_UP)
                (void)flush_out(b);
        return TE_BROKER_OK;
}

static te_broker_err_t fix_cancel(te_broker_t *bb, const te_order_cmd_t *cmd,
                                  te_reports_t *out)
{
        fix_t *b = F(bb);
        forder_t *o = te_map_get(b->orders, cmd->order_id);
        if (!o || o->terminal || o->cancel_pending)
                return TE_BROKER_OK; /* nothing to cancel, or already asked */
        if (!o->sent) {
                /* still queued (rate limit or connection): it never leaves */
                end_order(b, o, TE_EXEC_CANCELED, TE_OS_CANCELED,
                          "canceled before it was sent", out);
                return TE_BROKER_OK;
        }
        if (!ready(b))
                return TE_BROKER_ERR_RETRIABLE;
        if (te_fix_reqq_push(b->reqq, TE_FIX_Q_URGENT, cmd->order_id, 'F') != 0)
                return TE_BROKER_ERR_RETRIABLE;
        o->cancel_pending = 1;
        release(b, te_proc_wall_ms());
        (void)flush_out(b);
        return TE_BROKER_OK;
}

static te_broker_err_t fix_replace(te_broker_t *bb, const te_order_cmd_t *cmd,
                                   te_reports_t *out)
{
        fix_t *b = F(bb);
        forder_t *o = te_map_get(b->orders, cmd->order_id);
        if (!o || o->terminal) {
                alert(b, TE_SEV_WARNING, "replace_refused", o, "replace of order %s: %s",
                      cmd->order_id, o ? "the order has ended" : "unknown order");
                return TE_BROKER_OK;
        }
        if (o->repl_pending && o->repl.quantity == cmd->quantity &&
            o->repl.limit_price == cmd->limit_price &&
            o->repl.stop_price == cmd->stop_price)
                return TE_BROKER_OK; /* a redelivered REPLACE */
        if (!ready(b))
                return TE_BROKER_ERR_RETRIABLE;
        if (o->repl_pending || o->cancel_pending) {
                /* the answer to the request in flight settles it */
                alert(b, TE_SEV_WARNING, "replace_refused", o,
                      "replace of order %s refused: another request in flight",
                      cmd->order_id);
                return TE_BROKER_OK;
        }
        if (cmd->side != o->cmd.side || cmd->order_type != o->cmd.order_type ||
            cmd->tif != o->cmd.tif || strcmp(cmd->ticker, o->cmd.ticker) != 0 ||
            !(cmd->quantity > o->cum)) {
                char why[160];
                te_errf(why, sizeof why,
                        "a change of side/ticker/type/TIF, or a quantity not above the "
                        "filled %g",
                        o->cum);
                alert(b, TE_SEV_WARNING, "replace_refused", o,
                      "replace of order %s refused: %s", cmd->order_id, why);
                /* never sent: n < 0 tells it apart from the counterparty's refusals */
                refused_report(b, o, 1, -1 - o->n_replace, why, out);
                return TE_BROKER_OK;
        }
        if (te_fix_reqq_push(b->reqq, TE_FIX_Q_NORMAL, cmd->order_id, 'G') != 0)
                return TE_BROKER_ERR_RETRIABLE;
        o->repl = *cmd;
        o->repl_pending = 1;
        release(b, te_proc_wall_ms());
        (void)flush_out(b);
        return TE_BROKER_OK;
}

static te_broker_err_t fix_clock(te_broker_t *bb, const te_order_cmd_t *cmd,
                                 te_reports_t *out)
{
        (void)bb;
        (void)cmd;
        (void)out;
        return TE_BROKER_OK; /* PRODUCTION only: no event clock */
}

static void read_frames(fix_t *b, int64_t now, te_reports_t *out)
{
        const char *gone = NULL; /* closed or failed: frames read before still count */
        for (;;) {
                if (te_buf_reserve(&b->rbuf, 4096) != 0) {
                        conn_close(b, "read buffer full");
                        return;
                }
                ssize_t n =
                    recv(b->fd, b->rbuf.data + b->rbuf.len, b->rbuf.cap - b->rbuf.len, 0);
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                        break;
                if (n <= 0) {
                        gone = n == 0 ? "counterparty closed the connection"
                                      : strerror(errno);
                        break;
                }
                b->rbuf.len += (size_t)n;
        }
        size_t off = 0;
        while (off < b->rbuf.len && b->conn == C_UP) {
                size_t flen = 0;
                char err[160];
                te_fix_sev_t ev;
                te_fix_rc_t rc = te_fix_frame_next(b->rbuf.data + off, b->rbuf.len - off,
                                                   &flen, err, sizeof err);
                if (rc == TE_FIX_EAGAIN)
                        break;
                if (rc == TE_FIX_EGARBLED) {
                        b->st.garbled++;
                        off += te_fix_resync(b->rbuf.data + off, b->rbuf.len - off);
                        te_fix_session_on_garbled(b->sess, err, &ev);
                        on_sev(b, &ev);
                        continue;
                }
                te_fix_session_on_frame(b->sess, (const char *)b->rbuf.data + off, flen,
                                        now, &b->msg, &ev);
                off += flen;
                if (ev.app)
                        on_app(b, out);
                if (ev.rejected_seq > 0)
                        on_refused(b, ev.rejected_seq, ev.alert, out);
                on_sev(b, &ev);
                if (ev.disconnect) {
                        (void)flush_out(b);
                        conn_close(b, ev.alert[0] ? ev.alert : "session ended");
                        return;
                }
        }
        if (off > 0 && b->conn == C_UP) {
                memmove(b->rbuf.data, b->rbuf.data + off, b->rbuf.len - off);
                b->rbuf.len -= off;
        }
        if (gone && b->conn == C_UP)
                conn_close(b, gone);
}

static te_broker_err_t fix_poll(te_broker_t *bb, te_reports_t *out)
{
        fix_t *b = F(bb);
        int64_t now = te_proc_wall_ms();
        if (b->conn == C_DOWN) {
                if (now >= b->next_connect)
                        conn_start(b, now);
                if (b->conn == C_DOWN)
                        return TE_BROKER_OK;
        }
        if (b->conn == C_CONNECTING) {
                conn_check(b, now);
                if (b->conn != C_UP)
                        return TE_BROKER_OK;
        }
        read_frames(b, now, out);
        if (b->conn != C_UP)
                return TE_BROKER_OK;
        te_fix_sev_t ev;
        te_fix_session_tick(b->sess, now, &ev);
        on_sev(b, &ev);
        if (ev.disconnect) {
                (void)flush_out(b);
                conn_close(b, ev.alert[0] ? ev.alert : "session timed out");
                return TE_BROKER_OK;
        }
        if (b->reconciling && now >= b->recon_deadline)
                recon_done(b, 0);
        release(b, now);
        (void)flush_out(b);
        (void)persist(b); /* next_in moves without output too */
        return TE_BROKER_OK;
}

/* Every report handed out so far is on exec.reports: record their ExecIDs. */
static void fix_delivered(te_broker_t *bb)
{
        fix_t *b = F(bb);
        char err[256];
        if (!b->store || b->n_xpend == 0)
                return;
        if (te_fix_store_add_execs(b->store, (const char(*)[2][TE_ID_MAX])b->xpend,
                                   b->n_xpend, err, sizeof err) != 0) {
                alert(b, TE_SEV_WARNING, "fix_db", NULL,
                      "delivered ExecIDs not recorded (kept, retried): %s", err);
                return;
        }
        b->n_xpend = 0;
}

static int fix_connected(te_broker_t *bb)
{
        return ready(F(bb));
}

static void free_order(void *v)
{
        free(v);
}

static void fix_destroy(te_broker_t *bb)
{
        fix_t *b = F(bb);
        if (b->fd >= 0)
                close(b->fd);
        if (b->sess)
                (void)persist(b);
        te_fix_store_close(b->store);
        te_fix_session_destroy(b->sess);
        te_fix_execids_destroy(b->execs);
        te_map_destroy(b->orders, free_order);
        te_buf_free(&b->rbuf);
        te_fix_reqq_destroy(b->reqq);
        free(b->xpend);
        free(b->dirtyv);
        memset(b->cfg.password, 0, sizeof b->cfg.password);
        free(b);
}

static const te_broker_ops_t fix_ops = {
    .name = "fix",
    .mode = TE_MODE_PRODUCTION,
    .submit = fix_submit,
    .cancel = fix_cancel,
    .replace = fix_replace,
    .clock = fix_clock,
    .poll = fix_poll,
    .destroy = fix_destroy,
    .connected = fix_connected,
    .delivered = fix_delivered,
};

/* An open order from the store: known again, reconciled after the Logon, and sent
 * then if its NewOrderSingle never left. */
static int load_row(void *ctx, const te_fix_order_row_t *row)
{
        fix_t *b = ctx;
        forder_t *o = calloc(1, sizeof *o);
        if (!o)
                return -1;
        o->cmd = row->cmd;
        te_strlcpy(o->live_clordid, row->live_clordid, sizeof o->live_clordid);
        o->n_cancel = row->n_cancel;
        o->n_replace = row->n_replace;
        o->sent = row->sent;
        o->cum = row->cum;
        o->value = row->value;
        o->status = row->cum > 0 ? TE_OS_PARTIALLY_FILLED : TE_OS_NEW;
        if (te_map_put(b->orders, o->cmd.order_id, o) != 0) {
                free(o);
                return -1;
        }
        if (!o->sent &&
            te_fix_reqq_push(b->reqq, TE_FIX_Q_NORMAL, o->cmd.order_id, 'D') != 0)
                return -1;
        return 0;
}

static int load_exec(void *ctx, const char *order_id, const char *exec_id)
{
        fix_t *b = ctx;
        return te_fix_execids_add(b->execs, order_id, exec_id) < 0 ? -1 : 0;
}

te_broker_t *te_fix_new(const te_fix_cfg_t *cfg, char *errstr, size_t errstr_size)
{
        if (cfg->max_msgs_per_sec < 1 || cfg->max_msgs_per_sec > TE_FIX_REQQ_RATE_MAX) {
                te_errf(errstr, errstr_size, "max_msgs_per_sec outside 1..%d",
                        TE_FIX_REQQ_RATE_MAX);
                return NULL;
        }
        if (cfg->reconnect_min_ms < 1 || cfg->reconnect_max_ms < cfg->reconnect_min_ms) {
                te_errf(errstr, errstr_size, "bad reconnect backoff");
                return NULL;
        }
        if (cfg->port < 1 || cfg->port > 65535) {
                te_errf(errstr, errstr_size, "port outside 1..65535");
                return NULL;
        }
        fix_t *b = calloc(1, sizeof *b);
        if (!b) {
                te_errf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        b->base.ops = &fix_ops;
        b->cfg = *cfg;
        b->fd = -1;
        b->backoff_ms = cfg->reconnect_min_ms;
        te_buf_init(&b->rbuf, FIX_RBUF_MAX);
        te_strlcpy(b->app.account, cfg->account, sizeof b->app.account);
        b->app.order_types = cfg->order_types;
        b->app.tifs = cfg->tifs;
        te_fix_session_cfg_t sc;
        memset(&sc, 0, sizeof sc);
        te_strlcpy(sc.sender, cfg->sender, sizeof sc.sender);
        te_strlcpy(sc.target, cfg->target, sizeof sc.target);
        sc.heartbt_int = cfg->heartbt_int;
        sc.reset_on_logon = cfg->reset_on_logon;
        te_strlcpy(sc.password, cfg->password, sizeof sc.password);
        int64_t next_out = cfg->next_out > 0 ? cfg->next_out : 1;
        int64_t next_in = cfg->next_in > 0 ? cfg->next_in : 1;
        if (cfg->use_db) {
                b->store = te_fix_store_open(cfg->db_conninfo, cfg->sender, cfg->target,
                                             errstr, errstr_size);
                int rc = b->store ? te_fix_store_load_seqs(b->store, &next_out, &next_in,
                                                           errstr, errstr_size)
                                  : -1;
                if (rc < 0) {
                        fix_destroy(&b->base);
                        return NULL;
                }
                if (rc == 1) {
                        b->saved_out = next_out;
                        b->saved_in = next_in;
                        TE_LOG(TE_LOG_INFO, NULL, "fix.seqs_loaded",
                               "continuing at MsgSeqNum %lld out, %lld in",
                               (long long)next_out, (long long)next_in);
                }
        }
        b->sess = te_fix_session_new(&sc, next_out, next_in, errstr, errstr_size);
        memset(sc.password, 0, sizeof sc.password);
        b->execs = te_fix_execids_new();
        b->orders = te_map_new();
        b->reqq = te_fix_reqq_new(cfg->max_msgs_per_sec);
        if (!b->sess || !b->execs || !b->orders || !b->reqq) {
                if (b->sess)
                        te_errf(errstr, errstr_size, "out of memory");
                fix_destroy(&b->base);
                return NULL;
        }
        if (b->store && te_fix_store_load_open(b->store, load_row, load_exec, b, errstr,
                                               errstr_size) != 0) {
                fix_destroy(&b->base);
                return NULL;
        }
        if (b->store)
                TE_LOG(TE_LOG_INFO, NULL, "fix.loaded", "%zu open orders",
                       te_map_count(b->orders));
        return &b->base;
}

void te_fix_logout(te_broker_t *bb, int64_t timeout_ms, te_reports_t *out)
{
        fix_t *b = F(bb);
        if (b->conn != C_UP)
                return;
        te_fix_sev_t ev;
        te_fix_session_logout(b->sess, "logging out", te_proc_wall_ms(), &ev);
        if (flush_out(b) != 0)
                return;
        int64_t deadline = te_proc_mono_ms() + timeout_ms;
        while (b->conn == C_UP && te_proc_mono_ms() < deadline) {
                struct pollfd p = {.fd = b->fd, .events = POLLIN};
                (void)poll(&p, 1, 10);
                read_frames(b, te_proc_wall_ms(), out);
        }
        if (b->conn != C_DOWN)
                conn_close(b, "logged out");
}

void te_fix_stats(te_broker_t *bb, te_fix_stats_t *out)
{
        *out = F(bb)->st;
}

void te_fix_seqs(te_broker_t *bb, int64_t *next_out, int64_t *next_in)
{
        te_fix_session_seqs(F(bb)->sess, next_out, next_in);
}
