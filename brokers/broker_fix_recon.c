/*
 * broker_fix_recon: the fix adapter's reconciliation (broker_fix_int.h): after every
 * Logon an OrderStatusRequest for each order sent and not ended; the answers book what
 * we missed and end what ended.
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

void fx_recon_start(fix_t *b, int64_t now)
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
                fx_recon_done(b, 1);
}

void fx_recon_check(fix_t *b)
{
        if (!b->reconciling)
                return;
        size_t pos = 0;
        const char *k;
        void *v;
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
