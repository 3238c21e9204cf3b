/*
 * broker_ibkr: Interactive Brokers adapter over the TWS API socket protocol (see
 * broker_ibkr.h for the behaviour; tws_proto.h for the wire format).
 *
 * Layout of this file: order bookkeeping and the report queue, the connection state
 * machine (connect, handshake, start, reconcile, ready), the inbound message
 * handlers, then the te_broker_ops_t functions.
 */
#include "broker_ibkr.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ibkr_store.h"
#include "te_buf.h"
#include "te_ids.h"
#include "te_log.h"
#include "te_map.h"
#include "te_proc.h"
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
} iorder_t;

typedef struct pend_s {
        te_exec_report_t r;
        char wait_exec[TE_TWS_STR]; /* commission pending for this exec ("" = ready) */
        int64_t deadline;
        int has_exec;
        te_ibkr_exec_row_t x;
        int terminal; /* record the order's final status on delivery */
} pend_t;

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
        te_map_t *execs; /* exec ids seen (value: the marker below) */
        /* outbound reports */
        pend_t *pend;
        size_t n_pend, cap_pend;
        te_ibkr_exec_row_t *hx; /* handed out, not yet delivered */
        size_t n_hx, cap_hx;
        status_upd_t *hs;
        size_t n_hs, cap_hs;
        te_ibkr_stats_t st;
        int oom;
} ib_t;

static int seen_marker;

const char *te_ibkr_state_name(te_ibkr_state_t s)
{
        static const char *const n[] = {"DISCONNECTED", "CONNECTING",  "HANDSHAKE",
                                        "STARTING",     "RECONCILING", "READY",
                                        "DEGRADED"};
        return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "?";
}

void te_ibkr_cfg_defaults(te_ibkr_cfg_t *c)
{
        memset(c, 0, sizeof *c);
        te_strlcpy(c->host, "127.0.0.1", sizeof c->host);
        c->port = 4002;
        c->client_id = 1;
        c->max_msgs_per_sec = 45;
        c->reconnect_min_ms = 500;
        c->reconnect_max_ms = 30000;
        c->commission_wait_ms = 2000;
        c->pacing_backoff_ms = 1000;
        c->connect_timeout_ms = 5000;
        te_strlcpy(c->broker_name, "ibkr", sizeof c->broker_name);
        c->use_db = 1;
}

static int64_t now_ms(void)
{
        return te_proc_mono_ms();
}

/* ---- growable arrays --------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
        if (need <= *cap)
                return 0;
        size_t nc = *cap ? *cap * 2 : 16;
        while (nc < need)
                nc *= 2;
        void *np = realloc(*p, nc * elem);
        if (!np)
                return -1;
        *p = np;
        *cap = nc;
        return 0;
}

/* ---- orders ---------------------------------------------------------------- */

static void tws_key(char *k, size_t ksz, int64_t id)
{
        snprintf(k, ksz, "%lld", (long long)id);
}

static iorder_t *find_tws(ib_t *b, int64_t id)
{
        char k[32];
        tws_key(k, sizeof k, id);
        return te_map_get(b->by_tws, k);
}

static int set_tws(ib_t *b, iorder_t *o, int64_t id)
{
        char k[32];
        o->tws_id = id;
        tws_key(k, sizeof k, id);
        return te_map_put(b->by_tws, k, o);
}

static iorder_t *add_order(ib_t *b, const te_order_cmd_t *cmd, const char *account,
                           int64_t tws_id)
{
        iorder_t *o = calloc(1, sizeof *o);
        if (!o || grow((void **)&b->olist, &b->cap_orders, b->n_orders + 1,
                       sizeof *b->olist) != 0)
                goto err;
        o->cmd = *cmd;
        te_strlcpy(o->account, account, sizeof o->account);
        if (te_map_put(b->by_ref, cmd->order_id, o) != 0)
                goto err;
        if (tws_id > 0 && set_tws(b, o, tws_id) != 0) {
                te_map_del(b->by_ref, cmd->order_id);
                goto err;
        }
        b->olist[b->n_orders++] = o;
        return o;
err:
        free(o);
        b->oom = 1;
        return NULL;
}

/* ---- reports --------------------------------------------------------------- */

static pend_t *push_pend(ib_t *b, iorder_t *o, te_exec_type_t et, te_order_status_t os,
                         const char *report_id)
{
        if (grow((void **)&b->pend, &b->cap_pend, b->n_pend + 1, sizeof *b->pend) != 0) {
                b->oom = 1;
                return NULL;
        }
        pend_t *p = &b->pend[b->n_pend++];
        memset(p, 0, sizeof *p);
        te_exec_report_t *r = &p->r;
        te_broker_report_from_cmd(r, &o->cmd, b->cfg.broker_name);
        te_strlcpy(r->report_id, report_id, sizeof r->report_id);
        te_strlcpy(r->account, o->account, sizeof r->account);
        r->exec_type = et;
        r->order_status = os;
        r->cum_qty = o->cum;
        r->leaves_qty = o->terminal ? 0 : o->cmd.quantity - o->cum;
        if (r->leaves_qty < 0)
                r->leaves_qty = 0;
        r->avg_price = o->cum > 0 ? o->value / o->cum : 0;
        r->event_time = te_proc_wall_ms();
        return p;
}

static void kind_id(char *out, size_t outsz, const iorder_t *o, const char *kind)
{
        te_id_sim_report(out, outsz, o->cmd.order_id, kind, 0);
}

static void emit_ack(ib_t *b, iorder_t *o)
{
        char id[TE_ID_MAX];
        if (o->acked || o->terminal)
                return;
        o->acked = 1;
        kind_id(id, sizeof id, o, "ibkr-ack");
        (void)push_pend(b, o, TE_EXEC_ACK, TE_OS_NEW, id);
}

/* A final CANCELED or REJECTED. */
static void emit_end(ib_t *b, iorder_t *o, te_exec_type_t et, const char *reason)
{
        char id[TE_ID_MAX];
        if (o->terminal)
                return;
        o->terminal = 1;
        o->cancel_waiting = 0;
        kind_id(id, sizeof id, o, et == TE_EXEC_REJECTED ? "ibkr-reject" : "ibkr-cancel");
        pend_t *p = push_pend(
            b, o, et, et == TE_EXEC_REJECTED ? TE_OS_REJECTED : TE_OS_CANCELED, id);
        if (!p)
                return;
        p->terminal = 1;
        te_strlcpy(p->r.reason, reason, sizeof p->r.reason);
        te_log_ids_t ids = {.decision_id = o->cmd.ids.decision_id,
                            .portfolio_id = o->cmd.ids.portfolio_id,
                            .order_id = o->cmd.order_id};
        TE_LOG(TE_LOG_INFO, &ids, "ibkr.order_end", "%s: %s", te_exec_type_name(et),
               reason);
}

/* Move the reports that may leave (in order) to `out`. */
static te_broker_err_t move_ready(ib_t *b, te_reports_t *out)
{
        int64_t now = now_ms();
        size_t k = 0;
        for (; k < b->n_pend; k++) {
                pend_t *p = &b->pend[k];
                if (p->wait_exec[0]) {
                        if (now < p->deadline)
                                break;
                        TE_LOG(TE_LOG_WARN, NULL, "ibkr.commission_missing",
                               "no commissionReport for exec %s within %lld ms; "
                               "published with commission 0",
                               p->wait_exec, (long long)b->cfg.commission_wait_ms);
                        p->wait_exec[0] = '\0';
                }
                te_exec_report_t *r = te_reports_push(out);
                if (!r)
                        return TE_BROKER_ERR_FATAL;
                *r = p->r;
                if (p->has_exec) {
                        p->x.commission = p->r.commission;
                        if (grow((void **)&b->hx, &b->cap_hx, b->n_hx + 1,
                                 sizeof *b->hx) != 0)
                                return TE_BROKER_ERR_FATAL;
                        b->hx[b->n_hx++] = p->x;
                }
                if (p->terminal) {
                        if (grow((void **)&b->hs, &b->cap_hs, b->n_hs + 1,
                                 sizeof *b->hs) != 0)
                                return TE_BROKER_ERR_FATAL;
                        status_upd_t *u = &b->hs[b->n_hs++];
                        te_strlcpy(u->order_id, p->r.order_id, sizeof u->order_id);
                        te_strlcpy(u->status, te_order_status_name(p->r.order_status),
                                   sizeof u->status);
                }
        }
        if (k) {
                memmove(b->pend, b->pend + k, (b->n_pend - k) * sizeof *b->pend);
                b->n_pend -= k;
        }
        return b->oom ? TE_BROKER_ERR_FATAL : TE_BROKER_OK;
}

/* ---- sending --------------------------------------------------------------- */

static int queue_frame(ib_t *b, int urgent)
{
        int rc = te_tws_pacer_push(b->pacer, urgent, b->scratch.data, b->scratch.len);
        te_buf_reset(&b->scratch);
        if (rc != 0)
                TE_LOG(TE_LOG_ERROR, NULL, "ibkr.queue_full", "outgoing queue full");
        return rc;
}

static const char *ib_order_type(te_order_type_t t)
{
        switch (t) {
        case TE_OT_MARKET:
                return "MKT";
        case TE_OT_LIMIT:
                return "LMT";
        case TE_OT_STOP:
                return "STP";
        case TE_OT_STOP_LIMIT:
                return "STP LMT";
        default:
                return NULL;
        }
}

static int send_order(ib_t *b, iorder_t *o)
{
        te_tws_order_t w;
        memset(&w, 0, sizeof w);
        w.order_id = o->tws_id;
        te_strlcpy(w.symbol, o->cmd.ticker, sizeof w.symbol);
        te_strlcpy(w.sec_type, "STK", sizeof w.sec_type);
        te_strlcpy(w.exchange, "SMART", sizeof w.exchange);
        te_strlcpy(w.currency, "USD", sizeof w.currency);
        te_strlcpy(w.action, o->cmd.side == TE_SIDE_BUY ? "BUY" : "SELL",
                   sizeof w.action);
        w.total_qty = o->cmd.quantity;
        te_strlcpy(w.order_type, ib_order_type(o->cmd.order_type), sizeof w.order_type);
        w.has_lmt_price =
            o->cmd.order_type == TE_OT_LIMIT || o->cmd.order_type == TE_OT_STOP_LIMIT;
        w.lmt_price = o->cmd.limit_price;
        w.has_aux_price =
            o->cmd.order_type == TE_OT_STOP || o->cmd.order_type == TE_OT_STOP_LIMIT;
        w.aux_price = o->cmd.stop_price;
        te_strlcpy(w.tif, te_tif_name(o->cmd.tif), sizeof w.tif);
        te_strlcpy(w.account, o->account, sizeof w.account);
        te_strlcpy(w.order_ref, o->cmd.order_id, sizeof w.order_ref);
        if (te_tws_enc_place_order(&b->scratch, &w) != 0 || queue_frame(b, 0) != 0)
                return -1;
        b->st.orders_sent++;
        te_log_ids_t ids = {.decision_id = o->cmd.ids.decision_id,
                            .portfolio_id = o->cmd.ids.portfolio_id,
                            .order_id = o->cmd.order_id};
        TE_LOG(TE_LOG_DEBUG, &ids, "ibkr.place", "tws_id=%lld %s %s %.10g",
               (long long)o->tws_id, w.action, w.symbol, w.total_qty);
        return 0;
}

/* Give a waiting order the next TWS id (persisted first) and queue it. */
static int release_order(ib_t *b, iorder_t *o)
{
        char errstr[512];
        int64_t id = b->next_id;
        if (b->store && te_ibkr_store_set_tws_id(b->store, o->cmd.order_id, id, errstr,
                                                 sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "ibkr.store", "%s", errstr);
                return -1;
        }
        b->next_id = id + 1;
        if (set_tws(b, o, id) != 0) {
                b->oom = 1;
                return -1;
        }
        return send_order(b, o);
}

/* ---- connection ------------------------------------------------------------ */

static void conn_close(ib_t *b, const char *why)
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
        b->next_connect = now_ms() + b->backoff_ms;
        TE_LOG(TE_LOG_WARN, NULL, "ibkr.disconnected",
               "%s; not submitting; reconnect in %lld ms", why, (long long)b->backoff_ms);
        b->backoff_ms *= 2;
        if (b->backoff_ms > b->cfg.reconnect_max_ms)
                b->backoff_ms = b->cfg.reconnect_max_ms;
}

static void conn_start(ib_t *b)
{
        char port[16];
        struct addrinfo hints, *ai = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        snprintf(port, sizeof port, "%d", b->cfg.port);
        int gai = getaddrinfo(b->cfg.host, port, &hints, &ai);
        if (gai != 0 || !ai) {
                conn_close(b, gai_strerror(gai));
                return;
        }
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                freeaddrinfo(ai);
                conn_close(b, "socket failed");
                return;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        freeaddrinfo(ai);
        b->fd = fd;
        if (rc != 0 && errno != EINPROGRESS) {
                conn_close(b, strerror(errno));
                return;
        }
        b->state = TE_IBKR_CONNECTING;
        b->deadline = now_ms() + b->cfg.connect_timeout_ms;
}

static void start_reconcile(ib_t *b)
{
        for (size_t i = 0; i < b->n_orders; i++)
                b->olist[i]->seen = 0;
        b->open_end = b->exec_end = b->pos_end = 0;
        b->exec_req_id++;
        if (te_tws_enc_req_open_orders(&b->scratch) != 0 || queue_frame(b, 0) != 0 ||
            te_tws_enc_req_executions(&b->scratch, b->exec_req_id, b->cfg.client_id,
                                      "") != 0 ||
            queue_frame(b, 0) != 0 || te_tws_enc_req_positions(&b->scratch) != 0 ||
            queue_frame(b, 0) != 0) {
                conn_close(b, "cannot queue reconciliation requests");
                return;
        }
        b->state = TE_IBKR_RECONCILING;
        b->deadline = now_ms() + b->cfg.connect_timeout_ms;
        b->st.reconciles++;
        TE_LOG(TE_LOG_INFO, NULL, "ibkr.reconcile",
               "requesting open orders, executions "
               "and positions");
}

static void finish_reconcile(ib_t *b)
{
        size_t unknown = 0, waiting = 0;
        for (size_t i = 0; i < b->n_orders; i++) {
                iorder_t *o = b->olist[i];
                if (o->terminal || o->tws_id == 0 || o->seen)
                        continue;
                if (o->cum + EPS >= o->cmd.quantity) {
                        o->terminal = 1; /* its FILL went out with the last execution */
                        continue;
                }
                char why[TE_TEXT_MAX];
                snprintf(why, sizeof why,
                         "ibkr: order %lld unknown to IB at reconciliation (filled %.10g "
                         "of %.10g)",
                         (long long)o->tws_id, o->cum, o->cmd.quantity);
                emit_end(b, o, TE_EXEC_CANCELED, why);
                b->st.resolved_unknown++;
                unknown++;
        }
        b->state = TE_IBKR_READY;
        b->backoff_ms = b->cfg.reconnect_min_ms;
        for (size_t i = 0; i < b->n_orders; i++) {
                iorder_t *o = b->olist[i];
                if (!o->terminal && o->tws_id == 0) {
                        if (release_order(b, o) != 0) {
                                conn_close(b, "cannot send a waiting order");
                                return;
                        }
                        waiting++;
                }
        }
        TE_LOG(TE_LOG_INFO, NULL, "ibkr.ready",
               "reconciled: %zu unknown orders resolved, %zu waiting orders sent, next "
               "id %lld",
               unknown, waiting, (long long)b->next_id);
}

/* ---- inbound --------------------------------------------------------------- */

static int row_cb(void *ctx, const te_ibkr_row_t *row)
{
        ib_t *b = ctx;
        if (te_map_get(b->by_ref, row->cmd.order_id))
                return 0;
        iorder_t *o = add_order(b, &row->cmd, row->account, row->tws_id);
        if (!o)
                return -1;
        o->terminal = row->terminal;
        o->acked = row->tws_id > 0;
        return 0;
}

static int exec_cb(void *ctx, const te_ibkr_exec_row_t *x)
{
        ib_t *b = ctx;
        if (te_map_get(b->execs, x->exec_id))
                return 0;
        if (te_map_put(b->execs, x->exec_id, &seen_marker) != 0)
                return -1;
        iorder_t *o = te_map_get(b->by_ref, x->order_id);
        if (o) {
                o->cum += x->shares;
                o->value += x->shares * x->price;
        }
        return 0;
}

static iorder_t *find_ref(ib_t *b, const char *ref)
{
        iorder_t *o = te_map_get(b->by_ref, ref);
        if (o || !b->store || !ref[0])
                return o;
        char errstr[512];
        if (te_ibkr_store_load_order(b->store, ref, row_cb, exec_cb, b, errstr,
                                     sizeof errstr) < 0)
                TE_LOG(TE_LOG_ERROR, NULL, "ibkr.store", "%s", errstr);
        return te_map_get(b->by_ref, ref);
}

static void cancel_seen(ib_t *b, iorder_t *o, double hint, const char *reason)
{
        if (o->terminal)
                return;
        if (o->cum + EPS >= hint) {
                emit_end(b, o, TE_EXEC_CANCELED, reason);
                return;
        }
        /* TWS counts fills we have not seen as execDetails yet: wait for them */
        o->cancel_waiting = 1;
        o->cancel_hint = hint;
        o->cancel_deadline = now_ms() + b->cfg.commission_wait_ms;
        te_strlcpy(o->cancel_reason, reason, sizeof o->cancel_reason);
}

static void on_order_status(ib_t *b, const te_tws_order_status_t *s)
{
        iorder_t *o = find_tws(b, s->order_id);
        if (!o) {
                TE_LOG(TE_LOG_DEBUG, NULL, "ibkr.status_unknown", "order %lld: %s",
                       (long long)s->order_id, s->status);
                return;
        }
        o->seen = 1;
        if (!strcmp(s->status, "Cancelled") || !strcmp(s->status, "ApiCancelled")) {
                char why[TE_TEXT_MAX];
                snprintf(why, sizeof why, "IB: order %s (filled %.10g)", s->status,
                         s->filled);
                cancel_seen(b, o, s->filled, why);
        } else if (!strcmp(s->status, "PreSubmitted") ||
                   !strcmp(s->status, "Submitted") || !strcmp(s->status, "Filled")) {
                emit_ack(b, o);
        }
}

static void on_open_order(ib_t *b, const te_tws_order_t *w)
{
        iorder_t *o = find_ref(b, w->order_ref);
        if (!o) {
                TE_LOG(TE_LOG_DEBUG, NULL, "ibkr.open_order_foreign",
                       "order %lld ref '%s' is not ours", (long long)w->order_id,
                       w->order_ref);
                return;
        }
        if (o->tws_id != w->order_id && set_tws(b, o, w->order_id) != 0)
                b->oom = 1;
        o->seen = 1;
        emit_ack(b, o);
}

static void on_exec(ib_t *b, const te_tws_exec_t *x)
{
        if (te_map_get(b->execs, x->exec_id)) {
                b->st.dup_execs++;
                TE_LOG(TE_LOG_DEBUG, NULL, "ibkr.exec_dup", "exec %s already seen",
                       x->exec_id);
                return;
        }
        iorder_t *o = find_ref(b, x->order_ref);
        if (te_map_get(b->execs, x->exec_id)) { /* loaded from the DB just now */
                b->st.dup_execs++;
                return;
        }
        if (!o) {
                TE_LOG(TE_LOG_WARN, NULL, "ibkr.exec_foreign",
                       "execution %s of order %lld (ref '%s') is not ours; ignored",
                       x->exec_id, (long long)x->order_id, x->order_ref);
                return;
        }
        if (te_map_put(b->execs, x->exec_id, &seen_marker) != 0) {
                b->oom = 1;
                return;
        }
        if (o->tws_id != x->order_id && set_tws(b, o, x->order_id) != 0)
                b->oom = 1;
        o->seen = 1;
        emit_ack(b, o);
        int was_terminal = o->terminal;
        o->cum += x->shares;
        o->value += x->shares * x->price;
        int full = o->cum + EPS >= o->cmd.quantity;
        if (full)
                o->terminal = 1;
        char rid[TE_ID_MAX];
        const char *parts[] = {"ibkr", "exec", x->exec_id};
        rid[0] = 'r';
        te_id_digest(rid + 1, sizeof rid - 1, parts, 3);
        pend_t *p = push_pend(b, o, full ? TE_EXEC_FILL : TE_EXEC_PARTIAL_FILL,
                              full ? TE_OS_FILLED : TE_OS_PARTIALLY_FILLED, rid);
        if (!p)
                return;
        p->r.last_qty = x->shares;
        p->r.last_price = x->price;
        if (x->account[0])
                te_strlcpy(p->r.account, x->account, sizeof p->r.account);
        te_strlcpy(p->wait_exec, x->exec_id, sizeof p->wait_exec);
        p->deadline = now_ms() + b->cfg.commission_wait_ms;
        p->has_exec = 1;
        te_strlcpy(p->x.exec_id, x->exec_id, sizeof p->x.exec_id);
        te_strlcpy(p->x.order_id, o->cmd.order_id, sizeof p->x.order_id);
        p->x.shares = x->shares;
        p->x.price = x->price;
        p->terminal = full && !was_terminal;
        b->st.fills++;
        if (was_terminal)
                TE_LOG(TE_LOG_WARN, NULL, "ibkr.late_fill",
                       "execution %s arrived after order %s ended; published", x->exec_id,
                       o->cmd.order_id);
        if (!o->terminal && o->cancel_waiting && o->cum + EPS >= o->cancel_hint)
                emit_end(b, o, TE_EXEC_CANCELED, o->cancel_reason);
}

static void on_commission(ib_t *b, const te_tws_commission_t *c)
{
        for (size_t i = 0; i < b->n_pend; i++) {
                pend_t *p = &b->pend[i];
                if (p->has_exec && !strcmp(p->x.exec_id, c->exec_id)) {
                        p->r.commission = c->commission;
                        p->wait_exec[0] = '\0';
                        return;
                }
        }
        TE_LOG(TE_LOG_DEBUG, NULL, "ibkr.commission_unmatched",
               "commission for exec %s with no waiting fill", c->exec_id);
}

static int info_code(int64_t code)
{
        return code == 399 || code == 161 || code == 10147 || code == 10148 ||
               code == 10149 || code == 404 || (code >= 2100 && code <= 2199);
}

static void on_error(ib_t *b, const te_tws_error_t *e)
{
        if (e->code == 100) {
                b->st.pacing_errors++;
                te_tws_pacer_backoff(b->pacer, now_ms());
                TE_LOG(TE_LOG_WARN, NULL, "ibkr.pacing",
                       "IB 100 (%s): pausing %lld ms, then half rate", e->text,
                       (long long)b->cfg.pacing_backoff_ms);
                return;
        }
        iorder_t *o = e->id > 0 ? find_tws(b, e->id) : NULL;
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
                                start_reconcile(b);
                        return;
                case 326:
                case 502:
                case 504:
                case 1300: {
                        char why[TE_TEXT_MAX + 32];
                        snprintf(why, sizeof why, "IB %lld: %.400s", (long long)e->code,
                                 e->text);
                        conn_close(b, why);
                        return;
                }
                default:
                        TE_LOG(info_code(e->code) ? TE_LOG_INFO : TE_LOG_WARN, NULL,
                               "ibkr.ib_message", "IB %lld (id %lld): %s",
                               (long long)e->code, (long long)e->id, e->text);
                        return;
                }
        }
        char why[TE_TEXT_MAX];
        snprintf(why, sizeof why, "IB %lld: %.400s", (long long)e->code, e->text);
        if (e->code == 202) {
                if (!o->cancel_waiting) /* a Cancelled status may already wait for fills
                                         */
                        cancel_seen(b, o, o->cum, why);
        } else if (info_code(e->code)) {
                TE_LOG(TE_LOG_INFO, NULL, "ibkr.order_message", "order %s: %s",
                       o->cmd.order_id, why);
        } else if (!o->terminal) {
                b->st.rejects++;
                emit_end(b, o, o->cum > 0 ? TE_EXEC_CANCELED : TE_EXEC_REJECTED, why);
        }
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
                        conn_close(b, errstr);
                        return -1;
                }
                if (v < TE_TWS_VER_MIN || v > TE_TWS_VER_MAX) {
                        snprintf(errstr, sizeof errstr,
                                 "server version %d outside v%d..v%d", v, TE_TWS_VER_MIN,
                                 TE_TWS_VER_MAX);
                        conn_close(b, errstr);
                        return -1;
                }
                b->server_version = v;
                if (te_tws_enc_start_api(&b->wbuf, b->cfg.client_id) != 0) {
                        conn_close(b, "write buffer full");
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
                conn_close(b, why);
                return -1;
        }
        switch (m.type) {
        case TE_TWS_IN_NEXT_VALID_ID:
                if (m.u.next_valid_id > b->next_id)
                        b->next_id = m.u.next_valid_id;
                if (b->state == TE_IBKR_STARTING)
                        start_reconcile(b);
                break;
        case TE_TWS_IN_MANAGED_ACCTS:
                on_managed(b, m.u.accounts);
                break;
        case TE_TWS_IN_ORDER_STATUS:
                on_order_status(b, &m.u.status);
                break;
        case TE_TWS_IN_OPEN_ORDER:
                on_open_order(b, &m.u.open_order);
                break;
        case TE_TWS_IN_EXEC_DETAILS:
                on_exec(b, &m.u.exec);
                break;
        case TE_TWS_IN_COMMISSION_REPORT:
                on_commission(b, &m.u.commission);
                break;
        case TE_TWS_IN_ERROR:
                on_error(b, &m.u.error);
                break;
        case TE_TWS_IN_POSITION:
                TE_LOG(TE_LOG_INFO, NULL, "ibkr.position", "%s %s %.10g @ %.10g",
                       m.u.position.account, m.u.position.symbol, m.u.position.position,
                       m.u.position.avg_cost);
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
                break;
        default:
                break;
        }
        if (b->state == TE_IBKR_RECONCILING && b->open_end && b->exec_end && b->pos_end)
                finish_reconcile(b);
        return b->fd >= 0 ? 0 : -1;
}

static void do_read(ib_t *b)
{
        for (;;) {
                if (te_buf_reserve(&b->rbuf, 8192) != 0) {
                        conn_close(b, "read buffer full");
                        return;
                }
                ssize_t n =
                    recv(b->fd, b->rbuf.data + b->rbuf.len, b->rbuf.cap - b->rbuf.len, 0);
                if (n == 0) {
                        conn_close(b, "connection closed by TWS");
                        return;
                }
                if (n < 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                break;
                        if (errno == EINTR)
                                continue;
                        conn_close(b, strerror(errno));
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
                                conn_close(b, why);
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
            te_tws_pacer_release(b->pacer, now_ms(), &b->wbuf) < 0) {
                conn_close(b, "write buffer full");
                return;
        }
        while (b->wbuf.len) {
                ssize_t n = send(b->fd, b->wbuf.data, b->wbuf.len, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return;
                        if (errno == EINTR)
                                continue;
                        conn_close(b, strerror(errno));
                        return;
                }
                memmove(b->wbuf.data, b->wbuf.data + n, b->wbuf.len - (size_t)n);
                b->wbuf.len -= (size_t)n;
        }
}

/* Drive the connection without blocking. */
static void pump(ib_t *b)
{
        int64_t now = now_ms();
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
                                conn_close(b, strerror(err));
                                return;
                        }
                        if (now > b->deadline)
                                conn_close(b, "connect timed out");
                        return;
                }
                if (te_tws_enc_handshake(&b->wbuf, TE_TWS_VER_MIN, TE_TWS_VER_MAX) != 0) {
                        conn_close(b, "write buffer full");
                        return;
                }
                b->state = TE_IBKR_HANDSHAKE;
                b->deadline = now + b->cfg.connect_timeout_ms;
        }
        do_read(b);
        if (b->fd < 0)
                return;
        if (b->state >= TE_IBKR_HANDSHAKE && b->state <= TE_IBKR_RECONCILING &&
            now_ms() > b->deadline) {
                conn_close(b, te_ibkr_state_name(b->state));
                return;
        }
        for (size_t i = 0; i < b->n_orders; i++) {
                iorder_t *o = b->olist[i];
                if (o->cancel_waiting && !o->terminal && now_ms() >= o->cancel_deadline) {
                        TE_LOG(TE_LOG_WARN, NULL, "ibkr.cancel_fills_missing",
                               "order %s: IB counted %.10g filled, executions give %.10g",
                               o->cmd.order_id, o->cancel_hint, o->cum);
                        emit_end(b, o, TE_EXEC_CANCELED, o->cancel_reason);
                }
        }
        do_write(b);
}

/* ---- ops ------------------------------------------------------------------- */

static const char *pick_account(ib_t *b, const te_order_cmd_t *cmd)
{
        const char *colon = strchr(cmd->route, ':');
        const char *want = colon ? colon + 1 : b->allow[0];
        for (int i = 0; i < b->n_allow; i++)
                if (!strcmp(want, b->allow[i]))
                        return b->allow[i];
        return NULL;
}

static te_broker_err_t reject_cmd(ib_t *b, const te_order_cmd_t *cmd, const char *why,
                                  te_reports_t *out)
{
        te_exec_report_t *r = te_reports_push(out);
        if (!r)
                return TE_BROKER_ERR_FATAL;
        te_broker_report_from_cmd(r, cmd, b->cfg.broker_name);
        te_id_sim_report(r->report_id, sizeof r->report_id, cmd->order_id, "ibkr-reject",
                         0);
        r->exec_type = TE_EXEC_REJECTED;
        r->order_status = TE_OS_REJECTED;
        r->event_time = te_proc_wall_ms();
        te_strlcpy(r->reason, why, sizeof r->reason);
        te_log_ids_t ids = {.decision_id = cmd->ids.decision_id,
                            .order_id = cmd->order_id};
        TE_LOG(TE_LOG_WARN, &ids, "ibkr.refused", "%s", why);
        return TE_BROKER_OK;
}

static te_broker_err_t ib_submit(te_broker_t *base, const te_order_cmd_t *cmd,
                                 te_reports_t *out)
{
        ib_t *b = (ib_t *)base;
        char why[TE_TEXT_MAX], errstr[512];
        te_log_ids_t ids = {.decision_id = cmd->ids.decision_id,
                            .order_id = cmd->order_id};
        if (te_map_get(b->by_ref, cmd->order_id)) {
                TE_LOG(TE_LOG_INFO, &ids, "ibkr.duplicate_new", "already accepted");
                return move_ready(b, out);
        }
        if (!ib_order_type(cmd->order_type))
                return reject_cmd(b, cmd, "ibkr: unsupported order type", out);
        if (cmd->tif == TE_TIF_CLS)
                return reject_cmd(b, cmd, "ibkr: TIF CLS is not supported", out);
        if (!(cmd->quantity > 0) || cmd->quantity > 1e9)
                return reject_cmd(b, cmd, "ibkr: quantity out of range", out);
        if ((cmd->order_type == TE_OT_LIMIT || cmd->order_type == TE_OT_STOP_LIMIT) &&
            !(cmd->has_limit_price && cmd->limit_price > 0))
                return reject_cmd(b, cmd, "ibkr: limit price required", out);
        if ((cmd->order_type == TE_OT_STOP || cmd->order_type == TE_OT_STOP_LIMIT) &&
            !(cmd->has_stop_price && cmd->stop_price > 0))
                return reject_cmd(b, cmd, "ibkr: stop price required", out);
        const char *acct = pick_account(b, cmd);
        if (!acct) {
                snprintf(why, sizeof why,
                         "ibkr: account of route '%s' not in ibkr.accounts", cmd->route);
                return reject_cmd(b, cmd, why, out);
        }
        if (b->managed[0] && !strstr(b->managed, acct)) {
                snprintf(why, sizeof why, "ibkr: account %s not managed by this gateway",
                         acct);
                return reject_cmd(b, cmd, why, out);
        }
        int ready = b->state == TE_IBKR_READY;
        int64_t id = ready ? b->next_id : 0;
        if (b->store) {
                int rc = te_ibkr_store_add_order(b->store, cmd, acct, id, errstr,
                                                 sizeof errstr);
                if (rc < 0) {
                        TE_LOG(TE_LOG_ERROR, &ids, "ibkr.store", "%s", errstr);
                        return TE_BROKER_ERR_RETRIABLE;
                }
                if (rc == 0) {
                        TE_LOG(TE_LOG_INFO, &ids, "ibkr.duplicate_new",
                               "already accepted before a restart");
                        (void)find_ref(b, cmd->order_id);
                        return move_ready(b, out);
                }
        }
        iorder_t *o = add_order(b, cmd, acct, id);
        if (!o)
                return TE_BROKER_ERR_FATAL;
        if (ready) {
                b->next_id = id + 1;
                if (send_order(b, o) != 0)
                        return TE_BROKER_ERR_FATAL;
        } else {
                TE_LOG(TE_LOG_WARN, &ids, "ibkr.order_waits",
                       "broker connection %s: order waits for reconnection",
                       te_ibkr_state_name(b->state));
        }
        pump(b);
        return move_ready(b, out);
}

static te_broker_err_t ib_cancel(te_broker_t *base, const te_order_cmd_t *cmd,
                                 te_reports_t *out)
{
        ib_t *b = (ib_t *)base;
        te_log_ids_t ids = {.decision_id = cmd->ids.decision_id,
                            .order_id = cmd->order_id};
        iorder_t *o = find_ref(b, cmd->order_id);
        if (!o) {
                TE_LOG(TE_LOG_WARN, &ids, "ibkr.cancel_unknown", "no such order");
        } else if (o->terminal) {
                TE_LOG(TE_LOG_INFO, &ids, "ibkr.cancel_late", "order already ended");
        } else if (o->tws_id == 0) {
                emit_end(b, o, TE_EXEC_CANCELED, "canceled before it was sent to IB");
        } else if (!o->cancel_sent) {
                if (te_tws_enc_cancel_order(&b->scratch, o->tws_id) != 0 ||
                    queue_frame(b, 1) != 0)
                        return TE_BROKER_ERR_FATAL;
                o->cancel_sent = 1;
                b->st.cancels_sent++;
        }
        pump(b);
        return move_ready(b, out);
}

static te_broker_err_t ib_replace(te_broker_t *base, const te_order_cmd_t *cmd,
                                  te_reports_t *out)
{
        ib_t *b = (ib_t *)base;
        te_log_ids_t ids = {.decision_id = cmd->ids.decision_id,
                            .order_id = cmd->order_id};
        TE_LOG(TE_LOG_WARN, &ids, "ibkr.replace_unsupported",
               "REPLACE is not supported by the ibkr adapter; send CANCEL + NEW");
        return move_ready(b, out);
}

static te_broker_err_t ib_clock(te_broker_t *base, const te_order_cmd_t *cmd,
                                te_reports_t *out)
{
        ib_t *b = (ib_t *)base;
        te_exec_report_t *r = te_reports_push(out);
        if (!r)
                return TE_BROKER_ERR_FATAL;
        te_broker_report_from_cmd(r, cmd, b->cfg.broker_name);
        te_id_sim_report(r->report_id, sizeof r->report_id, cmd->order_id, "clockack", 0);
        r->exec_type = TE_EXEC_CLOCK_ACK;
        r->order_status = TE_OS_NEW;
        return TE_BROKER_OK;
}

static te_broker_err_t ib_poll(te_broker_t *base, te_reports_t *out)
{
        ib_t *b = (ib_t *)base;
        pump(b);
        return move_ready(b, out);
}

static int ib_connected(te_broker_t *base)
{
        return ((ib_t *)base)->state == TE_IBKR_READY;
}

static void ib_delivered(te_broker_t *base)
{
        ib_t *b = (ib_t *)base;
        char errstr[512];
        if (b->store) {
                if (te_ibkr_store_add_execs(b->store, b->hx, b->n_hx, errstr,
                                            sizeof errstr) != 0) {
                        TE_LOG(TE_LOG_ERROR, NULL, "ibkr.store", "%s (will retry)",
                               errstr);
                        return;
                }
                for (size_t i = 0; i < b->n_hs; i++)
                        if (te_ibkr_store_set_status(b->store, b->hs[i].order_id,
                                                     b->hs[i].status, 1, errstr,
                                                     sizeof errstr) != 0) {
                                TE_LOG(TE_LOG_ERROR, NULL, "ibkr.store", "%s", errstr);
                                memmove(b->hs, b->hs + i, (b->n_hs - i) * sizeof *b->hs);
                                b->n_hs -= i;
                                b->n_hx = 0;
                                return;
                        }
        }
        b->n_hx = 0;
        b->n_hs = 0;
}

static void ib_destroy(te_broker_t *base)
{
        ib_t *b = (ib_t *)base;
        if (b->fd >= 0)
                close(b->fd);
        for (size_t i = 0; i < b->n_orders; i++)
                free(b->olist[i]);
        free(b->olist);
        te_map_destroy(b->by_ref, NULL);
        te_map_destroy(b->by_tws, NULL);
        te_map_destroy(b->execs, NULL);
        free(b->pend);
        free(b->hx);
        free(b->hs);
        te_buf_free(&b->rbuf);
        te_buf_free(&b->wbuf);
        te_buf_free(&b->scratch);
        te_tws_pacer_destroy(b->pacer);
        te_ibkr_store_close(b->store);
        free(b);
}

static const te_broker_ops_t ibkr_ops = {
    .name = "ibkr",
    .mode = TE_MODE_PRODUCTION,
    .submit = ib_submit,
    .cancel = ib_cancel,
    .replace = ib_replace,
    .clock = ib_clock,
    .poll = ib_poll,
    .destroy = ib_destroy,
    .connected = ib_connected,
    .delivered = ib_delivered,
};

te_ibkr_state_t te_ibkr_state(te_broker_t *b)
{
        return ((ib_t *)b)->state;
}

void te_ibkr_stats(te_broker_t *b, te_ibkr_stats_t *out)
{
        *out = ((ib_t *)b)->st;
}

static int parse_accounts(ib_t *b, char *errstr, size_t errstr_size)
{
        const char *p = b->cfg.accounts;
        while (*p) {
                while (*p == ',' || *p == ' ')
                        p++;
                size_t n = strcspn(p, ", ");
                if (n == 0)
                        break;
                if (b->n_allow == MAX_ACCOUNTS || n >= TE_NAME_MAX) {
                        snprintf(errstr, errstr_size,
                                 "ibkr.accounts: at most %d accounts of < %d chars",
                                 MAX_ACCOUNTS, TE_NAME_MAX);
                        return -1;
                }
                memcpy(b->allow[b->n_allow], p, n);
                b->allow[b->n_allow][n] = '\0';
                b->n_allow++;
                p += n;
        }
        if (b->n_allow == 0) {
                snprintf(errstr, errstr_size, "ibkr.accounts: at least one account");
                return -1;
        }
        return 0;
}

te_broker_t *te_ibkr_new(const te_ibkr_cfg_t *cfg, char *errstr, size_t errstr_size)
{
        ib_t *b = calloc(1, sizeof *b);
        if (!b) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        b->base.ops = &ibkr_ops;
        b->cfg = *cfg;
        b->fd = -1;
        b->state = TE_IBKR_DISCONNECTED;
        b->backoff_ms = cfg->reconnect_min_ms > 0 ? cfg->reconnect_min_ms : 1;
        b->next_id = 1;
        te_buf_init(&b->rbuf, 4 * (TE_TWS_MAX_FRAME + 4));
        te_buf_init(&b->wbuf, 64 * 1024 * 1024);
        te_buf_init(&b->scratch, TE_TWS_MAX_FRAME + 4);
        if (parse_accounts(b, errstr, errstr_size) != 0)
                goto err;
        if (cfg->port < 1 || cfg->port > 65535 || !cfg->host[0]) {
                snprintf(errstr, errstr_size, "ibkr.host/ibkr.port invalid");
                goto err;
        }
        b->pacer =
            te_tws_pacer_new(cfg->max_msgs_per_sec, cfg->pacing_backoff_ms, 100000);
        b->by_ref = te_map_new();
        b->by_tws = te_map_new();
        b->execs = te_map_new();
        if (!b->pacer || !b->by_ref || !b->by_tws || !b->execs) {
                snprintf(errstr, errstr_size,
                         "out of memory or bad ibkr.max_msgs_per_sec");
                goto err;
        }
        if (cfg->use_db) {
                b->store = te_ibkr_store_open(cfg->db_conninfo, cfg->client_id,
                                              b->allow[0], errstr, errstr_size);
                if (!b->store)
                        goto err;
                int64_t hwm = 0;
                if (te_ibkr_store_next_id(b->store, &hwm, errstr, errstr_size) != 0 ||
                    te_ibkr_store_load_open(b->store, row_cb, exec_cb, b, errstr,
                                            errstr_size) != 0)
                        goto err;
                if (hwm > b->next_id)
                        b->next_id = hwm;
                TE_LOG(TE_LOG_INFO, NULL, "ibkr.loaded",
                       "%zu open orders, %zu executions, next TWS id >= %lld",
                       b->n_orders, te_map_count(b->execs), (long long)b->next_id);
        }
        return &b->base;
err:
        ib_destroy(&b->base);
        return NULL;
}
