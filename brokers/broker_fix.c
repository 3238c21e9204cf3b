/*
 * broker_fix: the FIX 4.4 / 4.2 initiator adapter (see broker_fix.h): its settings,
 * the broker operations and construction. The connection, the orders and the
 * reconciliation are in broker_fix_conn.c, broker_fix_orders.c and broker_fix_recon.c
 * (broker_fix_int.h); the protocol itself in fix_proto.c, fix_session.c, fix_app.c.
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

#include "broker_fix_int.h"
#include "te_buf.h"
#include "te_ids.h"
#include "te_log.h"
#include "te_net.h"
#include "te_map.h"
#include "te_order_state.h"
#include "te_proc.h"

static const te_broker_ops_t fix_ops;

static fix_t *F(te_broker_t *b)
{
        return (fix_t *)b;
}

void fx_alert(fix_t *b, te_severity_t sev, const char *code, const forder_t *o,
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

void fx_dirty(fix_t *b, forder_t *o)
{
        if (!b->store || o->dirty)
                return;
        if (te_grow((void **)&b->dirtyv, &b->cap_dirty, b->n_dirty + 1, sizeof *b->dirtyv,
                    64) != 0) {
                fx_alert(b, TE_SEV_CRITICAL, "fix_db", o,
                         "out of memory: the order's row will not be saved");
                return;
        }
        o->dirty = 1;
        b->dirtyv[b->n_dirty++] = o;
}

/* ---- ops ------------------------------------------------------------------- */

int fx_ready(fix_t *b)
{
        return b->conn == C_UP && te_fix_session_state(b->sess) == TE_FIX_ST_ACTIVE &&
               !b->reconciling;
}

static void reject_now(fix_t *b, const te_order_cmd_t *cmd, const char *why,
                       te_reports_t *out)
{
        te_exec_report_t *r = te_reports_push(out);
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
        if (fx_find(b, cmd->order_id) || fx_ended(b, cmd->order_id))
                return TE_BROKER_OK; /* a redelivered NEW */
        if (!fx_ready(b))
                return TE_BROKER_ERR_RETRIABLE;
        /* check the order now: a refused one is rejected, not queued */
        char buf[TE_FIX_MAX_FRAME], err[256] = "";
        te_fix_hdr_t h = {"D", b->cfg.sender, b->cfg.target, 1, te_proc_wall_ms(), 0, 0};
        te_fix_enc_t e;
        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, b->cfg.begin_string);
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
        fx_dirty(b, o);
        fx_release(b, te_proc_wall_ms());
        if (b->conn == C_UP)
                (void)fx_flush_out(b);
        return TE_BROKER_OK;
}

static te_broker_err_t fix_cancel(te_broker_t *bb, const te_order_cmd_t *cmd,
                                  te_reports_t *out)
{
        fix_t *b = F(bb);
        forder_t *o = fx_find(b, cmd->order_id);
        if (!o && !fx_ended(b, cmd->order_id)) {
                fx_unknown_report(b, cmd, "cancel", out);
                return TE_BROKER_OK;
        }
        if (!o || o->terminal || o->cancel_pending)
                return TE_BROKER_OK; /* ended (its final report said so), or asked */
        if (!o->sent) {
                /* still queued (rate limit or connection): it never leaves */
                fx_end_order(b, o, TE_EXEC_CANCELED, TE_OS_CANCELED,
                             "canceled before it was sent", out);
                return TE_BROKER_OK;
        }
        if (!fx_ready(b))
                return TE_BROKER_ERR_RETRIABLE;
        if (te_fix_reqq_push(b->reqq, TE_FIX_Q_URGENT, cmd->order_id, 'F') != 0)
                return TE_BROKER_ERR_RETRIABLE;
        o->cancel_pending = 1;
        fx_release(b, te_proc_wall_ms());
        (void)fx_flush_out(b);
        return TE_BROKER_OK;
}

static te_broker_err_t fix_replace(te_broker_t *bb, const te_order_cmd_t *cmd,
                                   te_reports_t *out)
{
        fix_t *b = F(bb);
        forder_t *o = fx_find(b, cmd->order_id);
        if (!o && !fx_ended(b, cmd->order_id)) {
                fx_unknown_report(b, cmd, "replace", out);
                return TE_BROKER_OK;
        }
        if (!o || o->terminal) {
                fx_alert(b, TE_SEV_WARNING, "replace_refused", o,
                         "replace of order %s: the order has ended", cmd->order_id);
                return TE_BROKER_OK;
        }
        if (o->repl_pending && o->repl.quantity == cmd->quantity &&
            o->repl.limit_price == cmd->limit_price &&
            o->repl.stop_price == cmd->stop_price)
                return TE_BROKER_OK; /* a redelivered REPLACE */
        if (!fx_ready(b))
                return TE_BROKER_ERR_RETRIABLE;
        if (o->repl_pending || o->cancel_pending) {
                /* the answer to the request in flight settles it */
                fx_alert(b, TE_SEV_WARNING, "replace_refused", o,
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
                fx_alert(b, TE_SEV_WARNING, "replace_refused", o,
                         "replace of order %s refused: %s", cmd->order_id, why);
                /* never sent: n < 0 tells it apart from the counterparty's refusals */
                fx_refused_report(b, o, 1, -1 - o->n_replace, why, out);
                return TE_BROKER_OK;
        }
        if (te_fix_reqq_push(b->reqq, TE_FIX_Q_NORMAL, cmd->order_id, 'G') != 0)
                return TE_BROKER_ERR_RETRIABLE;
        o->repl = *cmd;
        o->repl_pending = 1;
        fx_release(b, te_proc_wall_ms());
        (void)fx_flush_out(b);
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

static te_broker_err_t fix_poll(te_broker_t *bb, te_reports_t *out)
{
        fix_t *b = F(bb);
        int64_t now = te_proc_wall_ms();
        fx_sweep(b); /* what ended since the last poll, its row saved */
        if (b->conn == C_DOWN) {
                if (!b->halted && now >= b->next_connect)
                        fx_conn_start(b, now);
                if (b->conn == C_DOWN)
                        return TE_BROKER_OK;
        }
        if (b->conn == C_CONNECTING) {
                fx_conn_check(b, now);
                if (b->conn != C_UP)
                        return TE_BROKER_OK;
        }
        fx_read_frames(b, now, out);
        if (b->conn != C_UP)
                return TE_BROKER_OK;
        te_fix_sev_t ev;
        te_fix_session_tick(b->sess, now, &ev);
        fx_on_sev(b, &ev);
        if (ev.disconnect) {
                (void)fx_flush_out(b);
                fx_conn_close(b, ev.alert[0] ? ev.alert : "session timed out");
                return TE_BROKER_OK;
        }
        if (b->reconciling && now >= b->recon_deadline)
                fx_recon_done(b, 0);
        fx_release(b, now);
        (void)fx_flush_out(b);
        (void)fx_persist(b); /* next_in moves without output too */
        fx_sweep(b);
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
                fx_alert(b, TE_SEV_WARNING, "fix_db", NULL,
                         "delivered ExecIDs not recorded (kept, retried): %s", err);
                return;
        }
        b->n_xpend = 0;
}

static int fix_connected(te_broker_t *bb)
{
        return fx_ready(F(bb));
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
                (void)fx_persist(b);
        te_fix_store_close(b->store);
        te_fix_session_destroy(b->sess);
        te_fix_execids_destroy(b->execs);
        te_map_destroy(b->orders, free_order);
        te_map_destroy(b->ended, NULL);
        free(b->endv);
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

static int load_ended(void *ctx, const char *order_id)
{
        fix_t *b = ctx;
        if (te_map_get(b->orders, order_id))
                return 0; /* open after all (not expected: terminal rows only) */
        return fx_remember_ended(b, order_id);
}

te_broker_t *te_fix_new(const te_fix_cfg_t *cfg, char *errstr, size_t errsz)
{
        if (cfg->max_msgs_per_sec < 1 || cfg->max_msgs_per_sec > TE_FIX_REQQ_RATE_MAX) {
                te_errf(errstr, errsz, "max_msgs_per_sec outside 1..%d",
                        TE_FIX_REQQ_RATE_MAX);
                return NULL;
        }
        if (cfg->reconnect_min_ms < 1 || cfg->reconnect_max_ms < cfg->reconnect_min_ms) {
                te_errf(errstr, errsz, "bad reconnect backoff");
                return NULL;
        }
        if (cfg->port < 1 || cfg->port > 65535) {
                te_errf(errstr, errsz, "port outside 1..65535");
                return NULL;
        }
        const char *begin = te_fix_begin_known(cfg->begin_string);
        int fix42 = begin && strcmp(begin, TE_FIX_BEGIN42) == 0;
        if (!begin) {
                te_errf(errstr, errsz, "begin_string %s: FIX.4.4 or FIX.4.2",
                        cfg->begin_string);
                return NULL;
        }
        if (fix42 && cfg->password[0]) {
                te_errf(errstr, errsz,
                        "a Password (554) cannot be sent in a FIX 4.2 Logon");
                return NULL;
        }
        if (fix42 && cfg->mass_status) {
                te_errf(errstr, errsz,
                        "mass_status: OrderMassStatusRequest (35=AF) does not exist in "
                        "FIX 4.2");
                return NULL;
        }
        if (fix42 && (cfg->tifs & (1u << TE_TIF_CLS))) {
                te_errf(errstr, errsz, "TimeInForce CLS does not exist in FIX 4.2");
                return NULL;
        }
        fix_t *b = calloc(1, sizeof *b);
        if (!b) {
                te_errf(errstr, errsz, "out of memory");
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
        b->app.fix42 = fix42;
        te_strlcpy(b->cfg.begin_string, begin, sizeof b->cfg.begin_string);
        te_fix_session_cfg_t sc;
        memset(&sc, 0, sizeof sc);
        te_strlcpy(sc.sender, cfg->sender, sizeof sc.sender);
        te_strlcpy(sc.target, cfg->target, sizeof sc.target);
        sc.heartbt_int = cfg->heartbt_int;
        sc.reset_on_logon = cfg->reset_on_logon;
        te_strlcpy(sc.password, cfg->password, sizeof sc.password);
        te_strlcpy(sc.begin_string, begin, sizeof sc.begin_string);
        int64_t next_out = cfg->next_out > 0 ? cfg->next_out : 1;
        int64_t next_in = cfg->next_in > 0 ? cfg->next_in : 1;
        if (cfg->use_db) {
                b->store = te_fix_store_open(cfg->db_conninfo, cfg->sender, cfg->target,
                                             errstr, errsz);
                int rc = b->store ? te_fix_store_load_seqs(b->store, &next_out, &next_in,
                                                           errstr, errsz)
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
        b->sess = te_fix_session_new(&sc, next_out, next_in, errstr, errsz);
        memset(sc.password, 0, sizeof sc.password);
        b->execs = te_fix_execids_new();
        b->orders = te_map_new();
        b->ended = te_map_new();
        b->reqq = te_fix_reqq_new(cfg->max_msgs_per_sec);
        if (!b->sess || !b->execs || !b->orders || !b->ended || !b->reqq) {
                if (b->sess)
                        te_errf(errstr, errsz, "out of memory");
                fix_destroy(&b->base);
                return NULL;
        }
        if (b->store && te_fix_store_load_open(b->store, load_row, load_exec, b, errstr,
                                               errsz) != 0) {
                fix_destroy(&b->base);
                return NULL;
        }
        int n_ended = 0;
        if (b->store && cfg->ended_days > 0) {
                n_ended =
                    te_fix_store_load_ended(b->store, cfg->ended_days, FIX_ENDED_MAX,
                                            load_ended, b, errstr, errsz);
                if (n_ended < 0) {
                        fix_destroy(&b->base);
                        return NULL;
                }
        }
        if (b->store) {
                TE_LOG(TE_LOG_INFO, NULL, "fix.loaded", "%zu open orders",
                       te_map_count(b->orders));
                TE_LOG(TE_LOG_INFO, NULL, "fix.ended_loaded",
                       "%d orders ended within %d days", n_ended, cfg->ended_days);
        }
        return &b->base;
}

void te_fix_logout(te_broker_t *bb, int64_t timeout_ms, te_reports_t *out)
{
        fix_t *b = F(bb);
        if (b->conn != C_UP)
                return;
        te_fix_sev_t ev;
        te_fix_session_logout(b->sess, "logging out", te_proc_wall_ms(), &ev);
        if (fx_flush_out(b) != 0)
                return;
        int64_t deadline = te_proc_mono_ms() + timeout_ms;
        while (b->conn == C_UP && te_proc_mono_ms() < deadline) {
                struct pollfd p = {.fd = b->fd, .events = POLLIN};
                (void)poll(&p, 1, 10);
                fx_read_frames(b, te_proc_wall_ms(), out);
        }
        if (b->conn != C_DOWN)
                fx_conn_close(b, "logged out");
}

void te_fix_stats(te_broker_t *bb, te_fix_stats_t *out)
{
        *out = F(bb)->st;
        out->orders_held = te_map_count(F(bb)->orders);
}

void te_fix_seqs(te_broker_t *bb, int64_t *next_out, int64_t *next_in)
{
        te_fix_session_seqs(F(bb)->sess, next_out, next_in);
}
