/*
 * broker_ibkr_conn: the ibkr adapter's connection to TWS / IB Gateway (see
 * broker_ibkr_int.h): a non-blocking socket, the handshake, framing, dispatch of the
 * inbound messages, and the IB errors about the connection itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker_ibkr_int.h"
#include "te_log.h"
#include "te_net.h"
#include "te_proc.h"

void ibkr_conn_close(ib_t *b, const char *why)
{
        if (b->fd >= 0)
                close(b->fd);
        int was_up = b->state >= TE_IBKR_STARTING;
        b->fd = -1;
        te_buf_reset(&b->rbuf);
        te_buf_reset(&b->wbuf);
        te_tws_pacer_clear(b->pacer);
        if (was_up)
                b->st.disconnects++;
        b->state = TE_IBKR_DISCONNECTED;
        b->next_connect = ibkr_now_ms() + b->backoff_ms;
        TE_LOG(TE_LOG_WARN, NULL, "ibkr.disconnected",
               "%s; not submitting; reconnect in %lld ms", why, (long long)b->backoff_ms);
        b->backoff_ms *= 2;
        if (b->backoff_ms > b->cfg.reconnect_max_ms)
                b->backoff_ms = b->cfg.reconnect_max_ms;
}

static void conn_start(ib_t *b)
{
        char err[256];
        int fd = te_net_connect_start(b->cfg.host, b->cfg.port, err, sizeof err);
        if (fd < 0) {
                ibkr_conn_close(b, err);
                return;
        }
        b->fd = fd;
        b->state = TE_IBKR_CONNECTING;
        b->deadline = ibkr_now_ms() + b->cfg.connect_timeout_ms;
}

static void on_error(ib_t *b, const te_tws_error_t *e)
{
        if (e->code == 100) {
                b->st.pacing_errors++;
                te_tws_pacer_backoff(b->pacer, ibkr_now_ms());
                TE_LOG(TE_LOG_WARN, NULL, "ibkr.pacing",
                       "IB 100 (%s): pausing %lld ms, then half rate", e->text,
                       (long long)TE_IBKR_PACING_BACKOFF_MS);
                return;
        }
        iorder_t *o = e->id > 0 ? ibkr_find_tws(b, e->id) : NULL;
        if (!o) {
                switch (e->code) {
                case 1100:
                        if (b->state == TE_IBKR_READY || b->state == TE_IBKR_RECONCILING)
                                b->state = TE_IBKR_DEGRADED;
                        TE_LOG(TE_LOG_ERROR, NULL, "ibkr.ib_lost",
                               "IB 1100: %s; not submitting", e->text);
                        return;
                case 1101:
                case 1102:
                        TE_LOG(TE_LOG_WARN, NULL, "ibkr.ib_restored", "IB %lld: %s",
                               (long long)e->code, e->text);
                        if (b->state >= TE_IBKR_RECONCILING)
                                ibkr_start_reconcile(b);
                        return;
                case 326:
                case 502:
                case 504:
                case 1300: {
                        char why[TE_TEXT_MAX + 32];
                        snprintf(why, sizeof why, "IB %lld: %.400s", (long long)e->code,
                                 e->text);
                        ibkr_conn_close(b, why);
                        return;
                }
                default:
                        TE_LOG(ibkr_info_code(e->code) ? TE_LOG_INFO : TE_LOG_WARN, NULL,
                               "ibkr.ib_message", "IB %lld (id %lld): %s",
                               (long long)e->code, (long long)e->id, e->text);
                        return;
                }
        }
        ibkr_on_order_error(b, o, e);
}

static void on_managed(ib_t *b, const char *accounts)
{
        te_strlcpy(b->managed, accounts, sizeof b->managed);
        for (int i = 0; i < b->n_allow; i++)
                if (!strstr(accounts, b->allow[i]))
                        TE_LOG(TE_LOG_WARN, NULL, "ibkr.account_not_managed",
                               "allowed account %s is not among the gateway's: %s",
                               b->allow[i], accounts);
}

/* @returns 0, or -1 when the connection was closed. */
static int on_frame(ib_t *b, const uint8_t *payload, size_t len)
{
        char errstr[256];
        if (b->state == TE_IBKR_HANDSHAKE) {
                char ct[64];
                int v;
                if (te_tws_dec_server_version(payload, len, &v, ct, sizeof ct, errstr,
                                              sizeof errstr) != TE_TWS_OK) {
                        b->st.malformed++;
                        ibkr_conn_close(b, errstr);
                        return -1;
                }
                if (v < TE_TWS_VER_MIN || v > TE_TWS_VER_MAX) {
                        snprintf(errstr, sizeof errstr,
                                 "server version %d outside v%d..v%d", v, TE_TWS_VER_MIN,
                                 TE_TWS_VER_MAX);
                        ibkr_conn_close(b, errstr);
                        return -1;
                }
                b->server_version = v;
                if (te_tws_enc_start_api(&b->wbuf, b->cfg.client_id) != 0) {
                        ibkr_conn_close(b, "write buffer full");
                        return -1;
                }
                b->state = TE_IBKR_STARTING;
                b->st.connects++;
                TE_LOG(TE_LOG_INFO, NULL, "ibkr.connected",
                       "server version %d, connection time %s, client id %d", v, ct,
                       b->cfg.client_id);
                return 0;
        }
        te_tws_msg_t m;
        if (te_tws_dec_message(payload, len, &m, errstr, sizeof errstr) != TE_TWS_OK) {
                char why[320];
                b->st.malformed++;
                snprintf(why, sizeof why, "malformed frame: %s", errstr);
                ibkr_conn_close(b, why);
                return -1;
        }
        switch (m.type) {
        case TE_TWS_IN_NEXT_VALID_ID:
                if (m.u.next_valid_id > b->next_id)
                        b->next_id = m.u.next_valid_id;
                if (b->state == TE_IBKR_STARTING)
                        ibkr_start_reconcile(b);
                break;
        case TE_TWS_IN_MANAGED_ACCTS:
                on_managed(b, m.u.accounts);
                break;
        case TE_TWS_IN_ORDER_STATUS:
                ibkr_on_order_status(b, &m.u.status);
                break;
        case TE_TWS_IN_OPEN_ORDER:
                ibkr_on_open_order(b, &m.u.open_order);
                break;
        case TE_TWS_IN_EXEC_DETAILS:
                ibkr_on_exec(b, &m.u.exec);
                break;
        case TE_TWS_IN_COMMISSION_REPORT:
                ibkr_on_commission(b, &m.u.commission);
                break;
        case TE_TWS_IN_ERROR:
                on_error(b, &m.u.error);
                break;
        case TE_TWS_IN_POSITION:
                ibkr_pos_on_position(b, &m.u.position);
                break;
        case TE_TWS_IN_OPEN_ORDER_END:
                b->open_end = 1;
                break;
        case TE_TWS_IN_EXEC_DETAILS_END:
                if (m.u.end_req_id == b->exec_req_id)
                        b->exec_end = 1;
                break;
        case TE_TWS_IN_POSITION_END:
                b->pos_end = 1;
                ibkr_pos_on_end(b);
                break;
        default:
                break;
        }
        if (b->state == TE_IBKR_RECONCILING && b->open_end && b->exec_end && b->pos_end)
                ibkr_finish_reconcile(b);
        return b->fd >= 0 ? 0 : -1;
}

static void do_read(ib_t *b)
{
        for (;;) {
                if (te_buf_reserve(&b->rbuf, 8192) != 0) {
                        ibkr_conn_close(b, "read buffer full");
                        return;
                }
                ssize_t n =
                    recv(b->fd, b->rbuf.data + b->rbuf.len, b->rbuf.cap - b->rbuf.len, 0);
                if (n == 0) {
                        ibkr_conn_close(b, "connection closed by TWS");
                        return;
                }
                if (n < 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                break;
                        if (errno == EINTR)
                                continue;
                        ibkr_conn_close(b, strerror(errno));
                        return;
                }
                b->rbuf.len += (size_t)n;
                size_t off = 0;
                for (;;) {
                        const uint8_t *pl;
                        size_t plen, used;
                        char errstr[160];
                        te_tws_rc_t rc = te_tws_frame_next(
                            b->rbuf.data + off, b->rbuf.len - off, TE_TWS_MAX_FRAME, &pl,
                            &plen, &used, errstr, sizeof errstr);
                        if (rc == TE_TWS_EAGAIN)
                                break;
                        if (rc != TE_TWS_OK) {
                                char why[200];
                                b->st.malformed++;
                                snprintf(why, sizeof why, "malformed frame: %s", errstr);
                                ibkr_conn_close(b, why);
                                return;
                        }
                        off += used;
                        if (on_frame(b, pl, plen) != 0)
                                return;
                }
                memmove(b->rbuf.data, b->rbuf.data + off, b->rbuf.len - off);
                b->rbuf.len -= off;
        }
}

static void do_write(ib_t *b)
{
        if (b->state >= TE_IBKR_STARTING &&
            te_tws_pacer_release(b->pacer, ibkr_now_ms(), &b->wbuf) < 0) {
                ibkr_conn_close(b, "write buffer full");
                return;
        }
        while (b->wbuf.len) {
                ssize_t n = send(b->fd, b->wbuf.data, b->wbuf.len, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return;
                        if (errno == EINTR)
                                continue;
                        ibkr_conn_close(b, strerror(errno));
                        return;
                }
                memmove(b->wbuf.data, b->wbuf.data + n, b->wbuf.len - (size_t)n);
                b->wbuf.len -= (size_t)n;
        }
}

/* Drive the connection without blocking. */
void ibkr_pump(ib_t *b)
{
        int64_t now = ibkr_now_ms();
        if (b->state == TE_IBKR_DISCONNECTED) {
                if (now < b->next_connect)
                        return;
                conn_start(b);
                if (b->fd < 0)
                        return;
        }
        if (b->state == TE_IBKR_CONNECTING) {
                int err = 0;
                socklen_t el = sizeof err;
                struct sockaddr_storage ss;
                socklen_t sl = sizeof ss;
                if (getpeername(b->fd, (struct sockaddr *)&ss, &sl) != 0) {
                        if (getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
                            err) {
                                ibkr_conn_close(b, strerror(err));
                                return;
                        }
                        if (now > b->deadline)
                                ibkr_conn_close(b, "connect timed out");
                        return;
                }
                if (te_tws_enc_handshake(&b->wbuf, TE_TWS_VER_MIN, TE_TWS_VER_MAX) != 0) {
                        ibkr_conn_close(b, "write buffer full");
                        return;
                }
                b->state = TE_IBKR_HANDSHAKE;
                b->deadline = now + b->cfg.connect_timeout_ms;
        }
        do_read(b);
        if (b->fd < 0)
                return;
        if (b->state >= TE_IBKR_HANDSHAKE && b->state <= TE_IBKR_RECONCILING &&
            ibkr_now_ms() > b->deadline) {
                ibkr_conn_close(b, te_ibkr_state_name(b->state));
                return;
        }
        for (size_t i = 0; i < b->n_orders; i++) {
                iorder_t *o = b->olist[i];
                if (o->cancel_waiting && !o->terminal &&
                    ibkr_now_ms() >= o->cancel_deadline) {
                        TE_LOG(TE_LOG_WARN, NULL, "ibkr.cancel_fills_missing",
                               "order %s: IB counted %.10g filled, executions give %.10g",
                               o->cmd.order_id, o->cancel_hint, o->cum);
                        ibkr_emit_end(b, o, TE_EXEC_CANCELED, o->cancel_reason);
                }
        }
        if (b->state == TE_IBKR_READY)
                ibkr_pos_poll(b);
        do_write(b);
}
