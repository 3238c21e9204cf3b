/*
 * broker_fix_recon: the fix adapter's reconciliation (broker_fix_int.h): after every
 * Logon an OrderStatusRequest for each order sent and not ended, or (fix.mass_status)
 * one OrderMassStatusRequest whose answers stand for them, then an OrderStatusRequest
 * for each open order it did not list; the answers book what we missed and end what
 * ended.
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

void fx_recon_done(fix_t *b, int complete)
{
        if (!b->reconciling)
                return;
        b->reconciling = 0;
        b->mass_pending = 0;
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
                fx_alert(
                    b, TE_SEV_WARNING, "reconcile_incomplete", NULL,
                    "%zu open order(s) not confirmed by the counterparty; they stay open",
                    left);
        }
        TE_LOG(TE_LOG_INFO, NULL, "fix.ready", "session up and reconciled");
}

/* An OrderStatusRequest for every open order still waiting for its status. */
static void ask_each(fix_t *b)
{
        size_t pos = 0;
        const char *k;
        void *v;
        while (te_map_next(b->orders, &pos, &k, &v)) {
                forder_t *o = v;
                if (o->recon_pending &&
                    te_fix_reqq_push(b->reqq, TE_FIX_Q_STATUS, o->cmd.order_id, 'H') != 0)
                        o->recon_pending = 0; /* queue full: stays open as we know it */
        }
}

void fx_mass_done(fix_t *b)
{
        if (!b->mass_pending)
                return;
        b->mass_pending = 0;
        if (!b->reconciling)
                return;
        ask_each(b); /* the orders it did not list */
        fx_recon_check(b);
}

void fx_mass_refused(fix_t *b, const char *text)
{
        if (!b->mass_off)
                fx_alert(b, TE_SEV_WARNING, "mass_status_refused", NULL,
                         "OrderMassStatusRequest %s; reconciling order by order from "
                         "now on",
                         text);
        b->mass_off = 1;
        fx_mass_done(b);
}

int fx_send_mass(fix_t *b, int64_t now)
{
        te_fix_enc_t e;
        if (!b->mass_pending)
                return 0; /* answered or given up meanwhile */
        if (te_fix_session_app_begin(b->sess, &e, "AF", now) != 0)
                return -2;
        int64_t seq = te_fix_app_enc_mass_status(&e, b->mass_id, b->cfg.account) == 0
                          ? te_fix_session_app_end(b->sess, &e)
                          : -1;
        if (seq < 0) {
                fx_mass_refused(b, "could not be encoded");
                return -1;
        }
        te_fix_reqq_sent(b->reqq, seq, "", 'A');
        b->st.mass_sent++;
        return 0;
}

void fx_recon_start(fix_t *b, int64_t now)
{
        size_t pos = 0, n = 0;
        const char *k;
        void *v;
        b->reconciling = 1;
        b->mass_pending = 0;
        b->recon_deadline = now + b->cfg.reconcile_timeout_ms;
        int mass = b->cfg.mass_status && !b->mass_off;
        if (mass) {
                /* one request for all; its answers settle the orders it lists */
                while (te_map_next(b->orders, &pos, &k, &v)) {
                        forder_t *o = v;
                        o->recon_pending = 0;
                        if (!o->sent || o->terminal)
                                continue;
                        o->cancel_pending = 0; /* as below */
                        o->recon_pending = 1;
                        n++;
                }
                if (n == 0) {
                        fx_recon_done(b, 1);
                        return;
                }
                snprintf(b->mass_id, sizeof b->mass_id, "M%lld-%llu", (long long)now,
                         (unsigned long long)b->st.logons);
                b->mass_pending = 1;
                if (te_fix_reqq_push(b->reqq, TE_FIX_Q_STATUS, "", 'A') != 0)
                        fx_mass_refused(b, "not queued (queue full)");
                return;
        }
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
                fx_recon_done(b, 1);
}

void fx_recon_check(fix_t *b)
{
        if (!b->reconciling)
                return;
        size_t pos = 0;
        const char *k;
        void *v;
        if (b->mass_pending)
                return; /* more answers may come (a status of an order not open) */
        while (te_map_next(b->orders, &pos, &k, &v))
                if (((forder_t *)v)->recon_pending)
                        return;
        fx_recon_done(b, 1);
}

/* An OrderStatus answer (150=I). */
void fx_on_status(fix_t *b, forder_t *o, const te_fix_exec_t *x, te_reports_t *out)
{
        int st = te_fix_app_ord_status(x->ord_status, x->cum_qty);
        o->recon_pending = 0;
        if (x->ord_status == '8') {
                fx_end_order(b, o, TE_EXEC_CANCELED, TE_OS_CANCELED,
                             x->text[0] ? x->text
                                        : "unknown to the counterparty at "
                                          "reconciliation",
                             out);
                fx_alert(
                    b, TE_SEV_WARNING, "order_unknown", o,
                    "order not known to the counterparty at reconciliation: resolved "
                    "as CANCELED");
        } else {
                fx_report_fill_diff(
                    b, o, x->cum_qty, x->avg_px,
                    st == TE_OS_FILLED ? TE_OS_FILLED : TE_OS_PARTIALLY_FILLED, out);
                if (st == TE_OS_CANCELED || st == TE_OS_EXPIRED)
                        fx_end_order(
                            b, o,
                            st == TE_OS_CANCELED ? TE_EXEC_CANCELED : TE_EXEC_EXPIRED,
                            (te_order_status_t)st, "ended while disconnected", out);
        }
        if (o->refused_kind) /* still working: the refused request is settled */
                fx_refused_report(b, o, o->refused_kind == 2,
                                  o->refused_kind == 2 ? o->n_replace : o->n_cancel,
                                  o->refused_why, out);
        fx_recon_check(b);
}
