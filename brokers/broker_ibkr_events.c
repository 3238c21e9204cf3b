/*
 * broker_ibkr_events: what IB says about our orders (orderStatus, openOrder,
 * execDetails, order errors) and the reports that makes: the ACK, fills, the final
 * CANCELED or REJECTED, and their leaving the queue in order (see broker_ibkr_int.h).
 */
#include <stdio.h>
#include <string.h>

#include "broker_ibkr_int.h"
#include "te_ids.h"
#include "te_log.h"

static void kind_id(char *out, size_t outsz, const te_ibkr_order_t *o, const char *kind)
{
        te_id_sim_report(out, outsz, o->cmd.order_id, kind, 0);
}

void te_ibkr_events_emit_ack(te_ibkr_t *b, te_ibkr_order_t *o)
{
        char id[TE_ID_MAX];
        if (o->acked || o->terminal)
                return;
        o->acked = 1;
        kind_id(id, sizeof id, o, "ibkr-ack");
        (void)te_ibkr_orders_push_report(b, o, TE_EXEC_ACK, TE_OS_NEW, id);
}

/* A final CANCELED or REJECTED. */
void te_ibkr_events_emit_end(te_ibkr_t *b, te_ibkr_order_t *o, te_exec_type_t et,
                             const char *reason)
{
        char id[TE_ID_MAX];
        if (o->terminal)
                return;
        o->terminal = 1;
        o->cancel_waiting = 0;
        if (o->replace_pending)
                te_ibkr_replace_refused(b, o, "the order ended");
        kind_id(id, sizeof id, o, et == TE_EXEC_REJECTED ? "ibkr-reject" : "ibkr-cancel");
        te_ibkr_pend_t *p = te_ibkr_orders_push_report(
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

static void commission_missing(void *ctx, const te_ibkr_pend_t *p)
{
        te_ibkr_comm_missing(ctx, p);
}

/* Move the reports that may leave (in order) to `out`. */
te_broker_err_t te_ibkr_events_move_ready(te_ibkr_t *b, te_reports_t *out)
{
        te_broker_err_t e = te_ibkr_reports_move_ready(b->rq, te_ibkr_util_now_ms(), out,
                                                       commission_missing, b);
        if (e != TE_BROKER_OK)
                return e;
        return b->oom ? TE_BROKER_ERR_FATAL : TE_BROKER_OK;
}

void te_ibkr_events_cancel_seen(te_ibkr_t *b, te_ibkr_order_t *o, double hint,
                                const char *reason)
{
        if (o->terminal)
                return;
        if (o->cum + TE_IBKR_EPS >= hint) {
                te_ibkr_events_emit_end(b, o, TE_EXEC_CANCELED, reason);
                return;
        }
        /* TWS counts fills we have not seen as execDetails yet: wait for them */
        o->cancel_waiting = 1;
        o->cancel_hint = hint;
        o->cancel_deadline = te_ibkr_util_now_ms() + b->cfg.commission_wait_ms;
        te_strlcpy(o->cancel_reason, reason, sizeof o->cancel_reason);
}

void te_ibkr_events_on_status(te_ibkr_t *b, const te_tws_order_status_t *s)
{
        te_ibkr_order_t *o = te_ibkr_orders_find_tws(b, s->order_id);
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
                te_ibkr_events_cancel_seen(b, o, s->filled, why);
        } else if (!strcmp(s->status, "PreSubmitted") ||
                   !strcmp(s->status, "Submitted") || !strcmp(s->status, "Filled")) {
                te_ibkr_events_emit_ack(b, o);
        }
}

void te_ibkr_events_on_open(te_ibkr_t *b, const te_tws_open_order_t *oo)
{
        const te_tws_order_t *w = &oo->order;
        te_ibkr_order_t *o = te_ibkr_orders_find_ref(b, w->order_ref);
        if (!o) {
                TE_LOG(TE_LOG_DEBUG, NULL, "ibkr.open_order_foreign",
                       "order %lld ref '%s' is not ours", (long long)w->order_id,
                       w->order_ref);
                return;
        }
        if (o->tws_id != w->order_id && te_ibkr_orders_set_tws(b, o, w->order_id) != 0)
                b->oom = 1;
        o->seen = 1;
        te_ibkr_events_emit_ack(b, o);
        if (o->replace_pending)
                te_ibkr_replace_seen(b, o, w);
}

void te_ibkr_events_on_exec(te_ibkr_t *b, const te_tws_exec_t *x)
{
        if (te_map_get(b->execs, x->exec_id)) {
                b->st.dup_execs++;
                TE_LOG(TE_LOG_DEBUG, NULL, "ibkr.exec_dup", "exec %s already seen",
                       x->exec_id);
                return;
        }
        te_ibkr_order_t *o = te_ibkr_orders_find_ref(b, x->order_ref);
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
        if (!te_ibkr_comm_exec_add(b, x->exec_id, o->cmd.order_id, 0, 0))
                return;
        if (o->tws_id != x->order_id && te_ibkr_orders_set_tws(b, o, x->order_id) != 0)
                b->oom = 1;
        o->seen = 1;
        te_ibkr_events_emit_ack(b, o);
        int was_terminal = o->terminal;
        if (o->replace_pending)
                te_ibkr_replace_on_exec(b, o, x->shares);
        o->cum += x->shares;
        o->value += x->shares * x->price;
        int full = o->cum + TE_IBKR_EPS >= o->cmd.quantity;
        if (full)
                o->terminal = 1;
        char rid[TE_ID_MAX];
        const char *parts[] = {"ibkr", "exec", x->exec_id};
        rid[0] = 'r';
        te_id_digest(rid + 1, sizeof rid - 1, parts, 3);
        te_ibkr_pend_t *p =
            te_ibkr_orders_push_report(b, o, full ? TE_EXEC_FILL : TE_EXEC_PARTIAL_FILL,
                                       full ? TE_OS_FILLED : TE_OS_PARTIALLY_FILLED, rid);
        if (!p)
                return;
        p->r.last_qty = x->shares;
        p->r.last_price = x->price;
        if (x->account[0])
                te_strlcpy(p->r.account, x->account, sizeof p->r.account);
        te_strlcpy(p->wait_exec, x->exec_id, sizeof p->wait_exec);
        p->deadline = te_ibkr_util_now_ms() + b->cfg.commission_wait_ms;
        p->has_exec = 1;
        te_strlcpy(p->x.exec_id, x->exec_id, sizeof p->x.exec_id);
        te_strlcpy(p->x.order_id, o->cmd.order_id, sizeof p->x.order_id);
        p->x.shares = x->shares;
        p->x.price = x->price;
        p->terminal = full && !was_terminal;
        if (x->req_id < 0 && /* live: not yet in the positions IB reported */
            te_ibkr_pos_on_fill(b->pos, o->account, o->cmd.ticker,
                                o->cmd.side == TE_SIDE_BUY ? x->shares : -x->shares) != 0)
                b->oom = 1;
        if (full && o->replace_pending)
                te_ibkr_replace_refused(b, o, "the order filled on its previous terms");
        b->st.fills++;
        if (was_terminal)
                TE_LOG(TE_LOG_WARN, NULL, "ibkr.late_fill",
                       "execution %s arrived after order %s ended; published", x->exec_id,
                       o->cmd.order_id);
        if (!o->terminal && o->cancel_waiting && o->cum + TE_IBKR_EPS >= o->cancel_hint)
                te_ibkr_events_emit_end(b, o, TE_EXEC_CANCELED, o->cancel_reason);
}

int te_ibkr_events_info_code(int64_t code)
{
        return code == 399 || code == 161 || code == 10147 || code == 10148 ||
               code == 10149 || code == 404 || (code >= 2100 && code <= 2199);
}

void te_ibkr_events_on_error(te_ibkr_t *b, te_ibkr_order_t *o, const te_tws_error_t *e)
{
        char why[TE_TEXT_MAX];
        snprintf(why, sizeof why, "IB %lld: %.400s", (long long)e->code, e->text);
        if (o->replace_pending && e->code != 202 && !te_ibkr_events_info_code(e->code)) {
                /* IB refused the modification (104 filled, 103, 105, 201, ...): the
                 * order works on at its previous terms */
                te_ibkr_replace_refused(b, o, why);
                return;
        }
        if (e->code == 202) {
                if (!o->cancel_waiting) /* a Cancelled status may already wait for fills
                                         */
                        te_ibkr_events_cancel_seen(b, o, o->cum, why);
        } else if (te_ibkr_events_info_code(e->code)) {
                TE_LOG(TE_LOG_INFO, NULL, "ibkr.order_message", "order %s: %s",
                       o->cmd.order_id, why);
        } else if (!o->terminal) {
                b->st.rejects++;
                te_ibkr_events_emit_end(
                    b, o, o->cum > 0 ? TE_EXEC_CANCELED : TE_EXEC_REJECTED, why);
        }
}
