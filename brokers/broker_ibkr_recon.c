/*
 * broker_ibkr_recon: reconciliation of the ibkr adapter with TWS on every (re)connect
 * and on IB's 1101/1102 (see broker_ibkr_int.h).
 */
#include <stdio.h>
#include <string.h>

#include "broker_ibkr_int.h"
#include "te_log.h"

const char *te_ibkr_recon_start(te_ibkr_t *b)
{
        for (size_t i = 0; i < b->n_orders; i++)
                b->olist[i]->seen = 0;
        b->open_end = b->exec_end = b->pos_end = 0;
        te_ibkr_pos_begin(b->pos);
        b->exec_req_id++;
        if (te_tws_enc_req_open_orders(&b->scratch) != 0 ||
            te_ibkr_util_queue_frame(b, 0) != 0 ||
            te_tws_enc_req_executions(&b->scratch, b->exec_req_id, b->cfg.client_id,
                                      "") != 0 ||
            te_ibkr_util_queue_frame(b, 0) != 0 ||
            te_tws_enc_req_positions(&b->scratch) != 0 ||
            te_ibkr_util_queue_frame(b, 0) != 0) {
                return "cannot queue reconciliation requests";
        }
        b->state = TE_IBKR_RECONCILING;
        b->deadline = te_ibkr_util_now_ms() + b->cfg.connect_timeout_ms;
        b->st.reconciles++;
        TE_LOG(TE_LOG_INFO, NULL, "ibkr.reconcile",
               "requesting open orders, executions "
               "and positions");
        return NULL;
}

const char *te_ibkr_recon_finish(te_ibkr_t *b)
{
        size_t unknown = 0, waiting = 0;
        for (size_t i = 0; i < b->n_orders; i++) {
                te_ibkr_order_t *o = b->olist[i];
                /* a modification IB confirmed came with the open orders */
                if (o->replace_pending)
                        te_ibkr_replace_refused(b, o,
                                                "IB did not confirm it (reconnected)");
                if (o->terminal || o->tws_id == 0 || o->seen)
                        continue;
                if (o->cum + TE_IBKR_EPS >= o->cmd.quantity) {
                        o->terminal = 1; /* its FILL went out with the last execution */
                        continue;
                }
                char why[TE_TEXT_MAX];
                snprintf(why, sizeof why,
                         "ibkr: order %lld unknown to IB at reconciliation (filled %.10g "
                         "of %.10g)",
                         (long long)o->tws_id, o->cum, o->cmd.quantity);
                te_ibkr_events_emit_end(b, o, TE_EXEC_CANCELED, why);
                b->st.resolved_unknown++;
                unknown++;
        }
        b->state = TE_IBKR_READY;
        b->backoff_ms = b->cfg.reconnect_min_ms;
        for (size_t i = 0; i < b->n_orders; i++) {
                te_ibkr_order_t *o = b->olist[i];
                if (!o->terminal && o->tws_id == 0) {
                        if (te_ibkr_orders_release(b, o) != 0) {
                                return "cannot send a waiting order";
                        }
                        waiting++;
                }
        }
        TE_LOG(TE_LOG_INFO, NULL, "ibkr.ready",
               "reconciled: %zu unknown orders resolved, %zu waiting orders sent, next "
               "id %lld",
               unknown, waiting, (long long)b->next_id);
        return NULL;
}
