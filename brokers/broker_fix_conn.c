/*
 * broker_fix_conn: the fix adapter's connection life cycle (broker_fix_int.h): connect,
 * Logon through the session, read and frame what comes, write what the session queued
 * once the store holds the numbers, send the queued requests, close and back off.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker_fix_int.h"
#include "te_ids.h"
#include "te_log.h"
#include "te_net.h"
#include "te_order_state.h"
#include "te_proc.h"

/* ---- connection ------------------------------------------------------------ */

void fx_conn_close(fix_t *b, const char *why)
{
        if (b->fd >= 0)
                close(b->fd);
        b->fd = -1;
        if (b->conn == C_UP)
                b->st.disconnects++;
        b->conn = C_DOWN;
        b->reconciling = 0;
        b->mass_pending = 0;
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

void fx_conn_start(fix_t *b, int64_t now)
{
        char err[256];
        int fd = te_net_connect_start(b->cfg.host, b->cfg.port, err, sizeof err);
        if (fd < 0) {
                fx_conn_close(b, err);
                return;
        }
        b->fd = fd;
        b->conn = C_CONNECTING;
        b->connect_deadline = now + 5000;
        b->st.connects++;
}

/* A connect in progress finished? Then log on. */
void fx_conn_check(fix_t *b, int64_t now)
{
        int err = 0;
        socklen_t len = sizeof err;
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        if (getpeername(b->fd, (struct sockaddr *)&peer, &plen) != 0) {
                if (getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) {
                        fx_conn_close(b, strerror(err));
                        return;
                }
                if (now >= b->connect_deadline)
                        fx_conn_close(b, "connect timed out");
                return; /* still connecting */
        }
        b->conn = C_UP;
        te_fix_sev_t ev;
        (void)te_fix_session_connected(b->sess, now, &ev);
        fx_on_sev(b, &ev);
}

/* Save the sequence numbers if they changed. @returns 0, or -1 (not saved). */
int fx_persist(fix_t *b)
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
                                fx_alert(b, TE_SEV_CRITICAL, "fix_db", od,
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
                        fx_alert(b, TE_SEV_CRITICAL, "fix_db", NULL,
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
int fx_flush_out(fix_t *b)
{
        if (fx_persist(b) != 0)
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
                        fx_conn_close(b, w < 0 ? strerror(errno) : "send returned 0");
                        return -1;
                }
                te_fix_session_out_consume(b->sess, (size_t)w);
        }
}

void fx_on_sev(fix_t *b, const te_fix_sev_t *ev)
{
        if (ev->seq_too_low) {
                b->halted = 1; /* an operator sets the number; see fix_session.h */
                fx_alert(b, TE_SEV_CRITICAL, "fix_seq_too_low", NULL, "%s", ev->alert);
        } else if (ev->alert[0]) {
                fx_alert(b, TE_SEV_WARNING, "fix_session", NULL, "%s", ev->alert);
        }
        /* our MsgSeqNums restart at 1 (they reset, or we log on with 141=Y): a Reject
         * naming a number must not be matched to a message of the old sequence */
        if (ev->reset || (ev->logged_on && b->cfg.reset_on_logon))
                te_fix_reqq_forget_sent(b->reqq);
        if (ev->logged_on) {
                b->st.logons++;
                b->backoff_ms = b->cfg.reconnect_min_ms;
                fx_recon_start(b, te_proc_wall_ms());
        }
}

/* ---- sending requests ------------------------------------------------------- */

/* Encode and queue one request; @returns 0 sent, -1 dropped (alerted). */
int fx_send_req(fix_t *b, const te_fix_req_t *q, int64_t now)
{
        if (q->kind == 'A')
                return fx_send_mass(b, now);
        forder_t *o = fx_find(b, q->order_id);
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
                fx_alert(b, TE_SEV_WARNING, "fix_request_dropped", o,
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
                fx_dirty(b, o);
        return 0;
}

void fx_release(fix_t *b, int64_t now)
{
        if (te_fix_session_state(b->sess) != TE_FIX_ST_ACTIVE)
                return;
        te_fix_req_t r;
        /* during reconciliation only the status requests leave */
        while (te_fix_reqq_next(b->reqq, now, b->reconciling, &r))
                if (fx_send_req(b, &r, now) == -2)
                        return;
}

void fx_read_frames(fix_t *b, int64_t now, te_reports_t *out)
{
        const char *gone = NULL; /* closed or failed: frames read before still count */
        for (;;) {
                if (te_buf_reserve(&b->rbuf, 4096) != 0) {
                        fx_conn_close(b, "read buffer full");
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
                te_fix_rc_t rc =
                    te_fix_frame_next_v(b->rbuf.data + off, b->rbuf.len - off,
                                        b->cfg.begin_string, &flen, err, sizeof err);
                if (rc == TE_FIX_EAGAIN)
                        break;
                if (rc == TE_FIX_EGARBLED) {
                        b->st.garbled++;
                        off += te_fix_resync_v(b->rbuf.data + off, b->rbuf.len - off,
                                               b->cfg.begin_string);
                        te_fix_session_on_garbled(b->sess, err, &ev);
                        fx_on_sev(b, &ev);
                        continue;
                }
                te_fix_session_on_frame(b->sess, (const char *)b->rbuf.data + off, flen,
                                        now, &b->msg, &ev);
                off += flen;
                if (ev.app)
                        fx_on_app(b, out);
                if (ev.rejected_seq > 0)
                        fx_on_refused(b, ev.rejected_seq, ev.alert, out);
                fx_on_sev(b, &ev);
                if (ev.disconnect) {
                        (void)fx_flush_out(b);
                        fx_conn_close(b, ev.alert[0] ? ev.alert : "session ended");
                        return;
                }
        }
        if (off > 0 && b->conn == C_UP) {
                memmove(b->rbuf.data, b->rbuf.data + off, b->rbuf.len - off);
                b->rbuf.len -= off;
        }
        if (gone && b->conn == C_UP)
                fx_conn_close(b, gone);
}
